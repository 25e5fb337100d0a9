/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* refserver: the reference HTTP/1.1 server nettune drives and measures.
 * Types shared by its modules: options, per-worker state and statistics,
 * connections. One worker = one thread = one epoll instance; nothing in a
 * worker is shared with another, so the hot path takes no locks. */
#ifndef NETTUNE_REFSERVER_H
#define NETTUNE_REFSERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "http.h"

#define RS_MAX_WORKERS	64

struct rs_opts {
	struct sockaddr_storage addr;	/* address to listen on */
	int port;			/* 0: the kernel picks one */
	socklen_t addr_len;
	char addr_str[64];		/* as given, for messages */
	int backlog;			/* passed to listen() unchanged */
	int workers;
	bool reuseport;			/* one SO_REUSEPORT listener per worker */
	uint64_t accept_delay_ns;	/* pause after each accept */
	uint64_t handler_delay_ns;	/* hold each response this long */
	int rcvbuf, sndbuf;		/* 0: kernel default (autotuning) */
	uint32_t body_size;		/* bytes of body in each 200 response */
	uint32_t max_header;		/* request head limit; larger -> 431 */
	uint64_t idle_timeout_ns;	/* keep-alive wait, and stalled writes */
	uint64_t header_timeout_ns;	/* whole request head, from its 1st byte */
	uint64_t grace_ns;		/* graceful shutdown limit */
	uint64_t duration_ms;		/* 0: run until SIGTERM/SIGINT */
	bool json;
	int verbose;
};

/* Parses argv into o. Returns 0, 1 after --help (exit 0), or -EINVAL after
 * printing one line about the bad input (exit EXIT_USAGE). */
int rs_opts__parse(struct rs_opts *o, int argc, char **argv);

/* Statistics of one worker; only that worker writes them, and main reads
 * them after joining it. */
struct rs_stats {
	uint64_t accepted;
	uint64_t closed;
	uint64_t open, open_max;
	uint64_t requests;		/* responses fully sent */
	uint64_t status[HTTP_NSTATUS];	/* responses by status, see http.h */
	uint64_t bytes_in, bytes_out;
	uint64_t idle_timeouts;		/* keep-alive connections closed idle */
	uint64_t header_timeouts;	/* request head not complete in time */
	uint64_t write_timeouts;	/* client stopped reading */
	uint64_t resets;		/* ECONNRESET/EPIPE from a client */
	uint64_t io_errors;		/* any other read/write error */
	uint64_t accept_errors;		/* accept() failures other than EMFILE */
	uint64_t fd_exhaustion;		/* EMFILE/ENFILE pauses of accept */
	uint64_t alloc_failures;	/* connections dropped for lack of memory */
};

/* Timer lists: every connection waits in at most one, and each list has a
 * single, constant timeout, so appending at the tail keeps it sorted by
 * deadline and the head is always the next to expire (O(1) per update,
 * unlike a heap, and nothing to scan). */
enum rs_timer {
	RS_T_IDLE,	/* waiting for the next request: idle_timeout */
	RS_T_HEADER,	/* request head in progress: header_timeout */
	RS_T_WRITE,	/* response blocked on a full send buffer: idle_timeout */
	RS_T_DELAY,	/* response held by --handler-delay-us */
	RS_T_LINGER,	/* lingering close: draining what the client still sends */
	RS_T_COUNT,
	RS_T_NONE = RS_T_COUNT,
};

struct rs_conn;

struct rs_list {
	struct rs_conn *head, *tail;
};

/* What an epoll event's data.ptr points to: the first member of a
 * connection, of a listener slot and of the wake-up eventfd slot. */
enum rs_kind { RS_K_CONN, RS_K_LISTENER, RS_K_WAKE };

