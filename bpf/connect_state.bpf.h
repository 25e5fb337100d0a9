/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Connect's half of sock:inet_sock_set_state: its maps and its handler,
 * connect_on_state(). Included by bpf/connect.bpf.c (whose skeleton owns
 * the maps: user space reads them there) and by bpf/sock_state.bpf.c, the
 * one program at that hook, which borrows them by name.
 *
 * CLOSE -> SYN_SENT runs in the connect() caller's context, so identity is
 * taken there; SYN_SENT -> ESTABLISHED/CLOSE arrives later, usually in
 * softirq where the current task is unrelated.
 */
#ifndef NETTUNE_CONNECT_STATE_BPF_H
#define NETTUNE_CONNECT_STATE_BPF_H

#include "nettune.bpf.h"
#include "row_table.bpf.h"
#include "sock_record.bpf.h"
#include "connect.h"

#define ECONNRESET	104
#define ETIMEDOUT	110
#define ECONNREFUSED	111

/* What SYN_SENT learns, for the answer: in a lock-free per-socket record
 * table (bpf/sock_record.bpf.h) instead of a hash map. */
struct connect_start {
	__u64 id;	/* the socket's address */
	__u64 ts;
	struct connect_key key;	/* 8-byte aligned: row_find reads it in words */
	char comm[16];
};

SOCK_RECORD_TABLE(connect_inflight, struct connect_start);

ROW_TABLE(connect_stats, struct connect_row, CONNECT_MAX_KEYS);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CONNECT_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} connect_lost SEC(".maps");

static __always_inline void connect_syn_sent(const struct sock *sk)
{
	__u64 skaddr = sk_addr_num(sk, &connect_inflight);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u16 dport = __builtin_bswap16(sk->__sk_common.skc_dport);
	struct connect_start *st;
	struct rec_ref ref;
	__u64 ts, cgroup;
	__u32 netns;
	int way = -1;

	if (sk_protocol_btf(sk) != IPPROTO_TCP)
		return;
	ref = rec_ref(&connect_inflight, &connect_inflight_data, skaddr);
	netns = sk_netns_btf(sk);
	if (!pid_allowed(tgid) || !port_allowed(dport) || !netns_allowed(netns) ||
	    !sk_cgroup(sk, true, &cgroup)) {
		/* Left out; but a record an earlier socket at this address
		 * left behind (its end missed: a BPF recursion miss) would be
		 * taken at this one's answer, with the old start. */
		rec_forget(&ref, skaddr, sizeof(*st));
		return;
	}
	ts = bpf_ktime_get_ns();
	switch (rec_claim(&ref, skaddr, ts, sizeof(*st), &way)) {
	case REC_CLAIMED:
		break;
	case REC_DISPLACED:
		counter_inc(&connect_lost, CONNECT_LOST_INFLIGHT_FULL);
		break;
	default:
		counter_inc(&connect_lost, CONNECT_LOST_INFLIGHT_FULL);
		return;
	}
	st = rec_at(&ref, way, sizeof(*st));
	if (!st)
		return;
	st->id = skaddr;
	st->ts = ts;
	/* The key zeroed whole first: it is hashed and compared as words. */
	__builtin_memset(&st->key, 0, sizeof(st->key));
	st->key.cgroup = cgroup;
	st->key.tgid = tgid;
	st->key.netns = netns;
	st->key.dport = dport;
	bpf_get_current_comm(st->comm, sizeof(st->comm));
}

static __always_inline __u32 connect_fail_kind(const struct sock *sk)
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

static __always_inline void connect_syn_done(const struct sock *sk, int newstate)
{
	__u64 skaddr = sk_addr_num(sk, &connect_inflight), now, lat;
	const struct tcp_sock *tp;
	struct connect_start start;
	const struct connect_start *st = &start;
	struct connect_row *row;
	struct connect_val *val;
	struct rec_ref ref;

	ref = rec_ref(&connect_inflight, &connect_inflight_data, skaddr);
	if (!rec_take(&ref, skaddr, &start, sizeof(start)))
		return;	/* started before attach, filtered out, or lost */
	row = row_find(&connect_stats, &connect_stats_used, (const __u64 *)&st->key,
		       sizeof(st->key) / 8);
	if (!row) {
		counter_inc(&connect_lost, CONNECT_LOST_KEYS_FULL);
		return;
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
		__u32 kind = connect_fail_kind(sk);

		if (kind < CONNECT_FAIL_NR)
			val->failed[kind]++;
	}
}

/* A state change of any socket: the two that bound a connect. */
static __always_inline void connect_on_state(const struct sock *sk, int oldstate, int newstate)
{
	if (newstate == TCP_SYN_SENT)
		connect_syn_sent(sk);
	else if (oldstate == TCP_SYN_SENT)
		connect_syn_done(sk, newstate);	/* only sockets connect_syn_sent kept */
}

#endif /* NETTUNE_CONNECT_STATE_BPF_H */
