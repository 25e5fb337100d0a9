// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The uprobe-site API (user/lib/sym/gofunc.c) on every fixture build: entry and
 * RET file offsets against nm + readelf + objdump (truth.txt), and each
 * refusal with its errno and message. */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "fixtures.h"
#include "elfsym.h"
#include "gofunc.h"
#include "probesite.h"

static void check_go(const char *bin, const char *sym, const char *source)
{
	char path[4096], version[64], mod[512];
	struct gofunc_result r;
	struct truth t;
	size_t i;

	if (!fixture(bin, path, sizeof(path)) || truth_get(bin, sym, &t) ||
	    !truth_value("goversion", version, sizeof(version)) ||
	    !truth_value("mod", mod, sizeof(mod)))
		skip();
	assert_int_equal(gofunc__resolve(path, sym, &r), 0);
	assert_true(r.is_go);
	assert_string_equal(r.go_version, version);
	assert_string_equal(r.go_module, mod);
	assert_string_equal(r.source, source);
	assert_int_equal(r.vaddr, t.vaddr);
	assert_int_equal(r.entry_offset, t.offset);
	assert_int_equal(r.nr_rets, t.nrets);
	for (i = 0; i < r.nr_rets; i++) {
		/* objdump's RET address, mapped like the entry (same segment). */
		assert_int_equal(r.ret_offsets[i], t.offset + (t.rets[i] - t.vaddr));
		assert_int_equal(byte_at(path, r.ret_offsets[i]), 0xc3);
	}
	/* The entry probe: on the stack check's jbe (76 rel8 or 0f 86 rel32)
	 * after a cmp (49 3b) or lea (4c 8d) at the entry, or on the entry. */
	if (r.entry_probe_offset != r.entry_offset) {
		int op = byte_at(path, r.entry_probe_offset), first = byte_at(path, r.entry_offset);

		assert_true(r.entry_probe_offset - r.entry_offset <= 12);
		assert_true(op == 0x76 || op == 0x0f);
		assert_true(first == 0x49 || first == 0x4c);
		assert_int_equal(r.entry_class, PROBESITE_BRANCH);
	}
	/* main.work calls time.Sleep, so it has the check (objdump: +4 jbe) */
	if (!strcmp(sym, "main.work"))
		assert_int_equal(r.entry_probe_offset, r.entry_offset + 4);
	assert_string_equal(r.errmsg, "");
	gofunc__result_free(&r);
}

static void test_go_builds(void **state)
{
	static const char *const syms[] = {
		"main.work", "main.classify", "net/http.serverHandler.ServeHTTP",
	};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		check_go("goserver", syms[i], ".symtab");
		check_go("goserver-stripped", syms[i], ".gopclntab");
		check_go("goserver-pie", syms[i], ".symtab");
		check_go("goserver-pie-stripped", syms[i], ".gopclntab");
		check_go("goserver-extpie", syms[i], ".symtab");
		check_go("goserver-extpie-stripped", syms[i], ".gopclntab");
	}
	gofunc__result_free(NULL);
}

static void check_c(const char *bin, const char *sym, const char *source)
{
	char path[4096];
	struct gofunc_result r;
	struct truth t;

	if (!fixture(bin, path, sizeof(path)) || truth_get(bin, sym, &t))
		skip();
	assert_int_equal(gofunc__resolve(path, sym, &r), 0);
	assert_false(r.is_go);
	assert_string_equal(r.go_version, "");
	assert_string_equal(r.source, source);
	assert_int_equal(r.vaddr, t.vaddr);
	assert_int_equal(r.size, t.size);
	assert_int_equal(r.entry_offset, t.offset);
	/* C: the caller attaches a uretprobe; no RET sites are computed. */
	assert_int_equal(r.nr_rets, 0);
	assert_null(r.ret_offsets);
	assert_int_equal(r.entry_probe_offset, r.entry_offset);	/* C: never moved */
	gofunc__result_free(&r);
}

static void test_c_builds(void **state)
{
	(void)state;
	check_c("cfunc-nopie", "cfunc_work", ".symtab");
	check_c("cfunc-pie", "cfunc_work", ".symtab");
	check_c("libcfunc.so", "cfunc_lib_work", ".symtab");
	check_c("libcfunc-stripped.so", "cfunc_lib_work", ".dynsym");
}

static void test_facts_only(void **state)
{
	char path[4096], version[64];
	struct gofunc_result r;

	(void)state;
	if (!fixture("goserver-pie-stripped", path, sizeof(path)) ||
	    !truth_value("goversion", version, sizeof(version)))
		skip();
	assert_int_equal(gofunc__resolve(path, NULL, &r), 0);
	assert_true(r.is_go);
	assert_true(r.stripped);
	assert_string_equal(r.go_version, version);
	assert_int_equal(r.nr_rets, 0);
	gofunc__result_free(&r);
	if (!fixture("cfunc-pie", path, sizeof(path)))
		skip();
	assert_int_equal(gofunc__resolve(path, NULL, &r), 0);
	assert_false(r.is_go);
	assert_false(r.stripped);
	gofunc__result_free(&r);
}

