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

		if (bpf_map__type(map) != BPF_MAP_TYPE_PERCPU_HASH)
			continue;
		rows = bpfmap__percpu_rows(max, bpf_map__value_size(map), ncpus);
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

/* One row at a time, for kernels without batched lookups of this map type. */
static int walk_by_key(int fd, size_t key_size, size_t stride, bpfmap_percpu_fn fn, void *ctx)
{
	int ncpus = bpfmap__ncpus(), err = 0;
	void *key = calloc(1, key_size), *next = calloc(1, key_size);
	void *vals = calloc((size_t)ncpus, stride);
	void *prev = NULL;

	if (!key || !next || !vals) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, vals))
			continue;	/* deleted between the two calls */
		err = fn(key, vals, ncpus, stride, ctx);
		if (err)
			break;
	}
cleanup:
	free(key);
	free(next);
	free(vals);
	return err;
}

/* Bytes of values one batched lookup fills: two syscalls per row (next
 * key, lookup) were most of a report's CPU with 2,048-row maps, and a
 * batch of a few rows removes most of them; the bound keeps the buffer
 * small (and off mmap) however many CPUs the values are copied from. */
#define BATCH_BYTES	(64 * 1024)
/* What the kernel returns for a map type without batch operations: its
 * internal ENOTSUPP, which has no name in user space. */
#define KERNEL_ENOTSUPP	524

struct batch {
	__u32 rows;
	void *keys, *vals;
	void *in, *out;	/* the kernel's cursor: a hash bucket, or an array key */
};

static int batch_resize(struct batch *b, __u32 rows, size_t key_size, size_t row_bytes)
{
	void *keys = realloc(b->keys, rows * key_size), *vals;

	if (!keys)
		return -ENOMEM;
	b->keys = keys;
	vals = realloc(b->vals, rows * row_bytes);
	if (!vals)
		return -ENOMEM;
	b->vals = vals;
	b->rows = rows;
	return 0;
}

static bool batch_unsupported(int err)
{
	return err == -EINVAL || err == -KERNEL_ENOTSUPP || err == -EOPNOTSUPP;
}

/* *unsupported is set, and nothing visited, where this kernel cannot look
 * this map up in batches (before 5.6, or a map type without them). */
static int walk_batched(int fd, size_t key_size, size_t stride, bpfmap_percpu_fn fn,
			void *ctx, bool *unsupported)
{
	int ncpus = bpfmap__ncpus(), err;
	size_t row_bytes = (size_t)ncpus * stride, cursor = key_size > 8 ? key_size : 8;
	struct batch b = { .in = calloc(1, cursor), .out = calloc(1, cursor) };
	bool first = true, last = false;

	*unsupported = false;
	err = b.in && b.out ? 0 : -ENOMEM;
	if (!err)
		err = batch_resize(&b, BATCH_BYTES / row_bytes ? BATCH_BYTES / row_bytes : 1,
				   key_size, row_bytes);
	while (!err && !last) {
		__u32 n = b.rows;

		err = bpf_map_lookup_batch(fd, first ? NULL : b.in, b.out, b.keys, b.vals, &n,
					   NULL);
		if (err == -ENOSPC && !n) {	/* a hash bucket holds more rows than that */
			err = batch_resize(&b, b.rows * 2, key_size, row_bytes);
			continue;
		}
		*unsupported = first && batch_unsupported(err);
		last = err == -ENOENT;	/* n rows are still there */
		if (err && !last)
			break;
		err = 0;
		for (__u32 i = 0; i < n && !err; i++)
			err = fn((char *)b.keys + i * key_size, (char *)b.vals + i * row_bytes,
				 ncpus, stride, ctx);
		memcpy(b.in, b.out, cursor);
		first = false;
	}
	free(b.keys);
	free(b.vals);
	free(b.in);
	free(b.out);
	return err;
}

int bpfmap__for_each_percpu(int fd, size_t key_size, size_t value_size,
			    bpfmap_percpu_fn fn, void *ctx)
{
	size_t stride = (value_size + 7) & ~(size_t)7;
	bool unsupported;
	int err;

	if (bpfmap__ncpus() <= 0)
		return -ENOMEM;
	err = walk_batched(fd, key_size, stride, fn, ctx, &unsupported);
	if (unsupported)
		err = walk_by_key(fd, key_size, stride, fn, ctx);
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
