/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Keys built whole: every byte of a key is set by the helper that builds
 * it (padding and unused address bytes zeroed), because keys are hashed
 * and compared as bytes. */
#ifndef NETTUNE_KEYS_BPF_H
#define NETTUNE_KEYS_BPF_H

#include "base.bpf.h"
#include "listener.h"
#include "sock.bpf.h"
#include "cgroup.bpf.h"
#include "accept.h"

/* The head of struct sock_common, where a socket's addresses, port, family
 * and namespace live, fits in this many bytes in every kernel so far. */
#define SK_HEAD_SIZE	96

/* The listener identity of a socket (for a child: its listener's port and
 * its own local address), the whole key written. One probe read of the sock_common head instead of
 * one per field: the field offsets are CO-RE relocated constants, so the
 * verifier keeps only the path this kernel's layout takes; the per-field
 * reads remain for a layout where a field lies further out. */
static __always_inline void listener_key_of(const struct sock *sk, struct listener_key *k)
{
	__u32 o_net = bpf_core_field_offset(sk->__sk_common.skc_net.net);
	__u32 o_num = bpf_core_field_offset(sk->__sk_common.skc_num);
	__u32 o_family = bpf_core_field_offset(sk->__sk_common.skc_family);
	__u32 o_saddr = bpf_core_field_offset(sk->__sk_common.skc_rcv_saddr);
	__u32 o_saddr6 = bpf_core_field_offset(sk->__sk_common.skc_v6_rcv_saddr);
	__u8 head[SK_HEAD_SIZE];
	struct net *net;

	/* An IPv4 key fills 4 of addr's 16 bytes: the rest would be stack. */
	__builtin_memset(k, 0, sizeof(*k));
	if (o_net + 8 > SK_HEAD_SIZE || o_num + 2 > SK_HEAD_SIZE || o_family + 2 > SK_HEAD_SIZE ||
	    o_saddr + 4 > SK_HEAD_SIZE || o_saddr6 + 16 > SK_HEAD_SIZE) {
		k->netns = sk_netns(sk);
		k->port = BPF_CORE_READ(sk, __sk_common.skc_num);
		k->family = BPF_CORE_READ(sk, __sk_common.skc_family);
		if (k->family == AF_INET6)
			BPF_CORE_READ_INTO(&k->addr, sk,
					   __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		else
			BPF_CORE_READ_INTO((__u32 *)k->addr, sk, __sk_common.skc_rcv_saddr);
		return;
	}
	if (bpf_probe_read_kernel(head, sizeof(head), sk))
		__builtin_memset(head, 0, sizeof(head));	/* as failed field reads give */
	__builtin_memcpy(&net, head + o_net, sizeof(net));
	__builtin_memcpy(&k->port, head + o_num, sizeof(k->port));
	__builtin_memcpy(&k->family, head + o_family, sizeof(k->family));
	k->netns = net ? BPF_CORE_READ(net, ns.inum) : 0;
	if (k->family == AF_INET6)
		__builtin_memcpy(k->addr, head + o_saddr6, 16);
	else
		__builtin_memcpy(k->addr, head + o_saddr, 4);
}

/* listener_key_of() for a BTF socket pointer: plain loads. */
static __always_inline void listener_key_of_btf(const struct sock *sk, struct listener_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->netns = sk_netns_btf(sk);
	k->port = sk->__sk_common.skc_num;
	k->family = sk->__sk_common.skc_family;
	if (k->family == AF_INET6)
		__builtin_memcpy(k->addr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
	else
		__builtin_memcpy(k->addr, &sk->__sk_common.skc_rcv_saddr, 4);
}

/* An accept row's key: the listener, its socket's cgroup, the accepting
 * process; false when --cgroup leaves the listener out. */
static __always_inline bool accept_key_of(const struct sock *listener, __u32 tgid,
					  const bool btf, struct accept_key *k)
{
	__u64 cg;

	__builtin_memset(k, 0, sizeof(*k));
	if (!sk_cgroup(listener, btf, &cg))
		return false;
	if (btf)
		listener_key_of_btf(listener, &k->listener);
	else
		listener_key_of(listener, &k->listener);
	k->cgroup = cg;
	k->tgid = tgid;
	return true;
}

#endif /* NETTUNE_KEYS_BPF_H */
