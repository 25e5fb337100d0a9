// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Drops from tracepoints alone. skb:kfree_skb gives every drop with its
 * reason; for a final ACK that finds the accept queue full the reason is
 * TCP_LISTEN_OVERFLOW and skb->sk is NULL, so the listener comes from the
 * tracepoint's rx_sk (6.12+; older kernels fall back to skb->sk). A SYN that
 * finds the accept queue full is consumed, not dropped: user space sees it
 * through the listener's sk_drops (sock_diag) and the namespace counters.
 * Reason values are relocated against the running kernel's BTF (CO-RE).
 */
#include "nettune.bpf.h"
#include "row_table.bpf.h"
#include "drops.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROPS_KIND_NR * DROPS_MAX_REASONS);
	__type(key, __u32);	/* kind * DROPS_MAX_REASONS + reason */
	__type(value, __u64);
} drops_by_reason SEC(".maps");

ROW_TABLE(drops_listeners, struct drops_listener_row, DROPS_MAX_LISTENERS);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROPS_COUNTER_NR);
	__type(key, __u32);
	__type(value, __u64);
} drops_counters SEC(".maps");

/* The listener's row; btf: sk is a BTF pointer (plain loads). */
static __always_inline struct drops_listener_val *listener_row(const struct sock *sk,
							       const bool btf)
{
	struct listener_key k __attribute__((aligned(8))) = {};
	struct drops_listener_row *row;

	if (btf)
		listener_key_of_btf(sk, &k);
	else
		listener_key_of(sk, &k);
	row = row_find(&drops_listeners, &drops_listeners_used, (const __u64 *)&k, sizeof(k) / 8);
	if (!row) {
		counter_inc(&drops_counters, DROPS_LOST_LISTENERS_FULL);
		return NULL;
	}
	if (!row->val.cgroup)	/* a listener's socket never changes cgroup */
		row->val.cgroup = cgroup_id_of(sk_cgroup_ptr(sk, btf));
	return &row->val;
}

static __always_inline __u32 listen_overflow_reason(void)
{
	if (!bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW))
		return ~0u;
	return bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW);
}

/* A listener drops a packet as NO_SOCKET when a valid SYN-cookie ACK could
 * not become a socket: the accept queue was full (tcp_v4_do_rcv, after
 * cookie_v4_check failed). Measured on 6.18: these equal the cookie-path
 * share of TcpExtListenOverflows. */
static __always_inline __u32 cookie_overflow_reason(void)
{
	if (!bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NO_SOCKET))
		return ~0u;
	return bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NO_SOCKET);
}

/* Queues purged when a socket is closed or destroyed: a free, not a drop. */
static __always_inline __u32 queue_purge_reason(void)
{
	if (!bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE))
		return ~0u;
	return bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE);
}

/* Whether the skb's device is in sk's namespace; btf: plain loads (every
 * drop of a closing socket's queue comes this way: five probe reads were
 * most of the program's time then). */
static __always_inline bool same_netns(const struct sk_buff *skb, const struct sock *sk,
				       const bool btf)
{
	const struct net_device *dev = btf ? skb->dev : BPF_CORE_READ(skb, dev);

	if (!dev)
		return true;
	if (btf)
		return dev->nd_net.net->ns.inum == sk_netns_btf(sk);
	return BPF_CORE_READ(dev, nd_net.net, ns.inum) == sk_netns(sk);
}

static __always_inline void socketless_drop(const struct sk_buff *skb, __u16 proto, __u32 reason)
{
	/* No socket, so no port: with --port these cannot be attributed. */
	if (targ_filter_port || (proto != ETH_P_IP && proto != ETH_P_IPV6))
		return;
	if (targ_netns && BPF_CORE_READ(skb, dev, nd_net.net, ns.inum) != targ_netns)
		return;
	counter_inc(&drops_by_reason, DROPS_NO_SOCKET * DROPS_MAX_REASONS + reason);
}

/*
 * One drop: skb with reason, rx_sk the receiving socket (NULL if none, or
 * before 6.12). Two builds: btf, for the tp_btf program, whose skb and
 * sockets are BTF pointers read with plain loads; and the classic
 * tracepoint's, with probe reads. btf is a constant: each program keeps
 * one path.
 */
