// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "netns.h"
#include "cgroup.h"
#include "opts.h"
#include "trace_opts.h"
#include "optable.h"

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

/* The setters of the option tables: OPTS is a struct trace_parse. */
#define TP(v)	((struct trace_parse *)(v))

static int set_pid(void *v, const char *a) { return add_pid(TP(v)->o, a); }
static int set_port(void *v, const char *a) { return add_port(TP(v)->o, a); }
static int set_netns(void *v, const char *a)
{
	TP(v)->o->netns_arg = a;
	return netns__resolve(a, &TP(v)->o->netns);
}
static int set_cgroup(void *v, const char *a)
{
	struct trace_opts *o = TP(v)->o;

	return cgroup__add_filter(a, o->cgroups, o->cgroup_args, &o->ncgroups,
				  FILTER_MAX_CGROUPS);
}
static int set_uprobe(void *v, const char *a) { return add_uprobe(TP(v)->o, a); }
static int set_verbose(void *v, const char *a) { (void)a; TP(v)->o->verbose = true; return 0; }
static int set_json(void *v, const char *a) { (void)a; TP(v)->o->json = true; return 0; }
static int set_read_syscall(void *v, const char *a)
{
	(void)a;
	TP(v)->o->read_syscall = true;
	return 0;
}

static int set_force_fallback(void *v, const char *a)
{
	(void)a;
	TP(v)->o->force_fallback = true;
	return 0;
}

static int set_no_sk_storage(void *v, const char *a)
{
	(void)a;
	TP(v)->o->no_sk_storage = true;
	return 0;
}

static int set_empty_programs(void *v, const char *a)
{
	(void)a;
	TP(v)->o->empty_programs = true;
	return 0;
}

static int set_probes(void *v, const char *a)
{
	return parse_probes(a, TP(v)->o, TP(v)->names, TP(v)->n);
}

int trace_opts__set_interval(void *v, const char *a)
{
	return opts__seconds("-i", a, 86400, &TP(v)->o->interval_ms);
}

int trace_opts__set_duration(void *v, const char *a)
{
	return opts__seconds("-d", a, 31 * 86400, &TP(v)->o->duration_ms);
}

static int set_min_us(void *v, const char *a)
{
	return opts__u64("--min-us", a, 1, 3600ULL * 1000000, &TP(v)->o->min_us);
}

static void probe_names(void *v, FILE *out)
{
	for (int i = 0; i < TP(v)->n; i++)
		fprintf(out, "%s%s", i ? "," : " ", TP(v)->names[i]);
	fputc('\n', out);
}

const struct optable_opt trace_filter_opts[] = {
	{ "pid", 'p', "PID", "only this process's sockets (repeatable)", set_pid, NULL },
	{ "port", 0, "PORT", "only this port: local for listeners, remote for\n"
			     "connects (repeatable)", set_port, NULL },
	{ "netns", 0, "NS", "only this network namespace: a pid or a path such as\n"
			    "/run/netns/NAME (default: every namespace)", set_netns, NULL },
	{ "cgroup", 0, "PATH", "only sockets of this cgroup v2 and the cgroups below it\n"
			       "(repeatable): a path on the cgroup2 mount, or from\n"
			       "its root, e.g. /system.slice/nginx.service", set_cgroup, NULL },
	{ 0 },
};

static const struct optable_opt trace_report_opts[] = {
	{ "interval", 'i', "SEC", "report every SEC seconds", trace_opts__set_interval, NULL },
	{ "duration", 'd', "SEC", "stop after SEC seconds (default: at SIGINT/SIGTERM)",
	  trace_opts__set_duration, NULL },
	{ "json", 0, NULL, "one JSON object per report on stdout (docs/json.md)", set_json, NULL },
	{ "min-us", 0, "N", "also log each connect or accept slower than N us\n"
			    "(pid, comm, addresses, latency; lost ones are counted)", set_min_us, NULL },
	{ 0 },
};

