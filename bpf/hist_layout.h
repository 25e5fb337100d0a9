/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Histogram layout shared by the BPF programs and user space.
 *
 * Log-linear (HDR-style) buckets over nanoseconds: every power of two is
 * split into HIST_SUB equal sub-buckets, so a bucket is never wider than
 * 1/HIST_SUB of its lower bound. Values below 2*HIST_SUB get one bucket each.
 *
 * This header is the contract between kernel and user code. It includes
 * nothing and uses only fixed-width types, so both sides compile the exact
 * same bucket math: the one function here is defined in the header on
 * purpose, because BPF programs cannot link against user-space objects.
 */
#ifndef NETTUNE_HIST_LAYOUT_H
#define NETTUNE_HIST_LAYOUT_H

#define HIST_SUB_BITS	4
#define HIST_SUB	(1u << HIST_SUB_BITS)	/* 16: relative width <= 1/16 */
/* Largest exponent kept apart: values >= 2^(HIST_MAX_EXP+1) ns (~137 s)
 * land in the last bucket. */
#define HIST_MAX_EXP	36
#define HIST_NBUCKETS	((HIST_MAX_EXP - HIST_SUB_BITS + 2) * HIST_SUB)

struct hist {
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	__u64 buckets[HIST_NBUCKETS];
};

_Static_assert(sizeof(struct hist) == (3 + HIST_NBUCKETS) * 8,
	       "struct hist must have no padding");

/* floor(log2(v)) for v > 0 without loops or clz, which BPF lacks. */
static inline __u32 hist_log2(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* Bucket index of a value in ns; always < HIST_NBUCKETS. */
static inline __u32 hist_bucket(__u64 v)
{
	__u32 e, shift;

	if (v < HIST_SUB)
		return (__u32)v;
	e = hist_log2(v);
	if (e > HIST_MAX_EXP)
		return HIST_NBUCKETS - 1;
	shift = e - HIST_SUB_BITS;
	return shift * HIST_SUB + (__u32)(v >> shift);
}

#endif /* NETTUNE_HIST_LAYOUT_H */
