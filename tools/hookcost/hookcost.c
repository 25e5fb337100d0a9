// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * hookcost: what a few kernel operations cost, in ns each, so that `make
 * bench` can tell what being attached to a hook adds to the operations that
 * hit it. bpf_stats counts only the time inside a BPF program; the dispatch
 * around it (a syscall tracepoint builds a record, every call is indirect)
 * is invisible to it, and on a VM with retpolines and page-table isolation
 * it is most of a hook's cost. Throughput runs see it, but within their
 * noise; a tight loop on one CPU does not have that noise.
 *
 *   hookcost [-n ITERATIONS] [-r REPEATS]
 *
 * Prints one JSON object: the fastest repeat of each loop, in ns per
 * operation:
 *   syscall     getppid(): a syscall nettune does not trace
 *   read_file   a 1-byte read() of /dev/zero: every read on the machine
 *               enters a read-family syscall, files included
 *   tcp_msg     a 1-byte write() on a loopback TCP connection and the recv()
 *               that takes it (TCP_NODELAY): an arrival, a read syscall, a
 *               socket read
 *   tcp_conn    connect(), accept4(), and both ends closed (the client with
 *               a reset, so that no TIME_WAIT socket piles up): one
 *               connection's life
 * Runs on loopback in the caller's network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "opts.h"

static void die(const char *what)
{
	fprintf(stderr, "hookcost: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

struct loopback {
	int listener;
	struct sockaddr_in addr;
};

static void loopback_listen(struct loopback *lo)
{
	socklen_t len = sizeof(lo->addr);

	memset(&lo->addr, 0, sizeof(lo->addr));
	lo->addr.sin_family = AF_INET;
	lo->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lo->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lo->listener < 0 || bind(lo->listener, (void *)&lo->addr, len) ||
	    listen(lo->listener, 16) || getsockname(lo->listener, (void *)&lo->addr, &len))
		die("loopback listener (is lo up in this namespace?)");
}

/* A connected pair: *client and *server. */
static void loopback_connect(const struct loopback *lo, int *client, int *server)
{
	*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*client < 0 || connect(*client, (const void *)&lo->addr, sizeof(lo->addr)))
		die("connect");
	*server = accept4(lo->listener, NULL, NULL, SOCK_CLOEXEC);
	if (*server < 0)
		die("accept4");
}

static void loop_syscall(long n)
{
	for (long i = 0; i < n; i++)
		getppid();
}

static void loop_read_file(long n, int zero)
{
	char b;

	for (long i = 0; i < n; i++)
		if (read(zero, &b, 1) != 1)
			die("read /dev/zero");
}

static void loop_tcp_msg(long n, int client, int server)
{
	char b = 'x';

	for (long i = 0; i < n; i++)
		if (write(client, &b, 1) != 1 || recv(server, &b, 1, 0) != 1)
			die("tcp write/recv");
}

static void loop_tcp_conn(long n, const struct loopback *lo)
{
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	int client, server;

	for (long i = 0; i < n; i++) {
		loopback_connect(lo, &client, &server);
		setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		close(client);
		close(server);
	}
}

enum { OP_SYSCALL, OP_READ_FILE, OP_TCP_MSG, OP_TCP_CONN, OP_NR };
static const char *const op_names[OP_NR] = { "syscall", "read_file", "tcp_msg", "tcp_conn" };
/* Iterations of each loop relative to -n: a connection costs ~50 syscalls. */
static const long op_share[OP_NR] = { 1, 1, 4, 40 };

/* A count from 1 to 10^8 (user/lib/cli/opts.c says what is wrong), or exit 2. */
static long parse_count(const char *flag, const char *s)
{
	uint64_t v;

	if (opts__u64(flag, s, 1, 100000000, &v))
		exit(2);
	return (long)v;
}

int main(int argc, char **argv)
{
	long n = 200000, repeats = 9;
	double best[OP_NR];
	struct loopback lo;
	int zero, client, server, c;

	log__init("hookcost", LOG_INFO);
	while ((c = getopt(argc, argv, "n:r:h")) != -1) {
		switch (c) {
		case 'n': n = parse_count("-n", optarg); break;
		case 'r': repeats = parse_count("-r", optarg); break;
		case 'h':
			printf("usage: hookcost [-n ITERATIONS] [-r REPEATS]\n"
			       "ns per getppid(), 1-byte read of /dev/zero, loopback TCP 1-byte\n"
			       "message, and loopback TCP connection; one JSON line on stdout\n");
			return 0;
		default:
			fprintf(stderr, "hookcost: usage: hookcost [-n ITERATIONS] [-r REPEATS]\n");
			return 2;
		}
	}
	zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (zero < 0)
		die("/dev/zero");
	loopback_listen(&lo);
	loopback_connect(&lo, &client, &server);
	c = 1;
	if (setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &c, sizeof(c)))
		die("TCP_NODELAY");
	for (int op = 0; op < OP_NR; op++)
		best[op] = 1e18;
	/* The loops interleave, so that a slow spell of the machine hits them
	 * all; the fastest repeat is the one least disturbed. */
	for (long r = 0; r < repeats; r++) {
		for (int op = 0; op < OP_NR; op++) {
			long iters = n / op_share[op];
			double t0 = now_ns(), ns;

			switch (op) {
			case OP_SYSCALL: loop_syscall(iters); break;
			case OP_READ_FILE: loop_read_file(iters, zero); break;
			case OP_TCP_MSG: loop_tcp_msg(iters, client, server); break;
			case OP_TCP_CONN: loop_tcp_conn(iters, &lo); break;
			}
			ns = (now_ns() - t0) / iters;
			if (ns < best[op])
				best[op] = ns;
		}
	}
	printf("{");
	for (int op = 0; op < OP_NR; op++)
		printf("%s\"%s\": %.1f", op ? ", " : "", op_names[op], best[op]);
	printf("}\n");
	return 0;
}
