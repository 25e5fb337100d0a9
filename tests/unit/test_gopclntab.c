// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Go function tables (user/lib/sym/gopclntab.c): hand-built tables of each
 * format, and the fixture binaries, whose stripped builds must give the
 * same entry addresses as nm on their unstripped twins. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "fixtures.h"
#include "elfsym.h"
#include "gopclntab.h"

/* ---- Hand-built tables ---- */

static void put32(__u8 *p, __u32 v) { memcpy(p, &v, 4); }
static void put64(__u8 *p, __u64 v) { memcpy(p, &v, 8); }

/* A table in the Go 1.16 (magic 0xfffffffa) or 1.18+ layout with n
 * functions at entries[0..n-1], ending at entries[n]. Returns its size. */
static size_t build(__u8 *buf, __u32 magic, __u64 text, const __u64 *entries,
		    const char *const *names, int n)
{
	bool go116 = magic == 0xfffffffaU;
	size_t fs = go116 ? 8 : 4, hdr = go116 ? 64 : 72, names_off = hdr, pos, pcln;
	__u32 nameoffs[8];
	int i, w = 0;

	memset(buf, 0, 4096);
	put32(buf, magic);
	buf[6] = 1;	/* x86 instruction quantum */
	buf[7] = 8;	/* pointer size */
	pos = names_off;
	for (i = 0; i < n; i++) {
		nameoffs[i] = (__u32)(pos - names_off);
		strcpy((char *)buf + pos, names[i]);
		pos += strlen(names[i]) + 1;
	}
	pcln = (pos + 7) & ~(size_t)7;
	put64(buf + 8 + 8 * w++, n);			/* nfunc */
	put64(buf + 8 + 8 * w++, 1);			/* nfiles */
	if (!go116)
		put64(buf + 8 + 8 * w++, text);		/* textStart */
	put64(buf + 8 + 8 * w++, names_off);		/* funcnameOffset */
	w += 3;						/* cu, filetab, pctab */
	put64(buf + 8 + 8 * w, pcln);			/* pclnOffset */
	/* functab, then one _func per function right after it */
	pos = pcln + (2 * n + 1) * fs;
	for (i = 0; i <= n; i++) {
		__u64 e = go116 ? entries[i] : entries[i] - text;
		__u64 funcoff = pos + (size_t)i * 16 - pcln;

		memcpy(buf + pcln + 2 * i * fs, &e, fs);
		if (i == n)
			break;
		memcpy(buf + pcln + (2 * i + 1) * fs, &funcoff, fs);
		memcpy(buf + pcln + funcoff, &e, fs);
		put32(buf + pcln + funcoff + fs, nameoffs[i]);
	}
	return pos + (size_t)n * 16;
}

static const char *const names[] = { "runtime.main", "main.work", "main.(*T).Serve" };
static const __u64 entries[] = { 0x401000, 0x401060, 0x4010c0, 0x401200 };

static void check_built(__u32 magic, enum gopclntab_format fmt, __u64 text_arg)
{
	static __u8 buf[4096];
	struct gopclntab_func f;
	struct gopclntab *t;
	size_t len = build(buf, magic, 0x401000, entries, names, 3);
	int i;

	assert_int_equal(gopclntab__parse(buf, len, text_arg, &t), 0);
	assert_int_equal(gopclntab__format(t), fmt);
	assert_int_equal(gopclntab__count(t), 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(gopclntab__func(t, i, &f), 0);
		assert_string_equal(f.name, names[i]);
		assert_int_equal(f.entry, entries[i]);
		assert_int_equal(f.size, entries[i + 1] - entries[i]);
	}
	assert_int_equal(gopclntab__func(t, 3, &f), -ENOENT);
	assert_int_equal(gopclntab__find(t, "main.(*T).Serve", &f), 0);
	assert_int_equal(f.entry, 0x4010c0);
	assert_int_equal(f.size, 0x140);
	assert_int_equal(gopclntab__find(t, "main.wor", &f), -ENOENT);
	assert_string_equal(gopclntab__found_by(t), "buffer");
	gopclntab__close(t);
}

