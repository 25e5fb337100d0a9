// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Accept-queue wait from tracepoints alone: a passive child socket goes
 * SYN_RECV -> ESTABLISHED right after it is put on its listener's accept
 * queue (softirq), where bpf/sock_state.bpf.c, the one nettune program at
 * that hook, starts its clock (accept's half: bpf/accept_state.bpf.h);
 * accept()/accept4() returning its descriptor ends the wait (process
 * context, where the accepting process is known): the programs here. The descriptors
 * are resolved to sockets by walking the task's file table: with plain
 * loads where the kernel has bpf_rdonly_cast, with probe reads elsewhere.
 */
#include "accept_state.bpf.h"
#include "row_table.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

ROW_TABLE(accept_stats, struct accept_row, ACCEPT_MAX_KEYS);

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

static __always_inline void record(const struct accept_key *k, __u32 depth,
				   __u32 limit, const struct sock *child, __u64 wait_ns,
				   __u64 now)
{
	struct accept_key key __attribute__((aligned(8))) = *k;
	struct accept_row *row;
	struct accept_val *val;

	row = row_find(&accept_stats, &accept_stats_used, (const __u64 *)&key, sizeof(key) / 8);
	if (!row) {
		counter_inc(&accept_lost, ACCEPT_LOST_KEYS_FULL);
		return;
	}
	val = &row->val;
	if (!val->comm[0])
		bpf_get_current_comm(val->comm, sizeof(val->comm));
	/* The queue as this accept found it: what is left plus the one taken. */
	depth++;
	if (depth > val->peak_depth)
		val->peak_depth = depth;
	val->limit = limit;
	val->limit_ns = now;
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

/*
 * accept() returned the descriptor ret. Two builds of it: with probe reads
 * (every kernel), and with plain loads through bpf_rdonly_cast (6.2+),
 * which user space tries first. cast is a constant, so each program keeps
 * one of the two paths.
 */
static __always_inline int on_exit(long ret, const bool cast)
{
	const struct sock *child, *listener;
	const struct fdtable *fdt;
	__u32 tgid, depth, limit;
	struct accept_key key;
	__u64 cookie, since, now;

	RETURN_IF_EMPTY();
	if (ret < 0)
		return 0;
	/* One file table for both descriptors. */
	fdt = cast ? fdtable_of_current() : NULL;
	child = cast ? sock_of_fd_cast(fdt, (int)ret) : sock_of_fd((int)ret);
	if (!child)
		return 0;
	/* The cookie accept_state asked for; 0 if it never saw this child. */
	cookie = cast ? child->__sk_common.skc_cookie.counter :
			BPF_CORE_READ(child, __sk_common.skc_cookie.counter);
	since = cookie ? stamp_stop(&accept_since, cookie) : 0;
	/* The clock stops whoever accepts (accept_state cannot tell the
	 * process): left running for a process outside -p, clocks would fill
	 * the table and push out others, counted as lost. */
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!since || !pid_allowed(tgid))
		return 0;	/* queued before attach, filtered out, or displaced */
	now = bpf_ktime_get_ns();
	if (cast) {
		listener = sock_of_fd_cast(fdt, listen_fd_of_current());
		if (!listener)
			return 0;
		if (!accept_key_of(listener, tgid, true, &key))
			return 0;
		depth = listener->sk_ack_backlog;
		limit = listener->sk_max_ack_backlog;
	} else {
		listener = sock_of_fd(listen_fd_of_current());
		if (!listener)
			return 0;
		if (!accept_key_of(listener, tgid, false, &key))
			return 0;
		backlog_of(listener, &depth, &limit);
	}
	record(&key, depth, limit, child, stamp_elapsed(since, now), now);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit_cast(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret, true);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit_cast(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret, true);
}
