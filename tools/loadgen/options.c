// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "opts.h"
#include "loadgen.h"

static const char usage_text[] =
"Usage: loadgen [OPTIONS]\n"
"\n"
"Drives TCP connections or HTTP/1.1 requests at a server and measures, from\n"
"the client side, connect and response latency and errors by kind. With -r\n"
"the load is open-loop: each operation has an intended start time and its\n"
"latency counts from then, so a stalled server cannot hide its stalls.\n"
"\n"
"Load:\n"
"  -m, --mode MODE        connect         open a connection and close it\n"
"                         http-close      one GET per connection\n"
"                         http-keepalive  GETs over -c persistent connections\n"
"                         (default http-keepalive)\n"
"  -r, --rate N           operations per second, in all threads (connections,\n"
"                         or requests with http-keepalive); 0 or absent: closed\n"
"                         loop, each slot starts again as soon as it is done\n"
"  -c, --concurrency N    operations in flight at most; http-keepalive: the\n"
"                         number of connections (64)\n"
"  -d, --duration SEC     how long to start operations (10)\n"
"  -n, --count N          start at most N operations\n"
"  -t, --threads N        threads, each with its share of -r, -c, -n (1)\n"
"      --timeout SEC      an operation not done within SEC fails as a timeout (5)\n"
"      --rst              close connections with RST (SO_LINGER 0), leaving no\n"
"                         TIME_WAIT behind: for connect rates beyond what the\n"
"                         ephemeral port range allows\n"
"\n"
"Target:\n"
"      --addr ADDR        server IPv4 or IPv6 address (127.0.0.1)\n"
"      --port PORT        server port (8080)\n"
"      --path PATH        request target (/)\n"
"      --host HOST        Host header (the address)\n"
"\n"
"Output:\n"
"      --json             results as JSON on stdout (see docs/loadgen.md)\n"
"      --buckets          with --json: the non-empty histogram buckets too\n"
"  -v, --verbose          more diagnostics on stderr\n"
"  -h, --help             this text\n"
"\n"
"Exit status: 0 when the run completed (whatever the server did), 1 on a\n"
"runtime failure of loadgen itself, 2 on bad usage.\n"
"\n"
"EXAMPLES\n"
"  loadgen --port 8080 -c 100 -d 10\n"
"      keep-alive GETs over 100 connections, as fast as the server answers\n"
"  loadgen -m http-keepalive -r 20000 -c 200 -d 30 --json > run.json\n"
"      20,000 requests/s open-loop; latency from each intended start\n"
"  loadgen -m connect -r 2000 -c 2000 -d 2 --timeout 3\n"
"      a burst of 2,000 connections/s: shows listen-queue overflows as\n"
"      timeouts and connects delayed by SYN retransmission (>= 1 s)\n"
"  loadgen -m http-close -t 2 -c 200 -d 5 --rst\n"
"      the highest connection-per-request rate two threads can drive\n";

enum {
	OPT_ADDR = 256, OPT_PORT, OPT_TIMEOUT, OPT_PATH, OPT_HOST, OPT_RST, OPT_JSON,
	OPT_BUCKETS,
};

static const struct option long_opts[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "rate", required_argument, NULL, 'r' },
	{ "concurrency", required_argument, NULL, 'c' },
	{ "duration", required_argument, NULL, 'd' },
	{ "count", required_argument, NULL, 'n' },
	{ "threads", required_argument, NULL, 't' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "rst", no_argument, NULL, OPT_RST },
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "buckets", no_argument, NULL, OPT_BUCKETS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *const mode_names[] = {
	[LG_CONNECT] = "connect",
	[LG_HTTP_CLOSE] = "http-close",
	[LG_HTTP_KEEPALIVE] = "http-keepalive",
};

const char *lg_mode__name(enum lg_mode m)
{
	return mode_names[m];
}

