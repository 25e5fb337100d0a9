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
#include <linux/types.h>

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

/*
 * Reclaiming rows whose owner is gone (an exited process, a closed
 * listener, a deleted namespace), for agents that run for weeks (serve):
 * bpf/row_table.bpf.h says how a slot is freed safely under running
 * programs. A freed row's final counts (copied out by the program that
 * freed it, so nothing that landed after the last read is lost) stay in
 * this snapshot as a retired row, folded to a coarser key if the family
 * wants: every later read merges the retired rows in, so totals since
 * attach never go backwards, and a key that comes back continues from its
 * retired counts. A retired row whose owner is gone too is folded again or
 * forgotten, which is what keeps memory flat: forgetting is for keys whose
 * series end (a closed listener's), never for counts a total still needs.
 * Reclaiming is for since-attach reads (total): an interval that spans a
 * fold sees the folded counts under their new key.
 */
struct row_table_fds {
	int rows, used;		/* the table and its used-slot bitmap */
	int args, out, prog;	/* its reclaim requests, freed rows, program */
};

struct reclaim_policy {
	/* The family's "owner is gone" predicate on a key (and on the keys
	 * fold makes): any of the owners it names (process, listener,
	 * namespace; a cgroup can join) no longer exists. */
	bool (*gone)(const void *key, void *ctx);
	/* Where a freed row's counts go: *out (key_size bytes, zeroed
	 * first) is the key they are kept under, key itself to keep them as
	 * they were; false: they are forgotten (nothing reports them). */
	bool (*fold)(const void *key, void *out, void *ctx);
	void *ctx;
};

struct reclaim_stats {
	__u64 freed;		/* rows freed in the kernel (one per CPU and slot) */
	__u64 missed;		/* requests the program did not free: the key changed */
	__u64 forgotten;	/* retired rows dropped */
	__u64 retired;		/* retired rows kept now: added per table, the caller
				 * zeroes it before each round */
};

/* One round: rows whose owner was gone at the previous round too (a grace
 * period: the census of listeners is a moment's, and a listener opened
 * just after it must not be taken for closed) are freed, their counts
 * retired. Call it right after snapshot__read_rows(), with fresh
 * liveness. Returns 0 or -errno (nothing is lost on error: rows not
 * freed stay in the table). */
int snapshot__reclaim(struct snapshot *s, const struct row_table_fds *fds,
		      const struct reclaim_policy *pol, struct reclaim_stats *st);

#endif
