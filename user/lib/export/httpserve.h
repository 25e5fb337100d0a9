/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The HTTP side of `nettune serve`: a thin layer over libmicrohttpd
 * (Debian's libmicrohttpd12), which does the protocol, keep-alive, timeouts
 * and limits. The listening socket is bound by httpserve__bind() before
 * anything is attached, so a port in use or an address that does not parse
 * is one line and exit 2 with nothing to undo.
 */
#ifndef NETTUNE_LIB_HTTPSERVE_H
#define NETTUNE_LIB_HTTPSERVE_H

#include <stddef.h>
#include <sys/socket.h>

#define HTTPSERVE_DEFAULT_LISTEN	"127.0.0.1:7941"

/* Renders the body of GET /metrics: a malloc'ed buffer the server frees,
 * its length in *len. NULL: the scrape failed (503). */
typedef char *(*httpserve_metrics_fn)(void *ctx, size_t *len);

struct httpserve;

/* "ADDR:PORT" or "[ADDR6]:PORT" into *ss. 0, or -EINVAL after one line
 * naming OPT. Pure but for the line on stderr. */
int httpserve__parse_addr(const char *opt, const char *s, struct sockaddr_storage *ss,
			  socklen_t *len);
/* Binds and listens on S ("ADDR:PORT"). 0, or -errno after one line:
 * -EINVAL (does not parse), -EADDRINUSE, -EADDRNOTAVAIL, -EACCES. */
int httpserve__bind(const char *s, struct httpserve **out);
/* Serves GET /metrics (METRICS), GET /healthz and GET / from a thread of
 * libmicrohttpd's; anything else is 404 (405 for other methods). */
int httpserve__start(struct httpserve *h, httpserve_metrics_fn metrics, void *ctx);
/* Stops serving and closes the socket. Accepts NULL. */
void httpserve__free(struct httpserve *h);

#endif
