// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test server with the knobs the integration tests need: a listen backlog,
 * an accept schedule (one accept every N ms, or never), TCP_DEFER_ACCEPT,
 * a pause between data becoming readable and reading it, a blocking read
 * right after accept, reads of a file and a pipe between socket reads
 * (which a socket-read probe must not count), and closing a connection as
 * soon as its data arrives, unread; and several SO_REUSEPORT listeners on
 * one port (with --no-accept only). It prints
 * "listening" once ready and what it did as JSON when it gets SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "opts.h"
#include "log.h"

static volatile sig_atomic_t stop;

struct server_opts {
	uint16_t port;
	int backlog, accept_every_ms, no_accept, defer_accept, read_delay_ms, start_delay_ms;
	int block_read, read_file_and_pipe, close_unread, reuseport;
	int write_before_read;	/* --write-before-read: see serve_one() */
	int messages;	/* --messages: serve() reads this many, acking each */
	int partial_first;	/* --partial-first B: see serve_partial() */
};

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);	/* EINTR ends it early: we are stopping */
}

static int listen_on(const struct server_opts *o)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(o->port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (o->defer_accept)
		setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &o->defer_accept, sizeof(int));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, o->backlog)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Reads that are not socket reads: a regular file and a pipe. */
static void read_file_and_pipe(void)
{
	char buf[256];
	int fd = open("/proc/self/stat", O_RDONLY), p[2];

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf)) < 0)
			warn("read file: %s", strerror(errno));
		close(fd);
	}
	if (pipe(p) == 0) {
		if (write(p[1], "x", 1) != 1 || read(p[0], buf, 1) != 1)
			warn("pipe: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
	}
}

/* Unless blocking: waits for data, pauses read_delay_ms (the "slow
 * application"), then reads once. */
static long serve_one(int c, const struct server_opts *o)
{
	struct pollfd p = { .fd = c, .events = POLLIN };
	char buf[4096];
	long n;

	if (!o->block_read && poll(&p, 1, 5000) <= 0)
		return 0;
	if (o->close_unread)
		return 0;	/* the caller closes it, its data unread */
	/* A byte sent while the data waits: the client's ACK of it moves this
	 * socket's send state (snd_una, and snd_up with it) between the
	 * data's arrival and its read, as in any full-duplex exchange. */
	if (o->write_before_read && write(c, "w", 1) != 1)
		return 0;
	if (o->read_delay_ms)
		sleep_ms(o->read_delay_ms);
	if (o->read_file_and_pipe)
		read_file_and_pipe();
	n = read(c, buf, sizeof(buf));
	if (o->read_file_and_pipe)
		read_file_and_pipe();
	return n > 0 ? n : 0;
}

/* --partial-first B: the first message is read B bytes at first, the rest
 * left unread; once more data arrived (the client's next message), after
 * read_delay_ms, everything is read at once and acked. */
static long serve_partial(int c, const struct server_opts *o)
{
	struct pollfd p = { .fd = c, .events = POLLIN };
	char buf[4096];
	int left = 0, now = 0;
	long n, m;

	if (poll(&p, 1, 5000) <= 0)
		return 0;
	if (o->read_delay_ms)
		sleep_ms(o->read_delay_ms);
	n = read(c, buf, (size_t)o->partial_first);
	if (n <= 0 || ioctl(c, FIONREAD, &left) < 0)
		return 0;
	for (int i = 0; i < 5000 && !stop; i++) {
		if (ioctl(c, FIONREAD, &now) < 0 || now > left)
			break;
		sleep_ms(1);
	}
	if (now <= left)
		return n;
	if (o->read_delay_ms)
		sleep_ms(o->read_delay_ms);
	m = read(c, buf, sizeof(buf));
	if (m > 0 && write(c, "k", 1) != 1)
		return n;
	return m > 0 ? n + m : n;
}

/* --messages N: N messages on one connection, each read as above and
 * answered with one byte, after which the client sends the next. */
static long serve(int c, const struct server_opts *o)
{
	long n, bytes = 0;

	if (o->partial_first)
		return serve_partial(c, o);

	for (int i = 0; i < (o->messages ?: 1); i++) {
		if ((n = serve_one(c, o)) <= 0)
			break;
		bytes += n;
		if (o->messages && write(c, "k", 1) != 1)
			break;
	}
	return bytes;
}

