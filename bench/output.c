/*
 * mapcp-bench's results: the summary of each cell, then a table on stdout
 * that fits 80 columns (every column with --wide) and, on request, CSV,
 * JSON and Markdown. The plots are plot.c's, the verdict verdict.c's.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

const char *
workload_name(enum workload w)
{
	return w == WORKLOAD_COPY   ? "copy"
	       : w == WORKLOAD_TREE ? "tree"
				    : "random-read";
}

const char *
cache_name(enum cache_state c)
{
	return c == CACHE_COLD ? "cold" : "warm";
}

/* "4 KiB" for a whole number of units, else "195.3 MiB" (a tree's bytes). */
void
format_size(off_t size, char *buf, size_t n)
{
	static const char units[] = "KMGT";
	double v = (double)size;
	int u = -1;

	while (size >= 1024 && size % 1024 == 0 && u < 3) {
		size /= 1024;
		u++;
	}
	if (u < 0 && size < 1024) {
		snprintf(buf, n, "%jd B", (intmax_t)size);
		return;
	}
	if (u >= 0 && size < 1024) {
		snprintf(buf, n, "%jd %ciB", (intmax_t)size, units[u]);
		return;
	}
	for (u = -1; v >= 1024 && u < 3; u++)
		v /= 1024;
	if (u < 0)
		snprintf(buf, n, "%jd B", (intmax_t)size);
	else
		snprintf(buf, n, "%.1f %ciB", v, units[u]);
}

void
format_time(double seconds, char *buf, size_t n)
{
	if (seconds < 1)
		snprintf(buf, n, "%.2f ms", seconds * 1e3);
	else
		snprintf(buf, n, "%.2f s", seconds);
}

void
format_count(double v, char *buf, size_t n)
{
	char digits[32];
	size_t len, out = 0;

	snprintf(digits, sizeof(digits), "%.0f", v);
	len = strlen(digits);
	for (size_t i = 0; i < len && out + 2 < n; i++) {
		if (i > 0 && digits[i - 1] != '-' && (len - i) % 3 == 0)
			buf[out++] = ',';
		buf[out++] = digits[i];
	}
	buf[out] = '\0';
}

void
format_group(const struct results *r, const struct cell *c, char *buf, size_t n)
{
	if (r->workload == WORKLOAD_TREE)
		snprintf(buf, n, "tree");
	else
		format_size(c->size, buf, n);
}

bool
group_starts(const struct results *r, int i)
{
	return i == 0 || r->cells[i].size != r->cells[i - 1].size ||
	       r->cells[i].cache != r->cells[i - 1].cache;
}

void
print_wrapped(const char *text, const char *indent)
{
	size_t lead = strlen(indent), col = strspn(text, " ");
	const char *start = text + col, *p = start;

	/* The text's own indent is kept; words longer than a line stay whole.
	 */
	printf("%.*s", (int)col, text);
	while (*p) {
		size_t word = strcspn(p, " ");

		if (p > start && col + 1 + word > TEXT_WIDTH) {
			printf("\n%s", indent);
			col = lead;
		} else if (p > start) {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)word, p);
		col += word;
		p += word;
		p += strspn(p, " ");
	}
	putchar('\n');
}

/* The median of one measurement over a cell's verified runs. */
static double
median_of(const struct cell *c, double (*get)(const struct sample *))
{
	double v[c->nruns ? c->nruns : 1];
	size_t k = 0;

	for (int i = 0; i < c->nruns; i++)
		if (c->runs[i].ok)
			v[k++] = get(&c->runs[i]);
	return stats_median(v, k);
}

static double
get_user(const struct sample *s)
{
	return s->m.user;
}
static double
get_sys(const struct sample *s)
{
	return s->m.sys;
}
static double
get_minflt(const struct sample *s)
{
	return (double)s->m.minflt;
}
static double
get_majflt(const struct sample *s)
{
	return (double)s->m.majflt;
}
static double
get_faults(const struct sample *s)
{
	return (double)s->m.minflt + (double)s->m.majflt;
}
static double
get_nvcsw(const struct sample *s)
{
	return (double)s->m.nvcsw;
}
static double
get_nivcsw(const struct sample *s)
{
	return (double)s->m.nivcsw;
}
static double
get_read(const struct sample *s)
{
	return (double)s->m.inblock * 512 / 1e6;
}
/* Time off the CPU: waiting for the disk, mostly, in a cold run. */
static double
get_waited(const struct sample *s)
{
	double w = s->m.wall - s->m.user - s->m.sys;

	return w > 0 ? w : 0;
}
static double
get_resident(const struct sample *s)
{
	return s->resident;
}
static double
get_reads(const struct sample *s)
{
	return s->reads_per_s;
}

