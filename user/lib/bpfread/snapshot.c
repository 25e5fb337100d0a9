// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bpfmap.h"
#include "snapshot.h"
#include "snapshot_int.h"
#include "wordpack.h"

struct snapshot *snapshot__new(const struct snapshot_ops *ops)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ops = ops;
	s->entry_size = (ops->key_size + 7) / 8 * 8 + sizeof(size_t);
	s->val = malloc(ops->val_size);
	s->old = malloc(ops->val_size);
	if (!s->val || !s->old) {
		snapshot__free(s);
		return NULL;
	}
	return s;
}

void snap_gen_free(struct gen *g)
{
	free(g->entries);
	free(g->words);
}

void snapshot__free(struct snapshot *s)
{
	if (!s)
		return;
	snap_gen_free(&s->cur);
	snap_gen_free(&s->prev);
	snap_gen_free(&s->retired);
	free(s->suspects);
	free(s->val);
	free(s->old);
	free(s);
}

size_t snap_entry_offset(const struct snapshot *s, const char *entry)
{
	size_t off;

	memcpy(&off, entry + s->entry_size - sizeof(off), sizeof(off));
	return off;
}

/* Room in g for one more row of at most maxw packed words. */
static int gen_reserve(struct gen *g, size_t entry_size, size_t maxw)
{
	if (g->len == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		char *e = realloc(g->entries, cap * entry_size);

		if (!e)
			return -ENOMEM;
		g->entries = e;
		g->cap = cap;
	}
	if (g->room - g->used < maxw) {
		size_t room = g->room * 2 > g->used + maxw ? g->room * 2 : g->used + maxw;
		__u64 *w = realloc(g->words, room * sizeof(*w));

		if (!w)
			return -ENOMEM;
		g->words = w;
		g->room = room;
	}
	return 0;
}

/* Appends to g an entry for key, whose value is s->val, packed. */
int snap_append(struct snapshot *s, struct gen *g, const void *key)
{
	size_t vs = s->ops->val_size, off = g->used;
	char *entry;
	int err = gen_reserve(g, s->entry_size, wordpack__max_words(vs));

	if (err)
		return err;
	g->used += wordpack__pack(s->val, vs, g->words + off);
	entry = g->entries + g->len++ * s->entry_size;
	memset(entry, 0, s->entry_size);
	memcpy(entry, key, s->ops->key_size);
	memcpy(entry + s->entry_size - sizeof(off), &off, sizeof(off));
	return 0;
}

/* One CPU's row of a key; snap_coalesce() merges a key's rows after the sort. */
static int add_row(const void *key, const void *value, void *ctx)
{
	struct snapshot *s = ctx;

	memset(s->val, 0, s->ops->val_size);
	s->ops->merge(s->val, value);
	return snap_append(s, &s->cur, key);
}

/* qsort and bsearch have no context argument; keys compare as bytes, so
 * the comparator only needs the key size, passed through this. */
__thread size_t snap_cmp_key_size;

int snap_cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, snap_cmp_key_size);
}

/* The current read becomes the previous one; the new one starts empty. */
static void next_gen(struct snapshot *s)
{
	struct gen tmp = s->prev;

	s->prev = s->cur;
	s->cur = tmp;
	s->cur.len = 0;
	s->cur.used = 0;
}

void snap_sort_gen(struct snapshot *s, struct gen *g)
{
	snap_cmp_key_size = s->ops->key_size;
	qsort(g->entries, g->len, s->entry_size, snap_cmp_key);
}

/* After a sort: merges the entries of equal keys into one, repacking the
 * values. Nothing to do, and nothing allocated, when no key repeats. */
int snap_coalesce(struct snapshot *s, struct gen *g)
{
	struct gen out = {};
	size_t vs = s->ops->val_size, i, j;
	bool repeats = false;

	for (i = 1; i < g->len && !repeats; i++)
		repeats = !snap_cmp_key(g->entries + (i - 1) * s->entry_size,
				   g->entries + i * s->entry_size);
	if (!repeats)
		return 0;
	for (i = 0; i < g->len; i = j) {
		const char *first = g->entries + i * s->entry_size;
		int err;

		wordpack__unpack(g->words + snap_entry_offset(s, first), vs, s->val);
		for (j = i + 1; j < g->len && !snap_cmp_key(first, g->entries + j * s->entry_size); j++) {
			const char *e = g->entries + j * s->entry_size;

			wordpack__unpack(g->words + snap_entry_offset(s, e), vs, s->old);
			s->ops->merge(s->val, s->old);
		}
		err = snap_append(s, &out, first);
		if (err) {
			snap_gen_free(&out);
			return err;
		}
	}
	snap_gen_free(g);
	*g = out;
	return 0;
}

int snapshot__read_rows(struct snapshot *s, int rows_fd, int used_fd)
{
	int err;

	next_gen(s);
	err = bpfmap__for_each_row(rows_fd, used_fd, s->ops->key_size, s->ops->val_size, add_row,
				   s);
	/* The rows freed since attach, as if still in the table. */
	for (size_t i = 0; i < s->retired.len && !err; i++) {
		const char *e = s->retired.entries + i * s->entry_size;

		wordpack__unpack(s->retired.words + snap_entry_offset(s, e), s->ops->val_size, s->val);
		err = snap_append(s, &s->cur, e);
	}
	if (err)
		return err;
	snap_sort_gen(s, &s->cur);
	return snap_coalesce(s, &s->cur);
}

int snapshot__for_each(struct snapshot *s, bool total,
		       int (*fn)(const void *key, const void *val, void *ctx), void *ctx)
{
	size_t vs = s->ops->val_size;

	snap_cmp_key_size = s->ops->key_size;
	for (size_t i = 0; i < s->cur.len; i++) {
		const char *entry = s->cur.entries + i * s->entry_size, *old = NULL;
		int err;

		wordpack__unpack(s->cur.words + snap_entry_offset(s, entry), vs, s->val);
		if (!total)
			old = bsearch(entry, s->prev.entries, s->prev.len, s->entry_size, snap_cmp_key);
		if (old) {
			wordpack__unpack(s->prev.words + snap_entry_offset(s, old), vs, s->old);
			s->ops->delta(s->val, s->old);
		}
		err = fn(entry, s->val, ctx);
		if (err)
			return err;
	}
	return 0;
}

