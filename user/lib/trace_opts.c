// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "netns.h"
#include "opts.h"
#include "trace_opts.h"

enum { OPT_PORT = 0x100, OPT_NETNS, OPT_JSON, OPT_PROBES, OPT_UPROBE, OPT_MIN_US,
       OPT_READ_SYSCALL, OPT_FORCE_FALLBACK, OPT_EMPTY_PROGRAMS };

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "probes", required_argument, NULL, OPT_PROBES },
	{ "uprobe", required_argument, NULL, OPT_UPROBE },
	{ "min-us", required_argument, NULL, OPT_MIN_US },
	{ "read-syscall", no_argument, NULL, OPT_READ_SYSCALL },
	/* Not in --help: for tests of the paths degraded kernels take. */
	{ "force-fallback", no_argument, NULL, OPT_FORCE_FALLBACK },
	/* Not in --help: the floor `make bench` compares nettune with. */
	{ "empty-programs", no_argument, NULL, OPT_EMPTY_PROGRAMS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

void trace_opts__usage(FILE *out, const char *const *probe_names, int nprobes)
{
	fprintf(out,
"Usage: nettune trace [OPTIONS]\n"
"Measure TCP latencies and drops with in-kernel histograms; report at the end\n"
"(or every interval) on the terminal or as JSON.\n\n"
"  -p, --pid PID        only this process's sockets (repeatable)\n"
"      --port PORT      only this port: local for listeners, remote for\n"
"                       connects (repeatable)\n"
"      --netns NS       only this network namespace: a pid or a path such as\n"
"                       /run/netns/NAME (default: every namespace)\n"
"  -i, --interval SEC   report every SEC seconds\n"
"  -d, --duration SEC   stop after SEC seconds (default: at SIGINT/SIGTERM)\n"
"      --json           one JSON object per report on stdout (docs/json.md)\n"
"      --min-us N       also log each connect or accept slower than N us\n"
"                       (pid, comm, addresses, latency; lost ones are counted)\n"
"      --read-syscall   read family: also time each read-family syscall on\n"
"                       TCP sockets (read_syscall). Off by default: it hooks\n"
"                       read(), recv() and the like for every process on the\n"
"                       host, files included (docs/benchmarks.md)\n"
"      --probes LIST    comma-separated families (default: all):");
	for (int i = 0; i < nprobes; i++)
		fprintf(out, "%s%s", i ? "," : " ", probe_names[i]);
	fprintf(out, "\n"
"      --uprobe PATH:SYMBOL[:uretprobe]\n"
"                       latency of any function of an ELF binary (repeatable;\n"
"                       Go functions are probed at each RET, never with a\n"
"                       uretprobe, which is refused for Go)\n"
"  -v, --verbose        libbpf and debug messages on stderr\n"
"  -h, --help           this help\n\n"
"EXAMPLES\n"
"  nettune trace -d 10                    everything for 10 s, then a report\n"
"  nettune trace -p 4242 -i 1             one process, a report every second\n"
"  nettune trace --port 443 --json -d 30  one port, as JSON\n"
"  nettune trace --netns /run/netns/blue  one network namespace until Ctrl-C\n"
"  nettune trace --min-us 100000 -i 10    log connections slower than 100 ms\n"
"  nettune trace --probes read --read-syscall -d 10\n"
"                                         read_wait and each read syscall's time\n");
}

static int parse_probes(const char *arg, struct trace_opts *o, const char *const *names, int n)
{
	char list[256], *save = NULL, *tok;

	snprintf(list, sizeof(list), "%s", arg);	/* strtok writes; argv stays as given */
	o->probes = 0;
	o->probes_explicit = true;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < n; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == n) {
			warn("--probes: unknown probe family '%s' (see nettune trace --help)", tok);
			return -EINVAL;
		}
		o->probes |= 1u << i;
	}
	if (!o->probes) {
		warn("--probes: empty list");
		return -EINVAL;
	}
	return 0;
}