const struct cell *
baseline_of(const struct results *r, const struct cell *c)
{
	for (int i = 0; i < r->ncells; i++) {
		const struct cell *b = &r->cells[i];

		if (b->cmd->baseline && b->size == c->size &&
		    b->cache == c->cache)
			return b;
	}
	return NULL;
}

void
cell_versus(const struct cell *c, const struct cell *b, struct paired *vs)
{
	int n = c->nruns < b->nruns ? c->nruns : b->nruns;
	double a[n ? n : 1], bb[n ? n : 1];
	int ok[n ? n : 1];

	for (int i = 0; i < n; i++) {
		a[i] = c->runs[i].m.wall;
		bb[i] = b->runs[i].m.wall;
		ok[i] = c->runs[i].ok && b->runs[i].ok;
	}
	stats_paired(a, bb, ok, (size_t)n, vs);
}

static void
summarize_wall(struct cell *c)
{
	double wall[c->nruns ? c->nruns : 1];
	size_t k = 0;

	c->maxrss_kb = 0;
	for (int j = 0; j < c->nruns; j++) {
		if (!c->runs[j].ok)
			continue;
		wall[k++] = c->runs[j].m.wall;
		if (c->runs[j].m.maxrss_kb > c->maxrss_kb)
			c->maxrss_kb = c->runs[j].m.maxrss_kb;
	}
	stats_summarize(wall, k, &c->wall);
	c->spread = k > 0 && c->wall.min > 0 ? c->wall.max / c->wall.min : NAN;
}

void
summarize(struct results *r)
{
	for (int i = 0; i < r->ncells; i++) {
		struct cell *c = &r->cells[i];
		const struct cell *b = baseline_of(r, c);

		summarize_wall(c);
		if (b != NULL)
			cell_versus(c, b, &c->vs);
		else
			c->vs = (struct paired){ .median = NAN,
						 .min = NAN,
						 .max = NAN };
		c->ratio = c->vs.median;
		c->mb_per_s = (double)c->size / c->wall.median / 1e6;
		c->user = median_of(c, get_user);
		c->sys = median_of(c, get_sys);
		c->minflt = median_of(c, get_minflt);
		c->majflt = median_of(c, get_majflt);
		c->faults = median_of(c, get_faults);
		c->nvcsw = median_of(c, get_nvcsw);
		c->nivcsw = median_of(c, get_nivcsw);
		c->read_mb = median_of(c, get_read);
		c->waited = median_of(c, get_waited);
		c->resident = median_of(c, get_resident);
		c->reads_per_s = median_of(c, get_reads);
	}
}

/* A cell's problems: failures, runs whose cache was not as asked. */
static size_t
problems(const struct cell *c, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	if (c->failed)
		len += (size_t)snprintf(buf + len, n - len,
					"%d/%d FAILED: %s; ", c->failed,
					c->nruns, c->error);
	if (c->not_cold && len < n)
		len += (size_t)snprintf(buf + len, n - len,
					"%d NOT COLD (source cached); ",
					c->not_cold);
	if (c->not_warm && len < n)
		len += (size_t)snprintf(buf + len, n - len, "%d not warm; ",
					c->not_warm);
	return len < n ? len : n - 1;
}

/* Its notes in the wide table: the problems and the outliers. */
static void
notes(const struct cell *c, char *buf, size_t n)
{
	size_t len = problems(c, buf, n);

	if (c->wall.outliers && len < n)
		len += (size_t)snprintf(buf + len, n - len, "%zu outlier%s; ",
					c->wall.outliers,
					c->wall.outliers == 1 ? "" : "s");
	if (len >= 2 && len < n)
		buf[len - 2] = '\0';
}

/* The command column: the longest name, cut to what 80 columns leave. */
static int
name_width(const struct results *r)
{
	int w = 7;

	for (int i = 0; i < r->ncells; i++) {
		int len = (int)strlen(r->cells[i].cmd->name);

		w = len > w ? len : w;
	}
	return !r->wide && w > 15 ? 15 : w;
}

