// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The tuner's evidence from a trace report (user/lib/tune/tuneevidence.c) and
 * /proc/net/sockstat (user/lib/tune/tunecollect.c): every field taken, absurd
 * and missing values clamped, and what the rules then make of it. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "tunecollect.h"
#include "tuneevidence.h"
#include "tunerules.h"

#define NS 4026532301u

static struct tune_rec R[TUNE_MAX_RECS];
static size_t N;

static const char report[] =
	"{\"type\":\"total\",\"seconds\":10.0,"
	"\"connect\":{\"count\":90,"
	"\"failures\":{\"refused\":1,\"timeout\":2,\"no_local_port\":7,\"other\":3,\"total\":13}},"
	"\"drops\":{\"listen_overflows\":83,\"syn_queue_drops\":4,\"syncookies_sent\":66,"
	"\"by_reason\":{\"SOCKET_RCVBUFF\":3,\"PROTO_MEM\":2},"
	"\"by_reason_no_socket\":{\"CPU_BACKLOG\":9}},"
	"\"listeners\":[{\"address\":\"0.0.0.0:9100\",\"port\":9100,\"netns\":4026532301,"
	"\"pid\":42,\"comm\":\"tcpserver\",\"backlog_limit\":16,\"queue\":0,\"peak_queue\":17,"
	"\"accepted\":89,\"overflows\":{\"total\":83,\"syn_time\":80,\"ack_time\":3},"
	"\"accept_wait\":{\"count\":89,\"p50_us\":188700.5,\"p99_us\":343900.0},"
	"\"sockets\":[{\"inode\":501,\"pid\":42,\"backlog_limit\":16},"
	"{\"inode\":502,\"pid\":43,\"backlog_limit\":8},{\"inode\":0}]},"
	"{\"address\":\"[::]:1\",\"port\":1,\"netns\":1,\"backlog_limit\":4}]}";

static void test_evidence_from_report(void **state)
{
	struct json_object *o = json_tokener_parse(report);
	struct tune_listener ls[4];
	struct tune_evidence ev = { .netns = NS };
	(void)state;

	assert_non_null(o);
	assert_int_equal(tuneevidence__from_report(o, &ev, ls, 4), 0);
	assert_true(ev.seconds == 10.0);
	assert_int_equal(ev.connect_total, 103);
	assert_int_equal(ev.connect_no_port, 7);
	assert_int_equal(ev.listen_overflows, 83);
	assert_int_equal(ev.syn_queue_drops, 4);
	assert_int_equal(ev.syncookies_sent, 66);
	assert_int_equal(ev.drop_cpu_backlog, 9);
	assert_int_equal(ev.drop_rcvbuff, 3);
	assert_int_equal(ev.drop_proto_mem, 2);
	assert_int_equal(ev.nlisteners, 1);	/* the other namespace's row is left out */
	assert_string_equal(ls[0].address, "0.0.0.0:9100");
	assert_string_equal(ls[0].comm, "tcpserver");
	assert_int_equal(ls[0].limit, 16);
	assert_int_equal(ls[0].accepted, 89);
	assert_int_equal(ls[0].overflows, 83);
	assert_int_equal(ls[0].overflows_syn, 80);
	assert_true(ls[0].wait_p99_us == 343900.0);
	assert_int_equal(ls[0].pid, 42);
	assert_int_equal(ls[0].nsocks, 3);	/* an SO_REUSEPORT group */
	assert_int_equal(ls[0].nsocks_listed, 2);	/* inode 0 cannot be raised */
	assert_int_equal(ls[0].socks[1].ino, 502);
	assert_int_equal(ls[0].socks[1].pid, 43);
	assert_int_equal(ls[0].socks[1].limit, 8);
	assert_false(ls[0].overflows_from_ns);	/* the namespace saw no more */
	json_object_put(o);
}

/* One active listener: the namespace's exact counter is its own. */
static void test_evidence_namespace_overflows(void **state)
{
	struct json_object *o = json_tokener_parse(
		"{\"seconds\":4,\"drops\":{\"listen_overflows\":999,\"namespaces\":["
		"{\"netns\":1,\"ListenOverflows\":5},"
		"{\"netns\":4026532301,\"ListenOverflows\":347}]},"
		"\"listeners\":[{\"address\":\"0.0.0.0:1\",\"netns\":4026532301,"
		"\"backlog_limit\":16,"
		"\"accepted\":90,\"overflows\":{\"total\":82,\"syn_time\":82,\"ack_time\":0}}]}");
	struct tune_listener ls[2];
	struct tune_evidence ev = { .netns = NS, .known = TK_SOMAXCONN, .somaxconn = 4096 };
	(void)state;

	assert_int_equal(tuneevidence__from_report(o, &ev, ls, 2), 0);
	assert_int_equal(ls[0].overflows, 347);
	assert_true(ls[0].overflows_from_ns);
	assert_int_equal(tunerules__evaluate(&ev, R, TUNE_MAX_RECS, &N), 0);
	assert_non_null(strstr(R[0].evidence,
			       "overflowed 347 times in 4.0 s (TcpExtListenOverflows"));
	/* with -p the other listeners were filtered out: not its count */
	ev.pid_scoped = true;
	assert_int_equal(tuneevidence__from_report(o, &ev, ls, 2), 0);
	assert_int_equal(ls[0].overflows, 82);
	assert_false(ls[0].overflows_from_ns);
	json_object_put(o);
}

