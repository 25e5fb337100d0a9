// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The tuner's rules (user/lib/tunerules*.c): every rule's trigger, bounded
 * step, ceiling and floor; absurd inputs; the values never proposed. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "sysctl.h"
#include "tunerules.h"

#define NS 4026532301u

static struct tune_listener L;
static struct tune_evidence E;
static struct tune_rec R[TUNE_MAX_RECS];
static size_t N;

/* A namespace with kernel defaults and one listener with nothing wrong. */
static int setup(void **state)
{
	(void)state;
	memset(&L, 0, sizeof(L));
	memset(&E, 0, sizeof(E));
	snprintf(L.address, sizeof(L.address), "0.0.0.0:8080");
	snprintf(L.comm, sizeof(L.comm), "server");
	L.port = 8080;
	L.netns = NS;
	L.pid = 42;
	L.socks[0].ino = 777;
	L.nsocks_listed = 1;
	L.nsocks = 1;
	L.limit = 16;
	L.accepted = 90;
	E.seconds = 4;
	E.netns = NS;
	E.ncpus = 8;
	E.somaxconn = 4096;
	E.max_syn_backlog = 2048;
	E.syncookies = 1;
	E.netdev_max_backlog = 1000;
	E.tw_reuse = 2;
	E.port_lo = 32768;
	E.port_hi = 60999;
	E.tcp_rmem[0] = 4096, E.tcp_rmem[1] = 131072, E.tcp_rmem[2] = 6291456;
	E.tcp_mem[0] = 10000, E.tcp_mem[1] = 20000, E.tcp_mem[2] = 30000;
	E.mem_pages = 1u << 22;	/* 16 GiB */
	E.known = ~0u;
	E.listeners = &L;
	E.nlisteners = 1;
	return 0;
}

static void run(void)
{
	assert_int_equal(tunerules__evaluate(&E, R, TUNE_MAX_RECS, &N), 0);
	for (size_t i = 0; i < N; i++)
		assert_true(tunerules__safe(&R[i]));
}

static const struct tune_rec *by_rule(const char *rule, enum tune_kind kind)
{
	for (size_t i = 0; i < N; i++)
		if (!strcmp(R[i].rule, rule) && R[i].kind == kind)
			return &R[i];
	return NULL;
}

static const struct tune_rec *by_setting(const char *setting)
{
	for (size_t i = 0; i < N; i++)
		if (!strcmp(R[i].setting, setting))
			return &R[i];
	return NULL;
}

static bool pow2(long long v)
{
	return v > 0 && !(v & (v - 1));
}

/* --- bounded() ------------------------------------------------------------ */

static void test_bounded(void **state)
{
	(void)state;
	assert_int_equal(tunerules__bounded(100, 16, 0, 65535), 128);	/* next power of two */
	assert_int_equal(tunerules__bounded(20, 16, 0, 65535), 32);	/* at least 2x */
	assert_int_equal(tunerules__bounded(1e9, 16, 0, 65535), 256);	/* at most 16x */
	assert_int_equal(tunerules__bounded(1e9, 8192, 0, 65535), 65535);	/* ceiling */
	assert_int_equal(tunerules__bounded(10, 64, 4096, 65535), 4096);	/* the default */
	assert_int_equal(tunerules__bounded(NAN, 16, 0, 65535), 256);
	assert_int_equal(tunerules__bounded(INFINITY, 16, 0, 65535), 256);
	assert_int_equal(tunerules__bounded(-INFINITY, 16, 0, 65535), 32);
	assert_int_equal(tunerules__bounded(-5, 16, 0, 65535), 32);
	assert_int_equal(tunerules__bounded(5, 0, 0, 65535), 8);	/* limit 0 counts as 1 */
	assert_int_equal(tunerules__bounded(5, -3, 0, 65535), 8);
	assert_true(tunerules__bounded(1e300, LLONG_MAX, 0, LLONG_MAX) == LLONG_MAX);
	assert_true(tunerules__bounded(1e300, LLONG_MAX / 3, 0, LLONG_MAX) == LLONG_MAX);
}

/* --- listen backlog and somaxconn -------------------------------------------- */

