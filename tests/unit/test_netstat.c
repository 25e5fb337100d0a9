// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Parsing of /proc/net/netstat and /proc/net/snmp text (user/lib/sys/netstat.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "log.h"
#include "netstat.h"

/* The shape of the two files, shortened: netstat's sections, then snmp's,
 * where Tcp MaxConn is -1 and InErrs exists in both Tcp and Udp. */
static const char fixture[] =
	"TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPDeferAcceptDrop\n"
	"TcpExt: 0 0 15 17 3\n"
	"IpExt: InNoRoutes InOctets OutOctets\n"
	"IpExt: 0 123456789012 98765\n"
	"Ip: Forwarding DefaultTTL InReceives\n"
	"Ip: 2 64 1000\n"
	"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens AttemptFails InErrs OutRsts\n"
	"Tcp: 1 200 120000 -1 40 5 2 7\n"
	"Udp: InDatagrams NoPorts InErrs\n"
	"Udp: 10 1 4\n";

static __u64 get(const struct netstat *s, const char *sec, const char *name)
{
	bool found = false;
	__u64 v = netstat__get(s, sec, name, &found);

	assert_true(found);
	return v;
}

static bool has(const struct netstat *s, const char *sec, const char *name)
{
	bool found = true;

	netstat__get(s, sec, name, &found);
	return found;
}

static void test_parses_every_section(void **state)
{
	struct netstat s = {};
	(void)state;

	assert_int_equal(netstat__parse(fixture, &s), 0);
	assert_int_equal(s.n, 5 + 3 + 3 + 8 + 3);
	assert_int_equal(get(&s, "TcpExt", "ListenOverflows"), 15);
	assert_int_equal(get(&s, "TcpExt", "ListenDrops"), 17);
	assert_int_equal(get(&s, "TcpExt", "TCPDeferAcceptDrop"), 3);
	assert_true(get(&s, "IpExt", "InOctets") == 123456789012ULL);
	assert_int_equal(get(&s, "Tcp", "OutRsts"), 7);
	assert_int_equal(get(&s, "Tcp", "AttemptFails"), 5);
	/* Same name, two sections: the section decides. */
	assert_int_equal(get(&s, "Tcp", "InErrs"), 2);
	assert_int_equal(get(&s, "Udp", "InErrs"), 4);
	/* The kernel's only negative value is kept as two's complement. */
	assert_true((__s64)get(&s, "Tcp", "MaxConn") == -1);
	netstat__free(&s);
	assert_null(s.entries);
	assert_int_equal(s.n, 0);
}

static void test_missing_fields(void **state)
{
	struct netstat s = {};
	bool found = true;
	(void)state;

	assert_int_equal(netstat__parse(fixture, &s), 0);
	assert_int_equal(netstat__get(&s, "TcpExt", "NoSuchCounter", &found), 0);
	assert_false(found);
	assert_false(has(&s, "NoSuchSection", "ListenDrops"));
	/* A name from another section is not found under the wrong one. */
	assert_false(has(&s, "TcpExt", "OutRsts"));
	/* The section is matched whole, not as a prefix ("Tcp" vs "TcpExt"). */
	assert_false(has(&s, "Tcp", "ListenDrops"));
	assert_false(has(&s, "TcpEx", "ListenDrops"));
	/* FOUND is optional. */
	assert_int_equal(netstat__get(&s, "TcpExt", "ListenDrops", NULL), 17);
	assert_int_equal(netstat__get(&s, "TcpExt", "Nope", NULL), 0);
	netstat__free(&s);
	assert_int_equal(netstat__get(&s, "TcpExt", "ListenDrops", &found), 0);
	assert_false(found);
	assert_int_equal(netstat__get(NULL, "TcpExt", "ListenDrops", &found), 0);
	assert_false(found);
}

