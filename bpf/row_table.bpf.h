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
 * Rows whose owner is gone (an exited process, a closed listener, a deleted
 * namespace) are reclaimed by user space (user/lib/bpfread/reclaim.c) with
 * the table's reclaim program, run on the CPU whose copy it frees: the
 * program compare-and-swaps the slot's tag from the key's to ROW_CLAIMING,
 * copies the row out (its final counts, which user space folds into its
 * totals), zeroes it and leaves ROW_TOMBSTONE. It runs from
 * BPF_PROG_TEST_RUN on a thread pinned to that CPU, in process context with
 * preemption off: no program of this CPU can be half-way through this row
 * then (they run with preemption off too, and finish before the thread is
 * scheduled), and one that interrupts it (softirq) meets ROW_CLAIMING,
 * which no lookup returns. A tombstone is claimed like a free slot, but a
 * lookup probes on past it (the key may sit further on), so a key still
 * never has two rows on one CPU. A table that is full around a key's slot
 * loses that key's events (counted by the caller): with reclamation, that
 * takes more live keys at once than the table holds.
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
	} name##_used SEC(".maps");                                     \
	ROW_RECLAIM(name, row_type)

#ifdef __bpf__
/* A table's reclaim maps and program (see the top of this file): its
 * requests (struct row_reclaim_args), the rows it freed, at the index of
 * their request (tag 0 if not freed), and one more entry never written,
 * all zeroes, that a freed row is cleared from. Not attached: user space
 * runs it (BPF_PROG_TEST_RUN), on each CPU with requests in turn. */
#define ROW_RECLAIM(name, row_type)                                     \
	struct {                                                        \
		__uint(type, BPF_MAP_TYPE_ARRAY);                       \
		__uint(max_entries, 1);                                 \
		__type(key, __u32);                                     \
		__type(value, struct row_reclaim_args);                 \
	} name##_reclaim_args SEC(".maps");                             \
	struct {                                                        \
		__uint(type, BPF_MAP_TYPE_ARRAY);                       \
		__uint(max_entries, ROW_RECLAIM_MAX + 1);               \
		__type(key, __u32);                                     \
		__type(value, row_type);                                \
	} name##_reclaimed SEC(".maps");                                \
	static long name##_reclaim_one(__u32 i, void *cpu)             \
	{                                                               \
		return row_reclaim_one(&name, &name##_reclaim_args,     \
				       &name##_reclaimed, sizeof(row_type), \
				       i, *(__u32 *)cpu);               \
	}                                                               \
	SEC("raw_tp")                                                   \
	int name##_reclaim(void *ctx)                                   \
	{                                                               \
		__u32 cpu = bpf_get_smp_processor_id();                 \
		bpf_loop(ROW_RECLAIM_MAX, name##_reclaim_one, &cpu, 0); \
		return 0;                                               \
	}

/* Request i: frees the slot it names if it is this CPU's (cpu) and still
 * holds the key whose tag it gives. 1 stops the loop (no more requests). */
static __always_inline long row_reclaim_one(void *table, void *args_map, void *out_map,
					    const __u32 row_size, __u32 i, __u32 cpu)
{
	__u32 zero = 0, last = ROW_RECLAIM_MAX, idx;
	struct row_reclaim_args *a = bpf_map_lookup_elem(args_map, &zero);
	__u64 *blank = bpf_map_lookup_elem(out_map, &last);
	__u64 *row, *out, tag;

	if (!a || !blank || i >= a->n || i >= ROW_RECLAIM_MAX)
		return 1;
	if (a->req[i].cpu != cpu)
		return 0;
	idx = a->req[i].idx;
	tag = a->req[i].tag;
	out = bpf_map_lookup_elem(out_map, &i);
	row = bpf_map_lookup_elem(table, &idx);
	if (!out || !row)
		return 0;
	*out = 0;
	if (!(tag & 1) || __sync_val_compare_and_swap(row, tag, ROW_CLAIMING) != tag)
		return 0;	/* not that key's any more */
	/* A copy that failed (it cannot, on map memory) frees nothing: the
	 * row goes back as it was. The zeroing cannot leave old counts
	 * either way: a failed read zeroes its destination. */
	if (bpf_probe_read_kernel(out + 1, row_size - 8, row + 1)) {
		*(volatile __u64 *)row = tag;
		return 0;
	}
	*out = tag;
	bpf_probe_read_kernel(row + 1, row_size - 8, blank + 1);
	*(volatile __u64 *)row = ROW_TOMBSTONE;
	return 0;
}
#else
#define ROW_RECLAIM(name, row_type)
#endif

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
	__u64 h = row_hash(key, words), tag = row_tag(h), t, want = 0;
	__u32 n = row_slots(table), idx, zero = 0, at = 0;
	struct row_used *u;
	bool claiming = false;
	__u64 *row, *spare = NULL;

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
		/* A slot being claimed (or reclaimed): this program
		 * interrupted a claim on this CPU (each CPU has its own
		 * copy), maybe of this very key. The key may still sit
		 * further on; but claiming a slot after this one could give
		 * it two rows on one CPU, so the event is lost instead (the
		 * caller counts it), which takes a softirq landing inside a
		 * claim's few stores. */
		if (t == ROW_CLAIMING) {
			claiming = true;
			continue;
		}
		/* A reclaimed slot: the first one is where the key goes if
		 * it is not further on. */
		if (t == ROW_TOMBSTONE) {
			if (!spare) {
				spare = row;
				at = idx;
				want = ROW_TOMBSTONE;
			}
			continue;
		}
		if (t)
			continue;	/* another key's */
		if (!spare) {
			spare = row;
			at = idx;
			want = 0;
		}
		break;	/* a free slot ends the chain: the key is not beyond */
	}
	if (!spare || claiming || __sync_val_compare_and_swap(spare, want, ROW_CLAIMING) != want)
		return NULL;	/* full; see above; or claimed under us */
	ROW_UNROLL
	for (int w = 0; w < words; w++)
		spare[1 + w] = key[w];
	*(volatile __u64 *)spare = tag;
	u = bpf_map_lookup_elem(used, &zero);
	/* at < n <= ROW_MAX_SLOTS already, but older verifiers (Linux 6.1)
	 * lose that bound when the compiler spills at to the stack and
	 * tests only its low half: the mask, which the compiler may not
	 * drop behind the barrier, bounds it where the store is. */
	asm volatile("" : "+r"(at));
	at &= ROW_MAX_SLOTS - 1;
	if (u)
		__sync_fetch_and_or(&u->bits[at / 64], 1ull << (at % 64));
	return spare;
}

#endif /* NETTUNE_ROW_TABLE_BPF_H */
