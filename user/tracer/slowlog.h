/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The slow-event log (--min-us): reads the probes' ring buffers and prints
 * each slow connection as a line of text or a JSON object. */
#ifndef NETTUNE_SLOWLOG_H
#define NETTUNE_SLOWLOG_H

#include <stdbool.h>
#include <json-c/json.h>

struct slowlog;

struct slowlog *slowlog__new(bool json);
void slowlog__free(struct slowlog *s);	/* accepts NULL */
/* Adds one probe's ring buffer and per-CPU lost counter. */
int slowlog__add(struct slowlog *s, int ringbuf_fd, int lost_fd);
/* Prints events for up to timeout_ms; returns early on a signal (-EINTR). */
int slowlog__poll(struct slowlog *s, int timeout_ms);
/* Events lost for want of ring-buffer room, per CPU, summed over probes. */
void slowlog__print_lost(struct slowlog *s, FILE *out);
struct json_object *slowlog__lost_json(struct slowlog *s);
__u64 slowlog__lost(struct slowlog *s);

#endif
