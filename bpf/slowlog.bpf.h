/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The slow-event log (--min-us): one record per connection slower than
 * the threshold, through a ring buffer; what it had no room for is
 * counted per CPU and always reported. */
#ifndef NETTUNE_SLOWLOG_BPF_H
#define NETTUNE_SLOWLOG_BPF_H

#include "base.bpf.h"
#include "events.h"
#include "sock.bpf.h"

const volatile __u64 targ_min_ns = 0;	/* slow-event log threshold; 0 = off */

/* The slow-event log. User space sizes it (a page when the log is off). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

/* Events the ring buffer had no room for, per CPU: always reported. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} events_lost SEC(".maps");

/* Logs one slow connection (--min-us); comm may be NULL for the current. */
static __always_inline void emit_slow(const struct sock *sk, __u8 kind, __u64 latency_ns,
				      __u32 tgid, const char *comm)
{
	struct slow_event *e;
	__u32 zero = 0;

	if (!targ_min_ns || latency_ns < targ_min_ns)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u64 *lost = bpf_map_lookup_elem(&events_lost, &zero);

		if (lost)
			(*lost)++;
		return;
	}
	e->latency_ns = latency_ns;
	e->pid = tgid;
	e->kind = kind;
	e->pad = 0;
	e->netns = sk_netns(sk);
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__builtin_memset(e->saddr, 0, sizeof(e->saddr) * 2);
	if (e->family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->daddr, sk, __sk_common.skc_daddr);
	}
	if (comm)
		__builtin_memcpy(e->comm, comm, sizeof(e->comm));
	else
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

#endif /* NETTUNE_SLOWLOG_BPF_H */
