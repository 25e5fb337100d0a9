// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* ELF symbols and file offsets (user/lib/sym/elfsym.c), checked against nm and
 * readelf's program headers (truth.txt from tests/fixtures/build.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <elf.h>
#include "fixtures.h"
#include "elfsym.h"

static void test_not_elf(void **state)
{
	char tmpl[] = "/tmp/nt-elfsym-XXXXXX";
	struct elfsym *e = (struct elfsym *)1;
	static const char text[] = "#!/bin/sh\necho not an ELF file\n";

	(void)state;
	assert_int_equal(elfsym__open("/nonexistent/nettune", &e), -ENOENT);
	assert_null(e);
	assert_int_equal(write_temp(tmpl, text, sizeof(text) - 1), 0);
	assert_int_equal(elfsym__open(tmpl, &e), -ENOEXEC);
	unlink(tmpl);
	strcpy(tmpl, "/tmp/nt-elfsym-XXXXXX");
	assert_int_equal(write_temp(tmpl, "", 0), 0);
	assert_int_equal(elfsym__open(tmpl, &e), -ENOEXEC);
	unlink(tmpl);
	elfsym__close(NULL);
}

/* Symbol address, size and file offset all match nm + readelf -l, and the
 * bytes at the offset are the bytes at the address. */
static void check_func(const char *bin, const char *sym, int type, enum elfsym_table table)
{
	char path[4096];
	struct elfsym_func f;
	struct elfsym *e;
	struct truth t;
	const unsigned char *code;
	unsigned char *file;
	size_t len;

	if (!fixture(bin, path, sizeof(path)) || truth_get(bin, sym, &t))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(elfsym__type(e), type);
	assert_int_equal(elfsym__find_func(e, sym, &f), 0);
	assert_int_equal(f.table, table);
	assert_int_equal(f.vaddr, t.vaddr);
	assert_int_equal(f.size, t.size);
	assert_int_equal(f.offset, t.offset);
	code = elfsym__data_at(e, f.vaddr, f.size);
	assert_non_null(code);
	file = slurp(path, &len);
	assert_non_null(file);
	assert_true(f.offset + f.size <= len);
	assert_memory_equal(code, file + f.offset, f.size);
	free(file);
	elfsym__close(e);
}

static void test_c_nopie(void **state)
{
	(void)state;
	check_func("cfunc-nopie", "cfunc_work", ET_EXEC, ELFSYM_SYMTAB);
	check_func("cfunc-nopie", "cfunc_classify", ET_EXEC, ELFSYM_SYMTAB);
	check_func("cfunc-nopie", "main", ET_EXEC, ELFSYM_SYMTAB);
}

static void test_c_pie(void **state)
{
	(void)state;
	check_func("cfunc-pie", "cfunc_work", ET_DYN, ELFSYM_SYMTAB);
	check_func("cfunc-pie", "main", ET_DYN, ELFSYM_SYMTAB);
}

static void test_shared_lib(void **state)
{
	(void)state;
	check_func("libcfunc.so", "cfunc_lib_work", ET_DYN, ELFSYM_SYMTAB);
	/* strip(1) removes .symtab; the exported function stays in .dynsym. */
	check_func("libcfunc-stripped.so", "cfunc_lib_work", ET_DYN, ELFSYM_DYNSYM);
}

static void test_go(void **state)
{
	(void)state;
	check_func("goserver", "main.work", ET_EXEC, ELFSYM_SYMTAB);
	check_func("goserver", "net/http.serverHandler.ServeHTTP", ET_EXEC, ELFSYM_SYMTAB);
	/* Go's PIE puts text at p_vaddr 0x401000 but file offset 0x1000 and
	 * read-only data at a different delta: offset != vaddr here. */
	check_func("goserver-pie", "main.work", ET_DYN, ELFSYM_SYMTAB);
	check_func("goserver-pie", "net/http.serverHandler.ServeHTTP", ET_DYN, ELFSYM_SYMTAB);
	check_func("goserver-extpie", "main.work", ET_DYN, ELFSYM_SYMTAB);
}

