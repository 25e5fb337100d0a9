/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Per-socket records without locks: what one program learns about a socket
 * (connect's SYN_SENT, in the caller's context: who connects, where to and
 * when) for a program that runs later, often in softirq on another CPU (the
 * answer). The sibling of the stamp table (bpf/sock_stamp.bpf.h), for a
 * record larger than a timestamp.
 *
 * Why not a hash map: an update and a delete take a bucket lock each (IRQs
 * off) and an element from, then back to, the map's free list; on the bench
 * (perf, nginx at ~19k connections/s) those were about a third of the time
 * of the program at sock:inet_sock_set_state.
 *
 * The layout is the stamp table's: a socket's id (its address) picks one of
 * REC_SETS sets of REC_WAYS ways and a 15-bit tag; a set's headers share a
 * cache line, each one word: the tag and the record's 48-bit start time. A
 * second array holds each way's record, which starts with the socket's id.
 *
 * - A claim takes a free way with a compare-and-swap of its header (0 ->
 *   tag|time), or the way of a stale record of the same socket, or else the
 *   oldest way of the set, whose record is lost (the caller counts it);
 *   each a compare-and-swap from the header it saw, so no two claims share
 *   a way (one that loses a race to displace loses its own record, also
 *   counted); then the caller writes the record. For one socket, the claim and the
 *   write happen before the event that ends the record can: connect's
 *   SYN_SENT program runs before the SYN leaves.
 * - A take finds its tag, copies the record, checks the socket id in it,
 *   and frees the way with a compare-and-swap from the header it read. If
 *   the header changed meanwhile (another socket took the way over), the
 *   copy may be torn and is dropped: the record was lost to the take-over,
 *   which counted it.
 *
 * A socket with the same set and tag as another (one in 2^15 per set) can
 * only be confused with it in the instant the other's record is rewritten;
 * the id check catches every other case. 48 bits of nanoseconds wrap after
 * 3.2 days, which only the choice of the oldest way sees.
 */
#ifndef NETTUNE_SOCK_RECORD_BPF_H
#define NETTUNE_SOCK_RECORD_BPF_H

#define REC_SETS_LOG2	11
#define REC_SETS	(1u << REC_SETS_LOG2)	/* 16,384 records in flight */
#define REC_WAYS	8
#define REC_TS_BITS	48
#define REC_TS_MASK	((1ull << REC_TS_BITS) - 1)

#ifdef __clang__
#define REC_UNROLL	_Pragma("unroll")
#else
#define REC_UNROLL	_Pragma("GCC unroll 8")
#endif

/* One set's headers: a cache line. */
struct rec_set {
	__u64 way[REC_WAYS];
};

/* Declares a record table of record_type (whose first field is the socket's
 * __u64 id): the headers (name) and the records (name##_data). */
#define SOCK_RECORD_TABLE(name, record_type)                                    \
	_Static_assert(__builtin_offsetof(record_type, id) == 0, "id first");   \
	struct name##_recs {                                                    \
		record_type rec[REC_WAYS];                                      \
	};                                                                      \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_ARRAY);                               \
		__uint(max_entries, REC_SETS);                                  \
		__type(key, __u32);                                             \
		__type(value, struct rec_set);                                  \
	} name SEC(".maps");                                                    \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_ARRAY);                               \
		__uint(max_entries, REC_SETS);                                  \
		__type(key, __u32);                                             \
		__type(value, struct name##_recs);                              \
	} name##_data SEC(".maps")

/* A socket's set (headers and records) and its tag. */
struct rec_ref {
	__u64 *set;
	char *recs;
	__u64 tag;	/* shifted into place, never 0 */
};

static __always_inline struct rec_ref rec_ref(void *table, void *data, __u64 id)
{
	/* Fibonacci hashing: the high bits of the product are well mixed (a
	 * socket's address has its low bits in common with every other's). */
	__u64 h = id * 0x9E3779B97F4A7C15ull;
	__u32 idx = (__u32)(h >> (64 - REC_SETS_LOG2));
	struct rec_ref r;

	r.set = bpf_map_lookup_elem(table, &idx);
	r.recs = bpf_map_lookup_elem(data, &idx);
	r.tag = ((h >> 32) | 1) << REC_TS_BITS;
	return r;
}

static __always_inline bool rec_mine(const struct rec_ref *r, __u64 word)
{
	return (word & ~REC_TS_MASK) == r->tag;
}

