// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Request-head parsing after RFC 9112, strict where leniency would let a
 * malformed request through (whitespace before a colon, obsolete line
 * folding, control characters), lenient where the RFC allows it (a bare
 * LF ends a line). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http.h"

static const struct {
	int code;
	const char *reason;
} statuses[HTTP_NSTATUS] = {
	[HS_200] = { 200, "OK" },
	[HS_400] = { 400, "Bad Request" },
	[HS_405] = { 405, "Method Not Allowed" },
	[HS_413] = { 413, "Content Too Large" },
	[HS_414] = { 414, "URI Too Long" },
	[HS_431] = { 431, "Request Header Fields Too Large" },
	[HS_501] = { 501, "Not Implemented" },
	[HS_505] = { 505, "HTTP Version Not Supported" },
};

int http__status_code(enum http_status s)
{
	return statuses[s].code;
}

/* RFC 9110 tchar: the characters of a method or a header name. */
static bool is_tchar(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return true;
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')
		return true;
	return ch && strchr("!#$%&'*+-.^_`|~", ch);
}

/* Length of the line at p (up to end), without its CRLF/LF; *next is the
 * start of the following line. -1 when the line does not end before end. */
static long line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl)
		return -1;
	*next = nl + 1;
	if (nl > p && nl[-1] == '\r')
		nl--;
	return nl - p;
}

/* method SP request-target SP HTTP-version */
static enum http_parse parse_request_line(const char *p, long n, struct http_req *req)
{
	const char *end = p + n, *sp;
	long mlen;

	req->status = HS_400;
	sp = memchr(p, ' ', (size_t)n);
	if (!sp || sp == p)
		return HTTP_BAD;
	for (const char *q = p; q < sp; q++)
		if (!is_tchar((unsigned char)*q))
			return HTTP_BAD;
	mlen = sp - p;
	if (mlen == 3 && !memcmp(p, "GET", 3))
		req->method = HTTP_GET;
	else if (mlen == 4 && !memcmp(p, "HEAD", 4))
		req->method = HTTP_HEAD;
	else
		req->method = HTTP_NMETHODS;	/* decided after the syntax check */
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp == p)
		return HTTP_BAD;
	for (const char *q = p; q < sp; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f)
			return HTTP_BAD;
	p = sp + 1;
	if (end - p != 8 || memcmp(p, "HTTP/", 5) || p[5] < '0' || p[5] > '9' ||
	    p[6] != '.' || p[7] < '0' || p[7] > '9')
		return HTTP_BAD;
	if (p[5] != '1') {
		req->status = HS_505;
		return HTTP_BAD;
	}
	req->minor = p[7] - '0';
	req->keep_alive = req->minor >= 1;
	if (req->method == HTTP_NMETHODS) {
		req->status = HS_405;
		return HTTP_BAD;
	}
	return HTTP_DONE;
}

static bool name_is(const char *p, long n, const char *name)
{
	return (size_t)n == strlen(name) && !strncasecmp(p, name, (size_t)n);
}

/* Connection: a comma-separated list of options. */
static void parse_connection(const char *v, long n, struct http_req *req)
{
	const char *end = v + n, *tok, *tend;

	while (v < end) {
		while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
			v++;
		tok = v;
		while (v < end && *v != ',')
			v++;
		tend = v;
		while (tend > tok && (tend[-1] == ' ' || tend[-1] == '\t'))
			tend--;
		if (name_is(tok, tend - tok, "close"))
			req->keep_alive = false;
		else if (name_is(tok, tend - tok, "keep-alive") && req->minor == 0)
			req->keep_alive = true;
	}
}

struct head_seen {
	int hosts;
	bool close;	/* "close" seen: wins over keep-alive whatever the order */
};

static enum http_parse parse_field(const char *p, long n, struct http_req *req,
				   struct head_seen *seen)
{
	const char *colon = memchr(p, ':', (size_t)n), *v, *end = p + n;

	req->status = HS_400;
	/* Also rejects obs-fold (a line starting with SP/HTAB) and whitespace
	 * before the colon, both request-smuggling vectors. */
	if (!colon || colon == p)
		return HTTP_BAD;
	for (const char *q = p; q < colon; q++)
		if (!is_tchar((unsigned char)*q))
			return HTTP_BAD;
	for (v = colon + 1; v < end; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return HTTP_BAD;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (name_is(p, colon - p, "host")) {
		seen->hosts++;
	} else if (name_is(p, colon - p, "connection")) {
		parse_connection(v, end - v, req);
		seen->close |= !req->keep_alive;
	} else if (name_is(p, colon - p, "content-length")) {
		if (v == end)
			return HTTP_BAD;
		for (const char *q = v; q < end; q++)
			if (*q < '0' || *q > '9')
				return HTTP_BAD;
		for (const char *q = v; q < end; q++)
			if (*q != '0') {
				req->status = HS_413;
				return HTTP_BAD;
			}
	} else if (name_is(p, colon - p, "transfer-encoding")) {
		req->status = HS_501;
		return HTTP_BAD;
	}
	return HTTP_DONE;
}

static enum http_parse parse_fields(const char *p, const char *end, struct http_req *req)
{
	struct head_seen seen = { 0 };
	const char *next;
	long n;

