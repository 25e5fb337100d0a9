// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Text for a terminal: names others choose (delegated cgroups) must not
 * break a line or carry an escape sequence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "text.h"

static void test_printable_kept(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(text__printable("/system.slice/nginx.service", b, sizeof(b)),
			    "/system.slice/nginx.service");
	/* UTF-8 is text: é (c3 a9), ß (c3 9f: a continuation byte in C1's
	 * range), € (e2 82 ac), an emoji (f0 9f 98 80). */
	assert_string_equal(text__printable("caf\xc3\xa9-\xc3\x9f-\xe2\x82\xac-\xf0\x9f\x98\x80", b,
					    sizeof(b)),
			    "caf\xc3\xa9-\xc3\x9f-\xe2\x82\xac-\xf0\x9f\x98\x80");
	assert_string_equal(text__printable("", b, sizeof(b)), "");
}

static void test_controls_replaced(void **state)
{
	char b[64];

	(void)state;
	/* A newline, an ANSI escape (ESC [ 2 J), a tab, DEL. */
	assert_string_equal(text__printable("a\nb\x1b[2Jc\td\x7f", b, sizeof(b)), "a?b?[2Jc?d?");
	/* C1 controls: CSI as one byte (9b), and as UTF-8 (c2 9b). */
	assert_string_equal(text__printable("x\x9b" "1my\xc2\x9bz", b, sizeof(b)), "x?1my?z");
	/* Not UTF-8: a lone continuation byte, a truncated sequence, an
	 * overlong slash (c0 af), a surrogate (ed a0 80). */
	assert_string_equal(text__printable("\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80", b, sizeof(b)),
			    "?|??|??|???");
}

static void test_truncated_on_a_character(void **state)
{
	char b[5];

	(void)state;
	assert_string_equal(text__printable("abcdef", b, sizeof(b)), "abcd");
	/* "abc€": the 3-byte € does not fit after "abc" (4 bytes and the NUL) ... */
	assert_string_equal(text__printable("abc\xe2\x82\xac", b, sizeof(b)), "abc");
	/* ... and no half of it is written; after "a" it fits */
	assert_string_equal(text__printable("a\xe2\x82\xac", b, sizeof(b)), "a\xe2\x82\xac");
	assert_string_equal(text__printable("ab\xe2\x82\xac", b, sizeof(b)), "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printable_kept),
		cmocka_unit_test(test_controls_replaced),
		cmocka_unit_test(test_truncated_on_a_character),
	};
	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
