// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The tuner's journal (user/lib/tune/journal.c) and rollback's bookkeeping
 * (user/lib/tune/tunerollback.c) in a temporary directory, without root: what is
 * written is read back exactly, a crash mid-save never loses the last good
 * journal, a damaged file is refused and left alone, rollback removes only
 * what it restored. Also the pure helpers of user/lib/sys/sysctl.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "journal.h"
#include "sysctl.h"
#include "tunerollback.h"

static char base[64], dir[128];

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/nettune-journal.XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s", base);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];
	(void)state;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The refusals these tests provoke print a line each: keep the log clean. */
static int saved_stderr = -1;

static void quiet(void)
{
	int null = open("/dev/null", O_WRONLY);

	fflush(stderr);
	saved_stderr = dup(2);
	dup2(null, 2);
	close(null);
}

static void loud(void)
{
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static struct journal_entry sysctl_entry(const char *key, const char *old, const char *new)
{
	struct journal_entry e = { .kind = JOURNAL_SYSCTL, .state = JOURNAL_PENDING };

	e.ns.ino = 4026532301u;
	e.ns.cookie = 0xfedcba9876543210ULL;	/* above INT64_MAX on purpose */
	e.ns.pid = 4242;
	e.ns.pid_start = 123456;
	snprintf(e.ns.path, sizeof(e.ns.path), "/run/netns/blue \"quoted\"");
	snprintf(e.key, sizeof(e.key), "%s", key);
	snprintf(e.old_value, sizeof(e.old_value), "%s", old);
	snprintf(e.new_value, sizeof(e.new_value), "%s", new);
	return e;
}

static struct journal_entry relisten_entry(void)
{
	struct journal_entry e = sysctl_entry("listen-backlog", "16", "256");

	e.kind = JOURNAL_RELISTEN;
	e.pid = 99;
	e.pid_start = 777;
	e.fd = 3;
	e.sock_ino = 18309932;
	snprintf(e.address, sizeof(e.address), "[::1]:8080");
	return e;
}

static void assert_same(const struct journal_entry *a, const struct journal_entry *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->ns.ino, b->ns.ino);
	assert_true(a->ns.cookie == b->ns.cookie);
	assert_int_equal(a->ns.pid, b->ns.pid);
	assert_true(a->ns.pid_start == b->ns.pid_start);
	assert_string_equal(a->ns.path, b->ns.path);
	assert_string_equal(a->key, b->key);
	assert_string_equal(a->old_value, b->old_value);
	assert_string_equal(a->new_value, b->new_value);
	if (a->kind == JOURNAL_RELISTEN) {
		assert_int_equal(a->pid, b->pid);
		assert_true(a->pid_start == b->pid_start);
		assert_int_equal(a->fd, b->fd);
		assert_int_equal(a->sock_ino, b->sock_ino);
		assert_string_equal(a->address, b->address);
	}
}

