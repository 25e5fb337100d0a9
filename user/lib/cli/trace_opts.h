/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Options of `nettune trace`, parsed into a typed struct with defaults. */
#ifndef NETTUNE_LIB_TRACE_OPTS_H
#define NETTUNE_LIB_TRACE_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "filter.h"
#include "optable.h"

#define TRACE_MAX_PROBES	32
#define TRACE_MAX_UPROBES	16

struct trace_opts {
	__u32 pids[FILTER_MAX_PIDS];
	int npids;
	__u16 ports[FILTER_MAX_PORTS];
	int nports;
	__u32 netns;		/* netns inode to scope to; 0 = all */
	const char *netns_arg;	/* --netns as given (serve's tuner opens it), or NULL */
	__u64 cgroups[FILTER_MAX_CGROUPS];	/* --cgroup: cgroup v2 ids ... */
	const char *cgroup_args[FILTER_MAX_CGROUPS];	/* ... and the paths as given */
	int ncgroups;
	uint64_t interval_ms;	/* 0: one report at the end */
	uint64_t duration_ms;	/* 0: until SIGINT/SIGTERM */
	uint64_t min_us;	/* --min-us: log connections slower than this; 0 = off */
	bool json;
	bool force_fallback;	/* hidden --force-fallback: use the probes a
				 * kernel without the preferred tracepoints gets */
	bool no_sk_storage;	/* hidden --no-sk-storage: per-socket clocks in
				 * the stamp tables even where socket storage works */
	bool reclaim;		/* load the row tables' reclaim programs (serve:
				 * tracer__reclaim); not an option */
	bool empty_programs;	/* hidden --empty-programs: attach every program
				 * as usual, but each returns as it starts */
	bool read_syscall;	/* --read-syscall: the read family times each
				 * read syscall too, not only read_wait */
	bool verbose;
	__u32 probes;		/* bit i selects probe_names[i] */
	bool probes_explicit;	/* --probes was given: a family that cannot run is an error */
	const char *uprobes[TRACE_MAX_UPROBES];	/* --uprobe PATH:SYMBOL, as given */
	int nuprobes;
};

enum { TRACE_PARSE_OK = 0, TRACE_PARSE_HELP = 1 };

/* What the option tables' setters write to: the options and the families
 * --probes may name. */
struct trace_parse {
	struct trace_opts *o;
	const char *const *names;
	int n;
};

/* trace's filters, declared once for every subcommand that traces (trace,
 * serve): -p, --port, --netns ... */
extern const struct optable_opt trace_filter_opts[];
/* ... and --read-syscall, --probes, --uprobe, -v, and the hidden test and
 * bench switches. Setters take a struct trace_parse. */
extern const struct optable_opt trace_family_opts[];
/* Setters of -i and -d, for tables that word them their own way. */
int trace_opts__set_interval(void *trace_parse, const char *arg);
int trace_opts__set_duration(void *trace_parse, const char *arg);
/* Zeroes O with its defaults (every family) and readies P for a table. */
void trace_opts__begin(struct trace_parse *p, struct trace_opts *o, const char *const *names,
		       int n);
/* After a table's parse: what depends on several options. 0 or -EINVAL. */
int trace_opts__finish(struct trace_parse *p);

/* Parses argv (argv[0] is "trace"). probe_names lists the families that
 * --probes may select; all are selected by default. Returns TRACE_PARSE_OK,
 * TRACE_PARSE_HELP (usage printed to stdout), or a negative errno after one
 * clear line on stderr. */
int trace_opts__parse(int argc, char **argv, struct trace_opts *o,
		      const char *const *probe_names, int nprobes);
void trace_opts__usage(FILE *out, const char *const *probe_names, int nprobes);

#endif
