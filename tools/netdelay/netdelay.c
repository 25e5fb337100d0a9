// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* netdelay: bridge two interfaces, holding each frame a fixed delay and
 * dropping a share of them. A stand-in for tc netem on kernels built
 * without it (see docs/netdelay.md). main: parse -> setup -> run -> report. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "opts.h"
#include "netdelay.h"

static volatile sig_atomic_t exiting;

static const char usage[] =
"Usage: netdelay --dev-a IF --dev-b IF --delay-ms MS [--loss PCT] [--seed N]\n"
"                [--ready-file PATH] [-v] [-h]\n"
"\n"
"Bridge two network interfaces through packet sockets, holding every frame MS\n"
"milliseconds in each direction (round trip 2 x MS) and dropping PCT % of the\n"
"frames at random in each direction. A stand-in for tc netem on kernels without\n"
"it: run it in a namespace that holds the outer ends of two veth pairs.\n"
"\n"
"Options:\n"
"      --dev-a IF         first interface\n"
"      --dev-b IF         second interface\n"
"      --delay-ms MS      delay each way in ms, fractional allowed, 0 to 60000\n"
"      --loss PCT         share of frames dropped, per direction, 0 to 100 (default 0)\n"
"      --seed N           seed of the loss generator (default: from the clock)\n"
"      --ready-file PATH  create PATH once bridging; removed again on exit\n"
"  -v, --verbose          debug output\n"
"  -h, --help             show this help\n"
"\n"
"Runs until SIGINT or SIGTERM, then prints per-direction counts on stderr.\n"
"Exit status: 0 after a signal, 1 on a runtime failure, 2 on bad input.\n"
"\n"
"EXAMPLES:\n"
"  # 20 ms each way (40 ms round trip) between ra and rb:\n"
"  netdelay --dev-a ra --dev-b rb --delay-ms 20\n"
"  # 0.5 ms each way and 1% loss each way, the same drops on every run:\n"
"  netdelay --dev-a ra --dev-b rb --delay-ms 0.5 --loss 1 --seed 42\n"
"  # in a relay namespace, from a script that waits until it bridges:\n"
"  ip netns exec relay netdelay --dev-a ra --dev-b rb --delay-ms 15 \\\n"
"      --ready-file /tmp/nd.ready &\n"
"  while [ ! -e /tmp/nd.ready ]; do sleep 0.05; done\n";

static const struct option long_opts[] = {
	{ "dev-a", required_argument, NULL, 'a' },
	{ "dev-b", required_argument, NULL, 'b' },
	{ "delay-ms", required_argument, NULL, 'd' },
	{ "loss", required_argument, NULL, 'l' },
	{ "seed", required_argument, NULL, 's' },
	{ "ready-file", required_argument, NULL, 'r' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* A finite decimal in [0, max] (opts__seconds does not allow 0 and works in
 * whole ms, too coarse for sub-millisecond delays). */
static int parse_real(const char *opt, const char *s, double max, const char *unit, double *out)
{
	char *end;
	double v;

	if (!*s || isspace((unsigned char)*s)) {
		warn("%s: '%s' is not a number of %s", opt, s, unit);
		return -EINVAL;
	}
	errno = 0;
	v = strtod(s, &end);
	if (*end || isnan(v)) {
		warn("%s: '%s' is not a number of %s", opt, s, unit);
		return -EINVAL;
	}
	if (errno == ERANGE || v < 0 || v > max) {
		warn("%s: %s is out of range (0 to %g %s)", opt, s, max, unit);
		return -ERANGE;
	}
	*out = v;
	return 0;
}

/* Options whose absence parse_args must notice. */
enum { SEEN_DELAY = 1, SEEN_SEED = 2 };

/* One option; *seen collects SEEN_* bits. */
static int parse_opt(int c, const char *arg, struct nd_opts *o, unsigned int *seen)
{
	double v;
	int err = 0;

	switch (c) {
	case 'a':
	case 'b':
		o->dev[c - 'a'] = arg;
		break;
	case 'd':
		err = parse_real("--delay-ms", arg, ND_MAX_DELAY_MS, "milliseconds", &v);
		if (!err)
			o->delay_ns = (uint64_t)llround(v * 1e6);
		*seen |= SEEN_DELAY;
		break;
	case 'l':
		err = parse_real("--loss", arg, 100, "percent", &v);
		if (!err)
			o->loss = v / 100;
		break;
	case 's':
		err = opts__u64("--seed", arg, 0, UINT64_MAX, &o->seed);
		*seen |= SEEN_SEED;
		break;
	case 'r':
		o->ready_file = arg;
		break;
	case 'v':
		log__init("netdelay", LOG_DEBUG);
		break;
	}
	return err;
}

static int resolve_devs(struct nd_opts *o)
{
	static const char *const flag[2] = { "--dev-a", "--dev-b" };
	int i;

	for (i = 0; i < 2; i++) {
		if (!o->dev[i]) {
			warn("%s is required (see --help)", flag[i]);
			return -EINVAL;
		}
		o->ifindex[i] = (int)if_nametoindex(o->dev[i]);
		if (!o->ifindex[i]) {
			warn("%s: no interface '%s' in this network namespace", flag[i], o->dev[i]);
			return -ENODEV;
		}
	}
	if (o->ifindex[0] == o->ifindex[1]) {
		warn("--dev-a and --dev-b are both '%s': give two different interfaces", o->dev[0]);
		return -EINVAL;
	}
	return 0;
}

/* Different on every run unless --seed is given. */
static uint64_t clock_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
	       ((uint64_t)getpid() << 32);
}

/* 0 with *help false: run. 0 with *help true: usage printed, exit 0. */
static int parse_args(int argc, char **argv, struct nd_opts *o, bool *help)
{
	unsigned int seen = 0;
	int c, err = 0;

	memset(o, 0, sizeof(*o));
	*help = false;
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, ":vh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			*help = true;
			return 0;
		}
		err = (c == '?' || c == ':') ? opts__getopt_error(c, argv, "--help") : parse_opt(c, optarg, o, &seen);
	}
	if (err)
		return err;
	if (optind < argc) {
		warn("unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	if (!(seen & SEEN_DELAY)) {
		warn("--delay-ms is required (see --help)");
		return -EINVAL;
	}
	if (!(seen & SEEN_SEED))
		o->seed = clock_seed();
	return resolve_devs(o);
}

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