/* A listener shown twice is one: one recommendation, one change, made on
 * the row that knows its sockets, for the sum of what both saw. */
static void test_evidence_duplicate_rows(void **state)
{
	struct json_object *o = json_tokener_parse(
		"{\"seconds\":10,\"listeners\":["
		"{\"address\":\"0.0.0.0:80\",\"netns\":4026532301,\"backlog_limit\":8,"
		"\"accepted\":10,\"overflows\":{\"syn_time\":5}},"
		"{\"address\":\"0.0.0.0:80\",\"netns\":4026532301,\"backlog_limit\":16,"
		"\"pid\":7,\"accepted\":20,\"overflows\":{\"syn_time\":40},"
		"\"sockets\":[{\"inode\":9,\"pid\":7,\"backlog_limit\":16}]}]}");
	struct tune_listener ls[4];
	struct tune_evidence ev = { .netns = NS, .known = TK_SOMAXCONN, .somaxconn = 4096 };
	int relistens = 0;
	(void)state;

	assert_int_equal(tuneevidence__from_report(o, &ev, ls, 4), 0);
	assert_int_equal(ev.nlisteners, 1);
	assert_int_equal(ls[0].accepted, 30);
	assert_int_equal(ls[0].overflows, 45);
	assert_int_equal(ls[0].limit, 16);
	assert_int_equal(ls[0].nsocks_listed, 1);
	assert_int_equal(tunerules__evaluate(&ev, R, TUNE_MAX_RECS, &N), 0);
	for (size_t i = 0; i < N; i++)
		relistens += R[i].kind == TUNE_RELISTEN;
	assert_int_equal(relistens, 1);
	json_object_put(o);
}

static void test_evidence_absurd_report(void **state)
{
	struct json_object *o;
	struct tune_listener ls[2];
	struct tune_evidence ev = { 0 };
	(void)state;

	o = json_tokener_parse("{\"seconds\":-5,\"drops\":{\"listen_overflows\":-3,"
			       "\"syncookies_sent\":\"many\",\"by_reason\":[]},"
			       "\"listeners\":[7,{\"port\":99999,\"pid\":-1,\"backlog_limit\":1e30,"
			       "\"overflows\":{\"total\":1,\"syn_time\":5,\"ack_time\":5},"
			       "\"accept_wait\":{\"p99_us\":\"NaN\"}},{},{}]}");
	assert_non_null(o);
	assert_int_equal(tuneevidence__from_report(o, &ev, ls, 2), 0);
	assert_true(ev.seconds == 0);
	assert_int_equal(ev.listen_overflows, 0);
	assert_int_equal(ev.syncookies_sent, 0);
	assert_int_equal(ev.nlisteners, 2);	/* capped at MAX; the number 7 skipped */
	assert_int_equal(ls[0].port, 0);
	assert_int_equal(ls[0].pid, 0);
	assert_int_equal(ls[0].limit, UINT32_MAX);
	assert_int_equal(ls[0].overflows, 10);	/* never less than its parts */
	assert_true(ls[0].wait_p99_us == 0);
	json_object_put(o);
	o = json_object_new_array();
	assert_int_equal(tuneevidence__from_report(o, &ev, ls, 2), -EINVAL);
	assert_int_equal(tuneevidence__from_report(NULL, &ev, ls, 2), -EINVAL);
	json_object_put(o);
	o = json_object_new_object();	/* empty: nothing known, nothing proposed */
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(tuneevidence__from_report(o, &ev, ls, 2), 0);
	assert_int_equal(tunerules__evaluate(&ev, R, TUNE_MAX_RECS, &N), 0);
	assert_int_equal(N, 0);
	json_object_put(o);
}

static void test_sockstat(void **state)
{
	__u64 n = 0;
	(void)state;

	assert_int_equal(tunecollect__parse_sockstat("sockets: used 11\nTCP: inuse 5 orphan 0 "
						     "tw 30 alloc 36 mem 289\nUDP: inuse 0\n", &n), 0);
	assert_int_equal(n, 35);
	assert_int_equal(tunecollect__parse_sockstat("TCP: inuse 1 orphan 0 tw 2\n", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(tunecollect__parse_sockstat("UDP: inuse 0\n", &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evidence_from_report),
		cmocka_unit_test(test_evidence_namespace_overflows),
		cmocka_unit_test(test_evidence_duplicate_rows),
		cmocka_unit_test(test_evidence_absurd_report),
		cmocka_unit_test(test_sockstat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
