// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Option parsing: user/lib/cli/opts.c and user/lib/cli/trace_opts.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>
#include "log.h"
#include "opts.h"
#include "trace_opts.h"

static const char *const names[] = { "connect", "accept", "drops" };

static int parse(struct trace_opts *o, int argc, char **argv)
{
	return trace_opts__parse(argc, argv, o, names, 3);
}

static void test_defaults(void **state)
{
	struct trace_opts o;
	char *argv[] = { "trace", NULL };
	(void)state;

	assert_int_equal(parse(&o, 1, argv), 0);
	assert_int_equal(o.npids, 0);
	assert_int_equal(o.nports, 0);
	assert_int_equal(o.interval_ms, 0);
	assert_int_equal(o.duration_ms, 0);
	assert_int_equal(o.probes, 7);	/* every family */
	assert_false(o.json);
	assert_false(o.force_fallback);
	assert_false(o.empty_programs);
	assert_false(o.read_syscall);	/* read measures read_wait only by default */
}

/* What --help prints; the caller frees it. */
static char *usage_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	trace_opts__usage(f, names, 3);
	fclose(f);
	return buf;
}

/* The hidden options: in no --help, but parsed. */
static void test_hidden_options(void **state)
{
	struct trace_opts o;
	char *argv[] = { "trace", "--force-fallback", "--empty-programs", NULL };
	char *buf;
	(void)state;

	assert_int_equal(parse(&o, 3, argv), 0);
	assert_true(o.force_fallback);
	assert_true(o.empty_programs);
	buf = usage_text();
	assert_null(strstr(buf, "empty-programs"));
	assert_null(strstr(buf, "force-fallback"));
	free(buf);
}

static void test_full_line(void **state)
{
	struct trace_opts o;
	char pid[16];
	char *argv[] = { "trace", "-p", pid, "--port", "8080", "--port", "443", "-i", "0.5",
			 "-d", "10", "--json", "--probes", "drops,connect", NULL };
	(void)state;

	snprintf(pid, sizeof(pid), "%d", getpid());
	assert_int_equal(parse(&o, 14, argv), 0);
	assert_int_equal(o.npids, 1);
	assert_int_equal(o.pids[0], getpid());
	assert_int_equal(o.nports, 2);
	assert_int_equal(o.ports[0], 8080);
	assert_int_equal(o.ports[1], 443);
	assert_int_equal(o.interval_ms, 500);
	assert_int_equal(o.duration_ms, 10000);
	assert_true(o.json);
	assert_int_equal(o.probes, 1 | 4);
}

