/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Listener and TCP drops: types shared by bpf/drops.bpf.c and user/family/drops.c */
#ifndef NETTUNE_DROPS_H
#define NETTUNE_DROPS_H

#include "listener.h"

/* Drop reasons are indexed by the kernel's own enum values (named from its
 * BTF in user space); this bounds the array, not the enum. */
#define DROPS_MAX_REASONS	512
#define DROPS_MAX_LISTENERS	4096

enum drops_counter {
	DROPS_RESETS_SENT,	/* tcp:tcp_send_reset */
	DROPS_RESETS_RECEIVED,	/* tcp:tcp_receive_reset */
	DROPS_LOST_LISTENERS_FULL,	/* no room for a new listener row */
	DROPS_COUNTER_NR,
};

/* Which array a drop is counted in. */
enum drops_kind {
	DROPS_TCP_SOCKET,	/* the skb belonged to (or was for) a TCP socket */
	DROPS_NO_SOCKET,	/* no socket yet (e.g. CPU_BACKLOG): any IP traffic */
	DROPS_KIND_NR,
};

struct drops_listener_val {
	__u64 overflow_ack;	/* kfree_skb TCP_LISTEN_OVERFLOW with rx_sk = listener */
	__u64 overflow_cookie;	/* a SYN-cookie ACK that found the queue full: dropped
				 * as NO_SOCKET with rx_sk = the listener */
	__u64 synack_retrans;	/* tcp:tcp_retransmit_synack */
	__u64 other_drops;	/* other kfree_skb reasons with the listener as socket */
	__u64 cgroup;		/* cgroup v2 id of the listener's socket, set with the
				 * row: a value, not part of the key, see listener.h */
};

/* A row of drops_listeners (bpf/row_table.bpf.h). */
struct drops_listener_row {
	__u64 tag;
	struct listener_key key;
	struct drops_listener_val val;
};

#endif