enum rec_claim_result {
	REC_CLAIMED,	/* a free way, or this socket's own stale one */
	REC_DISPLACED,	/* the oldest way, whose record (another socket's) is lost */
	REC_NO_SLOT,	/* cannot happen: the index is always in range */
};

/* Claims a way for the record of socket id, started at ts: *way is its
 * index, whose record (rec_size bytes each) the caller then writes in full.
 * Every change of a header is a compare-and-swap from the word last seen
 * there, so two claims never get the same way: the loser of a race for a
 * free way looks on, and the loser of a race to displace gets REC_NO_SLOT
 * (its record is lost, and the caller counts it). */
static __always_inline enum rec_claim_result rec_claim(const struct rec_ref *r, __u64 id,
						       __u64 ts, const __u32 rec_size, int *way)
{
	__u64 word = r->tag | (ts & REC_TS_MASK), oldest_word = 0, oldest_age = 0, prev;
	int oldest = -1;

	if (!r->set || !r->recs)
		return REC_NO_SLOT;
	REC_UNROLL
	for (int i = 0; i < REC_WAYS; i++) {
		__u64 *w = &r->set[i];
		__u64 cur = *(volatile __u64 *)w, age;
		/* This socket's own record left by an end nettune missed (a
		 * socket's address is reused only after it is freed, so that
		 * record is stale), or another socket's under the same tag. */
		bool stale = cur && rec_mine(r, cur) &&
			     *(volatile __u64 *)(r->recs + i * rec_size) == id;

		if (!cur || stale) {
			prev = __sync_val_compare_and_swap(w, cur, word);
			if (prev == cur) {
				*way = i;
				return REC_CLAIMED;
			}
			cur = prev;	/* claimed under us: another's now */
			if (!cur)
				continue;
		}
		/* A start a little after ts (another CPU's clock) is the
		 * youngest, not the oldest by a wrap. */
		age = (ts - cur) & REC_TS_MASK;
		if (age > REC_TS_MASK / 2)
			age = 0;
		if (oldest < 0 || age > oldest_age) {
			oldest = i;
			oldest_age = age;
			oldest_word = cur;
		}
	}
	if (oldest < 0 || oldest >= REC_WAYS)
		return REC_NO_SLOT;
	/* All taken: the oldest record is the likeliest to be stale. */
	if (__sync_val_compare_and_swap(&r->set[oldest], oldest_word, word) != oldest_word)
		return REC_NO_SLOT;	/* changed under us: give up rather than share it */
	*way = oldest;
	return REC_DISPLACED;
}

/* The record of way i, rec_size bytes each (a constant). */
static __always_inline void *rec_at(const struct rec_ref *r, int i, const __u32 rec_size)
{
	if (i < 0 || i >= REC_WAYS)
		return NULL;
	return r->recs + (__u32)i * rec_size;
}

/* Takes the socket's record out of the table: copies it to out (rec_size
 * bytes, a constant) and frees its way. false if there is none (the socket
 * started before attach, was filtered out, or its record was lost). */
static __always_inline bool rec_take(const struct rec_ref *r, __u64 id, void *out,
				     const __u32 rec_size)
{
	if (!r->set || !r->recs)
		return false;
	REC_UNROLL
	for (int i = 0; i < REC_WAYS; i++) {
		__u64 word = *(volatile __u64 *)&r->set[i];

		if (!rec_mine(r, word))
			continue;
		__builtin_memcpy(out, r->recs + i * rec_size, rec_size);
		if (*(__u64 *)out != id)
			continue;	/* another socket's, under the same tag */
		/* Still the header the copy was made under: the copy is whole. */
		return __sync_val_compare_and_swap(&r->set[i], word, 0) == word;
	}
	return false;
}

/* Drops the record of socket id, if one is left (its end was missed), so
 * that its answer does not take it: for a socket the filters leave out. */
static __always_inline void rec_forget(const struct rec_ref *r, __u64 id, const __u32 rec_size)
{
	if (!r->set || !r->recs)
		return;
	REC_UNROLL
	for (int i = 0; i < REC_WAYS; i++) {
		__u64 word = *(volatile __u64 *)&r->set[i];

		if (rec_mine(r, word) && *(volatile __u64 *)(r->recs + i * rec_size) == id)
			__sync_val_compare_and_swap(&r->set[i], word, 0);
	}
}

#endif /* NETTUNE_SOCK_RECORD_BPF_H */
