// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdio.h>
#include <string.h>
#include "hist.h"

__u64 hist__bucket_lower(__u32 idx)
{
	__u32 shift;

	if (idx < 2 * HIST_SUB)
		return idx;
	shift = idx / HIST_SUB - 1;
	return (__u64)(idx - shift * HIST_SUB) << shift;
}

__u64 hist__bucket_upper(__u32 idx)
{
	if (idx >= HIST_NBUCKETS - 1)
		return ~0ULL;
	return hist__bucket_lower(idx + 1);
}

__u64 hist__bucket_value(__u32 idx)
{
	__u64 lo = hist__bucket_lower(idx);

	if (idx >= HIST_NBUCKETS - 1)
		return lo;
	return lo + (hist__bucket_upper(idx) - lo) / 2;
}

void hist__record(struct hist *h, __u64 v_ns)
{
	h->buckets[hist_bucket(v_ns)]++;
	h->count++;
	h->sum_ns += v_ns;
	if (v_ns > h->max_ns)
		h->max_ns = v_ns;
}

void hist__add(struct hist *dst, const struct hist *src)
{
	for (__u32 i = 0; i < HIST_NBUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

void hist__delta(struct hist *dst, const struct hist *cur, const struct hist *prev)
{
	int top = -1;

	for (__u32 i = 0; i < HIST_NBUCKETS; i++) {
		dst->buckets[i] = cur->buckets[i] - prev->buckets[i];
		if (dst->buckets[i])
			top = (int)i;
	}
	dst->count = cur->count - prev->count;
	dst->sum_ns = cur->sum_ns - prev->sum_ns;
	dst->max_ns = 0;
	if (top >= 0) {
		__u64 upper = hist__bucket_upper((__u32)top) - 1;

		dst->max_ns = cur->max_ns < upper ? cur->max_ns : upper;
		if (dst->max_ns < hist__bucket_lower((__u32)top))
			dst->max_ns = hist__bucket_value((__u32)top);
	}
}

void hist__shift_down(struct hist *dst, const struct hist *src, __u64 d)
{
	__u64 clamped = 0;

	memcpy(dst, src, sizeof(*dst));
	if (!d)
		return;
	memset(dst->buckets, 0, sizeof(dst->buckets));
	for (__u32 i = 0; i < HIST_NBUCKETS; i++) {
		__u64 v = hist__bucket_value(i), lo = hist__bucket_lower(i), n = src->buckets[i];

		if (!n)
			continue;
		/* A bucket that reaches below d gives back d - its lower bound per
		 * sample: each sample then adds x - lo >= 0 to the sum, so the sum
		 * of a cumulative histogram never falls as samples are added (a
		 * Prometheus counter that fell would read as a restart). */
		if (lo < d)
			clamped += n * (d - lo);
		dst->buckets[hist_bucket(v > d ? v - d : 0)] += n;
	}
	/* The sum of max(x - d, 0): sum - count*d, plus what the clamp gave back
	 * (per bucket, from its lower bound: at most a bucket's width more than
	 * the truth per sample below d). */
	dst->sum_ns = src->sum_ns + clamped > src->count * d ?
		      src->sum_ns + clamped - src->count * d : 0;
	dst->max_ns = src->max_ns > d ? src->max_ns - d : 0;
}

__u64 hist__rank(__u64 total, double q)
{
	__u64 rank;

	if (q <= 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* Nearest rank: the smallest value with at least q of the samples
	 * at or below it. */
	rank = (__u64)(q * (double)total + 0.999999999);
	return rank < 1 ? 1 : rank;
}

__u64 hist__quantile_value(__u32 idx, __u64 max_ns)
{
	__u64 v = hist__bucket_value(idx);

	return max_ns && v > max_ns ? max_ns : v;
}

__u64 hist__quantile(const struct hist *h, double q)
{
	__u64 total = 0, rank, seen = 0;

	for (__u32 i = 0; i < HIST_NBUCKETS; i++)
		total += h->buckets[i];
	if (!total)
		return 0;
	rank = hist__rank(total, q);
	for (__u32 i = 0; i < HIST_NBUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			return hist__quantile_value(i, h->max_ns);
	}
	return h->max_ns;
}

void hist__summarize(const struct hist *h, struct hist_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->count = h->count;
	if (!h->count)
		return;
	s->p50_ns = hist__quantile(h, 0.50);
	s->p90_ns = hist__quantile(h, 0.90);
	s->p99_ns = hist__quantile(h, 0.99);
	s->p999_ns = hist__quantile(h, 0.999);
	s->max_ns = h->max_ns;
	s->mean_ns = h->sum_ns / h->count;
}

__u64 hist__count_from(const struct hist *h, __u64 v_ns)
{
	__u64 n = 0;

	for (__u32 i = hist_bucket(v_ns); i < HIST_NBUCKETS; i++)
		if (hist__bucket_lower(i) >= v_ns)
			n += h->buckets[i];
	return n;
}

char *hist__fmt_ns(char *buf, size_t len, __u64 ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.3g µs", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.3g ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3g s", ns / 1e9);
	return buf;
}
