// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Table-driven getopt_long: the parser and --help of one subcommand. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "opts.h"
#include "optable.h"

#define MAX_OPTS	64
#define HELP_COLUMN	23	/* where help text starts: trace's layout */

static const struct optable_opt help_opt = {
	.name = "help", .letter = 'h', .help = "this help",
};

/* Every option of T, in order, -h/--help last; returns how many. */
static int flatten(const struct optable *t, const struct optable_opt **all)
{
	int n = 0;

	for (const struct optable_opt *const *g = t->groups; *g; g++)
		for (const struct optable_opt *o = *g; o->name && n < MAX_OPTS - 1; o++)
			all[n++] = o;
	all[n++] = &help_opt;
	return n;
}

/* getopt_long's tables: a long option's val is its index + 0x100, so a
 * short letter and its long name resolve to one entry. */
static void build(const struct optable_opt **all, int n, struct option *lo, char *shorts)
{
	char *s = shorts;

	*s++ = ':';	/* ':' for a missing value, told apart from '?' */
	for (int i = 0; i < n; i++) {
		lo[i] = (struct option){ all[i]->name, all[i]->arg ? required_argument : no_argument,
					 NULL, 0x100 + i };
		if (all[i]->letter) {
			*s++ = all[i]->letter;
			if (all[i]->arg)
				*s++ = ':';
		}
	}
	lo[n] = (struct option){ 0 };
	*s = '\0';
}

static int index_of(const struct optable_opt **all, int n, int c)
{
	if (c >= 0x100)
		return c - 0x100 < n ? c - 0x100 : -1;
	for (int i = 0; i < n; i++)
		if (all[i]->letter == c)
			return i;
	return -1;
}

int optable__parse(const struct optable *t, int argc, char **argv, void *opts)
{
	const struct optable_opt *all[MAX_OPTS];
	struct option lo[MAX_OPTS + 1];
	char shorts[2 * MAX_OPTS + 2], see[64];
	int n = flatten(t, all), c, i, err;

	build(all, n, lo, shorts);
	snprintf(see, sizeof(see), "nettune %s --help", t->cmd);
	optind = 1;
	opterr = 0;	/* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (c == '?' || c == ':')
			return opts__getopt_error(c, argv, see);
		i = index_of(all, n, c);
		if (i < 0)
			return -EINVAL;
		if (all[i] == &help_opt)
			return OPTABLE_HELP;
		err = all[i]->set(opts, all[i]->arg ? optarg : NULL);
		if (err)
			return err;
	}
	if (optind < argc) {
		warn("%s: unexpected argument '%s' (see %s)", t->cmd, argv[optind], see);
		return -EINVAL;
	}
	return 0;
}

void optable__print(const struct optable *t, void *opts, FILE *out)
{
	const struct optable_opt *all[MAX_OPTS];
	int n = flatten(t, all);

	for (int i = 0; i < n; i++) {
		const struct optable_opt *o = all[i];
		const char *line, *nl;
		int w;

		if (!o->help)
			continue;
		w = o->letter ? fprintf(out, "  -%c, --%s", o->letter, o->name) :
				fprintf(out, "      --%s", o->name);
		if (o->arg)
			w += fprintf(out, " %s", o->arg);
		/* A long name and value that reach the help column get a line
		 * of their own. */
		if (w >= HELP_COLUMN - 1) {
			fputc('\n', out);
			w = 0;
		}
		for (line = o->help; line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			fprintf(out, "%*s%.*s", HELP_COLUMN - w, "", nl ? (int)(nl - line) : (int)strlen(line),
				line);
			w = 0;
			if (nl)
				fputc('\n', out);
		}
		if (o->help_tail)
			o->help_tail(opts, out);
		else
			fputc('\n', out);
	}
}
