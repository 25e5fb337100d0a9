// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Function latency from uprobes, for any ELF function (--uprobe) and for Go
 * net/http handlers (the http family). User space attaches these programs
 * once per site, with the function id in the attach cookie:
 *
 *   Go: uprobe_go_entry at the entry, uprobe_go_ret at EVERY RET instruction.
 *       Never a uretprobe: it rewrites the return address on the goroutine
 *       stack, and when the runtime moves that stack it finds an address it
 *       does not know and kills the program.
 *   C:  uprobe_c_entry at the entry, uprobe_c_ret as its uretprobe.
 *
 * Go calls are keyed by goroutine (goroutines migrate between threads), C
 * calls by thread.
 */
#include "nettune.bpf.h"
#include "row_table.bpf.h"
#include "uprobe.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, UPROBE_MAX_INFLIGHT);
	__type(key, struct uprobe_call_key);
	__type(value, struct uprobe_call);
} uprobe_calls SEC(".maps");

ROW_TABLE(uprobe_stats, struct uprobe_row, UPROBE_MAX_KEYS);

/* The status code each in-flight *http.response wrote first. LRU: an entry
 * whose handler never returns (a hijacked connection's goroutine that
 * lives on) must not hold its slot forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, UPROBE_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, __u32);
} http_status SEC(".maps");

/* Calibration durations (UPROBE_COOKIE_CALIB), one histogram per slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UPROBE_CAL_SLOTS);
	__type(key, __u32);
	__type(value, struct hist);
} uprobe_cal SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UPROBE_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} uprobe_lost SEC(".maps");

/* The goroutine of Go code compiled for the register ABI (Go >= 1.17): the
 * ABI reserves a register for it. User space only attaches Go probes to
 * amd64 binaries (gofunc refuses others), so other targets never get here. */
#if defined(__TARGET_ARCH_x86)
#define GO_G(ctx)	((__u64)(ctx)->r14)
#define GO_ARG1(ctx)	((__u64)(ctx)->ax)
#define GO_ARG2(ctx)	((__u64)(ctx)->bx)
#define GO_ARG3(ctx)	((__u64)(ctx)->cx)
#define GO_ARG4(ctx)	((__u64)(ctx)->di)
#else
#define GO_G(ctx)	0ULL
#define GO_ARG1(ctx)	0ULL
#define GO_ARG2(ctx)	0ULL
#define GO_ARG3(ctx)	0ULL
#define GO_ARG4(ctx)	0ULL
#endif

#define W3(a, b, c)	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16)
#define W4(a, b, c, d)	(W3(a, b, c) | (__u64)(d) << 24)
#define W5(a, b, c, d, e)	(W4(a, b, c, d) | (__u64)(e) << 32)
#define W6(a, b, c, d, e, f)	(W5(a, b, c, d, e) | (__u64)(f) << 40)
#define W7(a, b, c, d, e, f, g)	(W6(a, b, c, d, e, f) | (__u64)(g) << 48)

static __always_inline __u32 method_of(__u64 w)
{
	switch (w) {
	case W3('G', 'E', 'T'): return HTTP_METHOD_GET;
	case W4('H', 'E', 'A', 'D'): return HTTP_METHOD_HEAD;
	case W4('P', 'O', 'S', 'T'): return HTTP_METHOD_POST;
	case W3('P', 'U', 'T'): return HTTP_METHOD_PUT;
	case W5('P', 'A', 'T', 'C', 'H'): return HTTP_METHOD_PATCH;
	case W6('D', 'E', 'L', 'E', 'T', 'E'): return HTTP_METHOD_DELETE;
	case W7('C', 'O', 'N', 'N', 'E', 'C', 'T'): return HTTP_METHOD_CONNECT;
	case W7('O', 'P', 'T', 'I', 'O', 'N', 'S'): return HTTP_METHOD_OPTIONS;
	case W5('T', 'R', 'A', 'C', 'E'): return HTTP_METHOD_TRACE;
	default: return HTTP_METHOD_OTHER;
	}
}

/* req.Method of serverHandler.ServeHTTP (see UPROBE_COOKIE_HTTP_METHOD).
 * Every read is checked: a wrong guess costs a method label, never more. */
static __always_inline __u32 http_method(struct pt_regs *ctx)
{
	struct { __u64 ptr; __s64 len; } str = {};
	__u64 req = GO_ARG4(ctx), word = 0;
	__u32 len;

	if (!req || bpf_probe_read_user(&str, sizeof(str), (const void *)req))
		return HTTP_METHOD_OTHER;
	if (str.len < 3 || str.len > 7)
		return HTTP_METHOD_OTHER;
	len = (__u32)str.len & 7;	/* a bound the verifier can see */
	if (bpf_probe_read_user(&word, len, (const void *)str.ptr))
		return HTTP_METHOD_OTHER;
	return method_of(word);
}

