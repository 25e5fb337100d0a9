/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Finding a function's RET instructions with capstone, so that its returns
 * can be measured by ordinary uprobes on each RET. Go programs need this:
 * a uretprobe replaces the return address on the goroutine stack, and when
 * the runtime moves or copies that stack it finds a trampoline address it
 * does not know and kills the program ("unexpected return pc"). */
#ifndef NETTUNE_LIB_RETFIND_H
#define NETTUNE_LIB_RETFIND_H

#include <stddef.h>
#include <linux/types.h>

struct retfind_result {
	__u32 *offs;		/* RET offsets from the function start, ascending */
	size_t cnt;
	size_t insns;		/* instructions decoded */
	/* Bytes capstone could not decode and that were stepped over one at
	 * a time. Non-zero means the listing may be out of step with the real
	 * instruction boundaries, so a reported RET may be a byte inside
	 * another instruction: a uprobe there would corrupt the program. */
	size_t skipped;
};

/* Disassembles code[0..len) (the function's exact bytes, from its entry)
 * linearly as x86-64 at address addr and records every RET (any near
 * return: ret, ret imm16, and with rep/bnd prefixes, at the prefix).
 * machine is the ELF e_machine; only EM_X86_64 is supported
 * (-EOPNOTSUPP otherwise; -ELIBACC when libcapstone cannot be loaded or
 * opened, said on stderr). On success res owns offs: free it with
 * retfind__result_free(). */
int retfind__scan(int machine, const void *code, size_t len, __u64 addr,
		  struct retfind_result *res);
void retfind__result_free(struct retfind_result *res);

/* 1 if the code (disassembled as above) has a direct CALL or JMP to
 * target, 0 if not, -errno on failure. Go's ABI wrappers are recognised
 * this way: they do nothing but call or jump to the function they wrap. */
int retfind__branches_to(int machine, const void *code, size_t len, __u64 addr,
			 __u64 target);

#endif
