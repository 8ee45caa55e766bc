/* The command line's shared state; see mapcp.c. */
#ifndef MAPCP_CLI_H
#define MAPCP_CLI_H

#include <stdbool.h>

#include "mapcp.h"

struct cli {
	const char *prog; /* "mapcp" or "mmap_cp", for messages */
	struct mapcp_opts opts;
	const char *target_dir; /* -t */
	bool verbose;
	bool debug;
	bool show_maps;
	bool pause;
};

/* mapcp_opts.on_window for --show-maps and --pause; arg is the struct cli. */
void cli_on_window(const struct mapcp_window *w, void *arg);

#endif
