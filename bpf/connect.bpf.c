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
#include "sock_stamp.bpf.h"
#include "connect.h"

#define ECONNRESET	104
#define ETIMEDOUT	110
#define ECONNREFUSED	111

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * When each connect's SYN went out, and who sent it, by socket cookie: a
 * stamp table (bpf/sock_stamp.bpf.h) whose ways also hold the connecting
 * process, because the answer arrives in softirq, where it is not the
 * current one. No locks (a hash map would take a bucket lock, with IRQs
 * off, at the SYN and again at the answer).
 *
 * The process is written after the word is published: the answer to this
 * SYN cannot come before the SYN is sent, which is after this state change.
 * The answer reads the process between loading the word and clearing it
 * with compare-and-swap, so a way taken meanwhile by another connect fails
 * the swap and is not used.
 */
struct connect_way {
	__u64 word;	/* sock_stamp's tag and start time: first, as the table wants */
	__u32 tgid;
	__u32 pad;
	char comm[16];
};

#define CONNECT_WAY_WORDS	(sizeof(struct connect_way) / sizeof(__u64))

struct connect_set {
	struct connect_way way[STAMP_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAMP_SETS);
	__type(key, __u32);
	__type(value, struct connect_set);
} connect_since SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, CONNECT_MAX_KEYS);
	__type(key, struct connect_key);
	__type(value, struct connect_val);
} connect_stats SEC(".maps");

/* Never written: the zeroed template for new connect_stats rows. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct connect_val);
} connect_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CONNECT_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} connect_lost SEC(".maps");

static __always_inline void on_syn_sent(const struct sock *sk)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u16 dport = __builtin_bswap16(sk->__sk_common.skc_dport);
	struct connect_way *way;
	struct stamp_ref r;
	__u64 *word;

	if (sk_protocol_btf(sk) != IPPROTO_TCP || !pid_allowed(tgid) || !port_allowed(dport) ||
	    !netns_allowed(sk_netns_btf(sk)))
		return;
	r = stamp_ref(&connect_since, bpf_get_socket_cookie((void *)sk));
	switch (stamp_start_way(&r, CONNECT_WAY_WORDS, bpf_ktime_get_ns(), &word)) {
	case STAMP_DISPLACED:
		counter_inc(&connect_lost, CONNECT_LOST_DISPLACED);
		break;
	case STAMP_NO_SLOT:
		return;
	default:
		break;
	}
	way = (struct connect_way *)word;
	way->tgid = tgid;
	bpf_get_current_comm(way->comm, sizeof(way->comm));
}

static __always_inline __u32 fail_kind(const struct sock *sk)
{
	int err = sk->sk_err;

	if (err == ECONNREFUSED || err == ECONNRESET)
		return CONNECT_FAIL_REFUSED;
	if (err == ETIMEDOUT)
		return CONNECT_FAIL_TIMEOUT;
	return CONNECT_FAIL_OTHER;
}

static __always_inline void on_syn_done(const struct sock *sk, int newstate)
{
	/* A socket nobody asked the cookie of has none, and no clock. */
	__u64 cookie = sk->__sk_common.skc_cookie.counter;
	struct stamp_ref r = stamp_ref(&connect_since, cookie);
	struct connect_key key = {};
	struct connect_way *way;
	struct connect_val *val;
	char comm[16];
	__u64 word, now;
	__u32 zero = 0;
	void *tmpl;

	way = cookie ? (struct connect_way *)stamp_find(&r, CONNECT_WAY_WORDS) : NULL;
	if (!way)
		return;	/* started before attach, filtered out, or displaced */
	word = *(volatile __u64 *)&way->word;
	key.tgid = way->tgid;
	__builtin_memcpy(comm, way->comm, sizeof(comm));
	/* Stopped, and the process read above was this clock's. */
	if (!stamp_mine(&r, word) || __sync_val_compare_and_swap(&way->word, word, 0) != word)
		return;
	now = bpf_ktime_get_ns();
	key.netns = sk_netns_btf(sk);
	key.dport = __builtin_bswap16(sk->__sk_common.skc_dport);
	tmpl = bpf_map_lookup_elem(&connect_zero, &zero);
	val = tmpl ? lookup_or_init(&connect_stats, &key, tmpl) : NULL;
	if (!val) {
		counter_inc(&connect_lost, CONNECT_LOST_KEYS_FULL);
		return;
	}
	if (!val->comm[0])
		__builtin_memcpy(val->comm, comm, sizeof(val->comm));
	if (newstate == TCP_ESTABLISHED) {
		hist_record(&val->lat, stamp_elapsed(word, now));
		emit_slow(sk, EVENT_CONNECT, stamp_elapsed(word, now), key.tgid, comm);
	} else if (newstate == TCP_CLOSE) {
		__u32 kind = fail_kind(sk);

		if (kind < CONNECT_FAIL_NR)
			val->failed[kind]++;
	}
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(connect_state, const struct sock *sk, int oldstate, int newstate)
{
	if (newstate == TCP_SYN_SENT)
		on_syn_sent(sk);
	else if (oldstate == TCP_SYN_SENT)
		on_syn_done(sk, newstate);	/* only sockets on_syn_sent kept */
	return 0;
}
