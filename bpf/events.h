/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The slow-event log (--min-us): one record per connection slower than the
 * threshold, through a ring buffer. Shared by the BPF probes and user/. */
#ifndef NETTUNE_EVENTS_H
#define NETTUNE_EVENTS_H

enum event_family { EVENT_CONNECT, EVENT_ACCEPT };

struct slow_event {
	__u64 latency_ns;
	__u32 pid;	/* tgid of the connecting or accepting process */
	__u32 netns;
	__u8 saddr[16];	/* local address, network byte order; v4 in [0..3] */
	__u8 daddr[16];	/* remote address, network byte order */
	__u16 sport;	/* local port, host byte order */
	__u16 dport;	/* remote port, host byte order */
	__u16 family;	/* AF_INET or AF_INET6 */
	__u8 kind;	/* enum event_family */
	__u8 pad;
	char comm[16];
};
_Static_assert(sizeof(struct slow_event) == 72, "slow_event layout");

#endif