static void test_roundtrip(void **state)
{
	struct journal_entry a = sysctl_entry("net.ipv4.ip_local_port_range", "32768 60999",
					      "16384 65535");
	struct journal_entry b = relisten_entry();
	struct journal *j;
	char p[192];
	struct stat st;
	size_t idx;
	(void)state;

	strcat(dir, "/sub/state");	/* made, parents too */
	assert_int_equal(journal__open(dir, true, &j), 0);
	assert_int_equal(journal__len(j), 0);
	assert_int_equal(journal__append(j, &a, &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(journal__append(j, &b, &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(journal__mark(j, 0, JOURNAL_APPLIED), 0);
	journal__close(j);

	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	path_of(p, sizeof(p), JOURNAL_FILE);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	path_of(p, sizeof(p), JOURNAL_FILE ".tmp");
	assert_int_not_equal(stat(p, &st), 0);	/* renamed, nothing left over */

	assert_int_equal(journal__open(dir, false, &j), 0);
	assert_int_equal(journal__len(j), 2);
	assert_same(journal__at(j, 0), &a);
	assert_same(journal__at(j, 1), &b);
	assert_int_equal(journal__at(j, 0)->state, JOURNAL_APPLIED);
	assert_int_equal(journal__at(j, 1)->state, JOURNAL_PENDING);
	assert_true(journal__at(j, 0)->seq < journal__at(j, 1)->seq);
	assert_true(journal__at(j, 0)->time > 0);
	assert_null(journal__at(j, 2));
	/* removing keeps the rest and their order; seqs are never reused */
	assert_int_equal(journal__remove(j, 0), 0);
	assert_int_equal(journal__append(j, &a, &idx), 0);
	journal__close(j);
	assert_int_equal(journal__open(dir, false, &j), 0);
	assert_int_equal(journal__len(j), 2);
	assert_same(journal__at(j, 0), &b);
	assert_true(journal__at(j, 1)->seq == 3);
	journal__close(j);
}

static void test_lock(void **state)
{
	struct journal *a, *b;
	(void)state;

	assert_int_equal(journal__open(dir, true, &a), 0);
	quiet();
	assert_int_equal(journal__open(dir, true, &b), -EBUSY);
	loud();
	assert_null(b);
	journal__close(a);
	assert_int_equal(journal__open(dir, true, &b), 0);	/* released */
	journal__close(b);
	journal__close(NULL);
}

static void test_missing_dir(void **state)
{
	struct journal_entry e = sysctl_entry("net.core.somaxconn", "64", "4096");
	struct journal *j;
	struct stat st;
	size_t idx;
	(void)state;

	strcat(dir, "/never-made");
	assert_int_equal(journal__open(dir, false, &j), 0);	/* nothing was ever journaled */
	assert_int_equal(journal__len(j), 0);
	assert_int_equal(journal__append(j, &e, &idx), -EBADF);
	journal__close(j);
	assert_int_not_equal(stat(dir, &st), 0);	/* status/rollback create nothing */
}

static void write_file(const char *name, const char *text, size_t len)
{
	char p[192];
	int fd;

	path_of(p, sizeof(p), name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static char *read_file(const char *name, size_t *len)
{
	char p[192], *buf = calloc(1, 1 << 16);
	int fd;

	path_of(p, sizeof(p), name);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	*len = (size_t)read(fd, buf, (1 << 16) - 1);
	close(fd);
	return buf;
}

/* A crash while the temp file was written: the journal is the last good one. */
static void test_torn_temp_file(void **state)
{
	struct journal_entry e = sysctl_entry("net.core.somaxconn", "64", "4096");
	struct journal *j;
	size_t idx;
	(void)state;

	assert_int_equal(journal__open(dir, true, &j), 0);
	assert_int_equal(journal__append(j, &e, &idx), 0);
	journal__close(j);
	write_file(JOURNAL_FILE ".tmp", "{\"nettune_journal\":1,\"next_seq\":9,\"entr", 40);
	assert_int_equal(journal__open(dir, true, &j), 0);
	assert_int_equal(journal__len(j), 1);
	assert_same(journal__at(j, 0), &e);
	assert_int_equal(journal__append(j, &e, &idx), 0);	/* overwrites the torn temp */
	journal__close(j);
	assert_int_equal(journal__open(dir, false, &j), 0);
	assert_int_equal(journal__len(j), 2);
	journal__close(j);
}

/* A journal cut short anywhere (which the rename makes impossible, but a
 * disk can do anything) is refused and left as it is, never half-read. */
static void test_damaged_journal_refused(void **state)
{
	struct journal_entry a = sysctl_entry("net.core.somaxconn", "64", "4096");
	struct journal_entry b = relisten_entry();
	struct journal *j;
	size_t len, len2, idx;
	char *good, *after;
	(void)state;

	quiet();	/* the refusals are expected */
	assert_int_equal(journal__open(dir, true, &j), 0);
	assert_int_equal(journal__append(j, &a, &idx), 0);
	assert_int_equal(journal__append(j, &b, &idx), 0);
	journal__close(j);
	good = read_file(JOURNAL_FILE, &len);
	for (size_t cut = 0; cut < len; cut++) {
		int err;

		write_file(JOURNAL_FILE, good, cut);
		err = journal__open(dir, true, &j);
		if (!err) {	/* only a cut in the trailing whitespace parses */
			assert_int_equal(journal__len(j), 2);
			journal__close(j);
			continue;
		}
		assert_int_equal(err, -EBADMSG);
		after = read_file(JOURNAL_FILE, &len2);
		assert_int_equal(len2, cut);	/* untouched */
		assert_memory_equal(after, good, cut);
		free(after);
	}
	write_file(JOURNAL_FILE, "{\"nettune_journal\":2,\"next_seq\":1,\"entries\":[]}", 47);
	assert_int_equal(journal__open(dir, true, &j), -EBADMSG);	/* a future version */
	write_file(JOURNAL_FILE, "{\"nettune_journal\":1,\"next_seq\":1,\"entries\":[{\"seq\":1}]}",
		   56);
	assert_int_equal(journal__open(dir, true, &j), -EBADMSG);
	loud();
	free(good);
}

static void test_kind_and_state_names(void **state)
{
	(void)state;
	assert_string_equal(journal__kind_name(JOURNAL_SYSCTL), "sysctl");
	assert_string_equal(journal__kind_name(JOURNAL_RELISTEN), "relisten");
	assert_string_equal(journal__state_name(JOURNAL_PENDING), "pending");
	assert_string_equal(journal__state_name(JOURNAL_APPLIED), "applied");
}

static char *rollback_output(struct journal *j, bool forget, int *left)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	*left = tunerollback__run(j, forget, f);
	fclose(f);
	return text;
}

/* Entries whose namespace no longer exists stay unless forgotten; a
 * relisten whose namespace is gone is done (its socket went with it). */
static void test_rollback_bookkeeping(void **state)
{
	struct journal_entry a = sysctl_entry("net.core.somaxconn", "64", "4096");
	struct journal_entry b = relisten_entry();
	struct journal *j;
	size_t idx;
	char *out;
	int left;
	(void)state;

	a.ns.ino = b.ns.ino = 1;	/* no namespace has inode 1 */
	a.ns.path[0] = b.ns.path[0] = '\0';
	a.ns.pid = b.ns.pid = 0;
	assert_int_equal(journal__open(dir, true, &j), 0);
	assert_int_equal(journal__append(j, &a, &idx), 0);
	assert_int_equal(journal__append(j, &b, &idx), 0);
	out = rollback_output(j, false, &left);
	assert_int_equal(left, 1);
	assert_non_null(strstr(out, "rolling back 2 changes, newest first"));
	assert_true(strstr(out, "listen backlog of [::1]:8080") < strstr(out, "net.core.somaxconn"));
	assert_non_null(strstr(out, "kept: rerun when it is reachable"));
	free(out);
	journal__close(j);
	assert_int_equal(journal__open(dir, false, &j), 0);
	assert_int_equal(journal__len(j), 1);	/* the sysctl, durably */
	assert_string_equal(journal__at(j, 0)->key, "net.core.somaxconn");
	out = rollback_output(j, true, &left);
	assert_int_equal(left, 0);
	assert_non_null(strstr(out, "forgotten"));
	free(out);
	out = rollback_output(j, false, &left);	/* idempotent */
	assert_int_equal(left, 0);
	assert_non_null(strstr(out, "nothing to roll back"));
	free(out);
	journal__close(j);
}

static void test_sysctl_helpers(void **state)
{
	char buf[64], v[64];
	long long x;
	(void)state;

	assert_int_equal(sysctl__path("net.core.somaxconn", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/proc/sys/net/core/somaxconn");
	assert_int_equal(sysctl__path("net.ipv4.conf.all.rp_filter", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/proc/sys/net/ipv4/conf/all/rp_filter");
	assert_int_equal(sysctl__path("kernel.panic", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sysctl__path("net...core", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sysctl__path("net.core/../../x", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sysctl__path("net.", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sysctl__path("", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sysctl__path(NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sysctl__path("net.core.somaxconn", buf, 10), -EINVAL);

	snprintf(v, sizeof(v), " 4096\t131072 \t 6291456\n");
	sysctl__normalize(v);
	assert_string_equal(v, "4096 131072 6291456");
	assert_int_equal(sysctl__field(v, 2, &x), 0);
	assert_true(x == 6291456);
	assert_int_equal(sysctl__field(v, 3, &x), -EINVAL);
	assert_int_equal(sysctl__field("12abc", 0, &x), -EINVAL);
	assert_int_equal(sysctl__field("", 0, &x), -EINVAL);
	assert_int_equal(sysctl__field("99999999999999999999", 0, &x), -EINVAL);
	assert_int_equal(sysctl__set_field(v, 2, 12582912, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "4096 131072 12582912");
	assert_int_equal(sysctl__set_field(v, 5, 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sysctl__set_field(v, 0, 1, buf, 8), -ENOSPC);

	assert_non_null(sysctl__info("net.core.somaxconn"));
	assert_int_equal(sysctl__info("net.core.somaxconn")->scope, SYSCTL_NETNS);
	assert_int_equal(sysctl__info("net.core.netdev_max_backlog")->scope, SYSCTL_GLOBAL);
	assert_int_equal(sysctl__info("net.core.rmem_max")->scope, SYSCTL_GLOBAL);
	assert_true(sysctl__info("net.ipv4.tcp_syncookies")->floor >= 1);	/* never 0 */
	assert_null(sysctl__info("net.ipv4.tcp_tw_recycle"));
	/* refused before any file is touched, whatever the caller asks */
	quiet();
	assert_int_equal(sysctl__write(-1, "net.ipv4.tcp_syncookies", "0"), -EPERM);
	assert_int_equal(sysctl__write(-1, "net.ipv4.tcp_syncookies", " 0\n"), -EPERM);
	assert_int_equal(sysctl__write(-1, "net.ipv4.tcp_tw_recycle", "1"), -EPERM);
	loud();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_temp_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_journal_refused, setup, teardown),
		cmocka_unit_test(test_kind_and_state_names),
		cmocka_unit_test_setup_teardown(test_rollback_bookkeeping, setup, teardown),
		cmocka_unit_test(test_sysctl_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
