// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Prints the raw rows of a live BPF row table (bpf/row_table.bpf.h), CPU by
 * CPU, as nettune left them in the kernel: one JSON line per claimed slot,
 * {"cpu":C,"slot":S,"tag":"HEX","key":"HEX"} with the key's KEY_SIZE bytes
 * exactly as stored. Tests check those bytes (no stray stack bytes, no key
 * twice on one CPU) without trusting nettune's own reading of them.
 *
 * usage: rowdump ROWS_MAP_ID USED_MAP_ID KEY_SIZE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "row_table.h"

static int open_map(const char *arg, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	int fd = bpf_map_get_fd_by_id((__u32)strtoul(arg, NULL, 10));

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, info, &len)) {
		fprintf(stderr, "rowdump: map %s: %s\n", arg, strerror(errno));
		exit(1);
	}
	return fd;
}

static void print_row(int cpu, __u32 slot, const unsigned char *row, size_t key_size)
{
	__u64 tag;

	memcpy(&tag, row, sizeof(tag));
	if (!tag)
		return;	/* claimed on another CPU only */
	printf("{\"cpu\":%d,\"slot\":%u,\"tag\":\"%llx\",\"key\":\"", cpu, slot,
	       (unsigned long long)tag);
	for (size_t i = 0; i < key_size; i++)
		printf("%02x", row[8 + i]);
	printf("\"}\n");
}

int main(int argc, char **argv)
{
	struct bpf_map_info rows = {}, used = {};
	struct row_used bits;
	int rows_fd, used_fd, ncpus = libbpf_num_possible_cpus();
	size_t key_size, stride;
	unsigned char *vals;
	__u32 zero = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: rowdump ROWS_MAP_ID USED_MAP_ID KEY_SIZE\n");
		return 2;
	}
	rows_fd = open_map(argv[1], &rows);
	used_fd = open_map(argv[2], &used);
	key_size = strtoul(argv[3], NULL, 10);
	stride = (rows.value_size + 7) / 8 * 8;	/* per-CPU values are 8-byte aligned */
	if (ncpus <= 0 || key_size + 8 > rows.value_size || used.value_size != sizeof(bits)) {
		fprintf(stderr, "rowdump: not a row table of %zu-byte keys\n", key_size);
		return 1;
	}
	vals = malloc(stride * (size_t)ncpus);
	if (!vals || bpf_map_lookup_elem(used_fd, &zero, &bits))
		return 1;
	for (__u32 slot = 0; slot < rows.max_entries && slot < ROW_MAX_SLOTS; slot++) {
		if (!(bits.bits[slot / 64] >> (slot % 64) & 1))
			continue;
		if (bpf_map_lookup_elem(rows_fd, &slot, vals))
			return 1;
		for (int cpu = 0; cpu < ncpus; cpu++)
			print_row(cpu, slot, vals + stride * (size_t)cpu, key_size);
	}
	free(vals);
	return 0;
}
