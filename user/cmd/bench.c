// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `nettune bench`: a closed loop in a private network namespace that
 * nettune creates and that dies with it. The reference server (refserver)
 * runs a scenario's configuration, loadgen drives it, nettune traces it,
 * nettune tune applies its recommendations inside the namespace (relisten
 * included), and the same load runs again: before/after, from loadgen's own
 * numbers and the namespace's counters. `grid` runs the 2x2 experiment
 * {small, raised backlog} x {one accept loop, SO_REUSEPORT workers} instead.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "benchproc.h"
#include "benchreport.h"
#include "hist.h"
#include "commands.h"
#include "log.h"
#include "netstat.h"
#include "optable.h"
#include "opts.h"
#include "tuneout.h"

#define PORT		"8080"
#define LOAD_TIMEOUT_S	4	/* loadgen --timeout: covers two SYN retransmits */

struct bench_server {
	int backlog, workers, accept_delay_us;
	bool reuseport;
};

struct bench_scenario {
	const char *name, *what;
	struct bench_server server;
	int rate;		/* loadgen connections/s (http-close) */
	double seconds;		/* ... for this long */
	bool reuseport_advice;	/* restart the server as the reuseport advice says */
	bool grid;
};

static const struct bench_scenario scenarios[] = {
	{ "backlog", "a small backlog (16) and a slow accept loop (5 ms per accept) under a "
	  "burst of 300 connections/s for 2 s", { 16, 1, 5000, false }, 300, 2.0, false, false },
	{ "reuseport", "one listener whose single accept loop (5 ms per accept) is saturated "
	  "by 300 connections/s for 3 s", { 4096, 1, 5000, false }, 300, 3.0, true, false },
	{ "grid", "{backlog 16, 1024} x {one accept loop, 2 SO_REUSEPORT workers}, 5 ms per "
	  "accept, 400 connections/s for 1.5 s", { 16, 1, 5000, false }, 400, 1.5, false, true },
};

struct bench_opts {
	const struct bench_scenario *sc;
	const char *tools;
	bool json;
};

struct bench {
	const struct bench_opts *o;
	int nsfd;
	char nspath[64];		/* /proc/<nettune>/fd/<nsfd>: how children name it */
	char self[PATH_MAX];		/* this nettune binary */
	char refserver[PATH_MAX + 16], loadgen[PATH_MAX + 16];
	char state_dir[64];		/* the tune journal, deleted at the end */
	struct benchproc server;
	struct bench_server cur;	/* how the server runs now */
	int step, nsteps;
	struct json_object *phases;	/* --json: one object per run */
};

#define BO(v)	((struct bench_opts *)(v))
#define NSCENARIOS	(sizeof(scenarios) / sizeof(scenarios[0]))

static int set_scenario(void *v, const char *a)
{
	for (size_t i = 0; i < NSCENARIOS; i++)
		if (!strcmp(scenarios[i].name, a))
			BO(v)->sc = &scenarios[i];
	if (!BO(v)->sc || strcmp(BO(v)->sc->name, a)) {
		warn("--scenario: no scenario '%s' (backlog, reuseport, grid)", a);
		return -EINVAL;
	}
	return 0;
}

static int set_json(void *v, const char *a)
{
	(void)a;
	BO(v)->json = true;
	return 0;
}

static int set_tools(void *v, const char *a) { BO(v)->tools = a; return 0; }

static void scenario_list(void *v, FILE *out)
{
	(void)v;
	fputc('\n', out);
	for (size_t i = 0; i < NSCENARIOS; i++) {
		fprintf(out, "         %-12s ", scenarios[i].name);
		tuneout__wrap(out, scenarios[i].what, 22, 90);
	}
}

static const struct optable_opt bench_opts_table[] = {
	{ "scenario", 0, "NAME", "(default: backlog)", set_scenario, scenario_list },
	{ "json", 0, NULL, "one JSON object on stdout (docs/tuning.md)", set_json, NULL },
	{ "tools", 0, "DIR", "where refserver and loadgen are (default: next to\nnettune)",
	  set_tools, NULL },
	{ 0 },
};

static const struct optable_opt *const bench_groups[] = { bench_opts_table, NULL };
static const struct optable bench_table = { .cmd = "bench", .groups = bench_groups };

