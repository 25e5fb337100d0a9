/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What `nettune tune` works on: one network namespace (from --netns, -p or
 * nettune's own), opened once and recorded so it can be found again, plus
 * the initial namespace where global sysctls live.
 */
#ifndef NETTUNE_LIB_TUNETARGET_H
#define NETTUNE_LIB_TUNETARGET_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "nsref.h"

struct tune_target_opts {
	int pid;		/* -p, 0 if none */
	const char *netns;	/* --netns as given, NULL if none */
};

struct tune_target {
	int nsfd;		/* the tuned namespace */
	int init_nsfd;		/* the initial namespace, if have_init */
	__u32 ino;
	__u32 init_ino;
	bool have_init;		/* the initial namespace was found (global keys) */
	bool is_init;		/* the tuned namespace is the initial one */
	struct nsref ns, init_ns;
	char where[320];	/* "netns 4026532301 (/run/netns/blue)" */
};

/* Opens the namespace O names; a pid given with -p must live in it. 0, or
 * -errno after one clear line (bad input: the caller exits 2). */
int tunetarget__open(const struct tune_target_opts *o, struct tune_target *t);
void tunetarget__close(struct tune_target *t);
/* --sysctls: every key nettune knows, where it lives by its table and what
 * this kernel shows in the target namespace (writable, read-only, absent).
 * Returns an exit code. */
int tunetarget__sysctls(const struct tune_target *t, FILE *out, bool json);

#endif
