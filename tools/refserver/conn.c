// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* One client connection: read requests, answer them, close.
 *
 * Sockets are edge-triggered (EPOLLET) so a connection costs one epoll_ctl
 * for its whole life. Edge triggering obliges us to drain input; a short
 * read() means the receive queue was empty at that moment (any later
 * segment raises a new edge), which saves the read() that would return
 * EAGAIN. EPOLLRDHUP breaks that reasoning (the FIN raises no further
 * edge), so after it we read until EOF. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "refserver.h"

/* What a step did with the connection: the caller may touch it again only
 * after RS_CONT. */
enum rs_step { RS_CONT, RS_STOP };

#define RS_FREE_MAX	256	/* closed connections kept for reuse per worker */
#define RS_ERRBUF	512	/* an error response, see http__error_response */

static void link_all(struct rs_worker *w, struct rs_conn *c)
{
	c->aprev = NULL;
	c->anext = w->all;
	if (w->all)
		w->all->aprev = c;
	w->all = c;
}

static void unlink_all(struct rs_worker *w, struct rs_conn *c)
{
	if (c->aprev)
		c->aprev->anext = c->anext;
	else
		w->all = c->anext;
	if (c->anext)
		c->anext->aprev = c->aprev;
}

static void conn_serve(struct rs_worker *w, struct rs_conn *c);

/* A new connection is served at once, before it enters the epoll set: on
 * a busy server its request has usually arrived by the time we accept it,
 * and a Connection: close request is then served and closed without any
 * epoll_ctl() at all. The first read() returns EAGAIN when that guess is
 * wrong, which costs less than the epoll round trip it saves. */
bool rs_conn__start(struct rs_worker *w, int fd)
{
	struct rs_conn *c = w->free;

	if (c) {
		w->free = c->anext;
		w->nfree--;
	} else {
		c = malloc(sizeof(*c) + w->opts->max_header);
		if (!c)
			return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->kind = RS_K_CONN;
	c->fd = fd;
	c->state = RS_READ;
	c->timer = RS_T_NONE;
	c->readable = true;
	link_all(w, c);
	w->stats.accepted++;
	if (++w->stats.open > w->stats.open_max)
		w->stats.open_max = w->stats.open;
	rs_timer__set(w, c, RS_T_IDLE);
	conn_serve(w, c);
	return true;
}

void rs_conn__close(struct rs_worker *w, struct rs_conn *c)
{
	rs_timer__set(w, c, RS_T_NONE);
	unlink_all(w, c);
	/* close() also takes the fd out of the epoll set. */
	close(c->fd);
	free(c->spill);
	w->stats.closed++;
	w->stats.open--;
	if (w->nfree < RS_FREE_MAX) {
		c->anext = w->free;
		w->free = c;
		w->nfree++;
	} else {
		free(c);
	}
}

static void count_io_error(struct rs_worker *w, int err)
{
	if (err == ECONNRESET || err == EPIPE)
		w->stats.resets++;
	else
		w->stats.io_errors++;
}

/* Half-close and read what the client still sends before closing: closing
 * with unread input makes the kernel send RST, which can destroy our
 * response before the client has read it (RFC 9112 9.6). */
static void conn_linger(struct rs_worker *w, struct rs_conn *c)
{
	ssize_t n;

	if (c->state != RS_LINGER) {
		c->state = RS_LINGER;
		shutdown(c->fd, SHUT_WR);
		rs_timer__set(w, c, RS_T_LINGER);
	}
	for (;;) {
		n = read(c->fd, c->in, w->opts->max_header);
		if (n > 0) {
			w->stats.bytes_in += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (rs_worker__watch(w, c, false))
				break;
			return;
		}
		break;	/* EOF or error: done either way */
	}
	rs_conn__close(w, c);
}

/* The response is out: account for it, drop its request from in[], and
 * decide whether the connection goes on. */
static enum rs_step conn_sent(struct rs_worker *w, struct rs_conn *c)
{
	w->stats.requests++;
	w->stats.status[c->status]++;
	free(c->spill);
	c->spill = NULL;
	c->in_len -= c->req_len;
	memmove(c->in, c->in + c->req_len, c->in_len);
	c->req_len = 0;
	c->scan = 0;
	if (c->close_after || w->stopping) {
		if (c->linger_after || c->in_len || c->readable)
			conn_linger(w, c);
		else
			rs_conn__close(w, c);
		return RS_STOP;
	}
	c->state = RS_READ;
	rs_timer__set(w, c, c->in_len ? RS_T_HEADER : RS_T_IDLE);
	return RS_CONT;
}

/* A partial write leaves the rest of out for later; out may point into
 * the worker's response cache, which is rebuilt every second, so keep a
 * private copy of what is left (rare: only when the send buffer is full). */
static int conn_spill(struct rs_conn *c)
{
	uint32_t left = c->out_len - (uint32_t)c->sent;
	char *copy;

	if (c->out == c->spill)
		return 0;
	copy = malloc(left ? left : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, c->out + c->sent, left);
	c->spill = copy;
	c->out = copy;
	c->out_len = left;
	c->sent = 0;
	return 0;
}

/* A response after which we close is sent with MSG_MORE: the data waits
 * (at most until close) so that the FIN leaves in the same segment, one
 * packet fewer per connection-per-request exchange for both ends. */
static ssize_t conn_writev(struct rs_worker *w, struct rs_conn *c)
{
	int flags = c->close_after ? MSG_MORE : 0;
	const char *body = w->cache.body;
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 1 };
	uint64_t off;

	if (c->sent < c->out_len) {
		iov[0].iov_base = (char *)c->out + c->sent;
		iov[0].iov_len = c->out_len - c->sent;
		if (!c->body_len)
			return send(c->fd, iov[0].iov_base, iov[0].iov_len, flags);
		iov[1].iov_base = (char *)body;
		iov[1].iov_len = c->body_len;
		msg.msg_iovlen = 2;
		return sendmsg(c->fd, &msg, flags);
	}
	off = c->sent - c->out_len;
	return send(c->fd, body + off, c->body_len - off, flags);
}

