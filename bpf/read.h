/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Read latency: types shared by bpf/read.bpf.c and user/family/read.c */
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
	READ_LOST_SK_STORAGE,	/* no memory for a socket's storage */
	READ_LOST_NR,
};

struct read_key {
	__u64 cgroup;	/* cgroup v2 id of the socket read (bpf/cgroup.bpf.h); 0: none */
	__u32 tgid;	/* the reading process */
	__u32 netns;
	__u16 lport;	/* local port, host byte order; 0: any ephemeral port */
	__u16 pad[3];
};
_Static_assert(sizeof(struct read_key) == 24, "read_key layout");

/* A row's value in read_stats: read_wait. */
struct read_val {
	char comm[16];
	struct hist wait;	/* first unread byte queued -> the read that drained it */
};
_Static_assert(sizeof(struct read_val) % 8 == 0, "read_val layout");

/* A row's value in read_syscall_stats: read_syscall (--read-syscall). A
 * table of its own, so that without it (one slot then) read's rows take
 * half the kernel memory. */
struct read_syscall_val {
	char comm[16];
	__u64 bytes;		/* returned by the read syscalls counted in syscall */
	struct hist syscall;	/* read-family syscall duration on TCP sockets */
};
_Static_assert(sizeof(struct read_syscall_val) % 8 == 0, "read_syscall_val layout");

/* Rows of the two tables (bpf/row_table.bpf.h). */
struct read_row {
	__u64 tag;
	struct read_key key;
	struct read_val val;
};

struct read_syscall_row {
	__u64 tag;
	struct read_key key;
	struct read_syscall_val val;
};

/* Both values start with the reader's comm, at the same place in a row. */
_Static_assert(__builtin_offsetof(struct read_row, val.comm) ==
		       __builtin_offsetof(struct read_syscall_row, val.comm),
	       "read rows: comm where row_of() writes it");

#endif
