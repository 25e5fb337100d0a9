// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "cgroup.h"
#include "log.h"

/* cgroup__use_mount: a directory taken for the cgroup2 mount (tests). */
static char mount_override[PATH_MAX];

void cgroup__use_mount(const char *dir)
{
	snprintf(mount_override, sizeof(mount_override), "%s", dir ? dir : "");
}

int cgroup__mount(char *buf, size_t len)
{
	FILE *f;
	char line[4096], mnt[PATH_MAX], fstype[64];
	int err = -ENOENT;

	if (mount_override[0]) {
		snprintf(buf, len, "%s", mount_override);
		return 0;
	}
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	/* id parent major:minor root mountpoint options [optional...] - fstype src opts */
	while (fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(dash, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		snprintf(buf, len, "%s", mnt);	/* octal escapes: none on real systems */
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* cgroup__resolve, with the line on stderr only when loud. */
static int resolve(const char *path, __u64 *id, bool loud)
{
	char mnt[PATH_MAX], full[2 * PATH_MAX], real[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	size_t mlen;

	if (cgroup__mount(mnt, sizeof(mnt))) {
		if (loud)
			warn("--cgroup %s: cgroup v2 is not mounted on this host", path);
		return -ENOENT;
	}
	mlen = strlen(mnt);
	/* Relative to the mount unless it names something on it already, or
	 * an existing directory elsewhere (which the checks below refuse). */
	if ((!strncmp(path, mnt, mlen) && (path[mlen] == '/' || !path[mlen])) ||
	    (path[0] == '/' && !stat(path, &st) && strcmp(path, "/")))
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", mnt, path[0] == '/' ? path + 1 : path);
	if (!realpath(full, real) || stat(real, &st)) {
		if (loud)
			warn("--cgroup %s: no such cgroup (%s: %s)", path, full, strerror(errno));
		return -ENOENT;
	}
	if (statfs(real, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode) ||
	    strncmp(real, mnt, mlen) || (real[mlen] && real[mlen] != '/')) {
		if (loud)
			warn("--cgroup %s: %s is not a cgroup v2 directory (cgroup2 is mounted at %s)",
			     path, real, mnt);
		return -EINVAL;
	}
	*id = st.st_ino;
	return 0;
}

int cgroup__resolve(const char *path, __u64 *id)
{
	return resolve(path, id, true);
}

int cgroup__add_filter(const char *path, __u64 *ids, const char **args, int *n, int max)
{
	int err;

	if (*n >= max) {
		warn("--cgroup: at most %d cgroups", max);
		return -E2BIG;
	}
	err = cgroup__resolve(path, &ids[*n]);
	if (!err)
		args[(*n)++] = path;
	return err;
}

int cgroup__id(const char *path, __u64 *id)
{
	return resolve(path, id, false);
}

/* The paths of the last walk, sorted by id. */
struct known {
	__u64 id;
	char *path;
};

/* A memo of the cgroup2 tree, shared by every report of the process: the
 * tree belongs to the host, not to a caller, and a walk costs a readdir
 * of every cgroup. */
static struct {
	struct known *v;
	size_t len, cap;
	size_t sorted;		/* v[0..sorted) is sorted by id: all but during a walk */
	size_t mlen;
	time_t last_walk;
	int failed;
	__u64 root_id;		/* the mount's root ... */
	bool whole;		/* ... is the hierarchy's root (not a namespace's, a subtree's) */
} memo;

static struct known *lookup(__u64 id)
{
	size_t lo = 0, hi = memo.sorted;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (memo.v[mid].id == id)
			return &memo.v[mid];
		if (memo.v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int visit(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	const char *rel = fpath + memo.mlen;
	struct known *k;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	if (memo.len == memo.cap) {
		size_t cap = memo.cap ? memo.cap * 2 : 256;

		k = realloc(memo.v, cap * sizeof(*k));
		if (!k)
			return -1;
		memo.v = k;
		memo.cap = cap;
	}
	k = &memo.v[memo.len];
	k->id = sb->st_ino;
	k->path = strdup(*rel ? rel : "/");
	if (!k->path)
		return -1;
	memo.len++;
	return 0;
}

static int cmp_known(const void *a, const void *b)
{
	const struct known *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void walk(void)
{
	char mnt[PATH_MAX];

	if (cgroup__mount(mnt, sizeof(mnt))) {
		memo.failed = 1;
		return;
	}
	memo.mlen = strlen(mnt);
	{
		char events[PATH_MAX + 16];
		struct stat st;

		/* cgroup.events is in every cgroup but the hierarchy's root */
		snprintf(events, sizeof(events), "%s/cgroup.events", mnt);
		memo.root_id = stat(mnt, &st) ? 0 : st.st_ino;
		memo.whole = access(events, F_OK) && errno == ENOENT;
	}
	for (size_t i = 0; i < memo.len; i++)
		free(memo.v[i].path);
	memo.len = memo.sorted = 0;
	/* A walk visits each directory once: no id is added twice. */
	nftw(mnt, visit, 32, FTW_PHYS | FTW_MOUNT);
	qsort(memo.v, memo.len, sizeof(*memo.v), cmp_known);
	memo.sorted = memo.len;
}

/*
 * The last path each id was seen with, so that a name never flaps (a serve
 * label from a path to "" and back): a cgroup removed since keeps its last
 * path, and an id that a walk missed this second keeps the one it had.
 * Direct-mapped and bounded: an entry is overwritten by a later id of the
 * same slot, which for a live cgroup the walk finds again.
 */
#define LAST_KNOWN	1024
static struct known last_known[LAST_KNOWN];

static const char *remember(__u64 id, const char *path)
{
	struct known *k = &last_known[id % LAST_KNOWN];
	char *p;

	if (k->path && k->id == id && !strcmp(k->path, path))
		return k->path;
	p = strdup(path);
	if (!p)
		return path;
	free(k->path);
	k->id = id;
	k->path = p;
	return p;
}

static const char *recall(__u64 id)
{
	const struct known *k = &last_known[id % LAST_KNOWN];

	return k->path && k->id == id ? k->path : NULL;
}

/* A new cgroup between two walks: opened by its kernfs file handle (the id
 * is the handle), then named by the descriptor's path. NULL where that
 * fails (no CAP_DAC_READ_SEARCH, a cgroup outside this mount). */
#define FILEID_KERNFS	0xfe
static const char *by_handle(__u64 id)
{
	char mnt[PATH_MAX], link[64], path[PATH_MAX];
	struct {
		struct file_handle h;
		__u64 id;
	} fh = { .h = { .handle_bytes = sizeof(__u64), .handle_type = FILEID_KERNFS } };
	size_t mlen;
	ssize_t n;
	int mfd, fd;

	if (cgroup__mount(mnt, sizeof(mnt)))
		return NULL;
	memcpy(fh.h.f_handle, &id, sizeof(id));
	mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return NULL;
	fd = open_by_handle_at(mfd, &fh.h, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(mfd);
	if (fd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	path[n] = 0;
	mlen = strlen(mnt);
	if (strncmp(path, mnt, mlen) || (path[mlen] && path[mlen] != '/'))
		return NULL;
	return remember(id, path[mlen] ? path + mlen : "/");
}

const char *cgroup__path(__u64 id)
{
	struct known *k;
	time_t now;

	if (!id || memo.failed)
		return NULL;
	k = lookup(id);
	if (k)
		return remember(id, k->path);
	now = time(NULL);
	if (memo.last_walk == now) {
		const char *p = recall(id);

		return p ? p : by_handle(id);
	}
	memo.last_walk = now;
	walk();
	k = lookup(id);
	return k ? remember(id, k->path) : recall(id);
}

bool cgroup__within(__u64 id, __u64 want)
{
	const char *p = cgroup__path(id), *w;
	struct known *k;
	size_t n;

	if (id == want)
		return true;
	/* The hierarchy's root holds every cgroup, named or not (as the
	 * kernel's filter has it); a namespace's root only those it shows. */
	if (want == memo.root_id && memo.whole)
		return true;
	/* Not cgroup__path(want): a second walk would free p. */
	k = lookup(want);
	w = k ? k->path : recall(want);
	if (!p || !w)
		return false;
	if (!strcmp(w, "/"))
		return true;
	n = strlen(w);
	return !strncmp(p, w, n) && p[n] == '/';
}
