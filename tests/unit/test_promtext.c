// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The Prometheus text writer (user/lib/export/promtext.c): the format, exact
 * histograms on the fixed `le` set, counters that never go backwards, and
 * the cardinality bound. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "promtext.h"

static char *render(struct promtext *w)
{
	size_t len;
	char *s = promtext__render(w, &len);

	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	return s;
}

/* The value of the line starting with PREFIX (name and labels), or -1. */
static double value_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, prefix, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return -1;
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_counter_gauge_format(void **state)
{
	struct promtext *w = promtext__new(10);
	struct prom_label l[] = { { "listener", "0.0.0.0:80" }, { "comm", "a\"b\\c\nd" } };
	char *s;

	(void)state;
	promtext__begin(w);
	assert_int_equal(promtext__family(w, "x_total", PROM_COUNTER, 0, "Things"), 0);
	assert_int_equal(promtext__counter(w, l, 2, 7), 0);
	assert_int_equal(promtext__family(w, "g", PROM_GAUGE, 0, "A gauge"), 0);
	assert_int_equal(promtext__gauge(w, NULL, 0, 2.5), 0);
	/* reopened: its samples still come together, HELP and TYPE once */
	assert_int_equal(promtext__family(w, "x_total", PROM_COUNTER, 0, "Things"), 0);
	assert_int_equal(promtext__counter(w, l, 1, 3), 0);
	assert_int_equal(promtext__family(w, "x_total", PROM_GAUGE, 0, "Things"), -EINVAL);
	s = render(w);
	assert_non_null(strstr(s, "# HELP x_total Things\n# TYPE x_total counter\n"
				  "x_total{listener=\"0.0.0.0:80\",comm=\"a\\\"b\\\\c\\nd\"} 7\n"
				  "x_total{listener=\"0.0.0.0:80\"} 3\n"));
	assert_non_null(strstr(s, "# TYPE g gauge\ng 2.5\n"));
	assert_int_equal(count_of(s, "# TYPE x_total"), 1);
	free(s);
	promtext__free(w);
}

static void test_seconds(void **state)
{
	char b[40];

	(void)state;
	promtext__fmt_seconds(b, sizeof(b), 1024);
	assert_string_equal(b, "0.000001024");
	promtext__fmt_seconds(b, sizeof(b), 5000000000ULL);
	assert_string_equal(b, "5");
	promtext__fmt_seconds(b, sizeof(b), 68719476736ULL);
	assert_string_equal(b, "68.719476736");
	promtext__fmt_seconds(b, sizeof(b), 0);
	assert_string_equal(b, "0");
}

/* Every `le` is a bucket bound of the kernel's layout: the cumulative
 * count at le is exactly the samples below it, _sum and _count exact. */
static void test_hist_exact(void **state)
{
	static const __u64 vals[] = { 5, 1023, 1024, 1500, 2047, 2048, 1000000, 1048575,
				      1048576, 450000000, 200000000000ULL };
	struct promtext *w = promtext__new(10);
	struct hist h = {};
	__u64 sum = 0;
	char *s, line[128], sec[40];

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		hist__record(&h, vals[i]);
		sum += vals[i];
	}
	h.sum_ns = sum;
	promtext__begin(w);
	promtext__family(w, "w_seconds", PROM_HISTOGRAM, 0, "Wait");
	assert_int_equal(promtext__hist(w, NULL, 0, &h), 0);
	s = render(w);
	for (int i = 0; i < PROM_NLE; i++) {
		__u64 below = 0;

		for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++)
			below += vals[k] < promtext__le_ns(i);
		promtext__fmt_seconds(sec, sizeof(sec), promtext__le_ns(i));
		snprintf(line, sizeof(line), "w_seconds_bucket{le=\"%s\"}", sec);
		assert_int_equal((__u64)value_of(s, line), below);
	}
	assert_int_equal((__u64)value_of(s, "w_seconds_bucket{le=\"+Inf\"}"), 11);
	assert_int_equal((__u64)value_of(s, "w_seconds_count"), 11);
	promtext__fmt_seconds(sec, sizeof(sec), sum);
	snprintf(line, sizeof(line), "w_seconds_sum %s\n", sec);
	assert_non_null(strstr(s, line));
	free(s);
	promtext__free(w);
}

static void expose_counter(struct promtext *w, const char *ns, __u64 v)
{
	struct prom_label l[] = { { "netns", ns } };

	promtext__family(w, "c_total", PROM_COUNTER, 1, "C");
	promtext__counter(w, l, 1, v);
}

/* A source that goes backwards (namespace gone, inode reused, a derived
 * count corrected) restarts at its new value: the export never decreases
 * and grows by what the source adds from there. */
