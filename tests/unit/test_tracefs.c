// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Tracepoint format parsing: which fields a tracepoint's record has decides
 * how drops attaches kfree_skb (rx_sk: 6.12+). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "tracefs.h"

/* skb:kfree_skb as Linux 6.18 prints it (abridged). */
static const char kfree_skb_618[] =
	"name: kfree_skb\n"
	"ID: 2310\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
	"\tfield:void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:void * location;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:void * rx_sk;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned short protocol;\toffset:32;\tsize:2;\tsigned:0;\n"
	"\tfield:enum skb_drop_reason reason;\toffset:36;\tsize:4;\tsigned:0;\n\n"
	"print fmt: \"skbaddr=%p rx_sk=%p\", REC->skbaddr, REC->rx_sk\n";

/* The same before 6.12: no rx_sk. */
static const char kfree_skb_66[] =
	"format:\n"
	"\tfield:void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:void * location;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned short protocol;\toffset:24;\tsize:2;\tsigned:0;\n"
	"\tfield:enum skb_drop_reason reason;\toffset:28;\tsize:4;\tsigned:0;\n";

static void test_field_present(void **state)
{
	(void)state;
	assert_true(tracefs__format_has_field(kfree_skb_618, "rx_sk"));
	assert_true(tracefs__format_has_field(kfree_skb_618, "skbaddr"));
	assert_true(tracefs__format_has_field(kfree_skb_618, "reason"));
}

static void test_field_absent(void **state)
{
	(void)state;
	assert_false(tracefs__format_has_field(kfree_skb_66, "rx_sk"));
	/* In the print format only, not a field. */
	assert_false(tracefs__format_has_field("print fmt: \"rx_sk=%p\"\n", "rx_sk"));
	assert_false(tracefs__format_has_field("", "rx_sk"));
}

static void test_whole_names_only(void **state)
{
	(void)state;
	/* "sk" is the end of "rx_sk" but not a field of its own. */
	assert_false(tracefs__format_has_field(kfree_skb_618, "sk"));
	assert_false(tracefs__format_has_field(kfree_skb_618, "addr"));
	assert_true(tracefs__format_has_field("\tfield:struct sock *sk;\toffset:8;\n", "sk"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_present),
		cmocka_unit_test(test_field_absent),
		cmocka_unit_test(test_whole_names_only),
	};
	return cmocka_run_group_tests_name("tracefs", tests, NULL, NULL);
}
