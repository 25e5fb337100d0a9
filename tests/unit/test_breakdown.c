// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Breakdown tables (user/lib/stats/breakdown.c): rows with one id in two groups
 * stay apart with their own labels, and rows rank by count plus counters of
 * events, never by amounts such as bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "breakdown.h"
#include "hist.h"

static const char *const fails[] = { "refused", NULL };
static const char *const bytes[] = { "bytes", NULL };

/* A histogram of n samples of 1 ms. */
static struct hist *samples(__u64 n)
{
	static struct hist h;

	memset(&h, 0, sizeof(h));
	for (__u64 i = 0; i < n; i++)
		hist__record(&h, 1000000);
	return &h;
}

/* Port 443 in two namespaces: two rows, each with its own count and label. */
static void test_groups_keep_rows_apart(void **state)
{
	struct breakdown *b = breakdown__new("port", NULL);
	const struct breakdown_row *r0, *r1;
	(void)state;

	assert_non_null(b);
	assert_int_equal(breakdown__add_in(b, 111, 443, "netns 111", samples(3), NULL), 0);
	assert_int_equal(breakdown__add_in(b, 222, 443, "netns 222", samples(5), NULL), 0);
	assert_int_equal(breakdown__add_in(b, 111, 443, "netns 111", samples(1), NULL), 0);
	r0 = breakdown__row(b, 0);
	r1 = breakdown__row(b, 1);
	assert_non_null(r1);
	assert_null(breakdown__row(b, 2));
	assert_int_equal(r0->id, 443);
	assert_string_equal(r0->label, "netns 222");
	assert_int_equal(r0->h.count, 5);
	assert_int_equal(r1->id, 443);
	assert_string_equal(r1->label, "netns 111");
	assert_int_equal(r1->h.count, 4);
	breakdown__free(b);
}

/* Bytes are an amount: a process with a million 1-byte reads ranks above
 * one with ten 1 MB reads. */
static void test_amounts_do_not_rank(void **state)
{
	struct breakdown *b = breakdown__new_amounts("pid", bytes);
	__u64 many[1] = { 1000000 }, big[1] = { 10000000 };
	(void)state;

	assert_non_null(b);
	assert_int_equal(breakdown__add(b, 10, "big", samples(10), big), 0);
	assert_int_equal(breakdown__add(b, 20, "many", samples(1000), many), 0);
	assert_string_equal(breakdown__row(b, 0)->label, "many");
	breakdown__free(b);
}

/* Failed connects are events: a process whose 100 connects all failed
 * ranks above one with 10 that succeeded. */
static void test_event_counters_rank(void **state)
{
	struct breakdown *b = breakdown__new("pid", fails);
	__u64 failed[1] = { 100 };
	(void)state;

	assert_non_null(b);
	assert_int_equal(breakdown__add(b, 10, "ok", samples(10), NULL), 0);
	assert_int_equal(breakdown__add(b, 20, "refused", samples(0), failed), 0);
	assert_string_equal(breakdown__row(b, 0)->label, "refused");
	breakdown__free(b);
}

/* trace --json prints the rows as they are made, one at a time: the text
 * is the one of the whole array, here inside an object as in a report. */
static void test_printed_json_is_the_array(void **state)
{
	struct breakdown *b = breakdown__new("pid", fails);
	struct json_object *a = json_object_new_object(), *p = json_object_new_object();
	__u64 failed[1] = { 7 };
	char *want;
	(void)state;

	assert_non_null(b);
	for (__u64 i = 1; i <= 30; i++)
		assert_int_equal(breakdown__add(b, i, "proc", samples(i % 4), failed), 0);
	json_object_object_add(a, "rows", breakdown__json(b, "comm", false));
	json_object_object_add(a, "after", json_object_new_int(1));
	json_object_object_add(p, "rows", breakdown__json(b, "comm", true));
	json_object_object_add(p, "after", json_object_new_int(1));
	want = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	assert_int_equal(json_object_array_length(json_object_object_get(a, "rows")), 30);
	assert_non_null(strstr(want, "\"comm\":\"proc\",\"refused\":7,\"latency\":{\"count\":3,"));
	assert_string_equal(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN), want);
	free(want);
	json_object_put(a);
	json_object_put(p);
	breakdown__free(b);
	b = breakdown__new("pid", NULL);
	p = breakdown__json(b, "comm", true);
	assert_string_equal(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN), "[]");
	json_object_put(p);
	breakdown__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_keep_rows_apart),
		cmocka_unit_test(test_amounts_do_not_rank),
		cmocka_unit_test(test_event_counters_rank),
		cmocka_unit_test(test_printed_json_is_the_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
