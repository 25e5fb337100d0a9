// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Go build info (user/lib/sym/gobuildinfo.c): both layouts built by hand, and
 * the fixtures against `go env GOVERSION` and `go version -m` (truth.txt). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "fixtures.h"
#include "elfsym.h"
#include "gobuildinfo.h"

static const char magic[14] = "\xff Go buildinf:";
static const char frame_start[16] = "\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6";
static const char frame_end[16] = "\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";

/* The module text as cmd/go embeds it: framed by two 16-byte sentinels.
 * The dep lines make it longer than 127 bytes: a two-byte varint. */
static size_t framed_modinfo(char *buf)
{
	static const char text[] =
		"path\texample.com/srv/cmd/srv\n"
		"mod\texample.com/srv\t(devel)\t\n"
		"dep\tgolang.org/x/net\tv0.1.0\th1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\n"
		"dep\tgolang.org/x/sys\tv0.1.0\th1:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=\n";
	size_t n = sizeof(text) - 1;

	memcpy(buf, frame_start, 16);
	memcpy(buf + 16, text, n);
	memcpy(buf + 16 + n, frame_end, 16);
	return n + 32;
}

static void check_parsed(struct gobuildinfo *b, const char *version)
{
	assert_string_equal(gobuildinfo__version(b), version);
	assert_string_equal(gobuildinfo__path(b), "example.com/srv/cmd/srv");
	assert_string_equal(gobuildinfo__module(b), "example.com/srv");
	assert_true(!strncmp(gobuildinfo__modinfo(b), "path\t", 5));
	assert_non_null(strstr(gobuildinfo__modinfo(b), "golang.org/x/sys"));
}

static void test_inline_layout(void **state)
{
	__u8 blob[512] = { 0 };
	char mod[300];
	size_t n = framed_modinfo(mod), pos = 32;
	struct gobuildinfo *b;

	(void)state;
	memcpy(blob, magic, 14);
	blob[14] = 8;
	blob[15] = 0x2;		/* little-endian, inline strings */
	blob[pos++] = 8;
	memcpy(blob + pos, "go1.21.3", 8);
	pos += 8;
	assert_true(n >= 128 && n < 16384);
	blob[pos++] = 0x80 | (n & 0x7f);
	blob[pos++] = n >> 7;
	memcpy(blob + pos, mod, n);
	pos += n;
	assert_int_equal(gobuildinfo__parse(blob, pos, 0, NULL, &b), 0);
	check_parsed(b, "go1.21.3");
	gobuildinfo__free(b);
	/* A length running past the end is malformed, not a crash. */
	assert_int_equal(gobuildinfo__parse(blob, pos - 1, 0, NULL, &b), -EINVAL);
	assert_null(b);
	blob[0] = 'x';
	assert_int_equal(gobuildinfo__parse(blob, pos, 0, NULL, &b), -EINVAL);
	gobuildinfo__free(NULL);
}

/* A fake address space for the pointer layout: one 4 KiB page at 0x500000
 * whose pointer slots are listed in relocs, as in a PIE file. */
struct fake_mem {
	__u8 page[4096];
	__u64 base;
};

static const void *fake_data_at(void *ctx, __u64 vaddr, size_t len)
{
	struct fake_mem *m = ctx;

	if (vaddr < m->base || vaddr - m->base + len > sizeof(m->page))
		return NULL;
	return m->page + (vaddr - m->base);
}

static int fake_read_ptr(void *ctx, __u64 vaddr, unsigned int ps, __u64 *val)
{
	const void *p = fake_data_at(ctx, vaddr, ps);

	if (!p || ps != 8)
		return -ERANGE;
	memcpy(val, p, 8);
	return 0;
}

