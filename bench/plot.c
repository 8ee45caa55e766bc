/*
 * mapcp-bench's charts, drawn by gnuplot (PNG or SVG by the extension):
 * throughput per command by size on a log scale, and beside it
 * (FILE-ratio.EXT) each command's time relative to the baseline on a
 * linear one, with the range of its run-by-run ratios. The script goes to
 * a mkstemp(3) file that gnuplot runs as a measured child (runner.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/*
 * A colour per command, the same in both charts: the engines that map a
 * file in reds, those that read and write in blues and greens, cp grey,
 * auto black, and the rest from a cycle. At a glance, red against blue is
 * the exercise's question: mmap or read/write.
 */
static const char *
colour_of(const char *name, int index)
{
	static const struct {
		const char *name, *rgb;
	} known[] = {
		{ "cp", "#7f7f7f" },
		{ "rw", "#1f77b4" },
		{ "copy_file_range", "#17becf" },
		{ "sendfile", "#2ca02c" },
		{ "splice", "#98df8a" },
		{ "io_uring", "#9467bd" },
		{ "mmap", "#d62728" },
		{ "mmap_cp", "#ff9896" },
		{ "mmap-write", "#ff7f0e" },
		{ "reflink", "#8c564b" },
		{ "auto", "#000000" },
		{ "rsync", "#c7c7c7" },
		{ "uutils", "#c49c94" },
		{ "pread", "#1f77b4" },
	};
	static const char *cycle[] = { "#bcbd22", "#e377c2", "#aec7e8",
				       "#dbdb8d", "#f7b6d2", "#9edae5" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].name, name) == 0)
			return known[i].rgb;
	return cycle[index % (int)(sizeof(cycle) / sizeof(cycle[0]))];
}

/* Commands per group: every group holds every command, in one order. */
static int
commands(const struct results *r)
{
	int n = 1;

	if (r->ncells == 0)
		return 0;
	while (n < r->ncells && !group_starts(r, n))
		n++;
	return n;
}

/* s in a gnuplot string between single quotes, where ' is written ''. */
static void
quoted(FILE *g, const char *s)
{
	fputc('\'', g);
	for (; *s; s++)
		if (*s == '\'')
			fputs("''", g);
		else
			fputc(*s, g);
	fputc('\'', g);
}

/* A name in a data block, between double quotes: none inside. */
static void
data_name(FILE *g, const char *s)
{
	fputc('"', g);
	for (; *s; s++)
		fputc(*s == '"' || *s == '\n' ? '\'' : *s, g);
	fputc('"', g);
}

/* The script's start: terminal, output, and a line type per command. */
static void
plot_start(FILE *g, const struct results *r, const char *path)
{
	const char *ext = strrchr(path, '.');
	bool svg = ext != NULL && strcmp(ext, ".svg") == 0;
	int ncmd = commands(r);

	fprintf(g, "set terminal %s size 1400,560 font 'sans,10'\n",
		svg ? "svg dynamic" : "pngcairo");
	fputs("set output ", g);
	quoted(g, path);
	fputs("\nset termoption noenhanced\nset datafile missing '?'\n", g);
	for (int i = 0; i < ncmd; i++)
		fprintf(g, "set linetype %d lc rgb '%s'\n", i + 1,
			colour_of(r->cells[i].cmd->name, i));
	fprintf(g, "set linetype cycle %d\n", ncmd > 0 ? ncmd : 1);
}

/* Run gnuplot on script; 0, or -EIO said on stderr. */
static int
run_gnuplot(char *script, const char *path)
{
	char *argv[] = { "gnuplot", script, NULL }, err[256] = "";
	struct measure m;
	int ret = run_measured(argv, NULL, 0, err, sizeof(err), &m);

	unlink(script);
	if (ret < 0 || m.status != 0) {
		fprintf(stderr, "mapcp-bench: gnuplot failed on '%s'%s%s\n",
			path, err[0] ? ": " : "", err);
		return -EIO;
	}
	return 0;
}

