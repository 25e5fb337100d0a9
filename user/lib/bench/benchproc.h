/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Processes for `nettune bench`: a private network namespace that exists
 * only as long as nettune holds its descriptor, and programs started inside
 * it with their stdout and stderr captured.
 */
#ifndef NETTUNE_LIB_BENCHPROC_H
#define NETTUNE_LIB_BENCHPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct benchproc {
	bool started;		/* benchproc__spawn succeeded: the rest is valid */
	pid_t pid;		/* 0 once reaped */
	int status;		/* wait status once reaped */
	int out_fd, err_fd;	/* read ends, -1 once closed */
	char *out, *err;	/* everything read so far, NUL-terminated */
	size_t out_len, err_len;
};

/* A new network namespace with loopback up, made from a short-lived thread
 * (the caller never leaves its own). Returns its fd (O_CLOEXEC: children
 * enter it explicitly) or -errno. Closing the last fd, once no process lives
 * in it, deletes it. */
int benchproc__netns(void);
/* Starts ARGV (ARGV[0] a path) in namespace NSFD (-1: ours), stdout and
 * stderr to pipes. 0 or -errno. */
int benchproc__spawn(int nsfd, char *const argv[], struct benchproc *p);
/* Collects output until NEEDLE appears in the child's stderr. 0, -ETIMEDOUT,
 * or -ECHILD when the child exited first. */
int benchproc__wait_for(struct benchproc *p, const char *needle, int timeout_ms);
/* Collects output until the child exits and reaps it: its exit code, or
 * -ETIMEDOUT (it is still running), or 128 + signal. */
int benchproc__wait(struct benchproc *p, int timeout_ms);
/* SIGTERM, SIGKILL after GRACE_MS, reaped; output collected meanwhile. */
void benchproc__stop(struct benchproc *p, int grace_ms);
/* Stops it if running and frees the buffers; accepts a zeroed struct. */
void benchproc__free(struct benchproc *p);

#endif