static __always_inline int on_drop(const struct sk_buff *skb, __u32 reason,
				   const struct sock *sk, __u16 proto, const bool btf)
{
	struct drops_listener_val *row;
	int state, family;

	if (reason >= DROPS_MAX_REASONS)
		return 0;
	if (!sk) {
		sk = btf ? skb->sk : BPF_CORE_READ(skb, sk);
		/* An skb keeps its sender's socket across a veth into another
		 * namespace (a bridge, a relay): a drop over there is not this
		 * socket's drop. rx_sk is always the receiving socket. */
		if (sk && !same_netns(skb, sk, btf))
			return 0;
	}
	if (!sk) {
		socketless_drop(skb, proto, reason);
		return 0;
	}
	/* The state first: it lies in sock_common, which every kind of
	 * socket starts with. A TIME_WAIT or request socket is a small
	 * object that ends about there, and only TCP makes them; any other
	 * state is a full socket, whose protocol can then be read. */
	state = btf ? sk->__sk_common.skc_state : BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_TIME_WAIT || state == TCP_NEW_SYN_RECV) {
		/* Other families reuse these numbers for states of their own. */
		family = btf ? sk->__sk_common.skc_family :
			       BPF_CORE_READ(sk, __sk_common.skc_family);
		if (family != AF_INET && family != AF_INET6)
			return 0;
	} else if ((btf ? sk_protocol_btf(sk) : BPF_CORE_READ(sk, sk_protocol)) != IPPROTO_TCP) {
		return 0;
	}
	if (!(btf ? sk_allowed_local_btf(sk) : sk_allowed_local(sk)))
		return 0;
	counter_inc(&drops_by_reason, DROPS_TCP_SOCKET * DROPS_MAX_REASONS + reason);
	/* A listener's queues purged as it closes are no network drop. */
	if (state != TCP_LISTEN || reason == queue_purge_reason())
		return 0;
	row = listener_row(sk, btf);
	if (!row)
		return 0;
	if (reason == listen_overflow_reason())
		row->overflow_ack++;
	else if (reason == cookie_overflow_reason())
		row->overflow_cookie++;
	else
		row->other_drops++;
	return 0;
}

/* Linux 6.12+ (the tracepoint has rx_sk): the skb and sockets are BTF
 * pointers and no trace record is built. Elsewhere the verifier rejects
 * the fourth argument and user space loads drops_kfree_skb instead. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(drops_kfree_skb_btf, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason, struct sock *rx_sk)
{
	RETURN_IF_EMPTY();
	return on_drop(skb, (__u32)reason, rx_sk, __builtin_bswap16(skb->protocol), true);
}

SEC("tracepoint/skb/kfree_skb")
int drops_kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	const struct sock *rx_sk = NULL;

	RETURN_IF_EMPTY();
	if (bpf_core_field_exists(ctx->rx_sk))
		rx_sk = ctx->rx_sk;
	return on_drop(ctx->skbaddr, (__u32)ctx->reason, rx_sk, __builtin_bswap16(ctx->protocol),
		       false);
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int drops_synack(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	const struct sock *listener = ctx->skaddr;
	struct drops_listener_val *row;

	RETURN_IF_EMPTY();
	/* A listener's request socket times out its SYN-ACK; with TCP Fast
	 * Open the child itself retransmits it, and is no listener. */
	if (!listener || BPF_CORE_READ(listener, __sk_common.skc_state) != TCP_LISTEN ||
	    !sk_allowed_local(listener))
		return 0;
	row = listener_row(listener, false);
	if (row)
		row->synack_retrans++;
	return 0;
}

/* Resets sent for no socket (a closed port) count only when no filter
 * asks for a namespace or port: they cannot be attributed to either. */
static __always_inline void count_reset(const struct sock *sk, __u32 which)
{
	if (sk ? !sk_allowed_local(sk) : (targ_netns || targ_filter_port))
		return;
	counter_inc(&drops_counters, which);
}

/* tcp_send_reset has a record of its own on 6.12 and 6.18; on 6.1 it is an
 * event of the tcp_event_sk_skb class (as tcp_retransmit_skb was), a type
 * that the kernel this vmlinux.h comes from no longer has. */
struct trace_event_raw_tcp_event_sk_skb {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
} __attribute__((preserve_access_index));

SEC("tracepoint/tcp/tcp_send_reset")
int drops_send_reset(void *ctx)
{
	const void *sk;

	RETURN_IF_EMPTY();
	/* Read, not dereferenced: clang merges the two branches into one load
	 * at a computed offset, which the verifier refuses on a context. */
	if (bpf_core_type_exists(struct trace_event_raw_tcp_send_reset))
		sk = BPF_CORE_READ((struct trace_event_raw_tcp_send_reset *)ctx, skaddr);
	else
		sk = BPF_CORE_READ((struct trace_event_raw_tcp_event_sk_skb *)ctx, skaddr);
	count_reset(sk, DROPS_RESETS_SENT);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int drops_receive_reset(struct trace_event_raw_tcp_event_sk *ctx)
{
	RETURN_IF_EMPTY();
	count_reset(ctx->skaddr, DROPS_RESETS_RECEIVED);
	return 0;
}
