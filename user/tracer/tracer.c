// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The tracer that trace, tune and serve share: attach the selected probe
 * families, read their maps into reports and the listener table, and
 * detach everything on exit, SIGINT and SIGTERM. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "commands.h"
#include "tracer.h"
#include "report.h"
#include "tracefs.h"
#include "log.h"
#include "slowlog.h"
#include "shared_hooks.h"
#include "opts.h"
#include "probe_util.h"
#include "cgroup.h"
#include "liveness.h"
#include "listeners.h"
#include "nswatch.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

bool tracer__stopping(void)
{
	return exiting;
}

double tracer__seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void detach_all(struct tracer *t)
{
	/* The shared programs first: they write into the families' maps. */
	shared_hooks__detach(t->hooks);
	t->hooks = NULL;
	for (int i = 0; i < t->n; i++)
		t->ops[i]->detach(t->probes[i]);
	t->n = 0;
}

static int check_tracepoints(const struct probe_ops *ops)
{
	for (const char *const *tp = ops->tracepoints; tp && *tp; tp++) {
		if (!tracefs__has(*tp)) {
			warn("%s: tracepoint %s does not exist on this kernel (see nettune doctor)",
			     ops->name, *tp);
			return -ENOENT;
		}
	}
	return 0;
}

/* Bad targets (no such tracepoint, symbol or process; not a Go binary) are
 * the user's input: the probe said why in one line, and the exit code is 2,
 * as for bad flags. */
static bool is_usage_error(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ESRCH || err == -ENOEXEC ||
	       err == -EPROTONOSUPPORT || err == -EINVAL;
}

static int start_slowlog(struct tracer *t)
{
	int err = 0;

	if (!t->opts.min_us)
		return 0;
	t->slow = slowlog__new(t->opts.json);
	if (!t->slow)
		return -ENOMEM;
	for (int i = 0; i < t->n && !err; i++) {
		int ring, lost;

		if (t->ops[i]->event_maps && !t->ops[i]->event_maps(t->probes[i], &ring, &lost))
			err = slowlog__add(t->slow, ring, lost);
	}
	return err;
}

/* Loads in flight at once: each parses the kernel's BTF (several MiB), so
 * running all at once raised the peak RSS past 32 MiB; two keep most of
 * the startup gain (docs/benchmarks.md). */
#define ATTACH_PARALLEL	2

struct attach_job {
	sem_t *gate;
	const struct probe_ops *ops;
	const struct trace_opts *opts;
	struct probe *probe;
	int err;
	pthread_t thread;
	bool started;
};

static void *attach_thread(void *arg)
{
	struct attach_job *j = arg;

	sem_wait(j->gate);
	j->err = check_tracepoints(j->ops);
	if (!j->err)
		j->err = j->ops->attach(&j->probe, j->opts);
	sem_post(j->gate);
	return NULL;
}

/* Families load in parallel: most of a load is libbpf parsing the kernel's
 * BTF for CO-RE and the verifier, once per object, and the objects are
 * independent. Nothing is left half-attached when one fails. */
static int attach_all(struct tracer *t)
{
	struct attach_job jobs[TRACE_MAX_PROBES] = {};
	int n = 0, err = 0;
	sem_t gate;

	/* Find (or mount) tracefs once, before the threads race to do it. */
	if (!tracefs__events_dir()) {
		warn("tracefs is not mounted and cannot be mounted at /sys/kernel/tracing: %s",
		     strerror(errno));
		return -ENOENT;
	}
	sem_init(&gate, 0, ATTACH_PARALLEL);
	for (int i = 0; i < probe_table_len; i++) {
		if (!(t->opts.probes & (1u << i)))
			continue;
		jobs[n] = (struct attach_job){ .gate = &gate, .ops = probe_table[i], .opts = &t->opts };
		jobs[n].started = !pthread_create(&jobs[n].thread, NULL, attach_thread, &jobs[n]);
		if (!jobs[n].started)
			attach_thread(&jobs[n]);
		n++;
	}
	for (int i = 0; i < n; i++) {
		struct attach_job *j = &jobs[i];

		if (j->started)
			pthread_join(j->thread, NULL);
		if (j->err == -ENODEV && !t->opts.probes_explicit) {
			debug("%s: nothing to measure with these options; skipped", j->ops->name);
			continue;
		}
		if (j->err && !err) {
			if (!is_usage_error(j->err))
				warn("%s: cannot attach: %s%s", j->ops->name, strerror(-j->err),
				     j->err == -EPERM ? " (run as root, or with CAP_BPF and CAP_PERFMON)" : "");
			err = j->err;
		}
		if (!j->err) {
			t->probes[t->n] = j->probe;
			t->ops[t->n++] = j->ops;
		}
	}
	sem_destroy(&gate);
	/* Then the one program at each hook that several of them use. */
	if (!err)
		err = shared_hooks__attach(&t->hooks, t->ops, t->probes, t->n, &t->opts);
	if (err)
		detach_all(t);
	return err;
}

