/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Where a uprobe costs least. On x86-64 a uprobe hit is a breakpoint trap;
 * the kernel then either emulates the displaced instruction (branches:
 * jmp, jcc, call; a one-byte nop; push of a register on newer kernels) or
 * single-steps a copy of it, which is a second trap. On the 2-core test VM
 * (6.18) a probe on an emulated jbe adds ~0.8 µs per call, on the cmp
 * before it ~10 µs (docs/probes.md, "Where the probes sit").
 *
 * Pure byte matching, no disassembler: the patterns are exactly what the
 * Go compiler emits, and anything else keeps the function's entry. */
#ifndef NETTUNE_LIB_PROBESITE_H
#define NETTUNE_LIB_PROBESITE_H

#include <stddef.h>
#include <linux/types.h>

enum probesite_class {
	PROBESITE_STEPPED,	/* single-stepped out of line: two traps */
	PROBESITE_BRANCH,	/* jmp/jcc/call/nop: emulated by every kernel */
	PROBESITE_PUSH,		/* push reg: emulated since Linux 4.18 */
	PROBESITE_NR,
};

/* The class of the instruction at code[0] (len bytes readable). */
enum probesite_class probesite__classify(const void *code, size_t len);
/* "stepped", "branch", "push". */
const char *probesite__class_name(enum probesite_class c);

/*
 * Offset from a Go function's entry of the conditional jump of its stack
 * bound check, where the entry probe can sit instead of offset 0; 0 when
 * the function does not start with the check. The check is one of
 *     cmp rsp, [r14+0x10]                       ; jbe morestack
 *     lea r12, [rsp-N] ; cmp r12, [r14+0x10]    ; jbe morestack
 * (g.stackguard0 is at offset 16 of the g that r14 holds). Before the jbe
 * only the flags and r12 (a scratch register, never an argument under
 * Go's register ABI) have changed: the arguments (rax, rbx, rcx, rdi,
 * rsi, r8-r11), rsp and r14 are those of the entry, so the BPF program
 * reads the same values there. The jbe runs on every call, and when the
 * stack must grow, morestack restarts the function at its entry, so the
 * jbe is reached again: the same double entry as a probe at offset 0.
 */
__u32 probesite__go_entry(const void *code, size_t len);

#endif
