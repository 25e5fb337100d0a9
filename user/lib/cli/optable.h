/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Options declared once, as data: one table per subcommand (name, letter,
 * argument, help text, validator) drives the parser, --help and, through
 * --help, the man pages (tools/gen-man.sh), so the three cannot disagree.
 * Options several subcommands share (trace's filters) are one array that
 * each table lists among its groups.
 */
#ifndef NETTUNE_LIB_OPTABLE_H
#define NETTUNE_LIB_OPTABLE_H

#include <stdio.h>

struct optable_opt {
	const char *name;	/* long name, without "--"; NULL ends an array */
	char letter;		/* short option, 0 if none */
	const char *arg;	/* the value's name in --help ("PID"), NULL for a flag */
	/* --help text; each '\n' starts a continuation line under it. NULL:
	 * hidden (parsed, never shown), for test and bench switches. */
	const char *help;
	/* Validates ARG (NULL for a flag) and stores it in OPTS: 0, or -errno
	 * after one clear line on stderr. */
	int (*set)(void *opts, const char *arg);
	/* optional: writes the end of the help after the text, newline
	 * included (a list known only at run time: the probe families) */
	void (*help_tail)(void *opts, FILE *out);
};

struct optable {
	const char *cmd;	/* "trace": for "see nettune trace --help" */
	/* arrays of options in --help order, NULL-terminated */
	const struct optable_opt *const *groups;
};

#define OPTABLE_HELP	1

/* Parses argv (argv[0] is the subcommand) into OPTS through each option's
 * set(). -h/--help is every table's. Returns 0, OPTABLE_HELP, or -errno
 * after one line (an unknown option, a missing or extra value, a value
 * set() refused, an argument that is no option). */
int optable__parse(const struct optable *t, int argc, char **argv, void *opts);
/* The option lines of --help, aligned, hidden ones left out. OPTS is given
 * to each help_tail. */
void optable__print(const struct optable *t, void *opts, FILE *out);

#endif
