/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Network sysctls as a given network namespace sees them, and what nettune
 * knows about each key it may read or write: where it lives (per namespace
 * or global), its kernel default and the hard ceiling the tuner respects.
 * See docs/tuning.md "Where each setting lives" for how the table was checked.
 */
#ifndef NETTUNE_LIB_SYSCTL_H
#define NETTUNE_LIB_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#define SYSCTL_VALUE_MAX	256	/* longest value nettune keeps (port ranges, triples) */

enum sysctl_scope {
	SYSCTL_NETNS,		/* each network namespace has its own value */
	SYSCTL_GLOBAL,		/* one value, written in the initial namespace only */
};

struct sysctl_info {
	const char *key;		/* "net.core.somaxconn" */
	enum sysctl_scope scope;
	const char *kernel_default;	/* as the kernel sets it, in words when computed */
	long long floor;		/* the tuner never proposes less (for the field it tunes) */
	long long ceiling;		/* ... nor more */
	int field;			/* which whitespace-separated field the bounds apply to */
	const char *note;		/* why the entry is what it is */
};

/* The table entry of KEY, or NULL when nettune does not know the key. */
const struct sysctl_info *sysctl__info(const char *key);
/* The whole table, for --sysctls and the tests. */
const struct sysctl_info *sysctl__table(size_t *n);
const char *sysctl__scope_name(enum sysctl_scope s);

/* "net.core.somaxconn" -> "/proc/sys/net/core/somaxconn". Only net.* keys of
 * letters, digits, '_', '-' and dots are accepted (no "..", no '/'), so a key
 * read from a journal can never name a file elsewhere. 0 or -EINVAL. */
int sysctl__path(const char *key, char *buf, size_t len);
/* Collapses runs of tabs and spaces into one space and trims the ends, as
 * values are compared and journaled ("32768\t60999\n" -> "32768 60999"). */
void sysctl__normalize(char *val);

/* Reads KEY as network namespace NSFD sees it (-1: the caller's own) into
 * VAL (normalized). The file is opened from a thread inside the namespace:
 * /proc/sys/net resolves through the opening task's namespace. 0 or -errno
 * (-ENOENT: the key does not exist there; global keys are absent from other
 * namespaces). */
int sysctl__read(int nsfd, const char *key, char *val, size_t len);
int sysctl__read_ll(int nsfd, const char *key, int field, long long *out);
/* Writes VAL to KEY in NSFD. 0 or -errno; -EROFS when the key is visible but
 * read-only there (rmem_max and friends in a non-initial namespace). */
int sysctl__write(int nsfd, const char *key, const char *val);
/* 0 when KEY exists and is writable in NSFD, -ENOENT when absent, -EROFS when
 * read-only there. Decides where a key lives on this kernel. */
int sysctl__probe(int nsfd, const char *key);

/* Field FIELD (0-based) of a normalized value as a number; -EINVAL if absent. */
int sysctl__field(const char *val, int field, long long *out);
/* VAL with field FIELD replaced by V, into OUT. 0, -EINVAL or -ENOSPC. */
int sysctl__set_field(const char *val, int field, long long v, char *out, size_t len);

#endif
