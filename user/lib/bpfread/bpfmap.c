// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpfmap.h"
#include "log.h"
#include "row_table.h"

int bpfmap__ncpus(void)
{
	static int n;

	if (!n)
		n = libbpf_num_possible_cpus();
	return n;
}

__u32 bpfmap__percpu_rows(__u32 max_entries, size_t value_size, int ncpus)
{
	/* The kernel keeps each CPU's copy at a multiple of 8 bytes. */
	size_t per_row = ((value_size + 7) & ~(size_t)7) * (size_t)(ncpus > 0 ? ncpus : 1);
	size_t fit = per_row ? BPFMAP_PERCPU_BUDGET / per_row : max_entries;

	if (fit >= max_entries)
		return max_entries;
	return fit > BPFMAP_PERCPU_MIN_ROWS ? (__u32)fit :
	       max_entries < BPFMAP_PERCPU_MIN_ROWS ? max_entries : BPFMAP_PERCPU_MIN_ROWS;
}

/* Whether this is the first time the process caps the map called name. A
 * family's skeleton is opened again when its preferred programs are
 * refused, and families load on parallel threads: the line saying why
 * must come once. */
static bool first_cap_of(const char *name)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char said[32][BPF_OBJ_NAME_LEN];
	static int n;
	bool first = true;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < n && first; i++)
		first = strcmp(said[i], name) != 0;
	if (first && n < (int)(sizeof(said) / sizeof(said[0])))
		snprintf(said[n++], sizeof(said[0]), "%s", name);
	pthread_mutex_unlock(&lock);
	return first;
}

/* Test-only: NETTUNE_TEST_ROW_SLOTS=N caps every row table (a per-CPU array
 * with a used-slot bitmap beside it) at N slots, so that a short test
 * fills one (tests/integration/test_reclaim.sh). Not an option: a table
 * that small loses events under any real load. */
static __u32 test_slots(struct bpf_object *obj, struct bpf_map *map, __u32 rows)
{
	const char *env = getenv("NETTUNE_TEST_ROW_SLOTS");
	char used[BPF_OBJ_NAME_LEN * 2];
	unsigned long n;

	if (!env || !*env)
		return rows;
	n = strtoul(env, NULL, 10);
	snprintf(used, sizeof(used), "%s_used", bpf_map__name(map));
	if (n < 8 || n >= rows || !bpf_object__find_map_by_name(obj, used))
		return rows;
	return (__u32)n;
}

int bpfmap__size_percpu_rows(struct bpf_object *obj)
{
	return bpfmap__size_percpu_rows_for(obj, bpfmap__ncpus());
}

int bpfmap__size_percpu_rows_for(struct bpf_object *obj, int ncpus)
{
	struct bpf_map *map;

	if (ncpus < 0)
		return ncpus;
	bpf_object__for_each_map(map, obj) {
		__u32 max = bpf_map__max_entries(map), rows;

		if (bpf_map__type(map) != BPF_MAP_TYPE_PERCPU_ARRAY)
			continue;
		rows = bpfmap__percpu_rows(max, bpf_map__value_size(map), ncpus);
		rows = test_slots(obj, map, rows);
		if (rows == max)
			continue;
		if (bpf_map__set_max_entries(map, rows))
			return -errno;
		/* Rows beyond it are lost events: say why, once. */
		if (first_cap_of(bpf_map__name(map)))
			info("%s: %u rows instead of %u, to keep its kernel memory near %u MiB "
			     "on %d CPUs", bpf_map__name(map), rows, max, BPFMAP_PERCPU_BUDGET >> 20,
			     ncpus);
	}
	return 0;
}

/* Bytes of rows one batched lookup fills: a syscall per row was most of a
 * report's CPU with 2,048-row maps, and a batch of a few rows removes most
 * of them; the bound keeps the buffer small (and off mmap) however many
 * CPUs the rows are copied from. */
#define BATCH_BYTES	(64 * 1024)
/* What the kernel returns for a map type without batch operations: its
 * internal ENOTSUPP, which has no name in user space. */
#define KERNEL_ENOTSUPP	524

