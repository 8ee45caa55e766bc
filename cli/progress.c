/*
 * --progress: one status line on stderr, redrawn ten times a second from
 * the library's counters (struct mapcp_progress), fitted to the terminal's
 * width at every redraw. It shows, most needed first when the line must
 * shrink: the percentage, bytes done of the bytes that will be copied (a
 * sparse file's data, not its holes; files found to be kept taken off),
 * the time left, the rate, entries done of the total, and the current
 * file. A scan thread (mapcp_scan) finds the totals while the copy runs;
 * until it is done the total has a "+" and there is no percentage or
 * time left, which would be guesses. The rate is smoothed over a few
 * seconds, so one slow second does not make the time left jump.
 *
 * auto shows the line only on a terminal, and only once the copy has run
 * half a second; always, on anything else, prints a plain line every few
 * seconds. Both end with a summary: what was copied, skipped and failed.
 * The line is taken away only for something else to be printed (-v's
 * lines, an error, a question), and drawn again straight after.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define TICK_NS     100000000L /* ten redraws a second */
#define PLAIN_EVERY 3.0        /* seconds between plain lines */
#define AUTO_AFTER  0.5        /* seconds before auto shows itself */
#define RATE_TAU    3.0        /* seconds: the rate's smoothing */
#define ETA_AFTER   1.0        /* seconds of rate before a time left */

