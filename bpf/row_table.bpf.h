/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Row tables: a family's rows (one per key: a listener and a process, a
 * process and a port...) in a per-CPU array, found by hashing the key,
 * instead of a per-CPU hash map. The hash map's lookup (hashing the key with
 * jhash, then its bucket, element and value, each a likely cache miss after
 * the kernel's own work on a connection) was a quarter to a half of accept's
 * costliest program (docs/benchmarks-history.md, round 6); here the key sits in the
 * row's first line, which the row's update touches anyway.
 *
 * A row starts with a tag (the key's hash, odd) and the key. Lookup probes
 * up to ROW_PROBES consecutive slots from the key's hash. A free slot (tag 0)
 * is claimed with a compare-and-swap, since a program in softirq can
 * interrupt another on the same CPU; the key is written, then the tag. Each
 * CPU claims slots in its own copy of the array, so one key can sit in
 * different slots on different CPUs (user space merges rows by key,
 * user/lib/bpfread/snapshot.c), but never twice on one: a program that meets a
 * claim in progress gives up its event rather than claim a second slot for
 * what may be the same key. A claim also
 * sets the slot's bit in a shared bitmap, so that user space reads only the
 * slots in use.
 *
 * Rows are never freed, as the hash rows were not: a table that is full
 * around a key's slot loses that key's events (counted by the caller).
 */
#ifndef NETTUNE_ROW_TABLE_BPF_H
#define NETTUNE_ROW_TABLE_BPF_H

#include "row_table.h"

/* Probes and key words in straight-line code (the unit test compiles this
 * file with gcc). */
#ifdef __clang__
#define ROW_UNROLL	_Pragma("unroll")
#else
#define ROW_UNROLL	_Pragma("GCC unroll 8")
#endif

/* Declares a row table of row_type ({ __u64 tag; key; val; }, the layout
 * user space reads: bpfmap__for_each_row) with nrows slots, and its bitmap
 * of used slots. Keys are compared in 64-bit words. */
#define ROW_TABLE(name, row_type, nrows)                                \
	_Static_assert(sizeof(((row_type *)0)->key) % 8 == 0 &&         \
		       __builtin_offsetof(row_type, key) == 8 &&        \
		       __builtin_offsetof(row_type, val) ==             \
			       8 + sizeof(((row_type *)0)->key),        \
		       #row_type ": tag, key in 64-bit words, value");  \
	struct {                                                        \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                \
		__uint(max_entries, nrows);                             \
		__type(key, __u32);                                     \
		__type(value, row_type);                                \
	} name SEC(".maps");                                            \
	struct {                                                        \
		__uint(type, BPF_MAP_TYPE_ARRAY);                       \
		__uint(max_entries, 1);                                 \
		__type(key, __u32);                                     \
		__type(value, struct row_used);                         \
	} name##_used SEC(".maps")

/* The slot count user space gave the table (it shrinks tables on hosts with
 * many CPUs, see bpfmap__size_percpu_rows): a plain load from the map
 * (struct bpf_map, CO-RE relocated; 5.10+). */
struct bpf_map___rows {
	__u32 max_entries;
}
#ifdef __bpf__
__attribute__((preserve_access_index))
#endif
;

static __always_inline __u32 row_slots(void *table)
{
	return ((struct bpf_map___rows *)table)->max_entries;
}

/* The row of key (words 64-bit words) in this CPU's copy of table, claimed
 * if the key has none yet; NULL when the slots around it are all taken. */
static __always_inline void *row_find(void *table, void *used, const __u64 *key,
				      const int words)
{
	__u64 h = row_hash(key, words), tag = row_tag(h), t;
	__u32 n = row_slots(table), idx, zero = 0;
	struct row_used *u;
	bool claiming = false;
	__u64 *row;

	if (!n || n > ROW_MAX_SLOTS)
		return NULL;
	idx = row_first_slot(h, n);
	ROW_UNROLL
	for (int i = 0; i < ROW_PROBES; i++, idx = idx + 1 < n ? idx + 1 : 0) {
		row = bpf_map_lookup_elem(table, &idx);
		if (!row)
			return NULL;
		t = *(volatile __u64 *)row;
		if (t == tag) {
			bool same = true;
			ROW_UNROLL
			for (int w = 0; w < words; w++)
				same &= row[1 + w] == key[w];
			if (same)
				return row;
			continue;
		}
		/* A slot being claimed: this program interrupted a claim on
		 * this CPU (each CPU has its own copy), maybe of this very
		 * key. The key may still sit further on; but claiming a slot
		 * after this one could give it two rows on one CPU, so the
		 * event is lost instead (the caller counts it), which takes a
		 * softirq landing inside a claim's few stores. */
		if (t == ROW_CLAIMING) {
			claiming = true;
			continue;
		}
		if (t)
			continue;	/* another key's */
		if (claiming || __sync_val_compare_and_swap(row, 0, ROW_CLAIMING))
			return NULL;	/* see above; or claimed under us */
		ROW_UNROLL
		for (int w = 0; w < words; w++)
			row[1 + w] = key[w];
		*(volatile __u64 *)row = tag;
		u = bpf_map_lookup_elem(used, &zero);
		if (u && idx < ROW_MAX_SLOTS)
			__sync_fetch_and_or(&u->bits[idx / 64], 1ull << (idx % 64));
		return row;
	}
	return NULL;
}

#endif /* NETTUNE_ROW_TABLE_BPF_H */
