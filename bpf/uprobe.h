/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Function latency through uprobes: types shared between bpf/uprobe.bpf.c
 * and user/family/funcprobe.c (used by the "uprobe" and "http" families). */
#ifndef NETTUNE_UPROBE_H
#define NETTUNE_UPROBE_H

#include "hist_layout.h"

#define UPROBE_MAX_INFLIGHT	65536	/* calls between entry and return */
#define UPROBE_MAX_KEYS		1024	/* distinct (function, process, tag) rows */

/*
 * The attach cookie of every uprobe: the function id in the low 32 bits
 * (the caller's own numbering, echoed in uprobe_key.func) and flags above.
 */
#define UPROBE_COOKIE_FUNC_MASK		0xffffffffULL
/* Go net/http.serverHandler.ServeHTTP(sh, rw, req): classify req.Method at
 * entry. With the register ABI req is the 4th integer register (rax = sh,
 * rbx/rcx = the rw interface, rdi = req), and Method is the first field of
 * http.Request, a Go string (data pointer, length) at offset 0. */
#define UPROBE_COOKIE_HTTP_METHOD	(1ULL << 32)
/* On ServeHTTP: remember the rw interface's data pointer (rcx: the
 * *http.response) so the return finds the status code recorded for it. On
 * net/http.(*response).WriteHeader(w, code) (rax = w, rbx = code): record
 * the first code written. Set on both only when both could be attached. */
#define UPROBE_COOKIE_HTTP_STATUS	(1ULL << 33)

/* nettune's own calibration calls (user/family/funcprobe.c): counted
 * whatever -p says, in slot func - UPROBE_CAL_FUNC_BASE of the uprobe_cal
 * map (per-CPU histograms; a full row table costs too much to read each
 * round), never in uprobe_stats. */
#define UPROBE_COOKIE_CALIB		(1ULL << 34)
#define UPROBE_CAL_FUNC_BASE		0xffffff00u
#define UPROBE_CAL_SLOTS		32
#define UPROBE_CAL_FUNC(is_go, site_class)	(UPROBE_CAL_FUNC_BASE + (is_go) * 16u + (site_class))

/* uprobe_key.tag for http: the method in the low byte, the status code
 * above (0: not known: no WriteHeader probe, a handler that wrote nothing,
 * or a writer that is not an *http.response, such as HTTP/2's). */
#define HTTP_TAG(method, status)	((__u32)(method) | (__u32)(status) << 8)
#define HTTP_TAG_METHOD(tag)		((tag) & 0xff)
#define HTTP_TAG_STATUS(tag)		((tag) >> 8)

/* uprobe_key.tag for http: the request method. 0 is "not classified". */
enum http_method {
	HTTP_METHOD_NONE,
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_PATCH,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_CONNECT,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_TRACE,
	HTTP_METHOD_OTHER,	/* unknown, or its bytes could not be read */
	HTTP_METHOD_NR,
};

enum uprobe_lost {
	UPROBE_LOST_INFLIGHT_FULL,	/* no room to remember an entry */
	UPROBE_LOST_KEYS_FULL,		/* no room for a new (function, pid) row */
	UPROBE_LOST_NR,
};

/* One call in flight. id is the goroutine (the g pointer, r14 on amd64)
 * for Go functions, the thread id for C functions: goroutines migrate
 * between threads, threads run one C call chain at a time. */
struct uprobe_call_key {
	__u64 id;
	__u32 tgid;
	__u32 func;
};
_Static_assert(sizeof(struct uprobe_call_key) == 16, "uprobe_call_key layout");

struct uprobe_call {
	__u64 ts;	/* bpf_ktime_get_ns() at the (last) entry */
	__u64 obj;	/* http: the *http.response, 0 if its status is not followed */
	__u32 tag;	/* enum http_method, or 0 */
	__u32 pad;
};
_Static_assert(sizeof(struct uprobe_call) == 24, "uprobe_call layout");

struct uprobe_key {
	__u64 cgroup;	/* cgroup v2 id of the task returning (no socket here) */
	__u32 func;	/* low 32 bits of the cookie */
	__u32 tgid;
	__u32 tag;	/* HTTP_TAG(method, status), or 0 */
	__u32 pad;
};
_Static_assert(sizeof(struct uprobe_key) == 24, "uprobe_key layout");

struct uprobe_val {
	char comm[16];	/* comm of the first task seen returning */
	struct hist lat;	/* entry -> return, ns */
};
_Static_assert(sizeof(struct uprobe_val) % 8 == 0, "uprobe_val layout");

/* A row of uprobe_stats (bpf/row_table.bpf.h). */
struct uprobe_row {
	__u64 tag;
	struct uprobe_key key;
	struct uprobe_val val;
};

#endif
