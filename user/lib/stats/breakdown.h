/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A latency breakdown: rows keyed by an id (a pid, a port, a listener),
 * each with a label, a histogram and a few counters. Probes fill one per
 * dimension (by_pid, by_port) from their per-key kernel rows.
 */
#ifndef NETTUNE_LIB_BREAKDOWN_H
#define NETTUNE_LIB_BREAKDOWN_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "sparsehist.h"

#define BREAKDOWN_COUNTERS	4

struct breakdown_row {
	__u64 id;
	__u64 group;	/* rows with one id apart (a port in two namespaces) */
	char label[48];
	__u64 counters[BREAKDOWN_COUNTERS];
	/* Sparse: a breakdown by port can have thousands of rows, most with
	 * a few buckets. Owned by the breakdown. */
	struct sparse_hist h;
};

struct breakdown;

/* counter_names count events (failed connects): they rank rows with the
 * histogram's count. */
struct breakdown *breakdown__new(const char *id_name, const char *const *counter_names);
/* The same for counters that are amounts (bytes): shown, not ranked. */
struct breakdown *breakdown__new_amounts(const char *id_name, const char *const *counter_names);
void breakdown__free(struct breakdown *b);
void breakdown__reset(struct breakdown *b);
/* Rows of a breakdown by process are kept apart by cgroup (the group is
 * a cgroup v2 id, user/lib/sys/cgroup.h): the table and JSON show its path
 * and name. */
void breakdown__group_by_cgroup(struct breakdown *b);
/* Adds h and counters (may be NULL) to the row of id, creating it. */
int breakdown__add(struct breakdown *b, __u64 id, const char *label,
		   const struct hist *h, const __u64 *counters);
/* The same, rows with one id kept apart by group (a port by namespace):
 * each keeps its own label. */
int breakdown__add_in(struct breakdown *b, __u64 group, __u64 id, const char *label,
		      const struct hist *h, const __u64 *counters);
/* Rows sorted by count (and counters of events), largest first. */
const struct breakdown_row *breakdown__row(struct breakdown *b, size_t i);
/* A table: id, label, count, counters, p50, p99, max; at most max_rows. */
void breakdown__print(struct breakdown *b, FILE *out, const char *title, size_t max_rows);
/* [{ <id_name>: id, "label": ..., counters..., "latency": {summary} }],
 * with "cgroup" (path, null if unknown) and "cgroup_name" when grouped by
 * cgroup. */
/* to_print: the array is only printed, with JSON_C_TO_STRING_PLAIN, before
 * b changes (trace --json): its rows are then made one at a time as it is
 * written (4,096 rows' json-c objects took ~8 MiB at once); it looks empty
 * to anything else. */
struct json_object *breakdown__json(struct breakdown *b, const char *label_name, bool to_print);

#endif
