/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* ELF files for uprobes: function symbols, virtual address -> file offset,
 * raw bytes by address, and "is this Go, is it stripped".
 *
 * Addresses are link-time virtual addresses (st_value, sh_addr), never
 * runtime ones: uprobes are attached by FILE OFFSET, which is the same in
 * every process that maps the file, PIE or not. */
#ifndef NETTUNE_LIB_ELFSYM_H
#define NETTUNE_LIB_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct elfsym;

/* Where a symbol was found. */
enum elfsym_table { ELFSYM_SYMTAB, ELFSYM_DYNSYM };

struct elfsym_func {
	__u64 vaddr;		/* st_value */
	__u64 size;		/* st_size: exact, no alignment padding */
	__u64 offset;		/* file offset of vaddr: what uprobes take */
	enum elfsym_table table;
};

struct elfsym_section {
	const char *name;	/* valid until elfsym__close() */
	const __u8 *data;	/* raw file bytes; NULL for SHT_NOBITS */
	__u64 vaddr;		/* sh_addr; 0 if not SHF_ALLOC */
	__u64 offset;		/* sh_offset */
	__u64 size;
	__u64 flags;		/* SHF_* */
	__u32 type;		/* SHT_* */
};

/* -ENOENT/-EACCES from open(2); -ENOEXEC if the file is not a readable ELF
 * image (or not little-endian: nettune reads raw Go tables in host order). */
int elfsym__open(const char *path, struct elfsym **out);
void elfsym__close(struct elfsym *e);

const char *elfsym__path(const struct elfsym *e);
/* ET_EXEC (non-PIE executable) or ET_DYN (PIE executable, shared library). */
int elfsym__type(const struct elfsym *e);
/* EM_X86_64, EM_AARCH64, ... */
int elfsym__machine(const struct elfsym *e);
/* No .symtab: only .dynsym (C) or .gopclntab (Go) can name functions. */
bool elfsym__is_stripped(const struct elfsym *e);
/* Has .go.buildinfo, .gopclntab or .note.go.buildid. */
bool elfsym__is_go(const struct elfsym *e);

/* A defined function (STT_FUNC or STT_GNU_IFUNC) named exactly name, from
 * .symtab first, then .dynsym. -ENOENT if neither has it. */
int elfsym__find_func(const struct elfsym *e, const char *name, struct elfsym_func *f);

/* Any defined symbol named exactly name (functions, objects such as
 * runtime.pclntab), .symtab first; offset is ELFSYM_NO_OFFSET for a symbol
 * with no bytes in the file (.bss). */
#define ELFSYM_NO_OFFSET (~0ULL)
int elfsym__find_symbol(const struct elfsym *e, const char *name, struct elfsym_func *f);

/* File offset of vaddr via the PT_LOAD segment whose file-backed part holds
 * it. -ERANGE if no segment does (unmapped, or .bss). */
int elfsym__vaddr_to_offset(const struct elfsym *e, __u64 vaddr, __u64 *offset);

/* The file's bytes at [vaddr, vaddr+len), or NULL if that range is not
 * entirely file-backed inside one PT_LOAD. Valid until elfsym__close(). */
const void *elfsym__data_at(const struct elfsym *e, __u64 vaddr, size_t len);

/* A pointer-sized (ptr_size 4 or 8) little-endian value stored at vaddr, as
 * the loader would leave it before adding the load bias: a dynamic
 * R_*_RELATIVE relocation at vaddr wins over the file's bytes, because
 * linkers may leave the bytes 0 in PIE files. -ERANGE if unreadable. */
int elfsym__read_ptr(const struct elfsym *e, __u64 vaddr, unsigned int ptr_size, __u64 *val);

/* Section by exact name; -ENOENT if absent. */
int elfsym__section(const struct elfsym *e, const char *name, struct elfsym_section *s);
/* Iterate sections: *iter starts at 0; returns -ENOENT after the last one. */
int elfsym__next_section(const struct elfsym *e, size_t *iter, struct elfsym_section *s);

#endif
