// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "probe_util.h"
#include "promtext.h"

/*
 * The --cgroup sets of every loaded object, by map id: a retarget opens
 * each by id, so a map whose skeleton was destroyed since (a failed
 * attach, a preferred load given up, the end of a run) is simply gone and
 * dropped, never a stale descriptor. Objects load in parallel: a lock.
 */
#define CGROUP_MAPS_MAX	64
static struct {
	pthread_mutex_t lock;
	__u32 ids[CGROUP_MAPS_MAX];
	int n;
} cgroup_maps = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void remember_cgroup_map(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	pthread_mutex_lock(&cgroup_maps.lock);
	if (cgroup_maps.n < CGROUP_MAPS_MAX)
		cgroup_maps.ids[cgroup_maps.n++] = info.id;
	pthread_mutex_unlock(&cgroup_maps.lock);
}

int probe__retarget_cgroup(__u64 old_id, __u64 new_id)
{
	__u8 one = 1;
	int done = 0;

	pthread_mutex_lock(&cgroup_maps.lock);
	for (int i = 0; i < cgroup_maps.n;) {
		int fd = bpf_map_get_fd_by_id(cgroup_maps.ids[i]);

		if (fd < 0) {	/* its object is gone */
			cgroup_maps.ids[i] = cgroup_maps.ids[--cgroup_maps.n];
			continue;
		}
		/* The old one first: the set has room for FILTER_MAX_CGROUPS. */
		bpf_map_delete_elem(fd, &old_id);
		if (!bpf_map_update_elem(fd, &new_id, &one, BPF_ANY))
			done++;
		close(fd);
		i++;
	}
	pthread_mutex_unlock(&cgroup_maps.lock);
	return done;
}

int probe__fill_filters(int pids_fd, int ports_fd, int cgroups_fd, const struct trace_opts *o)
{
	__u8 one = 1;

	for (int i = 0; i < o->npids; i++)
		if (bpf_map_update_elem(pids_fd, &o->pids[i], &one, BPF_ANY))
			return -errno;
	for (int i = 0; i < o->nports; i++)
		if (bpf_map_update_elem(ports_fd, &o->ports[i], &one, BPF_ANY))
			return -errno;
	for (int i = 0; i < o->ncgroups; i++)
		if (bpf_map_update_elem(cgroups_fd, &o->cgroups[i], &one, BPF_ANY))
			return -errno;
	if (o->ncgroups)
		remember_cgroup_map(cgroups_fd);
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
	struct bpf_map *map;

	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		size_t n = strlen(name);

		if (n > 8 && !strcmp(name + n - 8, "_reclaim") &&
		    !strcmp(bpf_program__section_name(prog), "raw_tp"))
			bpf_program__set_autoload(prog, on);
	}
	if (on)
		return;
	/* Without them, the rows they would hand back need no room (most of
	 * the reclaim maps' kernel memory). */
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t n = strlen(name);

		if (n > 10 && !strcmp(name + n - 10, "_reclaimed"))
			bpf_map__set_max_entries(map, 1);
	}
}
