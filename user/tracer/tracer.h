/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The tracer every measuring subcommand shares (trace, tune, serve): the
 * attached probe families, the listener table they fill, and the slow-event
 * log. One collection path: a report, a tune window and a scrape all read
 * the same aggregates through tracer__collect().
 */
#ifndef NETTUNE_TRACER_H
#define NETTUNE_TRACER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <linux/types.h>
#include <json-c/json.h>
#include "probe.h"
#include "snapshot.h"
#include "trace_opts.h"

struct slowlog;
struct shared_hooks;
struct liveness;

struct tracer {
	struct trace_opts opts;		/* set by the caller before tracer__start */
	struct probe *probes[TRACE_MAX_PROBES];
	const struct probe_ops *ops[TRACE_MAX_PROBES];
	int n;
	struct shared_hooks *hooks;	/* programs several families share */
	struct listener_table *listeners;
	struct slowlog *slow;	/* --min-us, else NULL */
	struct timespec start, last;
	/* --cgroup paths found gone at the last look (one warning each) */
	bool cgroup_gone[FILTER_MAX_CGROUPS];
	pthread_mutex_t cgroup_lock;	/* opts.cgroups: serve's scrapes are another thread */
	/* Reclaiming (tracer__reclaim): what still exists, and each family's
	 * rows freed and retired so far. */
	struct liveness *live;
	struct reclaim_stats reclaimed[TRACE_MAX_PROBES];
	int reclaim_err[TRACE_MAX_PROBES];	/* each family's last error, said once */
};

/* Installs the SIGINT/SIGTERM handlers, attaches the families of t->opts
 * and starts the slow-event log. Returns an exit code: 0, 2 for bad targets
 * (the probe said why), 1 for failures; nothing stays attached on failure. */
int tracer__start(struct tracer *t);
/* Detaches everything; safe after a failed start. */
void tracer__stop(struct tracer *t);
/* SIGINT or SIGTERM arrived. */
bool tracer__stopping(void);
/* Reads every family's maps and rebuilds the listener table: since attach
 * (total) or since the previous collect. *secs is the span covered. */
int tracer__collect(struct tracer *t, bool total, double *secs);
/* For agents that run for weeks (serve): a collect since attach, then the
 * rows whose owner is gone (exited process, closed listener, deleted
 * namespace) freed in the kernel, their counts kept in the totals
 * (user/lib/bpfread/snapshot.h). Off when NETTUNE_TEST_NO_RECLAIM is set
 * (test-only: proves the soak test needs it). 0 or -errno. */
int tracer__reclaim(struct tracer *t);
/* The report of the last collect as JSON (docs/json.md). */
struct json_object *tracer__json(struct tracer *t, bool total, double secs);
/* The same report written to out as one line, the text of tracer__json's
 * with JSON_C_TO_STRING_PLAIN, made part by part as it is written. */
void tracer__print_json(struct tracer *t, bool total, double secs, FILE *out);
/* Events the families could not record, cumulative. */
__u64 tracer__lost(struct tracer *t);
/* Sleeps until deadline (CLOCK_MONOTONIC) or a signal, printing slow events
 * meanwhile; false once stopping. */
bool tracer__sleep_until(struct tracer *t, const struct timespec *deadline);
void tracer__add_ms(struct timespec *ts, __u64 ms);
double tracer__seconds_between(const struct timespec *a, const struct timespec *b);
void tracer__iso_time(char *buf, size_t len);

#endif
