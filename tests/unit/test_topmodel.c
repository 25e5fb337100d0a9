// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* nettune top's model (user/lib/stats/topmodel.c): intervals fold into totals
 * since start and rates, the filter and the sort choose the lines, and the
 * report's buckets land in the heatmap's bins. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "topmodel.h"
#include "hist.h"

static struct listener_key key_of(__u16 port)
{
	struct listener_key k = { .netns = 7, .port = port, .family = AF_INET };

	k.addr[0] = 10;
	k.addr[3] = 1;
	return k;
}

/* One interval's table: port, overflows, accepts each waiting wait_ns. */
static void interval_row(struct listener_table *t, __u16 port, __u64 ovfl, int accepts,
			 __u64 wait_ns)
{
	struct listener_key k = key_of(port);
	struct listener_row *r = listener_table__row(t, &k);
	struct hist h = {};

	for (int i = 0; i < accepts; i++)
		hist__record(&h, wait_ns);
	assert_int_equal(sparse_hist__add_hist(&r->wait, &h), 0);
	r->sk_drops = ovfl;	/* no drop events: all SYN-time overflows */
	r->overflow_syn = ovfl;
	r->queue = 3;
	r->limit = 16;
	r->pid = 42;
	snprintf(r->comm, sizeof(r->comm), "srv%u", port);
}

static const char report[] =
	"{\"drops\":{},\"accept\":{\"count\":5,\"p50_us\":450000,\"p90_us\":900000,\"p99_us\":950000,"
	"\"max_us\":950000,\"buckets\":[{\"lo_us\":2,\"hi_us\":3,\"count\":2},"
	"{\"lo_us\":440000,\"hi_us\":460000,\"count\":3}]}}";

static void test_fold_sort_filter(void **state)
{
	struct top_model m;
	struct listener_table *t = listener_table__new();
	struct json_object *rep = json_tokener_parse(report);
	const __u32 *col;
	(void)state;

	assert_int_equal(topmodel__init(&m), 0);
	interval_row(t, 80, 5, 10, 1000000);	/* 1 ms waits, overflowing */
	interval_row(t, 81, 0, 20, 450000000);	/* 450 ms waits */
	assert_int_equal(topmodel__update(&m, t, rep, 2.0), 0);
	assert_int_equal(listener_table__begin(t, true), 0);
	interval_row(t, 80, 7, 0, 0);		/* a second interval */
	assert_int_equal(topmodel__update(&m, t, rep, 1.0), 0);
	assert_int_equal(m.nlines, 2);
	/* overflows first: port 80, with both intervals' overflows */
	assert_int_equal(m.lines[0].key.port, 80);
	assert_int_equal(m.lines[0].overflows, 12);
	assert_true(m.lines[0].overflows_per_s == 7.0);
	assert_int_equal(m.lines[0].accepted, 10);
	assert_string_equal(m.lines[0].owner, "42/srv80");
	assert_string_equal(m.lines[0].address, "10.0.0.1:80");
	/* port 81 saw nothing this interval: kept, its rate 0, its wait since start */
	assert_true(m.lines[1].accepts_per_s == 0);
	assert_true(m.lines[1].wait_p50_ns > 420000000 && m.lines[1].wait_p50_ns < 480000000);
	m.sort = TOP_SORT_WAIT;
	topmodel__view(&m);
	assert_int_equal(m.lines[0].key.port, 81);
	snprintf(m.filter, sizeof(m.filter), ":80");
	topmodel__view(&m);
	assert_int_equal(m.nlines, 1);
	assert_int_equal(m.lines[0].key.port, 80);
	snprintf(m.filter, sizeof(m.filter), "srv81");	/* owners match too */
	topmodel__view(&m);
	assert_int_equal(m.lines[0].key.port, 81);
	/* the heatmap: the newest column has the report's buckets */
	col = topmodel__heat_column(&m, TOP_ACCEPT_WAIT, 0);
	assert_non_null(col);
	assert_int_equal(col[topmodel__heat_bin(2.5)], 2);
	assert_int_equal(col[topmodel__heat_bin(450000)], 3);
	assert_non_null(topmodel__heat_column(&m, TOP_ACCEPT_WAIT, 1));
	assert_null(topmodel__heat_column(&m, TOP_ACCEPT_WAIT, 2));
	assert_true(m.latency[TOP_ACCEPT_WAIT].measured);
	assert_false(m.latency[TOP_CONNECT].measured);
	assert_true(m.latency[TOP_ACCEPT_WAIT].p50_us == 450000);
	json_object_put(rep);
	listener_table__free(t);
	topmodel__free(&m);
}

