// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test client: sends exactly N HTTP/1.1 GET requests over K keep-alive
 * connections (one thread each; with --close a new connection per request)
 * and prints its own view as JSON: 2xx, other statuses, errors, and the
 * request times it measured itself. wrk cannot send an exact count; the
 * integration tests compare this count with what nettune and the server saw.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "hist.h"
#include "opts.h"
#include "log.h"

#define MAX_CONNS	64
#define RESP_MAX	16384

struct get_opts {
	struct sockaddr_in dst;
	int n, conns, timeout_ms, close_each;
	const char *path;
};

struct worker {
	pthread_t thread;
	const struct get_opts *o;
	int ok, non2xx, errors;
	struct hist lat;
};

static atomic_int next_request;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static int dial(const struct get_opts *o)
{
	struct timeval tv = { o->timeout_ms / 1000, (o->timeout_ms % 1000) * 1000 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&o->dst, sizeof(o->dst))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Reads one response: headers, then Content-Length bytes of body. Returns
 * the status code, or -errno; *keep says whether the server keeps the
 * connection open. Chunked bodies are not expected from the fixture. */
static int read_response(int fd, bool *keep)
{
	char buf[RESP_MAX + 1], *end = NULL, *h;
	size_t have = 0, need;
	long clen = -1;
	int status;

	while (!end) {
		ssize_t r = read(fd, buf + have, RESP_MAX - have);

		if (r <= 0)
			return r ? -errno : -ECONNRESET;
		have += (size_t)r;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end && have == RESP_MAX)
			return -EMSGSIZE;
	}
	if (sscanf(buf, "HTTP/1.%*c %d", &status) != 1)
		return -EPROTO;
	*end = '\0';
	h = strcasestr(buf, "\r\ncontent-length:");
	if (h)
		clen = strtol(h + strlen("\r\ncontent-length:"), NULL, 10);
	*keep = !strcasestr(buf, "\r\nconnection: close");
	if (clen < 0)
		return -EPROTO;
	need = (size_t)(end + 4 - buf) + (size_t)clen;
	while (have < need) {
		char sink[4096];
		size_t want = need - have < sizeof(sink) ? need - have : sizeof(sink);
		ssize_t r = read(fd, sink, want);

		if (r <= 0)
			return r ? -errno : -ECONNRESET;
		have += (size_t)r;
	}
	return status;
}

static int one_request(struct worker *w, int *fd)
{
	const struct get_opts *o = w->o;
	char req[512];
	bool keep = false;
	int len, status;

	if (*fd < 0)
		*fd = dial(o);
	if (*fd < 0)
		return *fd;
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: test\r\n%s\r\n", o->path,
		       o->close_each ? "Connection: close\r\n" : "");
	if (write(*fd, req, (size_t)len) != len)
		status = -EIO;
	else
		status = read_response(*fd, &keep);
	if (status < 0 || !keep || o->close_each) {
		close(*fd);
		*fd = -1;
	}
	return status;
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	int fd = -1;

	while (atomic_fetch_add(&next_request, 1) < w->o->n) {
		__u64 t0 = now_ns();
		int status = one_request(w, &fd);

		if (status < 0) {
			warn("request: %s", strerror(-status));
			w->errors++;
			continue;
		}
		hist__record(&w->lat, now_ns() - t0);
		if (status >= 200 && status < 300)
			w->ok++;
		else
			w->non2xx++;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int parse(int argc, char **argv, struct get_opts *o)
{
	static const struct option lo[] = {
		{ "addr", 1, NULL, 'a' }, { "port", 1, NULL, 'P' }, { "requests", 1, NULL, 'n' },
		{ "conns", 1, NULL, 'c' }, { "timeout-ms", 1, NULL, 't' }, { "path", 1, NULL, 'u' },
		{ "close", 0, NULL, 'C' }, { 0 },
	};
	uint16_t port = 0;
	int c, err = 0;

	o->n = 1;
	o->conns = 1;
	o->timeout_ms = 5000;
	o->path = "/";
	o->dst.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &o->dst.sin_addr);
	while (!err && (c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a': err = inet_pton(AF_INET, optarg, &o->dst.sin_addr) == 1 ? 0 : -EINVAL; break;
		case 'P': err = opts__port("--port", optarg, &port); break;
		case 'n': err = opts__int("--requests", optarg, 1, 10000000, &o->n); break;
		case 'c': err = opts__int("--conns", optarg, 1, MAX_CONNS, &o->conns); break;
		case 't': err = opts__int("--timeout-ms", optarg, 1, 600000, &o->timeout_ms); break;
		case 'u': o->path = optarg; break;
		case 'C': o->close_each = 1; break;
		default: err = -EINVAL;
		}
	}
	o->dst.sin_port = htons(port);
	if (err || !port || strlen(o->path) > 256) {
		warn("usage: httpget --port P [--addr A] [--requests N] [--conns K] [--close] "
		     "[--path /P] [--timeout-ms MS]");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct worker w[MAX_CONNS] = {};
	struct get_opts o = {};
	struct hist all = {};
	struct hist_summary s;
	int ok = 0, non2xx = 0, errors = 0;

	log__init("httpget", LOG_WARN);
	if (parse(argc, argv, &o))
		return EXIT_USAGE;
	for (int i = 0; i < o.conns; i++) {
		w[i].o = &o;
		if (pthread_create(&w[i].thread, NULL, run_worker, &w[i])) {
			warn("cannot start thread %d", i);
			return EXIT_RUNTIME;
		}
	}
	for (int i = 0; i < o.conns; i++) {
		pthread_join(w[i].thread, NULL);
		ok += w[i].ok;
		non2xx += w[i].non2xx;
		errors += w[i].errors;
		hist__add(&all, &w[i].lat);
	}
	hist__summarize(&all, &s);
	printf("{\"requests\":%d,\"ok\":%d,\"non2xx\":%d,\"errors\":%d,\"p50_us\":%.3f,"
	       "\"p99_us\":%.3f,\"max_us\":%.3f}\n", o.n, ok, non2xx, errors,
	       s.p50_ns / 1e3, s.p99_ns / 1e3, s.max_ns / 1e3);
	return errors || non2xx ? EXIT_RUNTIME : 0;
}