struct display {
	struct cli *cli;
	pthread_t drawer, scanner;
	bool scanning;
	pthread_mutex_t lock; /* with wake: the scanner's start, and cancel */
	pthread_cond_t wake;
	sem_t tick; /* posted to redraw now: stop, or SIGWINCH */
	_Atomic bool stop;
	bool tty;
	bool shown; /* a line was drawn: the summary follows at the end */
	char **srcs;
	int nsrcs;
	double started;
	/* the rate: smoothed exponentially, sampled at each redraw */
	double rate, mark_t;
	unsigned long long mark_bytes;
	int drawn; /* columns of the line on screen, 0 if none */
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

/* The terminal's width now: read at every redraw, so a resize is seen. */
static int
columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* What the line says, as fields to be left out by priority. */
enum field { PERCENT, BYTES, ETA, RATE, FILES, NFIELDS };

/* A field's text; the order above is the order they are given up in. */
struct fields {
	char text[NFIELDS][96];
};

/*
 * The bytes that will be copied, as far as the scan knows; false when the
 * copy has passed it (a stream, whose size is unknown, or a file that
 * grew): then there is no total to show.
 */
static bool
total_now(const struct mapcp_progress *p, unsigned long long done,
	  unsigned long long *total)
{
	unsigned long long all = p->total_bytes, kept = p->skipped_bytes;

	*total = all > kept ? all - kept : 0;
	return *total >= done;
}

/* Sample the rate: an exponential average with time constant RATE_TAU. */
static void
sample_rate(struct display *d, unsigned long long bytes, double t)
{
	double dt = t - d->mark_t;

	if (dt < 0.05)
		return;
	if (t - d->started <= RATE_TAU) {
		/* too early to smooth: the average since the start */
		d->rate = (double)bytes / (t - d->started);
	} else {
		double now = (double)(bytes - d->mark_bytes) / dt;
		double a = 1 - exp(-dt / RATE_TAU);

		d->rate += a * (now - d->rate);
	}
	d->mark_t = t;
	d->mark_bytes = bytes;
}

static void
make_fields(struct display *d, struct fields *f)
{
	struct mapcp_progress *p = &d->cli->progress;
	unsigned long long bytes = p->bytes;
	unsigned long long total;
	bool known = total_now(p, bytes, &total);
	bool scanned = p->scanned && known;
	unsigned long long files = p->files, nfiles = p->total_files;
	double t = mapcp_monotonic();
	char done[32], all[32], rate[32], left[32];

	sample_rate(d, bytes, t);
	memset(f, 0, sizeof(*f));
	human((double)bytes, done, sizeof(done));
	human((double)total, all, sizeof(all));
	human(d->rate, rate, sizeof(rate));
	if (!p->scanned) /* at least what it found, and at least what is done */
		snprintf(f->text[BYTES], sizeof(f->text[BYTES]), "%s / %s+",
			 done, known ? all : done);
	else if (known)
		snprintf(f->text[BYTES], sizeof(f->text[BYTES]), "%s / %s",
			 done, all);
	else /* a stream, or a file that grew: no total to show */
		snprintf(f->text[BYTES], sizeof(f->text[BYTES]), "%s / ?",
			 done);
	if (scanned)
		snprintf(f->text[PERCENT], sizeof(f->text[PERCENT]), "%3.0f%%",
			 total ? floor(100.0 * (double)bytes / (double)total)
			       : 100.0);
	snprintf(f->text[RATE], sizeof(f->text[RATE]), "%s/s", rate);
	if (scanned && d->rate > 0 && t - d->started >= ETA_AFTER) {
		clock_text((double)(total - bytes) / d->rate, left,
			   sizeof(left));
		snprintf(f->text[ETA], sizeof(f->text[ETA]), "ETA %s", left);
	} else if (!p->scanned || known) { /* not yet: a stream has none */
		snprintf(f->text[ETA], sizeof(f->text[ETA]), "ETA --:--");
	}
	if (files > nfiles)
		nfiles = files;
	snprintf(f->text[FILES], sizeof(f->text[FILES]), "%llu/%llu%s files",
		 files, nfiles, p->scanned ? "" : "+");
}

/*
 * The fields that fit in width columns, most needed first, in the line's
 * own order (percentage, bytes, rate, time left, files); two spaces
 * between them. Returns the columns used.
 */
static int
fit(const struct fields *f, int width, char *buf, size_t size)
{
	static const enum field order[] = { PERCENT, BYTES, RATE, ETA, FILES };
	bool keep[NFIELDS] = { false };
	int used = 0, len = 0;

	for (int i = 0; i < NFIELDS; i++) {
		int n = (int)strlen(f->text[i]);

		if (n == 0)
			continue;
		if (used + (used ? 2 : 0) + n > width)
			break; /* less needed ones go first: stop here */
		used += (used ? 2 : 0) + n;
		keep[i] = true;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (keep[order[i]])
			len += snprintf(buf + len, size - (size_t)len, "%s%s",
					len ? "  " : "", f->text[order[i]]);
	return len;
}

/*
 * The current file's name, quoted as cp quotes it, its beginning cut to
 * fit width: the cut is made in the name itself, never in a quoting
 * escape, and never inside a UTF-8 character.
 */
static int
current(struct display *d, char *buf, size_t size, int width)
{
	struct mapcp_progress *p = &d->cli->progress;
	char raw[sizeof(p->current)];
	char name[6 * sizeof(p->current)]; /* quoted: one line whatever it is */
	size_t at = 0, n, len;

	buf[0] = '\0';
	if (width < 8)
		return 0;
	pthread_mutex_lock(&p->lock);
	memcpy(raw, p->current, sizeof(raw));
	pthread_mutex_unlock(&p->lock);
	raw[sizeof(raw) - 1] = '\0';
	n = strlen(raw);
	if (n == 0)
		return 0;
	len = mapcp_quote(name, sizeof(name), raw);
	/* shorter tails until the quoted one and "..." fit */
	while ((int)len > width && at < n) {
		at += (size_t)(width > 16 ? ((int)len - width + 3) / 6 + 1 : 1);
		while (at < n && ((unsigned char)raw[at] & 0xc0) == 0x80)
			at++;
		len = 3 + mapcp_quote(name, sizeof(name), raw + at);
	}
	if ((int)len > width || at >= n)
		return 0; /* no room for any of it */
	return snprintf(buf, size, "%s%s", at ? "..." : "", name);
}

/*
 * Take the line away, with cli->out held. A terminal that reflows its
 * lines when it narrows (tmux, VTE, kitty and most others do) has made
 * a line wider than it now is into several rows: go up over them too.
 * Each row is erased by itself (ESC [K): erasing to the end of the
 * screen (ESC [J) from the top row is what tmux takes for a clear screen,
 * and it would keep every redraw in its scrollback.
 */
static void
erase(struct display *d, int width)
{
	int rows = d->drawn > 0 && width > 0 ? (d->drawn - 1) / width : 0;

	if (d->drawn == 0)
		return;
	fputs("\r\033[K", stderr);
	for (int i = 0; i < rows; i++)
		fputs("\033[A\033[K", stderr);
	d->drawn = 0;
}

/* The status line, with cli->out held. */
static void
draw_line(struct display *d)
{
	struct cli *cli = d->cli;
	struct fields f;
	char state[400], name[1100];
	/* never the last column: a terminal would wrap there */
	int width = columns() - 1, used, extra;

	make_fields(d, &f);
	used = fit(&f, width, state, sizeof(state));
	extra = current(d, name, sizeof(name), width - used - 2);
	erase(d, width + 1);
	if (d->tty) {
		fprintf(stderr, "%s%s%s", state, extra ? "  " : "", name);
		d->drawn = used + (extra ? 2 + extra : 0);
		cli->line_shown = true;
	} else {
		fprintf(stderr, "%s: %s%s%s\n", cli->prog, state,
			extra ? "  " : "", name);
	}
	d->shown = true;
	fflush(stderr);
}

/*
 * The summary, fitted to the terminal where it goes to one: the bytes,
 * the time and the rate are left out first, then the program's name, and
 * in the narrowest of terminals the counts are all that is left, cut.
 */
static void
draw_summary(struct display *d)
{
	struct cli *cli = d->cli;
	const struct cli_counts *c = &cli->counts;
	double t = mapcp_monotonic() - d->started;
	char done[32], rate[32], counts[96], line[256];
	int width = d->tty ? columns() - 1 : (int)sizeof(line) - 1, n;

	human((double)cli->progress.bytes, done, sizeof(done));
	human(t > 0 ? (double)cli->progress.bytes / t : 0, rate, sizeof(rate));
	snprintf(counts, sizeof(counts), "%llu copied, %llu skipped, %llu failed",
		 c->copied, c->skipped, c->failed);
	n = snprintf(line, sizeof(line), "%s: %s", cli->prog, counts);
	if (n > width)
		n = snprintf(line, sizeof(line), "%s", counts);
	if (n + (int)strlen(done) + 2 <= width)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", done);
	if (n + 10 <= width)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " in %.1f s",
			      t);
	if (n + (int)strlen(rate) + 4 <= width)
		snprintf(line + n, sizeof(line) - (size_t)n, ", %s/s", rate);
	if (width > 0 && (int)strlen(line) > width)
		line[width] = '\0';
	pthread_mutex_lock(&cli->out);
	erase(d, width + 1);
	cli->line_shown = false;
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
	pthread_mutex_unlock(&cli->out);
}

/* Anything to say yet? Not before the first entry or byte is known. */
static bool
started(const struct display *d)
{
	const struct mapcp_progress *p = &d->cli->progress;

	return p->bytes > 0 || p->files > 0 || p->total_bytes > 0;
}

void
display_clear(struct display *d)
{
	if (d != NULL && d->drawn > 0) {
		erase(d, columns());
		d->cli->line_shown = false;
	}
}

void
display_redraw(struct display *d)
{
	if (d != NULL && d->tty && d->shown)
		draw_line(d);
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
 * SIGWINCH: the terminal changed size. The line is redrawn at once, not
 * at the next tick: a terminal narrowed by dragging its edge shrinks a
 * column at a time, and a line left as wide as the terminal (its cursor
 * in the last column, waiting to wrap) is reflowed by tmux with the
 * cursor left on its first row, where no erase can find the rest. Drawn
 * again at each step, the line is always narrower than the terminal.
 */
static sem_t *resized;

static void
on_winch(int sig)
{
	int saved = errno;

	(void)sig;
	if (resized != NULL)
		sem_post(resized); /* async-signal-safe */
	errno = saved;
}

/*
 * Wait a tick, or less if the copy ends or the terminal is resized: a
 * sleep would keep a copy that is done waiting for the drawer, 50 ms on
 * average. True when it is time to stop.
 */
static bool
nap(struct display *d)
{
	struct timespec until = deadline(TICK_NS);

	while (!d->stop &&
	       sem_clockwait(&d->tick, CLOCK_MONOTONIC, &until) < 0 &&
	       errno == EINTR)
		;
	return d->stop;
}

static void *
drawer(void *arg)
{
	struct display *d = arg;
	double last = 0;

	do {
		double t = mapcp_monotonic() - d->started;

		if (d->cli->progress_when == WHEN_AUTO && t < AUTO_AFTER)
			continue;
		if (!started(d))
			continue;
		/* plain lines: the first after PLAIN_EVERY, as the rest */
		if (d->tty || t - last >= PLAIN_EVERY) {
			pthread_mutex_lock(&d->cli->out);
			draw_line(d);
			pthread_mutex_unlock(&d->cli->out);
			last = t;
		}
	} while (!nap(d));
	/* The end: a summary where a line was shown, or always was asked. */
	if (d->shown || d->cli->progress_when == WHEN_ALWAYS)
		draw_summary(d);
	return NULL;
}

/*
 * The scan must not slow the copy it describes. It costs a stat(2) per
 * file, a tenth of what copying a small file costs, and a warm tree of
 * small files keeps every CPU busy: measured, a scan running beside such
 * a copy made it 5% slower even at SCHED_IDLE, which runs it only on CPU
 * time nobody else wants. So it starts only once the copy has run as
 * long as auto waits before showing the line: a copy over by then never
 * pays for it, and a long one gets its totals early in its life (files
 * without -r are counted at once). Until the scan ends the totals show
 * a "+".
 */
static void *
scanner(void *arg)
{
	struct display *d = arg;
	struct sched_param none = { 0 };
	/* files only: a stat each, nothing to wait for */
	struct timespec until = deadline(
		d->cli->opts.flags & MAPCP_RECURSIVE ? (long)(AUTO_AFTER * 1e9)
						     : 0);
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
	sem_init(&d->tick, 0, 0);
	if (d->tty) {
		struct sigaction sa = { .sa_handler = on_winch,
					.sa_flags = SA_RESTART };

		sigemptyset(&sa.sa_mask);
		resized = &d->tick;
		sigaction(SIGWINCH, &sa, NULL);
	}
	cli->opts.progress = &cli->progress;
	cli->display = d;
	d->scanning = pthread_create(&d->scanner, NULL, scanner, d) == 0;
	if (pthread_create(&d->drawer, NULL, drawer, d) != 0) {
		cli->progress.cancel = 1;
		if (d->scanning)
			pthread_join(d->scanner, NULL);
		signal(SIGWINCH, SIG_DFL);
		resized = NULL;
		sem_destroy(&d->tick);
		cli->display = NULL;
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
	d->stop = true;
	sem_post(&d->tick);
	pthread_join(d->drawer, NULL);
	signal(SIGWINCH, SIG_DFL);
	resized = NULL;
	pthread_mutex_lock(&d->cli->out);
	d->cli->display = NULL;
	pthread_mutex_unlock(&d->cli->out);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	sem_destroy(&d->tick);
	free(d);
}
