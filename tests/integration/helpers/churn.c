// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Churn for the reclamation tests (test_reclaim.sh, tools/soak.sh): rounds,
 * one after another, each of
 *   - a server process (pinned to CPU round % 2) that listens on a new port
 *     (BASE + round % SPAN) and accepts CONNS connections there and CONNS on
 *     the long-lived listener (LONG, opened once by this process and
 *     inherited), then exits;
 *   - a client process it forks (pinned to the other CPU) that connects
 *     CONNS times to each and exits;
 *   - every NS-th round, the server first moves to a new network namespace
 *     (unshare), which goes away with the two processes: there, only the
 *     new port.
 * So every round brings new keys to every row table (an accepting process,
 * a listener, a connecting and a reading process, sometimes a namespace),
 * and every one of them is gone once the round is over. Prints the
 * clients' own view as JSON: {"rounds","long_ok","new_ok","ns_rounds",
 * "failed"}; long_ok is the truth for the long listener's accept count.
 * With -H it then keeps the long listener open until SIGTERM.
 * With -g DIR (a cgroup v2 directory), every round's server and client run
 * in a cgroup of their own, DIR/rN, created before the round and removed
 * after it ("cgroups").
 * With -o PORT, a second long-lived listener (backlog 1, never accepted)
 * gets one connection attempt from every client outside a new namespace:
 * once its queue is full, each is a listen overflow ("ovf_tries").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct tally {
	long long long_ok, new_ok, failed, rounds, ns_rounds, ovf_tries, cgroups;
};

static struct tally *tally;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % 2, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* one CPU machines: ignored */
}

static int listen_backlog(int port, int backlog)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_on(int port)
{
	return listen_backlog(port, 128);
}

/* One SYN to a full queue: a non-blocking connect, given up at once. */
static void connect_abandoned(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return;
	connect(fd, (struct sockaddr *)&a, sizeof(a));
	__sync_fetch_and_add(&tally->ovf_tries, 1);
	close(fd);
}

/* Connects, sends a byte, waits for the server's close: 0 when served. */
static int connect_once(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok = -1;
	char c = 'x';

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (!connect(fd, (struct sockaddr *)&a, sizeof(a)) && write(fd, &c, 1) == 1)
		ok = read(fd, &c, 1) >= 0 ? 0 : -1;	/* EOF: the server accepted and closed */
	close(fd);
	return ok;
}

static void serve(int fd, int n)
{
	for (int i = 0; i < n; i++) {
		int c = accept(fd, NULL, NULL);
		char b;

		if (c < 0)
			return;
		if (read(c, &b, 1) < 0)
			b = 0;
		close(c);
	}
}

static int lo_up(void)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err;

	if (fd < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	err = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!err)
		err = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return err;
}

/* Moves this process into the cgroup directory dir. */
static int join_cgroup(const char *dir)
{
	char path[4200], pid[32];
	int fd, n, err = -1;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		err = write(fd, pid, (size_t)n) == n ? 0 : -1;
		close(fd);
	}
	return err;
}

static void die(const char *what, int round)
{
	fprintf(stderr, "churn: round %d: %s: %s\n", round, what, strerror(errno));
	_exit(1);
}

