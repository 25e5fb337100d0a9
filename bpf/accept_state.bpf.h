/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Accept's half of sock:inet_sock_set_state: the queue clocks, and the
 * handler that starts and stops them, accept_on_state(). Included by
 * bpf/accept.bpf.c (whose skeleton owns the maps, and whose accept() exit
 * programs stop the clocks) and by bpf/sock_state.bpf.c, the one program at
 * that hook, which borrows them by name.
 */
#ifndef NETTUNE_ACCEPT_STATE_BPF_H
#define NETTUNE_ACCEPT_STATE_BPF_H

#include "nettune.bpf.h"
#include "sock_stamp.bpf.h"
#include "accept.h"

/* When each child entered its listener's accept queue, by socket cookie:
 * a lock-free table (bpf/sock_stamp.bpf.h) instead of a hash map. */
SOCK_STAMP_TABLE(accept_since);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACCEPT_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} accept_lost SEC(".maps");

/* A state change of any socket: a child entering its listener's accept
 * queue starts its clock; one leaving the queue unaccepted stops it. Most
 * of a connection's ten state changes return at the first comparisons. */
static __always_inline void accept_on_state(const struct sock *child, int oldstate, int newstate)
{
	const struct tcp_sock *tp;
	__u64 cookie, queued;

	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		/* NULL unless a full TCP socket: the protocol test as well. */
		tp = bpf_skc_to_tcp_sock((void *)child);
		if (!tp || !sk_allowed_local_btf(child))
			return;
		/* The child is in the queue already, and TCP is processing the
		 * handshake's last ACK on it: tcp_mstamp is fresh. */
		queued = tcp_rx_time_ns(tp);
		cookie = bpf_get_socket_cookie((void *)child);
		if (stamp_start_new(&accept_since, cookie, queued) == STAMP_DISPLACED)
			counter_inc(&accept_lost, ACCEPT_LOST_DISPLACED);
	} else if (newstate == TCP_CLOSE &&
		   (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT)) {
		/* Never accepted: reset, or its listener closed, while it
		 * waited in the queue, where a child is ESTABLISHED or (the
		 * client sent FIN) CLOSE_WAIT. A connection that ends the usual
		 * way leaves from FIN_WAIT2 or LAST_ACK and is skipped without
		 * touching the table: two set probes per connection saved. A
		 * socket nobody asked the cookie of has none, and no clock. */
		cookie = child->__sk_common.skc_cookie.counter;
		if (cookie)
			stamp_stop(&accept_since, cookie);
	}
}

#endif /* NETTUNE_ACCEPT_STATE_BPF_H */
