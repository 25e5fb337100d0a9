// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <capstone/capstone.h>
#include "log.h"
#include "retfind.h"

/* Called per decoded instruction: <0 error, >0 stop, 0 go on. */
typedef int (*visit_fn)(const cs_insn *insn, void *ctx);

/* Linear sweep: compiled functions start on an instruction and, on x86-64,
 * neither Go nor C compilers put data inside a function's bytes (jump
 * tables live in .rodata), so decoding from the entry stays in step to the
 * end, INT3 padding included. If capstone rejects a byte anyway (hand-written
 * assembly with inline data, an instruction newer than capstone 4 knows),
 * step one byte and go on: x86 decoding resynchronises within a few
 * instructions. *skipped counts those bytes so the caller can refuse. */
static int sweep(csh cs, cs_insn *insn, const __u8 *code, size_t len, __u64 addr,
		 visit_fn visit, void *ctx, size_t *insns, size_t *skipped)
{
	const __u8 *p = code;
	uint64_t pc = addr;
	size_t left = len;
	int ret = 0;

	while (left && !ret) {
		if (!cs_disasm_iter(cs, &p, &left, &pc, insn)) {
			p++;
			pc++;
			left--;
			(*skipped)++;
			continue;
		}
		(*insns)++;
		ret = visit(insn, ctx);
	}
	return ret;
}

static int walk(int machine, bool detail, const void *code, size_t len, __u64 addr,
		visit_fn visit, void *ctx, size_t *insns, size_t *skipped)
{
	cs_insn *insn = NULL;
	csh cs = 0;
	int ret;

	if (machine != EM_X86_64)
		return -EOPNOTSUPP;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		warn("capstone: cannot open an x86-64 disassembler");
		return -ENOTSUP;
	}
	/* Operand details cost several times the decoding: only when needed. */
	cs_option(cs, CS_OPT_DETAIL, detail ? CS_OPT_ON : CS_OPT_OFF);
	insn = cs_malloc(cs);
	ret = insn ? sweep(cs, insn, code, len, addr, visit, ctx, insns, skipped) : -ENOMEM;
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	if (*skipped)
		debug("retfind: 0x%llx: %zu undecodable bytes skipped",
		      (unsigned long long)addr, *skipped);
	return ret;
}

struct ret_ctx {
	struct retfind_result *res;
	size_t cap;
	__u64 addr;
};

static int record_ret(const cs_insn *insn, void *ctx)
{
	struct ret_ctx *c = ctx;
	struct retfind_result *res = c->res;
	__u32 *p;

	if (insn->id != X86_INS_RET)
		return 0;
	if (res->cnt == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		p = realloc(res->offs, c->cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		res->offs = p;
	}
	res->offs[res->cnt++] = (__u32)(insn->address - c->addr);
	return 0;
}

int retfind__scan(int machine, const void *code, size_t len, __u64 addr,
		  struct retfind_result *res)
{
	struct ret_ctx c = { .res = res, .addr = addr };
	int err;

	memset(res, 0, sizeof(*res));
	/* Offsets are stored as u32: no function is 4 GiB long. */
	if (len > UINT32_MAX)
		return -E2BIG;
	err = walk(machine, false, code, len, addr, record_ret, &c, &res->insns, &res->skipped);
	if (err)
		retfind__result_free(res);
	return err;
}

void retfind__result_free(struct retfind_result *res)
{
	if (!res)
		return;
	free(res->offs);
	res->offs = NULL;
	res->cnt = 0;
}

static int match_branch(const cs_insn *insn, void *ctx)
{
	const cs_x86_op *op = &insn->detail->x86.operands[0];

	if (insn->id != X86_INS_CALL && insn->id != X86_INS_JMP)
		return 0;
	return insn->detail->x86.op_count == 1 && op->type == X86_OP_IMM &&
	       (__u64)op->imm == *(const __u64 *)ctx;
}

int retfind__branches_to(int machine, const void *code, size_t len, __u64 addr,
			 __u64 target)
{
	size_t insns = 0, skipped = 0;

	return walk(machine, true, code, len, addr, match_branch, &target, &insns, &skipped);
}