/* One round, in the server process. */
static void round_server(int round, int lfd, int long_port, int ovf_port, int port, int conns,
			 bool new_ns, const char *cg)
{
	int fd, use_long = !new_ns;
	pid_t client;

	pin(round);
	if (cg && join_cgroup(cg))
		die("cannot join cgroup", round);	/* the client, forked below, starts there too */
	if (new_ns && (unshare(CLONE_NEWNET) || lo_up()))
		die("cannot make a namespace", round);
	if (new_ns)
		close(lfd);
	fd = listen_on(port);
	if (fd < 0)
		die("cannot listen", round);
	client = fork();
	if (client == 0) {
		pin(round + 1);
		/* In the order the server accepts: each connect waits until
		 * it is served. */
		for (int i = 0; i < conns; i++)
			__sync_fetch_and_add(connect_once(port) ? &tally->failed : &tally->new_ok, 1);
		for (int i = 0; i < conns && use_long; i++)
			__sync_fetch_and_add(connect_once(long_port) ? &tally->failed :
								       &tally->long_ok, 1);
		if (use_long && ovf_port)
			connect_abandoned(ovf_port);
		_exit(0);
	}
	serve(fd, conns);
	if (use_long)
		serve(lfd, conns);
	waitpid(client, NULL, 0);
	close(fd);
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *cgdir = NULL;
	char cg[4096];
	int long_port = 0, ovf_port = 0, ofd = -1, base = 30000, span = 20000, rounds = 100, conns = 2, ns_every = 0;
	double per_sec = 10, seconds = 0;
	struct timespec start, next;
	struct sigaction sa = { .sa_handler = on_signal };
	int opt, lfd = -1, hold = 0;

	while ((opt = getopt(argc, argv, "l:o:g:b:s:n:c:r:e:t:H")) != -1) {
		switch (opt) {
		case 'l': long_port = atoi(optarg); break;
		case 'o': ovf_port = atoi(optarg); break;
		case 'g': cgdir = optarg; break;
		case 'b': base = atoi(optarg); break;
		case 's': span = atoi(optarg); break;
		case 'n': rounds = atoi(optarg); break;
		case 'c': conns = atoi(optarg); break;
		case 'r': per_sec = atof(optarg); break;
		case 'e': ns_every = atoi(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 'H': hold = 1; break;
		default:
			fprintf(stderr, "usage: churn -l LONG_PORT [-o OVF_PORT] [-g CGROUP_DIR] [-b BASE] [-s SPAN] [-n ROUNDS] "
					"[-c CONNS] [-r ROUNDS_PER_SEC] [-e NS_EVERY] [-t SECONDS] [-H]\n");
			return 2;
		}
	}
	if (long_port <= 0 || span <= 0 || rounds <= 0 || conns <= 0 || per_sec <= 0) {
		fprintf(stderr, "churn: -l PORT is required, and counts must be positive\n");
		return 2;
	}
	tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tally == MAP_FAILED)
		return 1;
	lfd = listen_on(long_port);
	if (lfd < 0) {
		fprintf(stderr, "churn: cannot listen on %d: %s\n", long_port, strerror(errno));
		return 1;
	}
	if (ovf_port) {
		ofd = listen_backlog(ovf_port, 1);
		if (ofd < 0) {
			fprintf(stderr, "churn: cannot listen on %d: %s\n", ovf_port, strerror(errno));
			return 1;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &start);
	next = start;
	for (int r = 0; r < rounds && !stop; r++) {
		bool new_ns = ns_every > 0 && r % ns_every == ns_every - 1;
		long step = (long)(1e9 / per_sec);
		pid_t server;
		int status;

		if (seconds > 0) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((double)(now.tv_sec - start.tv_sec) +
				    (double)(now.tv_nsec - start.tv_nsec) / 1e9 >= seconds)
				break;
		}
		if (cgdir) {
			int t = 0;

			snprintf(cg, sizeof(cg), "%s/r%d", cgdir, r);
			/* A cgroup's removal finishes after rmdir returns: a
			 * transient refusal is retried. */
			while (mkdir(cg, 0755) && errno != EEXIST && t++ < 100)
				usleep(2000);
			if (access(cg, F_OK)) {
				fprintf(stderr, "churn: cannot create cgroup %s: %s\n", cg, strerror(errno));
				tally->failed++;
				break;
			}
			tally->cgroups++;
		}
		server = fork();
		if (server == 0)
			round_server(r, lfd, long_port, ovf_port, base + r % span, conns, new_ns,
				     cgdir ? cg : NULL);
		if (server < 0 || waitpid(server, &status, 0) < 0) {
			fprintf(stderr, "churn: round %d: %s\n", r, strerror(errno));
			tally->failed++;
			break;
		}
		/* Both processes are gone (the client was reaped by the
		 * server): the cgroup is empty. */
		for (int t = 0; cgdir && t < 100 && rmdir(cg) && errno == EBUSY; t++)
			usleep(1000);	/* an exiting task may still be leaving it */
		if (cgdir && !access(cg, F_OK)) {
			fprintf(stderr, "churn: cannot remove cgroup %s: %s\n", cg, strerror(errno));
			tally->failed++;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "churn: round %d: its server failed (status %#x)\n", r, status);
			tally->failed++;
		}
		tally->rounds++;
		tally->ns_rounds += new_ns;
		next.tv_nsec += step;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR && !stop)
			;
	}
	printf("{\"rounds\":%lld,\"long_ok\":%lld,\"new_ok\":%lld,\"ns_rounds\":%lld,\"failed\":%lld,"
	       "\"ovf_tries\":%lld,\"cgroups\":%lld}\n",
	       tally->rounds, tally->long_ok, tally->new_ok, tally->ns_rounds, tally->failed,
	       tally->ovf_tries, tally->cgroups);
	fflush(stdout);
	while (hold && !stop)
		pause();
	return 0;
}
