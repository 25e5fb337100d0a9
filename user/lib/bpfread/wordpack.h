/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Fixed-size records stored as their non-zero 64-bit words only: a bitmap
 * of which words are non-zero, then those words in order. Snapshots of the
 * per-CPU stats maps keep every row twice (this read and the previous one,
 * for interval deltas), and the rows are mostly zeros: a struct hist is
 * 4.4 KB of buckets of which a row typically uses a few. An accept row
 * with one sample packs into about 15 words instead of 550; the worst case
 * (no zero word) costs one word of bitmap per 64 words of record.
 */
#ifndef NETTUNE_LIB_WORDPACK_H
#define NETTUNE_LIB_WORDPACK_H

#include <stddef.h>
#include <linux/types.h>

/* Most words the packed form of a size-byte record takes. */
size_t wordpack__max_words(size_t size);
/* Packs rec (size bytes; a partial last word counts as zero-padded) into
 * out, which has room for wordpack__max_words(size); returns words used. */
size_t wordpack__pack(const void *rec, size_t size, __u64 *out);
/* Writes all size bytes of rec from its packed form; returns words read. */
size_t wordpack__unpack(const __u64 *in, size_t size, void *rec);

#endif
