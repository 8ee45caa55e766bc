/*
 * --progress: one status line on stderr, redrawn at most ten times a
 * second from the library's counters (struct mapcp_progress): bytes done
 * of the total and the percentage, the rate over the last second or so,
 * the time left, files done of the total, and the current file, cut to fit
 * the terminal. A scan thread (mapcp_scan) finds the totals while the copy
 * starts. auto shows the line only on a terminal, and only once the copy
 * has run half a second; always, on anything else, prints a plain line
 * every few seconds and one at the end.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define TICK_NS     100000000L /* ten redraws a second at most */
#define PLAIN_EVERY 3.0        /* seconds between plain lines */
#define AUTO_AFTER  0.5        /* seconds before auto shows itself */

struct display {
	struct cli *cli;
	pthread_t drawer, scanner;
	bool scanning;
	pthread_mutex_t lock; /* guards stop, with wake */
	pthread_cond_t wake;
	bool stop;
	bool tty;
	char **srcs;
	int nsrcs;
	double started;
	/* the rate, over a window that slides every second */
	double rate, mark_t;
	unsigned long long mark_bytes;
};

/* 1.5 GiB, 312.0 KiB, 17 B */
static void
human(double bytes, char *buf, size_t size)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	int u = 0;

	while (bytes >= 1024 && u < 5) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

static void
clock_text(double seconds, char *buf, size_t size)
{
	long s = seconds < 0 || seconds > 359999 ? -1 : (long)(seconds + 0.5);

	if (s < 0)
		snprintf(buf, size, "--:--");
	else if (s >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

static int
columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 80;
}

/* The state of the copy, without the file name, into buf. */
static void
status(struct display *d, char *buf, size_t size, bool final)
{
	struct mapcp_progress *p = &d->cli->progress;
	unsigned long long bytes = p->bytes, total = p->total_bytes;
	unsigned long long files = p->files, nfiles = p->total_files;
	bool scanned = p->scanned;
	double t = mapcp_monotonic();
	char done[32], all[32], rate[32], eta[32] = "";

	if (t - d->mark_t >= 1.0) {
		d->rate = (double)(bytes - d->mark_bytes) / (t - d->mark_t);
		d->mark_t = t;
		d->mark_bytes = bytes;
	}
	if (final)
		d->rate = (double)bytes / (t - d->started);
	human((double)bytes, done, sizeof(done));
	human((double)total, all, sizeof(all));
	human(d->rate, rate, sizeof(rate));
	if (!final && scanned && d->rate > 0)
		clock_text((double)(total - (bytes < total ? bytes : total)) /
				   d->rate,
			   eta, sizeof(eta));
	else if (!final)
		snprintf(eta, sizeof(eta), "--:--");
	if (final)
		snprintf(buf, size, "%s in %llu file%s, %.1f s, %s/s", done,
			 files, files == 1 ? "" : "s", t - d->started, rate);
	else
		snprintf(buf, size,
			 "%s / %s%s %3.0f%%  %s/s  ETA %s  %llu/%llu%s files",
			 done, all, scanned ? "" : "+",
			 total ? 100.0 *
					 (double)(bytes < total ? bytes
								: total) /
					 (double)total
			       : 0.0,
			 rate, eta, files, nfiles, scanned ? "" : "+");
}

/* The current file's name, its beginning cut to fit width. */
static void
current(struct display *d, char *buf, size_t size, int width)
{
	struct mapcp_progress *p = &d->cli->progress;
	char name[6 * sizeof(p->current)]; /* quoted: one line whatever it is */
	size_t len;

	pthread_mutex_lock(&p->lock);
	len = mapcp_quote(name, sizeof(name), p->current);
	pthread_mutex_unlock(&p->lock);
	len = len < sizeof(name) ? len : sizeof(name) - 1;
	if (width < 4)
		buf[0] = '\0';
	else if ((int)len <= width)
		snprintf(buf, size, "%.*s", (int)len, name);
	else
		snprintf(buf, size, "...%.*s", width - 3,
			 name + len - (size_t)width + 3);
}

static void
draw(struct display *d, bool final)
{
	struct cli *cli = d->cli;
	char state[160], name[1100];
	int width = columns();

	status(d, state, sizeof(state), final);
	pthread_mutex_lock(&cli->out);
	if (d->tty && !final) {
		current(d, name, sizeof(name), width - 3 - (int)strlen(state));
		fprintf(stderr, "\r%s  %s\033[K", state, name);
		cli->line_shown = true;
	} else if (final) {
		cli_clear_line(cli);
		fprintf(stderr, "%s: done: %s\n", cli->prog, state);
	} else {
		current(d, name, sizeof(name), 1024);
		fprintf(stderr, "%s: %s  %s\n", cli->prog, state, name);
	}
	fflush(stderr);
	pthread_mutex_unlock(&cli->out);
}

/* CLOCK_MONOTONIC now plus ns, for pthread_cond_timedwait(). */
static struct timespec
deadline(long ns)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += ns;
	t.tv_sec += t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	return t;
}

