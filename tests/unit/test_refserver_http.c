// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* refserver's request-head parser (tools/refserver/http.c): pure logic, so
 * it is compiled into this test directly; tools are not in libnettune. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "../../tools/refserver/http.c"

static enum http_parse parse(const char *s, struct http_req *r)
{
	uint32_t scan = 0;

	return http__parse(s, (uint32_t)strlen(s), 8192, &scan, r);
}

static void expect_bad(const char *s, enum http_status st)
{
	struct http_req r;

	assert_int_equal(parse(s, &r), HTTP_BAD);
	assert_int_equal(r.status, st);
}

static void test_good(void **state)
{
	const char *s = "GET /a?b HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\nGET /next";
	struct http_req r;

	(void)state;
	assert_int_equal(parse(s, &r), HTTP_DONE);
	assert_int_equal(r.method, HTTP_GET);
	assert_int_equal(r.minor, 1);
	assert_true(r.keep_alive);
	assert_int_equal(r.len, strstr(s, "GET /next") - s);
	assert_int_equal(parse("HEAD / HTTP/1.0\n\n", &r), HTTP_DONE);
	assert_int_equal(r.method, HTTP_HEAD);
	assert_false(r.keep_alive);
	assert_int_equal(r.len, 17);
}

static void test_connection(void **state)
{
	struct http_req r;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n", &r),
			 HTTP_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: te, keep-alive\r\n\r\n", &r),
			 HTTP_DONE);
	assert_true(r.keep_alive);
	/* close wins over keep-alive, in any order */
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: close\r\n"
			       "Connection: keep-alive\r\n\r\n", &r), HTTP_DONE);
	assert_false(r.keep_alive);
}

static void test_bad(void **state)
{
	(void)state;
	expect_bad("garbage\r\n", HS_400);
	expect_bad("GET  / HTTP/1.1\r\n", HS_400);
	expect_bad("GET / HTTP/1.1 \r\n", HS_400);
	expect_bad("GET / http/1.1\r\n", HS_400);
	expect_bad("G@T / HTTP/1.1\r\n", HS_400);
	expect_bad("GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", HS_400);
	expect_bad("GET / HTTP/1.1\r\nHost : x\r\n\r\n", HS_400);
	expect_bad("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", HS_400);
	expect_bad("GET / HTTP/1.1\r\n\r\n", HS_400);
	expect_bad("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", HS_400);
	expect_bad("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", HS_400);
	expect_bad("POST / HTTP/1.1\r\n", HS_405);
	expect_bad("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n", HS_413);
	expect_bad("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", HS_501);
	expect_bad("GET / HTTP/2.0\r\n", HS_505);
}

static void test_limits(void **state)
{
	char buf[100];
	struct http_req r;
	uint32_t scan = 0;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	assert_int_equal(http__parse(buf, 99, 100, &scan, &r), HTTP_MORE);
	assert_int_equal(http__parse(buf, 100, 100, &scan, &r), HTTP_BAD);
	assert_int_equal(r.status, HS_414);
	memcpy(buf, "GET / HTTP/1.1\r\nX: ", 19);
	scan = 0;
	assert_int_equal(http__parse(buf, 100, 100, &scan, &r), HTTP_BAD);
	assert_int_equal(r.status, HS_431);
	/* Content-Length: 0 is no body */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 00\r\n\r\n", &r),
			 HTTP_DONE);
}

/* Byte by byte, as a slow client sends it: MORE until the last byte, and
 * the scan hint never skips the end. */
static void test_incremental(void **state)
{
	const char *s = "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
	uint32_t n = (uint32_t)strlen(s), scan = 0;
	struct http_req r;

	(void)state;
	for (uint32_t len = 1; len < n; len++) {
		assert_int_equal(http__parse(s, len, 8192, &scan, &r), HTTP_MORE);
		assert_true(scan <= len);
	}
	assert_int_equal(http__parse(s, n, 8192, &scan, &r), HTTP_DONE);
	assert_int_equal(r.len, n);
}

static void test_responses(void **state)
{
	struct http_cache c;
	char *body = http__make_body(30), buf[512];
	uint32_t n;

	(void)state;
	assert_memory_equal(body, "abcdefghijklmnopqrstuvwxyzabcd", 30);
	/* 1994-11-06 08:49:37 UTC, RFC 9110's example date */
	assert_int_equal(http_cache__init(&c, body, 30, 784111777), 0);
	assert_string_equal(c.date, "Sun, 06 Nov 1994 08:49:37 GMT");
	assert_int_equal(c.ok_len[HTTP_GET][HTTP_C_CLOSE],
			 strlen("HTTP/1.1 200 OK\r\nServer: refserver\r\n"
				"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
				"Content-Type: text/plain\r\nContent-Length: 30\r\n"
				"Connection: close\r\n\r\n") + 30);
	assert_memory_equal(c.ok[HTTP_HEAD][HTTP_C_KEEP] + c.ok_len[HTTP_HEAD][HTTP_C_KEEP] - 4,
			    "\r\n\r\n", 4);
	n = http__error_response(&c, HS_431, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_non_null(strstr(buf, "Content-Length: 36\r\nConnection: close\r\n\r\n"
				    "431 Request Header Fields Too Large\n"));
	http_cache__fini(&c);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_connection),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_responses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
