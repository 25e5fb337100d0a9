// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The listener table as text and as JSON (docs/json.md "listeners"). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "listeners.h"
#include "report.h"
#include "cgroup.h"
#include "cgroupname.h"
#include "text.h"

void listener__format(const struct listener_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (k->family == AF_INET6) {
		inet_ntop(AF_INET6, k->addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, k->port);
	} else {
		inet_ntop(AF_INET, k->addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, k->port);
	}
}

/* A group's sockets, its cgroup below the root, or processes other than
 * the owner that accepted: one more line under the row for each, only when
 * there is something to add. */
static void print_details(const struct listener_row *r, FILE *out)
{
	const char *cg = cgroup__path(r->cgroup);
	bool others = false;
	char name[128], shown[128], path[1024];

	/* Names and paths are anyone's with a delegated cgroup: no escapes. */
	if (cg && strcmp(cg, "/"))
		fprintf(out, "    cgroup: %s (%s)\n",
			text__printable(cgroup__name(cg, name, sizeof(name)), shown, sizeof(shown)),
			text__printable(cg, path, sizeof(path)));
	for (size_t i = 0; i < r->nacceptors; i++)
		others |= r->acceptors[i].pid != r->pid;
	if (r->nsockets > 1)
		fprintf(out, "    SO_REUSEPORT group of %zu sockets\n", r->nsockets);
	if (!others)
		return;
	fprintf(out, "    accepted by:");
	for (size_t i = 0; i < r->nacceptors; i++)
		fprintf(out, "%s %d/%s %llu", i ? "," : "", r->acceptors[i].pid,
			r->acceptors[i].comm[0] ? r->acceptors[i].comm : "?",
			(unsigned long long)r->acceptors[i].accepted);
	fputc('\n', out);
}

void listener_table__print(struct listener_table *t, FILE *out)
{
	char addr[64], p50[24], p99[24];

	if (!listener_table__len(t))
		return;
	listener_table__sort(t);
	fprintf(out, "listeners:\n  %-21s %-10s %-14s %6s %5s %5s %8s %8s %8s %6s %9s %9s\n",
		"address", "netns", "owner", "limit", "queue", "peak", "accepted",
		"ovfl-syn", "ovfl-ack", "synack", "wait p50", "wait p99");
	for (size_t i = 0; i < listener_table__len(t); i++) {
		struct listener_row *r = listener_table__at(t, i);
		char owner[32];

		listener__format(&r->key, addr, sizeof(addr));
		snprintf(owner, sizeof(owner), "%d/%s", r->pid, r->comm[0] ? r->comm : "?");
		hist__fmt_ns(p50, sizeof(p50), sparse_hist__quantile(&r->wait, 0.5));
		hist__fmt_ns(p99, sizeof(p99), sparse_hist__quantile(&r->wait, 0.99));
		fprintf(out, "  %-21.21s %-10u %-14.14s %6u %5u %5u %8llu %8llu %8llu %6llu ", addr,
			r->key.netns, r->pid ? owner : "-", r->limit, r->queue, r->peak_depth,
			(unsigned long long)r->wait.count, (unsigned long long)r->overflow_syn,
			(unsigned long long)r->overflow_ack, (unsigned long long)r->synack_retrans);
		report__pad(out, r->wait.count ? p50 : "-", 9, 1);
		fputc(' ', out);
		report__pad(out, r->wait.count ? p99 : "-", 9, 1);
		fputc('\n', out);
		print_details(r, out);
	}
}

static void add_u64(struct json_object *o, const char *k, __u64 v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static struct json_object *sockets_json(const struct listener_row *r)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < r->nsockets; i++) {
		const struct listener_socket *s = &r->sockets[i];
		struct json_object *o = json_object_new_object();

		add_u64(o, "inode", s->inode);
		add_u64(o, "pid", (__u64)(s->pid > 0 ? s->pid : 0));
		json_object_object_add(o, "comm", json_object_new_string(s->comm));
		add_u64(o, "backlog_limit", s->limit);
		add_u64(o, "queue", s->queue);
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *acceptors_json(const struct listener_row *r)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < r->nacceptors; i++) {
		const struct listener_acceptor *a = &r->acceptors[i];
		struct json_object *o = json_object_new_object();

		add_u64(o, "pid", (__u64)(a->pid > 0 ? a->pid : 0));
		json_object_object_add(o, "comm", json_object_new_string(a->comm));
		add_u64(o, "accepted", a->accepted);
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *row_json(const struct listener_row *r)
{
	struct json_object *o = json_object_new_object(), *ov;
	struct hist_summary wait;
	char addr[64];

	listener__format(&r->key, addr, sizeof(addr));
	json_object_object_add(o, "address", json_object_new_string(addr));
	add_u64(o, "port", r->key.port);
	add_u64(o, "netns", r->key.netns);
	add_u64(o, "pid", (__u64)(r->pid > 0 ? r->pid : 0));
	json_object_object_add(o, "comm", json_object_new_string(r->comm));
	report__cgroup_json(o, r->cgroup);
	add_u64(o, "backlog_limit", r->limit);
	add_u64(o, "queue", r->queue);
	add_u64(o, "peak_queue", r->peak_depth);
	add_u64(o, "accepted", r->wait.count);
	ov = json_object_new_object();
	add_u64(ov, "total", r->overflow_syn + r->overflow_ack);
	add_u64(ov, "syn_time", r->overflow_syn);
	add_u64(ov, "ack_time", r->overflow_ack);
	add_u64(ov, "ack_time_syncookie", r->overflow_cookie);
	json_object_object_add(ov, "observed_by", json_object_new_string(
		"syn_time: growth of the listener's sk_drops (sock_diag) not explained by "
		"events; ack_time: skb:kfree_skb with rx_sk = the listener, reason "
		"TCP_LISTEN_OVERFLOW, or NO_SOCKET for a SYN-cookie ACK"));
	json_object_object_add(o, "overflows", ov);
	add_u64(o, "sk_drops", r->sk_drops);
	add_u64(o, "synack_retransmits", r->synack_retrans);
	add_u64(o, "other_drops", r->drops_other);
	sparse_hist__summarize(&r->wait, &wait);
	json_object_object_add(o, "accept_wait", report__summary_json(&wait));
	json_object_object_add(o, "sockets", sockets_json(r));
	json_object_object_add(o, "accepting", acceptors_json(r));
	return o;
}

struct json_object *listener_table__json(struct listener_table *t)
{
	struct json_object *arr = json_object_new_array();

	listener_table__sort(t);
	for (size_t i = 0; i < listener_table__len(t); i++)
		json_object_array_add(arr, row_json(listener_table__at(t, i)));
	return arr;
}

/* The rows' json-c objects took ~5 KB each, and the text of 10,000 rows
 * 4 MiB: each row is made, written and freed before the next. */
void listener_table__write_json(struct listener_table *t, FILE *out)
{
	listener_table__sort(t);
	fputc('[', out);
	for (size_t i = 0; i < listener_table__len(t); i++) {
		struct json_object *o = row_json(listener_table__at(t, i));

		if (i)
			fputc(',', out);
		fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), out);
		json_object_put(o);
	}
	fputc(']', out);
}
