// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Connect latency from sock:inet_sock_set_state alone (no kprobes):
 * CLOSE -> SYN_SENT runs in the connect() caller's context, so identity is
 * taken there; SYN_SENT -> ESTABLISHED/CLOSE arrives later, usually in
 * softirq where the current task is unrelated.
 *
 * Attached as tp_btf (a raw tracepoint with BTF arguments): the kernel
 * calls the program with the socket pointer itself, without building the
 * classic tracepoint's record, and the socket's fields are plain loads.
 * About eight of the ten state changes of a connection are none of ours
 * and must cost next to nothing.
 */
#include "nettune.bpf.h"
#include "row_table.bpf.h"
#include "connect.h"

#define ECONNRESET	104
#define ETIMEDOUT	110
#define ECONNREFUSED	111

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct connect_start {
	__u64 ts;
	struct connect_key key;	/* 8-byte aligned: row_find reads it in words */
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONNECT_MAX_INFLIGHT);
	__type(key, __u64);	/* struct sock * */
	__type(value, struct connect_start);
} connect_inflight SEC(".maps");

ROW_TABLE(connect_stats, struct connect_row, CONNECT_MAX_KEYS);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CONNECT_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} connect_lost SEC(".maps");

static __always_inline void on_syn_sent(const struct sock *sk)
{
	__u64 skaddr = (__u64)sk;
	struct connect_start st = {};
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u16 dport = __builtin_bswap16(sk->__sk_common.skc_dport);

	if (sk_protocol_btf(sk) != IPPROTO_TCP || !pid_allowed(tgid) || !port_allowed(dport))
		return;
	st.key.netns = sk_netns_btf(sk);
	if (!netns_allowed(st.key.netns) || !sk_cgroup(sk, true, &st.key.cgroup))
		return;
	st.ts = bpf_ktime_get_ns();
	st.key.tgid = tgid;
	st.key.dport = dport;
	bpf_get_current_comm(st.comm, sizeof(st.comm));
	if (bpf_map_update_elem(&connect_inflight, &skaddr, &st, BPF_ANY))
		counter_inc(&connect_lost, CONNECT_LOST_INFLIGHT_FULL);
}

static __always_inline __u32 fail_kind(const struct sock *sk)
{
	const struct tcp_sock *tp;
	int err = sk->sk_err;

	if (err == ECONNREFUSED || err == ECONNRESET)
		return CONNECT_FAIL_REFUSED;
	if (err == ETIMEDOUT)
		return CONNECT_FAIL_TIMEOUT;
	/* connect() enters SYN_SENT before it picks a local port; when none
	 * is free it returns EADDRNOTAVAIL and goes back to CLOSE before any
	 * SYN leaves, with no error on the socket. (The port cannot tell:
	 * every socket leaving SYN_SENT has given it back by the time the
	 * tracepoint fires.) */
	tp = bpf_skc_to_tcp_sock((void *)sk);
	if (tp && !tp->segs_out)
		return CONNECT_FAIL_NO_PORT;
	return CONNECT_FAIL_OTHER;
}

static __always_inline void on_syn_done(const struct sock *sk, int newstate)
{
	__u64 skaddr = (__u64)sk, now, lat;
	const struct tcp_sock *tp;
	struct connect_start *st;
	struct connect_row *row;
	struct connect_val *val;

	st = bpf_map_lookup_elem(&connect_inflight, &skaddr);
	if (!st)
		return;	/* started before attach, or filtered out */
	row = row_find(&connect_stats, &connect_stats_used, (const __u64 *)&st->key,
		       sizeof(st->key) / 8);
	if (!row) {
		counter_inc(&connect_lost, CONNECT_LOST_KEYS_FULL);
		goto out;
	}
	val = &row->val;
	if (!val->comm[0])
		__builtin_memcpy(val->comm, st->comm, sizeof(val->comm));
	if (newstate == TCP_ESTABLISHED) {
		/* TCP is processing the SYN-ACK: tcp_mstamp is its arrival, a
		 * load instead of a clock read (its microsecond's middle can
		 * lie a little after a very fast answer's true time). */
		tp = bpf_skc_to_tcp_sock((void *)sk);
		now = tp ? tcp_rx_time_ns(tp) : bpf_ktime_get_ns();
		lat = now > st->ts ? now - st->ts : 0;
		hist_record(&val->lat, lat);
		emit_slow(sk, EVENT_CONNECT, lat, st->key.tgid, st->comm);
	} else if (newstate == TCP_CLOSE) {
		__u32 kind = fail_kind(sk);

		if (kind < CONNECT_FAIL_NR)
			val->failed[kind]++;
	}
out:
	bpf_map_delete_elem(&connect_inflight, &skaddr);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connect_state, const struct sock *sk, int oldstate, int newstate)
{
	RETURN_IF_EMPTY();
	if (newstate == TCP_SYN_SENT)
		on_syn_sent(sk);
	else if (oldstate == TCP_SYN_SENT)
		on_syn_done(sk, newstate);	/* only sockets on_syn_sent kept */
	return 0;
}
