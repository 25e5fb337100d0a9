/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A hash index over the rows of a growable array: key -> row position, by
 * open addressing, kept at most half full. The rows stay where the caller
 * keeps them (reports sort and print them in order); the index holds
 * positions + 1, 0 being an empty slot. Used where a linear search per row
 * made a report quadratic in the number of listeners.
 */
#ifndef NETTUNE_LIB_ROWINDEX_H
#define NETTUNE_LIB_ROWINDEX_H

#include <stdbool.h>
#include <stddef.h>

struct rowindex_ops {
	size_t (*hash_row)(const void *rows, size_t i);
	bool (*row_is)(const void *rows, size_t i, const void *key);
};

struct rowindex {
	size_t *slots;
	size_t cap;	/* a power of two, or 0 */
};

/* The slot of key: *slot - 1 is its row if *slot != 0, else the key is not
 * indexed and *slot is where its row goes (store position + 1). Needs
 * rowindex__reserve() for at least one more row first. */
size_t *rowindex__slot(const struct rowindex *ix, const struct rowindex_ops *ops,
		       const void *rows, size_t hash, const void *key);
/* Room for nrows + 1 rows; rebuilt from rows[0..nrows) when it grows.
 * 0 or -ENOMEM (the index is then unchanged). */
int rowindex__reserve(struct rowindex *ix, const struct rowindex_ops *ops,
		      const void *rows, size_t nrows);
/* Indexes rows[0..nrows) anew, after they were moved or removed. */
int rowindex__rebuild(struct rowindex *ix, const struct rowindex_ops *ops,
		      const void *rows, size_t nrows);
void rowindex__free(struct rowindex *ix);

/* A 64-bit mix for building row hashes. */
static inline size_t rowindex__mix(unsigned long long h)
{
	h *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(h ^ (h >> 29));
}

#endif
