/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Read latency: types shared by bpf/read.bpf.c and user/read.c */
#ifndef NETTUNE_READ_H
#define NETTUNE_READ_H

#include "hist_layout.h"

#define READ_MAX_UNREAD		65536	/* sockets with unread data */
#define READ_MAX_KEYS		2048	/* (process, netns, local port) rows */

enum read_lost {
	READ_LOST_UNREAD_FULL,	/* fallback: no room to remember a socket's first unread byte */
	READ_LOST_DISPLACED,	/* a socket's arrival clock displaced another's (sock_stamp) */
	READ_LOST_CALLS_FULL,	/* no memory to remember a syscall's start */
	READ_LOST_KEYS_FULL,	/* no room for a new row */
	READ_LOST_NR,
};

struct read_key {
	__u32 tgid;	/* the reading process */
	__u32 netns;
	__u16 lport;	/* local port, host byte order; 0: any ephemeral port */
	__u16 pad[3];
};
_Static_assert(sizeof(struct read_key) == 16, "read_key layout");

struct read_val {
	__u64 bytes;		/* returned by the read syscalls counted in syscall */
	char comm[16];
	struct hist wait;	/* first unread byte queued -> the read that drained it */
	struct hist syscall;	/* read-family syscall duration on TCP sockets */
};
_Static_assert(sizeof(struct read_val) % 8 == 0, "read_val layout");

/* A row of read_stats (bpf/row_table.bpf.h). */
struct read_row {
	__u64 tag;
	struct read_key key;
	struct read_val val;
};

#endif
