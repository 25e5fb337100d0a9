// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * uprobesite: runs a command with bare uprobes (perf uprobe events, no BPF
 * program) at the given file offsets of a binary, in that command only, so
 * that a program which times its own calls shows what a uprobe on each
 * kind of instruction costs: a breakpoint trap, then the displaced
 * instruction emulated by the kernel or single-stepped out of line.
 * `make bench` (tools/bench-uprobe.sh) uses it to compare entry sites.
 *
 *   uprobesite BINARY OFFSET[,OFFSET...]|none -- COMMAND [ARGS...]
 *
 * OFFSETs are file offsets (decimal or 0x...). The command starts only once
 * every probe is in place; uprobesite exits with its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int uprobe_pmu_type(void)
{
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
	int type = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &type) != 1)
		type = -1;
	fclose(f);
	return type;
}

static int open_probe(int type, const char *path, unsigned long long off, pid_t pid)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = (__u32)type;
	a.config1 = (__u64)(unsigned long)path;	/* the binary */
	a.config2 = off;			/* file offset */
	return (int)syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

int main(int argc, char **argv)
{
	int type, go[2], status;
	char *offs, *tok, *end, b = 0;
	pid_t child;

	if (argc < 5 || strcmp(argv[3], "--")) {
		fprintf(stderr, "usage: uprobesite BINARY OFFSET[,OFFSET...]|none -- COMMAND "
			"[ARGS...]\nexample: uprobesite ./gospin 0x88784 -- ./gospin spin20us 2000\n");
		return 2;
	}
	type = uprobe_pmu_type();
	if (type < 0) {
		fprintf(stderr, "uprobesite: no uprobe PMU (/sys/bus/event_source/devices/uprobe)\n");
		return 1;
	}
	if (pipe2(go, O_CLOEXEC) < 0)
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (!child) {	/* waits for the probes, then becomes the command */
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(1);
		execvp(argv[4], argv + 4);
		fprintf(stderr, "uprobesite: %s: %s\n", argv[4], strerror(errno));
		_exit(127);
	}
	close(go[0]);
	offs = strdup(argv[2]);
	for (tok = strtok(offs, ","); tok && strcmp(argv[2], "none"); tok = strtok(NULL, ",")) {
		unsigned long long off = strtoull(tok, &end, 0);

		if (*end || open_probe(type, argv[1], off, child) < 0) {
			fprintf(stderr, "uprobesite: %s at offset '%s': %s\n", argv[1], tok,
				*end ? "not a number" : strerror(errno));
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
			return 2;
		}
	}
	free(offs);
	if (write(go[1], "x", 1) != 1)
		return 1;
	close(go[1]);
	if (waitpid(child, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
