// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Records packed as their non-zero words (user/lib/bpfread/wordpack.c) come back
 * byte for byte, in the room wordpack__max_words() promises. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "wordpack.h"
#include "hist.h"

#define MAX_SIZE	9000

static size_t bitmap_words(size_t size)
{
	return ((size + 7) / 8 + 63) / 64;
}

/* Packs rec into a buffer with a guard word past the promised room,
 * unpacks it, and checks both. Returns the words used. */
static size_t roundtrip(const void *rec, size_t size)
{
	size_t max = wordpack__max_words(size), used, read;
	__u64 *buf = malloc((max + 1) * sizeof(*buf));
	char *back = malloc(size + 1);

	assert_non_null(buf);
	assert_non_null(back);
	buf[max] = 0x5a5a5a5a5a5a5a5aULL;
	back[size] = 0x77;
	used = wordpack__pack(rec, size, buf);
	assert_true(used <= max);
	assert_true(buf[max] == 0x5a5a5a5a5a5a5a5aULL);
	memset(back, 0xee, size);
	read = wordpack__unpack(buf, size, back);
	assert_int_equal(read, used);
	assert_memory_equal(back, rec, size);
	assert_int_equal(back[size], 0x77);	/* nothing written past size */
	free(buf);
	free(back);
	return used;
}

static void test_zero_record_is_its_bitmap(void **state)
{
	static const char zero[MAX_SIZE];

	(void)state;
	assert_int_equal(roundtrip(zero, 8), 1);
	assert_int_equal(roundtrip(zero, 64 * 8), 1);
	assert_int_equal(roundtrip(zero, 64 * 8 + 1), 2);
	assert_int_equal(roundtrip(zero, sizeof(struct hist)), bitmap_words(sizeof(struct hist)));
}

/* A histogram with one sample: its totals and one bucket, not 4.4 KB. */
static void test_sparse_hist_is_small(void **state)
{
	struct hist h = {};

	(void)state;
	hist__record(&h, 250000);
	assert_int_equal(roundtrip(&h, sizeof(h)), bitmap_words(sizeof(h)) + 4);
}

/* Every size from 1 to a few words past 64, and records with no zero word,
 * one non-zero byte in each position, and random sparse words. */
static void test_sizes_and_patterns(void **state)
{
	unsigned char *rec = malloc(MAX_SIZE);
	__u64 st = 88172645463325252ULL;

	(void)state;
	assert_non_null(rec);
	for (size_t size = 1; size <= 8 * 70; size++) {
		memset(rec, 0xff, size);
		assert_int_equal(roundtrip(rec, size), wordpack__max_words(size));
		for (size_t b = 0; b < size; b += 7) {
			memset(rec, 0, size);
			rec[b] = (unsigned char)(b | 1);
			assert_int_equal(roundtrip(rec, size), bitmap_words(size) + 1);
		}
	}
	for (int round = 0; round < 200; round++) {
		size_t size = 1 + (size_t)(st % MAX_SIZE);

		memset(rec, 0, size);
		for (size_t w = 0; w < size / 8; w++) {
			st ^= st << 13;
			st ^= st >> 7;
			st ^= st << 17;
			if (st % 5 == 0)
				memcpy(rec + w * 8, &st, 8);
		}
		rec[size - 1] = (unsigned char)round;
		roundtrip(rec, size);
	}
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_record_is_its_bitmap),
		cmocka_unit_test(test_sparse_hist_is_small),
		cmocka_unit_test(test_sizes_and_patterns),
	};
	return cmocka_run_group_tests_name("wordpack", tests, NULL, NULL);
}
