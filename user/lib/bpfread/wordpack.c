// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <string.h>
#include "wordpack.h"

static size_t nwords(size_t size)
{
	return (size + 7) / 8;
}

static size_t bitmap_words(size_t size)
{
	return (nwords(size) + 63) / 64;
}

size_t wordpack__max_words(size_t size)
{
	return bitmap_words(size) + nwords(size);
}

/* Records come from byte buffers with no alignment promise: words are
 * copied, and the last may be short. */
static size_t word_len(size_t size, size_t w)
{
	return size - w * 8 < 8 ? size - w * 8 : 8;
}

size_t wordpack__pack(const void *rec, size_t size, __u64 *out)
{
	size_t nbm = bitmap_words(size), used = nbm;
	const char *p = rec;

	memset(out, 0, nbm * sizeof(*out));
	for (size_t w = 0; w < nwords(size); w++) {
		__u64 v = 0;

		memcpy(&v, p + w * 8, word_len(size, w));
		if (!v)
			continue;
		out[w / 64] |= 1ULL << (w % 64);
		out[used++] = v;
	}
	return used;
}

size_t wordpack__unpack(const __u64 *in, size_t size, void *rec)
{
	size_t nbm = bitmap_words(size), used = nbm;
	char *p = rec;

	memset(rec, 0, size);
	for (size_t b = 0; b < nbm; b++) {
		for (__u64 bits = in[b]; bits; bits &= bits - 1) {
			size_t w = b * 64 + (size_t)__builtin_ctzll(bits);

			memcpy(p + w * 8, &in[used++], word_len(size, w));
		}
	}
	return used;
}
