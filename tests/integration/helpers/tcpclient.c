// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test client: opens N TCP connections to ADDR:PORT (sequentially, or all at
 * once with --parallel), optionally sends a request after a pause, and prints
 * its own view as JSON: outcomes and the connect() times it measured itself.
 * This is one of the independent truths integration tests compare with.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "hist.h"
#include "opts.h"
#include "log.h"

struct client_opts {
	struct sockaddr_in dst;
	int n, parallel, timeout_ms, send_after_ms, hold_ms, wait_close;
	int gap_ms;	/* --gap-ms: messages this far apart, no acks awaited */
	int messages;	/* --messages: payloads per connection, each acked */
	const char *payload;
};

struct tally {
	int ok, refused, timeout, no_local_port, other;
	struct hist connect;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Nonblocking connect so one stuck handshake cannot exceed the timeout. */
static int start_connect(const struct client_opts *o)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&o->dst, sizeof(o->dst)) && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Waits until the batch's deadline at most: every socket of a batch started
 * together, so one timeout covers them all. */
static int finish_connect(int fd, __u64 deadline_ns)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	__u64 now = now_ns();
	int err = 0, wait_ms = now < deadline_ns ? (int)((deadline_ns - now) / 1000000) : 0;
	socklen_t len = sizeof(err);

	if (poll(&p, 1, wait_ms) == 0)
		return -ETIMEDOUT;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return -err;
}

static void count(struct tally *t, int err)
{
	if (!err)
		t->ok++;
	else if (err == -ECONNREFUSED || err == -ECONNRESET)
		t->refused++;
	else if (err == -ETIMEDOUT)
		t->timeout++;
	else if (err == -EADDRNOTAVAIL)
		t->no_local_port++;
	else
		t->other++;
}

/* The pauses apply once per batch: every connection of a batch waits the
 * same time, as if each client ran on its own. */
static void use_connections(const struct client_opts *o, const int *fds, int n)
{
	if (o->send_after_ms)
		sleep_ms(o->send_after_ms);
	for (int i = 0; o->payload && i < n; i++)
		if (fds[i] >= 0 && write(fds[i], o->payload, strlen(o->payload)) < 0)
			warn("write: %s", strerror(errno));
	/* --messages: each next payload once the server acked the last (and
	 * send_after_ms passed). */
	for (int i = 0; o->payload && i < n; i++) {
		for (int m = 1; fds[i] >= 0 && m < o->messages; m++) {
			struct pollfd p = { .fd = fds[i], .events = POLLIN };
			char ack;

			if (o->gap_ms) {
				sleep_ms(o->gap_ms);
			} else if (poll(&p, 1, o->timeout_ms) <= 0 || read(fds[i], &ack, 1) != 1) {
				warn("message %d: no ack", m + 1);
				break;
			}
			if (o->send_after_ms && !o->gap_ms)
				sleep_ms(o->send_after_ms);
			if (write(fds[i], o->payload, strlen(o->payload)) < 0)
				warn("write: %s", strerror(errno));
		}
	}
	if (o->hold_ms)
		sleep_ms(o->hold_ms);
	/* One request at a time: the server has read and closed before the
	 * next connection starts, so nothing queues behind a slow server. */
	for (int i = 0; o->wait_close && i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		char buf[256];

		while (fds[i] >= 0 && poll(&p, 1, o->timeout_ms) > 0 &&
		       read(fds[i], buf, sizeof(buf)) > 0)
			;
	}
}

static void run_batch(const struct client_opts *o, int n, struct tally *t)
{
	int fds[1024];
	__u64 start[1024], deadline;

	for (int i = 0; i < n; i++) {
		start[i] = now_ns();
		fds[i] = start_connect(o);
	}
	deadline = now_ns() + (__u64)o->timeout_ms * 1000000ULL;
	for (int i = 0; i < n; i++) {
		int err = fds[i] < 0 ? fds[i] : finish_connect(fds[i], deadline);

		if (!err)
			hist__record(&t->connect, now_ns() - start[i]);
		count(t, err);
	}
	use_connections(o, fds, n);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void print_json(const struct tally *t)
{
	struct hist_summary s;

	hist__summarize(&t->connect, &s);
	printf("{\"ok\":%d,\"refused\":%d,\"timeout\":%d,\"no_local_port\":%d,\"other\":%d,"
	       "\"connect_p50_us\":%.3f,\"connect_max_us\":%.3f}\n",
	       t->ok, t->refused, t->timeout, t->no_local_port, t->other, s.p50_ns / 1e3,
	       s.max_ns / 1e3);
}

static int parse(int argc, char **argv, struct client_opts *o)
{
	static const struct option lo[] = {
		{ "addr", 1, NULL, 'a' }, { "port", 1, NULL, 'P' }, { "count", 1, NULL, 'n' },
		{ "parallel", 0, NULL, 'j' }, { "timeout-ms", 1, NULL, 't' },
		{ "send-after-ms", 1, NULL, 's' }, { "hold-ms", 1, NULL, 'H' },
		{ "payload", 1, NULL, 'D' }, { "wait-close", 0, NULL, 'W' },
		{ "messages", 1, NULL, 'M' }, { "gap-ms", 1, NULL, 'g' }, { 0 },
	};
	uint16_t port = 0;
	int c, err = 0;

	o->n = 1;
	o->timeout_ms = 5000;
	o->dst.sin_family = AF_INET;
	while (!err && (c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a': err = inet_pton(AF_INET, optarg, &o->dst.sin_addr) == 1 ? 0 : -EINVAL; break;
		case 'P': err = opts__port("--port", optarg, &port); break;
		case 'n': err = opts__int("--count", optarg, 1, 1000000, &o->n); break;
		case 'j': o->parallel = 1; break;
		case 't': err = opts__int("--timeout-ms", optarg, 1, 600000, &o->timeout_ms); break;
		case 's': err = opts__int("--send-after-ms", optarg, 0, 600000, &o->send_after_ms); break;
		case 'H': err = opts__int("--hold-ms", optarg, 0, 600000, &o->hold_ms); break;
		case 'D': o->payload = optarg; break;
		case 'W': o->wait_close = 1; break;
		case 'M': err = opts__int("--messages", optarg, 1, 1000, &o->messages); break;
		case 'g': err = opts__int("--gap-ms", optarg, 1, 600000, &o->gap_ms); break;
		default: err = -EINVAL;
		}
	}
	o->dst.sin_port = htons(port);
	if (err || !port || !o->dst.sin_addr.s_addr || (o->parallel && o->n > 1024)) {
		warn("usage: tcpclient --addr A --port P [--count N] [--parallel] [--timeout-ms MS] "
		     "[--send-after-ms MS] [--payload S] [--hold-ms MS] [--wait-close] "
		     "[--messages N [--gap-ms MS]]");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct client_opts o = {};
	struct tally t = {};

	log__init("tcpclient", LOG_WARN);
	if (parse(argc, argv, &o))
		return EXIT_USAGE;
	if (o.parallel)
		run_batch(&o, o.n, &t);
	else
		for (int i = 0; i < o.n; i++)
			run_batch(&o, 1, &t);
	print_json(&t);
	return 0;
}
