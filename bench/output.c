/*
 * mapcp-bench's results: the summary of each cell, then an aligned table on
 * stdout and, on request, CSV, JSON, Markdown and a gnuplot chart (PNG or
 * SVG, by the file's extension).
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

void
format_size(off_t size, char *buf, size_t n)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (size >= 1024 && size % 1024 == 0 && u < 3) {
		size /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, n, "%jd B", (intmax_t)size);
	else
		snprintf(buf, n, "%jd %ciB", (intmax_t)size, units[u]);
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
get_resident(const struct sample *s)
{
	return s->resident;
}
static double
get_reads(const struct sample *s)
{
	return s->reads_per_s;
}

static const struct cell *
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

/* Paired ratio of c's wall times to the baseline's, run by run. */
static double
ratio_to(const struct cell *c, const struct cell *b)
{
	int n = c->nruns < b->nruns ? c->nruns : b->nruns;
	double a[n ? n : 1], bb[n ? n : 1];
	int ok[n ? n : 1];

	for (int i = 0; i < n; i++) {
		a[i] = c->runs[i].m.wall;
		bb[i] = b->runs[i].m.wall;
		ok[i] = c->runs[i].ok && b->runs[i].ok;
	}
	return stats_paired_ratio(a, bb, ok, (size_t)n);
}

void
summarize(struct results *r)
{
	for (int i = 0; i < r->ncells; i++) {
		struct cell *c = &r->cells[i];
		const struct cell *b = baseline_of(r, c);
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
		c->ratio = b != NULL ? ratio_to(c, b) : NAN;
		c->mb_per_s = (double)c->size / c->wall.median / 1e6;
		c->user = median_of(c, get_user);
		c->sys = median_of(c, get_sys);
		c->minflt = median_of(c, get_minflt);
		c->majflt = median_of(c, get_majflt);
		c->nvcsw = median_of(c, get_nvcsw);
		c->nivcsw = median_of(c, get_nivcsw);
		c->resident = median_of(c, get_resident);
		c->reads_per_s = median_of(c, get_reads);
	}
}

/* A cell's notes: failures, outliers, runs whose cache was not as asked. */
static void
notes(const struct cell *c, char *buf, size_t n)
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
	if (c->wall.outliers && len < n)
		len += (size_t)snprintf(buf + len, n - len, "%zu outlier%s; ",
					c->wall.outliers,
					c->wall.outliers == 1 ? "" : "s");
	if (len >= 2 && len < n)
		buf[len - 2] = '\0';
}

static void
print_group_header(const struct results *r, const struct cell *c)
{
	char size[32];

	format_size(c->size, size, sizeof(size));
	printf("\n%s%s, %s cache\n", size,
	       r->workload == WORKLOAD_TREE ? " tree" : "",
	       cache_name(c->cache));
	if (r->workload == WORKLOAD_RANDOM_READ)
		printf("  %-16s %10s %10s %8s %10s %8s %7s %7s  %s\n", "method",
		       "median", "min", "vs pread", "reads/s", "minflt",
		       "majflt", "maxrss", "notes");
	else
		printf("  %-16s %10s %10s %19s %6s %7s %6s %6s %7s %6s %7s %6s "
		       " "
		       "%s\n",
		       "command", "median", "min", "mean +- sd", "vs cp",
		       "MB/s", "user", "sys", "minflt", "majflt", "maxrss",
		       "cached", "notes");
}

/* Times in the unit that suits the median: seconds, or milliseconds. */
static const char *
time_unit(double median, double *scale)
{
	*scale = median < 1 ? 1e3 : 1;
	return median < 1 ? "ms" : "s";
}

static void
print_row(const struct results *r, const struct cell *c)
{
	char ratio[16] = "-", note[512];
	const char *u;
	double k;

	notes(c, note, sizeof(note));
	if (!isnan(c->ratio))
		snprintf(ratio, sizeof(ratio), "%.2f", c->ratio);
	if (c->wall.n == 0) {
		printf("  %-16s %10s  %s\n", c->cmd->name, "-", note);
		return;
	}
	u = time_unit(c->wall.median, &k);
	if (r->workload == WORKLOAD_RANDOM_READ) {
		printf("  %-16s %7.2f %-2s %7.2f %-2s %8s %10.0f %8.0f %7.0f "
		       "%6.1fM  %s\n",
		       c->cmd->name, c->wall.median * k, u, c->wall.min * k, u,
		       ratio, c->reads_per_s, c->minflt, c->majflt,
		       (double)c->maxrss_kb / 1024, note);
		return;
	}
	printf("  %-16s %7.2f %-2s %7.2f %-2s %7.2f +- %6.2f %-2s %6s %7.1f "
	       "%6.2f %6.2f %7.0f %6.0f %6.1fM %5.1f%%  %s\n",
	       c->cmd->name, c->wall.median * k, u, c->wall.min * k, u,
	       c->wall.mean * k, c->wall.stddev * k, u, ratio, c->mb_per_s,
	       c->user, c->sys, c->minflt, c->majflt,
	       (double)c->maxrss_kb / 1024, 100 * c->resident, note);
}

