/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Subcommands of the nettune program: each returns the process exit code. */
#ifndef NETTUNE_COMMANDS_H
#define NETTUNE_COMMANDS_H

int cmd_trace(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_serve(int argc, char **argv);

struct trace_opts;
struct json_object;
/* Traces with these options for o->duration_ms (10 s when 0, less on
 * SIGINT/SIGTERM) and returns the final report as JSON, the documented
 * schema of docs/json.md; the caller puts it. Returns an exit code: 0, or 2
 * for bad targets, 1 for failures; nothing stays attached either way. */
int trace__observe(const struct trace_opts *o, struct json_object **out);

#endif