static enum rs_step conn_write(struct rs_worker *w, struct rs_conn *c)
{
	uint64_t total = (uint64_t)c->out_len + c->body_len;
	ssize_t n;

	while (c->sent < total) {
		n = conn_writev(w, c);
		if (n > 0) {
			c->sent += (uint64_t)n;
			w->stats.bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if ((c->sent < c->out_len && conn_spill(c)) ||
			    rs_worker__watch(w, c, true)) {
				w->stats.alloc_failures++;
				break;
			}
			c->state = RS_WRITE;
			rs_timer__set(w, c, RS_T_WRITE);
			return RS_STOP;
		}
		count_io_error(w, n < 0 ? errno : EPIPE);
		break;
	}
	if (c->sent < total) {
		rs_conn__close(w, c);
		return RS_STOP;
	}
	return conn_sent(w, c);
}

/* Points out at the prebuilt 200 response, current to the second. */
static void conn_ok(struct rs_worker *w, struct rs_conn *c)
{
	struct http_cache *hc = &w->cache;

	http_cache__refresh(hc, time(NULL));
	c->out = hc->ok[c->method][c->ckind];
	c->out_len = hc->ok_len[c->method][c->ckind];
	c->body_len = c->method == HTTP_GET && !hc->body_inline ? hc->body_size : 0;
}

