/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Small text tests every part of the library may use (it sits at the
 * library's root, with log and rowindex). */
#ifndef NETTUNE_LIB_TEXT_H
#define NETTUNE_LIB_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* A non-empty string of decimal digits only: a pid in /proc, an inode. */
bool text__all_digits(const char *s);
/* S for a terminal, in BUF (LEN bytes, truncated on a character): each
 * control character (C0, DEL, C1) and each byte that is not part of valid
 * UTF-8 becomes '?', so a name someone else chose (a delegated cgroup's)
 * cannot break a line or send an escape sequence. Returns BUF. */
const char *text__printable(const char *s, char *buf, size_t len);

#endif