static void test_formats(void **state)
{
	(void)state;
	check_built(0xfffffffaU, GOPCLNTAB_GO116, 0);
	check_built(0xfffffff0U, GOPCLNTAB_GO118, 0);
	check_built(0xfffffff1U, GOPCLNTAB_GO120, 0);
	/* An explicit text start overrides the header's (unrelocated) one. */
	check_built(0xfffffff0U, GOPCLNTAB_GO118, 0x401000);
	assert_string_equal(gopclntab__format_str(GOPCLNTAB_GO116), "Go 1.16-1.17");
	gopclntab__close(NULL);
}

static void test_refused(void **state)
{
	static __u8 buf[4096];
	struct gopclntab_func f;
	struct gopclntab *t;
	size_t len;
	__u64 bad[] = { 0x401000, 0x401100, 0x401080, 0x401200 };

	(void)state;
	len = build(buf, 0xfffffff0U, 0x401000, entries, names, 3);
	/* Go 1.2-1.15: too old for the register ABI, say so. */
	put32(buf, 0xfffffffbU);
	assert_int_equal(gopclntab__parse(buf, len, 0, &t), -EPROTONOSUPPORT);
	assert_null(t);
	/* Big-endian: a byte-swapped magic. */
	put32(buf, 0xf0ffffffU);
	assert_int_equal(gopclntab__parse(buf, len, 0, &t), -EPROTONOSUPPORT);
	put32(buf, 0x12345678U);
	assert_int_equal(gopclntab__parse(buf, len, 0, &t), -EINVAL);
	put32(buf, 0xfffffff0U);
	buf[4] = 1;	/* pad bytes must be 0 */
	assert_int_equal(gopclntab__parse(buf, len, 0, &t), -EINVAL);
	buf[4] = 0;
	/* Truncated: functab (before three 16-byte _funcs) runs past the end. */
	assert_int_equal(gopclntab__parse(buf, len - 3 * 16 - 4, 0, &t), -EINVAL);
	assert_int_equal(gopclntab__parse(buf, 12, 0, &t), -EINVAL);
	/* Unsorted entries are not a Go table. */
	len = build(buf, 0xfffffff0U, 0x401000, bad, names, 3);
	assert_int_equal(gopclntab__parse(buf, len, 0, &t), -EINVAL);
	/* A name offset past the end fails that function only. */
	len = build(buf, 0xfffffff0U, 0x401000, entries, names, 3);
	assert_int_equal(gopclntab__parse(buf, len, 0, &t), 0);
	put32(buf + len - 16 + 4, 0x7fffffff);
	assert_int_equal(gopclntab__func(t, 2, &f), -EINVAL);
	assert_int_equal(gopclntab__func(t, 1, &f), 0);
	gopclntab__close(t);
}

/* ---- Fixture binaries ---- */

/* Go 1.18-1.19 write the 1.18 format, 1.20+ the 1.20 one. */
static enum gopclntab_format expected_format(void)
{
	char v[64];
	int minor = 0;

	if (truth_value("goversion", v, sizeof(v)))
		sscanf(v, "go1.%d", &minor);
	return minor >= 20 ? GOPCLNTAB_GO120 : GOPCLNTAB_GO118;
}

static const char *const go_syms[] = {
	"main.work", "main.classify", "main.recurse", "net/http.serverHandler.ServeHTTP",
};

/* Entries equal nm's addresses; sizes run to the next function, so they
 * cover nm's size plus less than one 32-byte alignment of INT3 padding. */
