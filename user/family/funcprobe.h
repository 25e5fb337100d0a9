/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Function latency through uprobes, shared by the "uprobe" and "http"
 * families: one loaded bpf/uprobe.bpf.c, function probe sets attached to it
 * (Go: entry + every RET; C: entry + uretprobe), and its histograms read
 * back per (function, process, tag).
 */
#ifndef NETTUNE_FUNCPROBE_H
#define NETTUNE_FUNCPROBE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/types.h>
#include "uprobe.h"
#include "gofunc.h"
#include "trace_opts.h"
#include "hist.h"

struct json_object;

struct funcprobe;

/* A binary held open from resolution to attach, so that both see the same
 * inode even if the path is replaced in between (a deploy, an upgrade). */
struct funcprobe_file {
	int fd;
	char path[32];		/* "/proc/self/fd/N": resolve and attach by this */
	struct stat st;
};

struct funcprobe_site {
	const char *path;	/* any path naming the binary's inode */
	const struct gofunc_result *fn;	/* is_go, entry_offset, ret_offsets */
	pid_t pid;		/* one process, or -1 for every process */
	__u32 func;		/* the caller's id, echoed in uprobe_key.func */
	bool http_method;	/* Go ServeHTTP: classify req.Method at entry */
	bool http_status;	/* Go ServeHTTP: tag calls with the status code */
	/* Go net/http.(*response).WriteHeader: only an entry probe that
	 * records the code, for the ServeHTTP site of the same func and pid
	 * (attach it first; funcprobe__detach removes both) */
	bool status_writer;
};

/* The probe pair's own share of a measured duration, measured at the first
 * attach of its kind (see funcprobe.c, "Calibration"). */
struct funcprobe_cal {
	bool tried, ok;		/* ok: measured; otherwise nothing is subtracted */
	bool is_go;		/* Go pair (entry + RET uprobes), else entry + uretprobe */
	int site_class;		/* enum probesite_class of the entry site */
	const char *insn;	/* the calibration function's probed instruction */
	__u64 ns;		/* subtracted from every duration */
	__u64 raw_p50_ns;	/* median measured on the calibration function */
	__u64 bare_ns;		/* that function's own time, unprobed */
	__u64 added_ns;		/* whole cost per call to the probed program */
	__u64 calls;
};

typedef int (*funcprobe_row_fn)(const struct uprobe_key *k, const struct uprobe_val *v,
				void *ctx);

/* Opens and loads the BPF object; -p pids become its in-kernel filter. */
int funcprobe__new(const struct trace_opts *o, struct funcprobe **out);
void funcprobe__free(struct funcprobe *fp);	/* detaches everything; accepts NULL */

/* Attaches one function in one process (or all). All or nothing: on error
 * no probe of this site stays attached. -ESRCH: the process is gone. */
int funcprobe__attach(struct funcprobe *fp, const struct funcprobe_site *s);
/* Detaches every probe of function func in process pid. */
void funcprobe__detach(struct funcprobe *fp, __u32 func, pid_t pid);

/* Reads the histograms; calls fn per row, cumulative (total) or for the
 * interval since the previous collect. */
int funcprobe__collect(struct funcprobe *fp, bool total, funcprobe_row_fn fn, void *ctx);
/* Events lost to full maps or the BPF recursion guard, cumulative. */
__u64 funcprobe__lost(struct funcprobe *fp);

/* The calibration for functions probed like fn (is_go, fn->entry_class);
 * ok is false if it failed or no such function was attached. */
const struct funcprobe_cal *funcprobe__cal(const struct funcprobe *fp, bool is_go, int class);
/* out = raw with c->ns taken off every duration, never below 0 (raw when
 * c is NULL or not ok). out must not be raw. */
void funcprobe__correct(const struct funcprobe_cal *c, const struct hist *raw, struct hist *out);

/* "probes' own time subtracted: ..." with the raw p50, one line. */
void funcprobe__print_cal(FILE *out, const char *indent, const struct funcprobe_cal *c,
			  const struct hist *raw);
/* { "calibrated", "subtracted_ns", "pair", "entry_site", "calibration_calls",
 *   "calibration_p50_ns", "calibration_bare_ns", "added_ns_per_call" } */
struct json_object *funcprobe__cal_json(const struct funcprobe_cal *c);

int funcprobe__open_file(const char *path, struct funcprobe_file *f);
void funcprobe__close_file(struct funcprobe_file *f);	/* accepts NULL */
/* gofunc__resolve() on an open file, with res->errmsg naming shown_path
 * (what the user gave) rather than /proc/self/fd/N. Errors are gofunc's,
 * except that every refusal about the target itself (ambiguous name, code
 * that cannot be disassembled safely, another architecture) becomes
 * -EINVAL: like a missing symbol, it is bad input, not a failure. */
int funcprobe__resolve(const struct funcprobe_file *f, const char *shown_path,
		       const char *symbol, struct gofunc_result *res);

#endif
