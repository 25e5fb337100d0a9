// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Option tables (user/lib/cli/optable.c): one declaration drives the parser
 * and --help; shared arrays serve several tables. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "optable.h"

struct o {
	int n;
	const char *name;
	int flags;
};

static int set_n(void *v, const char *a)
{
	char *end;
	long n = strtol(a, &end, 10);

	if (*end || n < 0)
		return -EINVAL;
	((struct o *)v)->n = (int)n;
	return 0;
}

static int set_name(void *v, const char *a) { ((struct o *)v)->name = a; return 0; }
static int set_flag(void *v, const char *a) { (void)a; ((struct o *)v)->flags++; return 0; }
static void tail(void *v, FILE *out) { (void)v; fputs(" a,b\n", out); }

static const struct optable_opt shared[] = {
	{ "number", 'n', "N", "a number", set_n, NULL },
	{ 0 },
};

static const struct optable_opt own[] = {
	{ "name", 0, "NAME", "a name,\nover two lines", set_name, NULL },
	{ "flag", 'f', NULL, "a flag; one of:", set_flag, tail },
	{ "secret", 0, NULL, NULL, set_flag, NULL },
	{ "a-very-long-option-name", 0, "VALUE", "its help on the next line", set_name, NULL },
	{ 0 },
};

static const struct optable_opt *const groups[] = { shared, own, NULL };
static const struct optable table = { .cmd = "demo", .groups = groups };

static int parse(struct o *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	return optable__parse(&table, argc, argv, o);
}

static void test_parse(void **state)
{
	char *argv[] = { "demo", "-n", "5", "--name", "x", "-f", "--secret", "--number=7", NULL };
	struct o o;

	(void)state;
	assert_int_equal(parse(&o, 8, argv), 0);
	assert_int_equal(o.n, 7);
	assert_string_equal(o.name, "x");
	assert_int_equal(o.flags, 2);
}

static void test_errors(void **state)
{
	char *bad[] = { "demo", "-n", "x", NULL };
	char *unknown[] = { "demo", "--nope", NULL };
	char *missing[] = { "demo", "--name", NULL };
	char *extra[] = { "demo", "stray", NULL };
	char *value[] = { "demo", "--flag=1", NULL };
	char *help[] = { "demo", "-h", NULL };
	struct o o;

	(void)state;
	assert_int_equal(parse(&o, 3, bad), -EINVAL);
	assert_int_equal(parse(&o, 2, unknown), -EINVAL);
	assert_int_equal(parse(&o, 2, missing), -EINVAL);
	assert_int_equal(parse(&o, 2, extra), -EINVAL);
	assert_int_equal(parse(&o, 2, value), -EINVAL);
	assert_int_equal(parse(&o, 2, help), OPTABLE_HELP);
}

static void test_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct o o = {};

	(void)state;
	optable__print(&table, &o, f);
	fclose(f);
	assert_string_equal(buf,
		"  -n, --number N       a number\n"
		"      --name NAME      a name,\n"
		"                       over two lines\n"
		"  -f, --flag           a flag; one of: a,b\n"
		"      --a-very-long-option-name VALUE\n"
		"                       its help on the next line\n"
		"  -h, --help           this help\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
