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
 * --cgroup is rodata: the wanted ids with their depth below the root. A
 * cgroup is let through when it or one of its ancestors is wanted: the
 * ancestor at depth L is cgrp->ancestors[L] (6.0+), read once per wanted
 * cgroup, no walk up the tree. With a filter set, a socket without cgroup
 * data, and events with no socket, are dropped (they belong to no cgroup
 * asked for); without one, the verifier removes every test.
 */
#ifndef NETTUNE_CGROUP_BPF_H
#define NETTUNE_CGROUP_BPF_H

#include "base.bpf.h"
#include "filter.h"

const volatile __u32 targ_ncgroups = 0;
const volatile __u64 targ_cgroup_ids[FILTER_MAX_CGROUPS] = {};
const volatile __u32 targ_cgroup_levels[FILTER_MAX_CGROUPS] = {};

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
	const struct cgroup *anc;
	int level;

	if (!targ_ncgroups)
		return true;
	if (!cg)
		return false;
	level = BPF_CORE_READ(cg, level);
	for (int i = 0; i < FILTER_MAX_CGROUPS; i++) {
		__u32 l = targ_cgroup_levels[i];

		if ((__u32)i >= targ_ncgroups)
			break;
		if (l > (__u32)level)
			continue;	/* shallower than the wanted one */
		anc = NULL;
		if (bpf_probe_read_kernel(&anc, sizeof(anc), (const char *)cg + off + (__u64)l * 8))
			continue;
		if (anc && BPF_CORE_READ(anc, kn, id) == targ_cgroup_ids[i])
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
