// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "journal.h"
#include "log.h"

#define JOURNAL_VERSION		1
#define JOURNAL_MAX_ENTRIES	4096	/* a journal this long is not ours */

struct journal {
	char dir[PATH_MAX];
	int lock_fd;
	struct journal_entry *e;
	size_t n, cap;
	__u64 next_seq;
};

const char *journal__kind_name(enum journal_kind k)
{
	return k == JOURNAL_RELISTEN ? "relisten" : "sysctl";
}

const char *journal__state_name(enum journal_state s)
{
	return s == JOURNAL_APPLIED ? "applied" : "pending";
}

/* ---- JSON encoding ---------------------------------------------------- */

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_u64(struct json_object *o, const char *k, __u64 v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static struct json_object *entry_json(const struct journal_entry *e)
{
	struct json_object *o = json_object_new_object(), *ns = json_object_new_object();

	add_u64(o, "seq", e->seq);
	json_object_object_add(o, "time", json_object_new_int64(e->time));
	add_str(o, "kind", journal__kind_name(e->kind));
	add_str(o, "state", journal__state_name(e->state));
	add_u64(ns, "ino", e->ns.ino);
	add_u64(ns, "cookie", e->ns.cookie);
	add_str(ns, "path", e->ns.path);
	add_u64(ns, "pid", (__u64)(e->ns.pid > 0 ? e->ns.pid : 0));
	add_u64(ns, "pid_start", e->ns.pid_start);
	json_object_object_add(o, "netns", ns);
	add_str(o, "key", e->key);
	add_str(o, "old", e->old_value);
	add_str(o, "new", e->new_value);
	if (e->kind == JOURNAL_RELISTEN) {
		add_u64(o, "pid", (__u64)e->pid);
		add_u64(o, "pid_start", e->pid_start);
		add_u64(o, "fd", (__u64)e->fd);
		add_u64(o, "sock_ino", e->sock_ino);
		add_str(o, "address", e->address);
	}
	return o;
}

static char *journal_text(const struct journal *j)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char *text;

	json_object_object_add(root, "nettune_journal", json_object_new_int(JOURNAL_VERSION));
	add_u64(root, "next_seq", j->next_seq);
	for (size_t i = 0; i < j->n; i++)
		json_object_array_add(arr, entry_json(&j->e[i]));
	json_object_object_add(root, "entries", arr);
	text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return text;
}

/* ---- JSON decoding: every field checked, nothing assumed ----------------- */

static int get_str(struct json_object *o, const char *k, char *buf, size_t len)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	s = json_object_get_string(v);
	if (strlen(s) >= len)
		return -EBADMSG;
	strcpy(buf, s);
	return 0;
}

static int get_u64(struct json_object *o, const char *k, __u64 max, __u64 *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	/* json-c keeps non-negative integers above INT64_MAX as unsigned. */
	*out = json_object_get_uint64(v);
	if (json_object_get_int64(v) < 0 || *out > max)
		return -EBADMSG;
	return 0;
}

static int parse_ns(struct json_object *o, struct nsref *ns)
{
	struct json_object *n;
	__u64 ino = 0, pid = 0;
	int err;

	if (!json_object_object_get_ex(o, "netns", &n) || !json_object_is_type(n, json_type_object))
		return -EBADMSG;
	err = get_u64(n, "ino", UINT32_MAX, &ino) ?:
	      get_u64(n, "cookie", UINT64_MAX, &ns->cookie) ?:
	      get_str(n, "path", ns->path, sizeof(ns->path)) ?:
	      get_u64(n, "pid", INT_MAX, &pid) ?:
	      get_u64(n, "pid_start", UINT64_MAX, &ns->pid_start);
	ns->ino = (__u32)ino;
	ns->pid = (int)pid;
	return err;
}

