// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `nettune serve`: the tracer kept running, its aggregates served to
 * Prometheus (GET /metrics) and, with --textfile, written for
 * node_exporter's textfile collector. A scrape reads what the kernel has
 * aggregated since attach (tracer__collect with total set): it never
 * attaches, loads or waits. The tuner's rules run every interval and their
 * advice is exported; nothing is ever applied. Metrics: docs/metrics.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "cgroup.h"
#include "commands.h"
#include "httpserve.h"
#include "listeners.h"
#include "log.h"
#include "nswatch.h"
#include "optable.h"
#include "opts.h"
#include "promtext.h"
#include "selfmetrics.h"
#include "tracer.h"
#include "tunecollect.h"
#include "tuneevidence.h"
#include "tunetarget.h"

#ifndef NETTUNE_VERSION
#define NETTUNE_VERSION "unknown"
#endif

#define SERVE_DEFAULT_INTERVAL_MS	15000
#define ADVICE_MAX_LISTENERS		256

struct serve_opts {
	const char *listen;
	const char *textfile;
	unsigned int max_series;
};

struct serve {
	struct tracer t;
	struct serve_opts o;
	pthread_mutex_t lock;	/* the tracer, the writer and the advice */
	struct promtext *w;
	struct httpserve *http;
	struct tune_rec recs[TUNE_MAX_RECS];
	size_t nrecs;
};

/* What serve's setters write to; trace's setters (filters, -i, -d) take
 * the struct trace_parse at its start. */
struct serve_parse {
	struct trace_parse tp;
	struct serve_opts *so;
};

#define SP(v)	((struct serve_parse *)(v))

static int set_listen(void *v, const char *a)
{
	struct sockaddr_storage ss;
	socklen_t len;

	SP(v)->so->listen = a;
	return httpserve__parse_addr("--listen", a, &ss, &len);
}

static int set_textfile(void *v, const char *a)
{
	if (!*a) {
		warn("--textfile: empty path");
		return -EINVAL;
	}
	SP(v)->so->textfile = a;
	return 0;
}

static int set_max_series(void *v, const char *a)
{
	uint64_t n;
	int err = opts__u64("--max-series", a, 1, 1000000, &n);

	SP(v)->so->max_series = (unsigned int)n;
	return err;
}

static const struct optable_opt serve_own_opts[] = {
	{ "listen", 0, "ADDR:PORT", "where to serve (default " HTTPSERVE_DEFAULT_LISTEN ",\n"
				    "loopback; any other address only when given)",
	  set_listen, NULL },
	{ "textfile", 0, "PATH", "also write the metrics to PATH every interval,\n"
				 "atomically (write, then rename), for node_exporter's\n"
				 "textfile collector: for hosts that open no new port",
	  set_textfile, NULL },
	{ "interval", 'i', "SEC", "rewrite the textfile and rerun the tuner's rules\n"
				  "every SEC seconds (default 15); scrapes never wait",
	  trace_opts__set_interval, NULL },
	{ "duration", 'd', "SEC", "stop after SEC seconds (default: at SIGINT/SIGTERM)",
	  trace_opts__set_duration, NULL },
	{ "max-series", 0, "N", "label sets per metric before new ones fold into\n"
				"\"other\" (default 1000, docs/metrics.md)", set_max_series, NULL },
	{ 0 },
};

static const struct optable_opt *const serve_groups[] = {
	trace_filter_opts, serve_own_opts, trace_family_opts, NULL,
};

static const struct optable serve_table = { .cmd = "serve", .groups = serve_groups };

