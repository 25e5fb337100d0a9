// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "log.h"
#include "relisten.h"
#include "procfd.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

struct fd_search {
	__u32 inode;
	int fd;
};

static int take_fd(int fd, __u32 inode, void *ctx)
{
	struct fd_search *q = ctx;

	if (inode != q->inode)
		return 0;
	q->fd = fd;
	return 1;
}

int relisten__find_fd(int pid, __u32 sock_ino, int *fd)
{
	struct fd_search q = { .inode = sock_ino };
	int err = procfd__for_each_socket(pid, take_fd, &q);

	if (err < 0)
		return err;
	if (!err)
		return -ENOENT;
	*fd = q.fd;
	return 0;
}

static void explain(int err, int pid, int fd)
{
	switch (err) {
	case -EPERM:
		warn("pid %d: not permitted to take its listener fd %d: pidfd_getfd needs ptrace "
		     "rights over the process (root, or its user where kernel.yama.ptrace_scope "
		     "allows); restart the server with a larger backlog instead", pid, fd);
		break;
	case -ESRCH:
		warn("pid %d: no such process", pid);
		break;
	case -EBADF:
		warn("pid %d: it has no fd %d any more", pid, fd);
		break;
	case -ENOSYS:
		warn("pid %d: this kernel has no pidfd_getfd (Linux 5.6+); restart the server "
		     "with a larger backlog instead", pid);
		break;
	default:
		warn("pid %d fd %d: cannot duplicate it: %s", pid, fd, strerror(-err));
	}
}

/* The duplicate must still be the socket we journaled and must be listening:
 * the server may have closed it and opened something else under that number. */
static int check_dup(int dup, int pid, int fd, __u32 sock_ino)
{
	socklen_t len = sizeof(int);
	struct stat st;
	int on = 0;

	if (fstat(dup, &st) || !S_ISSOCK(st.st_mode) || (__u32)st.st_ino != sock_ino) {
		warn("pid %d fd %d: it is no longer socket %u", pid, fd, sock_ino);
		return -ESTALE;
	}
	if (getsockopt(dup, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) || !on) {
		warn("pid %d fd %d: socket %u is not listening", pid, fd, sock_ino);
		return -EINVAL;
	}
	return 0;
}

int relisten__dup(int pid, int fd, __u32 sock_ino)
{
	int pidfd, dup = -1, err;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		err = -errno;
		goto fail;
	}
	dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	err = dup < 0 ? -errno : 0;
	close(pidfd);
	if (err)
		goto fail;
	err = check_dup(dup, pid, fd, sock_ino);
	if (err) {
		close(dup);
		return err;
	}
	return dup;
fail:
	explain(err, pid, fd);
	return err;
}

int relisten__apply(int pid, int fd, __u32 sock_ino, int backlog)
{
	int dup = relisten__dup(pid, fd, sock_ino), err = 0;

	if (dup < 0)
		return dup;
	/* On a socket already in LISTEN, listen() only sets sk_max_ack_backlog
	 * (clamped to its namespace's somaxconn): queued connections stay. */
	if (listen(dup, backlog)) {
		err = -errno;
		warn("pid %d fd %d: listen(%d): %s", pid, fd, backlog, strerror(errno));
	}
	close(dup);
	return err;
}
