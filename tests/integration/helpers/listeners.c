// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test helper for user/lib/sys/sockdiag.c: prints the TCP listeners of a network
 * namespace (a path such as /run/netns/x, or none for the current one), one
 * per line:
 *   ADDR PORT QUEUE LIMIT DROPS OWNER_PID ENDPOINT INODE COOKIE
 * OWNER_PID is -1 when no process holds the socket; ENDPOINT is
 * sockdiag__format_addr()'s "addr:port"; COOKIE is hex, as `ss -e` prints
 * it after "sk:". Integration tests compare these with what ss reports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "opts.h"
#include "sockdiag.h"

static void print_listener(const struct sockdiag_listener *l)
{
	char addr[INET6_ADDRSTRLEN] = "?", ep[INET6_ADDRSTRLEN + 16], comm[16];
	int pid = -1;

	inet_ntop(l->family, l->addr, addr, sizeof(addr));
	sockdiag__format_addr(l, ep, sizeof(ep));
	if (sockdiag__owner(l->inode, &pid, comm))
		pid = -1;
	printf("%s %u %u %u %u %d %s %u %llx\n", addr, l->port, l->queue, l->limit, l->drops, pid,
	       ep, l->inode, (unsigned long long)l->cookie);
}

int main(int argc, char **argv)
{
	struct sockdiag_listener *ls = NULL;
	int nsfd = -1, err, ret = EXIT_RUNTIME;
	size_t n = 0;

	log__init("listeners", LOG_WARN);
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		warn("usage: listeners [NETNS_PATH]");
		return EXIT_USAGE;
	}
	if (argc == 2) {
		nsfd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (nsfd < 0) {
			warn("%s: %s", argv[1], strerror(errno));
			goto out;
		}
	}
	err = sockdiag__listeners(nsfd, &ls, &n);
	if (err) {
		warn("cannot list listeners: %s", strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		print_listener(&ls[i]);
	ret = 0;
out:
	free(ls);
	if (nsfd >= 0)
		close(nsfd);
	return ret;
}
