// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `nettune tune`: observe with the tracer, read the namespace's settings,
 * run the rules (user/lib/tune/tunerules.c), print recommendations; with
 * --apply, journal each original and write each change where it lives.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "commands.h"
#include "journal.h"
#include "log.h"
#include "netns.h"
#include "cgroup.h"
#include "filter.h"
#include "nsref.h"
#include "optable.h"
#include "opts.h"
#include "probe.h"
#include "tuneapply.h"
#include "tunecollect.h"
#include "tuneevidence.h"
#include "tuneout.h"
#include "tunerollback.h"
#include "tunetarget.h"

#define MAX_LISTENERS	256
/* Test hook (docs/tuning.md "Testing"): NETTUNE_TEST_PAUSE_AFTER_WRITE=N
 * stops right after the N-th change is made (1 if N is not a number), before
 * it is marked applied, so a test can SIGKILL the tuner exactly there. */
#define PAUSE_ENV	"NETTUNE_TEST_PAUSE_AFTER_WRITE"

struct tune_opts {
	struct tune_target_opts t;
	uint64_t duration_ms;
	const char *state_dir;
	__u64 cgroups[FILTER_MAX_CGROUPS];	/* --cgroup: ids ... */
	const char *cgroup_args[FILTER_MAX_CGROUPS];	/* ... and the paths as given */
	int ncgroups;
	bool json, apply, relisten, allow_global, status, sysctls, verbose;
};

#define TO(v)	((struct tune_opts *)(v))

static int set_pid(void *v, const char *a) { return opts__pid("-p", a, &TO(v)->t.pid); }
static int set_duration(void *v, const char *a)
{
	return opts__seconds("-d", a, 86400, &TO(v)->duration_ms);
}
static int set_netns(void *v, const char *a) { TO(v)->t.netns = a; return 0; }
static int set_cgroup(void *v, const char *a)
{
	struct tune_opts *o = TO(v);

	return cgroup__add_filter(a, o->cgroups, o->cgroup_args, &o->ncgroups,
				  FILTER_MAX_CGROUPS);
}
static int set_state_dir(void *v, const char *a) { TO(v)->state_dir = a; return 0; }

/* The flags: one setter each, setting one bool. */
#define FLAG_SETTER(field)						\
	static int set_##field(void *v, const char *a)			\
	{								\
		(void)a;						\
		TO(v)->field = true;					\
		return 0;						\
	}
FLAG_SETTER(json)
FLAG_SETTER(apply)
FLAG_SETTER(relisten)
FLAG_SETTER(allow_global)
FLAG_SETTER(status)
FLAG_SETTER(sysctls)
FLAG_SETTER(verbose)

static const struct optable_opt tune_opts_table[] = {
	{ "pid", 'p', "PID", "the process to tune for (and its network namespace)", set_pid, NULL },
	{ "duration", 'd', "SEC", "observe this long (default 10)", set_duration, NULL },
	{ "netns", 0, "NS", "the namespace to tune: /run/netns/NAME, /proc/PID/ns/net\n"
			    "or a pid (default: -p's, else nettune's own)", set_netns, NULL },
	{ "cgroup", 0, "PATH", "evidence only from sockets of this cgroup v2 and those\n"
			       "below it (repeatable; docs/containers.md)", set_cgroup, NULL },
	{ "json", 0, NULL, "one JSON object on stdout (docs/tuning.md)", set_json, NULL },
	{ "apply", 0, NULL, "write the proposed sysctls where each lives; every\n"
			    "original is journaled first and read back after", set_apply, NULL },
	{ "relisten", 0, NULL, "with --apply: raise live listeners' backlogs in place\n"
			       "(pidfd_getfd + listen(), needs ptrace rights over the\n"
			       "server)", set_relisten, NULL },
	{ "allow-global", 0, NULL, "with --apply: also write global sysctls (initial\n"
				   "namespace) when tuning another namespace",
	  set_allow_global, NULL },
	{ "state-dir", 0, "DIR", "the journal's directory (default " JOURNAL_DEFAULT_DIR ")",
	  set_state_dir, NULL },
	{ "status", 0, NULL, "what is applied now, and where; observes nothing", set_status, NULL },
	{ "sysctls", 0, NULL, "the settings nettune knows: where each lives on this\n"
			      "kernel, its default and the bounds the tuner keeps to",
	  set_sysctls, NULL },
	{ "verbose", 'v', NULL, "debug output", set_verbose, NULL },
	{ 0 },
};

