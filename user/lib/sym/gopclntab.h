/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Go's function table (.gopclntab): every function's name, entry address
 * and size, even in binaries stripped with -ldflags="-s -w", which drop
 * .symtab but keep this table because the runtime needs it for tracebacks,
 * stack copying and the garbage collector.
 *
 * Formats read (by their magic number, little-endian):
 *   0xfffffffa  Go 1.16 and 1.17
 *   0xfffffff0  Go 1.18 and 1.19
 *   0xfffffff1  Go 1.20 and later
 * Older tables (0xfffffffb, Go 1.2-1.15) are refused with -EPROTONOSUPPORT:
 * those Go versions predate the register ABI that nettune's Go probes need. */
#ifndef NETTUNE_LIB_GOPCLNTAB_H
#define NETTUNE_LIB_GOPCLNTAB_H

#include <stddef.h>
#include <linux/types.h>

struct elfsym;
struct gopclntab;

enum gopclntab_format {
	GOPCLNTAB_GO116 = 116,	/* Go 1.16-1.17 */
	GOPCLNTAB_GO118 = 118,	/* Go 1.18-1.19 */
	GOPCLNTAB_GO120 = 120,	/* Go 1.20+ */
};

struct gopclntab_func {
	const char *name;	/* borrowed from the table's bytes */
	__u64 entry;		/* link-time virtual address */
	/* Up to the next function's entry, so it includes the INT3 padding
	 * the linker puts between functions: .symtab's st_size is smaller. */
	__u64 size;
};

/* Finds the table in a Go ELF file (see gopclntab.c for where it looks).
 * -ENOENT: no table; -EPROTONOSUPPORT: a format older than Go 1.16 or
 * big-endian; -EINVAL: a table that fails its consistency checks.
 * The table borrows e's bytes: close it before elfsym__close(e). */
int gopclntab__open(const struct elfsym *e, struct gopclntab **out);

/* Parses a table from raw bytes (data must stay valid while *out lives).
 * text_start is the address function offsets are relative to (Go 1.18+);
 * 0 takes it from the table's header, which PIE files may leave 0. */
int gopclntab__parse(const void *data, size_t len, __u64 text_start, struct gopclntab **out);

void gopclntab__close(struct gopclntab *t);

enum gopclntab_format gopclntab__format(const struct gopclntab *t);
/* "Go 1.18-1.19" etc., for messages. */
const char *gopclntab__format_str(enum gopclntab_format fmt);
/* How the table was found ("section .gopclntab", "symbol runtime.pclntab", ...). */
const char *gopclntab__found_by(const struct gopclntab *t);

/* Iteration: functions 0..count-1, in ascending entry order. */
size_t gopclntab__count(const struct gopclntab *t);
int gopclntab__func(const struct gopclntab *t, size_t idx, struct gopclntab_func *f);

/* By exact Go name ("main.work", "net/http.serverHandler.ServeHTTP"): the
 * first function so named, -ENOENT if none. Names are NOT unique here,
 * unlike in .symtab: an ABI wrapper (".abi0" in .symtab) has the name of
 * the function it wraps, and every instantiation of a generic function is
 * named with "[...]" for its type arguments. */
int gopclntab__find(const struct gopclntab *t, const char *name, struct gopclntab_func *f);
/* All functions so named: *iter starts at 0; -ENOENT after the last. */
int gopclntab__find_next(const struct gopclntab *t, const char *name, size_t *iter,
			 struct gopclntab_func *f);

#endif
