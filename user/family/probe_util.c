// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "probe_util.h"
#include "promtext.h"

int probe__fill_filters(int pids_fd, int ports_fd, const struct trace_opts *o)
{
	__u8 one = 1;

	for (int i = 0; i < o->npids; i++)
		if (bpf_map_update_elem(pids_fd, &o->pids[i], &one, BPF_ANY))
			return -errno;
	for (int i = 0; i < o->nports; i++)
		if (bpf_map_update_elem(ports_fd, &o->ports[i], &one, BPF_ANY))
			return -errno;
	return 0;
}

void probe__lost_metrics(struct promtext *w, const char *family, const char *const *causes,
			 const __u64 *lost, int n, __u64 recursion)
{
	struct prom_label l[] = { { "family", family }, { "cause", NULL } };

	promtext__family(w, "nettune_lost_events_total", PROM_COUNTER, 0,
			 "Events a probe family could not record, by cause");
	for (int i = 0; i < n; i++) {
		l[1].value = causes[i];
		promtext__counter(w, l, 2, lost[i]);
	}
	l[1].value = "recursion";
	promtext__counter(w, l, 2, recursion);
}

void probe__reclaim_programs(struct bpf_object *obj, bool on)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		size_t n = strlen(name);

		if (n > 8 && !strcmp(name + n - 8, "_reclaim") &&
		    !strcmp(bpf_program__section_name(prog), "raw_tp"))
			bpf_program__set_autoload(prog, on);
	}
}
