// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `nettune rollback`: put back every original the tuner journaled, or with
 * --persist write what is applied as a sysctl.d snippet instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "commands.h"
#include "journal.h"
#include "log.h"
#include "opts.h"
#include "tunerollback.h"

struct rollback_opts {
	const char *state_dir;
	const char *persist;
	bool forget_missing;
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: nettune rollback [--state-dir DIR] [--forget-missing]\n"
"       nettune rollback --persist FILE [--state-dir DIR]\n\n"
"Restores every value `nettune tune --apply` changed to its original, newest\n"
"first, in the namespace where it lives, and relistens raised listeners with\n"
"their old backlog. Safe to run twice, and after the tuner was killed.\n\n"
"      --state-dir DIR   the journal's directory (default " JOURNAL_DEFAULT_DIR ")\n"
"      --forget-missing  drop changes whose namespace no longer exists\n"
"      --persist FILE    restore nothing: write the applied sysctls of the initial\n"
"                        namespace to FILE (a sysctl.d snippet) so they survive a\n"
"                        reboot; the others are listed in it as comments\n"
"  -h, --help            this help\n\n"
"EXAMPLES\n"
"  nettune rollback\n"
"  nettune rollback --state-dir /tmp/nt\n"
"  nettune rollback --persist /etc/sysctl.d/90-nettune.conf\n");
}

static int parse(int argc, char **argv, struct rollback_opts *o)
{
	static const struct option lo[] = {
		{ "state-dir", 1, NULL, 'S' }, { "persist", 1, NULL, 'P' },
		{ "forget-missing", 0, NULL, 'F' }, { "verbose", 0, NULL, 'v' },
		{ "help", 0, NULL, 'h' }, { 0 },
	};
	int c;

	o->state_dir = JOURNAL_DEFAULT_DIR;
	optind = 1;
	opterr = 0;	/* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, ":vh", lo, NULL)) != -1) {
		switch (c) {
		case '?':
		case ':': return opts__getopt_error(c, argv, "nettune rollback --help");
		case 'S': o->state_dir = optarg; break;
		case 'P': o->persist = optarg; break;
		case 'F': o->forget_missing = true; break;
		case 'v': log__init("nettune", LOG_DEBUG); break;
		case 'h': return 1;
		default: return -EINVAL;
		}
	}
	if (optind < argc) {
		warn("rollback: unexpected argument '%s' (try: nettune rollback --help)",
		     argv[optind]);
		return -EINVAL;
	}
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

	if (rc == 1) {
		usage(stdout);
		return 0;
	}
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
