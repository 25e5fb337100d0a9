/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Accept-queue wait: types shared by bpf/accept.bpf.c and user/family/accept.c */
#ifndef NETTUNE_ACCEPT_H
#define NETTUNE_ACCEPT_H

#include "hist_layout.h"
#include "listener.h"

#define ACCEPT_MAX_KEYS		2048	/* (listener, accepting process) rows */

enum accept_lost {
	ACCEPT_LOST_DISPLACED,	/* a child's queue clock displaced another's (sock_stamp) */
	ACCEPT_LOST_KEYS_FULL,		/* no room for a new row */
	ACCEPT_LOST_NR,
};

struct accept_key {
	__u64 cgroup;	/* cgroup v2 id of the listener's socket (its children
			 * inherit it; bpf/cgroup.bpf.h); 0: none */
	struct listener_key listener;
	__u32 tgid;	/* the process that called accept() */
	__u32 pad;
};
_Static_assert(sizeof(struct accept_key) == 40, "accept_key layout");

struct accept_val {
	__u64 limit_ns;		/* bpf_ktime_get_ns() when limit was read: the CPUs'
				 * rows are merged by taking the newest limit */
	__u32 peak_depth;	/* largest accept-queue length seen at accept */
	__u32 limit;		/* sk_max_ack_backlog at the last accept on this CPU */
	char comm[16];
	struct hist wait;	/* queued (handshake done) -> accept() returned, ns */
};
_Static_assert(sizeof(struct accept_val) % 8 == 0, "accept_val layout");

/* A row of accept_stats (bpf/row_table.bpf.h). */
struct accept_row {
	__u64 tag;
	struct accept_key key;
	struct accept_val val;
};

#endif
