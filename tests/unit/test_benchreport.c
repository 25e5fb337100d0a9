// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* nettune bench's numbers (user/lib/bench/benchreport.c): taken from loadgen's
 * JSON as loadgen wrote them, absurd values clamped, the table within 100
 * columns. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "benchreport.h"

static const char loadgen[] =
	"{\"mode\":\"http-close\",\"duration_s\":2.0,"
	"\"operations\":{\"started\":600,\"completed\":598,\"failed\":2},"
	"\"connections\":{\"opened\":600,\"slow\":213},"
	"\"errors\":{\"refused\":0,\"reset\":1,\"timeout\":1,\"other\":0,\"causes\":{}},"
	"\"http_status\":{\"1xx\":0,\"2xx\":598,\"3xx\":0,\"4xx\":0,\"5xx\":0,\"other\":0},"
	"\"latency\":{\"connect\":{\"count\":600,\"p99_us\":2046820.352},"
	"\"response\":{\"count\":598,\"p99_us\":2348810.24}}}";

static void test_loadgen(void **state)
{
	struct json_object *o = json_tokener_parse(loadgen);
	struct bench_metrics m = {};
	(void)state;

	assert_int_equal(benchreport__loadgen(o, &m), 0);
	assert_true(m.seconds == 2.0);
	assert_int_equal(m.ok, 598);
	assert_true(m.ok_per_s == 299.0);
	assert_int_equal(m.errors, 2);
	assert_int_equal(m.slow_connects, 213);
	assert_true(m.connect_p99_us == 2046820.352);
	assert_true(m.response_p99_us == 2348810.24);
	benchreport__counters(441, 441, &m);
	assert_true(m.overflows_per_s == 220.5);
	json_object_put(o);

	o = json_tokener_parse("{\"operations\":{},\"duration_s\":-3,\"http_status\":{\"2xx\":-1},"
			       "\"latency\":{\"connect\":{\"p99_us\":\"x\"}}}");
	memset(&m, 0, sizeof(m));
	assert_int_equal(benchreport__loadgen(o, &m), 0);
	assert_true(m.seconds == 0 && m.ok == 0 && m.ok_per_s == 0 && m.connect_p99_us == 0);
	benchreport__counters(5, 5, &m);
	assert_true(m.overflows_per_s == 0);	/* no window, no rate */
	json_object_put(o);
	assert_int_equal(benchreport__loadgen(NULL, &m), -EINVAL);
	o = json_object_new_array();
	assert_int_equal(benchreport__loadgen(o, &m), -EINVAL);
	json_object_put(o);
}

static void test_trace(void **state)
{
	struct json_object *o = json_tokener_parse(
		"{\"accept\":{\"count\":89,\"p99_us\":343900.0}}");
	struct bench_metrics m = {};
	(void)state;

	benchreport__trace(o, &m);
	assert_true(m.accept_wait_p99_us == 343900.0);
	json_object_put(o);
	o = json_tokener_parse("{\"accept\":{\"count\":0,\"p99_us\":0}}");
	benchreport__trace(o, &m);
	assert_true(m.accept_wait_p99_us < 0);	/* nothing accepted: shown as "-" */
	json_object_put(o);
}

static void test_table_fits(void **state)
{
	static const char *const names[] = { "16, 1 loop", "1024, 1 loop", "16, 2 reuseport",
					     "1024, 2 reuseport", "a fifth is dropped" };
	struct bench_metrics m[5] = {};
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int lines = 0;
	(void)state;

	for (int i = 0; i < 5; i++) {
		m[i].ok_per_s = 123456789.5;
		m[i].errors = UINT64_MAX;
		m[i].connect_p99_us = 1e12;
		m[i].accept_wait_p99_us = i ? 1.5 : -1;
	}
	benchreport__table(f, names, m, 5);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(strlen(line) <= 100);
		lines++;
	}
	assert_int_equal(lines, 10);	/* header and nine rows */
	free(text);
}

static void test_json(void **state)
{
	struct bench_metrics m = { .seconds = 2, .ok = 600, .accept_wait_p99_us = -1 };
	struct json_object *o = benchreport__json(&m), *v;
	(void)state;

	assert_true(json_object_object_get_ex(o, "accept_wait_p99_us", &v));
	assert_null(v);	/* unknown, not 0 */
	assert_int_equal(json_object_get_int(json_object_object_get(o, "ok")), 600);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loadgen),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_table_fits),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
