// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The lock-free per-socket clocks of bpf/sock_stamp.bpf.h, compiled for user
 * space: the map becomes a plain array and the start times a variable the
 * test sets, so the slot and tag logic is checked case by case. */
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

static __u64 slots[STAMP_SLOTS];
static __u64 fake_now;
static int table;	/* stands for the map: only its address is passed */

static void *bpf_map_lookup_elem(void *map, const void *key)
{
	__u32 idx = *(const __u32 *)key;

	assert_ptr_equal(map, &table);
	return idx < STAMP_SLOTS ? &slots[idx] : NULL;
}

static int reset(void **state)
{
	(void)state;
	memset(slots, 0, sizeof(slots));
	fake_now = 1000000;
	return 0;
}

static __u64 wait_of(__u64 cookie, __u64 now)
{
	__u64 since = stamp_stop(&table, cookie);

	return since ? stamp_elapsed(since, now) : 0;
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

/* Two cookies that land in the same slot with different tags. */
static void same_slot_pair(__u64 *a, __u64 *b)
{
	struct stamp_ref r0 = stamp_ref(&table, 1);

	*a = *b = 0;
	for (__u64 c = 2; c < 50000000; c++) {
		struct stamp_ref r = stamp_ref(&table, c);

		if (r.slot == r0.slot && r.tag != r0.tag) {
			*a = 1;
			*b = c;
			return;
		}
	}
	fail_msg("no cookie shares a slot with cookie 1");
}

static void test_displacement_is_reported(void **state)
{
	__u64 a, b;

	(void)state;
	same_slot_pair(&a, &b);
	assert_int_equal(stamp_start(&table, a, fake_now), STAMP_STARTED);
	fake_now += 10;
	/* b takes the slot: a's measurement is lost, and the caller told. */
	assert_int_equal(stamp_start(&table, b, fake_now), STAMP_DISPLACED);
	assert_int_equal(stamp_stop(&table, a), 0);
	assert_int_equal(wait_of(b, fake_now + 5), 5);
	/* Once stopped, the slot is free: no displacement. */
	assert_int_equal(stamp_start(&table, a, fake_now), STAMP_STARTED);
}

static void test_distinct_slots_do_not_interfere(void **state)
{
	(void)state;
	for (__u64 c = 1; c <= 100; c++) {
		assert_int_equal(stamp_start(&table, c, fake_now), STAMP_STARTED);
		fake_now += 1;
	}
	/* 100 clocks at once in 65,536 slots may collide; with these cookies
	 * they do not (Fibonacci hashing spreads consecutive values). */
	for (__u64 c = 1; c <= 100; c++)
		assert_int_equal(wait_of(c, fake_now), 101 - c);
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

static void test_stop_returns_the_started_word(void **state)
{
	struct stamp_ref r = stamp_ref(&table, 13);

	(void)state;
	assert_int_equal(stamp_start_ref(&r, fake_now), STAMP_STARTED);
	assert_int_equal(*r.slot, stamp_word(&r, fake_now));
	assert_int_equal(stamp_stop_ref(&r), stamp_word(&r, fake_now));
	assert_int_equal(*r.slot, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_start_stop, reset),
		cmocka_unit_test_setup(test_running_clock_keeps_first_start, reset),
		cmocka_unit_test_setup(test_stop_without_start, reset),
		cmocka_unit_test_setup(test_displacement_is_reported, reset),
		cmocka_unit_test_setup(test_distinct_slots_do_not_interfere, reset),
		cmocka_unit_test_setup(test_wraps_after_48_bits, reset),
		cmocka_unit_test_setup(test_start_at_time_zero_still_runs, reset),
		cmocka_unit_test_setup(test_start_after_now_is_no_wait, reset),
		cmocka_unit_test_setup(test_stop_returns_the_started_word, reset),
	};
	return cmocka_run_group_tests_name("sock_stamp", tests, NULL, NULL);
}
