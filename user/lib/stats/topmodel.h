/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What `nettune top` shows, apart from how it is drawn: each interval the
 * tracer's listener table and report (the same aggregates trace and serve
 * read) are folded into totals since start, rates over the interval, the
 * latency panel and the heatmap's columns; then the listener lines are
 * filtered and sorted. No curses, no BPF: unit-tested on its own.
 */
#ifndef NETTUNE_LIB_TOPMODEL_H
#define NETTUNE_LIB_TOPMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <json-c/json.h>
#include "listeners.h"

#define TOP_HEAT_BINS	16	/* two per decade of µs: 1 µs to 100 s */
#define TOP_HEAT_COLS	512	/* intervals kept for the heatmap */
#define TOP_FILTER_MAX	64

/* One line of the listeners panel. */
struct top_line {
	struct listener_key key;
	char address[64];
	char owner[32];		/* "pid/comm", or "-" */
	__u32 queue, limit, peak;
	double accepts_per_s;
	double overflows_per_s;
	__u64 overflows;	/* since start: SYN time + ACK time */
	__u64 accepted;		/* since start */
	__u64 wait_p50_ns, wait_p99_ns;	/* accept wait since start; 0: none */
};

enum top_sort {
	TOP_SORT_OVERFLOWS,	/* the default: trouble first */
	TOP_SORT_ACCEPTS,
	TOP_SORT_QUEUE,
	TOP_SORT_WAIT,
	TOP_SORT_ADDRESS,
	TOP_SORT_NR,
};

enum top_family { TOP_CONNECT, TOP_ACCEPT_WAIT, TOP_READ_WAIT, TOP_FAMILY_NR };

/* A family's latency over the last interval, from the report. */
struct top_latency {
	bool measured;		/* the family runs */
	__u64 count;
	double p50_us, p90_us, p99_us, max_us;
};

struct top_model {
	struct top_line *lines;	/* after the filter, sorted */
	size_t nlines;
	size_t nlisteners;	/* before the filter */
	enum top_sort sort;
	char filter[TOP_FILTER_MAX];	/* substring of address or owner; "" = all */
	struct top_latency latency[TOP_FAMILY_NR];
	/* heat[f][c][b]: samples of family f in interval c (a ring) and bin b */
	__u32 heat[TOP_FAMILY_NR][TOP_HEAT_COLS][TOP_HEAT_BINS];
	size_t heat_len, heat_next;
	double interval_s;
	/* private */
	struct listener_table *since_start;
	/* each namespace's TcpExtListenOverflows growth since start, from the
	 * reports' drops.namespaces: the cap of its SYN-time overflows */
	struct top_ns_overflows { __u32 netns; __u64 listen_overflows; } *ns;
	size_t nns;
	struct top_line *all;	/* every listener, before the filter */
	size_t cap;
};

extern const char *const top_family_names[TOP_FAMILY_NR];	/* "connect", ... */
extern const char *const top_sort_names[TOP_SORT_NR];

int topmodel__init(struct top_model *m);
void topmodel__free(struct top_model *m);
/* Folds one interval in: T is the tracer's listener table and REPORT its
 * JSON report (docs/json.md), both of an interval of SECS seconds. */
int topmodel__update(struct top_model *m, struct listener_table *t, struct json_object *report,
		     double secs);
/* Rebuilds the lines with the current filter and sort. */
int topmodel__view(struct top_model *m);
/* The heat bin of a latency in µs. */
int topmodel__heat_bin(double us);
/* Column C back from the newest (0 = newest) of family F, or NULL. */
const __u32 *topmodel__heat_column(const struct top_model *m, enum top_family f, size_t c);

#endif
