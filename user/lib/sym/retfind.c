// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <capstone/capstone.h>
#include "log.h"
#include "retfind.h"

/*
 * capstone is loaded on first use instead of linked: the dynamic linker
 * relocates its tables in every process that links it, 3.2 MiB of RSS in
 * each nettune run, and only uprobes on Go functions disassemble anything.
 * The soname is that of the headers built against: capstone's ABI (cs_insn
 * among others) changes with its major version.
 */
#define CS_SONAME_OF(major)	"libcapstone.so." #major
#define CS_SONAME_AT(major)	CS_SONAME_OF(major)
#define CS_SONAME		CS_SONAME_AT(CS_API_MAJOR)

static struct {
	cs_err (*open)(cs_arch arch, cs_mode mode, csh *handle);
	cs_err (*option)(csh handle, cs_opt_type type, size_t value);
	cs_insn *(*malloc)(csh handle);
	bool (*disasm_iter)(csh handle, const uint8_t **code, size_t *size, uint64_t *address,
			    cs_insn *insn);
	void (*free)(cs_insn *insn, size_t count);
	cs_err (*close)(csh *handle);
	bool loaded;
} capstone;
static pthread_once_t capstone_once = PTHREAD_ONCE_INIT;

static void capstone_load(void)
{
	void *lib = dlopen(CS_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		warn("capstone: cannot load %s (Debian: libcapstone4): %s", CS_SONAME, dlerror());
		return;
	}
	capstone.open = (__typeof__(capstone.open))dlsym(lib, "cs_open");
	capstone.option = (__typeof__(capstone.option))dlsym(lib, "cs_option");
	capstone.malloc = (__typeof__(capstone.malloc))dlsym(lib, "cs_malloc");
	capstone.disasm_iter = (__typeof__(capstone.disasm_iter))dlsym(lib, "cs_disasm_iter");
	capstone.free = (__typeof__(capstone.free))dlsym(lib, "cs_free");
	capstone.close = (__typeof__(capstone.close))dlsym(lib, "cs_close");
	capstone.loaded = capstone.open && capstone.option && capstone.malloc &&
			  capstone.disasm_iter && capstone.free && capstone.close;
	if (!capstone.loaded) {
		warn("capstone: %s lacks the functions nettune calls", CS_SONAME);
		dlclose(lib);	/* kept open otherwise: nettune uses it until it exits */
	}
}

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
		if (!capstone.disasm_iter(cs, &p, &left, &pc, insn)) {
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

	/* EOPNOTSUPP is this binary's architecture only: Linux's ENOTSUP is the
	 * same number, so a missing or broken disassembler says ELIBACC. */
	if (machine != EM_X86_64)
		return -EOPNOTSUPP;
	pthread_once(&capstone_once, capstone_load);
	if (!capstone.loaded)
		return -ELIBACC;
	if (capstone.open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		warn("capstone: cannot open an x86-64 disassembler");
		return -ELIBACC;
	}
	/* Operand details cost several times the decoding: only when needed. */
	capstone.option(cs, CS_OPT_DETAIL, detail ? CS_OPT_ON : CS_OPT_OFF);
	insn = capstone.malloc(cs);
	ret = insn ? sweep(cs, insn, code, len, addr, visit, ctx, insns, skipped) : -ENOMEM;
	if (insn)
		capstone.free(insn, 1);
	capstone.close(&cs);
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