static enum rs_step conn_respond(struct rs_worker *w, struct rs_conn *c,
				 const struct http_req *req, enum http_parse res)
{
	c->sent = 0;
	if (res == HTTP_BAD) {
		c->status = req->status;
		c->spill = malloc(RS_ERRBUF);
		if (!c->spill) {
			w->stats.alloc_failures++;
			rs_conn__close(w, c);
			return RS_STOP;
		}
		c->out = c->spill;
		c->out_len = http__error_response(&w->cache, req->status, c->spill, RS_ERRBUF);
		c->body_len = 0;
		/* We cannot tell where a bad request ends: stop reading requests,
		 * and drain rather than reset. */
		c->req_len = c->in_len;
		c->close_after = c->linger_after = true;
		return conn_write(w, c);
	}
	c->status = HS_200;
	c->req_len = req->len;
	c->method = req->method;
	if (!req->keep_alive || w->stopping)
		c->ckind = HTTP_C_CLOSE;
	else
		c->ckind = req->minor ? HTTP_C_KEEP : HTTP_C_KEEP10;
	c->close_after = c->ckind == HTTP_C_CLOSE;
	if (w->opts->handler_delay_ns) {
		c->state = RS_DELAY;
		rs_timer__set(w, c, RS_T_DELAY);
		return RS_STOP;
	}
	conn_ok(w, c);
	return conn_write(w, c);
}

/* Answers every complete request in in[] (pipelining), in order. */
static enum rs_step conn_process(struct rs_worker *w, struct rs_conn *c)
{
	struct http_req req;
	enum http_parse res;

	while (c->in_len) {
		res = http__parse(c->in, c->in_len, w->opts->max_header, &c->scan, &req);
		if (res == HTTP_MORE)
			return RS_CONT;
		if (conn_respond(w, c, &req, res) == RS_STOP)
			return RS_STOP;
	}
	return RS_CONT;
}

static enum rs_step conn_eof(struct rs_worker *w, struct rs_conn *c, ssize_t n)
{
	if (n < 0)
		count_io_error(w, errno);
	rs_conn__close(w, c);
	return RS_STOP;
}

/* Read and serve until the input is drained or a response blocks. */
static void conn_serve(struct rs_worker *w, struct rs_conn *c)
{
	uint32_t room;
	ssize_t n;

	for (;;) {
		if (conn_process(w, c) == RS_STOP)
			return;
		if (!c->readable) {
			/* Waiting for input: now it needs epoll. */
			if (rs_worker__watch(w, c, c->want_out)) {
				w->stats.alloc_failures++;
				rs_conn__close(w, c);
			}
			return;
		}
		room = w->opts->max_header - c->in_len;
		n = read(c->fd, c->in + c->in_len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			c->readable = false;
			continue;
		}
		if (n <= 0) {
			conn_eof(w, c, n);
			return;
		}
		if (!c->in_len)	/* a request starts: its head has a deadline */
			rs_timer__set(w, c, RS_T_HEADER);
		c->in_len += (uint32_t)n;
		w->stats.bytes_in += (uint64_t)n;
		if ((uint32_t)n < room && !c->peer_closed)
			c->readable = false;
	}
}

void rs_conn__event(struct rs_worker *w, struct rs_conn *c, uint32_t events)
{
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->peer_closed = true;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	switch (c->state) {
	case RS_READ:
		conn_serve(w, c);
		break;
	case RS_WRITE:
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR) &&
		    conn_write(w, c) == RS_CONT)
			conn_serve(w, c);
		break;
	case RS_LINGER:
		conn_linger(w, c);
		break;
	case RS_DELAY:
		break;	/* input waits until the held response is out */
	}
}

void rs_conn__expire(struct rs_worker *w, struct rs_conn *c)
{
	switch (c->state) {
	case RS_DELAY:
		conn_ok(w, c);
		c->state = RS_READ;
		if (conn_write(w, c) == RS_CONT)
			conn_serve(w, c);
		return;
	case RS_READ:
		if (c->in_len)
			w->stats.header_timeouts++;
		else
			w->stats.idle_timeouts++;
		break;
	case RS_WRITE:
		w->stats.write_timeouts++;
		break;
	case RS_LINGER:
		break;
	}
	rs_conn__close(w, c);
}

void rs_conn__stop(struct rs_worker *w, struct rs_conn *c)
{
	/* Busy connections see w->stopping when their response is out. */
	if (c->state == RS_READ && !c->in_len)
		rs_conn__close(w, c);
}
