// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Per-CPU row maps keep their declared rows while they fit the kernel
 * memory budget, and shrink (not below the floor) on many CPUs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "bpfmap.h"
#include "accept.h"
#include "read.h"

static void fits_keeps_declared(void **state)
{
	(void)state;
	/* The bench VM: 2 CPUs, the largest row (read, 8.9 KB) fits. */
	assert_int_equal(bpfmap__percpu_rows(READ_MAX_KEYS, sizeof(struct read_val), 2),
			 READ_MAX_KEYS);
	assert_int_equal(bpfmap__percpu_rows(ACCEPT_MAX_KEYS, sizeof(struct accept_val), 2),
			 ACCEPT_MAX_KEYS);
	/* Small values fit on any machine. */
	assert_int_equal(bpfmap__percpu_rows(4096, 32, 256), 4096);
}

static void many_cpus_shrinks_to_budget(void **state)
{
	__u32 rows = bpfmap__percpu_rows(READ_MAX_KEYS, sizeof(struct read_val), 64);
	size_t per_row = ((sizeof(struct read_val) + 7) & ~(size_t)7) * 64;

	(void)state;
	assert_true(rows < READ_MAX_KEYS);
	assert_true(rows >= BPFMAP_PERCPU_MIN_ROWS);
	/* Within budget, and one more row would not be. */
	assert_true(rows * per_row <= BPFMAP_PERCPU_BUDGET);
	assert_true((rows + 1) * per_row > BPFMAP_PERCPU_BUDGET);
}

static void floor_and_rounding(void **state)
{
	(void)state;
	/* Huge machines keep the floor, over budget. */
	assert_int_equal(bpfmap__percpu_rows(2048, 8192, 8192), BPFMAP_PERCPU_MIN_ROWS);
	/* ... unless fewer rows were declared. */
	assert_int_equal(bpfmap__percpu_rows(16, 8192, 8192), 16);
	/* Values count at the kernel's 8-byte stride: 4,097 bytes take
	 * 4,104, and on 16 CPUs 64 MiB hold 1,022 such rows, not 1,024. */
	assert_int_equal(bpfmap__percpu_rows(100000, 4096, 16), 1024);
	assert_int_equal(bpfmap__percpu_rows(100000, 4097, 16), 1022);
	/* No CPU count (error): counted as one CPU. */
	assert_int_equal(bpfmap__percpu_rows(10, 100, -1), 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fits_keeps_declared),
		cmocka_unit_test(many_cpus_shrinks_to_budget),
		cmocka_unit_test(floor_and_rounding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
