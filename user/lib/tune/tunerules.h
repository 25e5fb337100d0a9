/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The tuner's rules: pure functions from measured evidence to
 * recommendations. No I/O, no BPF: everything they know is in struct
 * tune_evidence, so the unit tests can feed them any numbers at all.
 * Each rule is documented, with its grounding, in docs/tuning.md.
 */
#ifndef NETTUNE_LIB_TUNERULES_H
#define NETTUNE_LIB_TUNERULES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "sysctl.h"

#define TUNE_BACKLOG_CEILING	65535	/* listen backlog and somaxconn */
#define TUNE_STEP_MAX		16	/* one run raises a value at most 16x ... */
#define TUNE_STEP_MIN		2	/* ... and at least 2x, so reruns converge fast */
#define TUNE_MAX_RECS		64

#define TUNE_MAX_SOCKETS	64	/* sockets of one SO_REUSEPORT group raised together */

/* One socket of a listener (an SO_REUSEPORT group has several), from the
 * report's listener table. */
struct tune_socket {
	__u32 ino;		/* socket inode */
	__u32 limit;		/* its accept-queue limit when observed */
	int pid;		/* owner; 0 unknown */
};

/* One listener, as the trace report's listener table saw it in the window. */
struct tune_listener {
	struct tune_socket socks[TUNE_MAX_SOCKETS];	/* the first nsocks_listed */
	__u64 accepted;		/* accept()s in the window */
	__u64 overflows;	/* accept queue full: syn_time + ack_time */
	__u64 overflows_syn;
	__u64 overflows_ack;
	bool overflows_from_ns;	/* overflows is the namespace's TcpExtListenOverflows:
				 * the only listener active, and more than was traced */
	double wait_p99_us;	/* accept-queue wait; <= 0 when not measured */
	double wait_p50_us;
	__u32 netns;
	__u32 limit;		/* accept-queue limit (backlog after the somaxconn clamp) */
	__u32 peak_queue;
	__u32 nsocks;		/* sockets on this address and port (SO_REUSEPORT); 0 unknown */
	__u32 nsocks_listed;	/* of which in socks: at most TUNE_MAX_SOCKETS */
	int pid;		/* owner; 0 unknown */
	__u16 port;
	char comm[16];
	char address[64];	/* "0.0.0.0:8080" */
};

/* Which fields of struct tune_evidence are known: a missing one disables the
 * rules that need it instead of being taken as 0. */
enum tune_known {
	TK_SOMAXCONN = 1u << 0,
	TK_SYN_BACKLOG = 1u << 1,
	TK_SYNCOOKIES = 1u << 2,
	TK_NETDEV_BACKLOG = 1u << 3,
	TK_TW_REUSE = 1u << 4,
	TK_PORT_RANGE = 1u << 5,
	TK_TCP_RMEM = 1u << 6,
	TK_TCP_MEM = 1u << 7,
	TK_TCP_SOCKETS = 1u << 8,
	TK_MEM_PRESSURES = 1u << 9,
	TK_MEM_PAGES = 1u << 10,
};

struct tune_evidence {
	double seconds;			/* length of the observation window */
	__u32 netns;			/* the namespace tuned (its per-netns sysctls) */
	bool pid_scoped;		/* -p: the report holds that process's listeners only */
	int ncpus;
	unsigned int known;		/* enum tune_known bits */
	/* sysctls: per-netns ones of NETNS, global ones of the initial namespace */
	long long somaxconn, max_syn_backlog, syncookies, netdev_max_backlog, tw_reuse;
	long long port_lo, port_hi;
	long long tcp_rmem[3];
	long long tcp_mem[3];		/* pages */
	__u64 mem_pages;		/* RAM, in pages */
	/* counters over the window */
	__u64 listen_overflows;		/* TcpExtListenOverflows */
	__u64 syn_queue_drops;		/* TcpExtTCPReqQFullDrop */
	__u64 syncookies_sent;
	__u64 drop_cpu_backlog;		/* kfree_skb reason CPU_BACKLOG */
	__u64 drop_rcvbuff;		/* SOCKET_RCVBUFF */
	__u64 drop_proto_mem;		/* PROTO_MEM */
	__u64 connect_total;		/* connects that finished, either way */
	__u64 connect_no_port;		/* failures for want of a local port (EADDRNOTAVAIL) */
	/* namespace state at the end of the window */
	__u64 tcp_sockets;		/* TCP sockets in use + TIME-WAIT (/proc/net/sockstat) */
	__u64 mem_pressures;		/* TcpExtTCPMemoryPressures since the netns began */
	const struct tune_listener *listeners;
	size_t nlisteners;
};

enum tune_kind {
	TUNE_SYSCTL,		/* a sysctl write, where it lives */
	TUNE_RELISTEN,		/* listen() again on a live listener (--relisten) */
	TUNE_ADVICE,		/* a change only the operator can make */
};

struct tune_rec {
	char id[128];		/* stable across runs: rule/where/object */
	char rule[32];
	char setting[128];
	enum tune_kind kind;
	enum sysctl_scope scope;
	__u32 netns;		/* for SYSCTL_NETNS and relisten; 0 for global */
	long long cur_num;	/* the tuned field, current and proposed */
	long long prop_num;
	char current[SYSCTL_VALUE_MAX];
	char proposed[SYSCTL_VALUE_MAX];
	char evidence[640];	/* what was measured, in numbers */
	char why[320];		/* the rule, in words */
	char effect[320];	/* what should change */
	/* relisten: the listener and every socket of it, each raised */
	int pid;
	__u32 nsocks_total;	/* sockets of the group; more than nsocks: not all listed */
	__u32 nsocks;
	struct tune_socket socks[TUNE_MAX_SOCKETS];
	char address[64];
};

/* Runs every rule on EV. Writes up to MAX recommendations to RECS, sysctls
 * before relistens (the order to apply them in), advice last. *N is how many.
 * Returns 0, or -ENOSPC when some did not fit (the first MAX are kept). */
int tunerules__evaluate(const struct tune_evidence *ev, struct tune_rec *recs, size_t max,
			size_t *n);
/* The last line of defence, applied to every recommendation before it is
 * returned: known key, inside its floor and ceiling, not the current value,
 * never tcp_syncookies=0 nor tcp_tw_recycle. */
bool tunerules__safe(const struct tune_rec *r);
/* The backlog a listener needed in the window: what its queue held plus
 * what it turned away, or twice arrival rate x accept-wait p99 (Little's
 * law), whichever is larger. */
double tunerules__backlog_need(const struct tune_evidence *ev, const struct tune_listener *l);
/* NEED rounded up to a power of two, then bounded: within [2, 16] x CUR,
 * never below FLOOR (a kernel default: returning to it is not a step) and
 * never above CEILING. NaN or infinite NEED means CEILING. */
long long tunerules__bounded(double need, long long cur, long long floor, long long ceiling);
const char *tunerules__kind_name(enum tune_kind k);

#endif