static int add_pid(struct trace_opts *o, const char *arg)
{
	int pid, err;

	if (o->npids == FILTER_MAX_PIDS) {
		warn("-p: at most %d pids", FILTER_MAX_PIDS);
		return -E2BIG;
	}
	err = opts__pid("-p", arg, &pid);
	if (!err)
		o->pids[o->npids++] = (__u32)pid;
	return err;
}

static int add_port(struct trace_opts *o, const char *arg)
{
	if (o->nports == FILTER_MAX_PORTS) {
		warn("--port: at most %d ports", FILTER_MAX_PORTS);
		return -E2BIG;
	}
	return opts__port("--port", arg, &o->ports[o->nports++]);
}

static int add_uprobe(struct trace_opts *o, const char *arg)
{
	const char *colon = strrchr(arg, ':');

	if (o->nuprobes == TRACE_MAX_UPROBES) {
		warn("--uprobe: at most %d functions", TRACE_MAX_UPROBES);
		return -E2BIG;
	}
	if (!colon || colon == arg || !colon[1]) {
		warn("--uprobe: '%s' is not PATH:SYMBOL", arg);
		return -EINVAL;
	}
	o->uprobes[o->nuprobes++] = arg;
	return 0;
}

/* The bit of a family in trace_opts.probes; 0 if this build has none. */
static __u32 family_bit(const char *family, const char *const *names, int n)
{
	for (int i = 0; i < n && i < 32; i++)
		if (!strcmp(names[i], family))
			return 1u << i;
	return 0;
}

static int parse_one(int c, struct trace_opts *o, const char *const *names, int n)
{
	switch (c) {
	case 'p': return add_pid(o, optarg);
	case OPT_PORT: return add_port(o, optarg);
	case OPT_NETNS: return netns__resolve(optarg, &o->netns);
	case 'i': return opts__seconds("-i", optarg, 86400, &o->interval_ms);
	case 'd': return opts__seconds("-d", optarg, 31 * 86400, &o->duration_ms);
	case OPT_JSON: o->json = true; return 0;
	case OPT_FORCE_FALLBACK: o->force_fallback = true; return 0;
	case OPT_EMPTY_PROGRAMS: o->empty_programs = true; return 0;
	case OPT_READ_SYSCALL: o->read_syscall = true; return 0;
	case OPT_PROBES: return parse_probes(optarg, o, names, n);
	case OPT_UPROBE: return add_uprobe(o, optarg);
	case OPT_MIN_US: return opts__u64("--min-us", optarg, 1, 3600ULL * 1000000, &o->min_us);
	case 'v': o->verbose = true; return 0;
	case 'h': return TRACE_PARSE_HELP;
	default: return -EINVAL;	/* getopt printed nothing: see opterr */
	}
}

int trace_opts__parse(int argc, char **argv, struct trace_opts *o,
		      const char *const *names, int n)
{
	int c, err;

	memset(o, 0, sizeof(*o));
	o->probes = n >= 32 ? ~0u : (1u << n) - 1;
	optind = 1;
	opterr = 0;	/* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, ":p:i:d:vh", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return opts__getopt_error(c, argv, "nettune trace --help");
		err = parse_one(c, o, names, n);
		if (err)
			return err;
	}
	if (optind < argc) {
		warn("trace: unexpected argument '%s' (see nettune trace --help)", argv[optind]);
		return -EINVAL;
	}
	/* Naming a function to probe selects the family that probes it. */
	if (o->nuprobes)
		o->probes |= family_bit("uprobe", names, n);
	if (o->read_syscall && !(o->probes & family_bit("read", names, n))) {
		warn("--read-syscall: the read family is not selected (see --probes)");
		return -EINVAL;
	}
	if (o->interval_ms && o->duration_ms && o->interval_ms > o->duration_ms)
		info("-i is longer than -d: only the final report will show");
	return TRACE_PARSE_OK;
}
