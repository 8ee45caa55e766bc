/*
 * mapcp-bench's shared types: the commands it measures, one cell of
 * results per (size, cache state, command), and the machine it ran on.
 */
#ifndef MAPCP_BENCH_H
#define MAPCP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mapcp.h"
#include "runner.h"
#include "stats.h"

enum workload { WORKLOAD_COPY, WORKLOAD_TREE, WORKLOAD_RANDOM_READ };
enum cache_state { CACHE_COLD, CACHE_WARM };

struct command {
	char *name;
	char **argv; /* "{src}" and "{dst}" are replaced at each run */
	bool baseline;
};

/* What one run gave. */
struct sample {
	struct measure m;
	bool ok;            /* ran, exit 0, and verified */
	double resident;    /* fraction of the source cached before it */
	double reads_per_s; /* random-read: from the child's own clock */
};

struct cell {
	off_t size; /* bytes of the source (file or tree) */
	enum cache_state cache;
	const struct command *cmd;
	struct sample *runs;
	int nruns;
	int failed;      /* runs that did not verify */
	char error[256]; /* the first failure, in words */
	int not_cold;    /* cold runs whose source was still cached */
	int not_warm;    /* warm runs whose source was not */
	/* Seconds each run took, preparing and checking it included: the ETA */
	double *costs;
	int ncosts;
	/* Filled by summarize(). */
	struct summary wall;
	double ratio;     /* to the baseline, paired; NaN without one */
	struct paired vs; /* the run-by-run ratios, ratio their median */
	double spread;    /* slowest run / fastest; NaN without runs */
	double mb_per_s, user, sys, minflt, majflt, nvcsw, nivcsw;
	double faults;  /* minor + major, median */
	double read_mb; /* read from storage, median (MB) */
	double waited;  /* wall - user - sys, median: not on a CPU */
	double resident, reads_per_s;
	long maxrss_kb;
};

struct machine {
	char cpu[128];
	long cpus;
	double mem_gib;
	char kernel[160];
	char fs[32];
	char date[64];
	char note[256]; /* something that skews measurements here, or "" */
};

struct results {
	enum workload workload;
	int runs, warmup;
	const char *dir;
	struct machine machine;
	struct cell *cells;
	int ncells;
	const char *resident_method;
	bool wide;   /* every column, not just what fits 80 */
	double load; /* the highest 1-minute load average seen; -1: unknown */
	long files;  /* tree workload: what the tree holds */
	long dirs;
};

/* Tables fit this many columns, and so do the verdict's lines. */
#define TEXT_WIDTH 80

/* output.c */
const char *workload_name(enum workload w);
const char *cache_name(enum cache_state c);
void format_size(off_t size, char *buf, size_t n);
/* "12.34 ms", "1.23 s": a time as the tables print it. */
void format_time(double seconds, char *buf, size_t n);
/* "1,234,567": a count with thousands separated. */
void format_count(double v, char *buf, size_t n);
/* "4 KiB", or for the tree workload "tree": a cell's group, in words. */
void format_group(const struct results *r, const struct cell *c, char *buf,
		  size_t n);
/* Is c the first cell of its group (size and cache state)? */
bool group_starts(const struct results *r, int i);
const struct cell *baseline_of(const struct results *r, const struct cell *c);
/* The ratios of c's wall times to b's, run by run (the same rounds). */
void cell_versus(const struct cell *c, const struct cell *b, struct paired *vs);
/* Print text wrapped at TEXT_WIDTH, lines after the first indented. */
void print_wrapped(const char *text, const char *indent);
void summarize(struct results *r);
void print_table(const struct results *r);
int write_csv(const struct results *r, const char *path);
int write_json(const struct results *r, const char *path);
int write_markdown(const struct results *r, const char *path);

/* plot.c: throughput, and the ratio beside it (FILE-ratio.EXT). */
int write_plot(const struct results *r, const char *path);
/* The ratio plot's file name for path; NULL if out of memory. */
char *ratio_plot_path(const char *path);

/* verdict.c */
void print_warnings(const struct results *r);
void print_verdict(const struct results *r);

/* machine.c */
void describe_machine(struct machine *m, const char *dir);

/* randread.c: the random-read workload's child, run by mapcp-bench itself. */
int random_read_child(const char *method, const char *path, long reads,
		      unsigned long seed);
/* The checksum both methods must print for these reads. 0 or -errno. */
int random_read_expect(const char *path, long reads, unsigned long seed,
		       unsigned long long *sum);

#endif