void
print_table(const struct results *r)
{
	const struct machine *m = &r->machine;

	printf("mapcp-bench: %s workload, %d run%s per command (+%d warmup), "
	       "interleaved\n",
	       workload_name(r->workload), r->runs, r->runs == 1 ? "" : "s",
	       r->warmup);
	printf("machine: %s, %ld CPUs, %.1f GiB, %s, %s at %s, %s\n", m->cpu,
	       m->cpus, m->mem_gib, m->kernel, m->fs, r->dir, m->date);
	if (m->note[0])
		printf("warning: %s\n", m->note);
	printf("times are %s; \"vs %s\" is the median of run-by-run ratios;\n"
	       "cached = source pages resident before each run (%s), median\n",
	       r->workload == WORKLOAD_RANDOM_READ
		       ? "the reads' own, timed in the reading process"
		       : "wall clock, process start to exit",
	       r->workload == WORKLOAD_RANDOM_READ ? "pread" : "cp",
	       r->resident_method);
	for (int i = 0; i < r->ncells; i++) {
		const struct cell *c = &r->cells[i];

		if (i == 0 || c->size != r->cells[i - 1].size ||
		    c->cache != r->cells[i - 1].cache)
			print_group_header(r, c);
		print_row(r, c);
	}
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
		   "maxrss_kb,resident_before,not_cold,not_warm\n");
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
		fprintf(f, ",%d,%d\n", c->not_cold, c->not_warm);
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
		"\"maxrss_kb\": %ld, \"resident_before\": ",
		s->m.user, s->m.sys, s->m.minflt, s->m.majflt, s->m.nvcsw,
		s->m.nivcsw, s->m.maxrss_kb);
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
	const char *names[] = {
		"median_s",          "min_s",    "mean_s",     "stddev_s",
		"ratio_to_baseline", "mb_per_s", "reads_per_s"
	};
	const double v[] = {
		c->wall.median,
		c->wall.min,
		c->wall.mean,
		c->wall.stddev,
		c->ratio,
		r->workload == WORKLOAD_RANDOM_READ ? NAN : c->mb_per_s,
		r->workload == WORKLOAD_RANDOM_READ ? c->reads_per_s : NAN
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		fprintf(f, ", \"%s\": ", names[k]);
		num(f, v[k], "null");
	}
	fprintf(f,
		", \"outliers\": %zu, \"maxrss_kb\": %ld, \"not_cold\": %d, "
		"\"not_warm\": %d, \"samples\": [",
		c->wall.outliers, c->maxrss_kb, c->not_cold, c->not_warm);
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
	fputs("},\n  \"results\": [\n", f);
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
		char size[32], note[512], ratio[16] = "-";

		if (i == 0 || c->size != r->cells[i - 1].size ||
		    c->cache != r->cells[i - 1].cache) {
			format_size(c->size, size, sizeof(size));
			fprintf(f, "\n**%s, %s cache**\n\n", size,
				cache_name(c->cache));
			fprintf(f,
				"| %s | median | min | vs %s | %s | maxrss | "
				"notes |\n|---|---|---|---|---|---|---|\n",
				rr ? "method" : "command", rr ? "pread" : "cp",
				rr ? "reads/s" : "MB/s");
		}
		notes(c, note, sizeof(note));
		if (!isnan(c->ratio))
			snprintf(ratio, sizeof(ratio), "%.2f", c->ratio);
		double k;
		const char *u = time_unit(c->wall.median, &k);

		fprintf(f,
			"| %s | %.2f %s | %.2f %s | %s | %.0f | %.1f MiB | %s "
			"|\n",
			c->cmd->name, c->wall.median * k, u, c->wall.min * k, u,
			ratio, rr ? c->reads_per_s : c->mb_per_s,
			(double)c->maxrss_kb / 1024, note);
	}
	return close_out(f, path);
}

