// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* One connection slot: connect, send a request, read the response, and
 * account for each step. Latencies are taken from the operation's
 * intended start (see engine.c), never from when we got round to it. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "loadgen.h"

static enum lg_err err_kind(int cause)
{
	switch (cause) {
	case ECONNREFUSED:
		return LG_E_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return LG_E_RESET;
	case ETIMEDOUT:
	case LG_CAUSE_TIMEOUT:
		return LG_E_TIMEOUT;
	default:
		return LG_E_OTHER;
	}
}

static void close_socket(struct lg_thread *t, struct lg_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);	/* also leaves the epoll set */
	c->fd = -1;
	c->state = LG_FREE;
	lg_list__move(t, c, &t->free);
}

/* The operation on c, if any, ended; the socket goes with it. */
static void end_op(struct lg_thread *t, struct lg_conn *c)
{
	if (c->has_op) {
		c->has_op = false;
		t->inflight--;
	}
}

static void fail(struct lg_thread *t, struct lg_conn *c, int cause)
{
	if (cause <= 0 || cause >= LG_NCAUSES)
		cause = LG_CAUSE_PROTO;
	t->st.err[err_kind(cause)]++;
	t->st.cause[cause]++;
	if (c->has_op)
		t->st.failed++;
	end_op(t, c);
	close_socket(t, c);
}

void lg_conn__close(struct lg_thread *t, struct lg_conn *c)
{
	end_op(t, c);
	close_socket(t, c);
}

static void send_request(struct lg_thread *t, struct lg_conn *c)
{
	ssize_t n;

	while (c->sent < t->req_len) {
		n = write(c->fd, t->req + c->sent, t->req_len - c->sent);
		if (n > 0) {
			c->sent += (uint32_t)n;
			t->st.bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			c->state = LG_SENDING;	/* EPOLLOUT (edge) resumes us */
			return;
		}
		fail(t, c, n < 0 ? errno : EPIPE);
		return;
	}
	c->state = LG_READING;
}

static void start_request(struct lg_thread *t, struct lg_conn *c)
{
	c->sent = 0;
	c->len = 0;
	c->head_done = false;
	c->server_close = false;
	c->body_left = 0;
	send_request(t, c);
}

void lg_conn__request(struct lg_thread *t, struct lg_conn *c, uint64_t intended)
{
	c->intended = intended;
	c->has_op = true;
	lg_list__move(t, c, &t->busy);	/* the request's timeout starts now */
	start_request(t, c);
}

void lg_conn__connect(struct lg_thread *t, struct lg_conn *c, uint64_t intended, bool with_op)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	const struct lg_opts *o = t->o;

	c->intended = c->conn_intended = intended;
	c->has_op = with_op;
	c->readable = c->peer_closed = false;
	c->state = LG_CONNECTING;
	lg_list__move(t, c, &t->busy);
	t->st.connections++;
	c->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fail(t, c, errno);
		return;
	}
	if (o->rst && setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg))) {
		fail(t, c, errno);
		return;
	}
	if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addr_len) &&
	    errno != EINPROGRESS) {
		fail(t, c, errno);
		return;
	}
	/* Registered after connect(): a socket that is not yet connecting
	 * polls as EPOLLHUP, which would look like a failure. */
	ev.data.ptr = c;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->fd, &ev))
		fail(t, c, errno);
}

static void connected(struct lg_thread *t, struct lg_conn *c)
{
	hist__record(&t->st.connect, t->now - c->conn_intended);
	if (t->o->mode == LG_CONNECT) {
		t->st.completed++;
		lg_conn__close(t, c);
		return;
	}
	if (c->has_op) {
		start_request(t, c);
		return;
	}
	c->state = LG_IDLE;	/* opened ahead: waits for a request */
	lg_list__move(t, c, &t->idle);
}

static void completed(struct lg_thread *t, struct lg_conn *c)
{
	int cls = c->status / 100;

	hist__record(&t->st.response, t->now - c->intended);
	t->st.status[cls >= 1 && cls <= 5 ? cls : 0]++;
	t->st.completed++;
	end_op(t, c);
	if (t->o->mode == LG_HTTP_KEEPALIVE && !c->server_close && !c->peer_closed) {
		c->state = LG_IDLE;
		lg_list__move(t, c, &t->idle);
		return;
	}
	close_socket(t, c);
}

/* Bytes of the response so far: head into head[], body counted. Returns
 * true when the response is complete. */
static bool took(struct lg_conn *c, uint32_t n, int *cause)
{
	struct lg_resp r;
	int err;

	if (c->head_done) {
		if (c->body_left > 0)
			c->body_left -= n;
		return c->body_left == 0;
	}
	c->len += n;
	err = lg_resp__parse(c->head, c->len, &r);
	if (err == -EAGAIN)
		return false;
	if (err || r.chunked || (r.content_length < 0 && !r.close)) {
		*cause = LG_CAUSE_PROTO;	/* chunked or unframed: not supported */
		return false;
	}
	c->head_done = true;
	c->status = r.status;
	c->server_close = r.close;
	c->body_left = r.content_length;
	if (r.content_length >= 0) {
		c->body_left -= (int64_t)(c->len - r.head_len);
		if (c->body_left < 0)	/* more than the response: we never pipeline */
			*cause = LG_CAUSE_PROTO;
	}
	return c->body_left == 0;
}

static void read_response(struct lg_thread *t, struct lg_conn *c)
{
	int cause = 0;
	size_t room;
	ssize_t n;
	char *dst;

	while (c->readable) {
		if (c->head_done) {
			dst = t->scratch;
			room = sizeof(t->scratch);
			if (c->body_left > 0 && (uint64_t)c->body_left < room)
				room = (size_t)c->body_left;
		} else {
			dst = c->head + c->len;
			room = LG_HEAD_MAX - c->len;
		}
		n = read(c->fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			fail(t, c, errno);
			return;
		}
		if (n == 0) {
			if (c->head_done && c->body_left < 0)
				completed(t, c);	/* close-delimited body */
			else
				fail(t, c, LG_CAUSE_EOF);
			return;
		}
		t->st.bytes_in += (uint64_t)n;
		if (took(c, (uint32_t)n, &cause)) {
			completed(t, c);
			return;
		}
		if (cause) {
			fail(t, c, cause);
			return;
		}
		/* A short read drained the socket: wait for the next edge. */
		if ((size_t)n < room && !c->peer_closed)
			c->readable = false;
	}
}

static int so_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err ? err : ECONNRESET;
}

void lg_conn__event(struct lg_thread *t, struct lg_conn *c, uint32_t ev)
{
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->peer_closed = true;
	switch (c->state) {
	case LG_CONNECTING:
		if (ev & EPOLLERR || (ev & EPOLLHUP && !(ev & EPOLLOUT)))
			fail(t, c, so_error(c->fd));
		else if (ev & EPOLLOUT)
			connected(t, c);
		if (c->state == LG_READING && c->readable)
			read_response(t, c);
		break;
	case LG_SENDING:
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			send_request(t, c);
		if (c->state == LG_READING && c->readable)
			read_response(t, c);
		break;
	case LG_READING:
		read_response(t, c);
		break;
	case LG_IDLE:
		/* The server closed an idle keep-alive connection (its idle
		 * timeout): not an error, the slot reconnects when needed. */
		close_socket(t, c);
		break;
	case LG_FREE:
		break;
	}
}

void lg_conn__expire(struct lg_thread *t, struct lg_conn *c)
{
	fail(t, c, LG_CAUSE_TIMEOUT);
}
