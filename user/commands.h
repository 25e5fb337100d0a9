/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Subcommands of the nettune program: each returns the process exit code. */
#ifndef NETTUNE_COMMANDS_H
#define NETTUNE_COMMANDS_H

int cmd_trace(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

#endif