static void check_facts(const char *bin, bool go, bool stripped)
{
	char path[4096];
	struct elfsym *e;

	if (!fixture(bin, path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(elfsym__is_go(e), go);
	assert_int_equal(elfsym__is_stripped(e), stripped);
	assert_int_equal(elfsym__machine(e), EM_X86_64);
	assert_string_equal(elfsym__path(e), path);
	elfsym__close(e);
}

static void test_go_and_stripped(void **state)
{
	(void)state;
	check_facts("goserver", true, false);
	check_facts("goserver-stripped", true, true);
	check_facts("goserver-pie", true, false);
	check_facts("goserver-pie-stripped", true, true);
	check_facts("goserver-extpie-stripped", true, true);
	check_facts("cfunc-nopie", false, false);
	check_facts("cfunc-pie", false, false);
	check_facts("libcfunc-stripped.so", false, true);
}

static void test_missing_and_unmapped(void **state)
{
	char path[4096];
	struct elfsym_func f;
	struct elfsym_section s;
	struct elfsym *e;
	__u64 off;

	(void)state;
	if (!fixture("cfunc-pie", path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(elfsym__find_func(e, "no_such_function", &f), -ENOENT);
	/* main is a function; an object of the same lookup is not. */
	assert_int_equal(elfsym__find_func(e, "__dso_handle", &f), -ENOENT);
	assert_int_equal(elfsym__vaddr_to_offset(e, 0x7fffffff0000ULL, &off), -ERANGE);
	assert_null(elfsym__data_at(e, 0x7fffffff0000ULL, 1));
	/* .bss has an address but no file bytes. */
	assert_int_equal(elfsym__section(e, ".bss", &s), 0);
	assert_int_equal(s.type, SHT_NOBITS);
	assert_null(s.data);
	assert_int_equal(elfsym__vaddr_to_offset(e, s.vaddr, &off), -ERANGE);
	assert_int_equal(elfsym__section(e, ".no_such_section", &s), -ENOENT);
	elfsym__close(e);
}

/* In Go's PIE the pclntab header holds runtime.text as a pointer with a
 * RELATIVE relocation: read_ptr must give the link-time value. */
static void test_read_ptr_pie(void **state)
{
	char path[4096];
	struct elfsym_section s;
	struct elfsym_func text;
	struct elfsym *e;
	__u64 v;

	(void)state;
	if (!fixture("goserver-pie", path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(elfsym__section(e, ".data.rel.ro.gopclntab", &s), 0);
	assert_int_equal(elfsym__find_symbol(e, "runtime.text", &text), 0);
	/* header: magic(4) pad(2) quantum(1) ptrsize(1) nfunc nfiles textStart */
	assert_int_equal(elfsym__read_ptr(e, s.vaddr + 8 + 2 * 8, 8, &v), 0);
	assert_int_equal(v, text.vaddr);
	assert_int_equal(elfsym__read_ptr(e, s.vaddr, 3, &v), -ERANGE);
	elfsym__close(e);
}

/* External linkers may leave a relocated pointer's bytes 0 and keep the
 * value only in the relocation's addend: zero the bytes in a copy. */
static void test_read_ptr_zeroed(void **state)
{
	char path[4096], tmpl[] = "/tmp/nt-elfsym-XXXXXX";
	struct elfsym_section s;
	struct elfsym_func text;
	unsigned char *file;
	struct elfsym *e;
	size_t len;
	__u64 v;

	(void)state;
	if (!fixture("goserver-pie", path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(elfsym__section(e, ".data.rel.ro.gopclntab", &s), 0);
	assert_int_equal(elfsym__find_symbol(e, "runtime.text", &text), 0);
	elfsym__close(e);
	file = slurp(path, &len);
	assert_non_null(file);
	memset(file + s.offset + 24, 0, 8);
	assert_int_equal(write_temp(tmpl, file, len), 0);
	free(file);
	assert_int_equal(elfsym__open(tmpl, &e), 0);
	assert_int_equal(*(const __u64 *)elfsym__data_at(e, s.vaddr + 24, 8), 0);
	assert_int_equal(elfsym__read_ptr(e, s.vaddr + 24, 8, &v), 0);
	assert_int_equal(v, text.vaddr);
	elfsym__close(e);
	unlink(tmpl);
}

static void test_section_iteration(void **state)
{
	char path[4096];
	struct elfsym_section s, text;
	struct elfsym *e;
	size_t iter = 0, n = 0;
	bool seen = false;

	(void)state;
	if (!fixture("goserver", path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(elfsym__section(e, ".text", &text), 0);
	assert_true(text.flags & SHF_EXECINSTR);
	while (!elfsym__next_section(e, &iter, &s)) {
		n++;
		if (!strcmp(s.name, ".gopclntab"))
			seen = true;
	}
	assert_true(n > 10);
	assert_true(seen);
	elfsym__close(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_c_nopie),
		cmocka_unit_test(test_c_pie),
		cmocka_unit_test(test_shared_lib),
		cmocka_unit_test(test_go),
		cmocka_unit_test(test_go_and_stripped),
		cmocka_unit_test(test_missing_and_unmapped),
		cmocka_unit_test(test_read_ptr_pie),
		cmocka_unit_test(test_read_ptr_zeroed),
		cmocka_unit_test(test_section_iteration),
	};

	return cmocka_run_group_tests_name("elfsym", tests, NULL, NULL);
}