static void usage(FILE *out, struct serve_parse *p)
{
	fprintf(out,
"Usage: nettune serve [--listen ADDR:PORT] [--textfile PATH] [OPTIONS]\n"
"Keep the tracer running and serve what it measures to Prometheus: GET /metrics\n"
"(text format 0.0.4), GET /healthz. Advice only: nothing is ever applied.\n"
"Metrics, labels and their bounds: docs/metrics.md.\n\n");
	optable__print(&serve_table, p, out);
	fprintf(out, "\n"
"EXAMPLES\n"
"  nettune serve                                 every family, on 127.0.0.1:7941\n"
"  nettune serve --listen 10.0.0.5:7941          for a Prometheus on another host\n"
"  nettune serve --port 443 --probes accept,drops\n"
"  nettune serve --cgroup /kubepods.slice        every Kubernetes pod, no other socket\n"
"  nettune serve --textfile /var/lib/node_exporter/textfile/nettune.prom\n"
"  curl -s 127.0.0.1:7941/metrics | promtool check metrics\n");
}

/* 0, 1 after --help, or -errno after one line. */
static int parse(int argc, char **argv, struct serve *s)
{
	const char *names[TRACE_MAX_PROBES];
	struct serve_parse p = { .so = &s->o };
	int err;

	for (int i = 0; i < probe_table_len; i++)
		names[i] = probe_table[i]->name;
	trace_opts__begin(&p.tp, &s->t.opts, names, probe_table_len);
	s->o.listen = HTTPSERVE_DEFAULT_LISTEN;
	err = optable__parse(&serve_table, argc, argv, &p);
	if (err == OPTABLE_HELP) {
		usage(stdout, &p);
		return 1;
	}
	if (!err)
		err = trace_opts__finish(&p.tp);
	if (!err && !s->t.opts.interval_ms)
		s->t.opts.interval_ms = SERVE_DEFAULT_INTERVAL_MS;
	s->t.opts.reclaim = true;	/* weeks of uptime: docs/reclaim.md */
	return err;
}

