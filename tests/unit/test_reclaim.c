// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Reclaiming rows (user/lib/bpfread/reclaim.c): the grace period, freed
 * counts kept in every later read, folding, forgetting, a key that comes
 * back, and a slot that changed hands before the program ran.
 *
 * The table and the kernel are this file's: it defines the bpfmap reads,
 * the map calls, BPF_PROG_TEST_RUN and the affinity calls reclaim.c makes,
 * so that the linker takes them instead of libbpf's and glibc's. The fake
 * program does what bpf/row_table.bpf.h's does, on the CPU the thread was
 * pinned to. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <arpa/inet.h>
#include "bpfmap.h"
#include "listeners.h"
#include "liveness.h"
#include "nswatch_int.h"
#include "row_table.h"
#include "snapshot.h"

#define NCPUS	2
#define NSLOTS	16

struct slot {
	__u64 tag, key, val;	/* the kernel's layout: tag, key, value */
};

static struct slot table[NCPUS][NSLOTS];
static struct row_reclaim_args args;
static struct slot out[ROW_RECLAIM_MAX + 1];
static int pinned = -1, runs;
static __u64 steal_tag;	/* nonzero: the fake program finds this tag instead */

enum { FD_ROWS = 10, FD_USED, FD_ARGS, FD_OUT, FD_PROG };

static __u64 tag_of(__u64 key)
{
	return row_tag(row_hash(&key, 1));
}

static void put(int cpu, __u32 idx, __u64 key, __u64 val)
{
	table[cpu][idx] = (struct slot){ tag_of(key), key, val };
}

int bpfmap__for_each_slot(int rows_fd, int used_fd, size_t key_size, size_t value_size,
			  bpfmap_slot_fn fn, void *ctx)
{
	assert_int_equal(rows_fd, FD_ROWS);
	assert_int_equal(used_fd, FD_USED);
	assert_int_equal(key_size, 8);
	assert_int_equal(value_size, 8);
	for (int c = 0; c < NCPUS; c++)
		for (__u32 i = 0; i < NSLOTS; i++) {
			struct slot *s = &table[c][i];
			int err;

			if (!(s->tag & 1))
				continue;
			err = fn(&s->key, &s->val, i, c, s->tag, ctx);
			if (err)
				return err;
		}
	return 0;
}

struct row_adapter {
	bpfmap_row_fn fn;
	void *ctx;
};

static int row_only(const void *key, const void *value, __u32 idx, int cpu, __u64 tag, void *ctx)
{
	struct row_adapter *a = ctx;

	(void)idx;
	(void)cpu;
	(void)tag;
	return a->fn(key, value, a->ctx);
}

int bpfmap__for_each_row(int rows_fd, int used_fd, size_t key_size, size_t value_size,
			 bpfmap_row_fn fn, void *ctx)
{
	struct row_adapter a = { fn, ctx };

	return bpfmap__for_each_slot(rows_fd, used_fd, key_size, value_size, row_only, &a);
}

int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	(void)flags;
	assert_int_equal(fd, FD_ARGS);
	assert_int_equal(*(const __u32 *)key, 0);
	memcpy(&args, value, sizeof(args));
	return 0;
}

int bpf_map_lookup_elem(int fd, const void *key, void *value)
{
	__u32 i = *(const __u32 *)key;

	assert_int_equal(fd, FD_OUT);
	assert_true(i <= ROW_RECLAIM_MAX);
	memcpy(value, &out[i], sizeof(out[i]));
	return 0;
}

int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
	(void)pid;
	(void)size;
	CPU_ZERO(set);
	for (int c = 0; c < NCPUS; c++)
		CPU_SET(c, set);
	return 0;
}

int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
	(void)pid;
	(void)size;
	pinned = CPU_COUNT(set) == 1 ? (CPU_ISSET(0, set) ? 0 : 1) : -1;
	return 0;
}

