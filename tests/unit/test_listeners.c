// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The per-listener table (user/lib/stats/listeners.c) and its index
 * (user/lib/stats/rowindex.c): rows are found again after growth, after the report
 * sorts them, and after the -p filter removes some. Their accept-wait
 * histograms go with them, and the printed JSON is the JSON of the rows.
 * The join: one row per listener whatever its sources, and the documented
 * precedence when they disagree (listeners.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "listeners.h"
#include "listeners_int.h"
#include "nswatch.h"
#include "hist.h"

#define N 10000

static struct listener_key key_of(unsigned i)
{
	struct listener_key k = { .netns = 4026531840u + i % 3, .port = (__u16)(1000 + i),
				  .family = i % 2 ? AF_INET6 : AF_INET };

	k.addr[0] = 127;
	k.addr[3] = (__u8)(i / 65536 + 1);
	return k;
}

/* The -p filter, as a join without a census applies it. */
static void keep_pids(struct listener_table *t, __u32 *pids, int n)
{
	struct listener_filter f = { .pids = pids, .npids = n };

	assert_int_equal(listener_table__join(t, &f), 0);
}

/* Every key finds its own row: pid was set to the key's number + 1. */
static void check_all(struct listener_table *t, unsigned n, int step)
{
	for (unsigned i = 0; i < N; i += step) {
		struct listener_key k = key_of(i);

		assert_non_null(listener_table__find(t, &k));
		assert_int_equal(listener_table__row(t, &k)->pid, (int)i + 1);
	}
	assert_int_equal(listener_table__len(t), n);
}

static void test_many_rows_found_after_growth_and_sort(void **state)
{
	struct listener_table *t = listener_table__new();
	FILE *devnull = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(t);
	assert_non_null(devnull);
	for (unsigned i = 0; i < N; i++) {
		struct listener_key k = key_of(i);
		struct listener_row *r = listener_table__row(t, &k);

		assert_non_null(r);
		assert_int_equal(r->pid, 0);	/* a new row is zeroed */
		r->pid = (int)i + 1;
		r->overflow_ack = i % 7;	/* so that the sort moves rows */
	}
	check_all(t, N, 1);
	listener_table__print(t, devnull);	/* sorts the rows */
	check_all(t, N, 1);
	fclose(devnull);
	listener_table__free(t);
}

static void test_filter_and_reset(void **state)
{
	struct listener_table *t = listener_table__new();
	__u32 keep[] = { 1, 3 };	/* the pids of keys 0 and 2 */
	struct listener_key k0 = key_of(0), k1 = key_of(1), k2 = key_of(2);

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		struct listener_key k = key_of(i);

		listener_table__row(t, &k)->pid = (int)i + 1;
	}
	keep_pids(t, keep, 2);
	assert_int_equal(listener_table__len(t), 2);
	assert_int_equal(listener_table__row(t, &k0)->pid, 1);
	assert_int_equal(listener_table__row(t, &k2)->pid, 3);
	assert_null(listener_table__find(t, &k1));
	assert_int_equal(listener_table__begin(t, true), 0);
	assert_null(listener_table__find(t, &k0));
	assert_int_equal(listener_table__row(t, &k0)->pid, 0);
	assert_int_equal(listener_table__len(t), 1);
	listener_table__free(t);
}

/* Some accept waits in the row of key i, as accept.c adds them. */
static void add_waits(struct listener_table *t, unsigned i, int n)
{
	struct listener_key k = key_of(i);
	struct listener_row *r = listener_table__row(t, &k);
	struct hist h = {};

	assert_non_null(r);
	for (int s = 0; s < n; s++)
		hist__record(&h, 20000 * (__u64)(i + 1) + 999 * (__u64)s);
	assert_int_equal(sparse_hist__add_hist(&r->wait, &h), 0);
	r->pid = (int)i + 1;
	r->overflow_syn = i % 3;
}

static void test_waits_follow_rows(void **state)
{
	struct listener_table *t = listener_table__new();
	__u32 keep[] = { 2, 4, 6 };
	struct listener_key k3 = key_of(3), k5 = key_of(5);
	FILE *devnull = fopen("/dev/null", "w");

	(void)state;
	for (unsigned i = 0; i < 8; i++)
		add_waits(t, i, (int)i);
	add_waits(t, 5, 10);	/* a second accepting process */
	listener_table__print(t, devnull);	/* sorts */
	assert_int_equal(listener_table__row(t, &k3)->wait.count, 3);
	assert_int_equal(listener_table__row(t, &k5)->wait.count, 15);
	keep_pids(t, keep, 3);	/* frees the others' buckets */
	assert_int_equal(listener_table__len(t), 3);
	assert_int_equal(listener_table__row(t, &k5)->wait.count, 15);
	assert_int_equal(listener_table__begin(t, true), 0);
	assert_int_equal(listener_table__row(t, &k5)->wait.count, 0);
	assert_null(listener_table__row(t, &k5)->wait.b);
	add_waits(t, 5, 2);
	fclose(devnull);
	listener_table__free(t);
}