static int parse_relisten(struct json_object *o, struct journal_entry *e)
{
	__u64 pid = 0, fd = 0, ino = 0;
	int err;

	err = get_u64(o, "pid", INT_MAX, &pid) ?:
	      get_u64(o, "pid_start", UINT64_MAX, &e->pid_start) ?:
	      get_u64(o, "fd", INT_MAX, &fd) ?:
	      get_u64(o, "sock_ino", UINT32_MAX, &ino) ?:
	      get_str(o, "address", e->address, sizeof(e->address));
	e->pid = (int)pid;
	e->fd = (int)fd;
	e->sock_ino = (__u32)ino;
	return err;
}

static int parse_entry(struct json_object *o, struct journal_entry *e)
{
	char kind[16], state[16];
	__u64 seq = 0;
	int err;

	memset(e, 0, sizeof(*e));
	if (!json_object_is_type(o, json_type_object))
		return -EBADMSG;
	err = get_u64(o, "seq", UINT64_MAX, &seq) ?: get_str(o, "kind", kind, sizeof(kind)) ?:
	      get_str(o, "state", state, sizeof(state)) ?: parse_ns(o, &e->ns) ?:
	      get_str(o, "key", e->key, sizeof(e->key)) ?:
	      get_str(o, "old", e->old_value, sizeof(e->old_value)) ?:
	      get_str(o, "new", e->new_value, sizeof(e->new_value));
	if (err)
		return err;
	e->seq = seq;
	e->time = json_object_get_int64(json_object_object_get(o, "time"));
	if (!strcmp(kind, "sysctl"))
		e->kind = JOURNAL_SYSCTL;
	else if (!strcmp(kind, "relisten"))
		e->kind = JOURNAL_RELISTEN;
	else
		return -EBADMSG;
	if (strcmp(state, "pending") && strcmp(state, "applied"))
		return -EBADMSG;
	e->state = strcmp(state, "applied") ? JOURNAL_PENDING : JOURNAL_APPLIED;
	return e->kind == JOURNAL_RELISTEN ? parse_relisten(o, e) : 0;
}