static void usage(FILE *out, struct bench_opts *o)
{
	fprintf(out, "Usage: nettune bench [--scenario NAME] [--json] [--tools DIR]\n\n"
		"Runs the reference server and the load generator in a private network\n"
		"namespace, traces, tunes and reruns, and prints a before/after table.\n"
		"The host is untouched.\n\n");
	optable__print(&bench_table, o, out);
	fprintf(out, "\n"
		"EXAMPLES\n"
		"  nettune bench                      overflows before, none after the relisten\n"
		"  nettune bench --scenario grid      the backlog and SO_REUSEPORT effects apart\n"
		"  nettune bench --scenario reuseport --json\n");
}

/* 0, 1 for --help (printed), or -errno after one line. */
static int parse(int argc, char **argv, struct bench_opts *o)
{
	int err = optable__parse(&bench_table, argc, argv, o);

	if (err == OPTABLE_HELP) {
		usage(stdout, o);
		return 1;
	}
	if (!err && !o->sc)
		o->sc = &scenarios[0];	/* backlog */
	return err;
}

static void progress(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nettune: bench [%d/%d] ", b->step, b->nsteps);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- the server ----------------------------------------------------------- */

static int start_server(struct bench *b, const struct bench_server *s)
{
	char backlog[16], workers[16], delay[16];
	char *argv[] = { b->refserver, "--addr", "127.0.0.1", "--port", PORT, "--backlog", backlog,
			 "-w", workers, "--accept-delay-us", delay, s->reuseport ? "--reuseport" :
			 NULL, NULL };
	int err;

	snprintf(backlog, sizeof(backlog), "%d", s->backlog);
	snprintf(workers, sizeof(workers), "%d", s->workers);
	snprintf(delay, sizeof(delay), "%d", s->accept_delay_us);
	err = benchproc__spawn(b->nsfd, argv, &b->server);
	if (!err)
		err = benchproc__wait_for(&b->server, "listening on", 10000);
	if (err) {
		warn("bench: refserver did not start: %s%s%s", strerror(-err),
		     b->server.err ? ": " : "", b->server.err ? b->server.err : "");
		benchproc__free(&b->server);
		return err;
	}
	b->cur = *s;
	return 0;
}

static void stop_server(struct bench *b)
{
	benchproc__stop(&b->server, 8000);	/* refserver's --grace is 5 s */
	benchproc__free(&b->server);
}

/* --- one run: an observer (nettune trace or tune) while loadgen drives --- */

static int counters(struct bench *b, __u64 *overflows, __u64 *drops)
{
	struct netstat ns = {};
	int err = netstat__read(b->nsfd, &ns);

	*overflows = netstat__get(&ns, "TcpExt", "ListenOverflows", NULL);
	*drops = netstat__get(&ns, "TcpExt", "ListenDrops", NULL);
	netstat__free(&ns);
	return err;
}

/* A child's stdout as one JSON object (loadgen prints it over several
 * lines), else its last line (nettune trace prints one object per line). */
static struct json_object *last_json(const struct benchproc *p)
{
	struct json_object *o;
	const char *s = p->out, *nl;

	if (!s)
		return NULL;
	o = json_tokener_parse(s);
	if (o)
		return o;
	while ((nl = strchr(s, '\n')) && nl[1])
		s = nl + 1;
	return json_tokener_parse(s);
}

static int run_load(struct bench *b, struct json_object **lg)
{
	char rate[16], secs[16], timeout[16];
	char *argv[] = { b->loadgen, "-m", "http-close", "--addr", "127.0.0.1", "--port", PORT,
			 "-r", rate, "-c", "4000", "-d", secs, "--timeout", timeout, "--json",
			 NULL };
	const struct bench_scenario *sc = b->o->sc;
	struct benchproc p;
	int rc;

	snprintf(rate, sizeof(rate), "%d", sc->rate);
	snprintf(secs, sizeof(secs), "%.1f", sc->seconds);
	snprintf(timeout, sizeof(timeout), "%d", LOAD_TIMEOUT_S);
	rc = benchproc__spawn(b->nsfd, argv, &p);
	if (!rc)
		rc = benchproc__wait(&p, (int)(sc->seconds * 1000) + LOAD_TIMEOUT_S * 1000 + 20000);
	*lg = rc ? NULL : last_json(&p);
	if (!*lg)
		warn("bench: loadgen failed (%d): %s", rc, p.err ? p.err : "");
	benchproc__free(&p);
	return *lg ? 0 : -EIO;
}

/* Runs OBSERVER (a nettune command line), waits until it attached, drives
 * the load, and returns the observer's JSON and loadgen's. With STOP the
 * observer is stopped by SIGINT once the load is over (trace); otherwise
 * it ends by its own -d (tune, which applies nothing when interrupted). */
static int observed_load(struct bench *b, char **observer, bool stop, struct bench_metrics *m,
			 struct json_object **obs, struct json_object **lg)
{
	__u64 o0 = 0, d0 = 0, o1 = 0, d1 = 0;
	struct benchproc p;
	int rc, err = benchproc__spawn(-1, observer, &p);

	*obs = *lg = NULL;
	if (!err)
		err = benchproc__wait_for(&p, "attached", 60000);
	if (!err)
		err = counters(b, &o0, &d0) ?: run_load(b, lg);
	if (!err) {
		usleep(300000);	/* the last connections leave the queues */
		err = counters(b, &o1, &d1);
	}
	if (!err && stop)
		kill(p.pid, SIGINT);
	if (!err) {
		rc = benchproc__wait(&p, 60000);
		/* tune exits 1 when a change failed: its JSON says which */
		if (rc != 0 && (stop || rc != 1))
			err = -EIO;
	}
	if (err)
		warn("bench: %s failed: %s", observer[1], p.err ? p.err : strerror(-err));
	*obs = err ? NULL : last_json(&p);
	if (!err && (!*obs || benchreport__loadgen(*lg, m)))
		err = -EIO;
	if (!err) {
		benchreport__trace(json_object_object_get(*obs, "observation") ?: *obs, m);
		benchreport__counters(o1 - o0, d1 - d0, m);
	}
	benchproc__free(&p);
	return err;
}

/* --- runs ----------------------------------------------------------------- */

static struct json_object *server_json(const struct bench_server *s, int pid)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(pid));

	json_object_object_add(o, "backlog", json_object_new_int(s->backlog));
	json_object_object_add(o, "workers", json_object_new_int(s->workers));
	json_object_object_add(o, "reuseport", json_object_new_boolean(s->reuseport));
	json_object_object_add(o, "accept_delay_us", json_object_new_int(s->accept_delay_us));
	return o;
}

