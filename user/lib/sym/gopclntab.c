// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Layout read here (from Go's runtime/symtab.go and debug/gosym docs):
 *
 *   header    magic u32, two zero bytes, pc quantum u8, pointer size u8,
 *             then pointer-sized words:
 *               Go 1.18+: nfunc, nfiles, textStart, funcnameOff, cuOff,
 *                         filetabOff, pctabOff, pclnOff
 *               Go 1.16:  nfunc, nfiles, funcnameOff, cuOff, filetabOff,
 *                         pctabOff, pclnOff (no textStart)
 *             every *Off counts from the header's first byte.
 *   functab   at pclnOff: nfunc pairs (entry, funcoff) and one last entry
 *             (the end of the last function). Go 1.18+ stores u32 offsets
 *             from textStart; Go 1.16 stores pointer-sized addresses.
 *   _func     at pclnOff + funcoff: entry (u32 offset or pointer), then
 *             nameoff i32, an offset into funcnametab of a NUL-terminated
 *             name.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include "elfsym.h"
#include "gopclntab.h"
#include "log.h"

#define MAGIC_GO12	0xfffffffbU
#define MAGIC_GO116	0xfffffffaU
#define MAGIC_GO118	0xfffffff0U
#define MAGIC_GO120	0xfffffff1U

struct gopclntab {
	const __u8 *data;	/* borrowed */
	size_t len;
	enum gopclntab_format fmt;
	unsigned int ptrsize;
	size_t nfunc;
	__u64 text_start;
	__u64 funcname_off;
	__u64 pcln_off;
	const char *found_by;
};

