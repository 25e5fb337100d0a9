// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `nettune top`: a full-screen live view of listeners and latency, redrawn
 * every interval. It reads the tracer's aggregates (user/tracer/tracer.h), the ones
 * trace and serve read; user/lib/stats/topmodel.c turns them into lines and
 * heatmap columns, and this file draws them with ncurses and takes keys.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curses.h>
#include <sys/resource.h>
#include "commands.h"
#include "tracer.h"
#include "topmodel.h"
#include "log.h"
#include "optable.h"
#include "opts.h"

#define MIN_COLS	80
#define MIN_LINES	24

struct top {
	struct tracer t;
	struct top_model m;
	enum top_family heat;	/* the heatmap's family */
	bool paused, help, editing, quit;
	char edit[TOP_FILTER_MAX];
	double cpu_pct;		/* nettune's own CPU over the last interval */
	double cpu_s, wall_s;	/* at the last update */
	__u64 lost;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Three digits and a unit in at most 6 columns: "850us", "12.3ms", "1.25s";
 * "-" for nothing measured. */
static const char *fmt_us(char *buf, size_t len, double us, bool any)
{
	static const struct { double div; const char *unit; } units[] = {
		{ 1, "us" }, { 1e3, "ms" }, { 1e6, "s" },
	};
	int u = us >= 999.5e3 ? 2 : us >= 999.5 ? 1 : 0;
	double v = us / units[u].div;

	if (!any)
		return "-";
	snprintf(buf, len, v < 9.995 ? "%.2f%s" : v < 99.95 ? "%.1f%s" : "%.0f%s", v,
		 units[u].unit);
	return buf;
}

/* A count or rate in at most 5 columns: "7", "7.5", "1234", "12k", "1.2M". */
static const char *fmt_count(char *buf, size_t len, double v)
{
	if (v < 100 && v != (double)(__u64)v)
		snprintf(buf, len, "%.1f", v);
	else if (v < 10000)
		snprintf(buf, len, "%.0f", v);
	else if (v < 999.5e3)
		snprintf(buf, len, "%.0fk", v / 1e3);
	else
		snprintf(buf, len, "%.1fM", v / 1e6);
	return buf;
}

/* The queue against its limit: "[##  ]  3/128". */
static void draw_bar(int y, int x, int width, __u32 queue, __u32 limit)
{
	int inner = width - 2, full = 0;

	if (limit)
		full = queue >= limit + 1 ? inner : (int)((double)queue * inner / (limit + 1) + 0.5);
	mvaddch(y, x, '[');
	for (int i = 0; i < inner; i++)
		addch(i < full ? '#' : ' ');
	addch(']');
}

static void draw_listeners(struct top *tp, int y0, int rows)
{
	const struct top_model *m = &tp->m;
	/* Fixed columns take owner + bar + 51; the address gets the rest. */
	int owner_w = COLS >= 100 ? 16 : 10, bar_w = COLS >= 100 ? 12 : 4;
	int addr_w = COLS - owner_w - bar_w - 51;
	char a[24], b[24], c[24], d[24], e[24], f[24], g[24], h[24];

	attron(A_BOLD);
	mvprintw(y0, 0, "%-*s %-*s %-*s %5s %5s %6s %5s %6s %6s", addr_w, "LISTENER", owner_w,
		 "OWNER", bar_w + 10, "QUEUE/LIMIT", "PEAK", "ACC/s", "OVFL", "OVF/s", "W.P50",
		 "W.P99");
	attroff(A_BOLD);
	for (int i = 0; i < rows - 1 && (size_t)i < m->nlines; i++) {
		const struct top_line *l = &m->lines[i];
		int y = y0 + 1 + i;

		mvprintw(y, 0, "%-*.*s %-*.*s ", addr_w, addr_w, l->address, owner_w, owner_w,
			 l->owner);
		draw_bar(y, addr_w + owner_w + 2, bar_w, l->queue, l->limit);
		printw(" %4.4s/%-4.4s %5.5s %5.5s %6.6s %5.5s %6.6s %6.6s",
		       fmt_count(f, sizeof(f), l->queue), fmt_count(g, sizeof(g), l->limit),
		       fmt_count(h, sizeof(h), l->peak), fmt_count(a, sizeof(a), l->accepts_per_s),
		       fmt_count(b, sizeof(b), (double)l->overflows),
		       fmt_count(c, sizeof(c), l->overflows_per_s),
		       fmt_us(d, sizeof(d), (double)l->wait_p50_ns / 1000, l->accepted),
		       fmt_us(e, sizeof(e), (double)l->wait_p99_ns / 1000, l->accepted));
	}
	if (!m->nlines)
		mvprintw(y0 + 1, 0, m->filter[0] ? "  no listener matches '%s'" :
			 "  no listener has accepted, overflowed or queued yet%s", m->filter);
}

static void draw_latency(struct top *tp, int y0)
{
	char a[24], b[24], c[24], d[24];

	attron(A_BOLD);
	mvprintw(y0, 0, "%-14s %9s %9s %9s %9s %9s   (last %.4g s)", "LATENCY", "count", "p50",
		 "p90", "p99", "max", tp->m.interval_s);
	attroff(A_BOLD);
	for (int f = 0; f < TOP_FAMILY_NR; f++) {
		const struct top_latency *l = &tp->m.latency[f];

		if (!l->measured) {
			mvprintw(y0 + 1 + f, 0, "%-14s %9s", top_family_names[f], "off");
			continue;
		}
		mvprintw(y0 + 1 + f, 0, "%-14s %9llu %9s %9s %9s %9s", top_family_names[f],
			 (unsigned long long)l->count, fmt_us(a, sizeof(a), l->p50_us, l->count),
			 fmt_us(b, sizeof(b), l->p90_us, l->count),
			 fmt_us(c, sizeof(c), l->p99_us, l->count),
			 fmt_us(d, sizeof(d), l->max_us, l->count));
	}
}

/* Bins of family F summed over screen row rows [lo, lo + per) of column X
 * back from the newest. */
static __u32 heat_cell(const struct top *tp, int x, int lo, int per)
{
	const __u32 *col = topmodel__heat_column(&tp->m, tp->heat, (size_t)x);
	__u32 n = 0;

	for (int b = lo; col && b < lo + per && b < TOP_HEAT_BINS; b++)
		n += col[b];
	return n;
}

/* Time on x (newest at the right), log latency on y (longest at the top),
 * each cell shaded by its share of the busiest cell shown. */
static void draw_heatmap(struct top *tp, int y0, int rows)
{
	static const char shade[] = " .:-=+*#%@";
	static const char *const labels[TOP_HEAT_BINS / 2] = {
		"1us", "10us", "100us", "1ms", "10ms", "100ms", "1s", "10s" };
	int width = COLS - 7, per;
	__u32 top = 1;

	if (rows < 3 || width < 10)
		return;
	per = (TOP_HEAT_BINS + rows - 2) / (rows - 1);	/* bins per screen row */
	rows = (TOP_HEAT_BINS + per - 1) / per;		/* the rows those fill */
	attron(A_BOLD);
	mvprintw(y0, 0, "HEATMAP %s, %zu intervals (tab: next family)", top_family_names[tp->heat],
		 tp->m.heat_len < (size_t)width ? tp->m.heat_len : (size_t)width);
	attroff(A_BOLD);
	for (int x = 0; x < width; x++)
		for (int r = 0; r < rows; r++) {
			__u32 n = heat_cell(tp, x, r * per, per);

			top = n > top ? n : top;
		}
	for (int r = 0; r < rows; r++) {
		int lo = (rows - 1 - r) * per, y = y0 + 1 + r;

		mvprintw(y, 0, "%6s ", lo % 2 == 0 && lo / 2 < TOP_HEAT_BINS / 2 ? labels[lo / 2] : "");
		for (int x = 0; x < width; x++) {
			__u32 n = heat_cell(tp, width - 1 - x, lo, per);
			int i = n ? 1 + (int)((double)n * 8.99 / top) : 0;

			mvaddch(y, 7 + x, shade[i < 9 ? i : 9]);
		}
	}
}

static void draw_help(void)
{
	static const char *const text[] = {
		"nettune top: keys",
		"  s / S    sort by the next / previous column",
		"  /        filter by address or owner (Enter applies, Esc clears)",
		"  tab      heatmap of the next family",
		"  space    pause / resume",
		"  h, ?     this help",
		"  q        quit (or Ctrl-C): nothing stays attached",
		"",
		"OVFL: listen overflows since start (SYN and ACK time).",
		"W.P50, W.P99: accept-queue wait since start.",
		"ACC/s, OVF/s: over the last interval.",
	};
	int w = 0, n = (int)(sizeof(text) / sizeof(text[0]));

	for (int i = 0; i < n; i++)
		w = (int)strlen(text[i]) > w ? (int)strlen(text[i]) : w;
	w = w < COLS - 6 ? w : COLS - 6;
	for (int i = 0; i < n; i++)
		mvprintw(3 + i, 2, " %-*.*s ", w, w, text[i]);
}

static void draw(struct top *tp)
{
	int lrows = (LINES - 8) / 2 > 4 ? (LINES - 8) / 2 : 4;
	char footer[160];

	erase();
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		mvprintw(0, 0, "nettune top needs %dx%d; this terminal is %dx%d (q quits)",
			 MIN_COLS, MIN_LINES, COLS, LINES);
		refresh();
		return;
	}
	attron(A_REVERSE);
	mvprintw(0, 0, "%-*.*s", COLS, COLS, "");
	mvprintw(0, 0, " nettune top  %zu listener%s  every %.1f s%s", tp->m.nlisteners,
		 tp->m.nlisteners == 1 ? "" : "s", (double)tp->t.opts.interval_ms / 1000,
		 tp->paused ? "  [paused]" : "");
	attroff(A_REVERSE);
	draw_listeners(tp, 1, lrows);
	draw_latency(tp, lrows + 2);
	draw_heatmap(tp, lrows + 7, LINES - lrows - 8);
	snprintf(footer, sizeof(footer), " lost events %llu | nettune CPU %.1f%% | sort: %s | "
		 "filter: %s | h help  q quit", (unsigned long long)tp->lost, tp->cpu_pct,
		 top_sort_names[tp->m.sort], tp->editing ? tp->edit :
		 tp->m.filter[0] ? tp->m.filter : "-");
	attron(A_REVERSE);
	mvprintw(LINES - 1, 0, "%-*.*s", COLS, COLS, footer);
	attroff(A_REVERSE);
	if (tp->editing)
		mvprintw(LINES - 2, 0, "filter: %s_", tp->edit);
	if (tp->help)
		draw_help();
	refresh();
}