static void
print_group_header(const struct results *r, const struct cell *c, int nw)
{
	bool rr = r->workload == WORKLOAD_RANDOM_READ;
	char size[32];

	format_size(c->size, size, sizeof(size));
	if (r->workload == WORKLOAD_TREE) {
		char files[32], dirs[32];

		format_count((double)r->files, files, sizeof(files));
		format_count((double)r->dirs, dirs, sizeof(dirs));
		printf("\ntree of %s files in %s directories, %s, %s cache\n",
		       files, dirs, size, cache_name(c->cache));
	} else {
		printf("\n%s, %s cache\n", size, cache_name(c->cache));
	}
	if (r->wide && rr)
		printf("  %-*s %10s %10s %8s %6s %10s %8s %7s %7s  %s\n", nw,
		       "method", "median", "min", "vs pread", "spread",
		       "reads/s", "minflt", "majflt", "maxrss", "notes");
	else if (r->wide)
		printf("  %-*s %10s %10s %20s %6s %11s %6s %7s %7s %7s %7s "
		       "%6s %7s %7s %6s  %s\n",
		       nw, "command", "median", "min", "mean +- sd", "vs cp",
		       "range", "spread", "MB/s", "usr ms", "sys ms", "minflt",
		       "majflt", "read MB", "maxrss", "cached", "notes");
	else if (rr)
		printf("  %-*s %10s %8s %6s %10s %7s %5s %7s\n", nw, "method",
		       "median", "vs pread", "spread", "reads/s", "faults",
		       "major", "maxrss");
	else
		printf("  %-*s %10s %6s %6s %7s %6s %6s %7s %5s\n", nw,
		       "command", "median", "vs cp", "spread", "MB/s", "usr ms",
		       "sys ms", "faults", "major");
}

/* "12.34 ms" in a column: seconds, or milliseconds below one. */
static void
time_column(double t, char *buf, size_t n)
{
	if (isnan(t))
		snprintf(buf, n, "-");
	else if (t < 1)
		snprintf(buf, n, "%7.2f ms", t * 1e3);
	else
		snprintf(buf, n, "%7.2f s ", t);
}

static void
print_wide_row(const struct results *r, const struct cell *c, int nw,
	       const char *ratio)
{
	char med[32], min[32], range[32] = "-", note[512];
	double k = c->wall.median < 1 ? 1e3 : 1;

	notes(c, note, sizeof(note));
	time_column(c->wall.median, med, sizeof(med));
	time_column(c->wall.min, min, sizeof(min));
	if (!isnan(c->vs.min))
		snprintf(range, sizeof(range), "%.2f-%.2f", c->vs.min,
			 c->vs.max);
	if (r->workload == WORKLOAD_RANDOM_READ) {
		printf("  %-*s %10s %10s %8s %5.2fx %10.0f %8.0f %7.0f "
		       "%6.1fM  %s\n",
		       nw, c->cmd->name, med, min, ratio, c->spread,
		       c->reads_per_s, c->minflt, c->majflt,
		       (double)c->maxrss_kb / 1024, note);
		return;
	}
	printf("  %-*s %10s %10s %7.2f +- %6.2f %-2s %6s %11s %5.2fx %7.1f "
	       "%7.1f %7.1f %7.0f %6.0f %7.1f %6.1fM %5.1f%%  %s\n",
	       nw, c->cmd->name, med, min, c->wall.mean * k, c->wall.stddev * k,
	       k > 1 ? "ms" : "s", ratio, range, c->spread, c->mb_per_s,
	       c->user * 1e3, c->sys * 1e3, c->minflt, c->majflt, c->read_mb,
	       (double)c->maxrss_kb / 1024, 100 * c->resident, note);
}

