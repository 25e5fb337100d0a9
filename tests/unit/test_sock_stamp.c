// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The lock-free per-socket clocks of bpf/sock_stamp.bpf.h, compiled for user
 * space: the map becomes a plain array and the start times a variable the
 * test sets, so the set, way and tag logic is checked case by case. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline
#endif
static void *bpf_map_lookup_elem(void *map, const void *key);

#include "sock_stamp.bpf.h"

static struct stamp_set sets[STAMP_SETS];
static __u64 fake_now;
static int table;	/* stands for the map: only its address is passed */

static void *bpf_map_lookup_elem(void *map, const void *key)
{
	__u32 idx = *(const __u32 *)key;

	assert_ptr_equal(map, &table);
	return idx < STAMP_SETS ? &sets[idx] : NULL;
}

static int reset(void **state)
{
	(void)state;
	memset(sets, 0, sizeof(sets));
	fake_now = 1000000;
	return 0;
}

static __u64 wait_of(__u64 cookie, __u64 now)
{
	__u64 since = stamp_stop(&table, cookie);

	return since ? stamp_elapsed(since, now) : 0;
}

/* n cookies (after the first) that share cookie 1's set, with distinct tags. */
static void same_set(__u64 *out, int n)
{
	struct stamp_ref r0 = stamp_ref(&table, 1);
	int found = 0;

	out[found++] = 1;
	for (__u64 c = 2; c < 50000000 && found < n; c++) {
		struct stamp_ref r = stamp_ref(&table, c);
		bool dup = r.tag == r0.tag;

		for (int i = 1; i < found; i++)
			dup |= stamp_ref(&table, out[i]).tag == r.tag;
		if (r.set == r0.set && !dup)
			out[found++] = c;
	}
	if (found < n)
		fail_msg("only %d cookies share a set with cookie 1", found);
}

/* A cookie with cookie 1's set and tag: its clock and 1's are the same way. */
static __u64 alias_of_1(void)
{
	struct stamp_ref r0 = stamp_ref(&table, 1);

	for (__u64 c = 2; c < 400000000; c++) {
		struct stamp_ref r = stamp_ref(&table, c);

		if (r.set == r0.set && r.tag == r0.tag)
			return c;
	}
	fail_msg("no cookie shares cookie 1's set and tag");
	return 0;
}

/* A dead socket's clock (1, never stopped) and a new socket whose cookie
 * shares its set and tag: stamp_start, for more data behind unread data,
 * takes the running clock as the new socket's own; stamp_start_new, for a
 * socket that cannot have a clock yet, takes the way over and starts from
 * now, so the new socket's wait is its own. */
static void test_new_socket_takes_over_an_aliased_clock(void **state)
{
	__u64 alias = alias_of_1();
	(void)state;

	assert_int_equal(stamp_start(&table, 1, fake_now), STAMP_STARTED);
	fake_now += 5000000000ull;	/* 5 s later */
	assert_int_equal(stamp_start(&table, alias, fake_now), STAMP_RUNNING);
	assert_int_equal(stamp_start_new(&table, alias, fake_now), STAMP_DISPLACED);
	assert_int_equal(wait_of(alias, fake_now + 1000), 1000);
	/* With no clock under its tag, a new socket's clock just starts. */
	assert_int_equal(stamp_start_new(&table, alias, fake_now), STAMP_STARTED);
	assert_int_equal(wait_of(alias, fake_now + 7), 7);
}

static void test_start_stop(void **state)
{
	(void)state;
	assert_int_equal(stamp_start(&table, 42, fake_now), STAMP_STARTED);
	assert_int_equal(wait_of(42, fake_now + 30000000), 30000000);
	/* Stopped: a second stop finds nothing. */
	assert_int_equal(stamp_stop(&table, 42), 0);
}

static void test_running_clock_keeps_first_start(void **state)
{
	(void)state;
	assert_int_equal(stamp_start(&table, 7, fake_now), STAMP_STARTED);
	fake_now += 500;
	assert_int_equal(stamp_start(&table, 7, fake_now), STAMP_RUNNING);
	assert_int_equal(wait_of(7, fake_now + 100), 600);
}

static void test_stop_without_start(void **state)
{
	(void)state;
	assert_int_equal(stamp_stop(&table, 99), 0);
	assert_int_equal(stamp_start(&table, 98, fake_now), STAMP_STARTED);
	assert_int_equal(stamp_stop(&table, 99), 0);	/* another socket's clock */
	assert_int_equal(wait_of(98, fake_now + 1), 1);
}

