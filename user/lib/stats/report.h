/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Rendering of latency histograms: the terminal view (bars, bounds in
 * human units, count and percentiles, within 100 columns) and the JSON
 * latency object every family shares (docs/json.md).
 */
#ifndef NETTUNE_LIB_REPORT_H
#define NETTUNE_LIB_REPORT_H

#include <stdio.h>
#include <json-c/json.h>
#include "hist.h"

#define REPORT_MAX_ROWS	20	/* histogram rows before buckets are merged */
#define REPORT_BAR_WIDTH	46

/* "count 200  p50 30.1 ms  p90 ...  max ..." on one line, no newline. */
void report__summary_line(FILE *out, const struct hist *h);
/* The summary line then one bar row per (merged) bucket range. */
void report__hist(FILE *out, const char *indent, const struct hist *h);
/* { count, p50_us, p90_us, p99_us, p999_us, max_us, mean_us, buckets } */
struct json_object *report__latency_json(const struct hist *h);
/* The same object without buckets, for rows that show only percentiles. */
struct json_object *report__summary_json(const struct hist_summary *s);
/* A number of microseconds from ns, printed with ns precision. */
struct json_object *report__us(__u64 ns);
/* Writes s padded with spaces to a display width (UTF-8 aware). */
/* "cgroup": its path on the cgroup2 mount and "cgroup_name": the name
 * derived from it (docs/containers.md), added to O; both null when the id
 * is 0 or no longer names a cgroup. */
void report__cgroup_json(struct json_object *o, __u64 cgroup);
/* The cgroup's name as the terminal shows it, "-" when unknown. */
const char *report__cgroup_name(__u64 cgroup, char *buf, size_t len);
void report__pad(FILE *out, const char *s, int width, int right_align);

#endif
