/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Kernel truth per network namespace, for reports: the TcpExt listen
 * counters and every listener's accept queue and sk_drops (sock_diag),
 * as growth since attach (total) or since the previous refresh.
 * Namespaces are found afresh at each refresh through /proc/<pid>/ns/net
 * and /run/netns, and their descriptors are closed again at once: holding
 * one would keep a namespace alive after its owner deleted it.
 *
 * A read that fails (EPERM, EMFILE, ENOBUFS, a namespace torn down) never
 * makes a namespace or its listeners look gone: the namespace is listed
 * with what was read of it (flags below), its listeners as last read, and
 * a search that could not look everywhere says so (nswatch__complete);
 * then every namespace it knows is listed, as last read.
 * The state of namespaces gone for a few refreshes is dropped
 * (docs/reclaim.md), so weeks of churn keep it at the live ones.
 */
#ifndef NETTUNE_LIB_NSWATCH_H
#define NETTUNE_LIB_NSWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "sockdiag.h"

enum nswatch_counter {
	NSC_LISTEN_OVERFLOWS,	/* TcpExt.ListenOverflows */
	NSC_LISTEN_DROPS,	/* TcpExt.ListenDrops: every listener drop */
	NSC_REQQ_FULL_DROP,	/* TcpExt.TCPReqQFullDrop: SYN queue full, no cookies */
	NSC_REQQ_FULL_COOKIES,	/* TcpExt.TCPReqQFullDoCookies */
	NSC_SYNCOOKIES_SENT,	/* TcpExt.SyncookiesSent */
	NSC_NR,
};

extern const char *const nswatch_counter_names[NSC_NR];	/* kernel names */

struct nswatch_ns {
	__u32 ino;
	bool counters_read;	/* else delta is the last one known (no growth; 0
				 * if never read) */
	bool listeners_read;	/* sock_diag read whole: its listeners are those
				 * listed; else they are as last read (stale) */
	__u64 delta[NSC_NR];
};

struct nswatch_listener {
	__u32 netns;
	struct sockdiag_listener diag;	/* as read now */
	__u64 drops_delta;		/* sk_drops growth */
	int pid;			/* owner, 0 if unknown */
	char comm[16];
	bool stale;			/* its namespace could not be read now:
					 * as last read */
};

/* Reads that failed since the census started, by what failed. */
struct nswatch_failures {
	__u64 find;		/* a /proc or /run/netns entry not looked at: the
				 * search is incomplete */
	__u64 denied;		/* a /proc/PID/ns/net nettune may not open (EACCES,
				 * EPERM): its namespace is left out */
	__u64 counters;		/* a namespace's TcpExt counters */
	__u64 listeners;	/* a namespace's sock_diag dump */
};

struct nswatch;

/* Watches one namespace (its inode), or all of them when ino is 0, and
 * reads the baseline. */
struct nswatch *nswatch__new(__u32 ino);
void nswatch__free(struct nswatch *w);
/* Reads everything again; deltas are since attach when total is set. */
int nswatch__refresh(struct nswatch *w, bool total);
/* The namespaces found at the last refresh, read or not (and, when it was
 * incomplete, those it knows but did not find). */
size_t nswatch__ns_count(const struct nswatch *w);
const struct nswatch_ns *nswatch__ns(const struct nswatch *w, size_t i);
/* The last refresh looked everywhere: a namespace it did not find is gone
 * (when watching one, about that one only). */
bool nswatch__complete(const struct nswatch *w);
const struct nswatch_failures *nswatch__failures(const struct nswatch *w);
size_t nswatch__listener_count(const struct nswatch *w);
/* Looks up the owner on first use (a /proc scan), then remembers it. */
const struct nswatch_listener *nswatch__listener(struct nswatch *w, size_t i);

#endif
