/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Per-socket timestamps without locks: a clock that starts in one program
 * (a connection enters the accept queue, data arrives) and stops in another
 * (the accept() that takes it, the read that drains it).
 *
 * Why not a hash map or socket local storage: on these hot paths a hash
 * update and delete take a bucket lock each (IRQs off, ~170 ns here), and
 * socket storage allocates on a socket's first use and frees at its end,
 * which under connection churn costs more than the hash (measured on read:
 * read_data_ready 486 ns a run with storage created for each socket's one
 * message, 209 with this table). A set of a plain array is found with
 * inline arithmetic (array lookups are not even a helper call) and a clock
 * changed with one atomic instruction. read keeps a socket's later clocks
 * in socket storage, once it exists no dearer than this table and exact.
 *
 * The table is set-associative: a key unique to the socket (accept: its
 * cookie, unique for the boot; read: its address with the hash of its
 * addresses and ports, bpf/read.bpf.c) picks one of 1,024 sets of 8
 * ways, one cache line each, and a 15-bit tag; a way holds tag and a 48-bit
 * nanosecond timestamp in one 64-bit word, so a reader never sees half of
 * another writer's value. A clock starts in a free way of its set; when all
 * 8 are taken it displaces the oldest, and the displacement is counted as a
 * lost event by the caller. So is, eventually, a clock left running by a
 * socket that went away without stopping it (closed with unread data): it
 * is the oldest of its set. With n clocks running at once a set is full
 * with probability P(Poisson(n / 1,024) >= 8): 0.001% for n = 1,000, 5% for
 * n = 4,000. 48 bits of nanoseconds wrap after 3.2 days; a wait is computed
 * modulo that (a wait longer than half of that, 1.6 days, reads as 0).
 *
 * Why so small (64 KiB a table): every start and stop touches a random set,
 * and a table that stays in the CPU's cache costs tens of ns less per
 * access than the 512 KiB direct-mapped table this replaced (measured on
 * the bench VM: accept_state 105 -> 80 ns, read_data_ready 230 -> 180 ns
 * per run with a 32 KiB table).
 */
#ifndef NETTUNE_SOCK_STAMP_BPF_H
#define NETTUNE_SOCK_STAMP_BPF_H

#define STAMP_SETS_LOG2		10
#define STAMP_SETS		(1u << STAMP_SETS_LOG2)
#define STAMP_WAYS		8
#define STAMP_TS_BITS		48
#define STAMP_TS_MASK		((1ull << STAMP_TS_BITS) - 1)

/* The ways of a set are scanned in straight-line code (the unit test
 * compiles this header with gcc as well). */
#ifdef __clang__
#define STAMP_UNROLL	_Pragma("unroll")
#else
#define STAMP_UNROLL	_Pragma("GCC unroll 8")
#endif

/* One set: a cache line of clocks. */
struct stamp_set {
	__u64 way[STAMP_WAYS];
};

/* Declares a stamp table; each BPF object that keeps clocks has its own. */
#define SOCK_STAMP_TABLE(name)                                  \
	struct {                                                \
		__uint(type, BPF_MAP_TYPE_ARRAY);               \
		__uint(max_entries, STAMP_SETS);                \
		__type(key, __u32);                             \
		__type(value, struct stamp_set);                \
	} name SEC(".maps")

enum stamp_start_result {
	STAMP_STARTED,		/* the clock runs from now */
	STAMP_RUNNING,		/* it already ran: left as it was */
	STAMP_DISPLACED,	/* started, but took the way of another socket's clock */
	STAMP_NO_SLOT,		/* cannot happen: the index is always in range */
};

/* A socket's set, and the tag that marks its clock there. */
struct stamp_ref {
	__u64 *set;	/* the set's first word */
	__u64 tag;	/* shifted into place, never 0 */
};

static __always_inline struct stamp_ref stamp_ref(void *table, __u64 cookie)
{
	/* Fibonacci hashing: the high bits of the product are well mixed. */
	__u64 h = cookie * 0x9E3779B97F4A7C15ull;
	__u32 idx = (__u32)(h >> (64 - STAMP_SETS_LOG2));
	struct stamp_ref r;

	r.set = bpf_map_lookup_elem(table, &idx);
	r.tag = ((h >> 32) | 1) << STAMP_TS_BITS;
	return r;
}