/* A key while typing a filter: Enter applies, Esc cancels. */
static void edit_key(struct top *tp, int ch)
{
	size_t n = strlen(tp->edit);

	if (ch == '\n' || ch == KEY_ENTER) {
		snprintf(tp->m.filter, sizeof(tp->m.filter), "%s", tp->edit);
		tp->editing = false;
		topmodel__view(&tp->m);
	} else if (ch == 27) {
		tp->editing = false;
		tp->m.filter[0] = '\0';
		topmodel__view(&tp->m);
	} else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n) {
		tp->edit[n - 1] = '\0';
	} else if (ch > 0 && ch < 256 && isprint(ch) && n + 1 < sizeof(tp->edit)) {
		tp->edit[n] = (char)ch;
		tp->edit[n + 1] = '\0';
	}
}

static void key(struct top *tp, int ch)
{
	if (tp->editing) {
		edit_key(tp, ch);
		return;
	}
	switch (ch) {
	case 'q': case 'Q': tp->quit = true; break;
	case 'h': case '?': tp->help = !tp->help; break;
	case ' ': tp->paused = !tp->paused; break;
	case '\t': tp->heat = (tp->heat + 1) % TOP_FAMILY_NR; break;
	case 's': tp->m.sort = (tp->m.sort + 1) % TOP_SORT_NR; topmodel__view(&tp->m); break;
	case 'S':
		tp->m.sort = (tp->m.sort + TOP_SORT_NR - 1) % TOP_SORT_NR;
		topmodel__view(&tp->m);
		break;
	case '/': tp->editing = true; tp->edit[0] = '\0'; break;
	default: break;	/* KEY_RESIZE among others: the redraw follows */
	}
}