static void test_pointer_layout(void **state)
{
	static struct fake_mem m = { .base = 0x500000 };
	struct gobuildinfo_mem mem = { fake_read_ptr, fake_data_at, &m };
	struct gobuildinfo *b;
	__u64 v;
	size_t n;

	(void)state;
	/* blob at 0x500000; string headers at +0x100 and +0x110; the strings
	 * at +0x200 (version) and +0x300 (module text). */
	memcpy(m.page, magic, 14);
	m.page[14] = 8;
	m.page[15] = 0;
	v = 0x500100; memcpy(m.page + 16, &v, 8);
	v = 0x500110; memcpy(m.page + 24, &v, 8);
	v = 0x500200; memcpy(m.page + 0x100, &v, 8);
	v = 8;        memcpy(m.page + 0x108, &v, 8);
	v = 0x500300; memcpy(m.page + 0x110, &v, 8);
	n = framed_modinfo((char *)m.page + 0x300);
	memcpy(m.page + 0x118, &n, 8);
	memcpy(m.page + 0x200, "go1.17.5", 8);
	assert_int_equal(gobuildinfo__parse(m.page, 32, 0x500000, &mem, &b), 0);
	check_parsed(b, "go1.17.5");
	gobuildinfo__free(b);
	/* No way to follow the pointers: refuse, do not guess. */
	assert_int_equal(gobuildinfo__parse(m.page, 32, 0x500000, NULL, &b), -EINVAL);
	/* A pointer to nowhere. */
	v = 0x900000; memcpy(m.page + 0x100, &v, 8);
	assert_int_equal(gobuildinfo__parse(m.page, 32, 0x500000, &mem, &b), -EINVAL);
	m.page[15] = 1;	/* big-endian */
	assert_int_equal(gobuildinfo__parse(m.page, 32, 0x500000, &mem, &b), -EPROTONOSUPPORT);
}

static void test_parse_version(void **state)
{
	int ma = 0, mi = 0;

	(void)state;
	assert_int_equal(gobuildinfo__parse_version("go1.19.8", &ma, &mi), 0);
	assert_int_equal(ma, 1);
	assert_int_equal(mi, 19);
	assert_int_equal(gobuildinfo__parse_version("go1.21rc2", &ma, &mi), 0);
	assert_int_equal(mi, 21);
	assert_int_equal(gobuildinfo__parse_version("go1.9", &ma, &mi), 0);
	assert_int_equal(mi, 9);
	assert_int_equal(gobuildinfo__parse_version("devel go1.23-4f1a2b3c Tue Jan 2", &ma, &mi), 0);
	assert_int_equal(mi, 23);
	assert_int_equal(gobuildinfo__parse_version("go1", &ma, &mi), -EINVAL);
	assert_int_equal(gobuildinfo__parse_version("gopher", &ma, &mi), -EINVAL);
	assert_int_equal(gobuildinfo__parse_version("", &ma, &mi), -EINVAL);
	assert_int_equal(gobuildinfo__parse_version(NULL, &ma, &mi), -EINVAL);
}

static void check_fixture(const char *bin)
{
	char path[4096], version[64], gopath[512], mod[512];
	struct gobuildinfo *b;
	struct elfsym *e;

	if (!fixture(bin, path, sizeof(path)) ||
	    !truth_value("goversion", version, sizeof(version)) ||
	    !truth_value("path", gopath, sizeof(gopath)) ||
	    !truth_value("mod", mod, sizeof(mod)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(gobuildinfo__open(e, &b), 0);
	assert_string_equal(gobuildinfo__version(b), version);
	assert_string_equal(gobuildinfo__path(b), gopath);
	assert_string_equal(gobuildinfo__module(b), mod);
	gobuildinfo__free(b);
	elfsym__close(e);
}

static void test_fixtures(void **state)
{
	(void)state;
	check_fixture("goserver");
	check_fixture("goserver-stripped");
	check_fixture("goserver-pie");
	check_fixture("goserver-pie-stripped");
	check_fixture("goserver-extpie-stripped");
}

static void test_not_go(void **state)
{
	char path[4096];
	struct gobuildinfo *b;
	struct elfsym *e;

	(void)state;
	if (!fixture("cfunc-nopie", path, sizeof(path)))
		skip();
	assert_int_equal(elfsym__open(path, &e), 0);
	assert_int_equal(gobuildinfo__open(e, &b), -ENOENT);
	assert_null(b);
	elfsym__close(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_layout),
		cmocka_unit_test(test_pointer_layout),
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_not_go),
	};

	return cmocka_run_group_tests_name("gobuildinfo", tests, NULL, NULL);
}
