// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include "elfsym.h"
#include "gobuildinfo.h"
#include "gofunc.h"
#include "gopclntab.h"
#include "log.h"
#include "retfind.h"
#include "probesite.h"

struct resolve {
	const char *path;
	const char *symbol;
	struct elfsym *elf;
	struct gopclntab *pcln;		/* opened only when needed */
	int pcln_err;
	struct gofunc_result *res;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct resolve *r, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->res->errmsg, sizeof(r->res->errmsg), "%s: ", r->path);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(r->res->errmsg))
		vsnprintf(r->res->errmsg + n, sizeof(r->res->errmsg) - n, fmt, ap);
	va_end(ap);
	return err;
}

static struct gopclntab *pcln(struct resolve *r)
{
	if (!r->pcln && !r->pcln_err)
		r->pcln_err = gopclntab__open(r->elf, &r->pcln);
	return r->pcln;
}

static int open_elf(struct resolve *r)
{
	int err = elfsym__open(r->path, &r->elf);

	if (err == -ENOENT)
		return fail(r, err, "no such file");
	if (err == -ENOEXEC)
		return fail(r, err, "not an ELF executable or shared library");
	if (err)
		return fail(r, err, "cannot open: %s", strerror(-err));
	r->res->is_go = elfsym__is_go(r->elf);
	r->res->stripped = elfsym__is_stripped(r->elf);
	return 0;
}

static const char *const abi_hint =
	"nettune's Go probes need Go 1.17 or later (register ABI, goroutine in r14): "
	"rebuild the program with a newer Go";

/* With no version recorded, the function table's format still bounds it:
 * 1.18+ formats are fine, the 1.16 one cannot tell 1.16 from 1.17. */
static int check_abi_by_table(struct resolve *r)
{
	if (pcln(r))
		return gopclntab__format(r->pcln) == GOPCLNTAB_GO116 ?
			fail(r, -EPROTONOSUPPORT, "Go 1.16 or 1.17 (no build info to tell "
			     "which); %s", abi_hint) : 0;
	if (r->pcln_err == -EPROTONOSUPPORT)
		return fail(r, -EPROTONOSUPPORT, "Go older than 1.16; %s", abi_hint);
	return 0;
}

static int go_facts(struct resolve *r)
{
	struct gofunc_result *res = r->res;
	struct gobuildinfo *bi = NULL;
	int err, major, minor;

	err = gobuildinfo__open(r->elf, &bi);
	if (err) {
		debug("%s: no Go build info (%s)", r->path, strerror(-err));
		return check_abi_by_table(r);
	}
	snprintf(res->go_version, sizeof(res->go_version), "%s", gobuildinfo__version(bi));
	if (gobuildinfo__module(bi))
		snprintf(res->go_module, sizeof(res->go_module), "%s", gobuildinfo__module(bi));
	else if (gobuildinfo__path(bi))
		snprintf(res->go_module, sizeof(res->go_module), "%s", gobuildinfo__path(bi));
	gobuildinfo__free(bi);
	if (gobuildinfo__parse_version(res->go_version, &major, &minor))
		return check_abi_by_table(r);
	if (major == 1 && minor < GOFUNC_MIN_GO_MINOR)
		return fail(r, -EPROTONOSUPPORT, "built by %s; %s", res->go_version, abi_hint);
	return 0;
}

static void use_elf_symbol(struct gofunc_result *res, const struct elfsym_func *f)
{
	res->source = f->table == ELFSYM_SYMTAB ? ".symtab" : ".dynsym";
	res->vaddr = f->vaddr;
	res->size = f->size;
	res->entry_offset = f->offset;
}

static int use_table_func(struct resolve *r, const struct gopclntab_func *gf)
{
	int err;

	r->res->source = ".gopclntab";
	r->res->vaddr = gf->entry;
	r->res->size = gf->size;
	err = elfsym__vaddr_to_offset(r->elf, gf->entry, &r->res->entry_offset);
	return err ? fail(r, err, "%s is not in a loadable segment", r->symbol) : 0;
}

/* 1 if candidate c branches to another candidate. In .gopclntab an ABI
 * wrapper has the wrapped function's name, and a generic method's per-type
 * wrappers (F[...]) call the shared shape body, also F[...]. A real body
 * does not call another function of its own name, except by recursion,
 * which targets its own entry and is not counted. */
static int is_wrapper(struct resolve *r, const struct gopclntab_func *c,
		      const struct gopclntab_func *all, size_t n)
{
	const void *code = elfsym__data_at(r->elf, c->entry, c->size);
	size_t i;
	int ret;

	for (i = 0; code && i < n; i++) {
		if (all[i].entry == c->entry)
			continue;
		ret = retfind__branches_to(elfsym__machine(r->elf), code, c->size, c->entry,
					   all[i].entry);
		if (ret)
			return ret;
	}
	return 0;
}

#define MAX_SAME_NAME 16

/* The one function of that name, leaving out wrappers; -ENOTUNIQ when
 * several bodies remain (a generic function compiled for several shapes). */
