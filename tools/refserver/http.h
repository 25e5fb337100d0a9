/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* refserver's HTTP/1.1 subset: request-head parsing (pure, no I/O) and the
 * prebuilt responses a worker sends. */
#ifndef NETTUNE_REFSERVER_HTTP_H
#define NETTUNE_REFSERVER_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>

/* Every status refserver can answer, as an index (for statistics). */
enum http_status {
	HS_200,		/* GET/HEAD served */
	HS_400,		/* malformed request line or header, missing Host */
	HS_405,		/* a method other than GET and HEAD */
	HS_413,		/* a request body: this server takes none */
	HS_414,		/* request line alone longer than --max-header */
	HS_431,		/* request head longer than --max-header */
	HS_501,		/* Transfer-Encoding in a request */
	HS_505,		/* HTTP major version other than 1 */
	HTTP_NSTATUS,
};

int http__status_code(enum http_status s);

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_NMETHODS };

/* How the connection continues after a 200: which Connection header the
 * response carries. */
enum http_conn {
	HTTP_C_CLOSE,	/* "Connection: close", then close */
	HTTP_C_KEEP,	/* HTTP/1.1 persistent: no header needed */
	HTTP_C_KEEP10,	/* HTTP/1.0 client that asked: "Connection: keep-alive" */
	HTTP_NCONN,
};

struct http_req {
	enum http_method method;
	int minor;			/* HTTP/1.<minor> */
	bool keep_alive;		/* version default, then Connection header */
	uint32_t len;			/* bytes of the head, final blank line included */
	enum http_status status;	/* when HTTP_BAD: what to answer */
};

enum http_parse { HTTP_DONE, HTTP_MORE, HTTP_BAD };

/* Parses the request head at the start of buf[0..len). max is the largest
 * head accepted (the buffer size): a head that cannot end within it is
 * HTTP_BAD with 414 or 431. *scan carries progress between calls on the
 * same growing buffer (start at 0, reset when the request is consumed),
 * so a client sending one byte at a time costs O(n), not O(n^2). */
enum http_parse http__parse(const char *buf, uint32_t len, uint32_t max, uint32_t *scan,
			    struct http_req *req);

/* Prebuilt 200 responses of one worker. They carry a Date header, so they
 * are rebuilt when the second changes: a response is then one pointer and
 * one length, and serving a request costs no formatting. */
#define HTTP_HEAD_MAX		256	/* our response heads are ~150 bytes */
#define HTTP_INLINE_BODY	4096	/* bodies up to this are copied behind the head */

struct http_cache {
	const char *body;		/* shared, read-only, body_size bytes */
	uint32_t body_size;
	bool body_inline;		/* body copied into each ok[][] buffer */
	time_t second;			/* when the Date header was made */
	char date[40];
	char *ok[HTTP_NMETHODS][HTTP_NCONN];
	uint32_t ok_len[HTTP_NMETHODS][HTTP_NCONN];
};

/* The body every 200 carries: byte i is 'a' + i % 26. Caller frees. */
char *http__make_body(uint32_t size);
int http_cache__init(struct http_cache *c, const char *body, uint32_t body_size, time_t now);
void http_cache__fini(struct http_cache *c);
void http_cache__refresh(struct http_cache *c, time_t now);
/* An error response (with "Connection: close") into buf; returns its
 * length. */
uint32_t http__error_response(const struct http_cache *c, enum http_status s, char *buf,
			      size_t size);

#endif
