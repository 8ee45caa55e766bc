/* The command line's shared state; see mapcp.c. */
#ifndef MAPCP_CLI_H
#define MAPCP_CLI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "mapcp.h"

enum when { WHEN_NEVER, WHEN_AUTO, WHEN_ALWAYS };

struct cli {
	const char *prog; /* "mapcp" or "mmap_cp", for messages */
	struct mapcp_opts opts;
	const char *target_dir; /* -t */
	bool no_target_dir;     /* -T */
	bool parents;           /* --parents */
	bool clean_temps;       /* --clean-temps: operands are directories */
	bool hard_link, symbolic_link; /* -l, -s: given (to refuse both) */
	bool no_clobber_n;     /* -n given: --update=... does not undo it */
	bool strip_slashes;    /* --strip-trailing-slashes */
	bool context_required; /* --preserve=context named it */
	bool verbose;
	bool debug;
	bool show_maps;
	bool pause;
	enum when progress_when;
	struct mapcp_progress progress;
	struct mapcp_session *session; /* every SOURCE of the command */
	pthread_mutex_t out; /* one writer at a time on the terminal */
	bool line_shown;     /* a progress line is on stderr: clear it first */
	struct display *display; /* --progress's, or NULL; guarded by out */
	/* for the summary: entries other than directories, and failures */
	struct cli_counts {
		unsigned long long copied, skipped, failed;
	} counts;
};

/* mapcp_opts.on_window for --show-maps and --pause; arg is the struct cli. */
void cli_on_window(const struct mapcp_window *w, void *arg);

/*
 * Before printing anything, under cli->out: take the progress line away;
 * and after, cli_redraw() to put it back at once.
 */
void cli_clear_line(struct cli *cli);
void cli_redraw(struct cli *cli);

/* Print name quoted as cp quotes it, so that a message stays one line. */
void cli_put_name(FILE *f, const char *name);
/*
 * The test binaries' hooks (hooks.c: MAPCP_FAIL for the test engine). What
 * make builds for users does not link them: the weak reference is NULL
 * there and the environment is never read.
 */
void cli_test_hooks(struct cli *cli) __attribute__((weak));

/* fflush(stdout), keeping its first error for the report at exit. */
void cli_flush_stdout(void);

/* progress.c: the --progress display, in a thread of its own. */
struct display;
struct display *display_start(struct cli *cli, char **srcs, int n);
void display_stop(struct display *d);
/* Under cli->out: take the line away; draw it now (if it was shown). */
void display_clear(struct display *d);
void display_redraw(struct display *d);

#endif