static int pick_go_func(struct resolve *r, struct gopclntab_func *out)
{
	struct gopclntab_func c[MAX_SAME_NAME];
	size_t iter = 0, n = 0, i, real = 0;
	int ret;

	while (n < MAX_SAME_NAME && !gopclntab__find_next(r->pcln, r->symbol, &iter, &c[n]))
		n++;
	if (!n)
		return -ENOENT;
	if (n == 1) {
		*out = c[0];
		return 0;
	}
	for (i = 0; i < n; i++) {
		ret = is_wrapper(r, &c[i], c, n);
		if (ret < 0)
			return fail(r, ret, "cannot disassemble %s", r->symbol);
		if (!ret) {
			*out = c[i];
			real++;
		}
	}
	if (real == 1)
		return 0;
	return fail(r, -ENOTUNIQ, "%zu%s functions are named '%s' in .gopclntab (a stripped "
		    "binary names every instantiation of a generic function alike); probe the "
		    "unstripped binary, whose .symtab tells them apart", n,
		    n == MAX_SAME_NAME ? "+" : "", r->symbol);
}

static int find_symbol(struct resolve *r)
{
	struct gofunc_result *res = r->res;
	struct gopclntab_func gf = { 0 };
	struct elfsym_func f;
	int err, sym_err;

	sym_err = elfsym__find_func(r->elf, r->symbol, &f);
	if (sym_err && sym_err != -ENOENT)
		return fail(r, sym_err, "%s is not in a loadable segment", r->symbol);
	/* Go assembly functions may carry st_size 0: the table knows better. */
	if (!sym_err && (f.size || !res->is_go)) {
		use_elf_symbol(res, &f);
		return 0;
	}
	if (res->is_go && pcln(r)) {
		err = pick_go_func(r, &gf);
		if (err != -ENOENT)
			return err ? err : use_table_func(r, &gf);
	}
	if (!sym_err) {
		use_elf_symbol(res, &f);
		return 0;
	}
	return fail(r, -ENOENT, "no function named '%s' (searched %s%s)", r->symbol,
		    res->stripped ? ".dynsym" : ".symtab, .dynsym",
		    res->is_go ? ", .gopclntab" : "");
}

static int find_rets(struct resolve *r)
{
	struct gofunc_result *res = r->res;
	struct retfind_result rf;
	const void *code;
	size_t i;
	int err;

	code = elfsym__data_at(r->elf, res->vaddr, res->size);
	if (!code)
		return fail(r, -ERANGE, "%s: its %llu bytes are not all in the file",
			    r->symbol, (unsigned long long)res->size);
	err = retfind__scan(elfsym__machine(r->elf), code, res->size, res->vaddr, &rf);
	if (err == -EOPNOTSUPP)
		return fail(r, err, "Go functions can be probed only on x86-64 binaries");
	if (err)
		return fail(r, err, "cannot disassemble %s: %s", r->symbol, strerror(-err));
	if (rf.skipped) {
		retfind__result_free(&rf);
		return fail(r, -EILSEQ, "%s: %zu bytes could not be disassembled, so its RET "
			    "sites are uncertain; refusing to place uprobes that could corrupt it",
			    r->symbol, rf.skipped);
	}
	res->ret_offsets = calloc(rf.cnt ? rf.cnt : 1, sizeof(*res->ret_offsets));
	if (!res->ret_offsets) {
		retfind__result_free(&rf);
		return fail(r, -ENOMEM, "out of memory");
	}
	/* data_at() proved the whole function lies in one segment, so its file
	 * offsets are the entry's plus the in-function offset. */
	for (i = 0; i < rf.cnt; i++)
		res->ret_offsets[i] = res->entry_offset + rf.offs[i];
	res->nr_rets = rf.cnt;
	retfind__result_free(&rf);
	return 0;
}

/* The entry uprobe's site and the class of its instruction (probesite.h).
 * Only amd64 code is classified; elsewhere the entry stays, "stepped".
 * NETTUNE_GO_ENTRY_AT_START=1 keeps Go entries at offset 0, for measuring
 * what the move saves (tools/bench-uprobe.sh); it is not a user option. */
static void place_entry(struct resolve *r)
{
	struct gofunc_result *res = r->res;
	size_t len = res->size && res->size < 32 ? res->size : 32;
	const void *code = elfsym__data_at(r->elf, res->vaddr, len);
	__u32 at = 0;

	res->entry_probe_offset = res->entry_offset;
	res->entry_class = PROBESITE_STEPPED;
	if (!code || elfsym__machine(r->elf) != EM_X86_64)
		return;
	if (res->is_go && !getenv("NETTUNE_GO_ENTRY_AT_START"))
		at = probesite__go_entry(code, len);
	/* data_at() proved the bytes lie in one segment: file offsets follow. */
	res->entry_probe_offset = res->entry_offset + at;
	res->entry_class = (int)probesite__classify((const __u8 *)code + at, len - at);
}

int gofunc__resolve(const char *path, const char *symbol, struct gofunc_result *res)
{
	struct resolve r = { .path = path, .symbol = symbol, .res = res };
	int err;

	memset(res, 0, sizeof(*res));
	res->source = "";
	err = open_elf(&r);
	if (!err && res->is_go)
		err = go_facts(&r);
	if (!err && symbol)
		err = find_symbol(&r);
	if (!err && symbol && res->is_go)
		err = find_rets(&r);
	if (!err && symbol)
		place_entry(&r);
	if (!err && symbol)
		debug("%s: %s at 0x%llx (file offset 0x%llx, %llu bytes, from %s), %zu RETs",
		      path, symbol, (unsigned long long)res->vaddr,
		      (unsigned long long)res->entry_offset, (unsigned long long)res->size,
		      res->source, res->nr_rets);
	gopclntab__close(r.pcln);
	elfsym__close(r.elf);
	return err;
}

void gofunc__result_free(struct gofunc_result *res)
{
	if (!res)
		return;
	free(res->ret_offsets);
	res->ret_offsets = NULL;
	res->nr_rets = 0;
}
