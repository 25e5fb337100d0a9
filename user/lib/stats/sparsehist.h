/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A latency histogram that keeps only its non-empty buckets, for rows that
 * reports hold by the thousand (one per listener, per port, per process). A
 * struct hist is 4.4 KB whatever it holds, and most such rows hold one or a
 * few buckets: 10,000 listeners in dense rows made `nettune trace` use
 * ~130 MiB. Buckets mean what they mean in hist_layout.h, and quantiles are
 * those hist.h reports for the same samples.
 *
 * A zeroed struct sparse_hist is an empty histogram; it owns its bucket
 * array, so a row holding one is freed with sparse_hist__free(), and a copy
 * of the struct shares (does not duplicate) the array.
 */
#ifndef NETTUNE_LIB_SPARSEHIST_H
#define NETTUNE_LIB_SPARSEHIST_H

#include <linux/types.h>
#include "hist.h"

struct sparse_bucket {
	__u64 n;	/* samples, never 0 */
	__u32 idx;	/* bucket index, < HIST_NBUCKETS */
	__u32 pad;
};

struct sparse_hist {
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	/* The module's: the non-empty buckets in ascending idx. */
	struct sparse_bucket *b;
	__u32 len, cap;
};

/* Releases the buckets; s is then an empty histogram. Accepts NULL. */
void sparse_hist__free(struct sparse_hist *s);
/* dst += src, as hist__add(); 0 or -ENOMEM (dst is then unchanged).
 * dst and src must be distinct. */
int sparse_hist__add(struct sparse_hist *dst, const struct sparse_hist *src);
int sparse_hist__add_hist(struct sparse_hist *dst, const struct hist *src);
/* The dense histogram with the same samples (all of *h is written). */
void sparse_hist__to_hist(const struct sparse_hist *s, struct hist *h);
/* As hist__quantile() and hist__summarize() on the dense equivalent. */
__u64 sparse_hist__quantile(const struct sparse_hist *s, double q);
void sparse_hist__summarize(const struct sparse_hist *s, struct hist_summary *out);

#endif
