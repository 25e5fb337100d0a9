// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Output formatting: terminal histogram and JSON latency object. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "report.h"

static char *render(const struct hist *h)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	report__hist(f, "  ", h);
	fclose(f);
	return buf;
}

static int display_width(const char *s, size_t n)
{
	int w = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

static void test_terminal_fits_and_counts(void **state)
{
	struct hist h = {};
	char *out, *line, *save = NULL;
	__u64 total = 0;
	int rows = 0;
	(void)state;

	for (__u64 i = 1; i <= 5000; i++)
		hist__record(&h, i * 997 * 13);	/* 13 µs .. 65 ms */
	out = render(&h);
	assert_non_null(strstr(out, "count 5000"));
	assert_non_null(strstr(out, "p50 "));
	assert_non_null(strstr(out, "p99.9 "));
	assert_non_null(strstr(out, "max "));
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long n;
		char *bar = strchr(line, '|');

		assert_true(display_width(line, strlen(line)) <= 100);
		if (!bar)
			continue;
		rows++;
		n = strtoull(bar - 10, NULL, 10);	/* the count column */
		total += n;
	}
	assert_true(rows > 0 && rows <= REPORT_MAX_ROWS + 2);
	assert_int_equal(total, 5000);	/* merged rows lose no sample */
	free(out);
}

static void test_terminal_units(void **state)
{
	struct hist h = {};
	char *out;
	(void)state;

	hist__record(&h, 40000000);	/* 40 ms */
	out = render(&h);
	assert_non_null(strstr(out, " ms"));
	assert_null(strstr(out, " µs .."));
	free(out);
}

static void test_empty(void **state)
{
	struct hist h = {};
	char *out;
	(void)state;

	out = render(&h);
	assert_string_equal(out, "  count 0\n");
	free(out);
}

static void test_json_shape(void **state)
{
	struct hist h = {};
	struct json_object *o, *v, *b;
	(void)state;

	for (int i = 0; i < 100; i++)
		hist__record(&h, 30000000 + i * 1000);	/* 30.0 .. 30.1 ms */
	o = report__latency_json(&h);
	assert_true(json_object_object_get_ex(o, "count", &v));
	assert_int_equal(json_object_get_uint64(v), 100);
	assert_true(json_object_object_get_ex(o, "p50_us", &v));
	assert_true(json_object_get_double(v) > 29000 && json_object_get_double(v) < 31000);
	assert_true(json_object_object_get_ex(o, "max_us", &v));
	assert_string_equal(json_object_to_json_string(v), "30099.000");
	for (const char *k = "p90_us\0p99_us\0p999_us\0mean_us\0"; *k; k += strlen(k) + 1)
		assert_true(json_object_object_get_ex(o, k, &v));
	assert_true(json_object_object_get_ex(o, "buckets", &b));
	assert_true(json_object_array_length(b) >= 1);
	v = json_object_array_get_idx(b, 0);
	assert_true(json_object_object_get_ex(v, "lo_us", NULL));
	assert_true(json_object_object_get_ex(v, "hi_us", NULL));
	assert_true(json_object_object_get_ex(v, "count", NULL));
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terminal_fits_and_counts),
		cmocka_unit_test(test_terminal_units),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_json_shape),
	};
	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
