// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdbool.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"

/* Process-wide by nature: one program name and one verbosity per process. */
static const char *log_prog = "nettune";
static enum log_level log_lvl = LOG_INFO;
/* Per thread: families load on parallel threads, and one that tries a
 * program it can do without must not silence another's real errors. */
static __thread bool libbpf_quiet;

void log__init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_lvl = level;
}

static void vlog(enum log_level lvl, const char *fmt, va_list ap)
{
	if (lvl > log_lvl)
		return;
	/* One line at a time: families attach on parallel threads. */
	flockfile(stderr);
	fprintf(stderr, "%s: ", log_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

#define DEFINE_LOG(name, lvl)                   \
	void name(const char *fmt, ...)         \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		vlog(lvl, fmt, ap);             \
		va_end(ap);                     \
	}
DEFINE_LOG(warn, LOG_WARN)
DEFINE_LOG(info, LOG_INFO)
DEFINE_LOG(debug, LOG_DEBUG)

void log__quiet_libbpf(bool quiet)
{
	libbpf_quiet = quiet;
}

int log__libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (libbpf_quiet && log_lvl < LOG_DEBUG)
		return 0;
	if (level == LIBBPF_DEBUG && log_lvl < LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log_lvl < LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}
