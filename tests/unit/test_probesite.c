// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Cheapest uprobe sites (user/lib/sym/probesite.c): the Go stack bound
 * check's jbe in the forms the Go compiler emits, nothing anywhere else;
 * the class of an entry instruction. Byte sequences as objdump shows them
 * in the goserver fixture (Go 1.19). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "probesite.h"

static void test_go_entry_forms(void **state)
{
	/* cmp rsp,[r14+0x10]; jbe rel8 */
	static const __u8 small[] = { 0x49, 0x3b, 0x66, 0x10, 0x76, 0x2e, 0x48, 0x83, 0xec, 0x10 };
	/* cmp rsp,[r14+0x10]; jbe rel32 */
	static const __u8 far[] = { 0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0x10, 0x02, 0x00, 0x00 };
	/* lea r12,[rsp-0x10]; cmp r12,[r14+0x10]; jbe rel8 */
	static const __u8 lea8[] = { 0x4c, 0x8d, 0x64, 0x24, 0xf0, 0x4d, 0x3b, 0x66, 0x10, 0x76, 0x20 };
	/* lea r12,[rsp-0x1000]; cmp r12,[r14+0x10]; jbe rel32 */
	static const __u8 lea32[] = { 0x4c, 0x8d, 0xa4, 0x24, 0x00, 0xf0, 0xff, 0xff,
				      0x4d, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0x00, 0x01, 0x00, 0x00 };

	(void)state;
	assert_int_equal(probesite__go_entry(small, sizeof(small)), 4);
	assert_int_equal(probesite__go_entry(far, sizeof(far)), 4);
	assert_int_equal(probesite__go_entry(lea8, sizeof(lea8)), 9);
	assert_int_equal(probesite__go_entry(lea32, sizeof(lea32)), 12);
	assert_int_equal(probesite__classify(small + 4, sizeof(small) - 4), PROBESITE_BRANCH);
	assert_int_equal(probesite__classify(far + 4, sizeof(far) - 4), PROBESITE_BRANCH);
}

static void test_go_entry_stays(void **state)
{
	/* sub rsp,0x18 (a function without the check: nosplit) */
	static const __u8 nosplit[] = { 0x48, 0x83, 0xec, 0x18, 0x48, 0x89, 0x6c, 0x24, 0x10 };
	/* cmp rsp,[r14+0x10] followed by something other than jbe */
	static const __u8 notjbe[] = { 0x49, 0x3b, 0x66, 0x10, 0x74, 0x2e };
	/* cmp rsp,[r14+0x18]: not stackguard0 */
	static const __u8 other[] = { 0x49, 0x3b, 0x66, 0x18, 0x76, 0x2e };
	/* cut short: the jbe is not all there */
	static const __u8 cut[] = { 0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0x10 };

	(void)state;
	assert_int_equal(probesite__go_entry(nosplit, sizeof(nosplit)), 0);
	assert_int_equal(probesite__go_entry(notjbe, sizeof(notjbe)), 0);
	assert_int_equal(probesite__go_entry(other, sizeof(other)), 0);
	assert_int_equal(probesite__go_entry(cut, sizeof(cut)), 0);
	assert_int_equal(probesite__go_entry(cut, 0), 0);
}

static void test_classify(void **state)
{
	static const __u8 push_rbp[] = { 0x55 }, push_r12[] = { 0x41, 0x54 },
		jmp8[] = { 0xeb, 0x99 }, call[] = { 0xe8, 0, 0, 0, 0 }, nop[] = { 0x90 },
		endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa }, mov[] = { 0xbf, 0x20, 0x4e, 0, 0 },
		nopl[] = { 0x0f, 0x1f, 0x44, 0, 0 }, cmp[] = { 0x49, 0x3b, 0x66, 0x10 };

	(void)state;
	assert_int_equal(probesite__classify(push_rbp, 1), PROBESITE_PUSH);
	assert_int_equal(probesite__classify(push_r12, 2), PROBESITE_PUSH);
	assert_int_equal(probesite__classify(jmp8, 2), PROBESITE_BRANCH);
	assert_int_equal(probesite__classify(call, 5), PROBESITE_BRANCH);
	assert_int_equal(probesite__classify(nop, 1), PROBESITE_BRANCH);
	/* endbr64 and the long nop are single-stepped on 6.18 (measured) */
	assert_int_equal(probesite__classify(endbr, 4), PROBESITE_STEPPED);
	assert_int_equal(probesite__classify(nopl, 5), PROBESITE_STEPPED);
	assert_int_equal(probesite__classify(mov, 5), PROBESITE_STEPPED);
	assert_int_equal(probesite__classify(cmp, 4), PROBESITE_STEPPED);
	assert_int_equal(probesite__classify(cmp, 0), PROBESITE_STEPPED);
	assert_string_equal(probesite__class_name(PROBESITE_BRANCH), "branch");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_entry_forms),
		cmocka_unit_test(test_go_entry_stays),
		cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
