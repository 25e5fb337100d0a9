/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The -p, --port, --netns and --cgroup filters, set from user space: rodata switches
 * and the maps of wanted pids and ports. Per object: each family's
 * skeleton gets its own copy, filled by user space. */
#ifndef NETTUNE_FILTERS_BPF_H
#define NETTUNE_FILTERS_BPF_H

#include "base.bpf.h"
#include "filter.h"
#include "sock.bpf.h"
#include "cgroup.bpf.h"

/* Filters, fixed at load time (rodata) so the verifier prunes what is off. */
const volatile bool targ_filter_pid = false;
const volatile bool targ_filter_port = false;
const volatile __u32 targ_netns = 0;	/* netns inode; 0 = every namespace */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILTER_MAX_PIDS);
	__type(key, __u32);	/* tgid */
	__type(value, __u8);
} filter_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILTER_MAX_PORTS);
	__type(key, __u16);	/* port, host byte order */
	__type(value, __u8);
} filter_ports SEC(".maps");

static __always_inline bool pid_allowed(__u32 tgid)
{
	return !targ_filter_pid || bpf_map_lookup_elem(&filter_pids, &tgid);
}

static __always_inline bool port_allowed(__u16 port)
{
	return !targ_filter_port || bpf_map_lookup_elem(&filter_ports, &port);
}

static __always_inline bool netns_allowed(__u32 netns)
{
	return !targ_netns || netns == targ_netns;
}

/* The same test for a socket, reading its namespace only when a --netns
 * filter is set: with none, the verifier drops the reads. */
static __always_inline bool sk_netns_allowed(const struct sock *sk)
{
	return !targ_netns || sk_netns(sk) == targ_netns;
}

/* A socket the namespace, (local) port and cgroup filters let through. */
static __always_inline bool sk_allowed_local(const struct sock *sk)
{
	/* Each field is read only when its filter is set: without filters the
	 * verifier drops the reads, which are most of a drop event's cost. */
	return sk_netns_allowed(sk) &&
	       (!targ_filter_port || port_allowed(BPF_CORE_READ(sk, __sk_common.skc_num))) &&
	       sk_cgroup_allowed(sk, false);
}

static __always_inline bool sk_allowed_local_btf(const struct sock *sk)
{
	return (!targ_netns || sk_netns_btf(sk) == targ_netns) &&
	       (!targ_filter_port || port_allowed(sk->__sk_common.skc_num)) &&
	       sk_cgroup_allowed(sk, true);
}

#endif /* NETTUNE_FILTERS_BPF_H */