/* Blocked here, delivered only inside the relay's wait (see nd_relay__run).
 * No SA_RESTART: the wait must return so the loop sees the flag. */
static int signals_setup(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t set;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || sigaction(SIGINT, &sa, NULL) ||
	    sigaction(SIGTERM, &sa, NULL)) {
		err = -errno;
		warn("cannot set up signal handling: %s", strerror(-err));
		return err;
	}
	return 0;
}

static int ready_create(const char *path)
{
	char line[32];
	int fd, len, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		warn("%s: cannot create the ready file: %s", path, strerror(-err));
		return err;
	}
	len = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	errno = 0;
	if (write(fd, line, (size_t)len) != len) {
		err = errno ? -errno : -EIO;
		warn("%s: cannot write the ready file: %s", path, strerror(-err));
	}
	close(fd);
	/* A half-written file must not tell a waiting script "ready". */
	if (err)
		unlink(path);
	return err;
}

static void print_stats(struct nd_relay *r, const struct nd_opts *o)
{
	const struct nd_stats *st;
	int i;

	for (i = 0; i < 2; i++) {
		st = nd_relay__stats(r, i);
		info("%s -> %s: %llu received, %llu forwarded, %llu lost, %u held at exit",
		     o->dev[i], o->dev[!i], (unsigned long long)st->received,
		     (unsigned long long)st->forwarded, (unsigned long long)st->lost,
		     nd_relay__held(r, i));
		if (st->kernel_drops || st->queue_full || st->bad_size || st->send_errors)
			info("%s -> %s: also dropped %llu (receive buffer), %llu (queue full), "
			     "%llu (bad size), %llu (send failed)", o->dev[i], o->dev[!i],
			     (unsigned long long)st->kernel_drops,
			     (unsigned long long)st->queue_full, (unsigned long long)st->bad_size,
			     (unsigned long long)st->send_errors);
		if (!st->forwarded)
			continue;
		info("%s -> %s: sent %.1f us late on average, %.1f us at most; up to %u frames held",
		     o->dev[i], o->dev[!i], st->late_sum_ns / 1e3 / st->forwarded,
		     st->late_max_ns / 1e3, st->queue_peak);
		debug("%s -> %s: %llu frames held from the kernel's receive stamp", o->dev[i],
		      o->dev[!i], (unsigned long long)st->kernel_stamps);
	}
}

int main(int argc, char **argv)
{
	struct nd_relay *r = NULL;
	struct nd_opts o;
	bool help, ready = false;
	int err, rc = EXIT_RUNTIME;

	log__init("netdelay", LOG_INFO);
	err = parse_args(argc, argv, &o, &help);
	if (err || help) {
		rc = err ? EXIT_USAGE : 0;
		goto cleanup;
	}
	err = signals_setup();
	if (err)
		goto cleanup;
	err = nd_relay__open(&o, &r);
	if (err)
		goto cleanup;
	info("bridging %s <-> %s, delay %g ms each way, loss %g%%", o.dev[0], o.dev[1],
	     o.delay_ns / 1e6, o.loss * 100);
	debug("loss seed %llu", (unsigned long long)o.seed);
	if (o.ready_file) {
		err = ready_create(o.ready_file);
		if (err)
			goto cleanup;
		ready = true;
	}
	err = nd_relay__run(r, &exiting);
	if (!err)
		rc = 0;
cleanup:
	if (r)
		print_stats(r, &o);
	nd_relay__close(r);
	if (ready)
		unlink(o.ready_file);
	return rc;
}