/* Written text of an empty or full table as --json writes it. */
static char *written(struct listener_table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	listener_table__write_json(t, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* --json writes the rows as they are made, one at a time: the text is the
 * one of the whole array. */
static void test_written_json_is_the_array(void **state)
{
	struct listener_table *t = listener_table__new();
	struct json_object *a;
	char *got;

	(void)state;
	for (unsigned i = 0; i < 50; i++)
		add_waits(t, i, (int)(i % 6));
	listener_table__row(t, &(struct listener_key){ .port = 9 })->limit = 7;
	a = listener_table__json(t);
	got = written(t);
	assert_string_equal(got, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	assert_non_null(strstr(got, "\"accept_wait\":{\"count\":5,"));
	free(got);
	json_object_put(a);
	assert_int_equal(listener_table__begin(t, true), 0);
	got = written(t);
	assert_string_equal(got, "[]");
	free(got);
	listener_table__free(t);
}


/* A census socket of listener key_of(i), as nswatch reads one. */
static struct nswatch_listener census_of(unsigned i, __u32 inode, int pid, __u32 limit,
					 __u32 queue, __u64 drops)
{
	struct listener_key k = key_of(i);
	struct nswatch_listener l = { .netns = k.netns, .pid = pid, .drops_delta = drops };

	memcpy(l.diag.addr, k.addr, sizeof(l.diag.addr));
	l.diag.port = k.port;
	l.diag.family = (__u8)k.family;
	l.diag.inode = inode;
	l.diag.limit = limit;
	l.diag.queue = queue;
	snprintf(l.comm, sizeof(l.comm), "owner%d", pid);
	return l;
}

static void accepts(struct listener_table *t, unsigned i, int pid, int n, __u32 limit,
		    __u64 when)
{
	struct listener_key k = key_of(i);
	struct hist h = {};
	char comm[16];

	snprintf(comm, sizeof(comm), "acceptor%d", pid);
	for (int s = 0; s < n; s++)
		hist__record(&h, 1000000);
	assert_int_equal(listener_table__add_accepts(t, &k, pid, comm, &h, 3, limit, when), 0);
}

/* Owner from the census, never an acceptor; acceptors listed with their
 * counts; limit and queue the census's current values. */
static void test_join_precedence(void **state)
{
	struct listener_table *t = listener_table__new();
	struct nswatch_listener l = census_of(1, 77, 500, 128, 2, 0);
	const struct nswatch_listener *ls[] = { &l };
	struct listener_filter f = { .syn_time = true };
	struct listener_key k = key_of(1);
	struct listener_row *r;

	(void)state;
	accepts(t, 1, 600, 5, 64, 10);	/* an older limit */
	accepts(t, 1, 601, 7, 32, 20);
	assert_int_equal(listeners__join_sockets(t, ls, 1, &f), 0);
	assert_int_equal(listener_table__len(t), 1);
	r = listener_table__row(t, &k);
	assert_int_equal(r->pid, 500);
	assert_string_equal(r->comm, "owner500");
	assert_int_equal(r->limit, 128);
	assert_int_equal(r->queue, 2);
	assert_int_equal(r->wait.count, 12);
	assert_int_equal(r->nacceptors, 2);
	assert_int_equal(r->acceptors[0].pid, 600);
	assert_int_equal(r->acceptors[0].accepted, 5);
	assert_int_equal(r->acceptors[1].accepted, 7);
	assert_int_equal(r->nsockets, 1);
	assert_int_equal(r->sockets[0].inode, 77);
	listener_table__free(t);
}

/* Without the census the newest limit an accept saw is shown, whatever
 * order the rows come in; the owner stays unknown. */
static void test_limit_without_census(void **state)
{
	struct listener_table *t = listener_table__new();
	struct listener_filter f = {};
	struct listener_key k = key_of(2);

	(void)state;
	accepts(t, 2, 600, 1, 64, 30);
	accepts(t, 2, 601, 1, 512, 10);
	assert_int_equal(listeners__join_sockets(t, NULL, 0, &f), 0);
	assert_int_equal(listener_table__row(t, &k)->limit, 64);
	assert_int_equal(listener_table__row(t, &k)->pid, 0);
	listener_table__free(t);
}

/* An SO_REUSEPORT group is one row with all its sockets, the quiet ones
 * too, whichever socket the census lists first; SYN-time overflows are its
 * summed sk_drops less what the events explain. Census listeners with
 * nothing to say make no row. */
static void test_join_reuseport_group(void **state)
{
	struct listener_table *t = listener_table__new();
	struct nswatch_listener a = census_of(3, 11, 500, 8, 0, 0),
				b = census_of(3, 12, 501, 8, 9, 10),
				c = census_of(3, 13, 502, 16, 1, 4),
				idle = census_of(4, 14, 503, 8, 0, 0);
	const struct nswatch_listener *ls[] = { &a, &b, &idle, &c };
	struct listener_filter f = { .syn_time = true };
	struct listener_key k = key_of(3), k4 = key_of(4);
	struct listener_row *r;

	(void)state;
	assert_int_equal(listener_table__add_drops(t, &k, 2, 1, 0, 1), 0);
	assert_int_equal(listeners__join_sockets(t, ls, 4, &f), 0);
	assert_int_equal(listener_table__len(t), 1);
	assert_null(listener_table__find(t, &k4));
	r = listener_table__row(t, &k);
	assert_int_equal(r->nsockets, 3);
	assert_int_equal(r->sockets[0].inode, 11);
	assert_int_equal(r->pid, 500);
	assert_int_equal(r->limit, 16);
	assert_int_equal(r->queue, 9);
	assert_int_equal(r->sk_drops, 14);
	assert_int_equal(r->overflow_ack, 3);
	/* 14 - (2 x 2 ACK + 1 cookie + 1 other) */
	assert_int_equal(r->overflow_syn, 8);
	listener_table__free(t);
}

/* A group of 9 sockets and 9 accepting processes: the arrays grow past
 * their first sizes and keep every entry. */
static void test_many_sockets_and_acceptors(void **state)
{
	struct listener_table *t = listener_table__new();
	struct nswatch_listener l[9];
	const struct nswatch_listener *ls[9];
	struct listener_filter f = {};
	struct listener_key k = key_of(8);
	struct listener_row *r;

	(void)state;
	for (int i = 0; i < 9; i++) {
		l[i] = census_of(8, 100 + (__u32)i, 500 + i, 8, 1, 0);
		ls[i] = &l[i];
		accepts(t, 8, 600 + i, i + 1, 8, (__u64)i);
	}
	assert_int_equal(listeners__join_sockets(t, ls, 9, &f), 0);
	r = listener_table__row(t, &k);
	assert_int_equal(r->nsockets, 9);
	assert_int_equal(r->nacceptors, 9);
	for (int i = 0; i < 9; i++) {
		assert_int_equal(r->sockets[i].inode, 100 + i);
		assert_int_equal(r->acceptors[i].pid, 600 + i);
		assert_int_equal(r->acceptors[i].accepted, i + 1);
	}
	listener_table__free(t);
}

/* -p keeps a listener its process owns, has a socket of, or accepts from. */
static void test_join_pid_filter(void **state)
{
	struct listener_table *t = listener_table__new();
	struct nswatch_listener a = census_of(5, 21, 500, 8, 1, 0),
				b = census_of(6, 22, 501, 8, 1, 0),
				b2 = census_of(6, 23, 502, 8, 0, 0),
				c = census_of(7, 24, 503, 8, 1, 0);
	const struct nswatch_listener *ls[] = { &a, &b, &b2, &c };
	__u32 pids[] = { 502, 700 };
	struct listener_filter f = { .pids = pids, .npids = 2 };
	struct listener_key k5 = key_of(5), k6 = key_of(6), k7 = key_of(7);

	(void)state;
	accepts(t, 5, 700, 1, 8, 1);
	assert_int_equal(listeners__join_sockets(t, ls, 4, &f), 0);
	assert_int_equal(listener_table__len(t), 3);
	f.syn_time = false;
	assert_int_equal(listener_table__join(t, &f), 0);
	assert_int_equal(listener_table__len(t), 2);
	assert_non_null(listener_table__find(t, &k5));
	assert_non_null(listener_table__find(t, &k6));
	assert_null(listener_table__find(t, &k7));
	listener_table__free(t);
}

/* A key built from sock_diag's view equals the BPF side's whole key: an
 * IPv4 address takes 4 bytes, and nothing else is set. */
static void test_key_of_diag_is_whole(void **state)
{
	__u8 addr[16];
	struct listener_key k, want = { .netns = 9, .port = 80, .family = AF_INET };

	(void)state;
	memset(addr, 0xab, sizeof(addr));
	memset(&k, 0xcd, sizeof(k));
	listener__key_of_diag(9, AF_INET, addr, 80, &k);
	memset(want.addr, 0xab, 4);
	assert_memory_equal(&k, &want, sizeof(k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_rows_found_after_growth_and_sort),
		cmocka_unit_test(test_filter_and_reset),
		cmocka_unit_test(test_waits_follow_rows),
		cmocka_unit_test(test_written_json_is_the_array),
		cmocka_unit_test(test_join_precedence),
		cmocka_unit_test(test_limit_without_census),
		cmocka_unit_test(test_join_reuseport_group),
		cmocka_unit_test(test_join_pid_filter),
		cmocka_unit_test(test_many_sockets_and_acceptors),
		cmocka_unit_test(test_key_of_diag_is_whole),
	};
	return cmocka_run_group_tests_name("listeners", tests, NULL, NULL);
}
