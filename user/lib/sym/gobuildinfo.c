// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include "elfsym.h"
#include "gobuildinfo.h"
#include "log.h"

/* Blob header: magic (14), pointer size (1), flags (1), then two pointer
 * slots (16); the inline layout's strings start after those 32 bytes. */
static const char magic[14] = "\xff Go buildinf:";
#define HDR_LEN		32
#define FLAG_BIGENDIAN	0x1
#define FLAG_INLINE	0x2
/* cmd/go frames the module text with 16-byte sentinels so the runtime can
 * find it; `go version -m` strips them, so do we. */
#define FRAME_LEN	16

struct gobuildinfo {
	char *version;
	char *modinfo;
	size_t modinfo_len;
	char *path;
	char *module;
};

/* The module text's closing sentinel contains a NUL byte: copy by length,
 * never with strndup. */
static char *copy_bytes(const void *p, size_t n, size_t *len)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
		if (len)
			*len = n;
	}
	return s;
}

/* Unsigned LEB128 as Go's encoding/binary writes it; 0 on malformed. */
static size_t uvarint(const __u8 *p, size_t len, __u64 *v)
{
	unsigned int shift = 0;
	size_t i;

	*v = 0;
	for (i = 0; i < len && i < 10; i++, shift += 7) {
		*v |= (__u64)(p[i] & 0x7f) << shift;
		if (!(p[i] & 0x80))
			return i + 1;
	}
	return 0;
}

static int inline_string(const __u8 **p, size_t *len, char **out, size_t *out_len)
{
	__u64 n;
	size_t hdr = uvarint(*p, *len, &n);

	if (!hdr || n > *len - hdr)
		return -EINVAL;
	*out = copy_bytes(*p + hdr, n, out_len);
	if (!*out)
		return -ENOMEM;
	*p += hdr + n;
	*len -= hdr + n;
	return 0;
}

/* A Go string header {data, len} at addr, followed through mem. */
static int ptr_string(const struct gobuildinfo_mem *mem, unsigned int ps, __u64 addr,
		      char **out, size_t *out_len)
{
	__u64 data, n;
	const char *s;

	if (!mem || mem->read_ptr(mem->ctx, addr, ps, &data) ||
	    mem->read_ptr(mem->ctx, addr + ps, ps, &n))
		return -EINVAL;
	/* 1 MiB: far above any real module list, far below a garbage length. */
	if (n > (1 << 20))
		return -EINVAL;
	s = n ? mem->data_at(mem->ctx, data, n) : "";
	if (!s)
		return -EINVAL;
	*out = copy_bytes(s, n, out_len);
	return *out ? 0 : -ENOMEM;
}

static int pointer_strings(const __u8 *d, __u64 vaddr, const struct gobuildinfo_mem *mem,
			   struct gobuildinfo *b)
{
	unsigned int ps = d[14];
	__u64 vers_addr, mod_addr;
	int err;

	if (d[15] & FLAG_BIGENDIAN)
		return -EPROTONOSUPPORT;
	if ((ps != 4 && ps != 8) || !mem)
		return -EINVAL;
	err = mem->read_ptr(mem->ctx, vaddr + 16, ps, &vers_addr);
	if (!err)
		err = mem->read_ptr(mem->ctx, vaddr + 16 + ps, ps, &mod_addr);
	if (!err)
		err = ptr_string(mem, ps, vers_addr, &b->version, NULL);
	if (!err)
		err = ptr_string(mem, ps, mod_addr, &b->modinfo, &b->modinfo_len);
	return err == -ENOMEM ? err : err ? -EINVAL : 0;
}

static void unframe(char *mod, size_t n)
{
	if (n >= 2 * FRAME_LEN + 1 && mod[n - FRAME_LEN - 1] == '\n') {
		memmove(mod, mod + FRAME_LEN, n - 2 * FRAME_LEN);
		mod[n - 2 * FRAME_LEN] = '\0';
	} else {
		mod[0] = '\0';
	}
}

/* The second tab-separated field of the first line starting "key\t". */
static int field(const char *text, const char *key, char **out)
{
	size_t klen = strlen(key);
	const char *line = text, *end, *val;

	while (*line) {
		end = strchrnul(line, '\n');
		if (!strncmp(line, key, klen) && line[klen] == '\t') {
			val = line + klen + 1;
			*out = strndup(val, strcspn(val, "\t\n"));
			return *out ? 0 : -ENOMEM;
		}
		line = *end ? end + 1 : end;
	}
	return 0;
}

