/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The listener table: the one place where a listener has an identity and
 * where everything known about it is joined. Each report rebuilds it:
 *
 *   listener_table__begin()        reads the sock_diag census (if watching)
 *   listener_table__add_accepts()  the accept family's rows, in place
 *   listener_table__add_drops()    the drops family's rows, in place
 *   listener_table__join()         census + rows, filters
 *
 * A listener is its struct listener_key (bpf/listener.h: namespace, family,
 * local address, port), built whole by one helper on each side. An
 * SO_REUSEPORT group shares that key: it is one row, with its sockets listed.
 * What each field means, and who wins where sources disagree:
 *   cgroup             the cgroup v2 id of the listening socket (it never
 *                      changes): sock_diag's, else the families' rows'
 *   owner (pid, comm)  the owner of the first socket whose owner is known,
 *                      from sock_diag; never an accepting process; 0 when
 *                      the census lacks it
 *   acceptors          every process that accepted from it, with its count
 *   limit, queue       the current values from sock_diag (a group: the
 *                      largest); the last accept's when the census lacks it
 *   overflows          ACK time from events; SYN time from sk_drops growth
 *                      less what events explain (only with the drops family)
 * A row is shown when it has something to say: accepts, drops, sk_drops
 * growth, or a non-empty queue.
 */
#ifndef NETTUNE_LIB_LISTENERS_H
#define NETTUNE_LIB_LISTENERS_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "hist.h"
#include "sparsehist.h"
#include "listener.h"

struct nswatch;

/* One socket of a listener: one, or an SO_REUSEPORT group's several. */
struct listener_socket {
	__u32 inode;
	__u32 limit;		/* accept-queue limit (backlog after the somaxconn clamp) */
	__u32 queue;
	int pid;		/* owner, 0 if unknown */
	char comm[16];
};

/* A process that accepted connections from the listener. */
struct listener_acceptor {
	__u64 accepted;
	int pid;
	char comm[16];
};

struct listener_row {
	struct listener_key key;
	__u64 cgroup;		/* cgroup v2 id of the listening socket; 0 unknown */
	int pid;		/* owner (sock_diag); 0 unknown */
	char comm[16];
	__u32 limit;		/* accept-queue limit: backlog after the somaxconn clamp */
	__u32 queue;		/* queue length when last read through sock_diag */
	__u32 peak_depth;	/* largest queue seen at accept() */
	bool seen_in_diag;
	__u64 overflow_syn;	/* accept queue full at SYN: sk_drops growth */
	__u64 overflow_ack;	/* accept queue full at final ACK: kfree_skb */
	__u64 overflow_cookie;	/* of which SYN-cookie ACKs (NO_SOCKET on the listener) */
	__u64 synack_retrans;
	__u64 drops_other;	/* other kfree_skb drops with the listener as rx_sk */
	__u64 sk_drops;		/* sk_drops growth over the report */
	__u64 syn_queue_drops;	/* of which SYN-queue drops (syncookies off), by the
				 * namespace's counters: no overflows */
	/* Accept-queue wait. Sparse: with 10,000 listeners, dense rows were
	 * ~90 MB. The table owns its buckets, sockets and acceptors: rows are
	 * reset, filtered and freed through it. */
	struct sparse_hist wait;
	struct listener_socket *sockets;
	size_t nsockets;
	struct listener_acceptor *acceptors;
	size_t nacceptors;
	/* What the accept family last saw, for a listener the census lacks. */
	__u32 accept_limit;
	__u64 accept_limit_ns;
};

/* What a join applies: trace's --port and -p, and whether SYN-time
 * overflows can be told (the drops family runs: without its events, all of
 * sk_drops' growth would look like SYN-time overflows). */
struct listener_filter {
	const __u16 *ports;
	int nports;
	const __u32 *pids;
	int npids;
	const __u64 *cgroups;	/* --cgroup: ids; a row is kept when its cgroup lies
				 * in one (or below) */
	int ncgroups;
	bool syn_time;
};

struct listener_table;

struct listener_table *listener_table__new(void);
void listener_table__free(struct listener_table *t);
/* Starts the census: sock_diag and the TcpExt counters of namespace NETNS
 * (0: all), from now on. Without it the table has only what probes saw. */
int listener_table__watch(struct listener_table *t, __u32 netns);
/* Empties the rows and reads the census again: since watch (total) or
 * since the previous begin. */
int listener_table__begin(struct listener_table *t, bool total);
/* What a family saw about a listener, added in place. -ENOMEM on failure. */
int listener_table__add_accepts(struct listener_table *t, const struct listener_key *k,
				int pid, const char comm[16], const struct hist *wait,
				__u32 peak_depth, __u32 limit, __u64 limit_ns);
int listener_table__add_drops(struct listener_table *t, const struct listener_key *k,
			      __u64 overflow_ack, __u64 overflow_cookie, __u64 synack_retrans,
			      __u64 drops_other);
/* The cgroup v2 id a family saw the listener's socket in (0: none seen). */
void listener_table__set_cgroup(struct listener_table *t, const struct listener_key *k,
				__u64 cgroup);
/* The kernel has no event for ACK-time overflows (no TCP_LISTEN_OVERFLOW
 * reason): each grows sk_drops unexplained, so join always caps the rows'
 * SYN-time overflows by their namespace's ListenOverflows. Sticky. */
void listener_table__ack_overflows_unseen(struct listener_table *t);
/* Joins the census into the rows and applies the filters. */
int listener_table__join(struct listener_table *t, const struct listener_filter *f);

/* Sums over every listener of the last join, before -p chose the rows: the
 * drops family's totals stay those of the namespaces (as its namespace
 * counters are), whatever -p shows. */
struct listener_totals {
	__u64 overflow_syn;
	__u64 overflow_ack;
	__u64 synack_retrans;
};
const struct listener_totals *listener_table__totals(const struct listener_table *t);
/* The census read by the last begin, NULL when not watching: its namespace
 * counters are the drops family's totals. */
const struct nswatch *listener_table__census(const struct listener_table *t);

/* The row of a listener, created zeroed; NULL on allocation failure. */
struct listener_row *listener_table__row(struct listener_table *t, const struct listener_key *k);
/* The row of a listener, or NULL when it has none. */
struct listener_row *listener_table__find(struct listener_table *t, const struct listener_key *k);
size_t listener_table__len(const struct listener_table *t);
struct listener_row *listener_table__at(struct listener_table *t, size_t i);
/* Orders rows busiest first (reports and JSON). */
void listener_table__sort(struct listener_table *t);

/* user/lib/stats/listeners_out.c: the table as text and as JSON (docs/json.md) */
void listener_table__print(struct listener_table *t, FILE *out);
struct json_object *listener_table__json(struct listener_table *t);
/* The text of listener_table__json's array with JSON_C_TO_STRING_PLAIN,
 * written to out one row at a time (only one row's objects in memory). */
void listener_table__write_json(struct listener_table *t, FILE *out);
/* "0.0.0.0:8080" or "[::1]:443" */
void listener__format(const struct listener_key *k, char *buf, size_t len);
/* The listener key of a socket as sock_diag describes it: the whole key. */
void listener__key_of_diag(__u32 netns, int family, const __u8 addr[16], __u16 port,
			   struct listener_key *k);

#endif
