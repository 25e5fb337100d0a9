// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The lock-free per-socket records of bpf/sock_record.bpf.h, compiled for
 * user space: the two maps become plain arrays, so claims, takes, take-overs
 * and tag aliases are checked case by case. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>
#include <linux/bpf.h>

#ifndef __always_inline
#define __always_inline inline
#endif
#define SEC(x)
#define __uint(name, val) int(*name)[val]
#define __type(name, val) typeof(val) *name
static void *bpf_map_lookup_elem(void *map, const void *key);

#include "sock_record.bpf.h"

struct rec {
	__u64 id;
	__u64 ts;
	__u64 payload[3];
};

SOCK_RECORD_TABLE(recs, struct rec);

static struct rec_set sets[REC_SETS];
static struct recs_recs datas[REC_SETS];

static void *bpf_map_lookup_elem(void *map, const void *key)
{
	__u32 idx = *(const __u32 *)key;

	if (idx >= REC_SETS)
		return NULL;
	if (map == &recs)
		return &sets[idx];
	assert_ptr_equal(map, &recs_data);
	return &datas[idx];
}

static int reset(void **state)
{
	(void)state;
	memset(sets, 0, sizeof(sets));
	memset(datas, 0, sizeof(datas));
	return 0;
}

static struct rec_ref ref_of(__u64 id)
{
	return rec_ref(&recs, &recs_data, id);
}

/* Claims and writes id's record at ts, as a program would. */
static enum rec_claim_result put(__u64 id, __u64 ts)
{
	struct rec_ref r = ref_of(id);
	int way = -1;
	enum rec_claim_result res = rec_claim(&r, id, ts, sizeof(struct rec), &way);
	struct rec *p = rec_at(&r, way, sizeof(struct rec));

	assert_non_null(p);
	p->id = id;
	p->ts = ts;
	p->payload[0] = id * 3;
	return res;
}

static bool take(__u64 id, struct rec *out)
{
	struct rec_ref r = ref_of(id);

	return rec_take(&r, id, out, sizeof(*out));
}

/* n ids (after the first) in id 1's set, with distinct tags. */
static void same_set(__u64 *out, int n)
{
	struct rec_ref r0 = ref_of(1);
	int found = 0;

	out[found++] = 1;
	for (__u64 c = 2; c < 50000000 && found < n; c++) {
		struct rec_ref r = ref_of(c);
		bool dup = r.tag == r0.tag;

		for (int i = 1; i < found; i++)
			dup |= ref_of(out[i]).tag == r.tag;
		if (r.set == r0.set && !dup)
			out[found++] = c;
	}
	if (found < n)
		fail_msg("only %d ids share a set with id 1", found);
}

static void test_put_take(void **state)
{
	struct rec out;

	(void)state;
	assert_int_equal(put(0xffff888012345600ull, 1000), REC_CLAIMED);
	assert_true(take(0xffff888012345600ull, &out));
	assert_int_equal(out.ts, 1000);
	assert_int_equal(out.payload[0], 0xffff888012345600ull * 3);
	/* Taken: a second take finds nothing, and the way is free. */
	assert_false(take(0xffff888012345600ull, &out));
	for (int i = 0; i < REC_WAYS; i++)
		assert_int_equal(ref_of(0xffff888012345600ull).set[i], 0);
}

static void test_take_without_put(void **state)
{
	struct rec out;

	(void)state;
	assert_false(take(42, &out));
}

static void test_a_set_holds_eight_records(void **state)
{
	__u64 ids[REC_WAYS];
	struct rec out;

	(void)state;
	same_set(ids, REC_WAYS);
	for (int i = 0; i < REC_WAYS; i++)
		assert_int_equal(put(ids[i], 100 + i), REC_CLAIMED);
	for (int i = 0; i < REC_WAYS; i++) {
		assert_true(take(ids[i], &out));
		assert_int_equal(out.ts, 100 + i);
	}
}

static void test_full_set_displaces_the_oldest(void **state)
{
	__u64 ids[REC_WAYS + 1];
	struct rec out;

	(void)state;
	same_set(ids, REC_WAYS + 1);
	for (int i = 0; i < REC_WAYS; i++)
		put(ids[i], 100 + i);
	assert_int_equal(put(ids[REC_WAYS], 200), REC_DISPLACED);
	assert_false(take(ids[0], &out));	/* the oldest: lost */
	assert_true(take(ids[REC_WAYS], &out));
	assert_int_equal(out.ts, 200);
	for (int i = 1; i < REC_WAYS; i++)
		assert_true(take(ids[i], &out));
}

/* A socket's own record left behind (its end was missed) is taken over by
 * its next one, not counted as another's loss. */
static void test_stale_own_record_is_reused(void **state)
{
	struct rec out;

	(void)state;
	put(77, 100);
	assert_int_equal(put(77, 500), REC_CLAIMED);
	assert_true(take(77, &out));
	assert_int_equal(out.ts, 500);
	assert_false(take(77, &out));
}

/* An id with another's set and tag must not take the other's record: the
 * id stored in the record tells them apart. */
static void test_tag_alias_is_not_taken(void **state)
{
	struct rec_ref r0 = ref_of(1);
	__u64 alias = 0;
	struct rec out;

	(void)state;
	for (__u64 c = 2; c < 400000000 && !alias; c++) {
		struct rec_ref r = ref_of(c);

		if (r.set == r0.set && r.tag == r0.tag)
			alias = c;
	}
	assert_true(alias != 0);
	put(1, 100);
	assert_false(take(alias, &out));
	/* ... nor take over its way as if it were its own stale record. */
	assert_int_equal(put(alias, 300), REC_CLAIMED);
	assert_true(take(1, &out));
	assert_int_equal(out.ts, 100);
	assert_true(take(alias, &out));
	assert_int_equal(out.ts, 300);
}

/* A record started a little after the claim's own time (another CPU's
 * clock) is the youngest, not the oldest by a wrap of the 48-bit age. */
static void test_newer_record_is_not_the_oldest(void **state)
{
	__u64 ids[REC_WAYS + 1];
	struct rec out;

	(void)state;
	same_set(ids, REC_WAYS + 1);
	put(ids[0], 300);	/* after the claim below */
	for (int i = 1; i < REC_WAYS; i++)
		put(ids[i], 100 + i);
	assert_int_equal(put(ids[REC_WAYS], 200), REC_DISPLACED);
	assert_true(take(ids[0], &out));	/* kept */
	assert_int_equal(out.ts, 300);
	assert_false(take(ids[1], &out));	/* the oldest, ts 101: displaced */
}

/* A socket the filters leave out drops a record its address left behind,
 * and only its own. */
static void test_forget(void **state)
{
	__u64 ids[2];
	struct rec_ref r;
	struct rec out;

	(void)state;
	same_set(ids, 2);
	put(ids[0], 100);
	put(ids[1], 100);
	r = ref_of(ids[0]);
	rec_forget(&r, ids[0], sizeof(struct rec));
	assert_false(take(ids[0], &out));
	assert_true(take(ids[1], &out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_put_take, reset),
		cmocka_unit_test_setup(test_take_without_put, reset),
		cmocka_unit_test_setup(test_a_set_holds_eight_records, reset),
		cmocka_unit_test_setup(test_full_set_displaces_the_oldest, reset),
		cmocka_unit_test_setup(test_stale_own_record_is_reused, reset),
		cmocka_unit_test_setup(test_tag_alias_is_not_taken, reset),
		cmocka_unit_test_setup(test_newer_record_is_not_the_oldest, reset),
		cmocka_unit_test_setup(test_forget, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