/* The textfile's directory must take a file now, not at the first write. */
static int check_textfile_dir(const char *path)
{
	char *copy = strdup(path), *tmp = NULL;
	int fd = -1, err = 0;

	if (!copy || asprintf(&tmp, "%s/.nettune-check.XXXXXX", dirname(copy)) < 0) {
		free(copy);
		return -ENOMEM;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		warn("--textfile %s: cannot write in its directory: %s", path, strerror(errno));
	} else {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(copy);
	return err;
}

/* Labels of a listener: its address, namespace, owner's name (pids
 * churn; they are never labels) and its socket's cgroup v2 path ("" when
 * not known: no cgroup2 mount, or the cgroup is gone). A listener has one
 * cgroup, so the label adds no identities. */
struct listener_labels {
	char addr[64], netns[16];
	struct prom_label l[5];
};

static void listener_labels(const struct listener_row *r, struct listener_labels *ll,
			    const char *extra_name, const char *extra)
{
	const char *cg = cgroup__path(r->cgroup);

	listener__format(&r->key, ll->addr, sizeof(ll->addr));
	snprintf(ll->netns, sizeof(ll->netns), "%u", r->key.netns);
	ll->l[0] = (struct prom_label){ "listener", ll->addr };
	ll->l[1] = (struct prom_label){ "netns", ll->netns };
	ll->l[2] = (struct prom_label){ "comm", r->comm };
	ll->l[3] = (struct prom_label){ "cgroup", cg ? cg : "" };
	ll->l[4] = (struct prom_label){ extra_name, extra };
}

#define LISTENER_NID	4	/* listener, netns, comm, cgroup: the bounded identity */

/* One metric per listener from a field of its row: a __u64 counter, or a
 * __u32 gauge. */
static void listener_metric(struct promtext *w, struct listener_table *t, const char *name,
			    enum prom_type type, const char *help, size_t off)
{
	struct listener_labels ll;

	promtext__family(w, name, type, LISTENER_NID, help);
	for (size_t i = 0; i < listener_table__len(t); i++) {
		const struct listener_row *r = listener_table__at(t, i);
		const char *field = (const char *)r + off;

		listener_labels(r, &ll, NULL, NULL);
		if (type == PROM_COUNTER)
			promtext__counter(w, ll.l, LISTENER_NID, *(const __u64 *)field);
		else
			promtext__gauge(w, ll.l, LISTENER_NID, *(const __u32 *)field);
	}
}

#define ROW_OFF(field) offsetof(struct listener_row, field)

static void listener_metrics(struct promtext *w, struct listener_table *t)
{
	struct listener_labels ll;

	promtext__family(w, "nettune_listen_overflows_total", PROM_COUNTER, LISTENER_NID,
			 "Accept queue full, by listener and path: at the SYN or at the final ACK");
	for (size_t i = 0; i < listener_table__len(t); i++) {
		const struct listener_row *r = listener_table__at(t, i);

		listener_labels(r, &ll, "path", "syn");
		promtext__counter(w, ll.l, LISTENER_NID + 1, r->overflow_syn);
		ll.l[LISTENER_NID].value = "ack";
		promtext__counter(w, ll.l, LISTENER_NID + 1, r->overflow_ack);
	}
	listener_metric(w, t, "nettune_synack_retransmits_total", PROM_COUNTER,
			"SYN-ACK retransmits, by listener", ROW_OFF(synack_retrans));
	listener_metric(w, t, "nettune_listener_other_drops_total", PROM_COUNTER,
			"Other drops of packets for the listener socket", ROW_OFF(drops_other));
	listener_metric(w, t, "nettune_listener_queue_length", PROM_GAUGE,
			"Accept queue length when last read (sock_diag)", ROW_OFF(queue));
	listener_metric(w, t, "nettune_listener_backlog_limit", PROM_GAUGE,
			"Accept queue limit: the listen() backlog after the somaxconn clamp",
			ROW_OFF(limit));
	listener_metric(w, t, "nettune_listener_peak_queue_depth", PROM_GAUGE,
			"Largest accept queue seen at accept() since nettune started",
			ROW_OFF(peak_depth));
	promtext__family(w, "nettune_accept_wait_seconds", PROM_HISTOGRAM, LISTENER_NID,
			 "Accept-queue wait: handshake done to accept() returned, by listener");
	for (size_t i = 0; i < listener_table__len(t); i++) {
		const struct listener_row *r = listener_table__at(t, i);

		if (!r->wait.count)
			continue;
		listener_labels(r, &ll, NULL, NULL);
		promtext__sparse_hist(w, ll.l, LISTENER_NID, &r->wait);
	}
}

/* Frees the rows of exited processes, closed listeners and deleted
 * namespaces (tracer__reclaim), so that weeks of churn do not fill the
 * tables. */
static void reclaim(struct serve *s)
{
	pthread_mutex_lock(&s->lock);
	tracer__reclaim(&s->t);
	pthread_mutex_unlock(&s->lock);
}

/* Rows freed and kept, by family: reclaiming at work. */
static void reclaim_metrics(struct serve *s)
{
	struct tracer *t = &s->t;
	struct prom_label l = { "family", NULL };

	promtext__family(s->w, "nettune_rows_reclaimed_total", PROM_COUNTER, 1,
			 "Rows of exited processes, closed listeners and deleted namespaces "
			 "freed in the BPF tables, by family");
	for (int i = 0; i < t->n; i++)
		if (t->ops[i]->reclaim) {
			l.value = t->ops[i]->name;
			promtext__counter(s->w, &l, 1, t->reclaimed[i].freed);
		}
	promtext__family(s->w, "nettune_rows_retired", PROM_GAUGE, 1,
			 "Rows freed in the kernel whose counts serve keeps in its totals, "
			 "by family");
	for (int i = 0; i < t->n; i++)
		if (t->ops[i]->reclaim) {
			l.value = t->ops[i]->name;
			promtext__gauge(s->w, &l, 1, t->reclaimed[i].retired);
		}
}

/* Census reads that failed (docs/reclaim.md): while they last, nothing
 * the census could not see is taken for gone, so rows are kept. */
static void census_metrics(struct serve *s)
{
	const struct nswatch *census =
		s->t.listeners ? listener_table__census(s->t.listeners) : NULL;
	const struct nswatch_failures *f;
	struct prom_label l = { "read", NULL };

	if (!census)
		return;
	f = nswatch__failures(census);
	promtext__family(s->w, "nettune_census_read_failures_total", PROM_COUNTER, 1,
			 "Reads of the namespaces' listeners and counters that failed, by read");
	l.value = "find";
	promtext__counter(s->w, &l, 1, f->find);
	l.value = "denied";
	promtext__counter(s->w, &l, 1, f->denied);
	l.value = "counters";
	promtext__counter(s->w, &l, 1, f->counters);
	l.value = "listeners";
	promtext__counter(s->w, &l, 1, f->listeners);
}

static void advice_metrics(struct serve *s)
{
	static const char *const kinds[] = { "sysctl", "relisten", "advice" };

	promtext__family(s->w, "nettune_recommendation_info", PROM_GAUGE, 0,
			 "What the tuner's rules recommend now (never applied by serve)");
	for (size_t i = 0; i < s->nrecs; i++) {
		const struct tune_rec *r = &s->recs[i];
		struct prom_label l[] = {
			{ "id", r->id }, { "rule", r->rule }, { "setting", r->setting },
			{ "kind", kinds[r->kind < 3 ? r->kind : 2] }, { "current", r->current },
			{ "proposed", r->proposed },
		};

		promtext__gauge(s->w, l, 6, 1);
	}
}

static void build_info(struct promtext *w)
{
	struct prom_label l[] = { { "version", NETTUNE_VERSION },
				  { "libbpf", libbpf_version_string() } };

	promtext__family(w, "nettune_build_info", PROM_GAUGE, 0, "nettune's version, always 1");
	promtext__gauge(w, l, 2, 1);
}

/* One exposition of the current aggregates; the caller holds the lock.
 * The textfile leaves out process_*: node_exporter has its own. */
static char *render_locked(struct serve *s, bool with_process, size_t *len)
{
	struct tracer *t = &s->t;
	double secs;

	if (tracer__collect(t, true, &secs))
		return NULL;
	promtext__begin(s->w);
	for (int i = 0; i < t->n; i++)
		if (t->ops[i]->metrics)
			t->ops[i]->metrics(t->probes[i], s->w);
	listener_metrics(s->w, t->listeners);
	reclaim_metrics(s);
	census_metrics(s);
	advice_metrics(s);
	build_info(s->w);
	selfmetrics__bpf_progs(s->w);
	if (with_process)
		selfmetrics__process(s->w);
	return promtext__render(s->w, len);
}

/* GET /metrics, on libmicrohttpd's thread. */
static char *scrape(void *ctx, size_t *len)
{
	struct serve *s = ctx;
	char *body;

	pthread_mutex_lock(&s->lock);
	body = render_locked(s, true, len);
	pthread_mutex_unlock(&s->lock);
	return body;
}

/* Runs the tuner's rules on everything seen since attach; their advice is
 * exported until the next run. */
static void refresh_advice(struct serve *s, const struct tune_target *tt)
{
	struct tune_listener *ls = calloc(ADVICE_MAX_LISTENERS, sizeof(*ls));
	struct tune_evidence ev = { .netns = tt->ino, .pid_scoped = s->t.opts.npids > 0 };
	struct json_object *rep = NULL;
	size_t n = 0;
	double secs;

	pthread_mutex_lock(&s->lock);
	if (ls && !tracer__collect(&s->t, true, &secs))
		rep = tracer__json(&s->t, true, secs);
	if (rep && !tuneevidence__from_report(rep, &ev, ls, ADVICE_MAX_LISTENERS) &&
	    !tunecollect__namespace(tt->nsfd, tt->init_nsfd, &ev)) {
		tunerules__evaluate(&ev, s->recs, TUNE_MAX_RECS, &n);	/* -ENOSPC: the first 64 */
		s->nrecs = n;
	}
	pthread_mutex_unlock(&s->lock);
	json_object_put(rep);
	free(ls);
}

/* Written next to PATH and renamed over it: the collector never reads
 * half a file, and ignores the temporary (not *.prom). */
static int write_textfile(struct serve *s)
{
	char *body, *tmp = NULL;
	size_t len = 0;
	int fd = -1, err = 0;

	pthread_mutex_lock(&s->lock);
	body = render_locked(s, false, &len);
	pthread_mutex_unlock(&s->lock);
	if (!body || asprintf(&tmp, "%s.XXXXXX", s->o.textfile) < 0) {
		free(body);
		return -ENOMEM;
	}
	fd = mkstemp(tmp);
	if (fd < 0 || write(fd, body, len) != (ssize_t)len || fchmod(fd, 0644) || fsync(fd))
		err = -errno;
	if (fd >= 0 && close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, s->o.textfile))
		err = -errno;
	if (err) {
		warn("--textfile %s: cannot write it: %s", s->o.textfile, strerror(-err));
		if (fd >= 0)
			unlink(tmp);
	}
	free(tmp);
	free(body);
	return err;
}

