// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "netns.h"
#include "netstat.h"
#include "sysctl.h"
#include "tunecollect.h"

int tunecollect__parse_sockstat(const char *text, __u64 *tcp_sockets)
{
	unsigned long long inuse, orphan, tw;
	const char *p = strstr(text, "\nTCP: ");

	if (!p && !strncmp(text, "TCP: ", 5))
		p = text - 1;
	if (!p || sscanf(p + 1, "TCP: inuse %llu orphan %llu tw %llu", &inuse, &orphan, &tw) != 3)
		return -EINVAL;
	*tcp_sockets = inuse + tw;
	return 0;
}

struct sockstat_call {
	char text[1024];
};

static int read_sockstat(void *ctx)
{
	struct sockstat_call *c = ctx;
	ssize_t n;
	/* thread-self: /proc/self/net would be the thread-group leader's. */
	int fd = open("/proc/thread-self/net/sockstat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, c->text, sizeof(c->text) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	c->text[n] = '\0';
	return 0;
}

static void read_ll(int nsfd, const char *key, int field, long long *v, struct tune_evidence *ev,
		    unsigned int bit)
{
	if (!sysctl__read_ll(nsfd, key, field, v))
		ev->known |= bit;
}

static void read_triple(int nsfd, const char *key, long long v[3], struct tune_evidence *ev,
			unsigned int bit)
{
	for (int i = 0; i < 3; i++)
		if (sysctl__read_ll(nsfd, key, i, &v[i]))
			return;
	ev->known |= bit;
}

static void read_sysctls(int nsfd, int init_nsfd, struct tune_evidence *ev)
{
	long long lo, hi;

	read_ll(nsfd, "net.core.somaxconn", 0, &ev->somaxconn, ev, TK_SOMAXCONN);
	read_ll(nsfd, "net.ipv4.tcp_max_syn_backlog", 0, &ev->max_syn_backlog, ev, TK_SYN_BACKLOG);
	read_ll(nsfd, "net.ipv4.tcp_syncookies", 0, &ev->syncookies, ev, TK_SYNCOOKIES);
	read_ll(nsfd, "net.ipv4.tcp_tw_reuse", 0, &ev->tw_reuse, ev, TK_TW_REUSE);
	read_triple(nsfd, "net.ipv4.tcp_rmem", ev->tcp_rmem, ev, TK_TCP_RMEM);
	if (!sysctl__read_ll(nsfd, "net.ipv4.ip_local_port_range", 0, &lo) &&
	    !sysctl__read_ll(nsfd, "net.ipv4.ip_local_port_range", 1, &hi)) {
		ev->port_lo = lo;
		ev->port_hi = hi;
		ev->known |= TK_PORT_RANGE;
	}
	/* Global keys are absent (or read-only mirrors) elsewhere: read them
	 * where they live, or not at all. */
	if (init_nsfd < 0)
		return;
	read_ll(init_nsfd, "net.core.netdev_max_backlog", 0, &ev->netdev_max_backlog, ev,
		TK_NETDEV_BACKLOG);
	read_triple(init_nsfd, "net.ipv4.tcp_mem", ev->tcp_mem, ev, TK_TCP_MEM);
}

static void read_counts(int nsfd, struct tune_evidence *ev)
{
	struct sockstat_call c;
	struct netstat ns = {};
	long pages = sysconf(_SC_PHYS_PAGES), cpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool found = false;

	if (!netns__run_in(nsfd, read_sockstat, &c) &&
	    !tunecollect__parse_sockstat(c.text, &ev->tcp_sockets))
		ev->known |= TK_TCP_SOCKETS;
	if (!netstat__read(nsfd, &ns)) {
		ev->mem_pressures = netstat__get(&ns, "TcpExt", "TCPMemoryPressures", &found);
		if (found)
			ev->known |= TK_MEM_PRESSURES;
	}
	netstat__free(&ns);
	if (pages > 0) {
		ev->mem_pages = (__u64)pages;
		ev->known |= TK_MEM_PAGES;
	}
	ev->ncpus = cpus > 0 ? (int)cpus : 1;
}

int tunecollect__namespace(int nsfd, int init_nsfd, struct tune_evidence *ev)
{
	read_sysctls(nsfd, init_nsfd, ev);
	read_counts(nsfd, ev);
	return 0;
}