/* One gnuplot data block: a row per size, a column per command. */
static void
plot_block(FILE *g, const struct results *r, enum cache_state cache)
{
	fprintf(g, "$%s << EOD\nsize", cache_name(cache));
	for (int i = 0; i < r->ncells; i++)
		if (r->cells[i].size == r->cells[0].size &&
		    r->cells[i].cache == r->cells[0].cache)
			fprintf(g, " \"%s\"", r->cells[i].cmd->name);
	for (int i = 0; i < r->ncells; i++) {
		const struct cell *c = &r->cells[i];
		char size[32];

		if (c->cache != cache)
			continue;
		if (i == 0 || c->size != r->cells[i - 1].size ||
		    c->cache != r->cells[i - 1].cache) {
			format_size(c->size, size, sizeof(size));
			fprintf(g, "\n\"%s\"", size);
		}
		if (c->wall.n == 0)
			fputs(" ?", g);
		else
			fprintf(g, " %.6g",
				r->workload == WORKLOAD_RANDOM_READ
					? c->reads_per_s
					: c->mb_per_s);
	}
	fputs("\nEOD\n", g);
}

int
write_plot(const struct results *r, const char *path)
{
	const char *ext = strrchr(path, '.');
	bool svg = ext != NULL && strcmp(ext, ".svg") == 0;
	bool has[2] = { false, false };
	char script[] = "/tmp/mapcp-bench-plot-XXXXXX", err[256] = "";
	char *argv[] = { "gnuplot", script, NULL };
	struct measure m;
	int ncmd = 0, fd, ret;
	FILE *g;

	for (int i = 0; i < r->ncells; i++) {
		has[r->cells[i].cache] = true;
		if (r->cells[i].size == r->cells[0].size &&
		    r->cells[i].cache == r->cells[0].cache)
			ncmd++;
	}
	fd = mkstemp(script);
	if (fd < 0 || (g = fdopen(fd, "w")) == NULL) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return ret;
	}
	fprintf(g, "set terminal %s size 1400,560 font 'sans,10'\n",
		svg ? "svg dynamic" : "pngcairo");
	fputs("set output '", g);
	for (const char *p = path; *p; p++)
		fputs(*p == '\'' ? "''" : (char[]){ *p, 0 }, g);
	fputs("'\nset termoption noenhanced\nset datafile missing '?'\n", g);
	/* cp, the baseline, first and grey; then colours that stay apart. */
	fputs("set linetype 1 lc rgb '#7f7f7f'\n"
	      "set linetype 2 lc rgb '#1f77b4'\nset linetype 3 lc rgb "
	      "'#ff7f0e'\n"
	      "set linetype 4 lc rgb '#2ca02c'\nset linetype 5 lc rgb "
	      "'#d62728'\n"
	      "set linetype 6 lc rgb '#9467bd'\nset linetype 7 lc rgb "
	      "'#8c564b'\n"
	      "set linetype 8 lc rgb '#e377c2'\nset linetype 9 lc rgb "
	      "'#bcbd22'\n"
	      "set linetype 10 lc rgb '#17becf'\nset linetype 11 lc rgb "
	      "'#000000'\n"
	      "set linetype 12 lc rgb '#aec7e8'\nset linetype cycle 12\n",
	      g);
	for (int c = 0; c < 2; c++)
		if (has[c])
			plot_block(g, r, (enum cache_state)c);
	fprintf(g,
		"set multiplot layout 1,%d title \"mapcp-bench %s: %s (higher "
		"is "
		"better) - %s, %s, %s\"\n"
		"set style data histograms\n"
		"set style histogram clustered gap 1\n"
		"set style fill solid 0.85 border -1\n"
		"set logscale y\nset grid ytics\nset yrange [*:*]\n"
		"set ylabel '%s'\nset key top left font ',9'\n"
		"set xlabel 'file size'\n",
		has[0] + has[1], workload_name(r->workload),
		r->workload == WORKLOAD_RANDOM_READ
			? "random 4 KiB reads per second"
			: "throughput",
		r->machine.cpu, r->machine.kernel, r->machine.fs,
		r->workload == WORKLOAD_RANDOM_READ ? "reads/s" : "MB/s");
	for (int c = 0; c < 2; c++)
		if (has[c])
			fprintf(g,
				"set title '%s cache'\n"
				"plot for [i=2:%d] $%s using i:xtic(1) "
				"title columnheader(i)\n",
				cache_name((enum cache_state)c), ncmd + 1,
				cache_name((enum cache_state)c));
	fputs("unset multiplot\n", g);
	ret = fclose(g) == 0 ? 0 : -EIO;
	if (ret == 0)
		ret = run_measured(argv, NULL, 0, err, sizeof(err), &m);
	unlink(script);
	if (ret < 0 || m.status != 0) {
		fprintf(stderr, "mapcp-bench: gnuplot failed on '%s'%s%s\n",
			path, err[0] ? ": " : "", err);
		return -EIO;
	}
	return 0;
}
