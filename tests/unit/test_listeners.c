// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The per-listener table (user/lib/listeners.c) and its index
 * (user/lib/rowindex.c): rows are found again after growth, after the report
 * sorts them, and after the -p filter removes some. Their accept-wait
 * histograms go with them, and the printed JSON is the JSON of the rows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "listeners.h"
#include "hist.h"

#define N 10000

static struct listener_key key_of(unsigned i)
{
	struct listener_key k = { .netns = 4026531840u + i % 3, .port = (__u16)(1000 + i),
				  .family = i % 2 ? AF_INET6 : AF_INET };

	k.addr[0] = 127;
	k.addr[3] = (__u8)(i / 65536 + 1);
	return k;
}

/* Every key finds its own row: pid was set to the key's number + 1. */
static void check_all(struct listener_table *t, unsigned n, int step)
{
	for (unsigned i = 0; i < N; i += step) {
		struct listener_key k = key_of(i);

		assert_true(listener_table__row_exists(t, &k));
		assert_int_equal(listener_table__row(t, &k)->pid, (int)i + 1);
	}
	assert_int_equal(listener_table__len(t), n);
}

static void test_many_rows_found_after_growth_and_sort(void **state)
{
	struct listener_table *t = listener_table__new();
	FILE *devnull = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(t);
	assert_non_null(devnull);
	for (unsigned i = 0; i < N; i++) {
		struct listener_key k = key_of(i);
		struct listener_row *r = listener_table__row(t, &k);

		assert_non_null(r);
		assert_int_equal(r->pid, 0);	/* a new row is zeroed */
		r->pid = (int)i + 1;
		r->overflow_ack = i % 7;	/* so that the sort moves rows */
	}
	check_all(t, N, 1);
	listener_table__print(t, devnull);	/* sorts the rows */
	check_all(t, N, 1);
	fclose(devnull);
	listener_table__free(t);
}

static void test_filter_and_reset(void **state)
{
	struct listener_table *t = listener_table__new();
	__u32 keep[] = { 1, 3 };	/* the pids of keys 0 and 2 */
	struct listener_key k0 = key_of(0), k1 = key_of(1), k2 = key_of(2);

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		struct listener_key k = key_of(i);

		listener_table__row(t, &k)->pid = (int)i + 1;
	}
	listener_table__keep_pids(t, keep, 2);
	assert_int_equal(listener_table__len(t), 2);
	assert_int_equal(listener_table__row(t, &k0)->pid, 1);
	assert_int_equal(listener_table__row(t, &k2)->pid, 3);
	assert_false(listener_table__row_exists(t, &k1));
	listener_table__reset(t);
	assert_false(listener_table__row_exists(t, &k0));
	assert_int_equal(listener_table__row(t, &k0)->pid, 0);
	assert_int_equal(listener_table__len(t), 1);
	listener_table__free(t);
}

/* Some accept waits in the row of key i, as accept.c adds them. */
static void add_waits(struct listener_table *t, unsigned i, int n)
{
	struct listener_key k = key_of(i);
	struct listener_row *r = listener_table__row(t, &k);
	struct hist h = {};

	assert_non_null(r);
	for (int s = 0; s < n; s++)
		hist__record(&h, 20000 * (__u64)(i + 1) + 999 * (__u64)s);
	assert_int_equal(sparse_hist__add_hist(&r->wait, &h), 0);
	r->pid = (int)i + 1;
	r->overflow_syn = i % 3;
}

static void test_waits_follow_rows(void **state)
{
	struct listener_table *t = listener_table__new();
	__u32 keep[] = { 2, 4, 6 };
	struct listener_key k3 = key_of(3), k5 = key_of(5);
	FILE *devnull = fopen("/dev/null", "w");

	(void)state;
	for (unsigned i = 0; i < 8; i++)
		add_waits(t, i, (int)i);
	add_waits(t, 5, 10);	/* a second accepting process */
	listener_table__print(t, devnull);	/* sorts */
	assert_int_equal(listener_table__row(t, &k3)->wait.count, 3);
	assert_int_equal(listener_table__row(t, &k5)->wait.count, 15);
	listener_table__keep_pids(t, keep, 3);	/* frees the others' buckets */
	assert_int_equal(listener_table__len(t), 3);
	assert_int_equal(listener_table__row(t, &k5)->wait.count, 15);
	listener_table__reset(t);
	assert_int_equal(listener_table__row(t, &k5)->wait.count, 0);
	assert_null(listener_table__row(t, &k5)->wait.b);
	add_waits(t, 5, 2);
	fclose(devnull);
	listener_table__free(t);
}

/* --json prints the rows as they are made, one at a time: the text is the
 * one of the whole array, here inside an object as in a report. */
static void test_printed_json_is_the_array(void **state)
{
	struct listener_table *t = listener_table__new();
	struct json_object *a = json_object_new_object(), *b = json_object_new_object();
	char *want;

	(void)state;
	for (unsigned i = 0; i < 50; i++)
		add_waits(t, i, (int)(i % 6));
	listener_table__row(t, &(struct listener_key){ .port = 9 })->limit = 7;
	json_object_object_add(a, "listeners", listener_table__json(t));
	json_object_object_add(a, "after", json_object_new_int(1));
	json_object_object_add(b, "listeners", listener_table__json_printer(t));
	json_object_object_add(b, "after", json_object_new_int(1));
	want = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	assert_string_equal(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN), want);
	assert_non_null(strstr(want, "\"accept_wait\":{\"count\":5,"));
	free(want);
	json_object_put(a);
	json_object_put(b);
	listener_table__reset(t);
	b = listener_table__json_printer(t);
	assert_string_equal(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN), "[]");
	json_object_put(b);
	listener_table__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_rows_found_after_growth_and_sort),
		cmocka_unit_test(test_filter_and_reset),
		cmocka_unit_test(test_waits_follow_rows),
		cmocka_unit_test(test_printed_json_is_the_array),
	};
	return cmocka_run_group_tests_name("listeners", tests, NULL, NULL);
}