/* Keeps a run for --json; takes over LG and RECS. */
static void keep_run(struct bench *b, const char *name, const struct bench_metrics *m,
		     struct json_object *lg, struct json_object *recs)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "server", server_json(&b->cur, (int)b->server.pid));
	json_object_object_add(o, "metrics", benchreport__json(m));
	json_object_object_add(o, "loadgen", lg);
	if (recs)
		json_object_object_add(o, "recommendations", recs);
	json_object_array_add(b->phases, o);
}

static int measure(struct bench *b, const char *name, struct bench_metrics *m)
{
	char dur[16];
	char *argv[] = { b->self, "trace", "--json", "--netns", b->nspath, "--probes",
			 "connect,accept,drops", "-d", dur, NULL };
	struct json_object *obs, *lg;
	char p99[32];
	int err;

	/* Ended by SIGINT when the load is over; -d is only a safety net. */
	snprintf(dur, sizeof(dur), "%d", (int)b->o->sc->seconds + LOAD_TIMEOUT_S + 120);
	b->step++;
	progress(b, "%s: refserver backlog %d, %d worker%s%s; loadgen %d connections/s for %.1f s",
		 name, b->cur.backlog, b->cur.workers, b->cur.workers == 1 ? "" : "s",
		 b->cur.reuseport ? " with SO_REUSEPORT" : "", b->o->sc->rate, b->o->sc->seconds);
	err = observed_load(b, argv, true, m, &obs, &lg);
	if (!err) {
		hist__fmt_ns(p99, sizeof(p99), (__u64)(m->connect_p99_us * 1000));
		progress(b, "%s: %.1f 2xx/s, %llu errors, %llu listen overflows, connect p99 %s",
			 name, m->ok_per_s, (unsigned long long)m->errors,
			 (unsigned long long)m->overflows, p99);
		keep_run(b, name, m, json_object_get(lg), NULL);
	}
	json_object_put(obs);
	json_object_put(lg);
	return err;
}