/* The reclaim program, on the CPU the thread is pinned to. */
int bpf_prog_test_run_opts(int prog_fd, struct bpf_test_run_opts *opts)
{
	(void)opts;
	assert_int_equal(prog_fd, FD_PROG);
	assert_true(pinned >= 0);
	runs++;
	for (__u32 i = 0; i < args.n; i++) {
		const struct row_reclaim_req *r = &args.req[i];
		struct slot *s = &table[pinned][r->idx];

		if ((int)r->cpu != pinned)
			continue;
		out[i].tag = 0;
		if (steal_tag)
			s->tag = steal_tag;
		if (s->tag != r->tag)
			continue;
		out[i] = *s;
		*s = (struct slot){ .tag = ROW_TOMBSTONE };
	}
	return 0;
}

static void merge(void *dst, const void *cpu)
{
	*(__u64 *)dst += *(const __u64 *)cpu;
}

static void delta(void *val, const void *prev)
{
	*(__u64 *)val -= *(const __u64 *)prev;
}

static const struct snapshot_ops ops = { 8, 8, merge, delta };
static const struct row_table_fds fds = { FD_ROWS, FD_USED, FD_ARGS, FD_OUT, FD_PROG };

/* The policy: keys >= 100 are gone; fold_to: 0 forgets, 1 keeps the key,
 * else folds to that key. */
static __u64 fold_to = 1;

static bool gone(const void *key, void *ctx)
{
	(void)ctx;
	return *(const __u64 *)key >= 100;
}

static bool fold(const void *key, void *o, void *ctx)
{
	(void)ctx;
	if (!fold_to)
		return false;
	*(__u64 *)o = fold_to == 1 ? *(const __u64 *)key : fold_to;
	return true;
}

static const struct reclaim_policy pol = { gone, fold, NULL };

struct totals {
	__u64 key[8], val[8];
	int n;
};

static int collect(const void *key, const void *val, void *ctx)
{
	struct totals *t = ctx;

	assert_true(t->n < 8);
	t->key[t->n] = *(const __u64 *)key;
	t->val[t->n++] = *(const __u64 *)val;
	return 0;
}

static struct totals read_all(struct snapshot *s)
{
	struct totals t = {};

	assert_int_equal(snapshot__read_rows(s, FD_ROWS, FD_USED), 0);
	assert_int_equal(snapshot__for_each(s, true, collect, &t), 0);
	return t;
}

static __u64 total_of(const struct totals *t, __u64 key)
{
	for (int i = 0; i < t->n; i++)
		if (t->key[i] == key)
			return t->val[i];
	return (__u64)-1;	/* absent */
}

static int reset(void **state)
{
	(void)state;
	memset(table, 0, sizeof(table));
	memset(out, 0, sizeof(out));
	fold_to = 1;
	steal_tag = 0;
	runs = 0;
	return 0;
}

/* Gone at one round: nothing freed yet. Gone at the next: its rows on both
 * CPUs are freed, and every later read still has its counts. */
/* One round as the tracer runs it: retired is a gauge the tables add to. */
static int reclaim_round(struct snapshot *s, struct reclaim_stats *st)
{
	st->retired = 0;
	return snapshot__reclaim(s, &fds, &pol, st);
}

