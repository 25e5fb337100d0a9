// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* `nettune trace`: report every interval or at the end, as text or JSON.
 * The tracer itself (attach, collect, detach) is user/tracer/tracer.c. */
#include <stdio.h>
#include <time.h>
#include "commands.h"
#include "tracer.h"
#include "report.h"
#include "log.h"
#include "slowlog.h"
#include "opts.h"

static void report_text(struct tracer *t, bool total, double secs)
{
	char when[40];

	tracer__iso_time(when, sizeof(when));
	printf("=== %s %.1f s, %s ===\n", total ? "total" : "interval", secs, when);
	for (int i = 0; i < t->n; i++)
		t->ops[i]->print(t->probes[i], stdout);
	listener_table__print(t->listeners, stdout);
	printf("lost events: %llu\n", (unsigned long long)tracer__lost(t));
	if (t->slow)
		slowlog__print_lost(t->slow, stdout);
	putchar('\n');
}

static int report(struct tracer *t, bool total)
{
	double secs;
	int err = tracer__collect(t, total, &secs);

	if (err)
		return err;
	if (t->opts.json)
		tracer__print_json(t, total, secs, stdout);
	else
		report_text(t, total, secs);
	fflush(stdout);
	return 0;
}

static int run(struct tracer *t)
{
	struct timespec end = t->start, next = t->start, wake;
	__u64 step = t->opts.interval_ms;
	bool final;
	int err = 0;

	tracer__add_ms(&end, t->opts.duration_ms ? t->opts.duration_ms : 86400ULL * 365 * 1000);
	do {
		if (step)
			tracer__add_ms(&next, step);
		final = !step || tracer__seconds_between(&end, &next) >= 0;
		wake = final ? end : next;
		if (!tracer__sleep_until(t, &wake))
			break;	/* SIGINT/SIGTERM */
		if (!final)
			err = report(t, false);
	} while (!final && !err);
	/* The part of an interval left at the end, however short: its events
	 * are in the total, and the intervals must add up to it (a stop 50 ms
	 * after a report used to leave them out). */
	if (!err && step) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (tracer__seconds_between(&t->last, &now) > 0)
			err = report(t, false);
	}
	return err ? err : report(t, true);
}

int trace__observe(const struct trace_opts *o, struct json_object **out)
{
	struct tracer t = { .opts = *o };
	struct timespec end;
	double secs;
	int rc = tracer__start(&t);

	*out = NULL;
	if (rc)
		return rc;
	end = t.start;
	tracer__add_ms(&end, o->duration_ms ? o->duration_ms : 10000);
	tracer__sleep_until(&t, &end);
	if (tracer__stopping())
		info("interrupted: using what was observed so far");
	rc = tracer__collect(&t, true, &secs) ? EXIT_RUNTIME : 0;
	if (!rc)
		*out = tracer__json(&t, true, secs);
	tracer__stop(&t);
	return rc;
}

int cmd_trace(int argc, char **argv)
{
	const char *names[TRACE_MAX_PROBES];
	struct tracer t = {};
	int err;

	for (int i = 0; i < probe_table_len; i++)
		names[i] = probe_table[i]->name;
	err = trace_opts__parse(argc, argv, &t.opts, names, probe_table_len);
	if (err == TRACE_PARSE_HELP) {
		trace_opts__usage(stdout, names, probe_table_len);
		return 0;
	}
	if (err)
		return EXIT_USAGE;
	if (t.opts.verbose)
		log__init("nettune", LOG_DEBUG);
	err = tracer__start(&t);
	if (err)
		return err;
	err = tracer__stopping() ? report(&t, true) : run(&t);
	tracer__stop(&t);
	return err ? EXIT_RUNTIME : 0;
}
