// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Accept-queue wait from tracepoints alone: a passive child socket goes
 * SYN_RECV -> ESTABLISHED right after it is put on its listener's accept
 * queue (softirq); accept()/accept4() returning its descriptor ends the wait
 * (process context, where the accepting process is known). The descriptors
 * are resolved to sockets by walking the task's file table with CO-RE reads.
 */
#include "nettune.bpf.h"
#include "accept.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ACCEPT_MAX_QUEUED);
	__type(key, __u64);	/* child struct sock * */
	__type(value, __u64);	/* ktime when it entered the accept queue */
} accept_queued SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, ACCEPT_MAX_KEYS);
	__type(key, struct accept_key);
	__type(value, struct accept_val);
} accept_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct accept_val);
} accept_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACCEPT_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} accept_lost SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int accept_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *child = ctx->skaddr;
	__u64 sk = (__u64)child, now;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->oldstate == TCP_SYN_RECV && ctx->newstate == TCP_ESTABLISHED) {
		if (!port_allowed(ctx->sport) || !sk_netns_allowed(child))
			return 0;
		now = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&accept_queued, &sk, &now, BPF_ANY))
			counter_inc(&accept_lost, ACCEPT_LOST_QUEUED_FULL);
	} else if (ctx->newstate == TCP_CLOSE) {
		/* Never accepted: the client gave up or the listener closed.
		 * Almost every closing socket has no entry (accepted children
		 * left at accept): a lookup takes no lock, a delete does. */
		if (bpf_map_lookup_elem(&accept_queued, &sk))
			bpf_map_delete_elem(&accept_queued, &sk);
	}
	return 0;
}

/* A listener's queue length and limit. They are neighbours in struct sock
 * (every kernel so far): one read then, two otherwise. Offsets and sizes
 * are CO-RE relocated constants, so the verifier keeps one path. */
static __always_inline void backlog_of(const struct sock *sk, __u32 *queue, __u32 *limit)
{
	__u32 o_queue = bpf_core_field_offset(sk->sk_ack_backlog);
	__u32 o_limit = bpf_core_field_offset(sk->sk_max_ack_backlog);
	__u32 v[2] = {};

	if (o_limit == o_queue + 4 && bpf_core_field_size(sk->sk_ack_backlog) == 4 &&
	    bpf_core_field_size(sk->sk_max_ack_backlog) == 4) {
		bpf_probe_read_kernel(v, sizeof(v), (const char *)sk + o_queue);
		*queue = v[0];
		*limit = v[1];
	} else {
		*queue = BPF_CORE_READ(sk, sk_ack_backlog);
		*limit = BPF_CORE_READ(sk, sk_max_ack_backlog);
	}
}

static __always_inline void record(const struct sock *listener, const struct sock *child,
				   __u64 queued_at, __u32 tgid)
{
	struct accept_key key = {};
	struct accept_val *val;
	__u32 zero = 0, depth, limit;
	__u64 wait_ns;
	void *tmpl;

	listener_key_of(listener, &key.listener);
	key.tgid = tgid;
	tmpl = bpf_map_lookup_elem(&accept_zero, &zero);
	val = tmpl ? lookup_or_init(&accept_stats, &key, tmpl) : NULL;
	if (!val) {
		counter_inc(&accept_lost, ACCEPT_LOST_KEYS_FULL);
		return;
	}
	if (!val->comm[0])
		bpf_get_current_comm(val->comm, sizeof(val->comm));
	/* The queue as this accept found it: what is left plus the one taken. */
	backlog_of(listener, &depth, &limit);
	depth++;
	if (depth > val->peak_depth)
		val->peak_depth = depth;
	val->limit = limit;
	wait_ns = bpf_ktime_get_ns() - queued_at;
	hist_record(&val->wait, wait_ns);
	emit_slow(child, EVENT_ACCEPT, wait_ns, key.tgid, NULL);
}

/* The listening descriptor is accept's first argument. It is read back
 * from the user registers saved at syscall entry, which accept() leaves
 * untouched: no enter program is needed, and a process that was already
 * blocked in accept() when nettune attached is measured too. */
static __always_inline int listen_fd_of_current(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	/* regs is a BTF pointer: a plain (CO-RE relocated) load, no helper. */
	return (int)PT_REGS_PARM1_SYSCALL(regs);
}

static __always_inline int on_exit(long ret)
{
	const struct sock *child, *listener;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 sk, *queued_at;

	if (ret < 0 || !pid_allowed(tgid))
		return 0;
	child = sock_of_fd((int)ret);
	sk = (__u64)child;
	queued_at = child ? bpf_map_lookup_elem(&accept_queued, &sk) : NULL;
	if (!queued_at)
		return 0;	/* queued before attach, or filtered out */
	listener = sock_of_fd(listen_fd_of_current());
	if (listener)
		record(listener, child, *queued_at, tgid);
	bpf_map_delete_elem(&accept_queued, &sk);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}
