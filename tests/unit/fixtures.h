/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Test-only helpers for the ELF/Go unit tests: where the fixture binaries
 * are (tests/fixtures/build.sh OUTDIR, named by NT_FIXTURES) and what
 * binutils and the Go toolchain said about them (OUTDIR/truth.txt).
 *
 * The Makefile builds each tests/unit/test_X.c on its own, so the few
 * helpers they share live here as static inline functions; nothing outside
 * tests/unit includes this file. */
#ifndef NETTUNE_TESTS_FIXTURES_H
#define NETTUNE_TESTS_FIXTURES_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>

#define TRUTH_MAX_RETS 16

/* One line of truth.txt: "BIN SYMBOL VADDR SIZE FILEOFF RET_VADDRS...". */
struct truth {
	__u64 vaddr;
	__u64 size;
	__u64 offset;
	__u64 rets[TRUTH_MAX_RETS];
	int nrets;
};

/* OUTDIR/name into buf, or NULL (the caller skips) if it does not exist. */
static inline const char *fixture(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("NT_FIXTURES");

	if (!dir || !*dir) {
		fprintf(stderr, "NT_FIXTURES is not set: run tests/fixtures/build.sh DIR "
			"and export NT_FIXTURES=DIR\n");
		return NULL;
	}
	snprintf(buf, len, "%s/%s", dir, name);
	if (access(buf, R_OK)) {
		fprintf(stderr, "fixture %s is missing\n", buf);
		return NULL;
	}
	return buf;
}

/* The truth.txt line for bin and sym; 0 or -ENOENT. */
static inline int truth_get(const char *bin, const char *sym, struct truth *t)
{
	char path[4096], line[1024], b[128], s[256];
	int n, pos, err = -ENOENT;
	FILE *f;

	if (!fixture("truth.txt", path, sizeof(path)) || !(f = fopen(path, "r")))
		return -ENOENT;
	while (err && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %255s %llx %llx %llx%n", b, s,
			   (unsigned long long *)&t->vaddr, (unsigned long long *)&t->size,
			   (unsigned long long *)&t->offset, &pos) != 5)
			continue;
		if (strcmp(b, bin) || strcmp(s, sym))
			continue;
		for (t->nrets = 0; t->nrets < TRUTH_MAX_RETS; t->nrets++) {
			if (sscanf(line + pos, "%llx%n",
				   (unsigned long long *)&t->rets[t->nrets], &n) != 1)
				break;
			pos += n;
		}
		err = 0;
	}
	fclose(f);
	return err;
}

/* The value of a "KEY VALUE" line of truth.txt (goversion, path, mod). */
static inline const char *truth_value(const char *key, char *buf, size_t len)
{
	char path[4096], line[1024], k[64], v[512];
	const char *ret = NULL;
	FILE *f;

	if (!fixture("truth.txt", path, sizeof(path)) || !(f = fopen(path, "r")))
		return NULL;
	while (!ret && fgets(line, sizeof(line), f))
		if (len && sscanf(line, "%63s %511s", k, v) == 2 && !strcmp(k, key)) {
			size_t n = strnlen(v, len - 1);

			memcpy(buf, v, n);
			buf[n] = '\0';
			ret = buf;
		}
	fclose(f);
	return ret;
}

/* The whole file, malloc'd; NULL on error. */
static inline unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd >= 0 && !fstat(fd, &st) && (buf = malloc(st.st_size ? st.st_size : 1)) &&
	    pread(fd, buf, st.st_size, 0) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	*len = buf ? (size_t)st.st_size : 0;
	return buf;
}

/* Writes len bytes to a new temporary file; its path goes to tmpl, which
 * must hold "XXXXXX". 0 or -errno. The caller unlinks it. */
static inline int write_temp(char *tmpl, const void *data, size_t len)
{
	int fd = mkstemp(tmpl), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		err = -EIO;
	close(fd);
	return err;
}

/* Replaces every occurrence of from with to (same length) inside
 * buf[lo, hi); returns how many it replaced. */
static inline int patch_range(unsigned char *buf, size_t lo, size_t hi, const char *from,
			      const char *to)
{
	size_t n = strlen(from);
	unsigned char *p = buf + lo;
	int count = 0;

	while (n && p + n <= buf + hi && (p = memmem(p, buf + hi - p, from, n))) {
		memcpy(p, to, n);
		p += n;
		count++;
	}
	return count;
}

/* One byte of a file at a file offset, or -1. */
static inline int byte_at(const char *path, __u64 off)
{
	unsigned char c;
	int fd = open(path, O_RDONLY), ok;

	if (fd < 0)
		return -1;
	ok = pread(fd, &c, 1, (off_t)off) == 1;
	close(fd);
	return ok ? c : -1;
}

#endif