/* A string member of O (or of its member A), "" when absent. */
static const char *str_of(struct json_object *o, const char *a, const char *k)
{
	struct json_object *v = o;

	if (a && !json_object_object_get_ex(o, a, &v))
		return "";
	v = json_object_object_get(v, k);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* The one piece of advice bench can apply itself, because it owns the
 * server's configuration: SO_REUSEPORT workers, by restarting refserver,
 * with the backlog the tuner gave the live listener. */
static int apply_advice(struct bench *b, struct json_object *recs)
{
	struct bench_server s = b->cur;
	bool restart = false;

	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		struct json_object *r = json_object_array_get_idx(recs, i);
		const char *rule = str_of(r, NULL, "rule");
		int v = json_object_get_int(json_object_object_get(r, "proposed_value"));

		if (!strcmp(rule, "reuseport") && v > 1) {
			s.reuseport = restart = true;
			s.workers = v;
		}
		/* a relisten applied: the live limit is what it read back */
		if (!strcmp(rule, "listen-backlog") &&
		    !strcmp(str_of(r, "outcome", "status"), "applied"))
			b->cur.backlog = s.backlog = atoi(str_of(r, "outcome", "value"));
	}
	/* Only where the scenario is about it: elsewhere a restart would mix
	 * the accept loops' effect into the backlog's (what grid separates). */
	if (!restart || !b->o->sc->reuseport_advice)
		return 0;
	progress(b, "tune: restarting refserver with %d SO_REUSEPORT workers, backlog %d",
		 s.workers, s.backlog);
	stop_server(b);
	return start_server(b, &s);
}

static void print_recs(struct bench *b, struct json_object *recs)
{
	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		struct json_object *r = json_object_array_get_idx(recs, i);

		progress(b, "tune: %s %s: %s -> %s (%s)", str_of(r, NULL, "kind"),
			 str_of(r, NULL, "setting"), str_of(r, NULL, "current"),
			 str_of(r, NULL, "proposed"), str_of(r, "outcome", "status"));
	}
}

static int tune(struct bench *b)
{
	char dur[16];
	char *argv[] = { b->self, "tune", "--json", "--netns", b->nspath, "-d", dur, "--apply",
			 "--relisten", "--state-dir", b->state_dir, NULL };
	struct json_object *obs, *lg, *recs = NULL;
	struct bench_metrics m = {};
	int err;

	snprintf(dur, sizeof(dur), "%d", (int)b->o->sc->seconds + LOAD_TIMEOUT_S);
	b->step++;
	progress(b, "tune: nettune tune --apply --relisten under the same load");
	err = observed_load(b, argv, false, &m, &obs, &lg);
	if (!err && (!json_object_object_get_ex(obs, "recommendations", &recs) ||
		     !json_object_is_type(recs, json_type_array)))
		err = -EIO;
	if (!err) {
		print_recs(b, recs);
		keep_run(b, "tune", &m, json_object_get(lg), json_object_get(recs));
		err = apply_advice(b, recs);
	}
	json_object_put(obs);
	json_object_put(lg);
	return err;
}

/* --- scenarios -------------------------------------------------------------- */

static void title(FILE *out, const struct bench_scenario *sc)
{
	char t[512];

	snprintf(t, sizeof(t), "nettune bench: scenario %s: %s", sc->name, sc->what);
	tuneout__wrap(out, t, 0, 100);
	fputc('\n', out);
}

static void verdict(FILE *out, const struct bench_metrics *a, const struct bench_metrics *z)
{
	char c0[32], c1[32], w0[32], w1[32], t[512];

	hist__fmt_ns(c0, sizeof(c0), (__u64)(a->connect_p99_us * 1000));
	hist__fmt_ns(c1, sizeof(c1), (__u64)(z->connect_p99_us * 1000));
	hist__fmt_ns(w0, sizeof(w0), (__u64)(a->response_p99_us * 1000));
	hist__fmt_ns(w1, sizeof(w1), (__u64)(z->response_p99_us * 1000));
	snprintf(t, sizeof(t), "before -> after: listen overflows %llu -> %llu; connect p99 %s -> "
		 "%s; response p99 %s -> %s; throughput %.1f -> %.1f 2xx/s; errors %llu -> %llu",
		 (unsigned long long)a->overflows, (unsigned long long)z->overflows, c0, c1, w0, w1,
		 a->ok_per_s, z->ok_per_s, (unsigned long long)a->errors,
		 (unsigned long long)z->errors);
	fputc('\n', out);
	tuneout__wrap(out, t, 0, 100);
}