const struct optable_opt trace_family_opts[] = {
	{ "read-syscall", 0, NULL, "read family: also time each read-family syscall on\n"
				   "TCP sockets (read_syscall). Off by default: it hooks\n"
				   "read(), recv() and the like for every process on the\n"
				   "host, files included (docs/benchmarks.md)", set_read_syscall, NULL },
	{ "probes", 0, "LIST", "comma-separated families (default: all):", set_probes,
	  probe_names },
	{ "uprobe", 0, "PATH:SYMBOL[:uretprobe]",
	  "latency of any function of an ELF binary (repeatable;\n"
	  "Go functions are probed at each RET, never with a\n"
	  "uretprobe, which is refused for Go)", set_uprobe, NULL },
	{ "verbose", 'v', NULL, "libbpf and debug messages on stderr", set_verbose, NULL },
	/* Not in --help: for tests of the paths degraded kernels take. */
	{ "force-fallback", 0, NULL, NULL, set_force_fallback, NULL },
	/* Not in --help: for tests of kernels that refuse socket storage in
	 * tracing programs, and for comparing the two. */
	{ "no-sk-storage", 0, NULL, NULL, set_no_sk_storage, NULL },
	/* Not in --help: the floor `make bench` compares nettune with. */
	{ "empty-programs", 0, NULL, NULL, set_empty_programs, NULL },
	{ 0 },
};

static const struct optable_opt *const trace_groups[] = {
	trace_filter_opts, trace_report_opts, trace_family_opts, NULL,
};

static const struct optable trace_table = { .cmd = "trace", .groups = trace_groups };

void trace_opts__begin(struct trace_parse *p, struct trace_opts *o, const char *const *names,
		       int n)
{
	memset(o, 0, sizeof(*o));
	o->probes = n >= 32 ? ~0u : (1u << n) - 1;
	*p = (struct trace_parse){ .o = o, .names = names, .n = n };
}

int trace_opts__finish(struct trace_parse *p)
{
	struct trace_opts *o = p->o;

	/* Naming a function to probe selects the family that probes it. */
	if (o->nuprobes)
		o->probes |= family_bit("uprobe", p->names, p->n);
	if (o->read_syscall && !(o->probes & family_bit("read", p->names, p->n))) {
		warn("--read-syscall: the read family is not selected (see --probes)");
		return -EINVAL;
	}
	if (o->interval_ms && o->duration_ms && o->interval_ms > o->duration_ms)
		info("-i is longer than -d: only the final report will show");
	return 0;
}

int trace_opts__parse(int argc, char **argv, struct trace_opts *o,
		      const char *const *names, int n)
{
	struct trace_parse p;
	int err;

	trace_opts__begin(&p, o, names, n);
	err = optable__parse(&trace_table, argc, argv, &p);
	if (err == OPTABLE_HELP)
		return TRACE_PARSE_HELP;
	return err ? err : trace_opts__finish(&p);
}

void trace_opts__usage(FILE *out, const char *const *probe_names, int nprobes)
{
	struct trace_opts o;
	struct trace_parse p;

	trace_opts__begin(&p, &o, probe_names, nprobes);
	fprintf(out,
"Usage: nettune trace [OPTIONS]\n"
"Measure TCP latencies and drops with in-kernel histograms; report at the end\n"
"(or every interval) on the terminal or as JSON.\n\n");
	optable__print(&trace_table, &p, out);
	fprintf(out, "\n"
"EXAMPLES\n"
"  nettune trace -d 10                    everything for 10 s, then a report\n"
"  nettune trace -p 4242 -i 1             one process, a report every second\n"
"  nettune trace --port 443 --json -d 30  one port, as JSON\n"
"  nettune trace --netns /run/netns/blue  one network namespace until Ctrl-C\n"
"  nettune trace --cgroup /system.slice/nginx.service -d 10\n"
"                                         one systemd service (and its children)\n"
"  nettune trace --min-us 100000 -i 10    log connections slower than 100 ms\n"
"  nettune trace --probes read --read-syscall -d 10\n"
"                                         read_wait and each read syscall's time\n");
}