__u64 tracer__lost(struct tracer *t)
{
	__u64 lost = 0;

	for (int i = 0; i < t->n; i++)
		lost += t->ops[i]->lost(t->probes[i]);
	return lost + (t->slow ? slowlog__lost(t->slow) : 0);
}

void tracer__iso_time(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", localtime_r(&now, &tm));
}

/*
 * --cgroup names a path, the kernel filters by id, and a cgroup removed and
 * created again (a restarted systemd unit or container) is another id at
 * the same path. Each look (every collect, and every second of a tracer's
 * sleep) stats the paths again: a new id replaces the old one in every
 * loaded object's set, and a path that is gone is said once. Events of
 * the new cgroup before the look that finds it are not counted.
 */
static void follow_cgroups(struct tracer *t)
{
	pthread_mutex_lock(&t->cgroup_lock);
	for (int i = 0; i < t->opts.ncgroups; i++) {
		const char *arg = t->opts.cgroup_args[i];
		__u64 id, old;

		if (!arg)
			continue;
		if (cgroup__id(arg, &id)) {
			if (!t->cgroup_gone[i])
				warn("--cgroup %s: the cgroup is gone; nothing is counted for it "
				     "until one is created at that path again", arg);
			t->cgroup_gone[i] = true;
			continue;
		}
		old = t->opts.cgroups[i];
		if (id != old) {
			probe__retarget_cgroup(old, id);
			t->opts.cgroups[i] = id;
			warn("--cgroup %s: created again (id %llu, was %llu); counting it from now on",
			     arg, (unsigned long long)id, (unsigned long long)old);
		}
		t->cgroup_gone[i] = false;
	}
	pthread_mutex_unlock(&t->cgroup_lock);
}

/* The listener table of this collect: the census, then what each family
 * saw, joined (user/lib/stats/listeners.h). */
static int build_listeners(struct tracer *t)
{
	__u64 cgroups[FILTER_MAX_CGROUPS];
	struct listener_filter f = {
		.ports = t->opts.ports, .nports = t->opts.nports,
		.pids = t->opts.pids, .npids = t->opts.npids,
		.cgroups = cgroups, .ncgroups = t->opts.ncgroups,
	};
	int err = 0;

	pthread_mutex_lock(&t->cgroup_lock);
	memcpy(cgroups, t->opts.cgroups, sizeof(cgroups));
	pthread_mutex_unlock(&t->cgroup_lock);

	for (int i = 0; i < t->n && !err; i++) {
		f.syn_time |= t->ops[i]->explains_sk_drops;
		if (t->ops[i]->listeners)
			err = t->ops[i]->listeners(t->probes[i], t->listeners);
	}
	if (!err)
		err = listener_table__join(t->listeners, &f);
	if (err)
		warn("cannot build the listener table: %s", strerror(-err));
	return err;
}

/* Reads every family's maps and builds the per-listener table. */
int tracer__collect(struct tracer *t, bool total, double *secs)
{
	struct timespec now;
	int err;

	bool census = false;

	follow_cgroups(t);
	clock_gettime(CLOCK_MONOTONIC, &now);
	*secs = tracer__seconds_between(total ? &t->start : &t->last, &now);
	t->last = now;
	for (int i = 0; i < t->n; i++) {
		err = t->ops[i]->collect(t->probes[i], total);
		if (err) {
			warn("%s: cannot read its maps: %s", t->ops[i]->name, strerror(-err));
			return err;
		}
		/* The census right after the maps whose events explain its
		 * sk_drops growth: an overflow between the two reads is
		 * taken for two SYN-time ones, so the reads stay adjacent. */
		if (!census && t->ops[i]->explains_sk_drops) {
			err = listener_table__begin(t->listeners, total);
			census = true;
		}
	}
	if (!census)
		err = listener_table__begin(t->listeners, total);
	if (err) {
		warn("cannot read the listeners' census: %s", strerror(-err));
		return err;
	}
	return build_listeners(t);
}