static void test_backlog_is_the_cap(void **state)
{
	const struct tune_rec *r;
	(void)state;

	L.overflows = L.overflows_syn = 83;
	L.wait_p99_us = 343900;
	run();
	r = by_rule("listen-backlog", TUNE_RELISTEN);
	assert_non_null(r);
	assert_null(by_setting("net.core.somaxconn"));	/* not somaxconn */
	assert_int_equal(r->cur_num, 16);
	assert_true(r->prop_num > 16 && r->prop_num <= 16 * TUNE_STEP_MAX && pow2(r->prop_num));
	assert_true(r->prop_num >= 16 + 1 + 83);	/* what it held + what it refused */
	assert_string_equal(r->id, "listen-backlog/4026532301/0.0.0.0:8080");
	assert_int_equal(r->pid, 42);
	assert_int_equal(r->nsocks, 1);
	assert_int_equal(r->socks[0].ino, 777);
	assert_non_null(strstr(r->evidence, "overflowed 83 times in 4.0 s"));
	assert_non_null(strstr(r->evidence, "its limit is 16 = the backlog the application asked"));
	assert_non_null(strstr(r->evidence, "somaxconn is 4096"));
	assert_non_null(strstr(r->why, "application's backlog is the cap"));
}

static void test_little_law_sizing(void **state)
{
	(void)state;
	/* 1000 arrivals/s waiting 100 ms at p99: 100 in the queue, 200 with
	 * headroom, though only 3 overflows were seen. */
	L.limit = 64;
	L.accepted = 4000;
	L.overflows = L.overflows_ack = 3;
	L.wait_p99_us = 100000;
	assert_true(tunerules__backlog_need(&E, &L) > 199 && tunerules__backlog_need(&E, &L) < 201);
	run();
	assert_int_equal(by_rule("listen-backlog", TUNE_RELISTEN)->prop_num, 256);
}

static void test_somaxconn_is_the_cap(void **state)
{
	const struct tune_rec *s, *r;
	(void)state;

	E.somaxconn = 64;
	L.limit = 64;
	L.overflows = L.overflows_syn = 234;
	run();
	s = by_setting("net.core.somaxconn");
	r = by_rule("listen-backlog", TUNE_RELISTEN);
	assert_non_null(s);
	assert_non_null(r);
	assert_int_equal(s->kind, TUNE_SYSCTL);
	assert_int_equal(s->scope, SYSCTL_NETNS);
	assert_int_equal(s->netns, NS);
	assert_string_equal(s->current, "64");
	assert_string_equal(s->proposed, "4096");	/* never below the kernel default */
	assert_true(s < r);				/* the sysctl is applied first */
	assert_true(r->prop_num > 64 && r->prop_num <= 64 * TUNE_STEP_MAX && r->prop_num <= 4096);
	assert_non_null(strstr(r->why, "does not change listeners that already listen"));
	assert_non_null(strstr(s->evidence, "= somaxconn"));
	assert_non_null(strstr(s->evidence, "below the kernel default"));
}

static void test_somaxconn_step_and_ceiling(void **state)
{
	const struct tune_rec *s;
	(void)state;

	E.somaxconn = 8192;
	L.limit = 8192;
	L.overflows = L.overflows_syn = UINT64_MAX / 2;
	run();
	s = by_setting("net.core.somaxconn");
	assert_non_null(s);
	assert_int_equal(s->prop_num, TUNE_BACKLOG_CEILING);	/* 16x would be 131072 */
	assert_true(by_rule("listen-backlog", TUNE_RELISTEN)->prop_num <= TUNE_BACKLOG_CEILING);

	setup(NULL);
	E.somaxconn = L.limit = TUNE_BACKLOG_CEILING;
	L.overflows = 10;
	run();
	assert_null(by_setting("net.core.somaxconn"));
	assert_null(by_rule("listen-backlog", TUNE_RELISTEN));
	assert_non_null(by_rule("listen-ceiling", TUNE_ADVICE));
}

