// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "events.h"
#include "slowlog.h"
#include "bpfmap.h"
#include "report.h"

#define SLOWLOG_MAX_PROBES 8

struct slowlog {
	struct ring_buffer *rb;
	bool json;
	int lost_fds[SLOWLOG_MAX_PROBES];
	int nlost;
};

static const char *const family_names[] = { [EVENT_CONNECT] = "connect", [EVENT_ACCEPT] = "accept" };

static void endpoint(char *buf, size_t len, __u16 family, const __u8 *addr, __u16 port)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct slow_event *e = data;
	struct slowlog *s = ctx;
	char local[64], remote[64], lat[24];
	const char *fam;

	if (size < sizeof(*e))
		return 0;
	fam = e->kind <= EVENT_ACCEPT ? family_names[e->kind] : "?";
	endpoint(local, sizeof(local), e->family, e->saddr, e->sport);
	endpoint(remote, sizeof(remote), e->family, e->daddr, e->dport);
	if (s->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "type", json_object_new_string("slow"));
		json_object_object_add(o, "family", json_object_new_string(fam));
		json_object_object_add(o, "latency_us", report__us(e->latency_ns));
		json_object_object_add(o, "pid", json_object_new_uint64(e->pid));
		json_object_object_add(o, "comm", json_object_new_string_len(e->comm,
					(int)strnlen(e->comm, sizeof(e->comm))));
		json_object_object_add(o, "local", json_object_new_string(local));
		json_object_object_add(o, "remote", json_object_new_string(remote));
		json_object_object_add(o, "netns", json_object_new_uint64(e->netns));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		printf("slow %-7s %9s  pid %-7u %-16.16s %s %s %s  netns %u\n", fam,
		       hist__fmt_ns(lat, sizeof(lat), e->latency_ns), e->pid, e->comm, local,
		       e->kind == EVENT_ACCEPT ? "<-" : "->", remote, e->netns);
	}
	fflush(stdout);
	return 0;
}

struct slowlog *slowlog__new(bool json)
{
	struct slowlog *s = calloc(1, sizeof(*s));

	if (s)
		s->json = json;
	return s;
}

void slowlog__free(struct slowlog *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	free(s);
}

int slowlog__add(struct slowlog *s, int ringbuf_fd, int lost_fd)
{
	if (s->nlost == SLOWLOG_MAX_PROBES)
		return -E2BIG;
	if (!s->rb) {
		s->rb = ring_buffer__new(ringbuf_fd, on_event, s, NULL);
		if (!s->rb)
			return -errno;
	} else if (ring_buffer__add(s->rb, ringbuf_fd, on_event, s)) {
		return -errno;
	}
	s->lost_fds[s->nlost++] = lost_fd;
	return 0;
}

int slowlog__poll(struct slowlog *s, int timeout_ms)
{
	int n = ring_buffer__poll(s->rb, timeout_ms);

	return n < 0 ? n : 0;
}

/* out[cpu] = lost events on that CPU over every probe; returns the count of CPUs. */
static int lost_per_cpu(struct slowlog *s, __u64 *out, int max)
{
	int ncpus = bpfmap__ncpus();
	__u64 vals[ncpus > 0 ? ncpus : 1];
	__u32 zero = 0;

	if (ncpus > max)
		ncpus = max;
	for (int c = 0; c < ncpus; c++)
		out[c] = 0;
	for (int i = 0; i < s->nlost; i++)
		if (!bpf_map_lookup_elem(s->lost_fds[i], &zero, vals))
			for (int c = 0; c < ncpus; c++)
				out[c] += vals[c];
	return ncpus;
}

__u64 slowlog__lost(struct slowlog *s)
{
	__u64 per[1024], n = 0;
	int ncpus = s ? lost_per_cpu(s, per, 1024) : 0;

	for (int c = 0; c < ncpus; c++)
		n += per[c];
	return n;
}

void slowlog__print_lost(struct slowlog *s, FILE *out)
{
	__u64 per[1024];
	int ncpus = lost_per_cpu(s, per, 1024);

	fprintf(out, "slow events lost (ring buffer full), per CPU:");
	for (int c = 0; c < ncpus; c++)
		fprintf(out, " %llu", (unsigned long long)per[c]);
	fputc('\n', out);
}

struct json_object *slowlog__lost_json(struct slowlog *s)
{
	struct json_object *arr = json_object_new_array();
	__u64 per[1024];
	int ncpus = lost_per_cpu(s, per, 1024);

	for (int c = 0; c < ncpus; c++)
		json_object_array_add(arr, json_object_new_uint64(per[c]));
	return arr;
}