static __always_inline void on_entry(struct pt_regs *ctx, __u64 id)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	struct uprobe_call_key k = {
		.id = id,
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.func = (__u32)(cookie & UPROBE_COOKIE_FUNC_MASK),
	};
	struct uprobe_call c = {};
	__u64 cg;

	/* Calibration calls are nettune's own: no filter applies to them. */
	if (!id || (!(cookie & UPROBE_COOKIE_CALIB) && (!pid_allowed(k.tgid) || !task_cgroup(&cg))))
		return;
	if (cookie & UPROBE_COOKIE_HTTP_METHOD)
		c.tag = http_method(ctx);
	if (cookie & UPROBE_COOKIE_HTTP_STATUS) {
		/* A response's memory can be reused by a later one: forget
		 * what an earlier owner of this address wrote. */
		c.obj = GO_ARG3(ctx);
		bpf_map_delete_elem(&http_status, &c.obj);
	}
	/* BPF_ANY: a Go entry fires again when the prologue finds the stack too
	 * small, calls morestack and restarts the function. That is one call:
	 * the later time wins, and only a return counts a call. */
	c.ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&uprobe_calls, &k, &c, BPF_ANY))
		counter_inc(&uprobe_lost, UPROBE_LOST_INFLIGHT_FULL);
}

static __always_inline void on_return(struct pt_regs *ctx, __u64 id)
{
	__u64 now = bpf_ktime_get_ns(), cookie = bpf_get_attach_cookie(ctx);
	struct uprobe_call_key k = {
		.id = id,
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.func = (__u32)(cookie & UPROBE_COOKIE_FUNC_MASK),
	};
	struct uprobe_key sk __attribute__((aligned(8))) = { .func = k.func, .tgid = k.tgid };
	struct uprobe_call *c;
	struct uprobe_row *row;
	struct uprobe_val *val;
	__u64 start;

	c = bpf_map_lookup_elem(&uprobe_calls, &k);
	if (!c)
		return;	/* entered before attach; or an outer frame of a recursion,
			 * whose innermost call already took the entry */
	start = c->ts;
	sk.tag = c->tag;
	if (c->obj) {
		__u64 obj = c->obj;
		__u32 *code = bpf_map_lookup_elem(&http_status, &obj);

		/* No code: the handler wrote nothing (Go sends a 200 after it
		 * returns), or the writer is not an *http.response (HTTP/2's
		 * is another type): not known, rather than a guessed 200. */
		sk.tag = HTTP_TAG(c->tag, code ? *code : 0);
		bpf_map_delete_elem(&http_status, &obj);
	}
	bpf_map_delete_elem(&uprobe_calls, &k);
	/* After the clock was read: what follows is not in any duration. */
	if (cookie & UPROBE_COOKIE_CALIB) {
		__u32 slot = k.func - UPROBE_CAL_FUNC_BASE;
		struct hist *h = bpf_map_lookup_elem(&uprobe_cal, &slot);

		if (h)
			hist_record(h, now - start);
		return;
	}
	sk.cgroup = bpf_get_current_cgroup_id();
	row = row_find(&uprobe_stats, &uprobe_stats_used, (const __u64 *)&sk, sizeof(sk) / 8);
	if (!row) {
		counter_inc(&uprobe_lost, UPROBE_LOST_KEYS_FULL);
		return;
	}
	val = &row->val;
	if (!val->comm[0])
		bpf_get_current_comm(val->comm, sizeof(val->comm));
	hist_record(&val->lat, now - start);
}

SEC("uprobe")
int BPF_KPROBE(uprobe_go_entry)
{
	RETURN_IF_EMPTY();
	on_entry(ctx, GO_G(ctx));
	return 0;
}

/* An ordinary uprobe on a RET instruction: r14 still holds the goroutine,
 * which the ABI never lets a Go function change. */
SEC("uprobe")
int BPF_KPROBE(uprobe_go_ret)
{
	RETURN_IF_EMPTY();
	on_return(ctx, GO_G(ctx));
	return 0;
}

/* net/http.(*response).WriteHeader(w, code): the first code a response
 * writes is its status (Go logs and ignores later calls). */
SEC("uprobe")
int BPF_KPROBE(uprobe_go_status)
{
	__u64 w = GO_ARG1(ctx), code = GO_ARG2(ctx);
	__u32 status = (__u32)code;

	RETURN_IF_EMPTY();
	if (!w || code < 100 || code > 999 || !pid_allowed(bpf_get_current_pid_tgid() >> 32))
		return 0;
	bpf_map_update_elem(&http_status, &w, &status, BPF_NOEXIST);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_c_entry)
{
	RETURN_IF_EMPTY();
	on_entry(ctx, (__u32)bpf_get_current_pid_tgid());
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uprobe_c_ret)
{
	RETURN_IF_EMPTY();
	on_return(ctx, (__u32)bpf_get_current_pid_tgid());
	return 0;
}
