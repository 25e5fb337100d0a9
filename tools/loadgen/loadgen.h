/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* loadgen: an open-loop TCP/HTTP load generator that measures its own
 * truth. Types shared by its modules. Each thread owns an epoll instance,
 * its connections, its schedule and its statistics; main merges the
 * statistics after joining the threads. */
#ifndef NETTUNE_LOADGEN_H
#define NETTUNE_LOADGEN_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "hist.h"

#define LG_MAX_THREADS	64
#define LG_HEAD_MAX	4096	/* longest response head we accept */
#define LG_LATE_NS	1000000ULL	/* an operation started >1 ms late is "late" */
/* A connect this slow has had a SYN (or SYN-ACK) retransmitted: the first
 * retransmission comes after 1 s, and nothing else takes that long on the
 * links we test. 0.9 s is a bucket bound's neighbour safely below 1 s. */
#define LG_SLOW_CONNECT_NS	900000000ULL

enum lg_mode { LG_CONNECT, LG_HTTP_CLOSE, LG_HTTP_KEEPALIVE };

struct lg_opts {
	enum lg_mode mode;
	struct sockaddr_storage addr;	/* target, port included */
	socklen_t addr_len;
	char addr_str[64];
	int port;
	double rate;			/* operations/s in all; 0: closed loop */
	uint32_t conc;			/* -c: in flight at most (keep-alive: connections) */
	uint64_t duration_ns;
	uint64_t count;			/* -n: operations at most; 0: no limit */
	uint64_t timeout_ns;		/* per operation (connect, or request) */
	int threads;
	const char *path;
	const char *host;		/* Host header; default: the address */
	bool rst;			/* close with RST (SO_LINGER 0): no TIME_WAIT */
	bool json;
	bool buckets;			/* --json: include histogram buckets */
	int verbose;
};

/* Returns 0, 1 after --help, or -EINVAL after one line on stderr. */
int lg_opts__parse(struct lg_opts *o, int argc, char **argv);
const char *lg_mode__name(enum lg_mode m);

/* Error kinds, the four. */
enum lg_err { LG_E_REFUSED, LG_E_RESET, LG_E_TIMEOUT, LG_E_OTHER, LG_E_COUNT };

/* Finer causes: an errno, or one of these above the errno range. */
#define LG_CAUSE_EOF	200	/* the server closed before a full response */
#define LG_CAUSE_PROTO	201	/* a response we could not parse */
#define LG_CAUSE_TIMEOUT 202
#define LG_NCAUSES	203

struct lg_stats {
	struct hist connect;		/* intended start -> connection established */
	struct hist response;		/* intended start -> last byte of the response */
	struct hist lag;		/* intended start -> actual start (open loop) */
	uint64_t started, completed, failed;
	uint64_t connections;		/* connect() calls */
	uint64_t late;			/* started more than LG_LATE_NS late */
	uint64_t held;			/* due while -c operations were in flight */
	uint64_t unsent;		/* due before the end, never started */
	uint64_t err[LG_E_COUNT];
	uint64_t cause[LG_NCAUSES];
	uint64_t status[6];		/* [1..5]: 1xx..5xx; [0]: anything else */
	uint64_t bytes_out, bytes_in;
};

void lg_stats__add(struct lg_stats *dst, const struct lg_stats *src);

enum lg_state {
	LG_FREE,	/* no socket */
	LG_CONNECTING,	/* connect() in progress */
	LG_SENDING,	/* request partly written */
	LG_READING,	/* waiting for (the rest of) the response */
	LG_IDLE,	/* keep-alive: connected, no request in flight */
};

struct lg_conn;

/* Every connection slot is in exactly one list: free (no socket), idle
 * (keep-alive, connected, nothing in flight) or busy. The busy list is
 * also the timeout queue: every entry has the same timeout, so appending
 * keeps it sorted by deadline. */
struct lg_list {
	struct lg_conn *head, *tail;
};

struct lg_conn {
	int fd;
	enum lg_state state;
	struct lg_list *in;		/* the list it is in */
	struct lg_conn *prev, *next;
	bool has_op;			/* an operation (ours to count) is attached */
	bool readable;			/* input may be pending */
	bool peer_closed;		/* EPOLLRDHUP seen: read until EOF */
	bool head_done;
	bool server_close;		/* the response said "Connection: close" */
	int status;
	uint64_t intended;		/* intended start of the current operation */
	uint64_t conn_intended;		/* of the current connection */
	uint64_t deadline;
	int64_t body_left;		/* -1: until EOF */
	uint32_t sent;			/* request bytes written */
	uint32_t len;			/* bytes in head[] */
	char head[LG_HEAD_MAX];
};

struct lg_thread {
	int id;
	int epfd;
	int err;
	const struct lg_opts *o;
	pthread_t thread;
	volatile sig_atomic_t *stop;	/* set by SIGINT/SIGTERM */
	struct lg_conn *conns;
	uint32_t nconns;
	struct lg_list free, idle, busy;
	uint32_t inflight;		/* operations in progress */
	uint64_t now;			/* CLOCK_MONOTONIC ns, once per loop */
	uint64_t t0, t_end;		/* this thread's schedule */
	uint64_t t_done;		/* when its loop ended, at most t_end */
	double interval_ns;		/* open loop: between intended starts */
	uint64_t offset_ns;		/* open loop: this thread's phase */
	uint64_t k;			/* operations started so far */
	uint64_t max_ops;		/* -n share; UINT64_MAX: none */
	uint64_t held_mark;		/* k + 1 of the last operation counted as held */
	const char *req;		/* the request, prebuilt */
	uint32_t req_len;
	struct lg_stats st;
	char scratch[65536];		/* response bodies are read here and dropped */
};

/* engine.c */
int lg_thread__init(struct lg_thread *t, int id, const struct lg_opts *o, uint64_t t0,
		    const char *req, uint32_t req_len, volatile sig_atomic_t *stop);
void *lg_thread__run(void *arg);
void lg_thread__fini(struct lg_thread *t);
/* Moves c to the tail of list l (busy: with a fresh deadline). */
void lg_list__move(struct lg_thread *t, struct lg_conn *c, struct lg_list *l);
uint64_t lg_now(void);

/* conn.c */
/* Opens a connection on slot c; with_op: it carries an operation that
 * started at intended (otherwise a keep-alive connection opened ahead). */
void lg_conn__connect(struct lg_thread *t, struct lg_conn *c, uint64_t intended, bool with_op);
/* Sends a request on an idle keep-alive connection. */
void lg_conn__request(struct lg_thread *t, struct lg_conn *c, uint64_t intended);
void lg_conn__event(struct lg_thread *t, struct lg_conn *c, uint32_t events);
/* The busy-list deadline passed. */
void lg_conn__expire(struct lg_thread *t, struct lg_conn *c);
/* Closes the socket, if any, and frees the slot (at the end of a run). */
void lg_conn__close(struct lg_thread *t, struct lg_conn *c);

/* resp.c: the head of an HTTP/1.x response. */
struct lg_resp {
	int status;
	int64_t content_length;		/* -1: none */
	bool chunked;
	bool close;
	uint32_t head_len;
};

/* 0: parsed; -EAGAIN: incomplete; -EPROTO: not a response we can read. */
int lg_resp__parse(const char *buf, uint32_t len, struct lg_resp *r);

/* report.c */
int lg_report__print(const struct lg_opts *o, const struct lg_stats *s, double secs);

#endif
