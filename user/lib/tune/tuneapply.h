/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Applying recommendations, journal first: each change is recorded (with
 * the original value and where it lives) and made durable before it is
 * made, then read back (tunerollback.h undoes it).
 */
#ifndef NETTUNE_LIB_TUNEAPPLY_H
#define NETTUNE_LIB_TUNEAPPLY_H

#include <stdbool.h>
#include <stdio.h>
#include "journal.h"
#include "nsref.h"
#include "tunerules.h"

struct tune_apply_opts {
	struct journal *journal;
	int nsfd;			/* the tuned namespace */
	const struct nsref *ns;
	int init_nsfd;			/* the initial namespace (global keys); < 0: none */
	const struct nsref *init_ns;
	bool ns_is_init;		/* the tuned namespace is the initial one */
	bool relisten;			/* --relisten: apply TUNE_RELISTEN too */
	bool allow_global;		/* --allow-global: write global keys from a netns */
	/* Called after each change is made, before it is marked applied (the
	 * test hook that lets a test SIGKILL the tuner at that moment). */
	void (*after_write)(void *ctx, int nwritten);
	void *ctx;
};

enum tune_status {
	TUNE_NOT_APPLIED,	/* advice only, or --relisten not given */
	TUNE_APPLIED,		/* written and read back */
	TUNE_SKIPPED,		/* not written: the reason says why */
	TUNE_FAILED,		/* the write or the read-back failed */
};

struct tune_outcome {
	enum tune_status status;
	char value[SYSCTL_VALUE_MAX];	/* read back after the write */
	char message[256];
};

/* Applies RECS[0..N) in order; OUT[i] tells what happened to RECS[i].
 * Returns the number of failures (0: everything asked for was applied). */
int tuneapply__apply(const struct tune_apply_opts *o, const struct tune_rec *recs, size_t n,
		     struct tune_outcome *out);
const char *tuneapply__status_name(enum tune_status s);
/* The accept-queue limit of listening socket SOCK_INO in namespace NSFD
 * (sock_diag). 0, -ENOENT (no such listener) or -errno. */
int tuneapply__listener_limit(int nsfd, __u32 sock_ino, __u32 *limit);

#endif
