// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include "log.h"
#include "netns.h"

static int ino_of(const char *path, __u32 *ino, const char *what)
{
	struct statfs sfs;
	struct stat st;

	if (stat(path, &st)) {
		int err = -errno;

		warn("--netns %s: %s", what, strerror(errno));
		return err;
	}
	/* A plain file would give an inode that matches no namespace. */
	if (statfs(path, &sfs) == 0 && sfs.f_type != NSFS_MAGIC &&
	    sfs.f_type != PROC_SUPER_MAGIC) {
		warn("--netns %s: not a network namespace file", what);
		return -EINVAL;
	}
	*ino = (__u32)st.st_ino;
	return 0;
}

int netns__of_pid(int pid, __u32 *ino)
{
	char path[64], what[32];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	snprintf(what, sizeof(what), "pid %d", pid);
	return ino_of(path, ino, what);
}

int netns__self(__u32 *ino)
{
	return ino_of("/proc/self/ns/net", ino, "self");
}

int netns__resolve(const char *spec, __u32 *ino)
{
	const char *p = spec;

	while (*p && isdigit((unsigned char)*p))
		p++;
	if (*spec && !*p) {
		int pid = 0;

		if (sscanf(spec, "%d", &pid) != 1 || pid <= 0) {
			warn("--netns %s: not a pid or a path", spec);
			return -EINVAL;
		}
		return netns__of_pid(pid, ino);
	}
	return ino_of(spec, ino, spec);
}
