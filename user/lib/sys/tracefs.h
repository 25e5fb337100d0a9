/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Tracepoint discovery through tracefs. */
#ifndef NETTUNE_LIB_TRACEFS_H
#define NETTUNE_LIB_TRACEFS_H

#include <stdbool.h>

/* The events directory, mounting tracefs at /sys/kernel/tracing when no
 * tracefs is mounted (libbpf needs it to attach tracepoints). NULL with
 * errno set when it cannot be found or mounted. */
const char *tracefs__events_dir(void);
/* Does "category/name" exist on this kernel? */
bool tracefs__has(const char *tp);
/* Does the tracepoint's record have this field (its format file)? */
bool tracefs__has_field(const char *tp, const char *field);
/* The same test on the text of a format file. */
bool tracefs__format_has_field(const char *format, const char *field);

#endif