int tracer__reclaim(struct tracer *t)
{
	double secs;
	int err;

	if (!t->opts.reclaim || getenv("NETTUNE_TEST_NO_RECLAIM"))
		return 0;
	if (!t->live) {
		t->live = liveness__new();
		if (!t->live)
			return -ENOMEM;
	}
	err = tracer__collect(t, true, &secs);
	if (err)
		return err;
	/* The census was refreshed by that collect, and its listeners'
	 * owners already looked up by the join (nothing in it changes). */
	err = liveness__refresh(t->live, (struct nswatch *)listener_table__census(t->listeners));
	if (err)
		return err;
	/* One family that fails does not stop the others: each keeps its
	 * own tables. Each failure is said once per family and error. */
	for (int i = 0; i < t->n; i++) {
		int e;

		if (!t->ops[i]->reclaim)
			continue;
		t->reclaimed[i].retired = 0;	/* a gauge: the tables add theirs */
		e = t->ops[i]->reclaim(t->probes[i], t->live, &t->reclaimed[i]);
		if (e && e != t->reclaim_err[i])
			warn("%s: cannot reclaim its rows: %s", t->ops[i]->name, strerror(-e));
		t->reclaim_err[i] = e;
		err = err ? err : e;
	}
	return err;
}

/* Where the report's members go: into root (tracer__json), or written to
 * out as they are made and freed at once (tracer__print_json). */
struct report_sink {
	struct json_object *root;
	FILE *out;
	bool started;
};

static void sink_key(struct report_sink *s, const char *key)
{
	struct json_object *k = json_object_new_string(key);

	/* json-c escapes keys as it escapes strings */
	fputc(s->started ? ',' : '{', s->out);
	fputs(json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN), s->out);
	fputc(':', s->out);
	json_object_put(k);
	s->started = true;
}

/* Takes part: its members, in order, go to the sink. */
static void sink_add(struct report_sink *s, struct json_object *part)
{
	json_object_object_foreach(part, key, val) {
		if (s->root) {
			json_object_object_add(s->root, key, json_object_get(val));
		} else {
			sink_key(s, key);
			fputs(json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN), s->out);
		}
	}
	json_object_put(part);
}

/* The report (docs/json.md), one part after the other: with 10,000
 * listeners and connections the whole tree took ~13 MiB of json-c objects
 * and its text 4 MiB more, the peak RSS of `trace --json`; written part by
 * part, only the largest part is ever in memory. */
static void report_parts(struct tracer *t, bool total, double secs, struct report_sink *s)
{
	struct json_object *part = json_object_new_object();
	char when[40];

	tracer__iso_time(when, sizeof(when));
	json_object_object_add(part, "type", json_object_new_string(total ? "total" : "interval"));
	json_object_object_add(part, "time", json_object_new_string(when));
	json_object_object_add(part, "seconds", json_object_new_double(secs));
	sink_add(s, part);
	for (int i = 0; i < t->n; i++) {
		part = json_object_new_object();
		t->ops[i]->to_json(t->probes[i], part, !s->root);
		sink_add(s, part);
	}
	if (s->root) {
		json_object_object_add(s->root, "listeners", listener_table__json(t->listeners));
	} else {
		sink_key(s, "listeners");
		listener_table__write_json(t->listeners, s->out);
	}
	part = json_object_new_object();
	json_object_object_add(part, "lost_events", json_object_new_uint64(tracer__lost(t)));
	if (t->slow)
		json_object_object_add(part, "slow_events_lost_per_cpu", slowlog__lost_json(t->slow));
	sink_add(s, part);
}

/* The report as JSON (docs/json.md): the one contract for --json and tune. */
struct json_object *tracer__json(struct tracer *t, bool total, double secs)
{
	struct report_sink s = { .root = json_object_new_object() };

