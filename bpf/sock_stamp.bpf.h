/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Per-socket timestamps without locks: a clock that starts in one program
 * (data arrives, a connection enters the accept queue) and stops in another
 * (the read that drains it, the accept() that takes it).
 *
 * Why not a hash map or socket local storage: on these hot paths a hash
 * update and delete take a bucket lock each (IRQs off, ~170 ns here), and
 * socket storage allocates on a socket's first use and frees at its end,
 * which under connection churn costs more than the hash. A slot of a plain
 * array is found with inline arithmetic (array lookups are not even a
 * helper call) and changed with one atomic instruction.
 *
 * The table is direct-mapped: a key picks a slot and a 15-bit tag; the slot
 * holds tag and a 48-bit nanosecond timestamp in one 64-bit word, so a
 * reader never sees half of another writer's value. Two sockets that
 * share a slot at the same time displace each other: the displacement is
 * counted as a lost event by the caller. So is a clock left running by a
 * socket that went away without stopping it, when its slot is taken. With
 * 65,536 slots and n sockets whose clocks run at once, a start displaces
 * another with probability about n / 65,536. 48 bits of nanoseconds wrap
 * after 3.2 days; a wait is computed modulo that (a wait longer than half
 * of that, 1.6 days, reads as 0).
 *
 * The key is the socket cookie: never reused, unlike a socket's address,
 * so a new socket cannot stop a clock an old one left running (read: a
 * socket closed with unread data). (A tp_btf socket pointer could not be
 * hashed anyway: the verifier allows no arithmetic on it.)
 */
#ifndef NETTUNE_SOCK_STAMP_BPF_H
#define NETTUNE_SOCK_STAMP_BPF_H

#define STAMP_SLOTS_LOG2	16
#define STAMP_SLOTS		(1u << STAMP_SLOTS_LOG2)
#define STAMP_TS_BITS		48
#define STAMP_TS_MASK		((1ull << STAMP_TS_BITS) - 1)

/* Declares a stamp table; each BPF object that keeps clocks has its own. */
#define SOCK_STAMP_TABLE(name)                                  \
	struct {                                                \
		__uint(type, BPF_MAP_TYPE_ARRAY);               \
		__uint(max_entries, STAMP_SLOTS);               \
		__type(key, __u32);                             \
		__type(value, __u64);                           \
	} name SEC(".maps")

enum stamp_start_result {
	STAMP_STARTED,		/* the clock runs from now */
	STAMP_RUNNING,		/* it already ran: left as it was */
	STAMP_DISPLACED,	/* started, but took another socket's slot */
	STAMP_NO_SLOT,		/* cannot happen: the index is always in range */
};

/* A socket's slot: where its clock lives, and the tag that marks it. A
 * table's value may also be a struct that begins with the word and keeps
 * more about the running clock (connect keeps the connecting process). */
struct stamp_ref {
	__u64 *slot;
	__u64 tag;	/* shifted into place, never 0 */
};

static __always_inline struct stamp_ref stamp_ref(void *table, __u64 cookie)
{
	/* Fibonacci hashing: the high bits of the product are well mixed. */
	__u64 h = cookie * 0x9E3779B97F4A7C15ull;
	__u32 idx = (__u32)(h >> (64 - STAMP_SLOTS_LOG2));
	struct stamp_ref r;

	r.slot = bpf_map_lookup_elem(table, &idx);
	r.tag = ((h >> 32) | 1) << STAMP_TS_BITS;
	return r;
}

static __always_inline bool stamp_mine(const struct stamp_ref *r, __u64 word)
{
	return (word & ~STAMP_TS_MASK) == r->tag;
}

/* The word a clock started at ts keeps in its slot; never 0. */
static __always_inline __u64 stamp_word(const struct stamp_ref *r, __u64 ts)
{
	return r->tag | (ts & STAMP_TS_MASK);
}

/* Starts the clock at ts (bpf_ktime_get_ns() time) unless it already runs. */
static __always_inline enum stamp_start_result stamp_start_ref(const struct stamp_ref *r,
							       __u64 ts)
{
	__u64 prev;

	if (!r->slot)
		return STAMP_NO_SLOT;
	if (stamp_mine(r, *(volatile __u64 *)r->slot))
		return STAMP_RUNNING;
	prev = __sync_lock_test_and_set(r->slot, stamp_word(r, ts));
	return prev && !stamp_mine(r, prev) ? STAMP_DISPLACED : STAMP_STARTED;
}

static __always_inline enum stamp_start_result stamp_start(void *table, __u64 cookie, __u64 ts)
{
	struct stamp_ref r = stamp_ref(table, cookie);

	return stamp_start_ref(&r, ts);
}

/* Stops the clock: the word it started with (never 0), or 0 if it was not
 * running (never started, started before attach, displaced). */
static __always_inline __u64 stamp_stop_ref(const struct stamp_ref *r)
{
	__u64 word;

	if (!r->slot)
		return 0;
	word = *(volatile __u64 *)r->slot;
	if (!stamp_mine(r, word))
		return 0;
	/* Only if nobody changed the slot meanwhile. */
	if (__sync_val_compare_and_swap(r->slot, word, 0) != word)
		return 0;
	return word;
}

static __always_inline __u64 stamp_stop(void *table, __u64 cookie)
{
	struct stamp_ref r = stamp_ref(table, cookie);

	return stamp_stop_ref(&r);
}

/* now - start for a word returned by stamp_stop, modulo the 48-bit wrap.
 * A start a little after now (a start time rounded to the middle of its
 * microsecond, see tcp_rx_time_ns()) counts as no wait at all. */
static __always_inline __u64 stamp_elapsed(__u64 start, __u64 now)
{
	__u64 d = (now - start) & STAMP_TS_MASK;

	return d > STAMP_TS_MASK / 2 ? 0 : d;
}

#endif /* NETTUNE_SOCK_STAMP_BPF_H */