static void test_backlog_beyond_somaxconn(void **state)
{
	const struct tune_rec *s, *r;
	(void)state;

	E.somaxconn = 4096;
	L.limit = 2048;
	L.overflows = 100000;
	run();
	r = by_rule("listen-backlog", TUNE_RELISTEN);
	s = by_setting("net.core.somaxconn");
	assert_non_null(r);
	assert_non_null(s);	/* the listener needs more than somaxconn allows */
	assert_true(r->prop_num <= s->prop_num);
	assert_true(s->prop_num <= TUNE_BACKLOG_CEILING);
}

static void test_limit_above_somaxconn(void **state)
{
	const struct tune_rec *r;
	(void)state;

	/* somaxconn was lowered after listen(): a relisten must not shrink it. */
	E.somaxconn = 128;
	L.limit = 1024;
	L.overflows = 50;
	run();
	r = by_rule("listen-backlog", TUNE_RELISTEN);
	assert_true(!r || r->prop_num > 1024);
	assert_non_null(by_setting("net.core.somaxconn"));
}

static void test_limit_zero(void **state)
{
	(void)state;
	L.limit = 0;	/* listen(fd, 0): the queue holds one */
	L.overflows = 5;
	run();
	assert_true(by_rule("listen-backlog", TUNE_RELISTEN)->prop_num >= 2);
}

static void test_no_evidence_no_change(void **state)
{
	(void)state;
	L.wait_p99_us = 1000;
	run();
	assert_int_equal(N, 0);
	E.nlisteners = 0;
	E.listeners = NULL;
	run();
	assert_int_equal(N, 0);
}

static void test_missing_fields(void **state)
{
	(void)state;
	L.overflows = 100;
	E.known = 0;	/* no sysctl could be read */
	E.drop_cpu_backlog = E.drop_rcvbuff = E.drop_proto_mem = 100;
	E.mem_pressures = 1;
	E.connect_no_port = E.connect_total = 1000;
	E.syn_queue_drops = 10;
	E.syncookies = 0;
	run();
	for (size_t i = 0; i < N; i++)
		assert_int_not_equal(R[i].kind, TUNE_SYSCTL);
	assert_null(by_rule("listen-backlog", TUNE_RELISTEN));	/* the cap is unknown */
}

/* --- SYN queue ------------------------------------------------------------- */

static void test_syn_backlog_only_without_cookies(void **state)
{
	const struct tune_rec *r;
	(void)state;

	E.syncookies = 0;
	E.max_syn_backlog = 128;
	E.syn_queue_drops = 300;
	run();
	r = by_setting("net.ipv4.tcp_max_syn_backlog");
	assert_non_null(r);
	assert_true(r->prop_num >= 256 && r->prop_num <= 128 * TUNE_STEP_MAX);
	assert_non_null(by_rule("listen-backlog", TUNE_RELISTEN));	/* the backlog first */
	assert_null(by_setting("net.ipv4.tcp_syncookies"));

	E.syncookies = 1;	/* with cookies tcp_max_syn_backlog never applies */
	run();
	assert_null(by_setting("net.ipv4.tcp_max_syn_backlog"));
}

static void test_syncookies_under_load(void **state)
{
	const struct tune_rec *r;
	(void)state;

	E.syncookies_sent = 66;	/* no overflow: the SYN queue was the limit */
	run();
	r = by_rule("listen-backlog", TUNE_RELISTEN);
	assert_non_null(r);
	assert_non_null(strstr(r->evidence, "66 SYN cookies"));
	assert_null(by_setting("net.ipv4.tcp_syncookies"));
	/* an idle listener gets no share of namespace-wide cookies */
	L.accepted = 0;
	run();
	assert_int_equal(N, 0);
}

/* --- other rules ------------------------------------------------------------ */

static void test_netdev_backlog(void **state)
{
	const struct tune_rec *r;
	(void)state;

	E.drop_cpu_backlog = 5;
	run();
	r = by_setting("net.core.netdev_max_backlog");
	assert_non_null(r);
	assert_int_equal(r->scope, SYSCTL_GLOBAL);
	assert_string_equal(r->id, "netdev-backlog/global");
	assert_int_equal(r->prop_num, 2000);
	E.netdev_max_backlog = 100;	/* below the default: back to it */
	run();
	assert_int_equal(by_setting("net.core.netdev_max_backlog")->prop_num, 1000);
	E.netdev_max_backlog = sysctl__info("net.core.netdev_max_backlog")->ceiling;
	run();
	assert_null(by_setting("net.core.netdev_max_backlog"));
	E.netdev_max_backlog = 100000;	/* above the ceiling: never lowered */
	run();
	assert_null(by_setting("net.core.netdev_max_backlog"));
	E.drop_cpu_backlog = 0;
	E.netdev_max_backlog = 1000;
	run();
	assert_null(by_setting("net.core.netdev_max_backlog"));
}