static int run_tune(struct bench *b, FILE *out)
{
	static const char *const names[] = { "before", "after" };
	struct bench_metrics m[2] = {};
	int err;

	b->nsteps = 3;
	err = start_server(b, &b->o->sc->server) ?: measure(b, "before", &m[0]) ?: tune(b) ?:
	      measure(b, "after", &m[1]);
	if (err || b->o->json)
		return err;
	title(out, b->o->sc);
	benchreport__table(out, names, m, 2);
	verdict(out, &m[0], &m[1]);
	return 0;
}

static int run_grid(struct bench *b, FILE *out)
{
	static const char *const names[] = { "16, 1 loop", "1024, 1 loop", "16, 2 reuseport",
					     "1024, 2 reuseport" };	/* the 2x2, in order */
	struct bench_metrics m[4] = {};
	int err = 0;

	b->nsteps = 4;
	for (int i = 0; i < 4 && !err; i++) {
		struct bench_server s = b->o->sc->server;

		s.backlog = i % 2 ? 1024 : 16;
		s.workers = i < 2 ? 1 : 2;
		s.reuseport = i >= 2;
		err = start_server(b, &s) ?: measure(b, names[i], &m[i]);
		stop_server(b);
	}
	if (err || b->o->json)
		return err;
	title(out, b->o->sc);
	benchreport__table(out, names, m, 4);
	fprintf(out, "\nThe backlog decides the overflows (and the 1 s SYN retransmits in connect "
		"p99);\nthe accept loops decide the accept wait (and the response p99).\n");
	return 0;
}

/* --- setup ------------------------------------------------------------------ */

static int find_tools(struct bench *b)
{
	char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", b->self, sizeof(b->self) - 1);

	if (n <= 0)
		return -errno;
	b->self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", b->o->tools ? b->o->tools : b->self);
	if (!b->o->tools)
		dirname(dir);
	snprintf(b->refserver, sizeof(b->refserver), "%s/refserver", dir);
	snprintf(b->loadgen, sizeof(b->loadgen), "%s/loadgen", dir);
	if (access(b->refserver, X_OK) || access(b->loadgen, X_OK)) {
		warn("bench: refserver and loadgen are not in %s (build them with make, or give "
		     "--tools DIR)", dir);
		return -ENOENT;
	}
	return 0;
}

static int setup(struct bench *b)
{
	int err = find_tools(b);

	if (err)
		return err;
	snprintf(b->state_dir, sizeof(b->state_dir), "/tmp/nettune-bench-journal.XXXXXX");
	if (!mkdtemp(b->state_dir)) {
		b->state_dir[0] = '\0';
		warn("bench: cannot make a state dir in /tmp: %s", strerror(errno));
		return -errno;
	}
	b->nsfd = benchproc__netns();
	if (b->nsfd < 0) {
		warn("bench: cannot create a network namespace: %s%s", strerror(-b->nsfd),
		     b->nsfd == -EPERM ? " (run as root)" : "");
		return b->nsfd;
	}
	snprintf(b->nspath, sizeof(b->nspath), "/proc/%d/fd/%d", (int)getpid(), b->nsfd);
	b->phases = json_object_new_array();
	return 0;
}

/* The namespace goes with its last process and our fd; the journal of
 * changes made inside it has nothing left to restore. */
static void cleanup(struct bench *b)
{
	char path[128];

	stop_server(b);
	if (b->nsfd >= 0)
		close(b->nsfd);
	if (b->state_dir[0]) {
		snprintf(path, sizeof(path), "%s/journal.json", b->state_dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock", b->state_dir);
		unlink(path);
		rmdir(b->state_dir);
	}
	json_object_put(b->phases);
}

static void print_json(const struct bench *b)
{
	struct json_object *root = json_object_new_object();

	json_object_object_add(root, "type", json_object_new_string("bench"));
	json_object_object_add(root, "scenario", json_object_new_string(b->o->sc->name));
	json_object_object_add(root, "what", json_object_new_string(b->o->sc->what));
	json_object_object_add(root, "runs", json_object_get(b->phases));
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = {};
	struct bench b = { .o = &o, .nsfd = -1 };
	int rc = parse(argc, argv, &o);

	if (rc == 1)
		return 0;
	if (rc)
		return EXIT_USAGE;
	/* Our children report through pipes; a reader gone must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	rc = setup(&b);
	if (!rc)
		rc = o.sc->grid ? run_grid(&b, stdout) : run_tune(&b, stdout);
	if (!rc && o.json)
		print_json(&b);
	cleanup(&b);
	return rc == -ENOENT ? EXIT_USAGE : rc ? EXIT_RUNTIME : 0;
}