int gobuildinfo__parse(const void *data, size_t len, __u64 vaddr,
		       const struct gobuildinfo_mem *mem, struct gobuildinfo **out)
{
	const __u8 *d = data, *p = d + HDR_LEN;
	struct gobuildinfo *b;
	size_t rest;
	int err;

	*out = NULL;
	if (len < HDR_LEN || memcmp(d, magic, sizeof(magic)))
		return -EINVAL;
	rest = len - HDR_LEN;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	if (d[15] & FLAG_INLINE) {
		err = inline_string(&p, &rest, &b->version, NULL);
		if (!err)
			err = inline_string(&p, &rest, &b->modinfo, &b->modinfo_len);
	} else {
		err = pointer_strings(d, vaddr, mem, b);
	}
	if (!err && !b->version[0])
		err = -EINVAL;
	if (!err) {
		unframe(b->modinfo, b->modinfo_len);
		err = field(b->modinfo, "path", &b->path);
	}
	if (!err)
		err = field(b->modinfo, "mod", &b->module);
	if (err) {
		gobuildinfo__free(b);
		return err;
	}
	*out = b;
	return 0;
}

void gobuildinfo__free(struct gobuildinfo *b)
{
	if (!b)
		return;
	free(b->version);
	free(b->modinfo);
	free(b->path);
	free(b->module);
	free(b);
}

const char *gobuildinfo__version(const struct gobuildinfo *b)
{
	return b->version;
}

const char *gobuildinfo__path(const struct gobuildinfo *b)
{
	return b->path;
}

const char *gobuildinfo__module(const struct gobuildinfo *b)
{
	return b->module;
}

const char *gobuildinfo__modinfo(const struct gobuildinfo *b)
{
	return b->modinfo;
}

int gobuildinfo__parse_version(const char *version, int *major, int *minor)
{
	/* Development builds say "devel go1.23-abcdef ..."; find the release. */
	const char *p = version ? strstr(version, "go") : NULL;
	char *end;
	long ma, mi;

	while (p && (p[2] < '0' || p[2] > '9'))
		p = strstr(p + 2, "go");
	if (!p)
		return -EINVAL;
	ma = strtol(p + 2, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	mi = strtol(end + 1, &end, 10);
	if (ma < 1 || ma > 1000 || mi < 0 || mi > 1000)
		return -EINVAL;
	*major = (int)ma;
	*minor = (int)mi;
	return 0;
}

static int elf_read_ptr(void *ctx, __u64 vaddr, unsigned int ptr_size, __u64 *val)
{
	return elfsym__read_ptr(ctx, vaddr, ptr_size, val);
}

static const void *elf_data_at(void *ctx, __u64 vaddr, size_t len)
{
	return elfsym__data_at(ctx, vaddr, len);
}

/* Without the section (e.g. a tool rewrote the section headers), the blob
 * is 16-byte aligned near the start of writable data, where Go's linker
 * puts it: look at the first 64 KiB of each writable section. */
static int find_blob(const struct elfsym *e, struct elfsym_section *s, __u64 *off)
{
	size_t iter = 0;
	__u64 o;

	if (!elfsym__section(e, ".go.buildinfo", s) && s->data && s->size >= HDR_LEN) {
		*off = 0;
		return 0;
	}
	while (!elfsym__next_section(e, &iter, s)) {
		if (!(s->flags & SHF_ALLOC) || !(s->flags & SHF_WRITE) || !s->data)
			continue;
		for (o = 0; o + HDR_LEN <= s->size && o < 65536; o += 16) {
			if (!memcmp(s->data + o, magic, sizeof(magic))) {
				*off = o;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int gobuildinfo__open(const struct elfsym *e, struct gobuildinfo **out)
{
	struct gobuildinfo_mem mem = {
		.read_ptr = elf_read_ptr, .data_at = elf_data_at, .ctx = (void *)e,
	};
	struct elfsym_section s;
	__u64 off;
	int err;

	*out = NULL;
	err = find_blob(e, &s, &off);
	if (err)
		return err;
	err = gobuildinfo__parse(s.data + off, s.size - off, s.vaddr + off, &mem, out);
	if (!err)
		debug("%s: built by %s, module %s", elfsym__path(e), (*out)->version,
		      (*out)->module ? (*out)->module : "(none)");
	return err;
}