static void test_buffers(void **state)
{
	const struct tune_rec *r;
	(void)state;

	run();	/* no drops, no buffer change */
	assert_null(by_setting("net.ipv4.tcp_rmem"));
	assert_null(by_setting("net.ipv4.tcp_mem"));
	E.drop_rcvbuff = 10;
	run();
	r = by_setting("net.ipv4.tcp_rmem");
	assert_non_null(r);
	assert_string_equal(r->proposed, "4096 131072 12582912");
	assert_null(by_setting("net.ipv4.tcp_mem"));
	assert_null(by_setting("net.core.rmem_max"));	/* not without SO_RCVBUF evidence */
	E.tcp_rmem[2] = 64 << 20;	/* at the ceiling */
	run();
	assert_null(by_setting("net.ipv4.tcp_rmem"));
	E.tcp_rmem[2] = 1LL << 30;	/* above it: never lowered */
	run();
	assert_null(by_setting("net.ipv4.tcp_rmem"));

	setup(NULL);
	E.drop_proto_mem = 10;
	E.mem_pressures = 3;
	run();
	r = by_setting("net.ipv4.tcp_mem");
	assert_non_null(r);
	assert_int_equal(r->scope, SYSCTL_GLOBAL);
	assert_string_equal(r->proposed, "20000 40000 60000");
	E.tcp_mem[2] = (long long)(E.mem_pages / 4);	/* a quarter of RAM: the ceiling */
	run();
	assert_null(by_setting("net.ipv4.tcp_mem"));
	E.tcp_mem[2] = 30000;
	E.known &= ~TK_MEM_PAGES;
	run();
	assert_null(by_setting("net.ipv4.tcp_mem"));
}

static void test_ephemeral_ports(void **state)
{
	const struct tune_rec *r;
	(void)state;

	E.connect_no_port = 500;
	E.connect_total = 1000;
	E.tcp_sockets = 28000;
	run();
	r = by_setting("net.ipv4.ip_local_port_range");
	assert_non_null(r);
	assert_string_equal(r->proposed, "16384 65535");	/* never below 16384 */
	assert_non_null(strstr(r->evidence, "500 of 1,000 connects found no free local port"));
	r = by_setting("net.ipv4.tcp_tw_reuse");
	assert_non_null(r);
	assert_string_equal(r->proposed, "1");
	assert_non_null(strstr(r->why, "tcp_tw_recycle is gone"));

	E.port_lo = 60000, E.port_hi = 60099;	/* a narrow range at most doubles */
	E.tcp_sockets = 100;
	run();
	r = by_setting("net.ipv4.ip_local_port_range");
	assert_non_null(r);
	assert_string_equal(r->proposed, "60000 60199");

	E.tcp_sockets = 10;	/* too few sockets to exhaust anything */
	run();
	assert_int_equal(N, 0);
	E.known &= ~TK_TCP_SOCKETS;	/* unknown: the failures decide */
	E.connect_no_port = 9;
	run();
	assert_int_equal(N, 0);
	E.connect_no_port = 40;	/* 4% of connects */
	run();
	assert_int_equal(N, 0);
	E.port_lo = 70000;	/* nonsense range */
	E.connect_no_port = 1000;
	run();
	assert_null(by_setting("net.ipv4.ip_local_port_range"));
}