/*
 * Wait a tick, or less if the copy ends: a sleep would keep a copy that is
 * done waiting for the drawer, 50 ms on average. True when it is time to
 * stop.
 */
static bool
nap(struct display *d)
{
	struct timespec until = deadline(TICK_NS);
	bool stop;

	pthread_mutex_lock(&d->lock);
	while (!d->stop &&
	       pthread_cond_timedwait(&d->wake, &d->lock, &until) != ETIMEDOUT)
		;
	stop = d->stop;
	pthread_mutex_unlock(&d->lock);
	return stop;
}

static void *
drawer(void *arg)
{
	struct display *d = arg;
	double last = 0;
	bool shown = false;

	do {
		double t = mapcp_monotonic() - d->started;

		if (d->cli->progress_when == WHEN_AUTO && t < AUTO_AFTER)
			continue;
		if (d->tty || t - last >= PLAIN_EVERY || !shown) {
			draw(d, false);
			last = t;
			shown = true;
		}
	} while (!nap(d));
	/* The end: a summary where a line was shown, or always was asked. */
	if (shown || d->cli->progress_when == WHEN_ALWAYS)
		draw(d, true);
	return NULL;
}

/*
 * The scan must not slow the copy it describes. It costs a stat(2) per
 * file, a tenth of what copying a small file costs, and a warm tree of
 * small files keeps every CPU busy: measured, a scan running beside such
 * a copy made it 5% slower even at SCHED_IDLE, which runs it only on CPU
 * time nobody else wants. So it starts only once the copy has run as
 * long as auto waits before showing the line: a copy over by then never
 * pays for it, and a long one gets its totals early in its life. Until
 * the scan ends the totals show a "+".
 */
static void *
scanner(void *arg)
{
	struct display *d = arg;
	struct sched_param none = { 0 };
	struct timespec until = deadline((long)(AUTO_AFTER * 1e9));
	bool cancel;

	pthread_mutex_lock(&d->lock);
	while (!d->cli->progress.cancel &&
	       pthread_cond_timedwait(&d->wake, &d->lock, &until) != ETIMEDOUT)
		;
	cancel = d->cli->progress.cancel;
	pthread_mutex_unlock(&d->lock);
	if (cancel)
		return NULL;
	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);
	mapcp_scan((const char *const *)d->srcs, d->nsrcs, &d->cli->opts,
		   &d->cli->progress);
	return NULL;
}

struct display *
display_start(struct cli *cli, char **srcs, int n)
{
	struct display *d;
	pthread_condattr_t attr;

	if (cli->progress_when == WHEN_NEVER)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->tty = isatty(STDERR_FILENO);
	if (cli->progress_when == WHEN_AUTO && !d->tty) {
		free(d);
		return NULL;
	}
	d->cli = cli;
	d->srcs = srcs;
	d->nsrcs = n;
	d->started = d->mark_t = mapcp_monotonic();
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &attr);
	pthread_condattr_destroy(&attr);
	cli->opts.progress = &cli->progress;
	d->scanning = pthread_create(&d->scanner, NULL, scanner, d) == 0;
	if (pthread_create(&d->drawer, NULL, drawer, d) != 0) {
		cli->progress.cancel = 1;
		if (d->scanning)
			pthread_join(d->scanner, NULL);
		free(d);
		return NULL;
	}
	return d;
}

void
display_stop(struct display *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->cli->progress.cancel = 1; /* the copy is done: so is the scan */
	pthread_cond_broadcast(&d->wake);
	pthread_mutex_unlock(&d->lock);
	if (d->scanning)
		pthread_join(d->scanner, NULL);
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->drawer, NULL);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
