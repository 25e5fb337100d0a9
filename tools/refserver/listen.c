// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Listening sockets: one shared by all workers, or one per worker with
 * SO_REUSEPORT (the kernel then spreads connections by 4-tuple hash, each
 * listener with its own accept queue). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "refserver.h"

static int set_int(int fd, int level, int name, int v, const char *what)
{
	if (setsockopt(fd, level, name, &v, sizeof(v))) {
		warn("setsockopt %s=%d: %s", what, v, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Options set on the listener that accepted sockets inherit: buffer sizes
 * (which must be set before listen() to shape the window scale) and
 * TCP_NODELAY, saving a setsockopt() per connection. */
static int set_options(int fd, const struct rs_opts *o)
{
	int err;

	err = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	if (!err && o->reuseport)
		err = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
	if (!err && o->rcvbuf)
		err = set_int(fd, SOL_SOCKET, SO_RCVBUF, o->rcvbuf, "SO_RCVBUF");
	if (!err && o->sndbuf)
		err = set_int(fd, SOL_SOCKET, SO_SNDBUF, o->sndbuf, "SO_SNDBUF");
	if (!err)
		err = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	return err;
}

int rs_listen__port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int rs_listen__open(const struct rs_opts *o, int port, int *fd_out)
{
	struct sockaddr_storage addr = o->addr;
	int fd, err;

	/* With --port 0 and several reuseport listeners, the first one picks
	 * the port and the others join it. */
	if (addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)port);
	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		warn("socket: %s", strerror(errno));
		return err;
	}
	err = set_options(fd, o);
	if (err)
		goto cleanup;
	if (bind(fd, (struct sockaddr *)&addr, o->addr_len)) {
		err = -errno;
		warn("cannot bind %s port %d: %s", o->addr_str, port, strerror(errno));
		goto cleanup;
	}
	if (listen(fd, o->backlog)) {
		err = -errno;
		warn("listen on %s port %d: %s", o->addr_str, port, strerror(errno));
		goto cleanup;
	}
	*fd_out = fd;
	return 0;
cleanup:
	close(fd);
	return err;
}
