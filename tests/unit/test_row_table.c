// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The row tables of bpf/row_table.bpf.h, compiled for user space: the map
 * becomes a plain array whose slot count the test sets, so that probing,
 * claiming, wrapping and the used-slot bitmap are checked case by case. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline
#endif
static void *bpf_map_lookup_elem(void *map, const void *key);

#include "row_table.bpf.h"

#define SLOTS	100	/* not a power of two, as a shrunk table may be */
#define WORDS	2

struct row {
	__u64 tag;
	__u64 key[WORDS];
	__u64 val;
};

/* Stands for the map: row_slots() reads max_entries, its first field. */
static struct { __u32 max_entries; } table;
static struct row rows[ROW_MAX_SLOTS];
static struct row_used used;
static int used_map;	/* only its address is passed */

static void *bpf_map_lookup_elem(void *map, const void *key)
{
	__u32 idx = *(const __u32 *)key;

	if (map == &used_map)
		return idx == 0 ? &used : NULL;
	assert_ptr_equal(map, &table);
	return idx < table.max_entries ? &rows[idx] : NULL;
}

static int reset(void **state)
{
	(void)state;
	memset(rows, 0, sizeof(rows));
	memset(&used, 0, sizeof(used));
	table.max_entries = SLOTS;
	return 0;
}

static struct row *find(__u64 a, __u64 b)
{
	__u64 key[WORDS] = { a, b };

	return row_find(&table, &used_map, key, WORDS);
}

static __u32 first_slot(__u64 a, __u64 b)
{
	__u64 key[WORDS] = { a, b };

	return row_first_slot(row_hash(key, WORDS), table.max_entries);
}

static bool is_used(__u32 idx)
{
	return used.bits[idx / 64] >> (idx % 64) & 1;
}

/* n keys (a, 0) whose first slot is slot, from a onwards. */
static void keys_at(__u32 slot, __u64 *out, int n)
{
	int found = 0;

	for (__u64 a = 1; a < 10000000 && found < n; a++)
		if (first_slot(a, 0) == slot)
			out[found++] = a;
	assert_int_equal(found, n);
}

static void test_claim_then_find(void **state)
{
	struct row *r = find(42, 7), *again;
	(void)state;

	assert_non_null(r);
	assert_int_equal(r - rows, first_slot(42, 7));
	assert_int_equal(r->key[0], 42);
	assert_int_equal(r->key[1], 7);
	assert_true(r->tag & 1);
	assert_true(is_used((__u32)(r - rows)));
	r->val = 5;
	again = find(42, 7);
	assert_ptr_equal(again, r);
	assert_int_equal(again->val, 5);
	assert_ptr_not_equal(find(42, 8), r);	/* one word differs */
}

/* Keys that share a first slot take the next ones, up to ROW_PROBES; then
 * there is no room, and each of them is still found where it went. */
static void test_probes_then_full(void **state)
{
	__u64 keys[ROW_PROBES + 1];
	__u32 slot = 10;
	(void)state;

	keys_at(slot, keys, ROW_PROBES + 1);
	for (int i = 0; i < ROW_PROBES; i++)
		assert_int_equal(find(keys[i], 0) - rows, slot + i);
	assert_null(find(keys[ROW_PROBES], 0));
	for (int i = 0; i < ROW_PROBES; i++)
		assert_int_equal(find(keys[i], 0) - rows, slot + i);
	for (__u32 i = 0; i < SLOTS; i++)
		assert_int_equal(is_used(i), i >= slot && i < slot + ROW_PROBES);
}

/* Probing runs past the last slot to the first, of a table of any size. */
static void test_wraps(void **state)
{
	__u64 keys[3];
	(void)state;

	keys_at(SLOTS - 2, keys, 3);
	assert_int_equal(find(keys[0], 0) - rows, SLOTS - 2);
	assert_int_equal(find(keys[1], 0) - rows, SLOTS - 1);
	assert_int_equal(find(keys[2], 0) - rows, 0);
	assert_true(is_used(0));
}

/* A slot whose tag matches but whose key does not is skipped. */
static void test_false_tag(void **state)
{
	__u64 key[WORDS] = { 99, 0 };
	__u32 slot = first_slot(99, 0);
	(void)state;

	rows[slot].tag = row_tag(row_hash(key, WORDS));
	rows[slot].key[0] = 98;
	assert_int_equal(find(99, 0) - rows, (slot + 1) % SLOTS);
}

/* A slot whose key is being written (this program interrupted a claim on
 * its CPU) ends the search: claiming the next slot could give one key two
 * rows on one CPU. The key is found once the claim completes. */
static void test_claiming_gives_up(void **state)
{
	__u64 key[WORDS] = { 99, 0 };
	__u32 slot = first_slot(99, 0);
	(void)state;

	rows[slot].tag = ROW_CLAIMING;
	assert_null(find(99, 0));
	assert_false(is_used((slot + 1) % SLOTS));
	rows[slot].key[0] = 99;
	rows[slot].key[1] = 0;
	rows[slot].tag = row_tag(row_hash(key, WORDS));
	assert_int_equal(find(99, 0) - rows, slot);
}

