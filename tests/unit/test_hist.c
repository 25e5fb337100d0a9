// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Histogram bucketing and percentile math (bpf/hist_layout.h, user/lib/stats/hist.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hist.h"

static void test_small_values_are_exact(void **state)
{
	(void)state;
	for (__u64 v = 0; v < 2 * HIST_SUB; v++) {
		__u32 b = hist_bucket(v);

		assert_int_equal(b, v);
		assert_int_equal(hist__bucket_lower(b), v);
		assert_int_equal(hist__bucket_upper(b), v + 1);
	}
}

/* Every value lies inside the bounds of its bucket, and the bucket is no
 * wider than 1/16 of its lower bound. */
static void check_value(__u64 v)
{
	__u32 b = hist_bucket(v);
	__u64 lo = hist__bucket_lower(b), hi = hist__bucket_upper(b);

	assert_true(b < HIST_NBUCKETS);
	assert_true(lo <= v);
	if (b == HIST_NBUCKETS - 1)
		return;	/* the overflow bucket is unbounded above */
	assert_true(v < hi);
	if (lo >= HIST_SUB)
		assert_true((hi - lo) * HIST_SUB <= lo);
}

static void test_powers_of_two_and_edges(void **state)
{
	(void)state;
	for (int e = 0; e < 64; e++) {
		__u64 p = 1ULL << e;

		check_value(p);
		check_value(p - 1);
		check_value(p + 1);
	}
	check_value(0);
	check_value(1);
	check_value(~0ULL);
	/* A power of two starts a bucket: it is its bucket's lower bound. */
	for (int e = HIST_SUB_BITS; e <= HIST_MAX_EXP; e++)
		assert_int_equal(hist__bucket_lower(hist_bucket(1ULL << e)), 1ULL << e);
}

static void test_buckets_are_contiguous(void **state)
{
	(void)state;
	for (__u32 b = 0; b + 1 < HIST_NBUCKETS; b++) {
		assert_int_equal(hist__bucket_upper(b), hist__bucket_lower(b + 1));
		/* value -> bucket -> value round trip at both edges */
		assert_int_equal(hist_bucket(hist__bucket_lower(b)), b);
		assert_int_equal(hist_bucket(hist__bucket_upper(b) - 1), b);
	}
}

static void test_largest_value_clamps(void **state)
{
	(void)state;
	assert_int_equal(hist_bucket(~0ULL), HIST_NBUCKETS - 1);
	assert_int_equal(hist_bucket(1ULL << (HIST_MAX_EXP + 1)), HIST_NBUCKETS - 1);
	assert_int_equal(hist__bucket_upper(HIST_NBUCKETS - 1), ~0ULL);
}

static void test_percentiles(void **state)
{
	struct hist h = {};
	struct hist_summary s;
	(void)state;

	/* 1..1000 µs, one sample each: p50 = 500 µs, p99 = 990 µs. */
	for (__u64 us = 1; us <= 1000; us++)
		hist__record(&h, us * 1000);
	hist__summarize(&h, &s);
	assert_int_equal(s.count, 1000);
	assert_true(s.p50_ns >= 500000 * 31 / 32 && s.p50_ns <= 500000 * 33 / 32);
	assert_true(s.p90_ns >= 900000 * 31 / 32 && s.p90_ns <= 900000 * 33 / 32);
	assert_true(s.p99_ns >= 990000 * 31 / 32 && s.p99_ns <= 990000 * 33 / 32);
	assert_int_equal(s.max_ns, 1000000);
	assert_true(s.p999_ns <= s.max_ns);
	assert_int_equal(s.mean_ns, 500500);
}

static void test_quantile_single_and_empty(void **state)
{
	struct hist h = {};
	(void)state;

	assert_int_equal(hist__quantile(&h, 0.5), 0);
	hist__record(&h, 40000000);	/* 40 ms */
	/* Never above the true max, within half a bucket below it. */
	assert_true(hist__quantile(&h, 0.5) <= 40000000);
	assert_true(hist__quantile(&h, 0.5) >= 40000000 - 40000000 / 16);
	assert_int_equal(hist__quantile(&h, 1.0), hist__quantile(&h, 0.5));
}

static void test_add_and_delta(void **state)
{
	struct hist a = {}, b = {}, d;
	(void)state;

	hist__record(&a, 100);
	hist__record(&a, 5000);
	b = a;
	hist__record(&b, 3000000);	/* the interval adds one 3 ms sample */
	hist__delta(&d, &b, &a);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.buckets[hist_bucket(3000000)], 1);
	assert_int_equal(d.max_ns, 3000000);
	hist__add(&d, &a);
	assert_int_equal(d.count, 3);
	assert_int_equal(d.sum_ns, 3005100);
}