static const struct optable_opt *const tune_groups[] = { tune_opts_table, NULL };
static const struct optable tune_table = { .cmd = "tune", .groups = tune_groups };

static void usage(FILE *out, struct tune_opts *o)
{
	fprintf(out,
"Usage: nettune tune [-p PID] [-d SEC] [--netns NS] [--cgroup PATH] [--json]\n"
"                    [--apply [--relisten]]\n"
"                    [--allow-global] [--state-dir DIR]\n"
"       nettune tune --status [--state-dir DIR] [--json]\n"
"       nettune tune --sysctls [--netns NS | -p PID] [--json]\n\n"
"Observes listen queues, drops and connects for a while, then recommends changes,\n"
"each with its evidence in measured numbers, where it lives and its expected effect.\n"
"By default nothing is written.\n\n");
	optable__print(&tune_table, o, out);
	fprintf(out, "\n"
"EXAMPLES\n"
"  nettune tune -p 4242                   advice for one server, 10 s of evidence\n"
"  nettune tune --netns /run/netns/blue -d 30 --json\n"
"  nettune tune --cgroup /system.slice/nginx.service   advice from one service's sockets\n"
"  nettune tune -p 4242 --apply --relisten   apply, raising live backlogs in place\n"
"  nettune tune --status                  what is applied, where\n"
"  nettune rollback                       put every original back\n");
}

/* 0, 1 for --help (printed), or -errno after one line. */
static int parse(int argc, char **argv, struct tune_opts *o)
{
	int err;

	o->duration_ms = 10000;
	o->state_dir = JOURNAL_DEFAULT_DIR;
	err = optable__parse(&tune_table, argc, argv, o);
	if (err == OPTABLE_HELP) {
		usage(stdout, o);
		return 1;
	}
	if (err)
		return err;
	if ((o->relisten || o->allow_global) && !o->apply) {
		warn("tune: %s only makes sense with --apply", o->relisten ? "--relisten" :
		     "--allow-global");
		return -EINVAL;
	}
	if (!*o->state_dir) {
		warn("--state-dir: empty path");
		return -EINVAL;
	}
	if (o->status + o->sysctls + o->apply > 1) {
		warn("tune: --status, --sysctls and --apply exclude each other");
		return -EINVAL;
	}
	return 0;
}

static int select_probes(__u32 *bits)
{
	static const char *const want[] = { "connect", "accept", "drops" };

	*bits = 0;
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++)
		for (int i = 0; i < probe_table_len; i++)
			if (!strcmp(probe_table[i]->name, want[w]))
				*bits |= 1u << i;
	return *bits ? 0 : -ENOENT;
}

static int observe(const struct tune_opts *o, const struct tune_target *t,
		   struct json_object **rep)
{
	struct trace_opts to = { .duration_ms = o->duration_ms, .netns = t->ino,
				 .verbose = o->verbose };

	if (o->t.pid) {
		to.pids[0] = (__u32)o->t.pid;
		to.npids = 1;
	}
	to.ncgroups = o->ncgroups;
	memcpy(to.cgroups, o->cgroups, sizeof(to.cgroups));
	memcpy(to.cgroup_args, o->cgroup_args, sizeof(to.cgroup_args));
	if (select_probes(&to.probes)) {
		warn("tune: this build has no connect, accept or drops probe");
		return EXIT_RUNTIME;
	}
	info("observing %s for %.1f s", t->where, (double)o->duration_ms / 1000);
	return trace__observe(&to, rep);
}

static void pause_after_write(void *ctx, int nwritten)
{
	if (nwritten != *(int *)ctx)
		return;
	fprintf(stderr, "nettune: test hook: paused after journaled write %d\n", nwritten);
	for (;;)
		pause();
}

struct tune_run {
	struct tune_evidence ev;
	struct tune_listener ls[MAX_LISTENERS];
	struct tune_rec recs[TUNE_MAX_RECS];
	struct tune_outcome outcomes[TUNE_MAX_RECS];
	size_t n;
};

static int evaluate(const struct tune_opts *o, const struct tune_target *t,
		    struct json_object *rep, struct tune_run *r)
{
	int err;