static void test_reuseport(void **state)
{
	const struct tune_rec *r;
	(void)state;

	L.accepted = 1000;
	L.overflows = 1000;
	L.wait_p99_us = 200000;
	L.wait_p50_us = 100000;
	run();
	r = by_rule("reuseport", TUNE_ADVICE);
	assert_non_null(r);
	assert_int_equal(r->prop_num, 4);	/* twice the demand the loop served */
	E.ncpus = 2;
	run();
	assert_int_equal(by_rule("reuseport", TUNE_ADVICE)->prop_num, 2);	/* <= CPUs */
	L.nsocks = 2;	/* already a group */
	run();
	assert_null(by_rule("reuseport", TUNE_ADVICE));
	L.nsocks = 0;	/* unknown */
	run();
	assert_null(by_rule("reuseport", TUNE_ADVICE));
	L.nsocks = 1;
	L.wait_p99_us = 1000;	/* a prompt loop */
	run();
	assert_null(by_rule("reuseport", TUNE_ADVICE));
}

/* --- the values never proposed, and absurd inputs ------------------------- */

static void test_safe_refuses(void **state)
{
	struct tune_rec r = { .kind = TUNE_SYSCTL };
	(void)state;

	snprintf(r.setting, sizeof(r.setting), "net.core.somaxconn");
	snprintf(r.current, sizeof(r.current), "4096");
	snprintf(r.proposed, sizeof(r.proposed), "8192");
	r.prop_num = 8192;
	assert_true(tunerules__safe(&r));
	snprintf(r.proposed, sizeof(r.proposed), "1024");	/* below the default */
	r.prop_num = 1024;
	assert_false(tunerules__safe(&r));
	snprintf(r.proposed, sizeof(r.proposed), "100000");	/* above the ceiling */
	r.prop_num = 100000;
	assert_false(tunerules__safe(&r));
	snprintf(r.proposed, sizeof(r.proposed), "4096");	/* no change */
	r.prop_num = 4096;
	assert_false(tunerules__safe(&r));
	snprintf(r.setting, sizeof(r.setting), "net.ipv4.tcp_syncookies");
	snprintf(r.current, sizeof(r.current), "1");
	snprintf(r.proposed, sizeof(r.proposed), "0");
	r.prop_num = 0;
	assert_false(tunerules__safe(&r));
	snprintf(r.setting, sizeof(r.setting), "net.ipv4.tcp_tw_recycle");
	snprintf(r.proposed, sizeof(r.proposed), "1");
	assert_false(tunerules__safe(&r));
	r.kind = TUNE_ADVICE;
	assert_false(tunerules__safe(&r));
	r.kind = TUNE_SYSCTL;
	snprintf(r.setting, sizeof(r.setting), "net.ipv4.made_up");
	assert_false(tunerules__safe(&r));
	r.kind = TUNE_RELISTEN;
	r.cur_num = 16, r.prop_num = 8;	/* a relisten never shrinks */
	assert_false(tunerules__safe(&r));
	r.prop_num = 70000;
	assert_false(tunerules__safe(&r));
}

