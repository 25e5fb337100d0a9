/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Snapshots of a BPF row table (bpf/row_table.bpf.h): every key with its
 * rows on all CPUs merged, sorted by key, so that an interval is "this
 * snapshot minus the previous one".
 * The kernel maps stay cumulative: nothing is ever reset under a running
 * program, so no event can fall between a read and a reset.
 */
#ifndef NETTUNE_LIB_SNAPSHOT_H
#define NETTUNE_LIB_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

struct snapshot_ops {
	size_t key_size;
	size_t val_size;
	/* dst += one CPU's row, or rows already merged (dst starts zeroed) */
	void (*merge)(void *dst, const void *cpu_val);
	/* val -= prev, for interval reports */
	void (*delta)(void *val, const void *prev);
};

struct snapshot;

struct snapshot *snapshot__new(const struct snapshot_ops *ops);
void snapshot__free(struct snapshot *s);	/* accepts NULL */
/* Replaces the previous contents with the current rows of a row table
 * (bpf/row_table.bpf.h: rows_fd its per-CPU array of { tag, key, value },
 * used_fd its bitmap of used slots), keeping the old ones as the base of the
 * next delta. A key's rows on every CPU and in every slot become one. */
int snapshot__read_rows(struct snapshot *s, int rows_fd, int used_fd);
/* Calls fn for every current row: cumulative (total) or minus the row of
 * the previous read. val points to scratch memory fn may keep no pointer to. */
int snapshot__for_each(struct snapshot *s, bool total,
		       int (*fn)(const void *key, const void *val, void *ctx), void *ctx);

#endif
