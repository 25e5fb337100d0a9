/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* nettune's own metrics for `nettune serve`: the standard process_* set
 * from /proc/self, and each of its BPF programs' run time and count when
 * the kernel keeps them (kernel.bpf_stats_enabled = 1, never set here). */
#ifndef NETTUNE_LIB_SELFMETRICS_H
#define NETTUNE_LIB_SELFMETRICS_H

struct promtext;

/* process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_start_time_seconds,
 * process_open_fds, process_max_fds. */
void selfmetrics__process(struct promtext *w);
/* nettune_bpf_stats_enabled, and with it nettune_bpf_prog_run_seconds_total
 * and nettune_bpf_prog_runs_total{prog} for the programs this process holds. */
void selfmetrics__bpf_progs(struct promtext *w);

#endif
