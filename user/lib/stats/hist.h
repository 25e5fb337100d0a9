/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Histogram math in user space: merging per-CPU copies, interval deltas,
 * bucket bounds and percentiles. The layout itself lives in
 * bpf/hist_layout.h. */
#ifndef NETTUNE_LIB_HIST_H
#define NETTUNE_LIB_HIST_H

#include <stddef.h>
#include <linux/types.h>
#include "hist_layout.h"	/* bpf/: the layout both sides share */

struct hist_summary {
	__u64 count;
	__u64 p50_ns;
	__u64 p90_ns;
	__u64 p99_ns;
	__u64 p999_ns;
	__u64 max_ns;
	__u64 mean_ns;
};

/* Bounds of bucket idx in ns: [lower, upper). */
__u64 hist__bucket_lower(__u32 idx);
__u64 hist__bucket_upper(__u32 idx);
/* The value a bucket stands for when reported: its midpoint, which bounds
 * the reporting error to half a bucket (<= 1/32 relative). */
__u64 hist__bucket_value(__u32 idx);

void hist__record(struct hist *h, __u64 v_ns);
void hist__add(struct hist *dst, const struct hist *src);
/* dst = cur - prev, for interval reports from cumulative maps. The interval
 * max cannot be subtracted: it is bounded by the highest bucket that moved. */
void hist__delta(struct hist *dst, const struct hist *cur, const struct hist *prev);

/* dst = src with d ns taken off every sample, never below 0 (dst != src).
 * Each bucket's count moves, at its midpoint, to the bucket of that value
 * less d: a quantile of dst is src's less d (or 0), within a bucket of each.
 * For the uprobe families' subtraction of the probes' own time. */
void hist__shift_down(struct hist *dst, const struct hist *src, __u64 d);

/* Value at quantile q (0 < q <= 1), in ns; 0 for an empty histogram. */
__u64 hist__quantile(const struct hist *h, double q);
/* The two halves of hist__quantile, for other bucket stores (sparsehist.h)
 * to report the very same values: the nearest rank (1..total) of quantile
 * q among total samples, and what a quantile falling in bucket idx reports
 * (its midpoint, never above a known max). */
__u64 hist__rank(__u64 total, double q);
__u64 hist__quantile_value(__u32 idx, __u64 max_ns);
void hist__summarize(const struct hist *h, struct hist_summary *s);
/* Samples in buckets whose lower bound is >= v_ns: "how many took at least
 * v", exact when v_ns is a bucket bound (powers of two are). */
__u64 hist__count_from(const struct hist *h, __u64 v_ns);

/* "950 ns", "12.3 µs", "40.1 ms", "2.50 s" into buf; returns buf. */
char *hist__fmt_ns(char *buf, size_t len, __u64 ns);

#endif
