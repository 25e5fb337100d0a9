// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "netns.h"
#include "nsref.h"
#include "procfd.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static int cookie_here(void *ctx)
{
	socklen_t len = sizeof(__u64);
	int fd, err = 0;

	/* Any socket made here belongs to this thread's namespace. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, ctx, &len))
		err = -errno;
	close(fd);
	return err;
}

int nsref__cookie(int nsfd, __u64 *cookie)
{
	*cookie = 0;
	return netns__run_in(nsfd, cookie_here, cookie);
}

static int fd_ino(int fd, __u32 *ino)
{
	struct statfs sfs;
	struct stat st;

	if (fstat(fd, &st) || fstatfs(fd, &sfs) || sfs.f_type != NSFS_MAGIC)
		return -EINVAL;
	*ino = (__u32)st.st_ino;
	return 0;
}

static void find_name(__u32 ino, char *path, size_t len)
{
	char cand[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir("/run/netns");

	path[0] = '\0';
	while (d && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cand, sizeof(cand), "/run/netns/%s", de->d_name);
		if (!stat(cand, &st) && (__u32)st.st_ino == ino && strlen(cand) < len) {
			strcpy(path, cand);
			break;
		}
	}
	if (d)
		closedir(d);
}

static int pid_in_ns(int pid, __u32 ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	return !stat(path, &st) && (__u32)st.st_ino == ino;
}

static int find_pid(__u32 ino)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int pid = 0;

	while (d && !pid && (de = readdir(d))) {
		int p = atoi(de->d_name);

		if (p > 0 && pid_in_ns(p, ino))
			pid = p;
	}
	if (d)
		closedir(d);
	return pid;
}

int nsref__capture(int nsfd, int pid, struct nsref *ref)
{
	int err;

	memset(ref, 0, sizeof(*ref));
	err = fd_ino(nsfd, &ref->ino);
	if (err)
		return err;
	/* Without SO_NETNS_COOKIE (before 5.14) the inode is all we have. */
	if (nsref__cookie(nsfd, &ref->cookie) == -ENOPROTOOPT)
		ref->cookie = 0;
	find_name(ref->ino, ref->path, sizeof(ref->path));
	ref->pid = pid > 0 && pid_in_ns(pid, ref->ino) ? pid : find_pid(ref->ino);
	if (ref->pid && procfd__start_time(ref->pid, &ref->pid_start))
		ref->pid = 0;
	return 0;
}

static int open_ns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? (errno == ENOENT ? -ENOENT : -errno) : fd;
}

/* Keeps FD only if it is the very namespace REF names: -ENOENT if it is
 * another, another -errno if that cannot be told (its cookie is read from
 * inside it, which needs CAP_SYS_ADMIN). */
static int verify(int fd, const struct nsref *ref)
{
	__u64 cookie = 0;
	__u32 ino;
	int err = 0;

	if (fd < 0)
		return fd;
	if (fd_ino(fd, &ino) || ino != ref->ino)
		err = -ENOENT;
	else if (ref->cookie && !(err = nsref__cookie(fd, &cookie)) && cookie != ref->cookie)
		err = -ENOENT;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* The more telling of two failures: anything but "not there". */
static int why_not(int why, int err)
{
	return why == -ENOENT ? err : why;
}

int nsref__open(const struct nsref *ref)
{
	char path[64];
	__u64 start;
	int fd = -ENOENT, why = -ENOENT;

	if (ref->path[0]) {
		fd = verify(open_ns(ref->path), ref);
		why = why_not(why, fd);
	}
	if (fd < 0 && ref->pid > 0 && !procfd__start_time(ref->pid, &start) &&
	    start == ref->pid_start) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", ref->pid);
		fd = verify(open_ns(path), ref);
		why = why_not(why, fd);
	}
	/* Both ways gone: any other holder of the namespace will do. */
	if (fd < 0) {
		fd = verify(netns__open_by_ino(ref->ino), ref);
		why = why_not(why, fd);
	}
	return fd >= 0 ? fd : why;
}

void nsref__describe(const struct nsref *ref, char *buf, unsigned long len)
{
	if (ref->path[0])
		snprintf(buf, len, "netns %u (%s)", ref->ino, ref->path);
	else if (ref->pid > 0)
		snprintf(buf, len, "netns %u (pid %d)", ref->ino, ref->pid);
	else
		snprintf(buf, len, "netns %u", ref->ino);
}