/* Every interval: reclaiming, the advice, then the textfile. Until -d or
 * a signal. */
static void run(struct serve *s, const struct tune_target *tt)
{
	struct timespec next = s->t.start, end = s->t.start, wake;
	bool last;

	tracer__add_ms(&end, s->t.opts.duration_ms ? s->t.opts.duration_ms :
						     86400ULL * 365 * 1000);
	if (s->o.textfile)
		write_textfile(s);
	do {
		tracer__add_ms(&next, s->t.opts.interval_ms);
		last = tracer__seconds_between(&end, &next) >= 0;
		wake = last ? end : next;
		if (!tracer__sleep_until(&s->t, &wake))
			break;	/* SIGINT/SIGTERM */
		reclaim(s);
		if (tt)
			refresh_advice(s, tt);
		if (s->o.textfile)
			write_textfile(s);
	} while (!last);
}

/* libmicrohttpd's threads must not take SIGINT/SIGTERM: the main thread's
 * sleep is what a signal has to interrupt. */
static int start_http(struct serve *s)
{
	sigset_t block, old;
	int err;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = httpserve__start(s->http, scrape, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

/* Bad input is found before anything is attached: the textfile's
 * directory, then the address (bound now, so a port in use is exit 2). */
static int setup(struct serve *s)
{
	int err = s->o.textfile ? check_textfile_dir(s->o.textfile) : 0;

	if (!err)
		err = httpserve__bind(s->o.listen, &s->http);
	if (err)
		return err == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
	s->w = promtext__new(s->o.max_series);
	if (!s->w)
		return EXIT_RUNTIME;
	return tracer__start(&s->t);
}

int cmd_serve(int argc, char **argv)
{
	struct serve s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct tune_target_opts to = {};
	struct tune_target tt = { .nsfd = -1, .init_nsfd = -1 };
	bool have_tt;
	int rc = parse(argc, argv, &s);

	if (rc == 1)
		return 0;
	if (rc)
		return EXIT_USAGE;
	if (s.t.opts.verbose)
		log__init("nettune", LOG_DEBUG);
	rc = setup(&s);
	if (rc) {
		httpserve__free(s.http);
		promtext__free(s.w);
		return rc;
	}
	to.netns = s.t.opts.netns_arg;
	to.pid = s.t.opts.npids == 1 ? (int)s.t.opts.pids[0] : 0;
	have_tt = !tunetarget__open(&to, &tt);
	if (!have_tt)
		warn("serve: no advice: the tuner's namespace cannot be opened");
	rc = start_http(&s) ? EXIT_RUNTIME : 0;
	if (!rc)
		run(&s, have_tt ? &tt : NULL);
	httpserve__free(s.http);	/* no scrape runs past this */
	tracer__stop(&s.t);
	if (have_tt)
		tunetarget__close(&tt);
	promtext__free(s.w);
	info("stopped; nothing is left attached");
	return rc;
}