/* Whether a copied row is whole: claimed (its tag odd) and its tag the hash
 * of the key beside it. A program writes the key, then the tag, with plain
 * stores, and the kernel copies the row out with plain loads: on a CPU that
 * reorders them (arm64) a copy taken during a claim could pair the new tag
 * with the key's old words. Such a row is left for the next read, not
 * reported under a wrong key. Keys longer than the buffer are not checked
 * (none is: the longest is 32 bytes). */
static bool row_whole(const char *row, size_t key_size)
{
	__u64 tag, key[16];

	memcpy(&tag, row, sizeof(tag));
	if (!(tag & 1))
		return false;	/* free, or being claimed */
	if (key_size > sizeof(key))
		return true;
	memcpy(key, row + 8, key_size);
	return tag == row_tag(row_hash(key, (int)(key_size / 8)));
}

/* Reads slots [first, first + *n) of a per-CPU array into rows (keys is
 * scratch for their indexes): one batched lookup where the kernel has them
 * (5.6+), one lookup per slot elsewhere. *n becomes the slots read: fewer
 * past the end of the array. */
static int read_slots(int fd, __u32 first, __u32 *n, __u32 *keys, char *rows, size_t row_bytes)
{
	/* A batch starts after the key given: for an array, the one before. */
	__u32 prev = first - 1, out, count = *n;
	int err = bpf_map_lookup_batch(fd, first ? &prev : NULL, &out, keys, rows, &count, NULL);

	if (!err || err == -ENOENT) {
		*n = count;
		return 0;
	}
	if (err != -EINVAL && err != -KERNEL_ENOTSUPP && err != -EOPNOTSUPP)
		return err;
	for (count = 0; count < *n; count++) {
		keys[count] = first + count;
		if (bpf_map_lookup_elem(fd, &keys[count], rows + count * row_bytes))
			break;	/* past the end of a shrunk table */
	}
	*n = count;
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

int bpfmap__for_each_slot(int rows_fd, int used_fd, size_t key_size, size_t value_size,
			  bpfmap_slot_fn fn, void *ctx)
{
	size_t stride = (8 + key_size + value_size + 7) / 8 * 8, row_bytes;
	int ncpus = bpfmap__ncpus(), err = 0;
	__u32 zero = 0, batch, *keys;
	struct row_used used;
	char *rows;

	if (ncpus <= 0)
		return -ENOMEM;
	if (bpf_map_lookup_elem(used_fd, &zero, &used))
		return -errno;
	row_bytes = stride * (size_t)ncpus;
	batch = BATCH_BYTES / row_bytes ? BATCH_BYTES / row_bytes : 1;
	rows = malloc(batch * row_bytes);
	keys = malloc(batch * sizeof(*keys));
	if (!rows || !keys) {
		free(rows);
		free(keys);
		return -ENOMEM;
	}
	/* Runs of used slots, a batch at a time. */
	for (__u32 idx = 0; idx < ROW_MAX_SLOTS && !err;) {
		__u32 n = 0;

		while (n < batch && idx + n < ROW_MAX_SLOTS &&
		       used.bits[(idx + n) / 64] >> ((idx + n) % 64) & 1)
			n++;
		if (!n) {
			idx++;
			continue;
		}
		err = read_slots(rows_fd, idx, &n, keys, rows, row_bytes);
		for (__u32 i = 0; i < n && !err; i++)
			for (int c = 0; c < ncpus && !err; c++) {
				const char *r = rows + i * row_bytes + (size_t)c * stride;

				__u64 tag;

				memcpy(&tag, r, sizeof(tag));
				if (row_whole(r, key_size))
					err = fn(r + 8, r + 8 + key_size, keys[i], c, tag, ctx);
			}
		if (!n)
			break;	/* past the end of a shrunk table */
		idx += n;
	}
	free(rows);
	free(keys);
	return err;
}

int bpfmap__sum_counters(int fd, __u32 n, __u64 *out)
{
	int ncpus = bpfmap__ncpus();
	__u64 *vals = calloc((size_t)ncpus, sizeof(__u64));
	int err = 0;

	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < n; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < ncpus; c++)
			out[i] += vals[c];
	}
	free(vals);
	return err;
}

__u64 bpfmap__recursion_misses(const struct bpf_object *obj)
{
	struct bpf_program *prog;
	__u64 misses = 0;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			misses += info.recursion_misses;
	}
	return misses;
}
