/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What the BPF side of row tables (bpf/row_table.bpf.h) and user space
 * (user/lib/bpfread/snapshot.c, tests) share: the layout and the hashing. */
#ifndef NETTUNE_ROW_TABLE_H
#define NETTUNE_ROW_TABLE_H

#define ROW_PROBES	8	/* slots tried from a key's first one */
#define ROW_CLAIMING	2ull	/* a slot's tag while its key is written: even, no key's */
#define ROW_MAX_SLOTS	4096	/* the largest table (drops' listeners); a power of 2 */
_Static_assert((ROW_MAX_SLOTS & (ROW_MAX_SLOTS - 1)) == 0, "row_find masks slot numbers");
/* A reclaimed slot (user/lib/bpfread/reclaim.c): even, no key's. A claim may
 * take it, but a lookup probes on past it, since the key it looks for may
 * have been claimed further on while this slot was taken. A used slot never
 * becomes free (0) again, so a free slot still ends every probe chain. */
#define ROW_TOMBSTONE	4ull
/* Slots one run of a table's reclaim program frees, on one CPU. */
#define ROW_RECLAIM_MAX	64

/* What user space asks a table's reclaim program (ROW_TABLE's
 * name##_reclaim) to free: slot idx of CPU cpu's copy if its tag is still
 * tag. A request for another CPU is left alone. */
struct row_reclaim_req {
	__u32 cpu;
	__u32 idx;
	__u64 tag;
};

struct row_reclaim_args {
	__u32 n;	/* requests in req[] */
	__u32 pad;
	struct row_reclaim_req req[ROW_RECLAIM_MAX];
};

/* Which slots of a table were ever claimed, on any CPU. */
struct row_used {
	__u64 bits[ROW_MAX_SLOTS / 64];
};

/* A key of words 64-bit words, multiplied through the golden ratio:
 * cheap, and its high bits are well mixed. */
static inline __u64 row_hash(const __u64 *key, const int words)
{
	__u64 h = 0;

	for (int w = 0; w < words; w++)
		h = (h ^ key[w]) * 0x9E3779B97F4A7C15ull;
	return h;
}

/* A row's tag: never 0 (free) nor ROW_CLAIMING. */
static inline __u64 row_tag(__u64 h)
{
	return h | 1;
}

/* The first slot of n to try, from the hash's high bits. */
static inline __u32 row_first_slot(__u64 h, __u32 n)
{
	return (__u32)(((h >> 32) * (__u64)n) >> 32);
}

#endif /* NETTUNE_ROW_TABLE_H */