static void
print_row(const struct results *r, const struct cell *c, int nw)
{
	char ratio[16] = "-", med[32];

	if (!isnan(c->ratio))
		snprintf(ratio, sizeof(ratio), "%.2f", c->ratio);
	if (c->wall.n == 0) {
		char note[512];

		notes(c, note, sizeof(note));
		printf("  %-*.*s %10s%s%s\n", nw, nw, c->cmd->name, "-",
		       r->wide ? "  " : "", r->wide ? note : "");
		return;
	}
	if (r->wide) {
		print_wide_row(r, c, nw, ratio);
		return;
	}
	time_column(c->wall.median, med, sizeof(med));
	if (r->workload == WORKLOAD_RANDOM_READ)
		printf("  %-*.*s %10s %8s %5.2fx %10.0f %7.0f %5.0f %6.1fM\n",
		       nw, nw, c->cmd->name, med, ratio, c->spread,
		       c->reads_per_s, c->faults, c->majflt,
		       (double)c->maxrss_kb / 1024);
	else
		printf("  %-*.*s %10s %6s %5.2fx %7.1f %6.1f %6.1f %7.0f "
		       "%5.0f\n",
		       nw, nw, c->cmd->name, med, ratio, c->spread, c->mb_per_s,
		       c->user * 1e3, c->sys * 1e3, c->faults, c->majflt);
}

/*
 * Below a group in the narrow table, what would not fit in it: each
 * command's problems on a line of their own, the outliers on one line.
 */
static void
print_group_notes(const struct results *r, int first, int end)
{
	char line[1024], note[512];
	size_t len = 0;

	for (int i = first; i < end; i++) {
		const struct cell *c = &r->cells[i];

		if (problems(c, note, sizeof(note)) < 2)
			continue;
		note[strlen(note) - 2] = '\0';
		snprintf(line, sizeof(line), "  note: %s: %s", c->cmd->name,
			 note);
		print_wrapped(line, "    ");
	}
	for (int i = first; i < end; i++) {
		const struct cell *c = &r->cells[i];

		if (c->wall.outliers == 0 || len >= sizeof(line))
			continue;
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					"%s %s %zu",
					len ? "," : "  outliers:", c->cmd->name,
					c->wall.outliers);
	}
	if (len > 0)
		print_wrapped(line, "    ");
}

static void
print_legend(const struct results *r)
{
	bool rr = r->workload == WORKLOAD_RANDOM_READ;
	char line[1024];

	snprintf(
		line, sizeof(line),
		"times are %s; \"vs %s\" is the median of run-by-run ratios%s; "
		"spread = slowest run / fastest; %s%s",
		rr ? "the reads' own, timed in the reading process"
		   : "wall clock, process start to exit",
		rr ? "pread" : "cp", r->wide ? " (range: lowest-highest)" : "",
		rr || r->wide ? ""
			      : "usr, sys: CPU time in ms; faults: page "
				"faults, major: those read from disk; ",
		r->wide ? "cached = source pages resident before each run"
			: "--wide shows every column");
	print_wrapped(line, "  ");
	if (r->wide)
		printf("  (%s), median\n", r->resident_method);
}

void
print_table(const struct results *r)
{
	const struct machine *m = &r->machine;
	int nw = name_width(r), first = 0;
	char line[1024];

	printf("mapcp-bench: %s workload, %d run%s per command (+%d warmup), "
	       "interleaved\n",
	       workload_name(r->workload), r->runs, r->runs == 1 ? "" : "s",
	       r->warmup);
	snprintf(line, sizeof(line),
		 "machine: %s, %ld CPUs, %.1f GiB, %s, %s at %s, %s", m->cpu,
		 m->cpus, m->mem_gib, m->kernel, m->fs, r->dir, m->date);
	print_wrapped(line, "  ");
	if (m->note[0]) {
		snprintf(line, sizeof(line), "warning: %s", m->note);
		print_wrapped(line, "  ");
	}
	print_legend(r);
	for (int i = 0; i < r->ncells; i++) {
		if (group_starts(r, i)) {
			if (!r->wide && i > 0)
				print_group_notes(r, first, i);
			first = i;
			print_group_header(r, &r->cells[i], nw);
		}
		print_row(r, &r->cells[i], nw);
	}
	if (!r->wide)
		print_group_notes(r, first, r->ncells);
}

static FILE *
open_out(const char *path)
{
	FILE *f = fopen(path, "we");

	if (f == NULL)
		fprintf(stderr, "mapcp-bench: cannot create '%s': %s\n", path,
			strerror(errno));
	return f;
}

static int
close_out(FILE *f, const char *path)
{
	if (ferror(f) | (fclose(f) != 0)) {
		fprintf(stderr, "mapcp-bench: error writing '%s'\n", path);
		return -EIO;
	}
	return 0;
}

/* A number for CSV and JSON: NaN becomes empty or null. */
static void
num(FILE *f, double v, const char *missing)
{
	if (isnan(v) || isinf(v))
		fputs(missing, f);
	else
		fprintf(f, "%.9g", v);
}

