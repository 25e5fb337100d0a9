// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sparsehist.h"

void sparse_hist__free(struct sparse_hist *s)
{
	if (!s)
		return;
	free(s->b);
	memset(s, 0, sizeof(*s));
}

/* Buckets in the union of dst's and src[0..n). */
static __u32 union_len(const struct sparse_hist *dst, const struct sparse_bucket *src, __u32 n)
{
	__u32 i = 0, j = 0, u = dst->len;

	while (i < dst->len && j < n) {
		if (dst->b[i].idx < src[j].idx) {
			i++;
		} else {
			u += dst->b[i].idx != src[j].idx;
			i += dst->b[i].idx == src[j].idx;
			j++;
		}
	}
	return u + (n - j);
}

/* Adds the sorted buckets src[0..n) into dst's. The array grows to the
 * exact union: a row that got one bucket keeps room for one. */
static int merge(struct sparse_hist *dst, const struct sparse_bucket *src, __u32 n)
{
	__u32 u = union_len(dst, src, n), i = dst->len, k = u;

	if (u > dst->cap) {
		struct sparse_bucket *b = realloc(dst->b, u * sizeof(*b));

		if (!b)
			return -ENOMEM;
		dst->b = b;
		dst->cap = u;
	}
	/* From the top down, so that dst's own buckets, moving up to make
	 * room, are never overwritten before they are moved. Once src is
	 * used up, the rest of dst is already in place (k == i). */
	while (n > 0) {
		if (i > 0 && dst->b[i - 1].idx >= src[n - 1].idx) {
			dst->b[--k] = dst->b[--i];
			if (dst->b[k].idx == src[n - 1].idx)
				dst->b[k].n += src[--n].n;
		} else {
			dst->b[--k] = src[--n];
		}
	}
	dst->len = u;
	return 0;
}

static void add_totals(struct sparse_hist *dst, __u64 count, __u64 sum_ns, __u64 max_ns)
{
	dst->count += count;
	dst->sum_ns += sum_ns;
	if (max_ns > dst->max_ns)
		dst->max_ns = max_ns;
}

int sparse_hist__add(struct sparse_hist *dst, const struct sparse_hist *src)
{
	int err = merge(dst, src->b, src->len);

	if (!err)
		add_totals(dst, src->count, src->sum_ns, src->max_ns);
	return err;
}

int sparse_hist__add_hist(struct sparse_hist *dst, const struct hist *src)
{
	struct sparse_bucket nonzero[HIST_NBUCKETS];
	__u32 n = 0;
	int err;

	for (__u32 i = 0; i < HIST_NBUCKETS; i++)
		if (src->buckets[i])
			nonzero[n++] = (struct sparse_bucket){ .n = src->buckets[i], .idx = i };
	err = merge(dst, nonzero, n);
	if (!err)
		add_totals(dst, src->count, src->sum_ns, src->max_ns);
	return err;
}

void sparse_hist__to_hist(const struct sparse_hist *s, struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->count = s->count;
	h->sum_ns = s->sum_ns;
	h->max_ns = s->max_ns;
	for (__u32 i = 0; i < s->len; i++)
		h->buckets[s->b[i].idx] = s->b[i].n;
}

/* Values at quantiles q[0..n), ascending, in one pass over the buckets.
 * As in hist__quantile(), ranks count the samples in buckets, not count,
 * which a histogram read while the kernel updates it may disagree with. */
static void quantiles(const struct sparse_hist *s, const double *q, __u64 *out, int n)
{
	__u64 total = 0, seen = 0;
	int k = 0;

	for (__u32 i = 0; i < s->len; i++)
		total += s->b[i].n;
	for (int j = 0; j < n; j++)
		out[j] = total ? s->max_ns : 0;
	for (__u32 i = 0; total && i < s->len && k < n; i++) {
		seen += s->b[i].n;
		while (k < n && seen >= hist__rank(total, q[k]))
			out[k++] = hist__quantile_value(s->b[i].idx, s->max_ns);
	}
}

__u64 sparse_hist__quantile(const struct sparse_hist *s, double q)
{
	__u64 v;

	quantiles(s, &q, &v, 1);
	return v;
}

void sparse_hist__summarize(const struct sparse_hist *s, struct hist_summary *out)
{
	static const double q[] = { 0.50, 0.90, 0.99, 0.999 };
	__u64 v[4];

	memset(out, 0, sizeof(*out));
	out->count = s->count;
	if (!s->count)
		return;
	quantiles(s, q, v, 4);
	out->p50_ns = v[0];
	out->p90_ns = v[1];
	out->p99_ns = v[2];
	out->p999_ns = v[3];
	out->max_ns = s->max_ns;
	out->mean_ns = s->sum_ns / s->count;
}
