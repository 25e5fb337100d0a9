/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The listener join's parts, apart from the census they usually read, so
 * that the unit tests can feed them any sockets and counters. */
#ifndef NETTUNE_LIB_LISTENERS_INT_H
#define NETTUNE_LIB_LISTENERS_INT_H

#include "listeners.h"

struct nswatch;
struct nswatch_listener;

/* Joins census sockets LS into the rows (listener_table__join without the
 * namespace split and the -p filter). */
int listeners__join_sockets(struct listener_table *t, const struct nswatch_listener *const *ls,
			    size_t n, const struct listener_filter *f);
/* The SYN-time overflows of a row seen in the census: its sk_drops growth
 * less what the drop events account for, and less what the namespace's
 * counters say were SYN-queue drops. */
__u64 listeners__syn_time(const struct listener_row *r);
/* Scales the SYN-time overflows of namespace NETNS's rows down to what its
 * LISTEN_OVERFLOWS (TcpExtListenOverflows growth over the same span) leaves
 * after their ACK-time ones, each row its share; with TO_SYN_QUEUE the rest
 * is counted as SYN-queue drops. */
void listeners__cap_syn_time(struct listener_table *t, __u32 netns, __u64 listen_overflows,
			     bool to_syn_queue);
/* With syncookies off a full SYN queue grows sk_drops too: scales each
 * row's SYN-time overflows down to its namespace's share. */
void listeners__split_syn_queue_drops(struct listener_table *t, const struct nswatch *census,
				      bool ack_overflows_unseen);

#endif
