/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A network namespace recorded so that it can be found again later, by
 * another process (nettune rollback), and never confused with another one:
 * its nsfs inode, its netns cookie (SO_NETNS_COOKIE: 64 bits, never reused
 * while the system runs, unlike inode numbers), and the ways to reach it —
 * a /run/netns name and a pid with that process's start time (pids are
 * reused, start times tell the two apart).
 */
#ifndef NETTUNE_LIB_NSREF_H
#define NETTUNE_LIB_NSREF_H

#include <linux/types.h>

struct nsref {
	__u64 cookie;		/* 0: the kernel has no SO_NETNS_COOKIE (before 5.14) */
	__u64 pid_start;	/* start time of pid, clock ticks after boot (/proc/PID/stat) */
	__u32 ino;		/* nsfs inode, what nettune calls "netns N" */
	int pid;		/* a process in the namespace; 0 if none was known */
	char path[256];		/* a /run/netns/NAME bind mount of it, or "" */
};

/* Records namespace NSFD. PID, when > 0, is a process known to live in it
 * (the -p target): it is preferred as the way back. 0 or -errno. */
int nsref__capture(int nsfd, int pid, struct nsref *ref);
/* Opens the recorded namespace: through the path, then the pid, then any
 * process or /run/netns name that holds the inode; each candidate is kept
 * only if its inode and cookie match. The fd; -ENOENT when no holder of it
 * is left (gone); another -errno when one may be but cannot be checked (no
 * CAP_SYS_ADMIN to read its cookie, a path we may not open). */
int nsref__open(const struct nsref *ref);
/* The cookie of namespace NSFD (-1: the caller's). 0 or -errno. */
int nsref__cookie(int nsfd, __u64 *cookie);
/* "netns 4026532301 (/run/netns/blue)" or "netns 4026532301 (pid 42)". */
void nsref__describe(const struct nsref *ref, char *buf, unsigned long len);

#endif
