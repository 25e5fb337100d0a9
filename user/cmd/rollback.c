// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `nettune rollback`: put back every original the tuner journaled, or with
 * --persist write what is applied as a sysctl.d snippet instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "commands.h"
#include "journal.h"
#include "log.h"
#include "optable.h"
#include "opts.h"
#include "tunerollback.h"

struct rollback_opts {
	const char *state_dir;
	const char *persist;
	bool forget_missing;
};

#define RB(v)	((struct rollback_opts *)(v))

static int set_state_dir(void *v, const char *a) { RB(v)->state_dir = a; return 0; }
static int set_persist(void *v, const char *a) { RB(v)->persist = a; return 0; }

static int set_forget_missing(void *v, const char *a)
{
	(void)a;
	RB(v)->forget_missing = true;
	return 0;
}

static int set_verbose(void *v, const char *a)
{
	(void)v, (void)a;
	log__init("nettune", LOG_DEBUG);
	return 0;
}

static const struct optable_opt rollback_opts[] = {
	{ "state-dir", 0, "DIR", "the journal's directory (default " JOURNAL_DEFAULT_DIR ")",
	  set_state_dir, NULL },
	{ "forget-missing", 0, NULL, "drop changes whose namespace no longer exists",
	  set_forget_missing, NULL },
	{ "persist", 0, "FILE", "restore nothing: write the applied sysctls of the\n"
				"initial namespace to FILE (a sysctl.d snippet) so they\n"
				"survive a reboot; the others are listed in it as comments",
	  set_persist, NULL },
	{ "verbose", 'v', NULL, "debug messages on stderr", set_verbose, NULL },
	{ 0 },
};

static const struct optable_opt *const rollback_groups[] = { rollback_opts, NULL };
static const struct optable rollback_table = { .cmd = "rollback", .groups = rollback_groups };

static void usage(FILE *out, struct rollback_opts *o)
{
	fprintf(out,
"Usage: nettune rollback [--state-dir DIR] [--forget-missing]\n"
"       nettune rollback --persist FILE [--state-dir DIR]\n\n"
"Restores every value `nettune tune --apply` changed to its original, newest\n"
"first, in the namespace where it lives, and relistens raised listeners with\n"
"their old backlog. Safe to run twice, and after the tuner was killed.\n\n");
	optable__print(&rollback_table, o, out);
	fprintf(out, "\n"
"EXAMPLES\n"
"  nettune rollback\n"
"  nettune rollback --state-dir /tmp/nt\n"
"  nettune rollback --persist /etc/sysctl.d/90-nettune.conf\n");
}

/* 0, 1 for --help (printed), or -errno after one line. */
static int parse(int argc, char **argv, struct rollback_opts *o)
{
	int err;

	o->state_dir = JOURNAL_DEFAULT_DIR;
	err = optable__parse(&rollback_table, argc, argv, o);
	if (err == OPTABLE_HELP) {
		usage(stdout, o);
		return 1;
	}
	if (err)
		return err;
	if (!*o->state_dir || (o->persist && !*o->persist)) {
		warn("rollback: empty path");
		return -EINVAL;
	}
	return 0;
}

/* The value each key ends with: later entries override earlier ones. */
static bool superseded(const struct journal *j, size_t i)
{
	const struct journal_entry *e = journal__at(j, i);

	for (size_t k = i + 1; k < journal__len(j); k++) {
		const struct journal_entry *l = journal__at(j, k);

		if (l->kind == e->kind && l->ns.ino == e->ns.ino && !strcmp(l->key, e->key) &&
		    (e->kind == JOURNAL_SYSCTL || l->sock_ino == e->sock_ino))
			return true;
	}
	return false;
}

static void snippet_line(FILE *f, const struct journal_entry *e, __u32 init_ino)
{
	char where[320];

	nsref__describe(&e->ns, where, sizeof(where));
	if (e->kind == JOURNAL_RELISTEN)
		fprintf(f, "# listen backlog of %s (pid %d, %s): %s; it belongs to the "
			"application: set it in its configuration\n", e->address, e->pid, where,
			e->new_value);
	else if (e->ns.ino == init_ino)
		fprintf(f, "%s = %s\n", e->key, e->new_value);
	else
		fprintf(f, "# %s: %s = %s (sysctl.d applies to the initial namespace only: set it "
			"inside that namespace when it is created)\n", where, e->key, e->new_value);
}

static int write_snippet(const struct journal *j, FILE *f)
{
	struct stat st;
	time_t now = time(NULL);
	char when[64];
	__u32 init_ino = stat("/proc/1/ns/net", &st) ? 0 : (__u32)st.st_ino;
	int n = 0;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime(&now));
	fprintf(f, "# Written by nettune rollback --persist at %s from %s/%s.\n"
		   "# The values nettune tune --apply set and that are still journaled.\n",
		when, journal__dir(j), JOURNAL_FILE);
	for (size_t i = 0; i < journal__len(j); i++) {
		const struct journal_entry *e = journal__at(j, i);

		/* A pending entry may never have been written: not a value to keep. */
		if (e->state != JOURNAL_APPLIED || superseded(j, i))
			continue;
		snippet_line(f, e, init_ino);
		n++;
	}
	return n;
}

/* Atomically, like the journal: a reboot must never find half a snippet. */
static int persist(const struct journal *j, const char *file)
{
	char tmp[4096];
	FILE *f;
	int n, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.nettune-tmp", file) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	n = write_snippet(j, f);
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, file))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	printf("wrote %d applied setting%s to %s; nothing was rolled back\n", n,
	       n == 1 ? "" : "s", file);
	return 0;
}

int cmd_rollback(int argc, char **argv)
{
	struct rollback_opts o = {};
	struct journal *j = NULL;
	int rc = parse(argc, argv, &o), err;

	if (rc == 1)
		return 0;
	if (rc)
		return EXIT_USAGE;
	if (journal__open(o.state_dir, false, &j))
		return EXIT_RUNTIME;
	if (o.persist) {
		err = persist(j, o.persist);
		if (err)
			warn("--persist %s: %s", o.persist, strerror(-err));
		rc = err ? EXIT_RUNTIME : 0;
	} else {
		err = tunerollback__run(j, o.forget_missing, stdout);
		if (err > 0)
			warn("rollback: %d change%s could not be restored and stay journaled", err,
			     err == 1 ? "" : "s");
		rc = err ? EXIT_RUNTIME : 0;
	}
	journal__close(j);
	return rc;
}
