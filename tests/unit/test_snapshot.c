// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Snapshots of row tables (user/lib/bpfread/snapshot.c), which keep their rows
 * packed: every key comes back once, its rows on every CPU merged,
 * cumulative or as the difference from the previous read, whatever the
 * order the table gives.
 *
 * The table is this file's: it defines bpfmap__for_each_row(), so the
 * linker takes it instead of user/lib/bpfread/bpfmap.c's and no BPF is involved. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "bpfmap.h"
#include "hist.h"
#include "snapshot.h"

#define NCPUS	3
#define NROWS	3000

struct tval {
	struct hist h;
	__u64 bytes;
	__u32 peak;	/* the last word is a short one: see VAL_SIZE */
};
/* Not a multiple of 8, as a map's value size may be; the kernel still
 * lays each CPU's copy out in 8-byte steps. */
#define VAL_SIZE	(offsetof(struct tval, peak) + sizeof(__u32))
#define STRIDE		((VAL_SIZE + 7) / 8 * 8)

struct fake_row {
	__u32 key;
	__u32 present;
	unsigned char vals[NCPUS][STRIDE];	/* what each CPU counted */
};

static struct fake_row map[NROWS];

/* A row table hands over each CPU's row alone, as if each CPU had put the
 * key in a slot of its own; the order is not the keys'. */
int bpfmap__for_each_row(int rows_fd, int used_fd, size_t key_size, size_t value_size,
			 bpfmap_row_fn fn, void *ctx)
{
	(void)rows_fd;
	(void)used_fd;
	assert_int_equal(key_size, sizeof(__u32));
	assert_int_equal(value_size, VAL_SIZE);
	for (int c = 0; c < NCPUS; c++)
		for (int i = NROWS - 1; i >= 0; i--) {
			int err;

			if (!map[i].present)
				continue;
			err = fn(&map[i].key, map[i].vals[c], ctx);
			if (err)
				return err;
		}
	return 0;
}

static void merge(void *dst, const void *cpu)
{
	struct tval *d = dst, v;

	memcpy(&v, cpu, VAL_SIZE);
	hist__add(&d->h, &v.h);
	d->bytes += v.bytes;
	if (v.peak > d->peak)
		d->peak = v.peak;
}

static void delta(void *val, const void *prev)
{
	struct tval *d = val, old;

	memcpy(&old, prev, VAL_SIZE);
	hist__delta(&d->h, &d->h, &old.h);
	d->bytes -= old.bytes;
}

static const struct snapshot_ops ops = {
	.key_size = sizeof(__u32),
	.val_size = VAL_SIZE,
	.merge = merge,
	.delta = delta,
};

/* Row i on one CPU: a few samples and bytes, more on every call. */
static void count(int i, int cpu, int samples)
{
	struct tval v;

	memcpy(&v, map[i].vals[cpu], VAL_SIZE);
	for (int s = 0; s < samples; s++)
		hist__record(&v.h, 1000 * (__u64)(i + 1) + 37 * (__u64)s);
	v.bytes += 100 * (__u64)samples;
	v.peak = (__u32)(i + cpu + samples);
	memcpy(map[i].vals[cpu], &v, VAL_SIZE);
	map[i].present = 1;
	map[i].key = (__u32)(i * 7919 % 100003);	/* keys out of order */
}

/* What row i should report: the CPUs merged, minus base if given. */
static void expect(int i, const struct tval *base, struct tval *out)
{
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < NCPUS; c++)
		merge(out, map[i].vals[c]);
	if (base)
		delta(out, base);
}

struct seen {
	struct tval want[NROWS];
	bool wanted[NROWS];
	int visited;
	__u32 last_key;
};

static int row_of(__u32 key)
{
	for (int i = 0; i < NROWS; i++)
		if (map[i].present && map[i].key == key)
			return i;
	fail_msg("key %u is not in the map", key);
	return -1;
}

static int check_row(const void *key, const void *val, void *ctx)
{
	struct seen *s = ctx;
	__u32 k;
	int i;

	memcpy(&k, key, sizeof(k));
	/* In key order, keys comparing as bytes. */
	assert_true(!s->visited || memcmp(&k, &s->last_key, sizeof(k)) > 0);
	s->last_key = k;
	s->visited++;
	i = row_of(k);
	assert_true(s->wanted[i]);
	assert_memory_equal(val, &s->want[i], VAL_SIZE);
	return 0;
}

/* Reads the map and checks every row against want. */
static void read_and_check(struct snapshot *snap, bool total, struct seen *s, int nrows)
{
	s->visited = 0;
	assert_int_equal(snapshot__read_rows(snap, -1, -1), 0);
	assert_int_equal(snapshot__for_each(snap, total, check_row, s), 0);
	assert_int_equal(s->visited, nrows);
}

static void test_total_and_interval(void **state)
{
	struct snapshot *snap = snapshot__new(&ops);
	static struct tval before[NROWS];
	static struct seen s;

	(void)state;
	assert_non_null(snap);
	memset(map, 0, sizeof(map));
	for (int i = 0; i < NROWS / 2; i++)
		count(i, i % NCPUS, 1 + i % 4);
	for (int i = 0; i < NROWS / 2; i++) {
		expect(i, NULL, &s.want[i]);
		s.wanted[i] = true;
	}
	read_and_check(snap, true, &s, NROWS / 2);
	memcpy(before, s.want, sizeof(before));

	/* Some rows grow on other CPUs, some stay, new ones appear. */
	for (int i = 0; i < NROWS; i += 3)
		count(i, (i + 1) % NCPUS, 2);
	for (int i = 0; i < NROWS; i++) {
		s.wanted[i] = map[i].present;
		if (s.wanted[i])
			expect(i, i < NROWS / 2 ? &before[i] : NULL, &s.want[i]);
	}
	read_and_check(snap, false, &s, NROWS / 2 + (NROWS / 2 + 2) / 3);

	/* A row removed from the map is not reported; the rest did not move. */
	for (int i = 0; i < NROWS; i++)
		if (map[i].present)
			expect(i, NULL, &before[i]);
	map[1].present = 0;
	for (int i = 0; i < NROWS; i++) {
		s.wanted[i] = map[i].present;
		if (s.wanted[i])
			expect(i, &before[i], &s.want[i]);
	}
	read_and_check(snap, false, &s, NROWS / 2 + (NROWS / 2 + 2) / 3 - 1);
	for (int i = 0; i < NROWS; i++)
		if (s.wanted[i])
			assert_int_equal(s.want[i].h.count, 0);
	snapshot__free(snap);
	snapshot__free(NULL);
}

static int stop_at_second(const void *key, const void *val, void *ctx)
{
	int *calls = ctx;

	(void)key;
	(void)val;
	return ++*calls == 2 ? -42 : 0;
}

static void test_callback_error_stops(void **state)
{
	struct snapshot *snap = snapshot__new(&ops);
	int calls = 0;

	(void)state;
	memset(map, 0, sizeof(map));
	for (int i = 0; i < 5; i++)
		count(i, 0, 1);
	assert_int_equal(snapshot__read_rows(snap, -1, -1), 0);
	assert_int_equal(snapshot__for_each(snap, true, stop_at_second, &calls), -42);
	assert_int_equal(calls, 2);
	snapshot__free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_total_and_interval),
		cmocka_unit_test(test_callback_error_stops),
	};
	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