/* One interval's aggregates into the model. */
static int update(struct top *tp)
{
	struct json_object *report;
	double secs, now = now_s(), cpu = cpu_s();
	int err = tracer__collect(&tp->t, false, &secs);

	if (err)
		return err;
	report = tracer__json(&tp->t, false, secs);
	err = report ? topmodel__update(&tp->m, tp->t.listeners, report, secs) : -ENOMEM;
	json_object_put(report);
	if (tp->wall_s > 0 && now > tp->wall_s)
		tp->cpu_pct = 100 * (cpu - tp->cpu_s) / (now - tp->wall_s);
	tp->wall_s = now;
	tp->cpu_s = cpu;
	tp->lost = tracer__lost(&tp->t);
	return err;
}

/* Keys and redraws until q, a signal, or -d; an update every interval. */
static int run(struct top *tp)
{
	double interval = (double)tp->t.opts.interval_ms / 1000, next = now_s() + interval;
	double end = tp->t.opts.duration_ms ? now_s() + (double)tp->t.opts.duration_ms / 1000 : 0;
	int err = 0;

	draw(tp);
	while (!tp->quit && !tracer__stopping() && !err && (!end || now_s() < end)) {
		int ch = getch();	/* waits up to 100 ms (timeout) */

		if (ch != ERR) {
			key(tp, ch);
			draw(tp);
		}
		if (now_s() < next)
			continue;
		next += interval;
		if (next < now_s())	/* stopped (Ctrl-Z) or slow: no catching up */
			next = now_s() + interval;
		if (!tp->paused)
			err = update(tp);
		draw(tp);
	}
	return err;
}

