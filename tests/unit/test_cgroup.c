// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Cgroup ids back to paths (user/lib/sys/cgroup.c), on a scratch directory
 * taken for the cgroup2 mount: ids are inode numbers there as on cgroup2.
 * A removed cgroup keeps its last path (a serve label must not flap). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cgroup.h"

static char root[PATH_MAX];

static __u64 dir_id(const char *rel)
{
	char p[PATH_MAX + 64];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

static void mk(const char *rel)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void rm(const char *rel)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s%s", root, rel);
	assert_int_equal(rmdir(p), 0);
}

/* The memo walks again at most once a second: wait for the next one. */
static void next_second(void)
{
	time_t t = time(NULL);

	while (time(NULL) == t)
		usleep(20000);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/nettune-cgroup-test.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	cgroup__use_mount(root);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	cgroup__use_mount(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) ? -1 : 0;
}

static void test_paths_and_last_known(void **state)
{
	__u64 a, b, unknown;

	(void)state;
	mk("/a");
	mk("/a/b.service");
	a = dir_id("/a");
	b = dir_id("/a/b.service");
	unknown = a + b + 1000003;	/* no directory: each query of it walks */
	assert_string_equal(cgroup__path(dir_id("")), "/");
	assert_string_equal(cgroup__path(a), "/a");
	assert_string_equal(cgroup__path(b), "/a/b.service");

	/* b is removed (a scratch filesystem may give its inode number to
	 * the next directory: none is made). A walk in a later second no
	 * longer sees it; its path stays what it was, in that second ... */
	rm("/a/b.service");
	next_second();
	assert_null(cgroup__path(unknown));
	assert_string_equal(cgroup__path(b), "/a/b.service");
	/* ... and when b's own query walks again in the next one. */
	next_second();
	assert_string_equal(cgroup__path(b), "/a/b.service");
	assert_string_equal(cgroup__path(a), "/a");

	/* An id never seen: no path, in a walk's second or not. */
	assert_null(cgroup__path(unknown));
	next_second();
	assert_null(cgroup__path(unknown));
	assert_null(cgroup__path(0));
	rm("/a");
}

/* --cgroup / keeps a listener whose cgroup has no known path when the
 * mount is the whole hierarchy (the kernel's filter counts its events);
 * below a namespace's root, a cgroup must be named to be let in. */
static void test_within(void **state)
{
	char events[PATH_MAX + 32];
	__u64 top, a, b, unknown;
	FILE *f;

	(void)state;
	mk("/a");
	mk("/a/b");
	top = dir_id("");
	a = dir_id("/a");
	b = dir_id("/a/b");
	unknown = top + a + b + 1000003;
	next_second();
	assert_string_equal(cgroup__path(b), "/a/b");	/* a walk */
	assert_true(cgroup__within(b, a));
	assert_true(cgroup__within(b, b));
	assert_false(cgroup__within(a, b));
	assert_true(cgroup__within(a, top));
	assert_false(cgroup__within(unknown, a));
	assert_true(cgroup__within(unknown, top));

	/* The mount's root has cgroup.events: a cgroup namespace's root. */
	snprintf(events, sizeof(events), "%s/cgroup.events", root);
	f = fopen(events, "w");
	assert_non_null(f);
	fclose(f);
	next_second();
	assert_null(cgroup__path(unknown));	/* a walk */
	assert_true(cgroup__within(a, top));
	assert_false(cgroup__within(unknown, top));
	assert_int_equal(unlink(events), 0);
	rm("/a/b");
	rm("/a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_and_last_known),
		cmocka_unit_test(test_within),
	};
	return cmocka_run_group_tests_name("cgroup", tests, setup, teardown);
}