int
write_csv(const struct results *r, const char *path)
{
	FILE *f = open_out(path);

	if (f == NULL)
		return -errno;
	fprintf(f, "workload,size,cache,command,runs_ok,runs_failed,median_s,"
		   "min_s,mean_s,stddev_s,outliers,ratio_to_baseline,mb_per_s,"
		   "reads_per_s,user_s,sys_s,minflt,majflt,nvcsw,nivcsw,"
		   "maxrss_kb,resident_before,not_cold,not_warm,spread,"
		   "ratio_min,ratio_max,faults,read_mb\n");
	for (int i = 0; i < r->ncells; i++) {
		const struct cell *c = &r->cells[i];
		const double v[] = { c->wall.median, c->wall.min, c->wall.mean,
				     c->wall.stddev };

		fprintf(f, "%s,%jd,%s,\"%s\",%zu,%d",
			workload_name(r->workload), (intmax_t)c->size,
			cache_name(c->cache), c->cmd->name, c->wall.n,
			c->failed);
		for (size_t k = 0; k < 4; k++) {
			fputc(',', f);
			num(f, v[k], "");
		}
		fprintf(f, ",%zu,", c->wall.outliers);
		num(f, c->ratio, "");
		fputc(',', f);
		num(f, r->workload == WORKLOAD_RANDOM_READ ? NAN : c->mb_per_s,
		    "");
		fputc(',', f);
		num(f,
		    r->workload == WORKLOAD_RANDOM_READ ? c->reads_per_s : NAN,
		    "");
		const double w[] = { c->user,   c->sys,   c->minflt,
				     c->majflt, c->nvcsw, c->nivcsw };
		for (size_t k = 0; k < 6; k++) {
			fputc(',', f);
			num(f, w[k], "");
		}
		fprintf(f, ",%ld,", c->maxrss_kb);
		num(f, c->resident, "");
		fprintf(f, ",%d,%d", c->not_cold, c->not_warm);
		const double x[] = { c->spread, c->vs.min, c->vs.max, c->faults,
				     c->read_mb };
		for (size_t k = 0; k < 5; k++) {
			fputc(',', f);
			num(f, x[k], "");
		}
		fputc('\n', f);
	}
	return close_out(f, path);
}

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
json_sample(FILE *f, const struct sample *s)
{
	fprintf(f, "{\"ok\": %s, \"wall_s\": ", s->ok ? "true" : "false");
	num(f, s->m.wall, "null");
	fprintf(f,
		", \"user_s\": %.6f, \"sys_s\": %.6f, \"minflt\": %ld, "
		"\"majflt\": %ld, \"nvcsw\": %ld, \"nivcsw\": %ld, "
		"\"maxrss_kb\": %ld, \"read_blocks\": %ld, "
		"\"resident_before\": ",
		s->m.user, s->m.sys, s->m.minflt, s->m.majflt, s->m.nvcsw,
		s->m.nivcsw, s->m.maxrss_kb, s->m.inblock);
	num(f, s->resident, "null");
	fputs(", \"reads_per_s\": ", f);
	num(f, s->reads_per_s, "null");
	fputc('}', f);
}

static void
json_cell(FILE *f, const struct results *r, const struct cell *c)
{
	fprintf(f, "    {\"size\": %jd, \"cache\": \"%s\", \"command\": ",
		(intmax_t)c->size, cache_name(c->cache));
	json_string(f, c->cmd->name);
	fprintf(f, ", \"baseline\": %s, \"runs_ok\": %zu, \"runs_failed\": %d",
		c->cmd->baseline ? "true" : "false", c->wall.n, c->failed);
	fputs(", \"error\": ", f);
	if (c->failed)
		json_string(f, c->error);
	else
		fputs("null", f);
	const char *names[] = { "median_s",
				"min_s",
				"mean_s",
				"stddev_s",
				"ratio_to_baseline",
				"ratio_min",
				"ratio_max",
				"spread",
				"mb_per_s",
				"reads_per_s",
				"user_s",
				"sys_s",
				"faults",
				"read_mb" };
	const double v[] = {
		c->wall.median,
		c->wall.min,
		c->wall.mean,
		c->wall.stddev,
		c->ratio,
		c->vs.min,
		c->vs.max,
		c->spread,
		r->workload == WORKLOAD_RANDOM_READ ? NAN : c->mb_per_s,
		r->workload == WORKLOAD_RANDOM_READ ? c->reads_per_s : NAN,
		c->user,
		c->sys,
		c->faults,
		c->read_mb,
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		fprintf(f, ", \"%s\": ", names[k]);
		num(f, v[k], "null");
	}
	fprintf(f,
		", \"rounds\": %zu, \"rounds_faster\": %zu, \"outliers\": %zu, "
		"\"maxrss_kb\": %ld, \"not_cold\": %d, \"not_warm\": %d, "
		"\"samples\": [",
		c->vs.n, c->vs.below, c->wall.outliers, c->maxrss_kb,
		c->not_cold, c->not_warm);
	for (int j = 0; j < c->nruns; j++) {
		if (j)
			fputs(", ", f);
		json_sample(f, &c->runs[j]);
	}
	fputs("]}", f);
}

