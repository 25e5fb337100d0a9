/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Diagnostics to stderr, prefixed with the program name. */
#ifndef NETTUNE_LIB_LOG_H
#define NETTUNE_LIB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <bpf/libbpf.h>

enum log_level { LOG_WARN, LOG_INFO, LOG_DEBUG };

void log__init(const char *prog, enum log_level level);
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* libbpf's print callback: its debug output shows only with -v. */
int log__libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args);
/* Hides libbpf's messages on this thread (but not with -v): for a load
 * that is allowed to fail because a fallback follows. */
void log__quiet_libbpf(bool quiet);

#endif