/* A key already past a slot being claimed is still found. */
static void test_found_past_a_claim(void **state)
{
	__u32 slot = first_slot(99, 0);
	(void)state;

	assert_int_equal(find(99, 0) - rows, slot);	/* claims its first slot */
	rows[slot].tag = ROW_CLAIMING;			/* taken over by a claim */
	rows[(slot + 1) % SLOTS] = rows[slot];
	rows[(slot + 1) % SLOTS].tag = row_tag(row_hash((__u64[WORDS]){ 99, 0 }, WORDS));
	assert_int_equal(find(99, 0) - rows, (slot + 1) % SLOTS);
}

/* A table shrunk for a host with many CPUs: slots past its size are never
 * used, whatever the hash. */
static void test_shrunk_table(void **state)
{
	(void)state;
	table.max_entries = 7;
	for (__u64 a = 1; a <= 7; a++)
		assert_true(find(a, a) - rows < 7);
	for (__u32 i = 7; i < ROW_MAX_SLOTS; i++)
		assert_false(is_used(i));
	table.max_entries = 0;
	assert_null(find(1, 1));
}

/* What the reclaim program leaves in a slot it frees. */
static void reclaim_slot(__u32 idx)
{
	memset(&rows[idx], 0, sizeof(rows[idx]));
	rows[idx].tag = ROW_TOMBSTONE;
}

/* A key behind a reclaimed slot is found where it is, not claimed again in
 * the tombstone (two rows for one key on one CPU); a new key takes the
 * tombstone, and finds it there afterwards. */
static void test_tombstone_probed_past(void **state)
{
	__u64 keys[3];
	__u32 slot = 20;
	struct row *r;
	(void)state;

	keys_at(slot, keys, 3);
	assert_int_equal(find(keys[0], 0) - rows, slot);
	assert_int_equal(find(keys[1], 0) - rows, slot + 1);
	reclaim_slot(slot);
	assert_int_equal(find(keys[1], 0) - rows, slot + 1);
	assert_int_equal(rows[slot].tag, ROW_TOMBSTONE);
	r = find(keys[2], 0);
	assert_int_equal(r - rows, slot);
	assert_int_equal(r->val, 0);
	assert_int_equal(find(keys[2], 0) - rows, slot);
	assert_int_equal(find(keys[1], 0) - rows, slot + 1);
	/* The freed key comes back: in the next free place, once. */
	assert_int_equal(find(keys[0], 0) - rows, slot + 2);
	assert_int_equal(find(keys[0], 0) - rows, slot + 2);
}

/* A chain of tombstones is no full table: the first is claimed. Without
 * reclaiming, the same ROW_PROBES keys fill it (test_probes_then_full). */
static void test_tombstones_reused(void **state)
{
	__u64 keys[2 * ROW_PROBES];
	__u32 slot = 40;
	(void)state;

	keys_at(slot, keys, 2 * ROW_PROBES);
	for (int i = 0; i < ROW_PROBES; i++)
		assert_int_equal(find(keys[i], 0) - rows, slot + i);
	assert_null(find(keys[ROW_PROBES], 0));
	for (int i = 0; i < ROW_PROBES; i++)
		reclaim_slot(slot + i);
	for (int i = 0; i < ROW_PROBES; i++)
		assert_int_equal(find(keys[ROW_PROBES + i], 0) - rows, slot + i);
	assert_null(find(keys[0], 0));	/* full again: a burst larger than the room */
}

/* A tombstone met after a slot being claimed: the event is lost, as for a
 * free slot (the claim may be this very key's). */
static void test_tombstone_after_claiming(void **state)
{
	__u32 slot = first_slot(99, 0);
	(void)state;

	rows[slot].tag = ROW_CLAIMING;
	rows[(slot + 1) % SLOTS].tag = ROW_TOMBSTONE;
	assert_null(find(99, 0));
	assert_int_equal(rows[(slot + 1) % SLOTS].tag, ROW_TOMBSTONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_claim_then_find, reset),
		cmocka_unit_test_setup(test_probes_then_full, reset),
		cmocka_unit_test_setup(test_wraps, reset),
		cmocka_unit_test_setup(test_false_tag, reset),
		cmocka_unit_test_setup(test_claiming_gives_up, reset),
		cmocka_unit_test_setup(test_found_past_a_claim, reset),
		cmocka_unit_test_setup(test_shrunk_table, reset),
		cmocka_unit_test_setup(test_tombstone_probed_past, reset),
		cmocka_unit_test_setup(test_tombstones_reused, reset),
		cmocka_unit_test_setup(test_tombstone_after_claiming, reset),
	};
	return cmocka_run_group_tests_name("row_table", tests, NULL, NULL);
}
