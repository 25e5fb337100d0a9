/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Per-CPU counts and histograms: no atomics, user space sums the CPUs. The
 * bucket math is hist_layout.h's, shared with user space. */
#ifndef NETTUNE_HIST_BPF_H
#define NETTUNE_HIST_BPF_H

#include "base.bpf.h"
#include "hist_layout.h"

/* counters[idx]++ in a per-CPU array of __u64 (lost events, drop counts). */
static __always_inline void counter_inc(void *map, __u32 idx)
{
	__u64 *n = bpf_map_lookup_elem(map, &idx);

	if (n)
		(*n)++;
}

/* Per-CPU histogram: no atomics needed, user space sums the CPUs. */
static __always_inline void hist_record(struct hist *h, __u64 v)
{
	__u64 idx = hist_bucket(v);

	/* Pin idx to one register: otherwise clang may bounds-check one copy
	 * and index with another, which the verifier rejects. */
	asm volatile("" : "+r"(idx));
	if (idx >= HIST_NBUCKETS)
		idx = HIST_NBUCKETS - 1;
	asm volatile("" : "+r"(idx));
	h->buckets[idx]++;
	h->count++;
	h->sum_ns += v;
	if (v > h->max_ns)
		h->max_ns = v;
}

#endif /* NETTUNE_HIST_BPF_H */