static void test_grace_then_freed_and_kept(void **state)
{
	struct snapshot *s = snapshot__new(&ops);
	struct reclaim_stats st = {};
	struct totals t;
	(void)state;

	put(0, 3, 100, 10);
	put(1, 5, 100, 5);
	put(0, 4, 7, 1);
	t = read_all(s);
	assert_int_equal(total_of(&t, 100), 15);
	assert_int_equal(snapshot__reclaim(s, &fds, &pol, &st), 0);
	assert_int_equal(st.freed, 0);
	assert_int_equal(runs, 0);
	table[0][3].val += 2;	/* counted after the read: the program copies it out */
	assert_int_equal(snapshot__reclaim(s, &fds, &pol, &st), 0);
	assert_int_equal(st.freed, 2);
	assert_int_equal(runs, 2);	/* once on each CPU */
	assert_int_equal(table[0][3].tag, ROW_TOMBSTONE);
	assert_int_equal(table[1][5].tag, ROW_TOMBSTONE);
	assert_true(table[0][4].tag & 1);	/* a live key stays */
	t = read_all(s);
	assert_int_equal(total_of(&t, 100), 17);
	assert_int_equal(total_of(&t, 7), 1);
	/* It comes back: it goes on from its counts. */
	put(1, 9, 100, 4);
	t = read_all(s);
	assert_int_equal(total_of(&t, 100), 21);
	snapshot__free(s);
}

/* Folded to another key: the counts move there, in one row. */
static void test_folded(void **state)
{
	struct snapshot *s = snapshot__new(&ops);
	struct reclaim_stats st = {};
	struct totals t;
	(void)state;

	fold_to = 50;
	put(0, 1, 100, 3);
	put(1, 2, 101, 4);
	put(0, 6, 50, 1);
	reclaim_round(s, &st);
	reclaim_round(s, &st);
	assert_int_equal(st.freed, 2);
	t = read_all(s);
	assert_int_equal(t.n, 1);
	assert_int_equal(total_of(&t, 50), 8);
	assert_int_equal(st.retired, 1);
	snapshot__free(s);
}

/* Kept at first (the fold keeps its key), then forgotten once the policy
 * drops it: memory does not grow with dead keys. */
static void test_forgotten(void **state)
{
	struct snapshot *s = snapshot__new(&ops);
	struct reclaim_stats st = {};
	struct totals t;
	(void)state;

	put(0, 1, 100, 3);
	reclaim_round(s, &st);
	reclaim_round(s, &st);
	assert_int_equal(st.retired, 1);
	fold_to = 0;
	reclaim_round(s, &st);
	assert_int_equal(st.forgotten, 1);
	assert_int_equal(st.retired, 0);
	t = read_all(s);
	assert_int_equal(t.n, 0);
	snapshot__free(s);
}

/* The slot changed hands before the program ran: not freed, nothing
 * retired, the row stays. */
static void test_missed(void **state)
{
	struct snapshot *s = snapshot__new(&ops);
	struct reclaim_stats st = {};
	struct totals t;
	(void)state;

	put(0, 1, 100, 3);
	reclaim_round(s, &st);
	steal_tag = 0x1235;
	reclaim_round(s, &st);
	assert_int_equal(st.freed, 0);
	assert_int_equal(st.missed, 1);
	assert_int_equal(st.retired, 0);
	assert_int_equal(table[0][1].tag, 0x1235);
	steal_tag = 0;
	table[0][1].tag = tag_of(100);
	t = read_all(s);
	assert_int_equal(total_of(&t, 100), 3);
	snapshot__free(s);
}

/* With the census (user/lib/sys/nswatch.c) and liveness as the policy,
 * as serve runs them: key 100 is the listener 127.0.0.1:80 of namespace
 * NS_A, key 200 the namespace NS_B (as a connect row names it). The
 * census's namespaces come from here (nswatch_int.h). */
#define NS_A	4026532100u
#define NS_B	4026532101u

static bool a_up = true, b_up = true, a_listens = true;
static int a_dump_err, find_err;

static void census_find(struct nswatch *w, void *ctx)
{
	(void)ctx;
	if (a_up)
		nswatch__found(w, NS_A, 0);
	if (b_up)
		nswatch__found(w, NS_B, 1);
	if (find_err)
		nswatch__not_found(w, "/proc/77/ns/net", find_err);
}

static int census_counters(void *ctx, int fd, __u32 ino, __u64 cur[NSC_NR])
{
	(void)ctx;
	(void)fd;
	(void)ino;
	memset(cur, 0, NSC_NR * sizeof(*cur));
	return 0;
}