/* Each broken pair is skipped whole; the good pairs around it survive. */
static void test_malformed_pairs_are_skipped(void **state)
{
	static const char text[] =
		"garbage without a colon\n"
		"Bad: A B C\n"
		"Bad: 1 2\n"		/* one value short */
		"Neg: A B\n"
		"Neg: 1 x2\n"		/* not a number */
		"Sign: A\n"
		"Sign: +3\n"		/* strtoull would take it: we do not */
		"Orphan: A B\n"		/* header with no values line */
		"TcpExt: ListenOverflows ListenDrops\n"
		"TcpExt: 4 5\n"
		"Big: A B\n"
		"Big: 18446744073709551615 18446744073709551616\n" /* 2^64 overflows */
		"Empty:\n"
		"Empty:\n"
		"\n"
		"Tcp: OutRsts\n"
		"Tcp: 9";		/* no final newline */
	struct netstat s = {};
	(void)state;

	assert_int_equal(netstat__parse(text, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(get(&s, "TcpExt", "ListenOverflows"), 4);
	assert_int_equal(get(&s, "TcpExt", "ListenDrops"), 5);
	assert_int_equal(get(&s, "Tcp", "OutRsts"), 9);
	assert_false(has(&s, "Bad", "A"));
	assert_false(has(&s, "Neg", "A"));
	assert_false(has(&s, "Sign", "A"));
	assert_false(has(&s, "Orphan", "A"));
	/* Not even the valid first column of an overflowing pair. */
	assert_false(has(&s, "Big", "A"));
	netstat__free(&s);
}

/* A values line must follow its own header: lines of another section in
 * between orphan the header rather than shifting columns. */
static void test_interleaved_sections(void **state)
{
	static const char text[] =
		"TcpExt: A B\n"
		"IpExt: C\n"
		"IpExt: 3\n"
		"TcpExt: 1 2\n";
	struct netstat s = {};
	(void)state;

	assert_int_equal(netstat__parse(text, &s), 0);
	assert_int_equal(get(&s, "IpExt", "C"), 3);
	assert_false(has(&s, "TcpExt", "A"));
	netstat__free(&s);
}

static void test_nothing_parsable(void **state)
{
	struct netstat s = { .n = 42 };
	(void)state;

	assert_int_equal(netstat__parse("", &s), -EINVAL);
	assert_int_equal(s.n, 0);
	assert_int_equal(netstat__parse("TcpExt: A B\nTcpExt: 1\n", &s), -EINVAL);
	assert_null(s.entries);
	assert_int_equal(netstat__parse("no sections here\n\n", &s), -EINVAL);
	assert_int_equal(netstat__parse("TcpExt: A B\n", &s), -EINVAL);
	netstat__free(&s);
	netstat__free(NULL);
}

/* Real TcpExt lines have well over a hundred columns and run past any
 * fixed line buffer; names longer than we store reject their pair. */
static void test_many_columns(void **state)
{
	enum { N = 1000 };
	size_t cap = N * 48, hl = 0, vl = 0;
	char *hdr = malloc(cap), *val = malloc(cap), *text = malloc(2 * cap);
	struct netstat s = {};
	char name[32], longname[61];
	(void)state;

	assert_non_null(text);
	memset(longname, 'N', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	hl = (size_t)snprintf(hdr, cap, "TcpExt:");
	vl = (size_t)snprintf(val, cap, "TcpExt:");
	for (int i = 0; i < N; i++) {
		hl += (size_t)snprintf(hdr + hl, cap - hl, " Counter%d", i);
		vl += (size_t)snprintf(val + vl, cap - vl, "\t%llu", 1000000000000ULL + i);
	}
	snprintf(text, 2 * cap, "%s\n%s\nLong: %s\nLong: 1\n", hdr, val, longname);
	assert_true(strlen(hdr) > 8192);
	assert_int_equal(netstat__parse(text, &s), 0);
	assert_int_equal(s.n, N);
	for (int i = 0; i < N; i += 37) {
		snprintf(name, sizeof(name), "Counter%d", i);
		assert_true(get(&s, "TcpExt", name) == 1000000000000ULL + (__u64)i);
	}
	assert_true(get(&s, "TcpExt", "Counter999") == 1000000000999ULL);
	assert_false(has(&s, "Long", longname));
	netstat__free(&s);
	free(hdr);
	free(val);
	free(text);
}

/* The calling thread's own namespace (-1) needs no privilege; any kernel
 * has these counters. */
static void test_read_own_namespace(void **state)
{
	struct netstat s = {};
	(void)state;

	assert_int_equal(netstat__read(-1, &s), 0);
	assert_true(has(&s, "TcpExt", "ListenOverflows"));
	assert_true(has(&s, "TcpExt", "ListenDrops"));
	assert_true(has(&s, "Tcp", "OutRsts"));
	assert_true(has(&s, "Tcp", "AttemptFails"));
	netstat__free(&s);
}

/* A descriptor that is no namespace fails cleanly with setns's error. */
static void test_read_bad_namespace_fd(void **state)
{
	struct netstat s = {};
	int fd = open("/dev/null", O_RDONLY);
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(netstat__read(fd, &s), -EINVAL);
	assert_int_equal(s.n, 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parses_every_section),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_malformed_pairs_are_skipped),
		cmocka_unit_test(test_interleaved_sections),
		cmocka_unit_test(test_nothing_parsable),
		cmocka_unit_test(test_many_columns),
		cmocka_unit_test(test_read_own_namespace),
		cmocka_unit_test(test_read_bad_namespace_fd),
	};

	/* test_read_bad_namespace_fd makes the module warn: say who speaks. */
	log__init("test_netstat", LOG_WARN);
	return cmocka_run_group_tests_name("netstat", tests, NULL, NULL);
}
