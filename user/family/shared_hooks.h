/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One BPF program per hook point. Where several families need the same
 * hook (connect and accept at sock:inet_sock_set_state), one program serves
 * all of them, switched by read-only data, instead of one program each:
 * every program attached to a hook runs at every firing of it, so two cost
 * twice the runs (docs/probes.md, "One program per hook").
 *
 * The shared program lives in its own BPF object (bpf/sock_state.bpf.c),
 * which declares the served families' maps by the same names; before it
 * loads, each of those maps is replaced by the family's own (libbpf's
 * bpf_map__reuse_fd), so the families read what it wrote through their own
 * skeletons, as if the program were theirs.
 */
#ifndef NETTUNE_SHARED_HOOKS_H
#define NETTUNE_SHARED_HOOKS_H

#include "probe.h"
#include "trace_opts.h"

struct shared_hooks;

/* After the families attached (n of them: ops[i] attached as probes[i]):
 * loads and attaches the shared program of every hook that one of them
 * uses. 0, or -errno after one line saying why; nothing is left attached
 * then. *out is NULL when no attached family uses a shared hook. */
int shared_hooks__attach(struct shared_hooks **out, const struct probe_ops *const *ops,
			 struct probe *const *probes, int n, const struct trace_opts *o);
/* Detaches and frees; accepts NULL. */
void shared_hooks__detach(struct shared_hooks *h);

/* The shared hooks and the families each serves, for doctor: the hook's
 * tracepoint ("category/name") and its families (NULL-terminated). */
struct shared_hook_info {
	const char *tracepoint;
	const char *program;
	const char *const *families;
};
extern const struct shared_hook_info shared_hook_table[];
extern const int shared_hook_table_len;

#endif
