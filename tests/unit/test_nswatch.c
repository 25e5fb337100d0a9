// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The census (user/lib/sys/nswatch.c) and what liveness (user/lib/stats/
 * liveness.c) answers from it, for serve's reclaiming (docs/reclaim.md):
 * - weeks of namespaces that come and go leave state for the live ones
 *   only (plus a few refreshes' worth of the gone);
 * - a read that fails (sock_diag, TcpExt counters, a /proc entry that
 *   cannot be opened) makes nothing gone, however many rounds it lasts,
 *   and loses no baseline;
 * - a namespace really gone is gone at once for liveness (reclaim's own
 *   two rounds are the grace), and its state goes after the census's.
 *
 * The namespaces are this file's: a fake source (nswatch_int.h) hands the
 * census the same calls /proc, netstat and sock_diag would. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "listeners.h"
#include "liveness.h"
#include "nswatch.h"
#include "nswatch_int.h"

#define MAXNS	64
#define MAXL	4
#define INO0	4026532000u

struct fake_ns {
	__u32 ino;
	bool present;
	int counters_err, listeners_err;	/* -errno, for the next reads */
	__u64 overflows;
	size_t nl;
	struct sockdiag_listener l[MAXL];
};

static struct fake_ns fns[MAXNS];
static int find_err;		/* -errno: one entry cannot be looked at */
static unsigned counter_reads;

static void fake_find(struct nswatch *w, void *ctx)
{
	(void)ctx;
	for (int i = 0; i < MAXNS; i++)
		if (fns[i].present) {
			/* Twice, as two processes of one namespace. */
			nswatch__found(w, fns[i].ino, i);
			nswatch__found(w, fns[i].ino, i);
		}
	if (find_err)
		nswatch__not_found(w, "/proc/4242/ns/net", find_err);
}

static int fake_counters(void *ctx, int fd, __u32 ino, __u64 cur[NSC_NR])
{
	(void)ctx;
	assert_int_equal(fns[fd].ino, ino);
	counter_reads++;
	if (fns[fd].counters_err)
		return fns[fd].counters_err;
	memset(cur, 0, NSC_NR * sizeof(*cur));
	cur[NSC_LISTEN_OVERFLOWS] = fns[fd].overflows;
	return 0;
}

static int fake_listeners(void *ctx, int fd, __u32 ino, struct sockdiag_listener **ls, size_t *n)
{
	(void)ctx;
	assert_int_equal(fns[fd].ino, ino);
	*ls = NULL;
	*n = 0;
	if (fns[fd].listeners_err)
		return fns[fd].listeners_err;
	if (!fns[fd].nl)
		return 0;
	*ls = malloc(fns[fd].nl * sizeof(**ls));
	assert_non_null(*ls);
	memcpy(*ls, fns[fd].l, fns[fd].nl * sizeof(**ls));
	*n = fns[fd].nl;
	return 0;
}

static const struct nswatch_src src = {
	.find = fake_find, .counters = fake_counters, .listeners = fake_listeners,
};

static int setup(void **state)
{
	(void)state;
	memset(fns, 0, sizeof(fns));
	find_err = 0;
	counter_reads = 0;
	return 0;
}

static struct fake_ns *ns_up(int i, __u32 ino)
{
	memset(&fns[i], 0, sizeof(fns[i]));
	fns[i].ino = ino;
	fns[i].present = true;
	return &fns[i];
}

static void listen_on(struct fake_ns *ns, __u16 port, __u64 cookie, __u32 drops)
{
	struct sockdiag_listener *l = &ns->l[ns->nl++];

	memset(l, 0, sizeof(*l));
	l->cookie = cookie;
	l->addr[0] = 127;
	l->addr[3] = 1;
	l->port = port;
	l->family = AF_INET;
	l->drops = drops;
	l->inode = (__u32)cookie;
}

static struct listener_key key(__u32 netns, __u16 port)
{
	__u8 addr[16] = { 127, 0, 0, 1 };
	struct listener_key k;

	listener__key_of_diag(netns, AF_INET, addr, port, &k);
	return k;
}

static const struct nswatch_ns *census_ns(const struct nswatch *w, __u32 ino)
{
	for (size_t i = 0; i < nswatch__ns_count(w); i++)
		if (nswatch__ns(w, i)->ino == ino)
			return nswatch__ns(w, i);
	return NULL;
}

static const struct nswatch_listener *census_listener(struct nswatch *w, __u32 netns,
						      __u64 cookie)
{
	for (size_t i = 0; i < nswatch__listener_count(w); i++) {
		const struct nswatch_listener *l = nswatch__listener(w, i);

		if (l->netns == netns && l->diag.cookie == cookie)
			return l;
	}
	return NULL;
}

static void round_(struct nswatch *w, struct liveness *lv)
{
	assert_int_equal(nswatch__refresh(w, true), 0);
	assert_int_equal(liveness__refresh(lv, w), 0);
}

/* 20,000 namespaces, 16 alive at a time, each for 3 refreshes: the census
 * keeps the live ones and those gone for less than its grace, never all
 * it ever saw; the gone are gone for liveness at the first refresh that
 * misses them. */
static void test_churn_stays_bounded(void **state)
{
	struct liveness *lv = liveness__new();
	struct nswatch *w;
	size_t most = 0;
	__u32 next = INO0;

	(void)state;
	for (int i = 0; i < 16; i++, next++)
		listen_on(ns_up(i, next), 80, next, 0);
	w = nswatch__new_src(0, &src);
	assert_non_null(w);
	assert_non_null(lv);
	for (int r = 0; r < 20000 / 5; r++) {
		__u32 dead[5];

		for (int k = 0; k < 5; k++) {	/* 5 of the 16 replaced per refresh */
			int i = (r * 5 + k) % 16;

			dead[k] = fns[i].ino;
			listen_on(ns_up(i, next), 80, next, 0);
			next++;
		}
		round_(w, lv);
		assert_true(nswatch__complete(w));
		assert_int_equal(nswatch__ns_count(w), 16);
		for (int k = 0; k < 5; k++) {
			struct listener_key lk = key(dead[k], 80);

			assert_true(liveness__netns_gone(lv, dead[k]));
			assert_true(liveness__listener_gone(lv, &lk));
		}
		for (int i = 0; i < 16; i++) {
			struct listener_key lk = key(fns[i].ino, 80);

			assert_false(liveness__netns_gone(lv, fns[i].ino));
			assert_false(liveness__listener_gone(lv, &lk));
		}
		if (nswatch__ns_state_count(w) > most)
			most = nswatch__ns_state_count(w);
	}
	/* 16 live + 5 gone per refresh for at most 8 refreshes. */
	assert_true(most <= 16 + 5 * 8);
	assert_true(next - INO0 >= 20000);
	liveness__free(lv);
	nswatch__free(w);
}

/* A namespace whose sock_diag read fails, round after round: it is alive,
 * its listeners are listed as last read (stale) and none is gone, even one
 * opened since (not listed at all); its counters go on. When the read works
 * again, a listener closed meanwhile is gone, and the baselines held. */
static void test_failed_listeners_read_frees_nothing(void **state)
{
	struct liveness *lv = liveness__new();
	struct fake_ns *a = ns_up(0, INO0), *b = ns_up(1, INO0 + 1);
	struct listener_key ka = key(INO0, 80), knew = key(INO0, 81), kb = key(INO0 + 1, 80);
	const struct nswatch_listener *l;
	struct nswatch *w;

	(void)state;
	listen_on(a, 80, 1, 10);	/* 10 drops before the census started */
	listen_on(b, 80, 2, 0);
	w = nswatch__new_src(0, &src);
	assert_non_null(w);
	a->l[0].drops = 13;
	round_(w, lv);
	assert_int_equal(census_listener(w, INO0, 1)->drops_delta, 3);

	a->listeners_err = -ENOBUFS;
	listen_on(a, 81, 3, 0);		/* opened while the reads fail */
	b->nl = 0;			/* b's listener closes: b was read */
	for (int r = 0; r < 5; r++) {
		a->l[0].drops = 20;	/* unseen while the read fails */
		a->overflows = 4 + r;
		round_(w, lv);
		assert_true(nswatch__complete(w));
		assert_false(census_ns(w, INO0)->listeners_read);
		assert_true(census_ns(w, INO0)->counters_read);
		assert_int_equal(census_ns(w, INO0)->delta[NSC_LISTEN_OVERFLOWS], 4 + r);
		assert_false(liveness__netns_gone(lv, INO0));
		assert_false(liveness__listener_gone(lv, &ka));
		assert_false(liveness__listener_gone(lv, &knew));
		assert_true(liveness__listener_gone(lv, &kb));
		l = census_listener(w, INO0, 1);
		assert_non_null(l);
		assert_true(l->stale);
		assert_int_equal(l->drops_delta, 3);	/* as last read */
	}
	assert_int_equal(nswatch__failures(w)->listeners, 5);
	assert_int_equal(nswatch__failures(w)->counters, 0);
	assert_int_equal(nswatch__failures(w)->find, 0);

	a->listeners_err = 0;
	a->nl = 1;			/* 81 closed again before it was ever read */
	round_(w, lv);
	assert_true(census_ns(w, INO0)->listeners_read);
	l = census_listener(w, INO0, 1);
	assert_false(l->stale);
	assert_int_equal(l->drops_delta, 10);	/* from its baseline, 10 */
	assert_false(liveness__listener_gone(lv, &ka));
	assert_true(liveness__listener_gone(lv, &knew));
	liveness__free(lv);
	nswatch__free(w);
}

/* TcpExt counters that cannot be read: the namespace is alive, listed with
 * its last counters (no growth, nothing backwards); its listeners, read,
 * are known. Counters read again continue from the same baseline. */
static void test_failed_counters_read(void **state)
{
	struct liveness *lv = liveness__new();
	struct fake_ns *a = ns_up(0, INO0);
	struct listener_key ka = key(INO0, 80);
	struct nswatch *w;

	(void)state;
	a->overflows = 100;
	listen_on(a, 80, 1, 0);
	w = nswatch__new_src(0, &src);
	a->overflows = 107;
	round_(w, lv);
	assert_int_equal(census_ns(w, INO0)->delta[NSC_LISTEN_OVERFLOWS], 7);
	a->counters_err = -EPERM;
	a->overflows = 150;
	for (int r = 0; r < 3; r++) {
		round_(w, lv);
		assert_false(census_ns(w, INO0)->counters_read);
		assert_true(census_ns(w, INO0)->listeners_read);
		assert_int_equal(census_ns(w, INO0)->delta[NSC_LISTEN_OVERFLOWS], 7);
		assert_false(liveness__netns_gone(lv, INO0));
		assert_false(liveness__listener_gone(lv, &ka));
	}
	assert_int_equal(nswatch__failures(w)->counters, 3);
	a->counters_err = 0;
	round_(w, lv);
	assert_int_equal(census_ns(w, INO0)->delta[NSC_LISTEN_OVERFLOWS], 50);
	liveness__free(lv);
	nswatch__free(w);
}

/* An entry that cannot be looked at (EMFILE, EPERM on /proc/PID/ns/net)
 * could be the only holder of any namespace not found: none is gone, no
 * listener of one is gone, and no state is dropped, for as long as it
 * lasts. Namespaces read whole still answer for their own listeners. */
static void test_failed_find_keeps_everything(void **state)
{
	struct liveness *lv = liveness__new();
	struct fake_ns *a = ns_up(0, INO0), *b = ns_up(1, INO0 + 1);
	struct listener_key ka = key(INO0, 80), kb = key(INO0 + 1, 80), kb2 = key(INO0 + 1, 81);
	struct nswatch *w;

	(void)state;
	listen_on(a, 80, 1, 5);
	listen_on(b, 80, 2, 0);
	listen_on(b, 81, 4, 0);
	w = nswatch__new_src(0, &src);
	a->l[0].drops = 6;
	round_(w, lv);
	a->present = false;	/* its process cannot be looked at any more */
	find_err = -EMFILE;
	b->nl = 1;		/* b's 81 closes */
	for (int r = 0; r < 20; r++) {
		round_(w, lv);
		assert_false(nswatch__complete(w));
		assert_false(liveness__netns_gone(lv, INO0));
		assert_false(liveness__listener_gone(lv, &ka));
		assert_false(liveness__listener_gone(lv, &kb));
		assert_true(liveness__listener_gone(lv, &kb2));
		assert_int_equal(nswatch__ns_state_count(w), 2);
		/* Listed as last read: a report keeps its numbers. */
		assert_non_null(census_ns(w, INO0));
		assert_false(census_ns(w, INO0)->listeners_read);
		assert_true(census_listener(w, INO0, 1)->stale);
		assert_int_equal(census_listener(w, INO0, 1)->drops_delta, 1);
	}
	assert_int_equal(nswatch__failures(w)->find, 20);
	find_err = 0;
	a->present = true;	/* it was alive all along: baselines held */
	a->l[0].drops = 9;
	round_(w, lv);
	assert_int_equal(census_listener(w, INO0, 1)->drops_delta, 4);
	liveness__free(lv);
	nswatch__free(w);
}

/* A process nettune may not look at (EACCES on /proc/PID/ns/net, as for
 * this host's pid 1 under some sandboxes): counted, said once, and the
 * search is still complete: a namespace gone is gone, or rows of deleted
 * namespaces would be kept for good. */
static void test_denied_entry_is_no_unknown(void **state)
{
	struct liveness *lv = liveness__new();
	struct fake_ns *a = ns_up(0, INO0);
	struct listener_key ka = key(INO0, 80);
	struct nswatch *w;

	(void)state;
	listen_on(a, 80, 1, 0);
	find_err = -EACCES;
	w = nswatch__new_src(0, &src);
	round_(w, lv);
	assert_true(nswatch__complete(w));
	a->present = false;
	round_(w, lv);
	assert_true(nswatch__complete(w));
	assert_true(liveness__netns_gone(lv, INO0));
	assert_true(liveness__listener_gone(lv, &ka));
	assert_int_equal(nswatch__failures(w)->denied, 3);
	assert_int_equal(nswatch__failures(w)->find, 0);
	liveness__free(lv);
	nswatch__free(w);
}

/* A namespace really gone: gone for liveness at once, with its listeners;
 * its state stays for the grace (an inode reused within it is seen for a
 * new namespace: counters that went back count from 0), then goes (reused
 * later, it is a namespace found for the first time). */
static void test_gone_dropped_after_grace(void **state)
{
	struct liveness *lv = liveness__new();
	struct fake_ns *a = ns_up(0, INO0);
	struct listener_key ka = key(INO0, 80);
	struct nswatch *w;
	int r;

	(void)state;
	ns_up(1, INO0 + 1);
	a->overflows = 30;
	listen_on(a, 80, 1, 0);
	w = nswatch__new_src(0, &src);
	round_(w, lv);
	assert_int_equal(nswatch__ns_state_count(w), 2);
	a->present = false;
	round_(w, lv);
	assert_true(liveness__netns_gone(lv, INO0));
	assert_true(liveness__listener_gone(lv, &ka));
	assert_false(liveness__netns_gone(lv, INO0 + 1));
	assert_int_equal(nswatch__ns_state_count(w), 2);	/* within the grace */

	a = ns_up(0, INO0);	/* reused: a new namespace, 5 overflows already */
	a->overflows = 5;
	round_(w, lv);
	assert_false(liveness__netns_gone(lv, INO0));
	assert_int_equal(census_ns(w, INO0)->delta[NSC_LISTEN_OVERFLOWS], 5);

	a->present = false;
	for (r = 1; nswatch__ns_state_count(w) == 2; r++) {
		round_(w, lv);
		assert_true(liveness__netns_gone(lv, INO0));
		assert_true(r <= 8);
	}
	assert_int_equal(r - 1, 8);
	assert_int_equal(nswatch__ns_state_count(w), 1);
	assert_null(census_ns(w, INO0));
	a = ns_up(0, INO0);	/* reused after the grace: found afresh */
	a->overflows = 3;
	round_(w, lv);
	assert_int_equal(census_ns(w, INO0)->delta[NSC_LISTEN_OVERFLOWS], 0);
	assert_int_equal(nswatch__ns_state_count(w), 2);
	liveness__free(lv);
	nswatch__free(w);
}

/* Watching one namespace: only it is read. */
static void test_watch_one(void **state)
{
	struct nswatch *w;

	(void)state;
	ns_up(0, INO0);
	ns_up(1, INO0 + 1);
	w = nswatch__new_src(INO0 + 1, &src);
	assert_non_null(w);
	assert_int_equal(nswatch__ns_count(w), 1);
	assert_int_equal(nswatch__ns(w, 0)->ino, INO0 + 1);
	assert_int_equal(counter_reads, 1);
	nswatch__free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_churn_stays_bounded, setup),
		cmocka_unit_test_setup(test_failed_listeners_read_frees_nothing, setup),
		cmocka_unit_test_setup(test_failed_counters_read, setup),
		cmocka_unit_test_setup(test_failed_find_keeps_everything, setup),
		cmocka_unit_test_setup(test_denied_entry_is_no_unknown, setup),
		cmocka_unit_test_setup(test_gone_dropped_after_grace, setup),
		cmocka_unit_test_setup(test_watch_one, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