static void test_errors(void **state)
{
	char path[4096], tmpl[] = "/tmp/nt-gofunc-XXXXXX";
	static const char text[] = "not an ELF file\n";
	struct gofunc_result r;

	(void)state;
	assert_int_equal(gofunc__resolve("/nonexistent/srv", "main.work", &r), -ENOENT);
	assert_non_null(strstr(r.errmsg, "no such file"));
	gofunc__result_free(&r);
	assert_int_equal(write_temp(tmpl, text, sizeof(text) - 1), 0);
	assert_int_equal(gofunc__resolve(tmpl, "main.work", &r), -ENOEXEC);
	assert_non_null(strstr(r.errmsg, "not an ELF"));
	gofunc__result_free(&r);
	unlink(tmpl);
	if (!fixture("goserver-stripped", path, sizeof(path)))
		skip();
	assert_int_equal(gofunc__resolve(path, "main.nosuch", &r), -ENOENT);
	print_message("%s\n", r.errmsg);
	assert_non_null(strstr(r.errmsg, "no function named 'main.nosuch'"));
	assert_non_null(strstr(r.errmsg, ".gopclntab"));
	gofunc__result_free(&r);
}

/* The body a stripped binary's name resolves to equals twin's symbol real
 * (skipped when this Go's standard library lacks it). */
static void check_body(const char *path, const char *twin, const char *name,
		       const char *real)
{
	struct elfsym_func body;
	struct gofunc_result r;
	struct elfsym *e;
	int err;

	assert_int_equal(elfsym__open(twin, &e), 0);
	err = elfsym__find_func(e, real, &body);
	elfsym__close(e);
	if (err) {
		print_message("%s not in this build: not checked\n", real);
		return;
	}
	assert_int_equal(gofunc__resolve(path, name, &r), 0);
	assert_int_equal(r.vaddr, body.vaddr);
	assert_true(r.nr_rets >= 1);
	gofunc__result_free(&r);
}

/* Stripped, names repeat: an ABI wrapper has its function's name, and the
 * per-type wrappers of a generic method share "[...]" with the one shape
 * body they call; the body is chosen. Two bodies of one name (two shapes of
 * main.pick) are refused. */
static void test_same_name(void **state)
{
	char path[4096], twin[4096];
	struct gofunc_result r;

	(void)state;
	if (!fixture("goserver-stripped", path, sizeof(path)) ||
	    !fixture("goserver", twin, sizeof(twin)))
		skip();
	check_body(path, twin, "math/big.subVWlarge", "math/big.subVWlarge");
	check_body(path, twin, "runtime.osinit", "runtime.osinit");
	check_body(path, twin, "crypto/elliptic.(*nistCurve[...]).Add",
		   "crypto/elliptic.(*nistCurve[go.shape.*uint8_0]).Add");
	assert_int_equal(gofunc__resolve(path, "main.pick[...]", &r), -ENOTUNIQ);
	print_message("%s\n", r.errmsg);
	assert_non_null(strstr(r.errmsg, "2 functions are named 'main.pick[...]'"));
	gofunc__result_free(&r);
	/* The unstripped twin names each shape. */
	assert_int_equal(gofunc__resolve(twin, "main.pick[go.shape.int_0]", &r), 0);
	assert_true(r.nr_rets >= 1);
	gofunc__result_free(&r);
}

/* A copy whose build info claims an older Go: -EPROTONOSUPPORT below 1.17,
 * accepted from 1.17 on. The version string keeps its length. */
static int resolve_as(const char *path, const char *fake, struct gofunc_result *r)
{
	char tmpl[] = "/tmp/nt-gofunc-XXXXXX", version[64];
	struct elfsym_section s;
	struct elfsym *e;
	unsigned char *file;
	size_t len;
	int err;

	assert_non_null(truth_value("goversion", version, sizeof(version)));
	assert_int_equal(strlen(fake), strlen(version));
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(elfsym__section(e, ".go.buildinfo", &s), 0);
	elfsym__close(e);
	file = slurp(path, &len);
	assert_non_null(file);
	assert_int_equal(patch_range(file, s.offset, s.offset + s.size, version, fake), 1);
	assert_int_equal(write_temp(tmpl, file, len), 0);
	free(file);
	err = gofunc__resolve(tmpl, "main.work", r);
	unlink(tmpl);
	return err;
}

static void test_old_go_refused(void **state)
{
	char path[4096], version[64], fake[64];
	struct gofunc_result r;

	(void)state;
	if (!fixture("goserver-stripped", path, sizeof(path)) ||
	    !truth_value("goversion", version, sizeof(version)) || strncmp(version, "go1.", 4))
		skip();
	/* "go1.19.8" -> "go1.16.8": same length, so nothing else moves. */
	snprintf(fake, sizeof(fake), "%s", version);
	memcpy(fake + 4, "16", 2);
	assert_int_equal(resolve_as(path, fake, &r), -EPROTONOSUPPORT);
	print_message("%s\n", r.errmsg);
	assert_non_null(strstr(r.errmsg, "1.17"));
	assert_non_null(strstr(r.errmsg, fake));
	assert_true(r.is_go);
	gofunc__result_free(&r);
	memcpy(fake + 4, "17", 2);
	assert_int_equal(resolve_as(path, fake, &r), 0);
	assert_true(r.nr_rets >= 1);
	gofunc__result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_builds),
		cmocka_unit_test(test_c_builds),
		cmocka_unit_test(test_facts_only),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_same_name),
		cmocka_unit_test(test_old_go_refused),
	};

	return cmocka_run_group_tests_name("gofunc", tests, NULL, NULL);
}