static __u64 rnd(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double wild(__u64 *s)
{
	static const double v[] = { 0, -1, 1e-300, 1e300, NAN, INFINITY, -INFINITY, 1, 0.5, 4e9 };

	return rnd(s) % 3 ? (double)(rnd(s) % 100000) : v[rnd(s) % 10];
}

static void fuzz_one(__u64 *s, struct tune_listener *ls, size_t nls)
{
	static const __u64 big[] = { 0, 1, 5, 1000, UINT32_MAX, UINT64_MAX / 3, UINT64_MAX };

	E.seconds = wild(s);
	E.known = (unsigned int)rnd(s);
	E.ncpus = (int)(rnd(s) % 5) - 1;
	E.somaxconn = (long long)(rnd(s) % 70000) - 1000;
	E.max_syn_backlog = (long long)rnd(s);
	E.syncookies = (long long)(rnd(s) % 4) - 1;
	E.netdev_max_backlog = (long long)(rnd(s) % 40000) - 10;
	E.tw_reuse = (long long)(rnd(s) % 5) - 1;
	E.port_lo = (long long)(rnd(s) % 70000) - 10;
	E.port_hi = (long long)(rnd(s) % 70000) - 10;
	for (int k = 0; k < 3; k++) {
		E.tcp_rmem[k] = (long long)rnd(s) >> (rnd(s) % 64);
		E.tcp_mem[k] = (long long)rnd(s) >> (rnd(s) % 64);
	}
	E.mem_pages = big[rnd(s) % 7];
	E.syn_queue_drops = big[rnd(s) % 7];
	E.syncookies_sent = big[rnd(s) % 7];
	E.drop_cpu_backlog = big[rnd(s) % 7];
	E.drop_rcvbuff = big[rnd(s) % 7];
	E.drop_proto_mem = big[rnd(s) % 7];
	E.connect_total = big[rnd(s) % 7];
	E.connect_no_port = big[rnd(s) % 7];
	E.tcp_sockets = big[rnd(s) % 7];
	E.mem_pressures = big[rnd(s) % 7];
	for (size_t i = 0; i < nls; i++) {
		ls[i] = L;
		snprintf(ls[i].address, sizeof(ls[i].address), "10.0.0.%zu:%zu", i, i);
		ls[i].limit = (__u32)(rnd(s) % 3 ? rnd(s) % 70000 : rnd(s));
		ls[i].accepted = big[rnd(s) % 7];
		ls[i].overflows = big[rnd(s) % 7];
		ls[i].wait_p99_us = wild(s);
		ls[i].wait_p50_us = wild(s);
		ls[i].nsocks = (__u32)(rnd(s) % 3);
	}
	E.listeners = ls;
	E.nlisteners = nls;
}

/* Whatever the evidence, every recommendation is bounded and safe. */
static void test_fuzz(void **state)
{
	struct tune_listener ls[8];
	__u64 s = 0x9e3779b97f4a7c15ULL;
	(void)state;

	for (int iter = 0; iter < 20000; iter++) {
		fuzz_one(&s, ls, rnd(&s) % 9);
		tunerules__evaluate(&E, R, TUNE_MAX_RECS, &N);
		assert_true(N <= TUNE_MAX_RECS);
		for (size_t i = 0; i < N; i++) {
			const struct tune_rec *r = &R[i];
			const struct sysctl_info *info = sysctl__info(r->setting);

			assert_true(tunerules__safe(r));
			assert_null(strstr(r->setting, "tw_recycle"));
			assert_true(strcmp(r->setting, "net.ipv4.tcp_syncookies"));
			if (r->kind == TUNE_RELISTEN)
				assert_true(r->prop_num > r->cur_num && r->prop_num <= 65535);
			if (r->kind == TUNE_SYSCTL)
				assert_true(info && r->prop_num >= info->floor &&
					    r->prop_num <= info->ceiling);
			/* only the port range's start and tw_reuse's mode go down */
			if (r->kind == TUNE_SYSCTL && strcmp(r->rule, "ephemeral-ports"))
				assert_true(r->prop_num > r->cur_num);
			if (i)	/* sysctls, then relistens, then advice */
				assert_true(R[i - 1].kind <= r->kind);
		}
	}
}

static void test_too_many(void **state)
{
	struct tune_rec few[1];
	size_t n;
	(void)state;

	L.overflows = 100;
	E.drop_cpu_backlog = 5;
	assert_int_equal(tunerules__evaluate(&E, few, 1, &n), -ENOSPC);
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bounded, setup),
		cmocka_unit_test_setup(test_backlog_is_the_cap, setup),
		cmocka_unit_test_setup(test_little_law_sizing, setup),
		cmocka_unit_test_setup(test_somaxconn_is_the_cap, setup),
		cmocka_unit_test_setup(test_somaxconn_step_and_ceiling, setup),
		cmocka_unit_test_setup(test_backlog_beyond_somaxconn, setup),
		cmocka_unit_test_setup(test_limit_above_somaxconn, setup),
		cmocka_unit_test_setup(test_limit_zero, setup),
		cmocka_unit_test_setup(test_no_evidence_no_change, setup),
		cmocka_unit_test_setup(test_missing_fields, setup),
		cmocka_unit_test_setup(test_syn_backlog_only_without_cookies, setup),
		cmocka_unit_test_setup(test_syncookies_under_load, setup),
		cmocka_unit_test_setup(test_netdev_backlog, setup),
		cmocka_unit_test_setup(test_buffers, setup),
		cmocka_unit_test_setup(test_ephemeral_ports, setup),
		cmocka_unit_test_setup(test_reuseport, setup),
		cmocka_unit_test_setup(test_safe_refuses, setup),
		cmocka_unit_test_setup(test_fuzz, setup),
		cmocka_unit_test_setup(test_too_many, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
