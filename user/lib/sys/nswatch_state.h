/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The census's own state, shared by its two files: nswatch.c (finding the
 * namespaces, reading their counters and listeners) and nswatch_owners.c
 * (which process holds each listener). Nothing else includes it. */
#ifndef NETTUNE_LIB_NSWATCH_STATE_H
#define NETTUNE_LIB_NSWATCH_STATE_H

#include <stdbool.h>
#include "nswatch.h"
#include "rowindex.h"

struct ns_state {
	__u32 ino;
	__u32 missed;			/* complete refreshes in a row without it */
	bool found;			/* found at this refresh */
	bool counters_read;		/* its TcpExt counters read at this refresh */
	bool listeners_read;		/* its sock_diag dump read whole at this refresh */
	bool has_base;			/* counters read once */
	bool listed;			/* listeners read once */
	__u64 base[NSC_NR], prev[NSC_NR], cur[NSC_NR];
};

struct lst_state {
	struct nswatch_listener pub;
	__u64 base_drops, prev_drops;
	bool seen, owner_known;
};

struct nswatch {
	__u32 only;
	bool only_found;
	const struct nswatch_src *src;
	struct ns_state *ns;
	size_t nns, cap_ns;
	struct rowindex ns_index;	/* ino -> position in ns */
	struct nswatch_ns *out_ns;	/* the namespaces found at the last refresh */
	size_t nout;
	struct lst_state *lst;
	size_t nlst, cap_lst;
	/* (netns, cookie) -> position in lst. A linear search per listener
	 * made a refresh quadratic: with 10,000 listeners a report took
	 * seconds. */
	struct rowindex index;
	size_t *out_lst;		/* indexes of listeners seen at the last refresh */
	size_t nout_lst;
	bool total;
	bool complete;			/* every namespace that exists was found */
	struct nswatch_failures failures;
	int warned[4];			/* the last error said, per kind */
};

/* Owners of every published listener not resolved yet, from /proc (the
 * default source's owners()). */
void nswatch__resolve_owners_procfs(struct nswatch *w);

#endif
