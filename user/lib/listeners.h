/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The per-listener report: every probe adds what it saw about a listener
 * (accept wait, drops, SYN-ACK retransmits) and sock_diag adds its limit,
 * queue and owner; trace prints one table and one "listeners" JSON array.
 */
#ifndef NETTUNE_LIB_LISTENERS_H
#define NETTUNE_LIB_LISTENERS_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "sparsehist.h"
#include "listener.h"

struct listener_row {
	struct listener_key key;
	int pid;		/* owner (sock_diag) or last accepting process */
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
	/* Accept-queue wait. Sparse: with 10,000 listeners, dense rows in the
	 * tables of the probes and of the report were ~90 MB. The table owns
	 * its buckets: rows are reset, filtered and freed through it. */
	struct sparse_hist wait;
};

struct listener_table;

struct listener_table *listener_table__new(void);
void listener_table__free(struct listener_table *t);
void listener_table__reset(struct listener_table *t);
/* The row of a listener, created zeroed; NULL on allocation failure. */
struct listener_row *listener_table__row(struct listener_table *t, const struct listener_key *k);
bool listener_table__row_exists(struct listener_table *t, const struct listener_key *k);
size_t listener_table__len(const struct listener_table *t);
struct listener_row *listener_table__at(struct listener_table *t, size_t i);
/* Keeps only rows owned by one of these pids (the -p filter). */
void listener_table__keep_pids(struct listener_table *t, const __u32 *pids, int n);
void listener_table__print(struct listener_table *t, FILE *out);
struct json_object *listener_table__json(struct listener_table *t);
/* The same array for printing with JSON_C_TO_STRING_PLAIN, made one row at
 * a time while it is printed: the rows' json-c objects took ~5 KB each, 11 MB
 * for the 2,048 listeners of a report. It looks empty to anything but the
 * printer, and t must not change until it is printed. */
struct json_object *listener_table__json_printer(struct listener_table *t);
/* "0.0.0.0:8080" or "[::1]:443" */
void listener__format(const struct listener_key *k, char *buf, size_t len);

#endif