static int parse_mode(struct lg_opts *o, const char *s)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(s, mode_names[i])) {
			o->mode = (enum lg_mode)i;
			return 0;
		}
	warn("--mode: '%s' is not one of connect, http-close, http-keepalive", s);
	return -EINVAL;
}

static int parse_rate(struct lg_opts *o, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || isnan(v)) {
		warn("--rate: '%s' is not a number", s);
		return -EINVAL;
	}
	if (errno == ERANGE || v < 0 || v > 10e6) {
		warn("--rate: %s is out of range [0, 10000000] per second", s);
		return -ERANGE;
	}
	o->rate = v;
	return 0;
}

static int parse_addr(struct lg_opts *o, const char *s)
{
	int err = opts__ip_addr("--addr", s, &o->addr, &o->addr_len);

	if (!err)
		snprintf(o->addr_str, sizeof(o->addr_str), "%s", s);
	return err;
}

static int parse_text(const char *opt, const char *s, const char **out)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			warn("%s: '%s' contains spaces or control characters", opt, s);
			return -EINVAL;
		}
	if (!*s) {
		warn("%s: empty", opt);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

static int parse_sec(const char *opt, const char *s, double max, uint64_t *ns)
{
	uint64_t ms;
	int err = opts__seconds(opt, s, max, &ms);

	if (!err)
		*ns = ms * 1000000;
	return err;
}

static int parse_one(struct lg_opts *o, int c, const char *arg)
{
	uint64_t v;
	int err;

	switch (c) {
	case 'm': return parse_mode(o, arg);
	case 'r': return parse_rate(o, arg);
	case 'c':
		err = opts__u64("--concurrency", arg, 1, 1000000, &v);
		o->conc = (uint32_t)v;
		return err;
	case 'd': return parse_sec("--duration", arg, 86400, &o->duration_ns);
	case 'n': return opts__u64("--count", arg, 1, UINT64_MAX / 2, &o->count);
	case 't': return opts__int("--threads", arg, 1, LG_MAX_THREADS, &o->threads);
	case OPT_TIMEOUT: return parse_sec("--timeout", arg, 3600, &o->timeout_ns);
	case OPT_RST: o->rst = true; return 0;
	case OPT_ADDR: return parse_addr(o, arg);
	case OPT_PORT:
		err = opts__u64("--port", arg, 1, 65535, &v);
		o->port = (int)v;
		return err;
	case OPT_PATH: return parse_text("--path", arg, &o->path);
	case OPT_HOST: return parse_text("--host", arg, &o->host);
	case OPT_JSON: o->json = true; return 0;
	case OPT_BUCKETS: o->buckets = true; return 0;
	case 'v': o->verbose++; return 0;
	}
	return -EINVAL;
}

static void set_defaults(struct lg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = LG_HTTP_KEEPALIVE;
	parse_addr(o, "127.0.0.1");
	o->port = 8080;
	o->conc = 64;
	o->duration_ns = 10 * 1000000000ULL;
	o->timeout_ns = 5 * 1000000000ULL;
	o->threads = 1;
	o->path = "/";
}

static int check(struct lg_opts *o)
{
	if (o->conc < (uint32_t)o->threads) {
		warn("-c %u is less than -t %d: every thread needs a connection", o->conc,
		     o->threads);
		return -EINVAL;
	}
	if (o->path[0] != '/') {
		warn("--path: '%s' must start with '/'", o->path);
		return -EINVAL;
	}
	if (o->addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&o->addr)->sin6_port = htons((uint16_t)o->port);
	else
		((struct sockaddr_in *)&o->addr)->sin_port = htons((uint16_t)o->port);
	return 0;
}

int lg_opts__parse(struct lg_opts *o, int argc, char **argv)
{
	int c;

	set_defaults(o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:r:c:d:n:t:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case '?':
		case ':':
			return opts__getopt_error(c, argv, "--help");
		default:
			if (parse_one(o, c, optarg))
				return -EINVAL;
		}
	}
	if (optind < argc) {
		warn("unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	return check(o);
}