static int census_listeners(void *ctx, int fd, __u32 ino, struct sockdiag_listener **ls,
			    size_t *n)
{
	(void)ctx;
	*ls = NULL;
	*n = 0;
	if (ino != NS_A || fd != 0)
		return 0;
	if (a_dump_err)
		return a_dump_err;
	if (!a_listens)
		return 0;
	*ls = calloc(1, sizeof(**ls));
	assert_non_null(*ls);
	(*ls)->cookie = 1;
	(*ls)->addr[0] = 127;
	(*ls)->addr[3] = 1;
	(*ls)->port = 80;
	(*ls)->family = AF_INET;
	*n = 1;
	return 0;
}

static const struct nswatch_src census_src = {
	.find = census_find, .counters = census_counters, .listeners = census_listeners,
};

static bool census_gone(const void *key, void *ctx)
{
	__u64 k = *(const __u64 *)key;
	__u8 addr[16] = { 127, 0, 0, 1 };
	struct listener_key lk;

	if (k == 200)
		return liveness__netns_gone(ctx, NS_B);
	listener__key_of_diag(NS_A, AF_INET, addr, 80, &lk);
	return liveness__listener_gone(ctx, &lk);
}

/* One reclaim round as serve runs it: the census refreshed, liveness from
 * it, then the table. */
static void census_round(struct snapshot *s, struct nswatch *w, struct liveness *lv,
			 struct reclaim_stats *st)
{
	struct reclaim_policy p = { census_gone, fold, lv };

	assert_int_equal(nswatch__refresh(w, true), 0);
	assert_int_equal(liveness__refresh(lv, w), 0);
	read_all(s);
	st->retired = 0;
	assert_int_equal(snapshot__reclaim(s, &fds, &p, st), 0);
}

/* Reads that fail, round after round, while the listener is in fact closed
 * and the namespace deleted: nothing is freed, nothing forgotten. Once
 * the census reads again, both are freed after the usual two rounds. */
static void test_failed_census_frees_nothing(void **state)
{
	struct snapshot *s = snapshot__new(&ops);
	struct liveness *lv = liveness__new();
	struct reclaim_stats st = {};
	struct nswatch *w;
	struct totals t;

	(void)state;
	a_up = b_up = a_listens = true;
	a_dump_err = find_err = 0;
	w = nswatch__new_src(0, &census_src);
	assert_non_null(w);
	put(0, 1, 100, 3);
	put(1, 2, 200, 4);
	census_round(s, w, lv, &st);
	census_round(s, w, lv, &st);
	assert_int_equal(st.freed, 0);

	a_listens = false;	/* closed, but the dump fails */
	a_dump_err = -ENOBUFS;
	b_up = false;		/* deleted, but the search fails */
	find_err = -EMFILE;
	for (int r = 0; r < 6; r++) {
		census_round(s, w, lv, &st);
		assert_int_equal(st.freed, 0);
		assert_int_equal(runs, 0);
	}
	t = read_all(s);
	assert_int_equal(total_of(&t, 100), 3);
	assert_int_equal(total_of(&t, 200), 4);

	a_dump_err = find_err = 0;	/* reads work: gone, then freed */
	census_round(s, w, lv, &st);
	assert_int_equal(st.freed, 0);
	census_round(s, w, lv, &st);
	assert_int_equal(st.freed, 2);
	t = read_all(s);
	assert_int_equal(total_of(&t, 100), 3);	/* kept (fold keeps the key) */
	assert_int_equal(total_of(&t, 200), 4);
	liveness__free(lv);
	nswatch__free(w);
	snapshot__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_grace_then_freed_and_kept, reset),
		cmocka_unit_test_setup(test_folded, reset),
		cmocka_unit_test_setup(test_forgotten, reset),
		cmocka_unit_test_setup(test_missed, reset),
		cmocka_unit_test_setup(test_failed_census_frees_nothing, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
