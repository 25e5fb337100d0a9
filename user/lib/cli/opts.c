// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "log.h"
#include "opts.h"
#include "text.h"
#include "procfd.h"

int opts__u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+') {
		warn("%s: '%s' is not a number", opt, s ? s : "");
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end) {
		warn("%s: '%s' is not a number", opt, s);
		return -EINVAL;
	}
	if (errno == ERANGE || v < min || v > max) {
		warn("%s: %s is out of range [%llu, %llu]", opt, s,
		     (unsigned long long)min, (unsigned long long)max);
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int opts__int(const char *opt, const char *s, int min, int max, int *out)
{
	long v;
	char *end;

	if (!s || !*s) {
		warn("%s: '' is not a number", opt);
		return -EINVAL;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end) {
		warn("%s: '%s' is not a number", opt, s);
		return -EINVAL;
	}
	if (errno == ERANGE || v < min || v > max) {
		warn("%s: %s is out of range [%d, %d]", opt, s, min, max);
		return -ERANGE;
	}
	*out = (int)v;
	return 0;
}

int opts__seconds(const char *opt, const char *s, double max_s, uint64_t *out_ms)
{
	double v;
	char *end;

	if (!s || !*s) {
		warn("%s: '' is not a number of seconds", opt);
		return -EINVAL;
	}
	errno = 0;
	v = strtod(s, &end);
	if (*end || isnan(v)) {
		warn("%s: '%s' is not a number of seconds", opt, s);
		return -EINVAL;
	}
	if (errno == ERANGE || v <= 0 || v > max_s || v * 1000 < 1) {
		warn("%s: %s s is out of range (0.001 to %g s)", opt, s, max_s);
		return -ERANGE;
	}
	*out_ms = (uint64_t)(v * 1000 + 0.5);
	return 0;
}

int opts__port(const char *opt, const char *s, uint16_t *out)
{
	uint64_t v;
	int err = opts__u64(opt, s, 1, 65535, &v);

	if (!err)
		*out = (uint16_t)v;
	return err;
}

int opts__pid(const char *opt, const char *s, int *out)
{
	char path[64];
	struct stat st;
	int pid, err;

	err = opts__int(opt, s, 1, INT_MAX, &pid);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (stat(path, &st)) {
		warn("pid %d: no such process", pid);
		return -ESRCH;
	}
	if (procfd__exited(pid)) {
		warn("pid %d: the process has exited", pid);
		return -ESRCH;
	}
	*out = pid;
	return 0;
}

int opts__ip_addr(const char *opt, const char *s, struct sockaddr_storage *addr, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;

	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		*len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		*len = sizeof(*in6);
	} else {
		warn("%s: '%s' is not an IPv4 or IPv6 address", opt, s);
		return -EINVAL;
	}
	return 0;
}


int opts__getopt_error(int c, char **argv, const char *see)
{
	const char *opt = argv[optind - 1];

	if (c == ':')
		warn("option '%s' needs a value (see %s)", opt, see);
	else if (optopt && !strncmp(opt, "--", 2) && strchr(opt, '='))
		/* A known long option given a value it does not take: getopt
		 * sets optopt to the option's code, no character to print. */
		warn("option '%.*s' takes no value (see %s)", (int)(strchr(opt, '=') - opt), opt,
		     see);
	else if (optopt)
		warn("unknown option '-%c' (see %s)", optopt, see);
	else
		warn("unknown option '%s' (see %s)", opt, see);
	return -EINVAL;
}