static void test_monotonic(void **state)
{
	static const __u64 src[] = { 10, 15, 3, 8, 8, 0, 4 };
	static const __u64 want[] = { 10, 15, 15, 20, 20, 20, 24 };
	struct promtext *w = promtext__new(10);

	(void)state;
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		char *s;

		promtext__begin(w);
		expose_counter(w, "1", src[i]);
		s = render(w);
		assert_int_equal((__u64)value_of(s, "c_total{netns=\"1\"}"), want[i]);
		free(s);
	}
	promtext__free(w);
}

static void test_hist_monotonic(void **state)
{
	struct promtext *w = promtext__new(10);
	struct hist h = {};
	static const int want[] = { 1, 2, 2, 3 };
	char *s;

	(void)state;
	for (int round = 0; round < 4; round++) {
		if (round == 2)
			memset(&h, 0, sizeof(h));	/* the source restarted */
		hist__record(&h, 4096);
		h.sum_ns += 4096;
		promtext__begin(w);
		promtext__family(w, "h_seconds", PROM_HISTOGRAM, 0, "H");
		promtext__hist(w, NULL, 0, &h);
		s = render(w);
		assert_int_equal((__u64)value_of(s, "h_seconds_count"), want[round]);
		assert_int_equal((__u64)value_of(s, "h_seconds_bucket{le=\"+Inf\"}"), want[round]);
		free(s);
	}
	promtext__free(w);
}

/* Two places: the third identity folds into "other" with the sum of its
 * counters, counted once as folded; when one leaves, its place is free. */
static void test_fold(void **state)
{
	struct promtext *w = promtext__new(2);
	struct prom_label l[2] = { { "netns", NULL }, { "path", "syn" } };
	const char *ns[] = { "1", "2", "3", "4" };
	char *s;

	(void)state;
	for (int round = 0; round < 2; round++) {
		promtext__begin(w);
		promtext__family(w, "o_total", PROM_COUNTER, 1, "O");
		for (int i = 0; i < 4; i++) {
			l[0].value = ns[i];
			promtext__counter(w, l, 2, (__u64)(10 * (i + 1) * (round + 1)));
		}
		promtext__family(w, "q", PROM_GAUGE, 1, "Q");
		for (int i = 0; i < 4; i++) {
			l[0].value = ns[i];
			promtext__gauge(w, l, 1, i + 1);
		}
		s = render(w);
		assert_int_equal((__u64)value_of(s, "o_total{netns=\"1\",path=\"syn\"}"), 10 * (round + 1));
		assert_int_equal((__u64)value_of(s, "o_total{netns=\"other\",path=\"syn\"}"),
				 70 * (round + 1));
		assert_int_equal(value_of(s, "q{netns=\"other\"}"), 4);
		assert_int_equal(count_of(s, "netns=\"3\""), 0);
		assert_int_equal((__u64)value_of(s, "nettune_folded_series_total{family=\"o_total\"}"), 2);
		free(s);
	}
	/* identity 2 leaves: 3 takes its place; "other" keeps growing */
	promtext__begin(w);
	promtext__family(w, "o_total", PROM_COUNTER, 1, "O");
	for (int i = 0; i < 4; i++) {
		l[0].value = ns[i];
		if (i != 1)
			promtext__counter(w, l, 2, (__u64)(10 * (i + 1) * 3));
	}
	s = render(w);
	assert_int_equal((__u64)value_of(s, "o_total{netns=\"3\",path=\"syn\"}"), 30);
	assert_true(value_of(s, "o_total{netns=\"other\",path=\"syn\"}") >= 140);
	free(s);
	promtext__free(w);
}

/* The same label set twice in one exposition: one series, the first. */
static void test_duplicate(void **state)
{
	struct promtext *w = promtext__new(10);
	struct prom_label l = { "listener", "0.0.0.0:80" };
	char *s;

	(void)state;
	for (int round = 1; round <= 2; round++) {
		promtext__begin(w);
		promtext__family(w, "d_total", PROM_COUNTER, 1, "D");
		promtext__counter(w, &l, 1, 5 * round);
		promtext__counter(w, &l, 1, 5 * round);
		promtext__family(w, "e", PROM_GAUGE, 1, "E");
		promtext__gauge(w, &l, 1, 1);
		promtext__gauge(w, &l, 1, 2);
		s = render(w);
		assert_int_equal(count_of(s, "d_total{"), 1);
		assert_int_equal((__u64)value_of(s, "d_total{listener=\"0.0.0.0:80\"}"), 5 * round);
		assert_int_equal(value_of(s, "e{listener=\"0.0.0.0:80\"}"), 1);
		free(s);
	}
	promtext__free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_gauge_format),
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_hist_exact),
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_hist_monotonic),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_duplicate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