static int grow(struct journal *j, size_t want)
{
	struct journal_entry *e;
	size_t cap = j->cap ? j->cap : 8;

	while (cap < want)
		cap *= 2;
	if (cap == j->cap)
		return 0;
	e = realloc(j->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	j->e = e;
	j->cap = cap;
	return 0;
}

static int parse_text(struct journal *j, const char *text)
{
	struct json_object *root = json_tokener_parse(text), *arr, *v;
	size_t n;
	int err = -EBADMSG;

	if (!root || !json_object_object_get_ex(root, "nettune_journal", &v) ||
	    json_object_get_int(v) != JOURNAL_VERSION ||
	    get_u64(root, "next_seq", UINT64_MAX, &j->next_seq) ||
	    !json_object_object_get_ex(root, "entries", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		goto out;
	n = json_object_array_length(arr);
	if (n > JOURNAL_MAX_ENTRIES || grow(j, n))
		goto out;
	for (j->n = 0; j->n < n; j->n++) {
		err = parse_entry(json_object_array_get_idx(arr, j->n), &j->e[j->n]);
		if (err)
			goto out;
	}
	err = 0;
out:
	json_object_put(root);
	return err;
}

/* ---- files ------------------------------------------------------------- */

static int load(struct journal *j)
{
	char path[PATH_MAX + 32], *text = NULL;
	struct stat st;
	ssize_t got = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", j->dir, JOURNAL_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) || st.st_size > (1 << 24)) {
		err = -EBADMSG;
		goto out;
	}
	text = calloc(1, (size_t)st.st_size + 1);
	if (!text) {
		err = -ENOMEM;
		goto out;
	}
	while (got < st.st_size) {
		ssize_t r = read(fd, text + got, (size_t)(st.st_size - got));

		if (r <= 0) {
			err = r < 0 ? -errno : -EBADMSG;
			goto out;
		}
		got += r;
	}
	err = parse_text(j, text);
out:
	free(text);
	close(fd);
	return err;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

/* temp file + fsync + rename + fsync(dir): the rename is the commit point. */
static int save(struct journal *j)
{
	char tmp[PATH_MAX + 32], path[PATH_MAX + 32], *text = journal_text(j);
	int fd = -1, err;

	if (!text)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", j->dir, JOURNAL_FILE);
	snprintf(path, sizeof(path), "%s/%s", j->dir, JOURNAL_FILE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, text, strlen(text));
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		err = fsync_dir(j->dir);
out:
	if (err)
		warn("state dir %s: cannot write the journal: %s", j->dir, strerror(-err));
	free(text);
	return err;
}

static int make_dir(const char *dir)
{
	char p[PATH_MAX];

	if (strlen(dir) >= sizeof(p))
		return -ENAMETOOLONG;
	strcpy(p, dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int lock_dir(struct journal *j)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/lock", j->dir);
	j->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lock_fd < 0)
		return -errno;
	/* The kernel drops a flock when its holder dies, even by SIGKILL. */
	if (flock(j->lock_fd, LOCK_EX | LOCK_NB))
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

int journal__open(const char *dir, bool create, struct journal **out)
{
	struct journal *j = calloc(1, sizeof(*j));
	struct stat st;
	int err;

	*out = NULL;
	if (!j)
		return -ENOMEM;
	j->lock_fd = -1;
	j->next_seq = 1;
	err = strlen(dir) < sizeof(j->dir) ? 0 : -ENAMETOOLONG;
	if (!err) {
		strcpy(j->dir, dir);
		if (create)
			err = make_dir(dir);
		else if (stat(dir, &st) && errno == ENOENT)
			goto empty;	/* nothing was ever journaled here; any other
					 * error may hide changes: it is one */
	}
	err = err ?: lock_dir(j) ?: load(j);
	if (err) {
		if (err == -EBUSY)
			warn("state dir %s: another nettune tune or rollback is using it", dir);
		else if (err == -EBADMSG)
			warn("state dir %s: %s is damaged; not touching it", dir, JOURNAL_FILE);
		else
			warn("state dir %s: %s", dir, strerror(-err));
		journal__close(j);
		return err;
	}
empty:
	*out = j;
	return 0;
}

void journal__close(struct journal *j)
{
	if (!j)
		return;
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	free(j->e);
	free(j);
}

const char *journal__dir(const struct journal *j)
{
	return j->dir;
}

size_t journal__len(const struct journal *j)
{
	return j->n;
}

const struct journal_entry *journal__at(const struct journal *j, size_t i)
{
	return i < j->n ? &j->e[i] : NULL;
}

int journal__append(struct journal *j, const struct journal_entry *e, size_t *idx)
{
	int err;

	if (j->lock_fd < 0)
		return -EBADF;	/* opened without CREATE on a missing dir */
	if (j->n >= JOURNAL_MAX_ENTRIES)
		return -E2BIG;
	err = grow(j, j->n + 1);
	if (err)
		return err;
	j->e[j->n] = *e;
	j->e[j->n].seq = j->next_seq;
	j->e[j->n].time = (__s64)time(NULL);
	j->n++;
	j->next_seq++;
	err = save(j);
	if (err) {
		j->n--;	/* not durable: the caller must not make the change */
		j->next_seq--;
		return err;
	}
	*idx = j->n - 1;
	return 0;
}

int journal__mark(struct journal *j, size_t idx, enum journal_state state)
{
	if (idx >= j->n || j->lock_fd < 0)
		return -EINVAL;
	j->e[idx].state = state;
	return save(j);
}

int journal__remove(struct journal *j, size_t idx)
{
	if (idx >= j->n || j->lock_fd < 0)
		return -EINVAL;
	memmove(&j->e[idx], &j->e[idx + 1], (j->n - idx - 1) * sizeof(j->e[0]));
	j->n--;
	return save(j);
}