static void test_bad_numbers(void **state)
{
	struct trace_opts o;
	char *bad[][3] = {
		{ "trace", "-i", "0" },		/* interval of 0 */
		{ "trace", "-i", "abc" },
		{ "trace", "-d", "-5" },
		{ "trace", "-d", "1e99" },
		{ "trace", "--port", "0" },
		{ "trace", "--port", "65536" },
		{ "trace", "--port", "80x" },
		{ "trace", "-p", "0" },
		{ "trace", "-p", "99999999999" },
		{ "trace", "--probes", "nosuch" },
		{ "trace", "--min-us", "0" },
		{ "trace", "--min-us", "1.5" },
		{ "trace", "--uprobe", "nocolon" },
		{ "trace", "--uprobe", "/bin/x:" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(parse(&o, 3, bad[i]) < 0);
}

static void test_unknown_flags_and_arguments(void **state)
{
	struct trace_opts o;
	char *a[] = { "trace", "--frobnicate", NULL };
	char *b[] = { "trace", "-Z", NULL };
	char *c[] = { "trace", "stray", NULL };
	char *d[] = { "trace", "-i", NULL };	/* missing value */
	(void)state;

	assert_int_equal(parse(&o, 2, a), -EINVAL);
	assert_int_equal(parse(&o, 2, b), -EINVAL);
	assert_int_equal(parse(&o, 2, c), -EINVAL);
	assert_int_equal(parse(&o, 2, d), -EINVAL);
}

/* --read-syscall: parsed, explained in --help, and refused when the read
 * family is not selected (it would do nothing). */
static void test_read_syscall(void **state)
{
	static const char *const with_read[] = { "connect", "accept", "drops", "read" };
	struct trace_opts o;
	char *argv[] = { "trace", "--read-syscall", NULL };
	char *connect_only[] = { "trace", "--probes", "connect", "--read-syscall", NULL };
	char *read_only[] = { "trace", "--read-syscall", "--probes", "read", NULL };
	char *buf;
	(void)state;

	assert_int_equal(trace_opts__parse(2, argv, &o, with_read, 4), 0);
	assert_true(o.read_syscall);
	assert_int_equal(o.probes, 15);	/* the families stay as they were */
	assert_int_equal(trace_opts__parse(4, read_only, &o, with_read, 4), 0);
	assert_true(o.read_syscall);
	assert_int_equal(o.probes, 8);
	assert_int_equal(trace_opts__parse(4, connect_only, &o, with_read, 4), -EINVAL);
	assert_int_equal(parse(&o, 2, argv), -EINVAL);	/* a build without read */
	buf = usage_text();
	assert_non_null(strstr(buf, "--read-syscall "));
	assert_null(strstr(buf, "--no-read-syscall"));
	free(buf);
}

/* The one line a bad option gets on stderr. */
static void parse_error_line(char *arg, char *line, size_t size)
{
	struct trace_opts o;
	char *argv[] = { "trace", arg, NULL };
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	assert_int_equal(parse(&o, 2, argv), -EINVAL);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	if (!fgets(line, (int)size, tmp))
		line[0] = 0;
	fclose(tmp);
}

static void test_error_lines(void **state)
{
	char line[256];
	(void)state;

	parse_error_line("--json=1", line, sizeof(line));
	assert_non_null(strstr(line, "option '--json' takes no value"));
	parse_error_line("--frobnicate=1", line, sizeof(line));
	assert_non_null(strstr(line, "unknown option '--frobnicate=1'"));
	parse_error_line("-Z", line, sizeof(line));
	assert_non_null(strstr(line, "unknown option '-Z'"));
	parse_error_line("--port", line, sizeof(line));
	assert_non_null(strstr(line, "option '--port' needs a value"));
}

static void test_min_us_and_uprobe(void **state)
{
	struct trace_opts o;
	char *argv[] = { "trace", "--min-us", "250000", "--uprobe", "/usr/bin/x:main.work", NULL };
	(void)state;

	assert_int_equal(parse(&o, 5, argv), 0);
	assert_int_equal(o.min_us, 250000);
	assert_int_equal(o.nuprobes, 1);
	assert_string_equal(o.uprobes[0], "/usr/bin/x:main.work");
	assert_false(o.probes_explicit);
}

static void test_dead_pid(void **state)
{
	struct trace_opts o;
	char *argv[] = { "trace", "-p", "2147483646", NULL };
	(void)state;

	assert_int_equal(parse(&o, 3, argv), -ESRCH);
}

static void test_help(void **state)
{
	struct trace_opts o;
	char *argv[] = { "trace", "--help", NULL };
	(void)state;

	assert_int_equal(parse(&o, 2, argv), TRACE_PARSE_HELP);
}

static void test_opts_primitives(void **state)
{
	uint64_t v, ms;
	int i;
	(void)state;

	assert_int_equal(opts__u64("x", "18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(opts__u64("x", "18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(opts__u64("x", "", 0, 10, &v), -EINVAL);
	assert_int_equal(opts__u64("x", "-1", 0, 10, &v), -EINVAL);
	assert_int_equal(opts__int("x", "-3", -5, 5, &i), 0);
	assert_int_equal(i, -3);
	assert_int_equal(opts__int("x", "6", -5, 5, &i), -ERANGE);
	assert_int_equal(opts__seconds("x", "2.5", 10, &ms), 0);
	assert_int_equal(ms, 2500);
	assert_int_equal(opts__seconds("x", "nan", 10, &ms), -EINVAL);
	assert_int_equal(opts__seconds("x", "0.0001", 10, &ms), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_line),
		cmocka_unit_test(test_hidden_options),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_unknown_flags_and_arguments),
		cmocka_unit_test(test_read_syscall),
		cmocka_unit_test(test_error_lines),
		cmocka_unit_test(test_min_us_and_uprobe),
		cmocka_unit_test(test_dead_pid),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_opts_primitives),
	};
	log__init("test", LOG_WARN);
	return cmocka_run_group_tests_name("trace_opts", tests, NULL, NULL);
}
