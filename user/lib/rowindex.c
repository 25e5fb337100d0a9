// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rowindex.h"

size_t *rowindex__slot(const struct rowindex *ix, const struct rowindex_ops *ops,
		       const void *rows, size_t hash, const void *key)
{
	size_t mask = ix->cap - 1, i = hash & mask;

	while (ix->slots[i] && !ops->row_is(rows, ix->slots[i] - 1, key))
		i = (i + 1) & mask;
	return &ix->slots[i];
}

static void insert_all(struct rowindex *ix, const struct rowindex_ops *ops, const void *rows,
		       size_t nrows)
{
	size_t mask = ix->cap - 1;

	for (size_t r = 0; r < nrows; r++) {
		size_t i = ops->hash_row(rows, r) & mask;

		while (ix->slots[i])
			i = (i + 1) & mask;
		ix->slots[i] = r + 1;
	}
}

static int resize(struct rowindex *ix, const struct rowindex_ops *ops, const void *rows,
		  size_t nrows, size_t cap)
{
	size_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	free(ix->slots);
	ix->slots = slots;
	ix->cap = cap;
	insert_all(ix, ops, rows, nrows);
	return 0;
}

int rowindex__reserve(struct rowindex *ix, const struct rowindex_ops *ops, const void *rows,
		      size_t nrows)
{
	size_t cap = ix->cap ? ix->cap : 64;

	if ((nrows + 1) * 2 <= ix->cap)
		return 0;
	while ((nrows + 1) * 2 > cap)
		cap *= 2;
	return resize(ix, ops, rows, nrows, cap);
}

int rowindex__rebuild(struct rowindex *ix, const struct rowindex_ops *ops, const void *rows,
		      size_t nrows)
{
	if ((nrows + 1) * 2 > ix->cap)
		return rowindex__reserve(ix, ops, rows, nrows);	/* a fresh index */
	memset(ix->slots, 0, ix->cap * sizeof(*ix->slots));
	insert_all(ix, ops, rows, nrows);
	return 0;
}

void rowindex__free(struct rowindex *ix)
{
	free(ix->slots);
	ix->slots = NULL;
	ix->cap = 0;
}
