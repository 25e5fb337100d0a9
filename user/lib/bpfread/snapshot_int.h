/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What snapshot.c and reclaim.c share: a snapshot's insides. */
#ifndef NETTUNE_LIB_SNAPSHOT_INT_H
#define NETTUNE_LIB_SNAPSHOT_INT_H

#include <stddef.h>
#include <linux/types.h>
#include "snapshot.h"

/* One read of the map: an entry per row (its key, then where its packed
 * value starts), sorted by key, and the values packed (wordpack.h) one
 * after another. Dense rows made two reads of the accept and connect maps
 * 36 MB with 10,000 listeners; packed, they are some 100 bytes a row. */
struct gen {
	char *entries;		/* len entries of entry_size bytes */
	size_t len, cap;
	__u64 *words;
	size_t used, room;	/* in words */
};

struct snapshot {
	const struct snapshot_ops *ops;
	size_t entry_size;	/* the key padded to 8 bytes, then a size_t offset */
	struct gen cur, prev;
	struct gen retired;	/* rows freed in the kernel, their counts kept (sorted) */
	char *suspects;		/* keys whose owner was gone at the last reclaim (sorted) */
	size_t nsuspects;
	void *val, *old;	/* one row unpacked: this read's and the previous */
};

void snap_gen_free(struct gen *g);
/* Where an entry's packed value starts in its gen's words. */
size_t snap_entry_offset(const struct snapshot *s, const char *entry);
/* Appends to g an entry for key, whose value is s->val, packed. */
int snap_append(struct snapshot *s, struct gen *g, const void *key);
/* Sorts g by key, then merges the entries of equal keys. */
void snap_sort_gen(struct snapshot *s, struct gen *g);
int snap_coalesce(struct snapshot *s, struct gen *g);
/* Keys compare as bytes; qsort and bsearch get the size through this. */
extern __thread size_t snap_cmp_key_size;
int snap_cmp_key(const void *a, const void *b);

#endif
