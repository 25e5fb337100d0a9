/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Go build information (.go.buildinfo): the toolchain version that built a
 * binary and its main package and module, as `go version -m` shows them.
 * Stripping (-s -w) keeps it: the runtime/debug package reads it at run time.
 *
 * Two layouts, told apart by bit 1 of the flags byte after the magic:
 *   Go 1.18+  the version and module strings follow the header inline,
 *             each preceded by its length as a varint;
 *   Go 1.13-1.17  the header holds two pointers to Go string headers
 *             (data pointer, length) elsewhere in the image. */
#ifndef NETTUNE_LIB_GOBUILDINFO_H
#define NETTUNE_LIB_GOBUILDINFO_H

#include <stddef.h>
#include <linux/types.h>

struct elfsym;
struct gobuildinfo;

/* How the pointer-based layout reaches memory outside the blob. For ELF
 * files gobuildinfo__open() wires these to elfsym__read_ptr/__data_at;
 * tests and other readers (e.g. /proc/PID/mem) can supply their own. */
struct gobuildinfo_mem {
	int (*read_ptr)(void *ctx, __u64 vaddr, unsigned int ptr_size, __u64 *val);
	const void *(*data_at)(void *ctx, __u64 vaddr, size_t len);
	void *ctx;
};

/* -ENOENT: no build info (not Go, or Go older than 1.13);
 * -EINVAL: malformed; -EPROTONOSUPPORT: big-endian pointer layout. */
int gobuildinfo__open(const struct elfsym *e, struct gobuildinfo **out);
/* data/len: the blob, starting at its 14-byte magic; vaddr: its address
 * (used only by the pointer layout, with mem, which may then be NULL only
 * for the inline layout). The strings are copied: *out owns them. */
int gobuildinfo__parse(const void *data, size_t len, __u64 vaddr,
		       const struct gobuildinfo_mem *mem, struct gobuildinfo **out);
void gobuildinfo__free(struct gobuildinfo *b);

/* "go1.19.8", "go1.21rc2", "devel go1.23-abcdef ..." */
const char *gobuildinfo__version(const struct gobuildinfo *b);
/* The main package path ("path" line); NULL if the binary has none. */
const char *gobuildinfo__path(const struct gobuildinfo *b);
/* The main module path ("mod" line); NULL if built outside a module. */
const char *gobuildinfo__module(const struct gobuildinfo *b);
/* The module text without its framing ("" if none), as `go version -m`. */
const char *gobuildinfo__modinfo(const struct gobuildinfo *b);

/* Major and minor numbers of a Go version string as above ("go1.19.8" ->
 * 1, 19). -EINVAL if it names no release. */
int gobuildinfo__parse_version(const char *version, int *major, int *minor);

#endif
