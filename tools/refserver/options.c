// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "opts.h"
#include "refserver.h"

static const char usage_text[] =
"Usage: refserver [OPTIONS]\n"
"\n"
"The reference HTTP/1.1 server of nettune: GET and HEAD, keep-alive and\n"
"Connection: close, one epoll loop per worker thread. Every GET gets a 200\n"
"with a body of --body-size bytes. Runs until SIGTERM/SIGINT (or -d), then\n"
"shuts down gracefully and prints statistics to stdout.\n"
"\n"
"Listening:\n"
"      --addr ADDR            IPv4 or IPv6 address to listen on (127.0.0.1)\n"
"      --port PORT            TCP port, 0 for any free one (8080)\n"
"      --backlog N            listen() backlog, passed as given (511); the\n"
"                             kernel caps it at net.core.somaxconn\n"
"  -w, --workers N            worker threads (1)\n"
"      --reuseport            one SO_REUSEPORT listener per worker instead of\n"
"                             one shared listener\n"
"      --rcvbuf BYTES         SO_RCVBUF of every connection (kernel default)\n"
"      --sndbuf BYTES         SO_SNDBUF of every connection (kernel default)\n"
"\n"
"Behaviour:\n"
"      --accept-delay-us US   after each accept, accept nothing else for US\n"
"                             microseconds (a slow accept loop); established\n"
"                             connections are still served\n"
"      --handler-delay-us US  hold each 200 response US microseconds\n"
"      --body-size BYTES      body of each 200 response (64)\n"
"      --max-header BYTES     longest request head; longer gets 431 (8192)\n"
"      --idle-timeout SEC     close keep-alive connections idle this long, and\n"
"                             clients that stop reading a response (30)\n"
"      --header-timeout SEC   a request head must arrive within SEC of its first\n"
"                             byte, or the connection is closed (10)\n"
"      --grace SEC            graceful shutdown limit (5)\n"
"  -d, --duration SEC         stop by itself after SEC seconds\n"
"\n"
"Output:\n"
"      --json                 statistics as JSON (see docs/refserver.md)\n"
"  -v, --verbose              more diagnostics on stderr\n"
"  -h, --help                 this text\n"
"\n"
"Exit status: 0 after a clean shutdown, 1 on a runtime failure, 2 on bad usage.\n"
"\n"
"EXAMPLES\n"
"  refserver --port 8080 --workers 2\n"
"      serve on 127.0.0.1:8080 with two threads sharing one listener\n"
"  refserver --addr 0.0.0.0 --reuseport --workers 4 --backlog 4096\n"
"      four SO_REUSEPORT listeners, each with a 4096-entry queue\n"
"  refserver --backlog 8 --accept-delay-us 20000\n"
"      a slow accept loop behind a short queue: listen overflows under load\n"
"  refserver --port 0 --json -d 10 > stats.json\n"
"      any free port (printed on stderr), statistics as JSON after 10 s\n";

enum {
	OPT_ADDR = 256, OPT_PORT, OPT_BACKLOG, OPT_REUSEPORT, OPT_RCVBUF, OPT_SNDBUF,
	OPT_ACCEPT_DELAY, OPT_HANDLER_DELAY, OPT_BODY, OPT_MAX_HEADER, OPT_IDLE,
	OPT_HEADER_TO, OPT_GRACE, OPT_JSON,
};

static const struct option long_opts[] = {
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "workers", required_argument, NULL, 'w' },
	{ "reuseport", no_argument, NULL, OPT_REUSEPORT },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "sndbuf", required_argument, NULL, OPT_SNDBUF },
	{ "accept-delay-us", required_argument, NULL, OPT_ACCEPT_DELAY },
	{ "handler-delay-us", required_argument, NULL, OPT_HANDLER_DELAY },
	{ "body-size", required_argument, NULL, OPT_BODY },
	{ "max-header", required_argument, NULL, OPT_MAX_HEADER },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "header-timeout", required_argument, NULL, OPT_HEADER_TO },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "duration", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_addr(struct rs_opts *o, const char *s)
{
	int err = opts__ip_addr("--addr", s, &o->addr, &o->addr_len);

	if (!err)
		snprintf(o->addr_str, sizeof(o->addr_str), "%s", s);
	return err;
}

static int parse_us(const char *opt, const char *s, uint64_t *ns)
{
	uint64_t us;
	int err = opts__u64(opt, s, 0, 60000000, &us);	/* up to a minute */

	if (!err)
		*ns = us * 1000;
	return err;
}

static int parse_sec(const char *opt, const char *s, double max, uint64_t *ns)
{
	uint64_t ms;
	int err = opts__seconds(opt, s, max, &ms);

	if (!err)
		*ns = ms * 1000000;
	return err;
}

static int parse_one(struct rs_opts *o, int c, const char *arg)
{
	uint64_t v;
	int err;

	switch (c) {
	case OPT_ADDR: return parse_addr(o, arg);
	case OPT_PORT:
		err = opts__u64("--port", arg, 0, 65535, &v);
		o->port = (int)v;
		return err;
	case OPT_BACKLOG: return opts__int("--backlog", arg, 0, INT_MAX, &o->backlog);
	case 'w': return opts__int("--workers", arg, 1, RS_MAX_WORKERS, &o->workers);
	case OPT_REUSEPORT: o->reuseport = true; return 0;
	case OPT_RCVBUF: return opts__int("--rcvbuf", arg, 1, INT_MAX / 2, &o->rcvbuf);
	case OPT_SNDBUF: return opts__int("--sndbuf", arg, 1, INT_MAX / 2, &o->sndbuf);
	case OPT_ACCEPT_DELAY: return parse_us("--accept-delay-us", arg, &o->accept_delay_ns);
	case OPT_HANDLER_DELAY:
		return parse_us("--handler-delay-us", arg, &o->handler_delay_ns);
	case OPT_BODY:
		err = opts__u64("--body-size", arg, 0, 1U << 30, &v);
		o->body_size = (uint32_t)v;
		return err;
	case OPT_MAX_HEADER:
		err = opts__u64("--max-header", arg, 64, 1U << 20, &v);
		o->max_header = (uint32_t)v;
		return err;
	case OPT_IDLE: return parse_sec("--idle-timeout", arg, 86400, &o->idle_timeout_ns);
	case OPT_HEADER_TO:
		return parse_sec("--header-timeout", arg, 86400, &o->header_timeout_ns);
	case OPT_GRACE: return parse_sec("--grace", arg, 3600, &o->grace_ns);
	case 'd': return opts__seconds("--duration", arg, 31 * 86400, &o->duration_ms);
	case OPT_JSON: o->json = true; return 0;
	case 'v': o->verbose++; return 0;
	}
	return -EINVAL;
}

static void set_defaults(struct rs_opts *o)
{
	memset(o, 0, sizeof(*o));
	parse_addr(o, "127.0.0.1");
	o->port = 8080;
	o->backlog = 511;	/* what nginx and Node use */
	o->workers = 1;
	o->body_size = 64;
	o->max_header = 8192;
	o->idle_timeout_ns = 30 * 1000000000ULL;
	o->header_timeout_ns = 10 * 1000000000ULL;
	o->grace_ns = 5 * 1000000000ULL;
}

int rs_opts__parse(struct rs_opts *o, int argc, char **argv)
{
	int c, err;

	set_defaults(o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":w:d:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case '?':
		case ':':
			return opts__getopt_error(c, argv, "--help");
		default:
			err = parse_one(o, c, optarg);
			if (err)
				return -EINVAL;
		}
	}
	if (optind < argc) {
		warn("unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	return 0;
}
