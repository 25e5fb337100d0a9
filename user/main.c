// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* nettune: measure TCP latencies and drops with eBPF, and tune from them. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "commands.h"
#include "log.h"
#include "opts.h"

#ifndef NETTUNE_VERSION
#define NETTUNE_VERSION "unknown"
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *what;
};

static const struct command commands[] = {
	{ "trace", cmd_trace, "measure latencies and drops (histograms, percentiles, JSON)" },
	{ "top", cmd_top, "a live full-screen view of listeners and latency" },
	{ "serve", cmd_serve, "keep tracing; serve the metrics to Prometheus (GET /metrics)" },
	{ "doctor", cmd_doctor, "what this machine lets nettune measure, found by trying" },
	{ "tune", cmd_tune, "recommend (and --apply) listen-queue and sysctl changes" },
	{ "rollback", cmd_rollback, "restore every original value nettune tune --apply changed" },
	{ "bench", cmd_bench, "trace, tune and rerun a reference server in a private namespace" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: nettune COMMAND [OPTIONS]   (nettune COMMAND --help for more)\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(out, "\nOptions:\n"
		     "  -h, --help     this help\n"
		     "  -V, --version  print the version\n\n"
		     "EXAMPLES\n"
		     "  nettune doctor                 can this machine trace?\n"
		     "  nettune trace -d 10            everything for 10 s, then a report\n"
		     "  nettune trace -p 4242 -i 1     one process, every second\n"
		     "  nettune trace --json -d 5      the same report as JSON\n"
		     "  nettune top                    watch listeners and latency live\n"
		     "  nettune serve                  metrics for Prometheus on 127.0.0.1:7941\n");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	/* glibc raises its mmap threshold to the size of any mmapped block
	 * freed (the kernel BTF each load parses: 5 MiB) and its trim threshold
	 * to twice that; from then on the multi-MiB buffers of a report with
	 * thousands of rows came from the heap, and up to 10 MiB freed there
	 * stayed resident: the peak RSS depended on what ran before. Fixed
	 * thresholds give large blocks back to the kernel when freed. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024);
	log__init("nettune", LOG_INFO);
	libbpf_set_print(log__libbpf_print);
	if (!cmd) {
		warn("missing command (try: nettune --help)");
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("nettune %s (libbpf %s)\n", NETTUNE_VERSION, libbpf_version_string());
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	warn("unknown command '%s' (try: nettune --help)", cmd);
	return EXIT_USAGE;
}