static __always_inline bool stamp_mine(const struct stamp_ref *r, __u64 word)
{
	return (word & ~STAMP_TS_MASK) == r->tag;
}

/* The word a clock started at ts keeps in its way; never 0. */
static __always_inline __u64 stamp_word(const struct stamp_ref *r, __u64 ts)
{
	return r->tag | (ts & STAMP_TS_MASK);
}

/* now - start for a word returned by stamp_stop, modulo the 48-bit wrap.
 * A start a little after now (a start time rounded to the middle of its
 * microsecond, see tcp_rx_time_ns()) counts as no wait at all. */
static __always_inline __u64 stamp_elapsed(__u64 start, __u64 now)
{
	__u64 d = (now - start) & STAMP_TS_MASK;

	return d > STAMP_TS_MASK / 2 ? 0 : d;
}

/* The way that holds this socket's running clock, or NULL. */
static __always_inline __u64 *stamp_find(const struct stamp_ref *r)
{
	if (!r->set)
		return NULL;
	STAMP_UNROLL
	for (int i = 0; i < STAMP_WAYS; i++)
		if (stamp_mine(r, *(volatile __u64 *)&r->set[i]))
			return &r->set[i];
	return NULL;
}

/* Starts the socket's clock at ts (bpf_ktime_get_ns() time). A clock found
 * under its tag is kept (STAMP_RUNNING) unless fresh says the socket cannot
 * have one yet: then that clock is another socket's that shares the tag
 * (a dead one's, left running), and is taken over (STAMP_DISPLACED) rather
 * than handing its start to this socket. */
static __always_inline enum stamp_start_result stamp_begin(void *table, __u64 cookie, __u64 ts,
							   const bool fresh)
{
	struct stamp_ref ref = stamp_ref(table, cookie);
	const struct stamp_ref *r = &ref;
	__u64 word = stamp_word(r, ts), oldest_age = 0, prev;
	__u64 *oldest = NULL, *mine;

	if (!r->set)
		return STAMP_NO_SLOT;
	mine = stamp_find(r);
	if (mine && !fresh)
		return STAMP_RUNNING;
	if (mine) {
		__sync_lock_test_and_set(mine, word);
		return STAMP_DISPLACED;
	}
	STAMP_UNROLL
	for (int i = 0; i < STAMP_WAYS; i++) {
		__u64 *w = &r->set[i];
		__u64 cur = *(volatile __u64 *)w, age;

		if (!cur && __sync_val_compare_and_swap(w, 0, word) == 0)
			return STAMP_STARTED;
		age = (ts - cur) & STAMP_TS_MASK;
		if (!oldest || age > oldest_age) {
			oldest = w;
			oldest_age = age;
		}
	}
	/* All taken: the oldest clock is the likeliest to be stale. */
	if (!oldest)
		return STAMP_NO_SLOT;
	prev = __sync_lock_test_and_set(oldest, word);
	return prev && !stamp_mine(r, prev) ? STAMP_DISPLACED : STAMP_STARTED;
}

/* A clock that starts unless it runs already: more data behind unread data. */
static __always_inline enum stamp_start_result stamp_start(void *table, __u64 cookie, __u64 ts)
{
	return stamp_begin(table, cookie, ts, false);
}

/* A clock that starts with its socket (a child entering the accept queue):
 * nothing found under its tag can be its own. */
static __always_inline enum stamp_start_result stamp_start_new(void *table, __u64 cookie,
							       __u64 ts)
{
	return stamp_begin(table, cookie, ts, true);
}

/* Stops the clock: the word it started with (never 0), or 0 if it was not
 * running (never started, started before attach, displaced). */
static __always_inline __u64 stamp_stop(void *table, __u64 cookie)
{
	struct stamp_ref r = stamp_ref(table, cookie);
	__u64 *way = stamp_find(&r), word;

	if (!way)
		return 0;
	word = *(volatile __u64 *)way;
	/* Only if it is still this clock and nobody changed it meanwhile. */
	if (!stamp_mine(&r, word) || __sync_val_compare_and_swap(way, word, 0) != word)
		return 0;
	return word;
}

#endif /* NETTUNE_SOCK_STAMP_BPF_H */
