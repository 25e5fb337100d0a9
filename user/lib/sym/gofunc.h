/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Where to put uprobes for one function of one binary, Go or C.
 *
 * Go functions get an entry offset and the offsets of every RET, to be
 * probed with ordinary uprobes (never a uretprobe: see retfind.h). C
 * functions get only the entry offset: the caller uses a uretprobe there.
 * All offsets are file offsets, right for PIE and non-PIE executables and
 * shared libraries alike. */
#ifndef NETTUNE_LIB_GOFUNC_H
#define NETTUNE_LIB_GOFUNC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* The register ABI (arguments in registers, the goroutine in r14 on
 * amd64) arrived in Go 1.17; nettune keys Go calls by that register. */
#define GOFUNC_MIN_GO_MINOR 17

struct gofunc_result {
	bool is_go;		/* false: a C (or other) binary, use a uretprobe */
	bool stripped;		/* no .symtab */
	char go_version[64];	/* "go1.19.8"; "" if not Go or not recorded */
	char go_module[256];	/* main module path; "" if unknown */
	const char *source;	/* ".symtab", ".dynsym" or ".gopclntab" */
	__u64 vaddr;		/* link-time address of the entry */
	__u64 size;		/* bytes disassembled (Go) or st_size (C) */
	__u64 entry_offset;	/* file offset of the function's entry */
	/* File offset of the entry uprobe: entry_offset, or for a Go function
	 * that starts with its stack bound check, the check's jbe, which the
	 * kernel emulates instead of single-stepping (probesite.h). A C
	 * function's uretprobe is attached here too. */
	__u64 entry_probe_offset;
	int entry_class;	/* enum probesite_class of the instruction probed */
	__u64 *ret_offsets;	/* Go only: file offsets of every RET, ascending */
	/* Go only. 0 means the function never returns normally (or leaves by
	 * a tail jump): its latency cannot be measured with uprobes. */
	size_t nr_rets;
	/* On error: one line saying what failed and what to do, ready to
	 * print after "nettune: ". */
	char errmsg[512];
};

/*
 * Resolves symbol in the ELF file at path into res. symbol NULL only fills
 * the binary's facts (is_go, stripped, go_version, go_module) and checks the
 * Go version, which is what a Go-only probe needs to know.
 * Errors (each with res->errmsg):
 *   -ENOENT           no such file, or no such function
 *   -ENOEXEC          not an ELF file
 *   -EPROTONOSUPPORT  Go older than 1.17 (no register ABI)
 *   -EILSEQ           the function could not be disassembled cleanly: RET
 *                     sites would be guesses, and a uprobe that is not on an
 *                     instruction boundary corrupts the program
 *   -EOPNOTSUPP       a Go binary for an architecture other than x86-64
 *   -ENOTUNIQ         a stripped Go binary has several function bodies of
 *                     that name (a generic function compiled for several
 *                     type shapes, all named "F[...]")
 * In a stripped Go binary a name may also belong to wrappers that only call
 * or jump to another function of the same name (ABI wrappers; the per-type
 * wrappers of a generic method): those are left out and the body they all
 * reach is returned, so its probes see every caller.
 * res must be released with gofunc__result_free() whatever the outcome.
 */
int gofunc__resolve(const char *path, const char *symbol, struct gofunc_result *res);
void gofunc__result_free(struct gofunc_result *res);

#endif
