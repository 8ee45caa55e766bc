/*
 * --show-maps and --pause: the exercise's look inside the process. When an
 * mmap engine maps a window, print the lines of /proc/self/maps that cover
 * it (the source r--s, DEST rw-s), and with --pause wait for ENTER on
 * stdin, as the exercise's wait_for_input() does, so that another terminal
 * can read /proc/PID/maps meanwhile.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Print the lines of /proc/self/maps that overlap [p, p + len). */
static void
print_maps(FILE *out, const void *p, size_t len)
{
	uintptr_t lo = (uintptr_t)p, hi = lo + len;
	char *line = NULL;
	size_t cap = 0;
	FILE *maps;

	if (p == NULL || (maps = fopen("/proc/self/maps", "re")) == NULL)
		return;
	while (getline(&line, &cap, maps) > 0) {
		char *dash;
		uintptr_t start = strtoul(line, &dash, 16);
		uintptr_t end = *dash == '-' ? strtoul(dash + 1, NULL, 16) : 0;

		if (start < hi && end > lo)
			fputs(line, out);
	}
	free(line);
	fclose(maps);
}

void
cli_on_window(const struct mapcp_window *w, void *arg)
{
	struct cli *cli = arg;
	bool pausing = cli->pause && w->index == 0;

	if (!cli->show_maps && !pausing)
		return;
	pthread_mutex_lock(&cli->out);
	cli_clear_line(cli);
	if (pausing)
		printf("PID: %d\n", (int)getpid());
	if (cli->show_maps || pausing) {
		printf("%s: window %u of ", cli->prog, w->index);
		cli_put_name(stdout, w->src_path);
		printf(", offset %jd, %zu bytes:\n", (intmax_t)w->off, w->len);
		fflush(stdout);
		print_maps(stdout, w->src, w->len);
		print_maps(stdout, w->dst, w->len);
	}
	if (pausing) {
		char buf[64];

		fputs(" -- Press ENTER to continue ...", stdout);
		fflush(stdout);
		if (fgets(buf, sizeof(buf), stdin) == NULL)
			clearerr(stdin);
		if (!isatty(STDIN_FILENO)) /* a terminal echoed the newline */
			putchar('\n');
	}
	cli_flush_stdout();
	cli_redraw(cli);
	pthread_mutex_unlock(&cli->out);
}