	r->ev.netns = t->ino;
	r->ev.pid_scoped = o->t.pid > 0;
	err = tuneevidence__from_report(rep, &r->ev, r->ls, MAX_LISTENERS);
	if (!err)
		err = tunecollect__namespace(t->nsfd, t->init_nsfd, &r->ev);
	if (err) {
		warn("tune: cannot read %s: %s", t->where, strerror(-err));
		return err;
	}
	if (tunerules__evaluate(&r->ev, r->recs, TUNE_MAX_RECS, &r->n))
		warn("tune: more than %d recommendations; showing the first", TUNE_MAX_RECS);
	return 0;
}

/* Ctrl-C ends the observation early (the tracer reports what it saw); a
 * user who interrupts --apply wants it stopped, not applied on less
 * evidence than asked for. */
static bool interrupted(const struct tune_opts *o, const struct tune_run *r)
{
	double want = (double)o->duration_ms / 1000;

	if (r->ev.seconds >= want * 0.95)
		return false;
	warn("tune: interrupted after %.1f of %.1f s: nothing applied", r->ev.seconds, want);
	return true;
}

static int apply(const struct tune_opts *o, const struct tune_target *t, struct journal *j,
		 struct tune_run *r)
{
	struct tune_apply_opts ao = {
		.journal = j, .nsfd = t->nsfd, .ns = &t->ns, .init_nsfd = t->init_nsfd,
		.init_ns = &t->init_ns, .ns_is_init = t->is_init, .relisten = o->relisten,
		.allow_global = o->allow_global,
	};

	int pause_at = getenv(PAUSE_ENV) ? atoi(getenv(PAUSE_ENV)) : 0;

	if (getenv(PAUSE_ENV)) {
		pause_at = pause_at > 0 ? pause_at : 1;
		ao.after_write = pause_after_write;
		ao.ctx = &pause_at;
	}
	return tuneapply__apply(&ao, r->recs, r->n, r->outcomes) ? EXIT_RUNTIME : 0;
}

static void output(const struct tune_opts *o, const struct tune_target *t, struct tune_run *r,
		   struct json_object *rep, bool applied)
{
	struct tune_report tr = { .recs = r->recs, .n = r->n, .seconds = r->ev.seconds,
				  .netns = t->ino, .where = t->where,
				  .outcomes = o->apply && applied ? r->outcomes : NULL,
				  .nlisteners = r->ev.nlisteners };
	struct json_object *root;

	for (size_t i = 0; i < r->ev.nlisteners; i++)
		tr.overflows += r->ls[i].overflows;
	if (!o->json) {
		tuneout__text(&tr, stdout);
		return;
	}
	root = tuneout__json(&tr, json_object_get(rep));
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
}

static int run(const struct tune_opts *o, const struct tune_target *t)
{
	struct json_object *rep = NULL;
	struct journal *j = NULL;
	struct tune_run *r = calloc(1, sizeof(*r));
	bool applied = false;
	int rc;

	if (!r)
		return EXIT_RUNTIME;
	/* The journal first: a locked or broken state dir must stop us before
	 * a 10 s observation, not after. */
	rc = o->apply && journal__open(o->state_dir, true, &j) ? EXIT_RUNTIME : 0;
	if (!rc)
		rc = observe(o, t, &rep);
	if (!rc)
		rc = evaluate(o, t, rep, r) ? EXIT_RUNTIME : 0;
	if (rc)
		goto out;	/* nothing worth printing */
	if (o->apply && interrupted(o, r)) {
		rc = EXIT_RUNTIME;
	} else if (o->apply) {
		rc = apply(o, t, j, r);
		applied = true;
	}
	output(o, t, r, rep, applied);
out:
	fflush(stdout);
	json_object_put(rep);
	journal__close(j);
	free(r);
	return rc;
}

static int status(const struct tune_opts *o)
{
	struct journal *j = NULL;

	if (journal__open(o->state_dir, false, &j))
		return EXIT_RUNTIME;
	tunerollback__status(j, stdout, o->json);
	journal__close(j);
	return 0;
}

int cmd_tune(int argc, char **argv)
{
	struct tune_opts o = {};
	struct tune_target t;
	int rc = parse(argc, argv, &o);

	if (rc == 1)
		return 0;
	if (rc)
		return EXIT_USAGE;
	if (o.verbose)
		log__init("nettune", LOG_DEBUG);
	if (o.status)
		return status(&o);
	rc = tunetarget__open(&o.t, &t);
	if (rc)
		return rc == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
	rc = o.sysctls ? tunetarget__sysctls(&t, stdout, o.json) : run(&o, &t);
	tunetarget__close(&t);
	return rc;
}
