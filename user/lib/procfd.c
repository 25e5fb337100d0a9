// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procfd.h"

int procfd__for_each_socket(int pid, int (*fn)(int fd, __u32 inode, void *ctx), void *ctx)
{
	char path[32], link[64];
	struct dirent *de;
	int ret = 0;
	__u32 inode;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while (!ret && (de = readdir(d))) {
		ssize_t len = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);

		if (len <= 0)
			continue;	/* ".", "..", or closed meanwhile */
		link[len] = '\0';
		if (sscanf(link, "socket:[%u]", &inode) == 1)
			ret = fn(atoi(de->d_name), inode, ctx);
	}
	closedir(d);
	return ret;
}

void procfd__comm(int pid, char comm[16])
{
	char path[32];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	strcpy(comm, "?");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, 16, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}
