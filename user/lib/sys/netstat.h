/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* SNMP and extended counters of one network namespace (/proc/net/netstat and
 * /proc/net/snmp): TcpExt.ListenOverflows, Tcp.OutRsts, ... */
#ifndef NETTUNE_LIB_NETSTAT_H
#define NETTUNE_LIB_NETSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct netstat_entry {
	__u64 value;		/* signed kernel values (Tcp MaxConn = -1) wrap */
	char section[16];	/* "TcpExt", "Tcp", "IpExt", ... without the colon */
	char name[48];		/* "ListenOverflows" */
};

/* Zero-initialize, fill with netstat__parse() or netstat__read(), read with
 * netstat__get(), release with netstat__free(). */
struct netstat {
	struct netstat_entry *entries;
	size_t n, cap;
};

/* Parses text in the /proc/net/netstat and /proc/net/snmp format: for each
 * section a header line "TcpExt: A B C" followed by a values line
 * "TcpExt: 1 2 3". OUT is overwritten. A pair that does not line up (column
 * counts differ, a value is not a number, a header has no values line) is
 * skipped: its counters are simply not found. Returns 0, -EINVAL when no
 * section at all could be parsed, or -ENOMEM. */
int netstat__parse(const char *text, struct netstat *out);
/* Reads and parses the counters of network namespace NSFD (-1: the calling
 * thread's own): /proc/net/netstat and /proc/net/snmp as seen from inside. */
int netstat__read(int nsfd, struct netstat *out);
/* The value of SECTION.NAME (e.g. "TcpExt", "ListenDrops"); 0 and *found =
 * false (FOUND may be NULL) when the kernel does not have that counter. */
__u64 netstat__get(const struct netstat *s, const char *section, const char *name, bool *found);
/* Frees the entries and empties S; accepts NULL. */
void netstat__free(struct netstat *s);

#endif
