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

/* /proc/PID/stat from field 3 (the state) on, in buf: comm, before it, may
 * hold spaces and parentheses, so the fields restart after the last ')'.
 * NULL when the process is gone or the file is not as expected. */
static const char *stat_fields(int pid, char *buf, size_t len)
{
	char path[32], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p + 2 : NULL;
}

bool procfd__exited(int pid)
{
	char buf[1024];
	const char *f = stat_fields(pid, buf, sizeof(buf));

	return f && (f[0] == 'Z' || f[0] == 'X');
}

int procfd__start_time(int pid, __u64 *start)
{
	char buf[1024];
	const char *f = stat_fields(pid, buf, sizeof(buf));
	unsigned long long v;

	/* starttime is field 22: the 20th from the state. */
	if (!f || sscanf(f, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
			 "%*d %*d %*d %*d %*d %*d %llu", &v) != 1)
		return -ESRCH;
	*start = v;
	return 0;
}
