// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <string.h>
#include "text.h"

/* The length of the valid UTF-8 sequence at S (1 to 4), or 0; *cp is the
 * code point. Overlong forms and surrogates are not valid. */
static size_t utf8_seq(const unsigned char *s, unsigned int *cp)
{
	static const unsigned int min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n;
	unsigned int c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also the end of the string */
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

const char *text__printable(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!len)
		return buf;
	while (*p) {
		unsigned int cp;
		size_t n = utf8_seq(p, &cp);
		bool ok = n && cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f);

		if (!n)
			n = 1;
		if (o + (ok ? n : 1) >= len)
			break;
		if (ok)
			memcpy(buf + o, p, n);
		else
			buf[o] = '?';
		o += ok ? n : 1;
		p += n;
	}
	buf[o] = 0;
	return buf;
}

bool text__all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}
