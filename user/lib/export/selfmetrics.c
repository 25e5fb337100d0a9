// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* nettune's own process and BPF program metrics. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include "promtext.h"
#include "selfmetrics.h"

static double boot_time(void)
{
	char line[256];
	double btime = 0;
	FILE *f = fopen("/proc/stat", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lf", &btime) == 1)
			break;
	if (f)
		fclose(f);
	return btime;
}

static double count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	double n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d) {
		closedir(d);
		n--;	/* the directory's own descriptor */
	}
	return n;
}

static void gauge(struct promtext *w, const char *name, const char *help, double v)
{
	promtext__family(w, name, PROM_GAUGE, 0, help);
	promtext__gauge(w, NULL, 0, v);
}

void selfmetrics__process(struct promtext *w)
{
	unsigned long long utime, stime, start, vsize;
	long long rss;
	double tick = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	struct rlimit rl;
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* comm may hold spaces and parentheses */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
			 "%*d %*d %*d %*d %llu %llu %lld", &utime, &stime, &start, &vsize, &rss) != 5)
		return;
	promtext__family(w, "process_cpu_seconds_total", PROM_COUNTER_NS, 0,
			 "Total user and system CPU time spent in seconds");
	promtext__counter(w, NULL, 0, (__u64)((double)(utime + stime) / tick * 1e9));
	gauge(w, "process_resident_memory_bytes", "Resident memory size in bytes", (double)rss * page);
	gauge(w, "process_virtual_memory_bytes", "Virtual memory size in bytes", (double)vsize);
	gauge(w, "process_start_time_seconds", "Start time of the process since unix epoch in seconds",
	      boot_time() + (double)start / tick);
	gauge(w, "process_open_fds", "Number of open file descriptors", count_fds());
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		gauge(w, "process_max_fds", "Maximum number of open file descriptors",
		      (double)rl.rlim_cur);
}

static bool bpf_stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int on = 0;

	if (f) {
		if (fscanf(f, "%d", &on) != 1)
			on = 0;
		fclose(f);
	}
	return on == 1;
}

/* The prog id an fdinfo names, 0 if the descriptor is not a BPF program. */
static __u32 prog_id_of(int fd)
{
	char path[64], line[128];
	unsigned int id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "prog_id: %u", &id) == 1)
			break;
	if (f)
		fclose(f);
	return id;
}

static void prog_stats(struct promtext *w, int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char id[16];
	struct prom_label l[] = { { "prog", info.name }, { "id", id } };

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	snprintf(id, sizeof(id), "%u", info.id);
	promtext__family(w, "nettune_bpf_prog_run_seconds_total", PROM_COUNTER_NS, 2,
			 "Time nettune's BPF programs ran (kernel.bpf_stats_enabled = 1)");
	promtext__counter(w, l, 2, info.run_time_ns);
	promtext__family(w, "nettune_bpf_prog_runs_total", PROM_COUNTER, 2,
			 "Runs of nettune's BPF programs (kernel.bpf_stats_enabled = 1)");
	promtext__counter(w, l, 2, info.run_cnt);
}

void selfmetrics__bpf_progs(struct promtext *w)
{
	bool on = bpf_stats_enabled();
	__u32 seen[256];
	int nseen = 0;
	DIR *d;
	struct dirent *e;

	gauge(w, "nettune_bpf_stats_enabled",
	      "1 when kernel.bpf_stats_enabled is on and BPF program run times are exported", on);
	d = on ? opendir("/proc/self/fd") : NULL;
	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name);
		__u32 id = e->d_name[0] == '.' ? 0 : prog_id_of(fd);
		bool dup = false;

		for (int i = 0; i < nseen; i++)
			dup |= seen[i] == id;
		if (!id || dup || nseen == (int)(sizeof(seen) / sizeof(seen[0])))
			continue;
		seen[nseen++] = id;
		prog_stats(w, fd);
	}
	if (d)
		closedir(d);
}