	report_parts(t, total, secs, &s);
	return s.root;
}

void tracer__print_json(struct tracer *t, bool total, double secs, FILE *out)
{
	struct report_sink s = { .out = out };

	report_parts(t, total, secs, &s);
	fputs("}\n", out);
}

static double seconds_until(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return tracer__seconds_between(&now, deadline);
}

/* Sleeps until the deadline or a signal, printing slow events meanwhile;
 * returns false once exiting. */
static bool sleep_step(struct tracer *t, const struct timespec *deadline)
{
	while (t->slow && !exiting) {
		double left = seconds_until(deadline);

		if (left <= 0)
			return true;
		/* Short polls: a signal must end the wait promptly. */
		slowlog__poll(t->slow, left > 0.2 ? 200 : (int)(left * 1000) + 1);
	}
	while (!exiting) {
		int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL);

		if (rc == 0)
			return true;
		if (rc != EINTR)
			return false;
	}
	return false;
}

/* With --cgroup, a look at the paths every second (follow_cgroups). */
bool tracer__sleep_until(struct tracer *t, const struct timespec *deadline)
{
	struct timespec step;

	if (!t->opts.ncgroups)
		return sleep_step(t, deadline);
	do {
		clock_gettime(CLOCK_MONOTONIC, &step);
		tracer__add_ms(&step, 1000);
		if (tracer__seconds_between(deadline, &step) > 0)
			step = *deadline;
		if (!sleep_step(t, &step))
			return false;
		follow_cgroups(t);
	} while (seconds_until(deadline) > 0);
	return true;
}

void tracer__add_ms(struct timespec *ts, __u64 ms)
{
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* The census of listeners and namespace counters, from now on, when a
 * family reports listeners: every listener row then has its owner, limit
 * and queue, whichever of those families run. */
static int watch_listeners(struct tracer *t)
{
	for (int i = 0; i < t->n; i++)
		if (t->ops[i]->listeners)
			return listener_table__watch(t->listeners, t->opts.netns);
	return 0;
}

/* Signal handlers, attach, slow log; on failure nothing stays attached and
 * the return value is the exit code. */
int tracer__start(struct tracer *t)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	/* Handlers first: a signal during attach must still detach cleanly. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pthread_mutex_init(&t->cgroup_lock, NULL);
	t->listeners = listener_table__new();
	if (!t->listeners)
		return EXIT_RUNTIME;
	err = attach_all(t);
	if (!err) {
		/* The census baseline right after the events start: sk_drops
		 * growth before it would be taken for SYN-time overflows,
		 * events before it for more than sk_drops grew. */
		err = watch_listeners(t);
		if (err) {
			warn("cannot read the listeners' census: %s", strerror(-err));
			detach_all(t);
		}
	}
	if (!err) {
		err = start_slowlog(t);
		if (err) {
			warn("--min-us: cannot read the event ring buffers: %s", strerror(-err));
			detach_all(t);
		}
	}
	if (err) {
		slowlog__free(t->slow);
		listener_table__free(t->listeners);
		return is_usage_error(err) ? EXIT_USAGE : EXIT_RUNTIME;
	}
	clock_gettime(CLOCK_MONOTONIC, &t->start);
	t->last = t->start;
	info("attached %d probe famil%s; %s", t->n, t->n == 1 ? "y" : "ies",
	     t->opts.duration_ms ? "tracing" : "tracing until Ctrl-C");
	if (t->opts.empty_programs)
		warn("--empty-programs: the programs return as they start; "
		     "every count will be 0 (a floor for make bench)");
	for (int i = 0; i < t->n; i++)
		if (t->ops[i]->ready)
			t->ops[i]->ready(t->probes[i]);
	/* Loading freed the kernel BTF it parsed, but in the loader threads'
	 * malloc arenas, where the reports (main thread) cannot reuse it: it
	 * stayed resident (10-20 MiB) under every report's own peak. */
	malloc_trim(0);
	return 0;
}

void tracer__stop(struct tracer *t)
{
	slowlog__free(t->slow);
	detach_all(t);
	listener_table__free(t->listeners);
	liveness__free(t->live);
	t->live = NULL;
}

