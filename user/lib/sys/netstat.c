// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "netns.h"
#include "netstat.h"

/* One line of the input, not NUL-terminated: the text is const. */
struct line {
	const char *s, *end;
};

/* Length of "Section" in "Section: ...", or 0 when the line has none. */
static size_t section_len(const struct line *l)
{
	const char *p = l->s;

	while (p < l->end && *p != ':' && !isspace((unsigned char)*p))
		p++;
	return p < l->end && *p == ':' ? (size_t)(p - l->s) : 0;
}

static const char *next_token(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *t;

	while (s < end && isspace((unsigned char)*s))
		s++;
	for (t = s; t < end && !isspace((unsigned char)*t); t++)
		;
	*p = t;
	*len = (size_t)(t - s);
	return *len ? s : NULL;
}

static size_t count_tokens(const char *p, const char *end)
{
	size_t n = 0, len;

	while (next_token(&p, end, &len))
		n++;
	return n;
}

/* The kernel prints a few signed values (Tcp MaxConn is -1); they are kept
 * as their two's complement rather than rejected. */
static int parse_value(const char *tok, size_t len, __u64 *v)
{
	char buf[32], *e;

	if (len >= sizeof(buf) || !(isdigit((unsigned char)tok[0]) || tok[0] == '-'))
		return -EINVAL;
	memcpy(buf, tok, len);
	buf[len] = '\0';
	errno = 0;
	if (buf[0] == '-')
		*v = (__u64)strtoll(buf, &e, 10);
	else
		*v = strtoull(buf, &e, 10);
	return errno || e == buf || *e ? -EINVAL : 0;
}

static int add_entry(struct netstat *s, const char *sec, size_t slen,
		     const char *name, size_t nlen, __u64 value)
{
	struct netstat_entry *e;

	if (slen >= sizeof(e->section) || nlen >= sizeof(e->name))
		return -EINVAL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;

		e = realloc(s->entries, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		s->entries = e;
		s->cap = cap;
	}
	e = &s->entries[s->n++];
	memcpy(e->section, sec, slen);
	e->section[slen] = '\0';
	memcpy(e->name, name, nlen);
	e->name[nlen] = '\0';
	e->value = value;
	return 0;
}

/* Adds one section; on any error the section is rolled back whole, so a
 * half-parsed pair can never pair a name with the wrong column. */
static int parse_pair(struct netstat *s, const struct line *hdr, const struct line *val,
		      size_t slen)
{
	const char *hp = hdr->s + slen + 1, *vp = val->s + slen + 1, *name, *tok;
	size_t n0 = s->n, nlen, vlen;
	int err = 0;
	__u64 v;

	if (count_tokens(hp, hdr->end) != count_tokens(vp, val->end) ||
	    !count_tokens(hp, hdr->end)) {
		err = -EINVAL;
		goto out;
	}
	while (!err && (name = next_token(&hp, hdr->end, &nlen))) {
		tok = next_token(&vp, val->end, &vlen);
		err = parse_value(tok, vlen, &v);
		if (!err)
			err = add_entry(s, hdr->s, slen, name, nlen, v);
	}
out:
	if (err)
		s->n = n0;
	return err;
}

int netstat__parse(const char *text, struct netstat *out)
{
	struct line hdr = {}, cur;
	const char *p = text, *nl;
	size_t hlen = 0, clen;
	int err = 0, sections = 0, r;

	memset(out, 0, sizeof(*out));
	while (*p && !err) {
		nl = strchr(p, '\n');
		cur.s = p;
		cur.end = nl ? nl : p + strlen(p);
		p = nl ? nl + 1 : cur.end;
		clen = section_len(&cur);
		if (clen && hlen == clen && !memcmp(cur.s, hdr.s, clen)) {
			r = parse_pair(out, &hdr, &cur, clen);
			if (r == -ENOMEM)
				err = r;
			else if (r)
				debug("netstat: section %.*s does not line up: skipped", (int)clen, cur.s);
			else
				sections++;
			hlen = 0;
			continue;
		}
		if (hlen)
			debug("netstat: section %.*s has no values line", (int)hlen, hdr.s);
		/* Anything else starts a new pair (or, without a section, none). */
		hdr = cur;
		hlen = clen;
	}
	if (!err && !sections)
		err = -EINVAL;
	if (err)
		netstat__free(out);
	return err;
}

struct text_buf {
	char *s;
	size_t len, cap;
};

/* Appends a whole /proc file: its size is not known in advance (stat says
 * 0), so read until EOF into a growing buffer, always NUL-terminated. */
static int append_file(const char *path, struct text_buf *b)
{
	int fd, err = 0;
	ssize_t n = 1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		warn("%s: %s", path, strerror(errno));
		goto out;
	}
	while (n > 0) {
		if (b->cap - b->len < 4096) {
			char *s = realloc(b->s, b->cap + 16384);

			if (!s) {
				err = -ENOMEM;
				goto out;
			}
			b->s = s;
			b->cap += 16384;
		}
		n = read(fd, b->s + b->len, b->cap - b->len - 2);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n > 0)
			b->len += (size_t)n;
	}
	if (n < 0) {
		err = -errno;
		warn("%s: %s", path, strerror(errno));
	}
	/* The next file must start on a line of its own. */
	if (b->len && b->s[b->len - 1] != '\n')
		b->s[b->len++] = '\n';
	b->s[b->len] = '\0';
out:
	if (fd >= 0)
		close(fd);
	return err;
}

/* Runs inside the target namespace: /proc/self/net would show the
 * namespace of the thread-group leader, thread-self shows ours. */
static int read_counters(void *ctx)
{
	struct text_buf *b = ctx;
	int err;

	err = append_file("/proc/thread-self/net/netstat", b);
	if (!err)
		err = append_file("/proc/thread-self/net/snmp", b);
	return err;
}

int netstat__read(int nsfd, struct netstat *out)
{
	struct text_buf b = {};
	int err;

	memset(out, 0, sizeof(*out));
	err = netns__run_in(nsfd, read_counters, &b);
	if (err)
		goto out;
	err = netstat__parse(b.s, out);
	if (err)
		warn("/proc/net/netstat: no counters could be parsed (%s)", strerror(-err));
out:
	free(b.s);
	return err;
}

__u64 netstat__get(const struct netstat *s, const char *section, const char *name, bool *found)
{
	const struct netstat_entry *e;
	__u64 v = 0;
	bool hit = false;

	for (size_t i = 0; s && !hit && i < s->n; i++) {
		e = &s->entries[i];
		hit = !strcmp(e->name, name) && !strcmp(e->section, section);
		if (hit)
			v = e->value;
	}
	if (found)
		*found = hit;
	return v;
}

void netstat__free(struct netstat *s)
{
	if (!s)
		return;
	free(s->entries);
	memset(s, 0, sizeof(*s));
}
