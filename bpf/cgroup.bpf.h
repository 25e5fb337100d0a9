/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Cgroup attribution and the --cgroup filter (docs/containers.md).
 *
 * A row's cgroup is the cgroup v2 id (its kernfs node id, the inode number
 * of its directory on the cgroup2 mount) of the SOCKET: sk_cgrp_data, set
 * once when the socket is created, to its creator's cgroup, and inherited
 * by the children a listener makes in softirq. So an event in softirq (a
 * connect's SYN-ACK, a SYN-time overflow, a drop) and one in process
 * context (accept, read) name the same cgroup for one socket, and it is
 * never `current`'s, which in softirq is whatever task was interrupted.
 * Only the uprobe family, which has no socket, takes the current task's.
 * Id 0: the socket has no cgroup data (a kernel without sk_cgrp_data).
 *
 * --cgroup: the wanted ids are the keys of filter_cgroups (user space
 * fills it, and follows a wanted cgroup that is removed and created again),
 * their count is rodata. A cgroup is let through when it or one of its
 * ancestors is wanted: the walk reads cgrp->ancestors[0..level] (6.0+), the
 * real root first, and looks each id up. Nothing here depends on a depth
 * user space computed: in a cgroup namespace, or on a cgroup2 mount of a
 * subtree, user space sees its root at some depth the kernel counts from
 * the real root, so only ids are compared. Ancestors deeper than
 * CGROUP_MAX_DEPTH are not looked at. With a filter set, a socket without
 * cgroup data, and events with no socket, are dropped (they belong to no
 * cgroup asked for); without one, the verifier removes every test.
 */
#ifndef NETTUNE_CGROUP_BPF_H
#define NETTUNE_CGROUP_BPF_H

#include "base.bpf.h"
#include "filter.h"

/* Levels of ancestors the --cgroup test looks at: a wanted cgroup deeper
 * than this below the real root never matches (docs/containers.md). */
#define CGROUP_MAX_DEPTH	32

const volatile __u32 targ_ncgroups = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILTER_MAX_CGROUPS);
	__type(key, __u64);	/* cgroup id (kn->id) */
	__type(value, __u8);
} filter_cgroups SEC(".maps");

/* The cgroup a socket was created in, or NULL; plain loads for a BTF
 * pointer (btf is a constant: the verifier keeps one path). */
static __always_inline struct cgroup *sk_cgroup_ptr(const struct sock *sk, const bool btf)
{
	if (!bpf_core_field_exists(sk->sk_cgrp_data.cgroup))
		return NULL;
	return btf ? sk->sk_cgrp_data.cgroup : BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
}

static __always_inline __u64 cgroup_id_of(const struct cgroup *cg)
{
	return cg ? BPF_CORE_READ(cg, kn, id) : 0;
}

/* Whether cg is one of the --cgroup ones or lies below one. */
static __always_inline bool cgroup_allowed(const struct cgroup *cg)
{
	__u32 off = bpf_core_field_offset(struct cgroup, ancestors);
	int level;

	if (!targ_ncgroups)
		return true;
	if (!cg)
		return false;
	level = BPF_CORE_READ(cg, level);
	for (int i = 0; i <= CGROUP_MAX_DEPTH; i++) {
		const struct cgroup *anc = NULL;
		__u64 id;

		if (i > level)
			break;
		if (bpf_probe_read_kernel(&anc, sizeof(anc), (const char *)cg + off + (__u64)i * 8) ||
		    !anc)
			continue;
		id = BPF_CORE_READ(anc, kn, id);
		if (bpf_map_lookup_elem(&filter_cgroups, &id))
			return true;
	}
	return false;
}

/* A socket's cgroup id in *id; false when --cgroup leaves it out. */
static __always_inline bool sk_cgroup(const struct sock *sk, const bool btf, __u64 *id)
{
	struct cgroup *cg = sk_cgroup_ptr(sk, btf);

	*id = btf ? (cg ? cg->kn->id : 0) : cgroup_id_of(cg);
	return cgroup_allowed(cg);
}

/* The same test alone, for filters that need no id. */
static __always_inline bool sk_cgroup_allowed(const struct sock *sk, const bool btf)
{
	return !targ_ncgroups || cgroup_allowed(sk_cgroup_ptr(sk, btf));
}

/* The current task's cgroup v2 (no socket: uprobes); false when --cgroup
 * leaves it out. */
static __always_inline bool task_cgroup(__u64 *id)
{
	struct task_struct *task;

	*id = bpf_get_current_cgroup_id();
	if (!targ_ncgroups)
		return true;
	task = (struct task_struct *)bpf_get_current_task();
	return cgroup_allowed(BPF_CORE_READ(task, cgroups, dfl_cgrp));
}

#endif /* NETTUNE_CGROUP_BPF_H */
