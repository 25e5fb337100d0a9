/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Where the census reads from: /proc and /run/netns, the namespaces'
 * /proc/net/netstat and sock_diag (the default), or a test's own source
 * (tests/unit/test_nswatch.c), which drives the same bookkeeping.
 */
#ifndef NETTUNE_LIB_NSWATCH_INT_H
#define NETTUNE_LIB_NSWATCH_INT_H

#include "nswatch.h"

struct nswatch_src {
	/* Finds every namespace: nswatch__found() for each one (several
	 * calls for one inode read it once), nswatch__not_found() for an
	 * entry that may hold one but could not be looked at. */
	void (*find)(struct nswatch *w, void *ctx);
	/* The TcpExt counters of nswatch_counter_names. 0 or -errno. */
	int (*counters)(void *ctx, int fd, __u32 ino, __u64 cur[NSC_NR]);
	/* Every listener, as sockdiag__listeners(). 0 or -errno. */
	int (*listeners)(void *ctx, int fd, __u32 ino, struct sockdiag_listener **ls, size_t *n);
	/* Owners of the published listeners; NULL: unknown (pid 0). */
	void (*owners)(struct nswatch *w);
	void *ctx;
};

struct nswatch *nswatch__new_src(__u32 ino, const struct nswatch_src *src);
/* A namespace found; fd is the source's to pass back to its reads. */
void nswatch__found(struct nswatch *w, __u32 ino, int fd);
/* An entry (what: a path) that could not be looked at: err (-errno). The
 * refresh is then incomplete: no namespace it misses is taken for gone. */
void nswatch__not_found(struct nswatch *w, const char *what, int err);
/* Namespaces the census keeps state for (found now or lately). */
size_t nswatch__ns_state_count(const struct nswatch *w);

#endif
