// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The head of an HTTP/1.x response: status, framing, persistence. Enough
 * to read responses from refserver, nginx and the like; anything we cannot
 * frame (chunked, HTTP/2) is a protocol error rather than a guess. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "loadgen.h"

static const char *find_head_end(const char *buf, uint32_t len)
{
	const char *p = buf, *end = buf + len, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (nl + 1 < end && nl[1] == '\n')
			return nl + 2;
		if (nl + 2 < end && nl[1] == '\r' && nl[2] == '\n')
			return nl + 3;
		p = nl + 1;
	}
	return NULL;
}

static bool has_token(const char *v, const char *end, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = v; p + n <= end; p++)
		if (!strncasecmp(p, tok, n))
			return true;
	return false;
}

static int parse_field(const char *p, const char *end, struct lg_resp *r)
{
	const char *colon = memchr(p, ':', (size_t)(end - p)), *v;
	size_t n;
	int64_t cl = 0;

	if (!colon)
		return -EPROTO;
	n = (size_t)(colon - p);
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	if (n == 14 && !strncasecmp(p, "content-length", n)) {
		if (v == end)
			return -EPROTO;
		for (; v < end && *v >= '0' && *v <= '9'; v++) {
			if (cl > (INT64_MAX - 9) / 10)
				return -EPROTO;
			cl = cl * 10 + (*v - '0');
		}
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v != end || (r->content_length >= 0 && r->content_length != cl))
			return -EPROTO;
		r->content_length = cl;
	} else if (n == 17 && !strncasecmp(p, "transfer-encoding", n)) {
		r->chunked = true;
	} else if (n == 10 && !strncasecmp(p, "connection", n)) {
		r->close |= has_token(v, end, "close");
	}
	return 0;
}

int lg_resp__parse(const char *buf, uint32_t len, struct lg_resp *r)
{
	const char *end = find_head_end(buf, len), *p, *nl, *le;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	if (!end)
		return len >= LG_HEAD_MAX ? -EPROTO : -EAGAIN;
	/* HTTP/1.x SP 3DIGIT SP reason */
	if (end - buf < 12 || memcmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
		return -EPROTO;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EPROTO;
		r->status = r->status * 10 + (buf[i] - '0');
	}
	if (buf[7] == '0')
		r->close = true;	/* HTTP/1.0: close unless told otherwise */
	p = memchr(buf, '\n', (size_t)(end - buf)) + 1;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (le == p)
			break;
		if (parse_field(p, le, r))
			return -EPROTO;
		p = nl + 1;
	}
	/* These never carry a body, whatever their headers say (RFC 9112 6.3). */
	if (r->status == 204 || r->status == 304 || r->status < 200)
		r->content_length = 0;
	r->head_len = (uint32_t)(end - buf);
	return 0;
}
