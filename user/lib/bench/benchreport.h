/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What `nettune bench` compares between runs, taken from the independent
 * sources: loadgen's own JSON (throughput, errors, connect and response
 * p99), nettune trace's report (accept-wait p99), the namespace's counters
 * (listen overflows and drops). Pure: parsing and formatting only.
 */
#ifndef NETTUNE_LIB_BENCHREPORT_H
#define NETTUNE_LIB_BENCHREPORT_H

#include <stdio.h>
#include <json-c/json.h>
#include <linux/types.h>

struct bench_metrics {
	double seconds;			/* loadgen's duration_s */
	double ok_per_s;		/* 2xx responses per second */
	double connect_p99_us;		/* loadgen, from each operation's intended start */
	double response_p99_us;
	double accept_wait_p99_us;	/* nettune trace; < 0 when nothing was accepted */
	double overflows_per_s;
	__u64 ok;			/* 2xx responses */
	__u64 errors;			/* refused + reset + timeout + other */
	__u64 slow_connects;		/* connects of 0.9 s or more: a SYN retransmitted */
	__u64 overflows;		/* TcpExtListenOverflows over the run */
	__u64 listen_drops;		/* TcpExtListenDrops over the run */
};

/* Fills the loadgen half of M from loadgen's --json object (docs/loadgen.md).
 * -EINVAL if it is not one. */
int benchreport__loadgen(struct json_object *lg, struct bench_metrics *m);
/* The accept-wait p99 of a nettune trace report (docs/json.md). */
void benchreport__trace(struct json_object *report, struct bench_metrics *m);
/* Namespace counter deltas; the rate is over M->seconds. */
void benchreport__counters(__u64 overflows, __u64 listen_drops, struct bench_metrics *m);
/* A table, one column per run (at most 4), fitting 100 columns. */
void benchreport__table(FILE *out, const char *const *names, const struct bench_metrics *m,
			int n);
struct json_object *benchreport__json(const struct bench_metrics *m);

#endif