static void test_delta_max_bounded_by_interval(void **state)
{
	struct hist a = {}, b, d;
	(void)state;

	hist__record(&a, 9000000);	/* old max 9 ms, before the interval */
	b = a;
	hist__record(&b, 1000);		/* interval only has 1 µs */
	hist__delta(&d, &b, &a);
	assert_true(d.max_ns < 2000);
}

/* Taking the probes' own time off: quantiles move down by d within a
 * bucket, nothing goes below 0, count stays, sum and max follow. */
static void test_shift_down(void **state)
{
	static struct hist h, out;
	const __u64 d = 9472;
	__u64 want_sum = 0, v;

	(void)state;
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 1000; i++) {
		v = 29000 + (__u64)(i % 10) * 100;	/* ~29.0-29.9 µs */
		hist__record(&h, v);
		want_sum += v - d;
	}
	for (int i = 0; i < 1000; i++) {
		v = 9400 + (__u64)(i % 5) * 40;		/* ~d: to ~0 */
		hist__record(&h, v);
		want_sum += v > d ? v - d : 0;
	}
	hist__shift_down(&out, &h, d);
	assert_int_equal(out.count, h.count);
	/* p25 of ~9.4-9.56 µs less d: 0 or within a bucket of it */
	assert_true(hist__quantile(&out, 0.25) <= hist__bucket_upper(hist_bucket(9560)) -
						 hist__bucket_lower(hist_bucket(9560)));
	/* p75 ~29.5 µs less d ~20 µs, within one bucket of 29.5 µs (1,024 ns) */
	assert_true(hist__quantile(&out, 0.75) + 1024 >= 29500 - d);
	assert_true(hist__quantile(&out, 0.75) <= 29500 - d + 1024);
	assert_int_equal(out.max_ns, h.max_ns - d);
	/* mean: the clamped samples count as 0, not as negative; a sample in
	 * a bucket that reaches below d adds at most its bucket's width more
	 * than the truth (the price of a sum that never falls, below) */
	assert_true(out.sum_ns >= h.sum_ns - h.count * d);
	assert_true(out.sum_ns >= want_sum);
	assert_true(out.sum_ns <= want_sum + 1000 * (hist__bucket_upper(hist_bucket(9560)) -
						      hist__bucket_lower(hist_bucket(9400))));
	/* nothing to take off: a copy */
	hist__shift_down(&out, &h, 0);
	assert_memory_equal(&out, &h, sizeof(h));
	/* more than everything: all at 0 (the sum within a bucket's width of
	 * it per sample) */
	hist__shift_down(&out, &h, 1000000);
	assert_int_equal(out.buckets[0], h.count);
	assert_true(out.sum_ns <= 1000 * 1024 + 1000 * 256);
	assert_int_equal(out.max_ns, 0);
}

/* serve exports cumulative histograms, corrected at each scrape: adding
 * samples must never make the corrected sum fall, or Prometheus reads a
 * restart and the exporter drops the whole histogram's increments. Samples
 * just below d, low in their bucket, made it fall before. */
static void test_shift_down_sum_never_falls(void **state)
{
	static struct hist h, out;
	const __u64 d = 9500;
	__u64 prev;

	(void)state;
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 1000; i++)
		hist__record(&h, 12000);
	hist__shift_down(&out, &h, d);
	prev = out.sum_ns;
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 100; i++)
			hist__record(&h, 8710);	/* low in its bucket, below d */
		hist__shift_down(&out, &h, d);
		assert_true(out.sum_ns >= prev);
		prev = out.sum_ns;
	}
}

static void test_fmt_units(void **state)
{
	char buf[32];
	(void)state;

	assert_string_equal(hist__fmt_ns(buf, sizeof(buf), 950), "950 ns");
	assert_string_equal(hist__fmt_ns(buf, sizeof(buf), 12300), "12.3 µs");
	assert_string_equal(hist__fmt_ns(buf, sizeof(buf), 40100000), "40.1 ms");
	assert_string_equal(hist__fmt_ns(buf, sizeof(buf), 2500000000ULL), "2.5 s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_values_are_exact),
		cmocka_unit_test(test_powers_of_two_and_edges),
		cmocka_unit_test(test_buckets_are_contiguous),
		cmocka_unit_test(test_largest_value_clamps),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_quantile_single_and_empty),
		cmocka_unit_test(test_add_and_delta),
		cmocka_unit_test(test_delta_max_bounded_by_interval),
		cmocka_unit_test(test_shift_down),
		cmocka_unit_test(test_shift_down_sum_never_falls),
		cmocka_unit_test(test_fmt_units),
	};
	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
