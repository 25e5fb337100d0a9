// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include "log.h"
#include "text.h"
#include "netns.h"
#include "procfd.h"

/* what names the input in messages ("--netns /run/netns/x", "-p 42"). */
static int ino_of(const char *path, __u32 *ino, const char *what)
{
	struct statfs sfs;
	struct stat st;

	if (stat(path, &st)) {
		int err = -errno;

		warn("%s: %s", what, strerror(errno));
		return err;
	}
	/* A plain file would give an inode that matches no namespace. */
	if (statfs(path, &sfs) == 0 && sfs.f_type != NSFS_MAGIC &&
	    sfs.f_type != PROC_SUPER_MAGIC) {
		warn("%s: not a network namespace file", what);
		return -EINVAL;
	}
	*ino = (__u32)st.st_ino;
	return 0;
}

int netns__of_pid(const char *flag, int pid, __u32 *ino)
{
	char path[64], what[48];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (access(path, F_OK)) {
		warn("%s %d: no such process", flag, pid);
		return -ESRCH;
	}
	/* A zombie is still in /proc, without namespaces. */
	if (procfd__exited(pid)) {
		warn("%s %d: the process has exited (it has no network namespace left)", flag,
		     pid);
		return -ESRCH;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	snprintf(what, sizeof(what), "%s %d", flag, pid);
	return ino_of(path, ino, what);
}

int netns__self(__u32 *ino)
{
	return ino_of("/proc/self/ns/net", ino, "nettune's own network namespace");
}

int netns__resolve(const char *spec, __u32 *ino)
{
	char what[PATH_MAX + 16];

	if (text__all_digits(spec)) {
		int pid = 0;

		if (sscanf(spec, "%d", &pid) != 1 || pid <= 0) {
			warn("--netns %s: not a pid or a path", spec);
			return -EINVAL;
		}
		return netns__of_pid("--netns", pid, ino);
	}
	snprintf(what, sizeof(what), "--netns %s", spec);
	return ino_of(spec, ino, what);
}

/* Opens REL under DIRFD and keeps it only if it is the nsfs file of
 * namespace INO. The inode alone is not enough: a leftover plain file in
 * /run/netns (a failed bind mount) has an inode from another filesystem. */
static int open_if_ns(int dirfd, const char *rel, __u32 ino)
{
	struct statfs sfs;
	struct stat st;
	int fd;

	fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) || fstatfs(fd, &sfs) || sfs.f_type != NSFS_MAGIC ||
	    (__u32)st.st_ino != ino) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* Tries DIR/<entry>SUFFIX for each entry. Processes exit and deny access
 * while we scan; such entries are simply not a match. */
static int scan_for_ns(const char *dir, const char *suffix, bool pids_only, __u32 ino)
{
	char rel[NAME_MAX + 16];
	struct dirent *de;
	int fd = -ENOENT;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while (fd < 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.' || (pids_only && !text__all_digits(de->d_name)))
			continue;
		snprintf(rel, sizeof(rel), "%s%s", de->d_name, suffix);
		fd = open_if_ns(dirfd(d), rel, ino);
	}
	closedir(d);
	return fd;
}

int netns__open_by_ino(__u32 ino)
{
	int fd;

	fd = scan_for_ns("/proc", "/ns/net", true, ino);
	/* A namespace made by `ip netns add` may have no process at all: only
	 * its bind mount keeps it alive. */
	if (fd == -ENOENT)
		fd = scan_for_ns("/run/netns", "", false, ino);
	if (fd < 0)
		debug("network namespace %u: no process or /run/netns name holds it", ino);
	return fd;
}

struct ns_call {
	int nsfd;
	int (*fn)(void *ctx);
	void *ctx;
	int ret;
};

static void *ns_thread(void *arg)
{
	struct ns_call *c = arg;

	if (setns(c->nsfd, CLONE_NEWNET)) {
		c->ret = -errno;
		warn("cannot enter network namespace (fd %d): %s%s", c->nsfd, strerror(errno),
		     errno == EPERM ? "; this needs CAP_SYS_ADMIN" : "");
	} else {
		c->ret = c->fn(c->ctx);
	}
	return NULL;
}

/*
 * setns() moves only the calling thread, so a throwaway thread can enter the
 * namespace, do the work and die, while the caller (and any other thread)
 * never leaves its own namespace: no way back to get wrong, nothing half
 * switched if the work fails. Inside, /proc/thread-self/net is that
 * namespace; /proc/self/net would still be the thread-group leader's.
 */
int netns__run_in(int nsfd, int (*fn)(void *ctx), void *ctx)
{
	struct ns_call c = { .nsfd = nsfd, .fn = fn, .ctx = ctx };
	pthread_t t;
	int err;

	if (nsfd < 0) {
		err = fn(ctx);
		goto out;
	}
	err = pthread_create(&t, NULL, ns_thread, &c);
	if (err) {
		warn("cannot start a thread to enter a network namespace: %s", strerror(err));
		err = -err;
		goto out;
	}
	pthread_join(t, NULL);
	err = c.ret;
out:
	return err;
}
