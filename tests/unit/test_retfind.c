// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* RET finding (user/lib/sym/retfind.c): hand-assembled code, and the fixture
 * functions, whose RETs must be exactly those objdump lists (truth.txt). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <elf.h>
#include "fixtures.h"
#include "elfsym.h"
#include "gopclntab.h"
#include "retfind.h"

static void scan(const __u8 *code, size_t len, struct retfind_result *res)
{
	assert_int_equal(retfind__scan(EM_X86_64, code, len, 0x401000, res), 0);
}

static void test_ret_bytes_inside_instructions(void **state)
{
	/* push rbp; mov rbp,rsp; mov eax,0xc3c3c3c3; pop rbp; ret; int3 x3 */
	static const __u8 code[] = {
		0x55, 0x48, 0x89, 0xe5, 0xb8, 0xc3, 0xc3, 0xc3, 0xc3, 0x5d, 0xc3,
		0xcc, 0xcc, 0xcc,
	};
	struct retfind_result res;

	(void)state;
	scan(code, sizeof(code), &res);
	assert_int_equal(res.cnt, 1);
	assert_int_equal(res.offs[0], 10);
	assert_int_equal(res.skipped, 0);
	assert_int_equal(res.insns, 8);
	retfind__result_free(&res);
	retfind__result_free(NULL);
}

static void test_ret_forms(void **state)
{
	/* ret 8; repz ret; bnd ret; je +1; ret; ret */
	static const __u8 code[] = {
		0xc2, 0x08, 0x00, 0xf3, 0xc3, 0xf2, 0xc3, 0x74, 0x01, 0xc3, 0xc3,
	};
	static const __u32 want[] = { 0, 3, 5, 9, 10 };
	struct retfind_result res;

	(void)state;
	scan(code, sizeof(code), &res);
	assert_int_equal(res.cnt, 5);
	assert_memory_equal(res.offs, want, sizeof(want));
	retfind__result_free(&res);
}

/* 0x06 (push es) does not exist in 64-bit mode: one byte is skipped and
 * the RET after it is still found, and the skip is reported. */
static void test_undecodable_byte(void **state)
{
	static const __u8 code[] = { 0x90, 0x06, 0xc3 };
	struct retfind_result res;

	(void)state;
	scan(code, sizeof(code), &res);
	assert_int_equal(res.skipped, 1);
	assert_int_equal(res.cnt, 1);
	assert_int_equal(res.offs[0], 2);
	retfind__result_free(&res);
	scan(code, 0, &res);
	assert_int_equal(res.cnt, 0);
	assert_null(res.offs);
}

static void test_other_machine(void **state)
{
	static const __u8 code[] = { 0xc0, 0x03, 0x5f, 0xd6 };	/* arm64 ret */
	struct retfind_result res;

	(void)state;
	assert_int_equal(retfind__scan(EM_AARCH64, code, sizeof(code), 0, &res), -EOPNOTSUPP);
	assert_int_equal(retfind__branches_to(EM_AARCH64, code, 4, 0, 0), -EOPNOTSUPP);
}

static void test_branches_to(void **state)
{
	/* at 0x1000: call 0x2000; call *%rax; jmp 0x3000 */
	static const __u8 code[] = {
		0xe8, 0xfb, 0x0f, 0x00, 0x00, 0xff, 0xd0, 0xe9, 0xf4, 0x1f, 0x00, 0x00,
	};

	(void)state;
	assert_int_equal(retfind__branches_to(EM_X86_64, code, sizeof(code), 0x1000, 0x2000), 1);
	assert_int_equal(retfind__branches_to(EM_X86_64, code, sizeof(code), 0x1000, 0x3000), 1);
	assert_int_equal(retfind__branches_to(EM_X86_64, code, sizeof(code), 0x1000, 0x2001), 0);
}

/* RET addresses of bin's sym over size bytes from vaddr equal objdump's,
 * and the byte at each RET's file offset is 0xc3. */
static void check_rets(const char *path, struct elfsym *e, const struct truth *t, __u64 size)
{
	struct retfind_result res;
	const void *code = elfsym__data_at(e, t->vaddr, size);
	__u64 off;
	size_t i;

	assert_non_null(code);
	assert_int_equal(retfind__scan(EM_X86_64, code, size, t->vaddr, &res), 0);
	assert_int_equal(res.skipped, 0);
	assert_int_equal(res.cnt, t->nrets);
	for (i = 0; i < res.cnt; i++) {
		assert_true(res.offs[i] < t->size);
		assert_int_equal(t->vaddr + res.offs[i], t->rets[i]);
		assert_int_equal(elfsym__vaddr_to_offset(e, t->rets[i], &off), 0);
		assert_int_equal(off, t->offset + res.offs[i]);
		assert_int_equal(byte_at(path, off), 0xc3);
	}
	retfind__result_free(&res);
}

static void check_symtab(const char *bin, const char *const *syms, size_t n)
{
	char path[4096];
	struct elfsym *e;
	struct truth t;
	size_t i;

	if (!fixture(bin, path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	for (i = 0; i < n; i++) {
		if (truth_get(bin, syms[i], &t))
			skip();
		assert_true(t.nrets >= 1);
		check_rets(path, e, &t, t.size);
	}
	elfsym__close(e);
}

static const char *const go_syms[] = {
	"main.work", "main.classify", "main.recurse", "net/http.serverHandler.ServeHTTP",
};
static const char *const c_syms[] = { "cfunc_work", "cfunc_classify", "main" };

static void test_go_functions(void **state)
{
	(void)state;
	check_symtab("goserver", go_syms, 4);
	check_symtab("goserver-pie", go_syms, 4);
	check_symtab("goserver-extpie", go_syms, 4);
}

static void test_c_functions(void **state)
{
	static const char *const lib[] = { "cfunc_lib_work" };

	(void)state;
	check_symtab("cfunc-nopie", c_syms, 3);
	check_symtab("cfunc-pie", c_syms, 3);
	check_symtab("libcfunc.so", lib, 1);
}

/* Stripped: the size comes from the function table and runs into the INT3
 * padding; the RETs found must still be exactly objdump's. */
static void test_stripped_padding(void **state)
{
	char path[4096];
	struct gopclntab_func f;
	struct gopclntab *t;
	struct elfsym *e;
	struct truth tr;
	size_t i;

	(void)state;
	if (!fixture("goserver-stripped", path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(gopclntab__open(e, &t), 0);
	for (i = 0; i < 4; i++) {
		if (truth_get("goserver-stripped", go_syms[i], &tr))
			skip();
		assert_int_equal(gopclntab__find(t, go_syms[i], &f), 0);
		assert_true(f.size > tr.size);
		check_rets(path, e, &tr, f.size);
	}
	gopclntab__close(t);
	elfsym__close(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ret_bytes_inside_instructions),
		cmocka_unit_test(test_ret_forms),
		cmocka_unit_test(test_undecodable_byte),
		cmocka_unit_test(test_other_machine),
		cmocka_unit_test(test_branches_to),
		cmocka_unit_test(test_go_functions),
		cmocka_unit_test(test_c_functions),
		cmocka_unit_test(test_stripped_padding),
	};

	return cmocka_run_group_tests_name("retfind", tests, NULL, NULL);
}
