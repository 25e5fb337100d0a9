/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Setup shared by every probe skeleton: each BPF object includes
 * bpf/nettune.bpf.h, so each skeleton has the same rodata switches and
 * shared maps (filters, the slow-event log). */
#ifndef NETTUNE_PROBE_UTIL_H
#define NETTUNE_PROBE_UTIL_H

#include <errno.h>
#include <string.h>
#include "probe.h"
#include "log.h"
#include "bpfmap.h"
#include "promtext.h"

/* Ring buffer of the slow-event log: a page when the log is off. */
#define PROBE_EVENTS_BYTES(o)	((o)->min_us ? 256u * 1024 : 4096u)

/* Everything set before load: the rodata switches (filters, --min-us,
 * --empty-programs), the slow-event log's size, and row maps sized to the
 * CPU count (bpfmap__size_percpu_rows). */
#define PROBE_BEFORE_LOAD(skel, o)                                          \
	do {                                                                \
		bpfmap__size_percpu_rows((skel)->obj);                      \
		probe__reclaim_programs((skel)->obj, (o)->reclaim);         \
		(skel)->rodata->targ_filter_pid = (o)->npids > 0;           \
		(skel)->rodata->targ_filter_port = (o)->nports > 0;         \
		(skel)->rodata->targ_netns = (o)->netns;                    \
		(skel)->rodata->targ_ncgroups = (o)->ncgroups;              \
		(skel)->rodata->targ_min_ns = (o)->min_us * 1000;           \
		(skel)->rodata->targ_empty = (o)->empty_programs;           \
		bpf_map__set_max_entries((skel)->maps.events, PROBE_EVENTS_BYTES(o)); \
	} while (0)

/* A row table's descriptors for snapshot__reclaim (bpf/row_table.bpf.h's
 * ROW_TABLE declares them all). */
#define ROW_TABLE_FDS(skel, name)                                          \
	((struct row_table_fds){                                           \
		.rows = bpf_map__fd((skel)->maps.name),                    \
		.used = bpf_map__fd((skel)->maps.name##_used),             \
		.args = bpf_map__fd((skel)->maps.name##_reclaim_args),     \
		.out = bpf_map__fd((skel)->maps.name##_reclaimed),         \
		.prog = bpf_program__fd((skel)->progs.name##_reclaim),     \
	})

/* The slow-event maps of a skeleton, for probe_ops.event_maps. */
#define PROBE_EVENT_MAPS(skel, ring, lost)                            \
	(*(ring) = bpf_map__fd((skel)->maps.events),                  \
	 *(lost) = bpf_map__fd((skel)->maps.events_lost), 0)

/* After load: the pid, port and cgroup sets. */
#define PROBE_FILL_FILTERS(skel, o)                                        \
	probe__fill_filters(bpf_map__fd((skel)->maps.filter_pids),         \
			    bpf_map__fd((skel)->maps.filter_ports),        \
			    bpf_map__fd((skel)->maps.filter_cgroups), (o))

int probe__fill_filters(int pids_fd, int ports_fd, int cgroups_fd, const struct trace_opts *o);
/* --cgroup: every loaded object's set now wants NEW_ID instead of OLD_ID
 * (a wanted cgroup removed and created again). The objects whose set was
 * updated, counted. */
int probe__retarget_cgroup(__u64 old_id, __u64 new_id);

/* Loads the row tables' reclaim programs (ROW_TABLE's name##_reclaim) only
 * for a tracer that reclaims (serve): trace, top and tune never run them. */
void probe__reclaim_programs(struct bpf_object *obj, bool on);

/* nettune_lost_events_total{family, cause} for probe_ops.metrics: one
 * series per cause, and "recursion" for the BPF recursion guard's misses. */
void probe__lost_metrics(struct promtext *w, const char *family, const char *const *causes,
			 const __u64 *lost, int n, __u64 recursion);

/* The BPF recursion guard's misses, lost events: of a family's own
 * programs, and of the shared program at a hook the family counts
 * (probe_ops.count_hook), or NULL. */
static inline __u64 probe__recursion_misses(const struct bpf_object *own,
					    const struct bpf_object *hook)
{
	return bpfmap__recursion_misses(own) + (hook ? bpfmap__recursion_misses(hook) : 0);
}

/* The lifecycle every family's skeleton goes through after open (and after
 * choosing its programs): filters, load, filter sets, attach. Evaluates to
 * 0 or a negative errno. name is the skeleton's prefix (connect for
 * connect_bpf). */
#define PROBE_LOAD_ATTACH(name, skel, o)                                \
	({                                                              \
		int __err;                                              \
		PROBE_BEFORE_LOAD(skel, o);                             \
		__err = name##_bpf__load(skel);                         \
		if (!__err)                                             \
			__err = PROBE_FILL_FILTERS(skel, o);            \
		if (!__err)                                             \
			__err = name##_bpf__attach(skel);               \
		__err;                                                  \
	})

/* Opens a family's skeleton, chooses its programs, loads and attaches it:
 * first with its preferred programs (libbpf quiet, as a kernel may reject
 * them), then with the fallback ones; only those with the hidden
 * --force-fallback. choose(skel, preferred, o) sets the programs' autoload.
 * *skelp is left to the caller to destroy, attached or not. Evaluates to 0
 * or a negative errno; any error other than the kernel's refusal of the
 * preferred programs comes back from the second try as well. */
#define PROBE_OPEN_LOAD_ATTACH(name, skelp, o, choose)                          \
	({                                                                      \
		int __err = 0;                                                  \
		for (int __pref = !(o)->force_fallback; __pref >= 0; __pref--) { \
			name##_bpf__destroy(*(skelp));                          \
			*(skelp) = name##_bpf__open();                          \
			if (!*(skelp)) {                                        \
				__err = -errno;                                 \
				break;                                          \
			}                                                       \
			choose(*(skelp), __pref, o);                            \
			log__quiet_libbpf(__pref);                              \
			__err = PROBE_LOAD_ATTACH(name, *(skelp), o);           \
			log__quiet_libbpf(false);                               \
			if (!__err)                                             \
				break;                                          \
			debug("%s: %s programs: %s", #name,                     \
			      __pref ? "preferred" : "fallback", strerror(-__err)); \
		}                                                               \
		__err;                                                          \
	})

#endif