	while ((n = line_len(p, end, &next)) > 0) {
		if (parse_field(p, n, req, &seen) == HTTP_BAD)
			return HTTP_BAD;
		p = next;
	}
	req->status = HS_400;
	/* RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before. */
	if (seen.hosts > 1 || (req->minor >= 1 && seen.hosts != 1))
		return HTTP_BAD;
	if (seen.close)
		req->keep_alive = false;
	return HTTP_DONE;
}

/* Where the head ends (just past its blank line), or 0 if not yet. */
static uint32_t find_head_end(const char *buf, uint32_t len, uint32_t *scan)
{
	uint32_t i = *scan;
	const char *nl;

	while (i < len && (nl = memchr(buf + i, '\n', len - i))) {
		i = (uint32_t)(nl - buf);
		if (i + 1 >= len)
			break;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r') {
			if (i + 2 >= len)
				break;
			if (buf[i + 2] == '\n')
				return i + 3;
		}
		i++;
	}
	/* Resume at an undecided newline, or where the data ends. */
	*scan = i < len && buf[i] == '\n' ? i : len;
	return 0;
}

enum http_parse http__parse(const char *buf, uint32_t len, uint32_t max, uint32_t *scan,
			    struct http_req *req)
{
	const char *next, *end;
	uint32_t head;
	long n;

	memset(req, 0, sizeof(*req));
	/* The request line is judged as soon as it is complete, so garbage gets
	 * its 400 at once instead of after the header timeout. */
	n = line_len(buf, buf + len, &next);
	if (n < 0) {
		if (len < max)
			return HTTP_MORE;
		req->status = HS_414;
		return HTTP_BAD;
	}
	if (parse_request_line(buf, n, req) == HTTP_BAD)
		return HTTP_BAD;
	head = find_head_end(buf, len, scan);
	if (!head) {
		if (len < max)
			return HTTP_MORE;
		req->status = HS_431;
		return HTTP_BAD;
	}
	end = buf + head;
	if (parse_fields(next, end, req) == HTTP_BAD)
		return HTTP_BAD;
	req->len = head;
	return HTTP_DONE;
}

char *http__make_body(uint32_t size)
{
	char *b = malloc(size ? size : 1);

	for (uint32_t i = 0; b && i < size; i++)
		b[i] = (char)('a' + i % 26);
	return b;
}

static const char *const conn_header[HTTP_NCONN] = {
	[HTTP_C_CLOSE] = "Connection: close\r\n",
	[HTTP_C_KEEP] = "",
	[HTTP_C_KEEP10] = "Connection: keep-alive\r\n",
};

static void set_date(struct http_cache *c, time_t now)
{
	struct tm tm;

	gmtime_r(&now, &tm);
	/* The C locale is in force (no setlocale), as the HTTP date needs. */
	strftime(c->date, sizeof(c->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	c->second = now;
}

static void build_ok(struct http_cache *c, enum http_method m, enum http_conn k)
{
	char *buf = c->ok[m][k];
	int n;

	n = snprintf(buf, HTTP_HEAD_MAX,
		     "HTTP/1.1 200 OK\r\nServer: refserver\r\nDate: %s\r\n"
		     "Content-Type: text/plain\r\nContent-Length: %u\r\n%s\r\n",
		     c->date, c->body_size, conn_header[k]);
	if (m == HTTP_GET && c->body_inline) {
		memcpy(buf + n, c->body, c->body_size);
		n += (int)c->body_size;
	}
	c->ok_len[m][k] = (uint32_t)n;
}

void http_cache__refresh(struct http_cache *c, time_t now)
{
	if (now == c->second)
		return;
	set_date(c, now);
	for (int m = 0; m < HTTP_NMETHODS; m++)
		for (int k = 0; k < HTTP_NCONN; k++)
			build_ok(c, (enum http_method)m, (enum http_conn)k);
}

int http_cache__init(struct http_cache *c, const char *body, uint32_t body_size, time_t now)
{
	size_t size;

	memset(c, 0, sizeof(*c));
	c->body = body;
	c->body_size = body_size;
	c->body_inline = body_size <= HTTP_INLINE_BODY;
	size = HTTP_HEAD_MAX + (c->body_inline ? body_size : 0);
	for (int m = 0; m < HTTP_NMETHODS; m++)
		for (int k = 0; k < HTTP_NCONN; k++) {
			c->ok[m][k] = malloc(size);
			if (!c->ok[m][k]) {
				http_cache__fini(c);
				return -ENOMEM;
			}
		}
	c->second = now - 1;
	http_cache__refresh(c, now);
	return 0;
}

void http_cache__fini(struct http_cache *c)
{
	for (int m = 0; m < HTTP_NMETHODS; m++)
		for (int k = 0; k < HTTP_NCONN; k++) {
			free(c->ok[m][k]);
			c->ok[m][k] = NULL;
		}
}

uint32_t http__error_response(const struct http_cache *c, enum http_status s, char *buf,
			      size_t size)
{
	int n;

	n = snprintf(buf, size,
		     "HTTP/1.1 %d %s\r\nServer: refserver\r\nDate: %s\r\n"
		     "Content-Type: text/plain\r\nContent-Length: %zu\r\n%s"
		     "Connection: close\r\n\r\n%d %s\n",
		     statuses[s].code, statuses[s].reason, c->date,
		     strlen(statuses[s].reason) + 5,
		     s == HS_405 ? "Allow: GET, HEAD\r\n" : "",
		     statuses[s].code, statuses[s].reason);
	return n < 0 ? 0 : (uint32_t)((size_t)n < size ? (size_t)n : size - 1);
}