struct rs_worker {
	int id;
	int epfd;
	int wakefd;			/* eventfd: main asks for shutdown */
	int listenfd;			/* this worker's listener (shared or own) */
	enum rs_kind listener_kind, wake_kind;	/* epoll tags for both fds */
	bool listening;			/* listenfd is in the epoll set */
	bool stopping;			/* graceful shutdown in progress */
	bool logged_accept_error;	/* said once; the rest are counted */
	int err;			/* fatal error that ended the loop */
	const struct rs_opts *opts;
	pthread_t thread;
	uint64_t now;			/* CLOCK_MONOTONIC ns, once per loop */
	uint64_t accept_resume;		/* accept paused until (0: not paused) */
	uint64_t stop_deadline;		/* end of the grace period */
	uint64_t timeout[RS_T_COUNT];	/* the constant of each timer list */
	struct rs_list timers[RS_T_COUNT];
	struct rs_conn *all;		/* every open connection, for shutdown */
	struct rs_conn *free;		/* closed ones kept for reuse */
	int nfree;
	struct http_cache cache;	/* prebuilt responses, refreshed each second */
	struct rs_stats stats;
};

/* conn.c: one client connection. */
enum rs_conn_state {
	RS_READ,	/* reading a request (idle or partial) */
	RS_DELAY,	/* response held by the handler delay */
	RS_WRITE,	/* response partly sent, waiting for EPOLLOUT */
	RS_LINGER,	/* write side shut, draining input before close */
};

struct rs_conn {
	enum rs_kind kind;		/* RS_K_CONN: first, see enum rs_kind */
	int fd;
	enum rs_conn_state state;
	enum rs_timer timer;		/* the list it is in, or RS_T_NONE */
	bool readable;			/* input may be pending (no short read yet) */
	bool registered;		/* in the epoll set (only once it must wait) */
	bool want_out;			/* EPOLLOUT is in the interest set */
	bool peer_closed;		/* EPOLLRDHUP seen: read until EOF */
	bool close_after;		/* close once the current response is sent */
	bool linger_after;		/* ... but drain the client's input first */
	enum http_method method;	/* of the response held by RS_DELAY */
	enum http_conn ckind;
	struct rs_conn *tprev, *tnext;	/* timer list */
	struct rs_conn *aprev, *anext;	/* worker->all */
	uint64_t deadline;
	uint32_t in_len;		/* bytes in in[] */
	uint32_t scan;			/* parser progress hint, see http.h */
	uint32_t req_len;		/* head length of the request being served */
	/* The response in flight: out/out_len first (headers, maybe a small
	 * body), then body_len bytes of the shared body. */
	const char *out;
	uint32_t out_len;
	uint32_t body_len;
	uint64_t sent;			/* bytes of this response already sent */
	char *spill;			/* own copy of out after a partial write */
	int status;			/* of the response in flight */
	char in[];			/* opts->max_header bytes */
};

/* worker.c */
int rs_worker__init(struct rs_worker *w, int id, int listenfd, const struct rs_opts *o,
		   const char *body);
void *rs_worker__run(void *arg);
void rs_worker__fini(struct rs_worker *w);
void rs_timer__set(struct rs_worker *w, struct rs_conn *c, enum rs_timer t);
/* Puts a connection in the epoll set, or updates its interest set: with
 * EPOLLOUT when out is true. */
int rs_worker__watch(struct rs_worker *w, struct rs_conn *c, bool out);

/* conn.c */
/* Takes an accepted socket and serves what it has already sent. False
 * when out of memory (the caller closes fd). */
bool rs_conn__start(struct rs_worker *w, int fd);
void rs_conn__close(struct rs_worker *w, struct rs_conn *c);
void rs_conn__event(struct rs_worker *w, struct rs_conn *c, uint32_t events);
void rs_conn__expire(struct rs_worker *w, struct rs_conn *c);
/* Graceful shutdown: close now if idle, else after the current response. */
void rs_conn__stop(struct rs_worker *w, struct rs_conn *c);

/* listen.c */
/* A listening socket on o->addr, port (not o's: see --port 0). */
int rs_listen__open(const struct rs_opts *o, int port, int *fd_out);
/* The port actually bound (differs from the asked one for --port 0). */
int rs_listen__port(int fd);

/* stats.c: the final report on stdout, human or JSON. */
int rs_stats__print(const struct rs_opts *o, const struct rs_worker *w, int n, double secs,
		    int port);

#endif
