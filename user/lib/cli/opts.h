/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Strict parsing of command-line values. Each returns 0 or -EINVAL/-ERANGE
 * and writes one clear line to stderr naming the option and the value. */
#ifndef NETTUNE_LIB_OPTS_H
#define NETTUNE_LIB_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Exit codes shared by every nettune program. */
#define EXIT_RUNTIME	1	/* something failed while running */
#define EXIT_USAGE	2	/* bad input: flags, numbers, targets */

int opts__u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);
int opts__int(const char *opt, const char *s, int min, int max, int *out);
/* Seconds, possibly fractional ("0.5", "10"), > 0 and <= max_s; out in ms. */
int opts__seconds(const char *opt, const char *s, double max_s, uint64_t *out_ms);
int opts__port(const char *opt, const char *s, uint16_t *out);
/* A live process id (checked through /proc/PID). */
int opts__pid(const char *opt, const char *s, int *out);
/* An IPv4 or IPv6 address (no port) into *addr, its length in *len. */
int opts__ip_addr(const char *opt, const char *s, struct sockaddr_storage *addr, socklen_t *len);
/* For getopt_long with opterr = 0 and a leading ':' in the short options:
 * reports a '?' (unknown option) or ':' (missing value) as one line that
 * points at `see` ("--help", "nettune trace --help"); returns -EINVAL. */
int opts__getopt_error(int c, char **argv, const char *see);
/* Non-empty and decimal digits only (a pid in /proc, a numeric argument). */

#endif