static void test_a_set_holds_eight_clocks(void **state)
{
	__u64 c[STAMP_WAYS];

	(void)state;
	same_set(c, STAMP_WAYS);
	for (int i = 0; i < STAMP_WAYS; i++) {
		assert_int_equal(stamp_start(&table, c[i], fake_now), STAMP_STARTED);
		fake_now += 10;
	}
	/* None displaced another: each stops with its own start. */
	for (int i = 0; i < STAMP_WAYS; i++)
		assert_int_equal(wait_of(c[i], fake_now), (STAMP_WAYS - i) * 10);
}

static void test_full_set_displaces_the_oldest(void **state)
{
	__u64 c[STAMP_WAYS + 1];

	(void)state;
	same_set(c, STAMP_WAYS + 1);
	for (int i = 0; i < STAMP_WAYS; i++) {
		assert_int_equal(stamp_start(&table, c[i], fake_now), STAMP_STARTED);
		fake_now += 10;
	}
	/* The ninth takes the oldest clock's way (c[0]); the caller is told. */
	assert_int_equal(stamp_start(&table, c[STAMP_WAYS], fake_now), STAMP_DISPLACED);
	assert_int_equal(stamp_stop(&table, c[0]), 0);
	assert_int_equal(wait_of(c[STAMP_WAYS], fake_now + 5), 5);
	assert_int_equal(wait_of(c[1], fake_now), (STAMP_WAYS - 1) * 10);
	/* Ways were freed: starting again displaces nobody. */
	assert_int_equal(stamp_start(&table, c[0], fake_now), STAMP_STARTED);
}

static void test_freed_way_is_reused(void **state)
{
	struct stamp_ref r2;
	__u64 c[3];

	(void)state;
	same_set(c, 3);
	assert_int_equal(stamp_start(&table, c[0], fake_now), STAMP_STARTED);
	assert_int_equal(stamp_start(&table, c[1], fake_now + 1), STAMP_STARTED);
	assert_int_equal(wait_of(c[0], fake_now + 2), 2);
	/* The first way is free again and is taken first; c[1] is untouched. */
	assert_int_equal(stamp_start(&table, c[2], fake_now + 3), STAMP_STARTED);
	r2 = stamp_ref(&table, c[2]);
	assert_true(stamp_mine(&r2, r2.set[0]));
	assert_int_equal(wait_of(c[1], fake_now + 4), 3);
	assert_int_equal(wait_of(c[2], fake_now + 4), 1);
}

static void test_distinct_sets_do_not_interfere(void **state)
{
	(void)state;
	for (__u64 c = 1; c <= 1000; c++) {
		assert_int_equal(stamp_start(&table, c, fake_now), STAMP_STARTED);
		fake_now += 1;
	}
	/* 1,000 clocks at once in 1,024 sets of 8: no set overflows. */
	for (__u64 c = 1; c <= 1000; c++)
		assert_int_equal(wait_of(c, fake_now), 1001 - c);
}

static void test_wraps_after_48_bits(void **state)
{
	(void)state;
	fake_now = (1ull << 48) - 10;
	assert_int_equal(stamp_start(&table, 5, fake_now), STAMP_STARTED);
	assert_int_equal(wait_of(5, (1ull << 48) + 5), 15);
}

static void test_start_at_time_zero_still_runs(void **state)
{
	(void)state;
	fake_now = 0;	/* the timestamp bits are 0: the tag keeps the word non-zero */
	assert_int_equal(stamp_start(&table, 11, fake_now), STAMP_STARTED);
	assert_int_equal(stamp_start(&table, 11, fake_now), STAMP_RUNNING);
	assert_int_equal(wait_of(11, 3), 3);
}

static void test_start_after_now_is_no_wait(void **state)
{
	(void)state;
	/* A start rounded up to the middle of its microsecond can lie a few
	 * hundred ns after a read that follows at once: no wait, not 2^48. */
	assert_int_equal(stamp_start(&table, 12, fake_now + 400), STAMP_STARTED);
	assert_int_equal(wait_of(12, fake_now), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_start_stop, reset),
		cmocka_unit_test_setup(test_running_clock_keeps_first_start, reset),
		cmocka_unit_test_setup(test_stop_without_start, reset),
		cmocka_unit_test_setup(test_a_set_holds_eight_clocks, reset),
		cmocka_unit_test_setup(test_full_set_displaces_the_oldest, reset),
		cmocka_unit_test_setup(test_freed_way_is_reused, reset),
		cmocka_unit_test_setup(test_distinct_sets_do_not_interfere, reset),
		cmocka_unit_test_setup(test_wraps_after_48_bits, reset),
		cmocka_unit_test_setup(test_start_at_time_zero_still_runs, reset),
		cmocka_unit_test_setup(test_start_after_now_is_no_wait, reset),
		cmocka_unit_test_setup(test_new_socket_takes_over_an_aliased_clock, reset),
	};
	return cmocka_run_group_tests_name("sock_stamp", tests, NULL, NULL);
}
