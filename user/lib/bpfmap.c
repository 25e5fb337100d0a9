// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpfmap.h"

int bpfmap__ncpus(void)
{
	static int n;

	if (!n)
		n = libbpf_num_possible_cpus();
	return n;
}

int bpfmap__for_each_percpu(int fd, size_t key_size, size_t value_size,
			    bpfmap_percpu_fn fn, void *ctx)
{
	int ncpus = bpfmap__ncpus(), err = 0;
	size_t stride = (value_size + 7) & ~(size_t)7;
	void *key = calloc(1, key_size), *next = calloc(1, key_size);
	void *vals = calloc((size_t)ncpus, stride);
	void *prev = NULL;

	if (ncpus <= 0 || !key || !next || !vals) {
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