/* A new script file; NULL with errno set. */
static FILE *
open_script(char *script)
{
	int fd = mkstemp(script);
	FILE *g;

	if (fd < 0)
		return NULL;
	g = fdopen(fd, "w");
	if (g == NULL) {
		int e = errno;

		close(fd);
		unlink(script);
		errno = e;
	}
	return g;
}

static bool
has_cache(const struct results *r, enum cache_state cache)
{
	for (int i = 0; i < r->ncells; i++)
		if (r->cells[i].cache == cache)
			return true;
	return false;
}

/* One gnuplot data block: a row per size, a column per command. */
static void
throughput_block(FILE *g, const struct results *r, enum cache_state cache)
{
	int ncmd = commands(r);

	fprintf(g, "$%s << EOD\nsize", cache_name(cache));
	for (int i = 0; i < ncmd; i++) {
		fputc(' ', g);
		data_name(g, r->cells[i].cmd->name);
	}
	for (int i = 0; i < r->ncells; i++) {
		const struct cell *c = &r->cells[i];
		char size[32];

		if (c->cache != cache)
			continue;
		if (group_starts(r, i)) {
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

static void
throughput_script(FILE *g, const struct results *r, const char *path)
{
	bool rr = r->workload == WORKLOAD_RANDOM_READ;
	bool has[2] = { has_cache(r, CACHE_COLD), has_cache(r, CACHE_WARM) };

	plot_start(g, r, path);
	for (int c = 0; c < 2; c++)
		if (has[c])
			throughput_block(g, r, (enum cache_state)c);
	fprintf(g,
		"set multiplot layout 1,%d title \"mapcp-bench %s: %s (higher "
		"is better) - %s, %s, %s\"\n"
		"set style data histograms\n"
		"set style histogram clustered gap 1\n"
		"set style fill solid 0.85 border -1\n"
		"set logscale y\nset grid ytics\nset yrange [*:*]\n"
		"set ylabel '%s'\nset key top left reverse Left width 4 "
		"font ',9'\n"
		"set xlabel 'file size'\n",
		has[0] + has[1], workload_name(r->workload),
		rr ? "random 4 KiB reads per second" : "throughput",
		r->machine.cpu, r->machine.kernel, r->machine.fs,
		rr ? "reads/s" : "MB/s");
	for (int c = 0; c < 2; c++)
		if (has[c])
			fprintf(g,
				"set title '%s cache'\n"
				"plot for [i=2:%d] $%s using i:xtic(1) "
				"title columnheader(i)\n",
				cache_name((enum cache_state)c),
				commands(r) + 1,
				cache_name((enum cache_state)c));
	fputs("unset multiplot\n", g);
}

/*
 * The ratio chart's top. Linear, so that 0.8 and 1.25 look as far apart
 * as they are; but rsync at 30 times cp would flatten every engine, so the
 * axis stops at twice the typical ratio (at least 2) and a bar cut there
 * is labelled with its value.
 */
static double
ratio_top(const struct results *r)
{
	double med[r->ncells > 0 ? r->ncells : 1], high = 1, typical;
	size_t n = 0;

	for (int i = 0; i < r->ncells; i++) {
		const struct cell *c = &r->cells[i];

		if (c->cmd->baseline || isnan(c->ratio))
			continue;
		med[n++] = c->ratio;
		high = c->vs.max > high ? c->vs.max : high;
	}
	typical = n > 0 ? stats_median(med, n) : 1;
	typical = 2 * typical > 2 ? 2 * typical : 2;
	if (high * 1.1 < typical)
		return high * 1.1;
	return ceil(typical * 2) / 2;
}

/*
 * The ratio chart's bars, in families: those that read and write first,
 * then those that map, then auto, then everything else, each family in
 * the table's order; so that mmap against read/write is left against
 * right, blue against red.
 */
static int
family(const char *name)
{
	static const char *order[] = {
		"rw",       "pread",   "copy_file_range", "sendfile", "splice",
		"io_uring", "reflink", "mmap-write",      "mmap",     "mmap_cp",
		"auto"
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (strcmp(order[i], name) == 0)
			return (int)i;
	return (int)(sizeof(order) / sizeof(order[0]));
}

/* The commands other than the baseline, by family: indices into a group. */
static int
bar_order(const struct results *r, int *bars)
{
	int ncmd = commands(r), n = 0;

	for (int f = 0; f <= family(""); f++)
		for (int j = 0; j < ncmd; j++)
			if (!r->cells[j].cmd->baseline &&
			    family(r->cells[j].cmd->name) == f)
				bars[n++] = j;
	return n;
}

/*
 * The ratio chart's data for one cache state: a block per bar (two blank
 * lines apart, for "index"): x, the bar's height, the whisker's ends, the
 * median as text and where it goes above the whisker, or, for a bar cut at
 * the top, inside it.
 */
static void
ratio_block(FILE *g, const struct results *r, enum cache_state cache,
	    double top)
{
	int ncmd = commands(r), bars[ncmd > 0 ? ncmd : 1];
	int nbars = bar_order(r, bars);
	double width = 0.8 / (nbars > 0 ? nbars : 1);

	fprintf(g, "$ratio_%s << EOD\n", cache_name(cache));
	for (int k = 0; k < nbars; k++) {
		int group = -1;

		for (int i = bars[k]; i < r->ncells; i += ncmd) {
			const struct cell *c = &r->cells[i];
			double x, hi;

			if (c->cache != cache)
				continue;
			x = ++group + (k - (nbars - 1) / 2.0) * width;
			if (isnan(c->ratio)) {
				fprintf(g, "%.4f ? ? ? \"\" ? ?\n", x);
				continue;
			}
			hi = c->vs.max < top ? c->vs.max : top;
			fprintf(g, "%.4f %.4f %.4f %.4f \"%.2f\" ", x,
				c->ratio < top ? c->ratio : top, c->vs.min, hi,
				c->ratio);
			/* Above the whisker where there is room, else inside.
			 */
			if (hi + top / 60 < top * 0.92)
				fprintf(g, "%.4f ?\n", hi + top / 60);
			else
				fprintf(g, "? %.4f\n", top - top / 60);
		}
		fputs("\n\n", g);
	}
	fputs("EOD\n", g);
}

/* The x axis: a tic per size of this cache state. */
static void
ratio_tics(FILE *g, const struct results *r, enum cache_state cache)
{
	int group = 0;

	fputs("set xtics (", g);
	for (int i = 0; i < r->ncells; i++) {
		char size[32], label[96];

		if (r->cells[i].cache != cache || !group_starts(r, i))
			continue;
		format_size(r->cells[i].size, size, sizeof(size));
		if (r->workload == WORKLOAD_TREE)
			snprintf(label, sizeof(label), "tree, %ld files, %s",
				 r->files, size);
		else
			snprintf(label, sizeof(label), "%s", size);
		fprintf(g, "%s", group ? ", " : "");
		quoted(g, label);
		fprintf(g, " %d", group++);
	}
	fprintf(g, ")\nset xrange [-0.5:%d.5]\n", group - 1);
}

static void
ratio_panel(FILE *g, const struct results *r, enum cache_state cache,
	    const char *base)
{
	int ncmd = commands(r), bars[ncmd > 0 ? ncmd : 1];
	int nbars = bar_order(r, bars);
	double width = 0.8 / (nbars > 0 ? nbars : 1);
	const char *name = cache_name(cache);

	ratio_tics(g, r, cache);
	fprintf(g, "set title '%s cache'\nplot ", name);
	/*
	 * Every bar first, then the whiskers and the labels, in the key's
	 * font: in another, gnuplot cuts the key's titles short.
	 */
	for (int k = 0; k < nbars; k++) {
		fprintf(g,
			"$ratio_%s index %d using 1:2:(%.4f) with boxes lt %d "
			"title ",
			name, k, width * 0.9, bars[k] + 1);
		quoted(g, r->cells[bars[k]].cmd->name);
		fputs(", ", g);
	}
	for (int k = 0; k < nbars; k++)
		fprintf(g,
			"$ratio_%s index %d using 1:3:(0):($4-$3) with "
			"vectors heads size screen 0.003,90 lc rgb '#303030' "
			"notitle"
			", $ratio_%s index %d using 1:6:5 with labels "
			"rotate by 90 left font ',8' notitle"
			", $ratio_%s index %d using 1:7:5 with labels "
			"rotate by 90 right font ',8' notitle, ",
			name, k, name, k, name, k);
	/* The baseline as a line at 1, drawn last, over the bars. */
	fprintf(g, "1 with lines lc rgb '#7f7f7f' lw 2 dt 2 title '%s = 1'\n",
		base);
}

static void
ratio_script(FILE *g, const struct results *r, const char *path)
{
	const char *base = r->workload == WORKLOAD_RANDOM_READ ? "pread" : "cp";
	bool has[2] = { has_cache(r, CACHE_COLD), has_cache(r, CACHE_WARM) };
	double top = ratio_top(r);

	plot_start(g, r, path);
	for (int c = 0; c < 2; c++)
		if (has[c])
			ratio_block(g, r, (enum cache_state)c, top);
	/* The key below the panels: inside, bars cut at the top cover it. */
	fprintf(g,
		"set multiplot layout 1,%d title \"mapcp-bench %s: time "
		"relative to %s (lower is faster; bar: median of run-by-run "
		"ratios, whisker: lowest to highest) - %s, %s, %s\"\n"
		"set style fill solid 0.85 border -1\n"
		"set grid ytics\nset yrange [0:%.4f]\n"
		"set ylabel \"time / %s's time\"\n"
		"set key below center horizontal reverse Left font ',8'\n"
		"set xlabel '%s'\n",
		has[0] + has[1], workload_name(r->workload), base,
		r->machine.cpu, r->machine.kernel, r->machine.fs, top, base,
		r->workload == WORKLOAD_TREE ? "tree" : "file size");
	for (int c = 0; c < 2; c++)
		if (has[c])
			ratio_panel(g, r, (enum cache_state)c, base);
	fputs("unset multiplot\n", g);
}

char *
ratio_plot_path(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	size_t stem, n = strlen(path) + 8;
	char *out = malloc(n);

	if (out == NULL)
		return NULL;
	if (dot == NULL || (slash != NULL && dot < slash) || dot == path ||
	    dot[-1] == '/')
		dot = path + strlen(path);
	stem = (size_t)(dot - path);
	snprintf(out, n, "%.*s-ratio%s", (int)stem, path, dot);
	return out;
}

/* One chart: its script written by script(), then drawn. */
static int
draw(const struct results *r, const char *path,
     void (*script)(FILE *, const struct results *, const char *))
{
	char name[] = "/tmp/mapcp-bench-plot-XXXXXX";
	FILE *g = open_script(name);

	if (g == NULL)
		return -errno;
	script(g, r, path);
	if (fclose(g) != 0) {
		unlink(name);
		return -EIO;
	}
	return run_gnuplot(name, path);
}

int
write_plot(const struct results *r, const char *path)
{
	char *ratio = ratio_plot_path(path);
	int ret = draw(r, path, throughput_script);

	if (ratio == NULL)
		return -ENOMEM;
	/* Without a baseline (no cp measured) there is no ratio to draw. */
	if (ret == 0 && baseline_of(r, &r->cells[0]) != NULL)
		ret = draw(r, ratio, ratio_script);
	free(ratio);
	return ret;
}
