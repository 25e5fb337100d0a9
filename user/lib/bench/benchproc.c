// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "benchproc.h"

struct new_ns {
	int fd;
};

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (s < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(s, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(s);
	return err;
}

/* unshare() moves only this thread, which dies right after: nettune's own
 * threads never change namespace. */
static void *make_ns(void *arg)
{
	struct new_ns *n = arg;
	int err;

	if (unshare(CLONE_NEWNET)) {
		n->fd = -errno;
		return NULL;
	}
	err = lo_up();
	n->fd = err ? err : open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (n->fd == -1)
		n->fd = -errno;
	return NULL;
}

int benchproc__netns(void)
{
	struct new_ns n = { .fd = -EINVAL };
	pthread_t t;
	int err = pthread_create(&t, NULL, make_ns, &n);

	if (err)
		return -err;
	pthread_join(t, NULL);
	return n.fd;
}

static void child(int nsfd, int out, int err, char *const argv[])
{
	/* Only async-signal-safe calls between fork and exec. If nettune dies
	 * (SIGKILL included), its children must not outlive it in a namespace
	 * nobody can name. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() == 1)
		_exit(126);
	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET))
		_exit(126);
	if (dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	execv(argv[0], argv);
	_exit(127);
}

int benchproc__spawn(int nsfd, char *const argv[], struct benchproc *p)
{
	int out[2], err[2];

	memset(p, 0, sizeof(*p));
	p->out_fd = p->err_fd = -1;
	if (pipe2(out, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		close(out[0]);
		close(out[1]);
		return -errno;
	}
	p->pid = fork();
	if (p->pid == 0)
		child(nsfd, out[1], err[1], argv);
	close(out[1]);
	close(err[1]);
	if (p->pid < 0) {
		p->pid = 0;
		close(out[0]);
		close(err[0]);
		return -errno;
	}
	p->out_fd = out[0];
	p->err_fd = err[0];
	p->started = true;
	return 0;
}

static void append(int *fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(*fd, chunk, sizeof(chunk));
	char *b;

	if (n <= 0) {	/* EOF or error: this stream is done */
		close(*fd);
		*fd = -1;
		return;
	}
	b = realloc(*buf, *len + (size_t)n + 1);
	if (!b)
		return;	/* output lost, never the child */
	memcpy(b + *len, chunk, (size_t)n);
	*len += (size_t)n;
	b[*len] = '\0';
	*buf = b;
}

/* Reads whatever is ready within WAIT_MS; both pipes at once, so a child
 * filling one of them can never block on it. */
static void pump(struct benchproc *p, int wait_ms)
{
	struct pollfd f[2] = { { .fd = p->out_fd, .events = POLLIN },
			       { .fd = p->err_fd, .events = POLLIN } };

	if (p->out_fd < 0 && p->err_fd < 0) {
		if (wait_ms > 0)
			usleep((useconds_t)wait_ms * 1000);
		return;
	}
	if (poll(f, 2, wait_ms) <= 0)
		return;
	if (f[0].revents)
		append(&p->out_fd, &p->out, &p->out_len);
	if (f[1].revents)
		append(&p->err_fd, &p->err, &p->err_len);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool reaped(struct benchproc *p)
{
	if (p->pid && waitpid(p->pid, &p->status, WNOHANG) == p->pid)
		p->pid = 0;
	return !p->pid;
}

int benchproc__wait_for(struct benchproc *p, const char *needle, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	while (!(p->err && strstr(p->err, needle))) {
		if (reaped(p) && p->err_fd < 0)
			return -ECHILD;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		pump(p, 50);
	}
	return 0;
}

int benchproc__wait(struct benchproc *p, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	while (!reaped(p) || p->out_fd >= 0 || p->err_fd >= 0) {
		if (now_ms() >= end)
			return -ETIMEDOUT;
		pump(p, 50);
	}
	if (WIFSIGNALED(p->status))
		return 128 + WTERMSIG(p->status);
	return WEXITSTATUS(p->status);
}

void benchproc__stop(struct benchproc *p, int grace_ms)
{
	if (!p->started || !p->pid)
		return;
	kill(p->pid, SIGTERM);
	if (benchproc__wait(p, grace_ms) == -ETIMEDOUT && p->pid) {
		kill(p->pid, SIGKILL);
		benchproc__wait(p, 5000);
	}
}

void benchproc__free(struct benchproc *p)
{
	if (!p->started)
		return;
	benchproc__stop(p, 2000);
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof(*p));
}
