/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Snapshots of a per-CPU BPF hash: every key with its CPUs merged, sorted
 * by key, so that an interval is "this snapshot minus the previous one".
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
	/* dst += one CPU's value (dst starts zeroed) */
	void (*merge)(void *dst, const void *cpu_val);
	/* val -= prev, for interval reports */
	void (*delta)(void *val, const void *prev);
};

struct snapshot;

struct snapshot *snapshot__new(const struct snapshot_ops *ops);
void snapshot__free(struct snapshot *s);	/* accepts NULL */
/* Replaces the previous contents with the map's current rows, keeping the
 * old ones as the base of the next delta. */
int snapshot__read(struct snapshot *s, int map_fd);
/* Calls fn for every current row: cumulative (total) or minus the row of
 * the previous read. val points to scratch memory fn may keep no pointer to. */
int snapshot__for_each(struct snapshot *s, bool total,
		       int (*fn)(const void *key, const void *val, void *ctx), void *ctx);

#endif
