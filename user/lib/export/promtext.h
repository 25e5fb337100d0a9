/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The Prometheus text exposition format (version 0.0.4), for `nettune
 * serve` and its --textfile. Pure: no I/O, no BPF, so the unit tests feed
 * it any numbers.
 *
 * A writer lives as long as the agent. Each exposition starts with
 * promtext__begin(); samples are added family by family, in any order (a
 * family may be reopened by name: its samples are still written together,
 * HELP and TYPE once), and promtext__render() writes them all.
 *
 * Between expositions the writer remembers two things:
 * - every counter's and histogram's exported value, so an exported _total,
 *   _count, _sum or bucket never decreases: each series adds the growth of
 *   its source since the previous exposition, and a source that went
 *   backwards (a namespace deleted and its inode reused, a listener
 *   re-created, a derived count corrected) counts as restarted at the
 *   value it has then;
 * - which identities (the values of a family's first nid labels: listener,
 *   namespace, process name) hold one of the family's max_ids places.
 *   Past the bound a new identity folds into one series whose identity
 *   labels are all "other" (counters and histograms add up, gauges keep the
 *   largest), and nettune_folded_series_total{family} counts each identity
 *   once when it is first folded. An identity absent from an exposition
 *   frees its place.
 */
#ifndef NETTUNE_LIB_PROMTEXT_H
#define NETTUNE_LIB_PROMTEXT_H

#include <stddef.h>
#include <linux/types.h>
#include "hist.h"
#include "sparsehist.h"

/* Histogram `le` bounds: every power of two of nanoseconds from 2^10 ns
 * (1.024 us) to 2^36 ns (68.7 s), then +Inf. Each is a bucket bound of
 * hist_layout.h, so the cumulative counts are exact (no bucket of the
 * kernel's histogram straddles one), and a quantile is right to within one
 * `le` bucket (a factor of 2). */
#define PROM_LE_MIN_EXP	10
#define PROM_LE_MAX_EXP	36
#define PROM_NLE	(PROM_LE_MAX_EXP - PROM_LE_MIN_EXP + 1)

/* Default bound on identities per family, and how many expositions a
 * series' history outlives its source. */
#define PROM_DEFAULT_MAX_IDS	1000
#define PROM_HISTORY_TTL	64

/* PROM_COUNTER_NS: a counter whose samples are ns, written as exact
 * seconds (CPU time, BPF run time). */
enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM, PROM_COUNTER_NS };

struct prom_label {
	const char *name;
	const char *value;
};

struct promtext;

struct promtext *promtext__new(unsigned int max_ids);
void promtext__free(struct promtext *w);	/* accepts NULL */
/* Starts an exposition: the previous one's samples are dropped. */
void promtext__begin(struct promtext *w);
/* Opens family NAME (a valid metric name, with its _total or _seconds
 * suffix); later samples belong to it. Its first NID labels are the
 * identity the bound applies to (0: never folded). Reopening a family with
 * another type is -EINVAL. */
int promtext__family(struct promtext *w, const char *name, enum prom_type type, int nid,
		     const char *help);
/* Samples of the open family; labels in the same order for every sample.
 * 0, -EINVAL (no open family of that type) or -ENOMEM. */
int promtext__counter(struct promtext *w, const struct prom_label *l, int nl, __u64 v);
int promtext__gauge(struct promtext *w, const struct prom_label *l, int nl, double v);
int promtext__hist(struct promtext *w, const struct prom_label *l, int nl, const struct hist *h);
int promtext__sparse_hist(struct promtext *w, const struct prom_label *l, int nl,
			  const struct sparse_hist *s);
/* The exposition: a NUL-terminated string the caller frees; *len is its
 * length. NULL on allocation failure. */
char *promtext__render(struct promtext *w, size_t *len);
/* The i-th `le` bound in ns (0 <= i < PROM_NLE). */
__u64 promtext__le_ns(int i);
/* "0.000001024": ns as seconds, exactly (no binary rounding). */
void promtext__fmt_seconds(char *buf, size_t len, __u64 ns);

#endif