int
write_json(const struct results *r, const char *path)
{
	const struct machine *m = &r->machine;
	FILE *f = open_out(path);

	if (f == NULL)
		return -errno;
	fprintf(f, "{\n  \"workload\": \"%s\", \"runs\": %d, \"warmup\": %d,\n",
		workload_name(r->workload), r->runs, r->warmup);
	fputs("  \"machine\": {\"cpu\": ", f);
	json_string(f, m->cpu);
	fprintf(f,
		", \"cpus\": %ld, \"memory_gib\": %.1f, \"kernel\": ", m->cpus,
		m->mem_gib);
	json_string(f, m->kernel);
	fputs(", \"filesystem\": ", f);
	json_string(f, m->fs);
	fputs(", \"date\": ", f);
	json_string(f, m->date);
	fputs(", \"note\": ", f);
	json_string(f, m->note);
	fputs(", \"load_max\": ", f);
	num(f, r->load < 0 ? NAN : r->load, "null");
	fputs("},\n", f);
	if (r->workload == WORKLOAD_TREE)
		fprintf(f,
			"  \"tree\": {\"files\": %ld, \"directories\": %ld},\n",
			r->files, r->dirs);
	fputs("  \"results\": [\n", f);
	for (int i = 0; i < r->ncells; i++) {
		json_cell(f, r, &r->cells[i]);
		fputs(i + 1 < r->ncells ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
	return close_out(f, path);
}

int
write_markdown(const struct results *r, const char *path)
{
	const struct machine *m = &r->machine;
	bool rr = r->workload == WORKLOAD_RANDOM_READ;
	FILE *f = open_out(path);

	if (f == NULL)
		return -errno;
	fprintf(f,
		"%s workload, %d runs per command (+%d warmup), interleaved; "
		"%s, %ld CPUs, %.1f GiB, %s, %s, %s.\n",
		workload_name(r->workload), r->runs, r->warmup, m->cpu, m->cpus,
		m->mem_gib, m->kernel, m->fs, m->date);
	if (m->note[0])
		fprintf(f, "\nNote: %s.\n", m->note);
	for (int i = 0; i < r->ncells; i++) {
		const struct cell *c = &r->cells[i];
		char size[32], note[512], ratio[16] = "-", med[32], min[32];

		if (group_starts(r, i)) {
			format_size(c->size, size, sizeof(size));
			fprintf(f, "\n**%s%s, %s cache**\n\n", size,
				r->workload == WORKLOAD_TREE ? " tree" : "",
				cache_name(c->cache));
			fprintf(f,
				"| %s | median | min | vs %s | spread | %s | "
				"maxrss | notes |\n"
				"|---|---|---|---|---|---|---|---|\n",
				rr ? "method" : "command", rr ? "pread" : "cp",
				rr ? "reads/s" : "MB/s");
		}
		notes(c, note, sizeof(note));
		if (!isnan(c->ratio))
			snprintf(ratio, sizeof(ratio), "%.2f", c->ratio);
		format_time(c->wall.median, med, sizeof(med));
		format_time(c->wall.min, min, sizeof(min));
		fprintf(f,
			"| %s | %s | %s | %s | %.2f | %.0f | %.1f MiB | %s |\n",
			c->cmd->name, med, min, ratio, c->spread,
			rr ? c->reads_per_s : c->mb_per_s,
			(double)c->maxrss_kb / 1024, note);
	}
	return close_out(f, path);
}
