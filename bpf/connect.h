/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Connect latency: types shared between bpf/connect.bpf.c and user/family/connect.c */
#ifndef NETTUNE_CONNECT_H
#define NETTUNE_CONNECT_H

#include "hist_layout.h"

#define CONNECT_MAX_KEYS	2048	/* distinct (process, netns, port, cgroup) rows */

enum connect_fail {
	CONNECT_FAIL_REFUSED,	/* RST answered the SYN: ECONNREFUSED/ECONNRESET */
	CONNECT_FAIL_TIMEOUT,	/* SYN retries exhausted: ETIMEDOUT */
	CONNECT_FAIL_NO_PORT,	/* no free local port: EADDRNOTAVAIL, no SYN sent */
	CONNECT_FAIL_OTHER,	/* unreachable, or closed by the application first */
	CONNECT_FAIL_NR,
};

enum connect_lost {
	CONNECT_LOST_INFLIGHT_FULL,	/* no room to remember a SYN_SENT */
	CONNECT_LOST_KEYS_FULL,		/* no room for a new (pid, port) row */
	CONNECT_LOST_NR,
};

struct connect_key {
	__u64 cgroup;	/* cgroup v2 id of the socket (bpf/cgroup.bpf.h); 0: none */
	__u32 tgid;
	__u32 netns;	/* network namespace inode */
	__u16 dport;	/* destination port, host byte order */
	__u16 pad[3];
};
_Static_assert(sizeof(struct connect_key) == 24, "connect_key layout");

struct connect_val {
	__u64 failed[CONNECT_FAIL_NR];
	char comm[16];	/* comm of the connecting task at SYN_SENT */
	struct hist lat;	/* SYN_SENT -> ESTABLISHED, ns */
};
_Static_assert(sizeof(struct connect_val) % 8 == 0, "connect_val layout");

/* A row of connect_stats (bpf/row_table.bpf.h). */
struct connect_row {
	__u64 tag;
	struct connect_key key;
	struct connect_val val;
};

#endif