static void check_binary(const char *file, const char *bin, const char *how)
{
	char path[4096];
	struct gopclntab_func f;
	struct gopclntab *t;
	struct elfsym *e;
	struct truth tr;
	size_t i;

	if (!fixture(file, path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(gopclntab__open(e, &t), 0);
	assert_string_equal(gopclntab__found_by(t), how);
	assert_int_equal(gopclntab__format(t), expected_format());
	assert_true(gopclntab__count(t) > 1000);
	for (i = 0; i < sizeof(go_syms) / sizeof(go_syms[0]); i++) {
		if (truth_get(bin, go_syms[i], &tr))
			skip();
		assert_int_equal(gopclntab__find(t, go_syms[i], &f), 0);
		assert_string_equal(f.name, go_syms[i]);
		assert_int_equal(f.entry, tr.vaddr);
		assert_true(f.size >= tr.size && f.size < tr.size + 32);
	}
	gopclntab__close(t);
	elfsym__close(e);
}

static void test_default(void **state)
{
	(void)state;
	check_binary("goserver", "goserver", "section .gopclntab");
}

static void test_stripped(void **state)
{
	(void)state;
	check_binary("goserver-stripped", "goserver-stripped", "section .gopclntab");
}

static void test_pie(void **state)
{
	(void)state;
	check_binary("goserver-pie", "goserver-pie", "section .data.rel.ro.gopclntab");
	check_binary("goserver-pie-stripped", "goserver-pie-stripped",
		     "section .data.rel.ro.gopclntab");
}

/* Linked by gcc, the table has no section of its own. */
static void test_external_pie(void **state)
{
	(void)state;
	check_binary("goserver-extpie", "goserver-extpie", "symbol runtime.pclntab");
	check_binary("goserver-extpie-stripped", "goserver-extpie-stripped",
		     "scan for the header");
}

/* The linker writes Go's middle dot "·" (U+00B7) in some generated names
 * (type..eq.net.dialResult·1) as "." in .symtab, but not in the table. */
static void dotted(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 1 < len; in++) {
		if ((unsigned char)in[0] == 0xc2 && (unsigned char)in[1] == 0xb7) {
			out[o++] = '.';
			in++;
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

/* Every function of the table, in order, against .symtab of the same file:
 * each must be at the address .symtab gives its name, or, for an ABI
 * wrapper, the name with ".abi0". Only generic instantiations, which the
 * table names "F[...]", are not in .symtab under that name. */
static void test_all_functions_match_symtab(void **state)
{
	char path[4096], abi0[1040], name[1024];
	struct gopclntab_func f, prev = { 0 };
	struct elfsym_func s;
	struct gopclntab *t;
	struct elfsym *e;
	size_t i, n, same = 0, wrappers = 0, generic = 0;

	(void)state;
	if (!fixture("goserver", path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(gopclntab__open(e, &t), 0);
	n = gopclntab__count(t);
	for (i = 0; i < n; i++) {
		assert_int_equal(gopclntab__func(t, i, &f), 0);
		assert_true(f.entry >= prev.entry + prev.size);
		prev = f;
		dotted(f.name, name, sizeof(name));
		snprintf(abi0, sizeof(abi0), "%s.abi0", name);
		if (!elfsym__find_func(e, name, &s) && s.vaddr == f.entry) {
			assert_true(s.size <= f.size);
			same++;
		} else if (!elfsym__find_func(e, abi0, &s) && s.vaddr == f.entry) {
			wrappers++;
		} else if (strstr(f.name, "[...]")) {
			generic++;
		} else {
			fail_msg("%s at 0x%llx: not in .symtab", f.name,
				 (unsigned long long)f.entry);
		}
	}
	print_message("%zu functions in .gopclntab: %zu at their .symtab address, %zu ABI "
		      "wrappers (.abi0), %zu generic instantiations\n", n, same, wrappers,
		      generic);
	assert_int_equal(same + wrappers + generic, n);
	gopclntab__close(t);
	elfsym__close(e);
}

/* An ABI wrapper shares its function's name: find_next yields both. */
static void test_same_name(void **state)
{
	char path[4096], twin[4096];
	struct elfsym_func real, wrapper;
	struct gopclntab_func f[3];
	struct gopclntab *t;
	struct elfsym *e;
	size_t iter = 0;

	(void)state;
	if (!fixture("goserver-stripped", path, sizeof(path)) ||
	    !fixture("goserver", twin, sizeof(twin)))
		skip();
	assert_int_equal(elfsym__open(twin, &e), 0);
	assert_int_equal(elfsym__find_func(e, "runtime.osinit", &real), 0);
	assert_int_equal(elfsym__find_func(e, "runtime.osinit.abi0", &wrapper), 0);
	elfsym__close(e);
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(gopclntab__open(e, &t), 0);
	assert_int_equal(gopclntab__find_next(t, "runtime.osinit", &iter, &f[0]), 0);
	assert_int_equal(gopclntab__find_next(t, "runtime.osinit", &iter, &f[1]), 0);
	assert_int_equal(gopclntab__find_next(t, "runtime.osinit", &iter, &f[2]), -ENOENT);
	assert_int_equal(f[0].entry, real.vaddr);
	assert_int_equal(f[1].entry, wrapper.vaddr);
	gopclntab__close(t);
	elfsym__close(e);
}

/* Hide the table's section by renaming it in a copy: the table must then be
 * found by the runtime.pclntab symbol, or, stripped, by scanning. */
static void check_hidden(const char *bin, const char *sect, const char *renamed,
			 const char *how)
{
	char path[4096], tmpl[] = "/tmp/nt-pclntab-XXXXXX";
	struct elfsym_section shstr;
	struct gopclntab_func f;
	struct gopclntab *t;
	struct elfsym *e;
	struct truth tr;
	unsigned char *file;
	size_t len;

	if (!fixture(bin, path, sizeof(path)) || truth_get(bin, "main.work", &tr))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(elfsym__section(e, ".shstrtab", &shstr), 0);
	elfsym__close(e);
	file = slurp(path, &len);
	assert_non_null(file);
	assert_true(patch_range(file, shstr.offset, shstr.offset + shstr.size, sect,
				renamed) >= 1);
	assert_int_equal(write_temp(tmpl, file, len), 0);
	free(file);
	assert_int_equal(elfsym__open(tmpl, &e), 0);
	assert_int_equal(elfsym__section(e, sect, &shstr), -ENOENT);
	assert_int_equal(gopclntab__open(e, &t), 0);
	assert_string_equal(gopclntab__found_by(t), how);
	assert_int_equal(gopclntab__find(t, "main.work", &f), 0);
	assert_int_equal(f.entry, tr.vaddr);
	gopclntab__close(t);
	elfsym__close(e);
	unlink(tmpl);
}

static void test_found_without_section(void **state)
{
	(void)state;
	check_hidden("goserver-pie", ".data.rel.ro.gopclntab", ".data.rel.ro.xopclntab",
		     "symbol runtime.pclntab");
	check_hidden("goserver-stripped", ".gopclntab", ".xopclntab", "scan for the header");
	check_hidden("goserver-pie-stripped", ".data.rel.ro.gopclntab",
		     ".data.rel.ro.xopclntab", "scan for the header");
}

static void test_not_go(void **state)
{
	char path[4096];
	struct gopclntab *t;
	struct elfsym *e;

	(void)state;
	if (!fixture("cfunc-pie", path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(gopclntab__open(e, &t), -ENOENT);
	assert_null(t);
	elfsym__close(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_stripped),
		cmocka_unit_test(test_pie),
		cmocka_unit_test(test_external_pie),
		cmocka_unit_test(test_all_functions_match_symtab),
		cmocka_unit_test(test_same_name),
		cmocka_unit_test(test_found_without_section),
		cmocka_unit_test(test_not_go),
	};

	return cmocka_run_group_tests_name("gopclntab", tests, NULL, NULL);
}