static const struct optable_opt top_own_opts[] = {
	{ "interval", 'i', "SEC", "refresh interval (default 1)", trace_opts__set_interval, NULL },
	{ "duration", 'd', "SEC", "quit after SEC seconds (default: until q or Ctrl-C)",
	  trace_opts__set_duration, NULL },
	{ 0 },
};

/* trace's filters and family options, declared once in trace_opts.c. */
static const struct optable_opt *const top_groups[] = {
	trace_filter_opts, top_own_opts, trace_family_opts, NULL,
};

static const struct optable top_table = { .cmd = "top", .groups = top_groups };

static void usage(FILE *out, struct trace_parse *p)
{
	fprintf(out,
"Usage: nettune top [-p PID] [--port PORT] [--netns NS] [--probes LIST] [-i SEC] [-d SEC]\n"
"\n"
"A full-screen live view, redrawn every interval: one line per listener\n"
"(owner, queue against its limit, peak depth, accepts/s, listen overflows\n"
"since start and per second, accept-wait p50 and p99 since start), the\n"
"latency of connect, accept wait and read wait over the last interval, and\n"
"a heatmap over time of one of them. It reads the same aggregates as trace\n"
"and serve. Needs a terminal of at least %dx%d.\n"
"\n"
"Options:\n", MIN_COLS, MIN_LINES);
	optable__print(&top_table, p, out);
	fprintf(out,
"\n"
"Keys: s/S sort, / filter, tab heatmap family, space pause, h help, q quit.\n"
"\n"
"EXAMPLES\n"
"  nettune top                               every listener on the machine\n"
"  nettune top --netns /run/netns/blue       one namespace\n"
"  nettune top -p $(pidof nginx) -i 2        one server, every 2 s\n");
}

/* trace's options, less what makes no sense on a screen (--json,
 * --min-us: not in the table). */
static int parse(int argc, char **argv, struct trace_opts *o)
{
	const char *names[TRACE_MAX_PROBES];
	struct trace_parse p;
	int err;

	for (int i = 0; i < probe_table_len; i++)
		names[i] = probe_table[i]->name;
	trace_opts__begin(&p, o, names, probe_table_len);
	err = optable__parse(&top_table, argc, argv, &p);
	if (err == OPTABLE_HELP) {
		usage(stdout, &p);
		return 1;
	}
	if (!err)
		err = trace_opts__finish(&p);
	if (err)
		return EXIT_USAGE;
	if (!o->interval_ms)
		o->interval_ms = 1000;
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top tp = {};
	int rc = parse(argc, argv, &tp.t.opts);

	if (rc)
		return rc == 1 ? 0 : rc;
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		warn("top: needs a terminal; for a report every second use: nettune trace -i 1");
		return EXIT_USAGE;
	}
	if (tp.t.opts.verbose)
		log__init("nettune", LOG_DEBUG);
	if (topmodel__init(&tp.m))
		return EXIT_RUNTIME;
	rc = tracer__start(&tp.t);	/* its SIGINT/SIGTERM handlers before curses' */
	if (rc) {
		topmodel__free(&tp.m);
		return rc;
	}
	set_escdelay(25);	/* Esc cancels a filter at once, not after 1 s */
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(100);
	rc = run(&tp);
	endwin();
	if (rc)	/* said on the screen, which endwin just took away */
		warn("top: cannot read the tracer's maps: %s", strerror(-rc));
	rc = rc ? EXIT_RUNTIME : 0;
	tracer__stop(&tp.t);
	topmodel__free(&tp.m);
	return rc;
}
