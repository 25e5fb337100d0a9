// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bpfmap.h"
#include "snapshot.h"

struct rows {
	char *data;	/* len rows of key_size + val_size bytes */
	size_t len, cap;
};

struct snapshot {
	const struct snapshot_ops *ops;
	size_t row_size;
	struct rows cur, prev;
	void *scratch;
};

struct snapshot *snapshot__new(const struct snapshot_ops *ops)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ops = ops;
	s->row_size = ops->key_size + ops->val_size;
	s->scratch = malloc(ops->val_size);
	if (!s->scratch) {
		free(s);
		return NULL;
	}
	return s;
}

void snapshot__free(struct snapshot *s)
{
	if (!s)
		return;
	free(s->cur.data);
	free(s->prev.data);
	free(s->scratch);
	free(s);
}

static int add_row(const void *key, const void *values, int ncpus, size_t stride, void *ctx)
{
	struct snapshot *s = ctx;
	struct rows *r = &s->cur;
	char *row;

	if (r->len == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		char *data = realloc(r->data, cap * s->row_size);

		if (!data)
			return -ENOMEM;
		r->data = data;
		r->cap = cap;
	}
	row = r->data + r->len++ * s->row_size;
	memcpy(row, key, s->ops->key_size);
	memset(row + s->ops->key_size, 0, s->ops->val_size);
	for (int c = 0; c < ncpus; c++)
		s->ops->merge(row + s->ops->key_size, (const char *)values + c * stride);
	return 0;
}

/* qsort and bsearch have no context argument; keys compare as bytes, so
 * the comparator only needs the key size, passed through this. */
static __thread size_t cmp_key_size;

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, cmp_key_size);
}

int snapshot__read(struct snapshot *s, int map_fd)
{
	struct rows tmp = s->prev;
	int err;

	s->prev = s->cur;
	s->cur = tmp;
	s->cur.len = 0;
	err = bpfmap__for_each_percpu(map_fd, s->ops->key_size, s->ops->val_size, add_row, s);
	if (err)
		return err;
	cmp_key_size = s->ops->key_size;
	qsort(s->cur.data, s->cur.len, s->row_size, cmp_key);
	return 0;
}

int snapshot__for_each(struct snapshot *s, bool total,
		       int (*fn)(const void *key, const void *val, void *ctx), void *ctx)
{
	size_t ks = s->ops->key_size;

	cmp_key_size = ks;
	for (size_t i = 0; i < s->cur.len; i++) {
		const char *row = s->cur.data + i * s->row_size, *old = NULL;
		int err;

		memcpy(s->scratch, row + ks, s->ops->val_size);
		if (!total)
			old = bsearch(row, s->prev.data, s->prev.len, s->row_size, cmp_key);
		if (old)
			s->ops->delta(s->scratch, old + ks);
		err = fn(row, s->scratch, ctx);
		if (err)
			return err;
	}
	return 0;
}