static int parse(int argc, char **argv, struct server_opts *o)
{
	static const struct option lo[] = {
		{ "port", 1, NULL, 'P' }, { "backlog", 1, NULL, 'b' },
		{ "accept-every-ms", 1, NULL, 'e' }, { "no-accept", 0, NULL, 'N' },
		{ "defer-accept", 1, NULL, 'D' }, { "read-delay-ms", 1, NULL, 'r' },
		{ "start-delay-ms", 1, NULL, 's' }, { "block-read", 0, NULL, 'B' },
		{ "read-file-and-pipe", 0, NULL, 'F' }, { "close-unread", 0, NULL, 'U' },
		{ "reuseport", 1, NULL, 'R' }, { "messages", 1, NULL, 'M' },
		{ "partial-first", 1, NULL, 'p' }, { "write-before-read", 0, NULL, 'W' }, { 0 },
	};
	int c, err = 0;

	o->backlog = 128;
	while (!err && (c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'P': err = opts__port("--port", optarg, &o->port); break;
		case 'b': err = opts__int("--backlog", optarg, 0, 65535, &o->backlog); break;
		case 'e': err = opts__int("--accept-every-ms", optarg, 0, 60000, &o->accept_every_ms); break;
		case 'N': o->no_accept = 1; break;
		case 'D': err = opts__int("--defer-accept", optarg, 1, 600, &o->defer_accept); break;
		case 'r': err = opts__int("--read-delay-ms", optarg, 0, 60000, &o->read_delay_ms); break;
		case 's': err = opts__int("--start-delay-ms", optarg, 0, 60000, &o->start_delay_ms); break;
		case 'B': o->block_read = 1; break;
		case 'F': o->read_file_and_pipe = 1; break;
		case 'U': o->close_unread = 1; break;
		case 'R': err = opts__int("--reuseport", optarg, 1, 64, &o->reuseport); break;
		case 'M': err = opts__int("--messages", optarg, 1, 1000, &o->messages); break;
		case 'p': err = opts__int("--partial-first", optarg, 1, 4096, &o->partial_first); break;
		case 'W': o->write_before_read = 1; break;
		default: err = -EINVAL;
		}
	}
	if (err || !o->port || (o->reuseport && !o->no_accept)) {
		warn("usage: tcpserver --port P [--backlog N] [--accept-every-ms MS | --no-accept] "
		     "[--defer-accept SEC] [--read-delay-ms MS] [--block-read] [--read-file-and-pipe] "
		     "[--start-delay-ms MS] [--close-unread] [--reuseport N --no-accept] "
		     "[--messages N] [--partial-first BYTES] [--write-before-read]");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct server_opts o = {};
	long accepted = 0, bytes = 0;
	int lfd;

	log__init("tcpserver", LOG_WARN);
	if (parse(argc, argv, &o))
		return EXIT_USAGE;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	lfd = listen_on(&o);
	/* The other SO_REUSEPORT listeners: held open, never accepted from. */
	for (int i = 1; lfd >= 0 && i < o.reuseport; i++) {
		int extra = listen_on(&o);

		if (extra < 0) {
			close(lfd);
			lfd = extra;
		}
	}
	if (lfd < 0) {
		warn("port %u: %s", o.port, strerror(-lfd));
		return EXIT_RUNTIME;
	}
	printf("listening on port %u backlog %d\n", o.port, o.backlog);
	fflush(stdout);
	if (o.start_delay_ms)
		sleep_ms(o.start_delay_ms);
	while (!stop) {
		int c;

		if (o.no_accept) {
			pause();
			continue;
		}
		c = accept(lfd, NULL, NULL);
		if (c < 0)
			continue;
		accepted++;
		if (o.read_delay_ms || o.block_read || o.read_file_and_pipe || o.close_unread ||
		    o.write_before_read)
			bytes += serve(c, &o);
		close(c);
		if (o.accept_every_ms)
			sleep_ms(o.accept_every_ms);
	}
	printf("{\"accepted\":%ld,\"bytes\":%ld}\n", accepted, bytes);
	close(lfd);
	return 0;
}