/* An ACK-time overflow whose sk_drops growth is read in one interval and
 * whose event in the next counts once, not as 2 SYN-time + 1 ACK-time;
 * and a listener missing from an interval has an empty queue. */
static void test_overflow_across_intervals(void **state)
{
	struct top_model m;
	struct listener_table *t = listener_table__new();
	struct json_object *rep = json_tokener_parse("{\"drops\":{}}");
	struct listener_key k = key_of(90);
	struct listener_row *r;
	(void)state;

	assert_int_equal(topmodel__init(&m), 0);
	r = listener_table__row(t, &k);
	r->sk_drops = 2;		/* tcp_listendrop + the discard */
	r->overflow_syn = 2;		/* what that interval's join made of it */
	r->queue = 5;
	assert_int_equal(topmodel__update(&m, t, rep, 1.0), 0);
	assert_int_equal(m.lines[0].overflows, 2);
	assert_int_equal(m.lines[0].queue, 5);
	assert_int_equal(listener_table__begin(t, true), 0);
	r = listener_table__row(t, &k);
	r->overflow_ack = 1;		/* the event, read one interval late */
	assert_int_equal(topmodel__update(&m, t, rep, 1.0), 0);
	assert_int_equal(m.lines[0].overflows, 1);
	assert_int_equal(listener_table__begin(t, true), 0);
	assert_int_equal(topmodel__update(&m, t, rep, 1.0), 0);
	assert_int_equal(m.lines[0].queue, 0);
	json_object_put(rep);
	listener_table__free(t);
	topmodel__free(&m);
}

/* A kernel without ACK-time overflow events (6.1): each of those grows
 * sk_drops by two and nothing explains it, so the interval join caps the
 * SYN-time count by the namespace's ListenOverflows; since start must be
 * capped the same way, by the namespaces' counts summed over the intervals,
 * not read as twice the overflows. A namespace no report named is left
 * alone (no counter, no cap). */
static void test_overflows_capped_since_start(void **state)
{
	struct top_model m;
	struct listener_table *t = listener_table__new();
	struct json_object *rep = json_tokener_parse(
		"{\"drops\":{\"namespaces\":[{\"netns\":7,\"ListenOverflows\":3}]}}");
	struct listener_key k = key_of(95), other = key_of(96);
	struct listener_row *r;
	(void)state;

	other.netns = 8;
	assert_int_equal(topmodel__init(&m), 0);
	for (int i = 0; i < 2; i++) {	/* two intervals of 3 overflows each */
		assert_int_equal(listener_table__begin(t, true), 0);
		r = listener_table__row(t, &k);
		r->sk_drops = 6;	/* 3 ACK-time overflows, 2 each, no event */
		r->overflow_syn = 3;	/* as the interval's join capped it */
		r = listener_table__row(t, &other);
		r->sk_drops = 4;	/* namespace 8: no counters in the reports */
		r->overflow_syn = 4;
		assert_int_equal(topmodel__update(&m, t, rep, 1.0), 0);
	}
	assert_int_equal(m.nlines, 2);
	for (size_t i = 0; i < m.nlines; i++) {
		if (m.lines[i].key.port == 95)
			assert_int_equal(m.lines[i].overflows, 6);	/* not 12 */
		else
			assert_int_equal(m.lines[i].overflows, 8);
	}
	json_object_put(rep);
	listener_table__free(t);
	topmodel__free(&m);
}

static void test_heat_bins(void **state)
{
	(void)state;
	assert_int_equal(topmodel__heat_bin(0.5), 0);
	assert_int_equal(topmodel__heat_bin(1), 0);
	assert_int_equal(topmodel__heat_bin(3.2), 1);
	assert_int_equal(topmodel__heat_bin(10), 2);
	assert_int_equal(topmodel__heat_bin(1e6), 12);
	assert_int_equal(topmodel__heat_bin(1e12), TOP_HEAT_BINS - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_sort_filter),
		cmocka_unit_test(test_overflow_across_intervals),
		cmocka_unit_test(test_overflows_capped_since_start),
		cmocka_unit_test(test_heat_bins),
	};
	return cmocka_run_group_tests_name("topmodel", tests, NULL, NULL);
}
