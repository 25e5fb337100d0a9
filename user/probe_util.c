// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <bpf/bpf.h>
#include "probe_util.h"

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
