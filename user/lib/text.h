/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Small text tests every part of the library may use (it sits at the
 * library's root, with log and rowindex). */
#ifndef NETTUNE_LIB_TEXT_H
#define NETTUNE_LIB_TEXT_H

#include <stdbool.h>

/* A non-empty string of decimal digits only: a pid in /proc, an inode. */
bool text__all_digits(const char *s);

#endif
