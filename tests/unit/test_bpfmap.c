// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Per-CPU row maps keep their declared rows while they fit the kernel
 * memory budget, and shrink (not below the floor) on many CPUs; reading a
 * row table visits the used slots' whole rows only. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpfmap.h"
#include "row_table.h"
#include "accept.h"
#include "read.h"

static void fits_keeps_declared(void **state)
{
	(void)state;
	/* The bench VM: 2 CPUs, the largest rows (4.4 KB) fit. */
	assert_int_equal(bpfmap__percpu_rows(READ_MAX_KEYS, sizeof(struct read_row), 2),
			 READ_MAX_KEYS);
	assert_int_equal(bpfmap__percpu_rows(ACCEPT_MAX_KEYS, sizeof(struct accept_row), 2),
			 ACCEPT_MAX_KEYS);
	/* Small values fit on any machine. */
	assert_int_equal(bpfmap__percpu_rows(4096, 32, 256), 4096);
}

static void many_cpus_shrinks_to_budget(void **state)
{
	__u32 rows = bpfmap__percpu_rows(READ_MAX_KEYS, sizeof(struct read_row), 64);
	size_t per_row = ((sizeof(struct read_row) + 7) & ~(size_t)7) * 64;

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

/* Opens read's BPF object (not loaded: no privilege needed) and sizes its
 * rows for ncpus CPUs, as a family's load attempt does; returns the
 * read_stats rows it got and how many lines about them went to stderr. */
static __u32 size_read_object(int ncpus, int *lines)
{
	char path[4096], line[512];
	const char *build = getenv("NT_BUILD");
	struct bpf_object *obj;
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	__u32 rows;

	snprintf(path, sizeof(path), "%s/bpf/read.bpf.o", build ? build : "build");
	obj = bpf_object__open_file(path, NULL);
	assert_non_null(obj);
	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	assert_int_equal(bpfmap__size_percpu_rows_for(obj, ncpus), 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rows = bpf_map__max_entries(bpf_object__find_map_by_name(obj, "read_stats"));
	bpf_object__close(obj);
	rewind(tmp);
	/* read_syscall_stats, nearly the same size, says so too: count read_stats'. */
	for (*lines = 0; fgets(line, sizeof(line), tmp);)
		if (strstr(line, " read_stats: "))
			(*lines)++;
		else
			assert_non_null(strstr(line, " read_syscall_stats: "));
	fclose(tmp);
	return rows;
}

/* A family whose preferred programs are refused opens its object again for
 * the fallback: the map shrinks both times, the line comes once. */
static void cap_said_once(void **state)
{
	__u32 want = bpfmap__percpu_rows(READ_MAX_KEYS, sizeof(struct read_row), 64);
	int lines;
	(void)state;

	assert_true(want < READ_MAX_KEYS);
	assert_int_equal(size_read_object(64, &lines), want);
	assert_int_equal(lines, 1);
	assert_int_equal(size_read_object(64, &lines), want);
	assert_int_equal(lines, 0);
	assert_int_equal(size_read_object(2, &lines), READ_MAX_KEYS);	/* fits: as declared */
	assert_int_equal(lines, 0);
}

/* A row of a test table: tag, a two-word key, one value word. */
struct test_row {
	__u64 tag;
	__u64 key[2];
	__u64 val;
};

static void put_row(int fd, __u32 slot, int cpu, __u64 tag, __u64 k0, __u64 k1, __u64 val)
{
	int ncpus = bpfmap__ncpus();
	struct test_row *rows = calloc((size_t)ncpus, sizeof(*rows));

	assert_non_null(rows);
	rows[cpu] = (struct test_row){ tag, { k0, k1 }, val };
	assert_int_equal(bpf_map_update_elem(fd, &slot, rows, BPF_ANY), 0);
	free(rows);
}

static __u64 tag_of(__u64 k0, __u64 k1)
{
	__u64 key[2] = { k0, k1 };

	return row_tag(row_hash(key, 2));
}

struct seen {
	int n;
	__u64 key0[4], val[4];
};

static int collect(const void *key, const void *val, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 4) {
		memcpy(&s->key0[s->n], key, 8);
		memcpy(&s->val[s->n], val, 8);
	}
	s->n++;
	return 0;
}

/* bpfmap__for_each_row reads the slots the bitmap marks, on every CPU, and
 * hands over only whole rows: not a free slot, not one being claimed, not
 * one whose tag is not its key's (a copy taken mid-claim). */
static void rows_whole_only(void **state)
{
	int ncpus = bpfmap__ncpus(), last = ncpus - 1;
	int rows_fd, used_fd;
	struct row_used used = {};
	struct seen seen = {};
	__u32 zero = 0;
	(void)state;

	rows_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "test_rows", 4, sizeof(struct test_row),
				 8, NULL);
	if (rows_fd < 0)
		skip();	/* not root: no BPF maps */
	used_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "test_used", 4, sizeof(used), 1, NULL);
	assert_true(used_fd >= 0);
	put_row(rows_fd, 1, 0, tag_of(1, 2), 1, 2, 10);
	put_row(rows_fd, 2, 0, tag_of(3, 4), 0, 0, 30);	/* tag published, key not yet seen */
	put_row(rows_fd, 3, 0, ROW_CLAIMING, 5, 6, 50);
	put_row(rows_fd, 5, last, tag_of(7, 8), 7, 8, 20);
	put_row(rows_fd, 6, 0, tag_of(9, 9), 9, 9, 90);	/* whole, but not marked used */
	used.bits[0] = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 5;
	assert_int_equal(bpf_map_update_elem(used_fd, &zero, &used, BPF_ANY), 0);

	assert_int_equal(bpfmap__for_each_row(rows_fd, used_fd, 16, 8, collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.key0[0], 1);
	assert_int_equal(seen.val[0], 10);
	assert_int_equal(seen.key0[1], 7);	/* from the last CPU's copy */
	assert_int_equal(seen.val[1], 20);
	close(rows_fd);
	close(used_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fits_keeps_declared),
		cmocka_unit_test(many_cpus_shrinks_to_budget),
		cmocka_unit_test(floor_and_rounding),
		cmocka_unit_test(cap_said_once),
		cmocka_unit_test(rows_whole_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
