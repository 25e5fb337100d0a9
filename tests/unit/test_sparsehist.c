// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Sparse histograms (user/lib/stats/sparsehist.c) hold the same samples and report
 * the same quantiles as the dense ones of user/lib/stats/hist.c they replace in
 * the listener and breakdown rows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sparsehist.h"

static const double qs[] = { 0.0001, 0.25, 0.5, 0.9, 0.99, 0.999, 1 };

/* Deterministic values spread over a range of buckets (xorshift). */
static __u64 next_value(__u64 *state, __u64 range)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state % range;
}

static void fill(struct hist *h, __u64 seed, int n, __u64 range)
{
	__u64 st = seed;

	memset(h, 0, sizeof(*h));
	for (int i = 0; i < n; i++)
		hist__record(h, next_value(&st, range));
}

/* s holds exactly the samples of h, and reports what h reports. */
static void assert_same(const struct sparse_hist *s, const struct hist *h)
{
	struct hist back;
	struct hist_summary a, b;

	sparse_hist__to_hist(s, &back);
	assert_memory_equal(&back, h, sizeof(*h));
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		assert_int_equal(sparse_hist__quantile(s, qs[i]), hist__quantile(h, qs[i]));
	sparse_hist__summarize(s, &a);
	hist__summarize(h, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	for (__u32 i = 1; i < s->len; i++)
		assert_true(s->b[i - 1].idx < s->b[i].idx);
	for (__u32 i = 0; i < s->len; i++)
		assert_true(s->b[i].n > 0);
}

static void test_empty(void **state)
{
	struct sparse_hist s = {};
	struct hist h = {};

	(void)state;
	assert_same(&s, &h);
	assert_int_equal(sparse_hist__add_hist(&s, &h), 0);
	assert_int_equal(s.len, 0);
	assert_same(&s, &h);
	sparse_hist__free(&s);
	sparse_hist__free(NULL);
}

/* One sample: the common row, one bucket kept. */
static void test_single_sample(void **state)
{
	struct sparse_hist s = {};
	struct hist h = {};

	(void)state;
	hist__record(&h, 123456);
	assert_int_equal(sparse_hist__add_hist(&s, &h), 0);
	assert_int_equal(s.len, 1);
	assert_int_equal(s.cap, 1);
	assert_same(&s, &h);
	sparse_hist__free(&s);
	assert_null(s.b);
	assert_int_equal(s.count, 0);
}

/* Merging dense and sparse histograms, overlapping or not, in any order,
 * gives what hist__add gives. */
static void test_adds_match_dense(void **state)
{
	static const __u64 ranges[] = { 40, 5000, 1000000, 1ULL << 40 };
	struct hist want = {}, h;

	(void)state;
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		struct sparse_hist s = {}, t = {};

		memset(&want, 0, sizeof(want));
		for (int round = 0; round < 6; round++) {
			__u64 seed = 0x9e3779b9 + r * 31 + (__u64)round;

			fill(&h, seed, 1 + round * 97, ranges[(r + (size_t)round) % 4]);
			hist__add(&want, &h);
			if (round % 2) {	/* through a second sparse histogram */
				sparse_hist__free(&t);
				assert_int_equal(sparse_hist__add_hist(&t, &h), 0);
				assert_int_equal(sparse_hist__add(&s, &t), 0);
			} else {
				assert_int_equal(sparse_hist__add_hist(&s, &h), 0);
			}
			assert_same(&s, &want);
		}
		sparse_hist__free(&s);
		sparse_hist__free(&t);
	}
}

/* Buckets at both ends of the range, added in both directions. */
static void test_edges(void **state)
{
	struct sparse_hist lo = {}, hi = {};
	struct hist hl = {}, hh = {}, both;

	(void)state;
	hist__record(&hl, 0);
	hist__record(&hl, 1);
	hist__record(&hh, ~0ULL);
	hist__record(&hh, 1ULL << 40);
	assert_int_equal(sparse_hist__add_hist(&lo, &hl), 0);
	assert_int_equal(sparse_hist__add_hist(&hi, &hh), 0);
	assert_int_equal(sparse_hist__add(&lo, &hi), 0);
	assert_int_equal(sparse_hist__add(&hi, &lo), 0);	/* hi = hh + hl + hh */
	both = hl;
	hist__add(&both, &hh);
	assert_same(&lo, &both);
	hist__add(&both, &hh);
	assert_same(&hi, &both);
	assert_int_equal(hi.b[hi.len - 1].idx, HIST_NBUCKETS - 1);
	sparse_hist__free(&lo);
	sparse_hist__free(&hi);
}

/* A histogram read while the kernel updates it can have count != the sum
 * of its buckets; both kinds rank by the buckets. */
static void test_count_not_buckets(void **state)
{
	struct sparse_hist s = {};
	struct hist h = {};

	(void)state;
	hist__record(&h, 1000);
	hist__record(&h, 2000);
	h.count = 3;
	assert_int_equal(sparse_hist__add_hist(&s, &h), 0);
	assert_same(&s, &h);
	sparse_hist__free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_sample),
		cmocka_unit_test(test_adds_match_dense),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_count_not_buckets),
	};
	return cmocka_run_group_tests_name("sparsehist", tests, NULL, NULL);
}