static __u64 rd32(const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static __u64 rdptr(const struct gopclntab *t, const __u8 *p)
{
	__u64 v;

	if (t->ptrsize == 4)
		return rd32(p);
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Header word i (after the 8 fixed bytes). */
static __u64 word(const struct gopclntab *t, unsigned int i)
{
	return rdptr(t, t->data + 8 + (size_t)i * t->ptrsize);
}

static int read_magic(const __u8 *p, size_t len, enum gopclntab_format *fmt)
{
	__u32 magic;

	if (len < 8)
		return -EINVAL;
	memcpy(&magic, p, 4);
	switch (magic) {
	case MAGIC_GO116: *fmt = GOPCLNTAB_GO116; break;
	case MAGIC_GO118: *fmt = GOPCLNTAB_GO118; break;
	case MAGIC_GO120: *fmt = GOPCLNTAB_GO120; break;
	case MAGIC_GO12:
		debug("gopclntab: Go 1.2-1.15 table: too old (no register ABI)");
		return -EPROTONOSUPPORT;
	default:
		/* Byte-swapped magics: a big-endian binary (s390x, ppc64). */
		if (__builtin_bswap32(magic) >= MAGIC_GO118 &&
		    __builtin_bswap32(magic) <= MAGIC_GO12)
			return -EPROTONOSUPPORT;
		return -EINVAL;
	}
	/* Two zero pad bytes, quantum 1 (x86), 2 (s390x) or 4 (RISC). */
	if (p[4] || p[5] || (p[6] != 1 && p[6] != 2 && p[6] != 4))
		return -EINVAL;
	return p[7] == 4 || p[7] == 8 ? 0 : -EINVAL;
}

static size_t field_size(const struct gopclntab *t)
{
	return t->fmt == GOPCLNTAB_GO116 ? t->ptrsize : 4;
}

/* Raw functab field i (entries at even i, funcoffs at odd i). */
static __u64 ftab(const struct gopclntab *t, size_t i)
{
	const __u8 *p = t->data + t->pcln_off + i * field_size(t);

	return field_size(t) == 4 ? rd32(p) : rdptr(t, p);
}

static __u64 entry_at(const struct gopclntab *t, size_t idx)
{
	__u64 v = ftab(t, 2 * idx);

	return t->fmt == GOPCLNTAB_GO116 ? v : t->text_start + v;
}

static int read_header(struct gopclntab *t)
{
	bool go116 = t->fmt == GOPCLNTAB_GO116;
	unsigned int nwords = go116 ? 7 : 8;
	size_t nfunc, need;

	if (t->len < 8 + (size_t)nwords * t->ptrsize)
		return -EINVAL;
	nfunc = word(t, 0);
	t->funcname_off = word(t, go116 ? 2 : 3);
	t->pcln_off = word(t, go116 ? 6 : 7);
	if (!t->text_start && !go116)
		t->text_start = word(t, 2);
	/* Each function needs at least a functab pair, so nfunc < len bounds
	 * it before any multiplication can overflow. */
	if (!nfunc || nfunc >= t->len || t->funcname_off >= t->len || t->pcln_off >= t->len)
		return -EINVAL;
	need = (2 * nfunc + 1) * field_size(t);
	if (need > t->len - t->pcln_off)
		return -EINVAL;
	t->nfunc = nfunc;
	return 0;
}

/* The runtime binary-searches functab, so it is sorted; checking that here
 * rejects a false positive of the magic scan and guarantees sizes >= 0. */
static int check_functab(const struct gopclntab *t)
{
	__u64 prev = entry_at(t, 0);
	size_t i;

	for (i = 1; i <= t->nfunc; i++) {
		__u64 cur = entry_at(t, i);

		if (cur < prev)
			return -EINVAL;
		prev = cur;
	}
	return 0;
}

int gopclntab__parse(const void *data, size_t len, __u64 text_start, struct gopclntab **out)
{
	struct gopclntab *t;
	int err;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->data = data;
	t->len = len;
	t->text_start = text_start;
	t->found_by = "buffer";
	err = read_magic(t->data, len, &t->fmt);
	if (!err) {
		t->ptrsize = t->data[7];
		err = read_header(t);
	}
	if (!err)
		err = check_functab(t);
	if (err) {
		free(t);
		return err;
	}
	*out = t;
	return 0;
}

void gopclntab__close(struct gopclntab *t)
{
	free(t);
}

enum gopclntab_format gopclntab__format(const struct gopclntab *t)
{
	return t->fmt;
}

const char *gopclntab__format_str(enum gopclntab_format fmt)
{
	switch (fmt) {
	case GOPCLNTAB_GO116: return "Go 1.16-1.17";
	case GOPCLNTAB_GO118: return "Go 1.18-1.19";
	case GOPCLNTAB_GO120: return "Go 1.20+";
	}
	return "unknown";
}

const char *gopclntab__found_by(const struct gopclntab *t)
{
	return t->found_by;
}

size_t gopclntab__count(const struct gopclntab *t)
{
	return t->nfunc;
}

static const char *name_at(const struct gopclntab *t, size_t idx)
{
	__u64 funcoff = ftab(t, 2 * idx + 1), off;
	size_t nameoff_at = t->fmt == GOPCLNTAB_GO116 ? t->ptrsize : 4;
	__s32 nameoff;

	off = t->pcln_off + funcoff;
	if (funcoff >= t->len || off + nameoff_at + 4 > t->len)
		return NULL;
	memcpy(&nameoff, t->data + off + nameoff_at, 4);
	if (nameoff < 0 || t->funcname_off + (__u64)nameoff >= t->len)
		return NULL;
	off = t->funcname_off + (__u64)nameoff;
	/* Names must end inside the table, or strcmp could run off it. */
	if (!memchr(t->data + off, '\0', t->len - off))
		return NULL;
	return (const char *)t->data + off;
}

int gopclntab__func(const struct gopclntab *t, size_t idx, struct gopclntab_func *f)
{
	if (idx >= t->nfunc)
		return -ENOENT;
	f->name = name_at(t, idx);
	if (!f->name)
		return -EINVAL;
	f->entry = entry_at(t, idx);
	f->size = entry_at(t, idx + 1) - f->entry;
	return 0;
}

int gopclntab__find_next(const struct gopclntab *t, const char *name, size_t *iter,
			 struct gopclntab_func *f)
{
	const char *s;
	size_t i;

	/* Linear: it runs once per --uprobe, and a whole resolve of a stripped
	 * 4,500-function server (open, scan, find, disassemble) takes 10 ms,
	 * so an index would not pay for itself. */
	for (i = *iter; i < t->nfunc; i++) {
		s = name_at(t, i);
		if (s && !strcmp(s, name)) {
			*iter = i + 1;
			return gopclntab__func(t, i, f);
		}
	}
	*iter = t->nfunc;
	return -ENOENT;
}

int gopclntab__find(const struct gopclntab *t, const char *name, struct gopclntab_func *f)
{
	size_t iter = 0;

	return gopclntab__find_next(t, name, &iter, f);
}

/* ---- Finding the table in an ELF file ---- */

/* The Go 1.18+ header's textStart is a pointer the linker marks with a
 * RELATIVE relocation; in a PIE file the stored bytes may be 0 (external
 * linkers), so read it as the loader would, then fall back to the symbol
 * runtime.text and the start of .text (where the Go linker puts it). */
static __u64 find_text_start(const struct elfsym *e, __u64 vaddr, const __u8 *hdr)
{
	struct elfsym_section s;
	struct elfsym_func sym;
	__u64 v = 0;

	if (!elfsym__read_ptr(e, vaddr + 8 + 2 * (__u64)hdr[7], hdr[7], &v) && v)
		return v;
	if (!elfsym__find_symbol(e, "runtime.text", &sym))
		return sym.vaddr;
	if (!elfsym__section(e, ".text", &s))
		return s.vaddr;
	return 0;
}

/* Parses the table at vaddr, whose bytes run to the end of section s. */
static int open_at(const struct elfsym *e, const struct elfsym_section *s, __u64 vaddr,
		   const char *how, struct gopclntab **out)
{
	enum gopclntab_format fmt;
	const __u8 *p;
	__u64 text = 0;
	size_t len;
	int err;

	if (!s->data || vaddr < s->vaddr || vaddr - s->vaddr >= s->size)
		return -EINVAL;
	p = s->data + (vaddr - s->vaddr);
	len = s->size - (vaddr - s->vaddr);
	if (!read_magic(p, len, &fmt) && fmt != GOPCLNTAB_GO116)
		text = find_text_start(e, vaddr, p);
	err = gopclntab__parse(p, len, text, out);
	if (!err) {
		(*out)->found_by = how;
		debug("%s: Go function table (%s) at 0x%llx, found by %s",
		      elfsym__path(e), gopclntab__format_str((*out)->fmt),
		      (unsigned long long)vaddr, how);
	}
	return err;
}

static int section_holding(const struct elfsym *e, __u64 vaddr, struct elfsym_section *s)
{
	size_t iter = 0;

	while (!elfsym__next_section(e, &iter, s))
		if ((s->flags & SHF_ALLOC) && vaddr >= s->vaddr && vaddr - s->vaddr < s->size)
			return 0;
	return -ENOENT;
}

/* Last resort: scan allocated, non-executable data for a header that
 * parses, is sorted, and whose first function has bytes in the file. On
 * the 5 MB externally linked stripped PIE fixture this is a few ms. */
static int scan(const struct elfsym *e, struct gopclntab **out)
{
	struct elfsym_section s;
	struct gopclntab_func f;
	size_t iter = 0;
	__u64 off;

	while (!elfsym__next_section(e, &iter, &s)) {
		if (!(s.flags & SHF_ALLOC) || (s.flags & SHF_EXECINSTR) || !s.data ||
		    s.type != SHT_PROGBITS)
			continue;
		/* The linker aligns the header to at least the pointer size. */
		for (off = 0; off + 64 <= s.size; off += 8) {
			if (rd32(s.data + off) < MAGIC_GO118 || rd32(s.data + off) > MAGIC_GO116)
				continue;
			if (open_at(e, &s, s.vaddr + off, "scan for the header", out))
				continue;
			if (!gopclntab__func(*out, 0, &f) && elfsym__data_at(e, f.entry, 1))
				return 0;
			gopclntab__close(*out);
			*out = NULL;
		}
	}
	return -ENOENT;
}

/*
 * Where the table lives depends on the build:
 *  - ".gopclntab": executables linked by Go's own linker (default, -s -w);
 *  - ".data.rel.ro.gopclntab": Go's linker with -buildmode=pie (Go 1.19
 *    here), because the header holds a pointer that needs relocating;
 *  - inside ".data.rel.ro" without a section of its own: external linking
 *    (cgo, -linkmode=external) of PIE; the symbol runtime.pclntab marks it
 *    unless stripped, and then only a scan for the header finds it.
 */
int gopclntab__open(const struct elfsym *e, struct gopclntab **out)
{
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	static const char *const hows[] = {
		"section .gopclntab", "section .data.rel.ro.gopclntab",
	};
	struct elfsym_section s;
	struct elfsym_func sym;
	size_t i;

	*out = NULL;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!elfsym__section(e, names[i], &s))
			return open_at(e, &s, s.vaddr, hows[i], out);
	if (!elfsym__find_symbol(e, "runtime.pclntab", &sym) &&
	    !section_holding(e, sym.vaddr, &s))
		return open_at(e, &s, sym.vaddr, "symbol runtime.pclntab", out);
	return elfsym__is_go(e) ? scan(e, out) : -ENOENT;
}
