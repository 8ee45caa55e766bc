/*
 * mapcp-bench: measures copy strategies side by side on this machine.
 * Every measured run is a child process timed with wait4 (runner.c);
 * commands take turns run by run so that drift hits them all alike; every
 * copy is verified with xxh3-128; cold runs are checked to be cold. See
 * mapcp-bench(1) and DESIGN.md "Benchmarks".
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cache.h"
#include "data.h"
#include "mapcp.h"

/* A source read in should be this resident; an evicted one at most this. */
#define WARM_ENOUGH 0.95
#define COLD_ENOUGH 0.02

struct options {
	enum workload workload;
	char *sizes;
	char *engines;
	char **cmds;
	int ncmds;
	bool cold, warm;
	int runs, warmup;
	const char *dir;
	const char *source;
	const char *tree;
	long reads;
	const char *csv, *json, *markdown, *plot;
	const char *mapcp;
	bool quiet;
	bool wide;
};

/* Everything being measured, in the order it runs. */
struct plan {
	struct options *o;
	struct command *cmds;
	int ncmds;
	off_t *sizes;
	char **sources; /* one per size */
	XXH128_hash_t *digests;
	int nsizes;
	char dst[PATH_MAX];
	char self[PATH_MAX];
	char mmap_cp[PATH_MAX];
	char mapcp[PATH_MAX];
	long done, total; /* runs, for progress */
	long trashed;     /* trees moved aside by clear_dst() */
	long files, dirs; /* in the tree, for its heading */
	double load;      /* the highest load average seen, -1 if none */
};

static void __attribute__((noreturn)) die(const char *fmt, const char *arg)
{
	fprintf(stderr, "mapcp-bench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		die("%s", "out of memory");
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		die("%s", "out of memory");
	return p;
}

/* clang-format off */
static void
usage(void)
{
	printf("Usage: mapcp-bench [OPTION]...\n"
	       "Measure mapcp's engines against GNU cp on this machine: interleaved\n"
	       "runs, cold and warm page cache, every copy verified.\n"
	       "\n"
	       "  --workload=copy|tree|random-read   what to measure (default copy)\n"
	       "  --sizes=LIST      file sizes (copy: 4K,1M,64M,1G; random-read: 64M,1G)\n"
	       "  --engines=LIST    mapcp engines, auto, mmap_cp, cp, rsync and uutils\n"
	       "                    (default: every engine that works here, cp, and\n"
	       "                    rsync and uutils' cp where installed)\n"
	       "  --cmd='NAME=COMMAND {src} {dst}'   measure another copier too\n"
	       "  --cache=cold|warm|both             (default both)\n"
	       "  --runs=N          measured runs per command and cell (default 7)\n"
	       "  --warmup=N        unmeasured runs first (default 1)\n"
	       "  --dir=PATH        where test data and copies go (default ./bench-data)\n"
	       "  --source=FILE     copy this file instead of generated data\n"
	       "  --tree=PATH       tree workload: copy this tree (default: 10,000\n"
	       "                    generated files in 100 directories)\n"
	       "  --reads=N         random-read: reads per run (default 20000)\n"
	       "  --csv=FILE --json=FILE --markdown=FILE   write the results there\n"
	       "  --plot=FILE       gnuplot charts, FILE.png or FILE.svg: throughput,\n"
	       "                    and the ratio to cp in FILE-ratio.png (or .svg)\n"
	       "  --wide            every column in the tables, not just what fits 80\n"
	       "  --mapcp=PATH      the mapcp to measure (default: next to mapcp-bench)\n"
	       "  -q, --quiet       no progress on stderr\n"
	       "  -h, --help        display this help and exit\n"
	       "      --version     output version information and exit\n");
}
/* clang-format on */

enum {
	OPT_CACHE = 256,
	OPT_CMD,
	OPT_CSV,
	OPT_DIR,
	OPT_ENGINES,
	OPT_JSON,
	OPT_MAPCP,
	OPT_MARKDOWN,
	OPT_PLOT,
	OPT_RANDOM_READ_CHILD,
	OPT_READS,
	OPT_RUNS,
	OPT_SIZES,
	OPT_SOURCE,
	OPT_TREE,
	OPT_VERSION,
	OPT_WARMUP,
	OPT_WIDE,
	OPT_WORKLOAD,
};

static const struct option long_options[] = {
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "cmd", required_argument, NULL, OPT_CMD },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "engines", required_argument, NULL, OPT_ENGINES },
	{ "help", no_argument, NULL, 'h' },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "mapcp", required_argument, NULL, OPT_MAPCP },
	{ "markdown", required_argument, NULL, OPT_MARKDOWN },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "random-read-child", required_argument, NULL, OPT_RANDOM_READ_CHILD },
	{ "reads", required_argument, NULL, OPT_READS },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "sizes", required_argument, NULL, OPT_SIZES },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "tree", required_argument, NULL, OPT_TREE },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "wide", no_argument, NULL, OPT_WIDE },
	{ "workload", required_argument, NULL, OPT_WORKLOAD },
	{ NULL, 0, NULL, 0 },
};

/* A decimal number from min to max, or die: an overflow is no LONG_MAX. */
static long
count_arg(const char *what, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max)
		die(what, arg);
	return v;
}

/* --random-read-child=METHOD FILE READS SEED: run by ourselves. */
static int
random_read_main(const char *method, int argc, char **argv)
{
	if (argc - optind != 3)
		die("%s", "--random-read-child needs FILE READS SEED");
	return random_read_child(
		method, argv[optind],
		count_arg("bad read count '%s'", argv[optind + 1], 0, LONG_MAX),
		(unsigned long)count_arg("bad seed '%s'", argv[optind + 2], 0,
					 LONG_MAX));
}

static void
parse(struct options *o, int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "hq", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_CACHE:
			o->cold = strcmp(optarg, "warm") != 0;
			o->warm = strcmp(optarg, "cold") != 0;
			if (strcmp(optarg, "cold") != 0 &&
			    strcmp(optarg, "warm") != 0 &&
			    strcmp(optarg, "both") != 0)
				die("--cache takes cold, warm or both, not "
				    "'%s'",
				    optarg);
			break;
		case OPT_CMD:
			o->cmds = realloc(o->cmds, (size_t)(o->ncmds + 1) *
							   sizeof(*o->cmds));
			if (o->cmds == NULL || strchr(optarg, '=') == NULL)
				die("--cmd takes NAME=COMMAND, not '%s'",
				    optarg);
			o->cmds[o->ncmds++] = optarg;
			break;
		case OPT_CSV:
			o->csv = optarg;
			break;
		case OPT_DIR:
			o->dir = optarg;
			break;
		case OPT_ENGINES:
			o->engines = optarg;
			break;
		case OPT_JSON:
			o->json = optarg;
			break;
		case OPT_MAPCP:
			o->mapcp = optarg;
			break;
		case OPT_MARKDOWN:
			o->markdown = optarg;
			break;
		case OPT_PLOT:
			o->plot = optarg;
			break;
		case OPT_RANDOM_READ_CHILD:
			exit(random_read_main(optarg, argc, argv));
		case OPT_READS:
			o->reads = count_arg("bad read count '%s'", optarg, 1,
					     LONG_MAX);
			break;
		case OPT_RUNS:
			o->runs = (int)count_arg("bad run count '%s'", optarg,
						 1, INT_MAX);
			break;
		case OPT_SIZES:
			o->sizes = optarg;
			break;
		case OPT_SOURCE:
			o->source = optarg;
			break;
		case OPT_TREE:
			o->tree = optarg;
			break;
		case OPT_WARMUP:
			o->warmup = (int)count_arg("bad warmup count '%s'",
						   optarg, 0, INT_MAX);
			break;
		case OPT_WIDE:
			o->wide = true;
			break;
		case OPT_WORKLOAD:
			if (strcmp(optarg, "copy") == 0)
				o->workload = WORKLOAD_COPY;
			else if (strcmp(optarg, "tree") == 0)
				o->workload = WORKLOAD_TREE;
			else if (strcmp(optarg, "random-read") == 0)
				o->workload = WORKLOAD_RANDOM_READ;
			else
				die("unknown workload '%s' (copy, tree, "
				    "random-read)",
				    optarg);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage();
			exit(0);
		case OPT_VERSION:
			printf("mapcp-bench %s\n", MAPCP_VERSION);
			exit(0);
		default:
			fputs("Try 'mapcp-bench --help' for more "
			      "information.\n",
			      stderr);
			exit(1);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind]);
}

/* The mapcp to measure: --mapcp, else the one beside us, else PATH's. */
static void
find_mapcp(struct plan *p)
{
	ssize_t n = readlink("/proc/self/exe", p->self, sizeof(p->self) - 1);
	char beside[PATH_MAX];
	char *slash;

	p->self[n > 0 ? n : 0] = '\0';
	if (p->o->mapcp != NULL)
		return;
	snprintf(beside, sizeof(beside), "%s", p->self);
	slash = strrchr(beside, '/');
	if (slash != NULL) {
		snprintf(slash + 1,
			 sizeof(beside) - (size_t)(slash + 1 - beside),
			 "mapcp");
		if (access(beside, X_OK) == 0) {
			snprintf(p->mapcp, sizeof(p->mapcp), "%s", beside);
			p->o->mapcp = p->mapcp;
			return;
		}
	}
	p->o->mapcp = "mapcp";
}

/* A copy of a NULL-terminated list of strings, to use as an argv. */
static char **
copy_argv(const char *const *items)
{
	char **argv;
	int n = 0;

	while (items[n] != NULL)
		n++;
	argv = xcalloc((size_t)n + 1, sizeof(*argv));
	for (int i = 0; i < n; i++)
		argv[i] = xstrdup(items[i]);
	return argv;
}

#define ARGV(...) copy_argv((const char *const[]){ __VA_ARGS__, NULL })

static void
add_command(struct plan *p, const char *name, char **argv, bool baseline)
{
	p->cmds = realloc(p->cmds, (size_t)(p->ncmds + 1) * sizeof(*p->cmds));
	if (p->cmds == NULL)
		die("%s", "out of memory");
	p->cmds[p->ncmds].name = xstrdup(name);
	p->cmds[p->ncmds].argv = argv;
	p->cmds[p->ncmds].baseline = baseline;
	p->ncmds++;
}

/* mmap_cp is mapcp's second name, beside it. */
static void
find_mmap_cp(struct plan *p)
{
	const char *mapcp = p->o->mapcp, *slash = strrchr(mapcp, '/');

	if (slash == NULL)
		snprintf(p->mmap_cp, sizeof(p->mmap_cp), "mmap_cp");
	else
		snprintf(p->mmap_cp, sizeof(p->mmap_cp), "%.*s/mmap_cp",
			 (int)(slash - mapcp), mapcp);
}

/* uutils' coreutils, a multi-call binary: "coreutils cp" is its cp. */
#define UUTILS "/usr/bin/coreutils"

/* The command that runs name: cp, mmap_cp, auto, a mapcp engine, rsync
 * (-rl in a tree: cp -r's symlinks) or uutils' cp. */
static void
add_named(struct plan *p, const char *name)
{
	const char *m = p->o->mapcp;
	bool tree = p->o->workload == WORKLOAD_TREE;

	if (strcmp(name, "cp") == 0)
		add_command(p, name,
			    tree ? ARGV("cp", "-r", "{src}", "{dst}")
				 : ARGV("cp", "{src}", "{dst}"),
			    true);
	else if (strcmp(name, "rsync") == 0)
		add_command(p, name,
			    tree ? ARGV("rsync", "-rl", "{src}/", "{dst}")
				 : ARGV("rsync", "{src}", "{dst}"),
			    false);
	else if (strcmp(name, "uutils") == 0)
		add_command(p, name,
			    tree ? ARGV(UUTILS, "cp", "-r", "{src}", "{dst}")
				 : ARGV(UUTILS, "cp", "{src}", "{dst}"),
			    false);
	else if (strcmp(name, "mmap_cp") == 0 && !tree)
		add_command(p, name, ARGV(p->mmap_cp, "{src}", "{dst}"), false);
	else if (strcmp(name, "auto") == 0)
		add_command(p, name,
			    tree ? ARGV(m, "-r", "{src}", "{dst}")
				 : ARGV(m, "{src}", "{dst}"),
			    false);
	else if (mapcp_check_engines(name) == 0 && strchr(name, ',') == NULL)
		add_command(p, name,
			    tree ? ARGV(m, "-r", "-e", name, "{src}", "{dst}")
				 : ARGV(m, "-e", name, "{src}", "{dst}"),
			    false);
	else
		die("unknown engine '%s' (a mapcp engine, auto, mmap_cp, cp, "
		    "rsync or uutils)",
		    name);
}

/*
 * --cmd NAME=COMMAND. A plain command (words, no shell syntax) is run
 * directly, like mapcp's own; anything else by /bin/sh, which costs the
 * shell's start (about half a millisecond here) in every run.
 */
static void
add_other(struct plan *p, const char *spec)
{
	const char *eq = strchr(spec, '='), *cmd = eq + 1;
	char name[64], *words, *save = NULL, *argv[64];
	int n = 0;

	snprintf(name, sizeof(name), "%.*s", (int)(eq - spec), spec);
	if (cmd[strcspn(cmd, "|&;<>()$`\\\"'*?[]#~%!\n")] == '\0') {
		char *w;

		words = xstrdup(cmd);
		for (w = strtok_r(words, " \t", &save); w != NULL && n < 63;
		     w = strtok_r(NULL, " \t", &save))
			argv[n++] = w;
		argv[n] = NULL;
		/* With a 64th word left (w), the shell runs it all. */
		if (n > 0 && w == NULL) {
			add_command(p, name,
				    copy_argv((const char *const *)argv),
				    false);
			free(words);
			return;
		}
		free(words);
	}
	words = xcalloc(strlen(cmd) + 6, 1);
	snprintf(words, strlen(cmd) + 6, "exec %s", cmd);
	add_command(p, name, ARGV("/bin/sh", "-c", words), false);
	free(words);
}

static char *
replace(const char *arg, const char *src, const char *dst, bool quote)
{
	char out[4 * PATH_MAX] = "";
	size_t len = 0;

	for (const char *s = arg;
	     *s && len + (size_t)2 * PATH_MAX < sizeof(out);) {
		const char *with = strncmp(s, "{src}", 5) == 0   ? src
				   : strncmp(s, "{dst}", 5) == 0 ? dst
								 : NULL;

		if (with == NULL) {
			out[len++] = *s++;
			continue;
		}
		/* For the shell, single-quoted, with ' as '\''. */
		if (quote)
			out[len++] = '\'';
		for (const char *w = with; *w; w++) {
			if (quote && *w == '\'') {
				memcpy(out + len, "'\\''", 4);
				len += 4;
			} else {
				out[len++] = *w;
			}
		}
		if (quote)
			out[len++] = '\'';
		s += 5;
	}
	out[len] = '\0';
	return xstrdup(out);
}

static char **
bind(const struct command *c, const char *src, const char *dst)
{
	int n = 0;
	char **argv;
	bool shell = strcmp(c->argv[0], "/bin/sh") == 0;

	while (c->argv[n] != NULL)
		n++;
	argv = xcalloc((size_t)n + 1, sizeof(*argv));
	for (int i = 0; i < n; i++)
		argv[i] = replace(c->argv[i], src, dst, shell && i == 2);
	return argv;
}

static void
free_argv(char **argv)
{
	for (int i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* Does command c copy a small file correctly here? */
static bool
works_here(struct plan *p, const struct command *c, const char *probe,
	   XXH128_hash_t want, char *why, size_t whysize)
{
	char **argv = bind(c, probe, p->dst);
	struct measure m;
	XXH128_hash_t got;
	bool ok;

	remove_path(p->dst);
	ok = run_measured(argv, NULL, 0, why, whysize, &m) == 0 &&
	     m.status == 0 && digest_file(p->dst, &got) == 0 &&
	     XXH128_isEqual(got, want);
	free_argv(argv);
	remove_path(p->dst);
	return ok;
}

/* Is there an executable name in PATH? */
static bool
in_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, file[PATH_MAX];
	bool found = false;

	if (path == NULL)
		return false;
	copy = xstrdup(path);
	for (char *d = strtok_r(copy, ":", &save); d != NULL && !found;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%s", *d ? d : ".", name);
		found = access(file, X_OK) == 0;
	}
	free(copy);
	return found;
}

/* Default engines: each of mapcp's that copies a probe file here, cp, and
 * rsync and uutils' cp where installed. */
static void
default_engines(struct plan *p)
{
	char probe[PATH_MAX], why[256];
	XXH128_hash_t want;

	snprintf(probe, sizeof(probe), "%s/probe.bin", p->o->dir);
	if (data_file(probe, 65536 + 17) < 0 || digest_file(probe, &want) < 0)
		die("cannot make test data in '%s'", p->o->dir);
	add_named(p, "cp");
	for (unsigned int i = 0; mapcp_engine_name(i) != NULL; i++) {
		const char *name = mapcp_engine_name(i);

		add_named(p, name);
		/* -r copies the probe file too: a tree is probed the same */
		if (works_here(p, &p->cmds[p->ncmds - 1], probe, want, why,
			       sizeof(why)))
			continue;
		if (!p->o->quiet)
			fprintf(stderr,
				"mapcp-bench: leaving out %s, which does not "
				"work here: %s\n",
				name, why);
		free_argv(p->cmds[p->ncmds - 1].argv);
		free(p->cmds[p->ncmds - 1].name);
		p->ncmds--;
	}
	/* The copiers users would pick instead, where installed. */
	if (in_path("rsync"))
		add_named(p, "rsync");
	if (access(UUTILS, X_OK) == 0)
		add_named(p, "uutils");
}

static void
plan_commands(struct plan *p)
{
	if (p->o->workload == WORKLOAD_RANDOM_READ) {
		const char *methods[] = { "pread", "mmap" };

		for (int i = 0; i < 2; i++)
			add_command(p, methods[i],
				    ARGV(p->self, "--random-read-child",
					 methods[i], "{src}", "{reads}",
					 "{seed}"),
				    i == 0);
		return;
	}
	if (p->o->engines == NULL) {
		default_engines(p);
	} else {
		char *list = xstrdup(p->o->engines), *save = NULL;

		for (char *t = strtok_r(list, ",", &save); t != NULL;
		     t = strtok_r(NULL, ",", &save))
			add_named(p, t);
		free(list);
	}
	for (int i = 0; i < p->o->ncmds; i++)
		add_other(p, p->o->cmds[i]);
	if (p->ncmds == 0)
		die("%s", "nothing to measure");
}

static void
plan_sources(struct plan *p)
{
	struct options *o = p->o;
	const char *list = o->sizes ? o->sizes
			   : o->workload == WORKLOAD_RANDOM_READ
				   ? "64M,1G"
				   : "4K,1M,64M,1G";
	char *copy = xstrdup(list), *save = NULL, path[PATH_MAX];

	if (o->workload == WORKLOAD_TREE || o->source != NULL) {
		struct stat st;
		const char *src = o->source ? o->source : o->tree;

		if (src == NULL) {
			snprintf(path, sizeof(path), "%s/tree", o->dir);
			if (!o->quiet)
				fprintf(stderr,
					"mapcp-bench: making the test tree "
					"(10,000 files) ...\n");
			if (data_tree(path, 10000, 100) < 0)
				die("cannot make the test tree in '%s'",
				    o->dir);
			src = path;
		}
		if (stat(src, &st) < 0)
			die("cannot stat '%s'", src);
		p->nsizes = 1;
		p->sizes = xcalloc(1, sizeof(*p->sizes));
		p->sources = xcalloc(1, sizeof(*p->sources));
		p->sources[0] = xstrdup(src);
		p->sizes[0] = st.st_size;
		if (S_ISDIR(st.st_mode)) {
			p->sizes[0] = 0; /* the tree's bytes, summed below */
		}
		free(copy);
		return;
	}
	for (char *t = strtok_r(copy, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		size_t size;

		if (mapcp_parse_size(t, &size) < 0)
			die("bad size '%s'", t);
		p->sizes = realloc(p->sizes,
				   (size_t)(p->nsizes + 1) * sizeof(*p->sizes));
		p->sources = realloc(p->sources, (size_t)(p->nsizes + 1) *
							 sizeof(*p->sources));
		if (p->sizes == NULL || p->sources == NULL)
			die("%s", "out of memory");
		snprintf(path, sizeof(path), "%s/src-%zu.bin", o->dir, size);
		if (!o->quiet)
			fprintf(stderr, "mapcp-bench: test data %s\n", path);
		if (data_file(path, (off_t)size) < 0)
			die("cannot make test data in '%s'", o->dir);
		p->sizes[p->nsizes] = (off_t)size;
		p->sources[p->nsizes++] = xstrdup(path);
	}
	free(copy);
}

/* What a tree holds; nftw's callbacks take no argument. */
static off_t tree_bytes;
static long tree_files, tree_dirs;

static int
add_bytes(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)path;
	if (type == FTW_F && S_ISREG(st->st_mode)) {
		tree_bytes += st->st_size;
		tree_files++;
	}
	tree_dirs += type == FTW_D && f->level > 0;
	return 0;
}

static void
digest_sources(struct plan *p)
{
	p->digests = xcalloc((size_t)p->nsizes, sizeof(*p->digests));
	for (int i = 0; i < p->nsizes; i++) {
		struct stat st;
		int ret;

		if (stat(p->sources[i], &st) < 0)
			die("cannot stat '%s'", p->sources[i]);
		if (S_ISDIR(st.st_mode)) {
			tree_bytes = 0;
			tree_files = tree_dirs = 0;
			nftw(p->sources[i], add_bytes, 32, FTW_PHYS);
			p->sizes[i] = tree_bytes;
			p->files = tree_files;
			p->dirs = tree_dirs;
			ret = digest_tree(p->sources[i], &p->digests[i]);
		} else {
			ret = digest_file(p->sources[i], &p->digests[i]);
		}
		if (ret < 0)
			die("cannot read '%s'", p->sources[i]);
	}
}

/* The median time of a timed cell's runs. */
static double
cost_of(const struct cell *c)
{
	return stats_median(c->costs, (size_t)c->ncosts);
}

/*
 * What a run of c will take, preparing and checking it included: the
 * median of its own runs so far (the median: the first can pay for
 * dropping a full page cache). Before it has any, from its command's runs
 * in the same cache state at the two largest sizes below, on the line
 * through them; with one, that size's cost, a lower bound (*bound set), as
 * a larger copy takes no less; with none, 0.
 */
static double
run_cost(const struct results *r, const struct cell *c, bool *bound)
{
	const struct cell *near = NULL, *next = NULL;
	double slope;

	if (c->ncosts > 0)
		return cost_of(c);
	for (int i = 0; i < r->ncells; i++) {
		const struct cell *d = &r->cells[i];

		if (d->cmd != c->cmd || d->cache != c->cache ||
		    d->ncosts == 0 || d->size > c->size)
			continue;
		if (near == NULL || d->size > near->size) {
			next = near;
			near = d;
		} else if (next == NULL || d->size > next->size) {
			next = d;
		}
	}
	if (near == NULL || next == NULL || near->size == next->size) {
		*bound = true;
		return near ? cost_of(near) : 0;
	}
	slope = (cost_of(near) - cost_of(next)) /
		(double)(near->size - next->size);
	return cost_of(near) +
	       (slope > 0 ? slope : 0) * (double)(c->size - near->size);
}

/* The time left: every run to come at what runs of its kind took. */
static double
time_left(const struct plan *p, const struct results *r, bool *bound)
{
	int per_cell = p->o->warmup + p->o->runs;
	double left = 0;

	*bound = false;
	for (int i = 0; i < r->ncells; i++) {
		const struct cell *c = &r->cells[i];

		if (c->ncosts < per_cell)
			left += (per_cell - c->ncosts) * run_cost(r, c, bound);
	}
	return left;
}

static void
progress(struct plan *p, const struct results *r, const struct cell *c, int run)
{
	static double last;
	double t = mapcp_monotonic(), eta;
	char size[32], left[32];
	bool bound;

	p->done++;
	if (p->o->quiet ||
	    (!isatty(STDERR_FILENO) && t - last < 5 && p->done < p->total))
		return;
	last = t;
	eta = time_left(p, r, &bound);
	format_size(c->size, size, sizeof(size));
	/* Nothing timed yet that bounds what is left: say so, not 0m00s. */
	if (bound && eta < 1)
		snprintf(left, sizeof(left), "?");
	else
		snprintf(left, sizeof(left), "%s%dm%02ds", bound ? ">" : "",
			 (int)eta / 60, (int)eta % 60);
	fprintf(stderr, "%s[%ld/%ld] %s %s, run %d, %-16s ETA %s%s",
		isatty(STDERR_FILENO) ? "\r" : "", p->done, p->total, size,
		cache_name(c->cache), run + 1, c->cmd->name, left,
		isatty(STDERR_FILENO) ? "    " : "\n");
	if (p->done == p->total && isatty(STDERR_FILENO))
		fputc('\n', stderr);
}

/*
 * The 1-minute load average, from /proc/loadavg (or, for the tests, the
 * file MAPCP_BENCH_LOADAVG names); -1 if it cannot be read.
 */
static double
load_average(void)
{
	const char *path = getenv("MAPCP_BENCH_LOADAVG");
	FILE *f = fopen(path ? path : "/proc/loadavg", "re");
	double load = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%lf", &load) != 1) /* NOLINT(cert-err34-c) */
		load = -1;
	fclose(f);
	return load;
}

/*
 * Take the last copy out of DEST's place. A tree is moved aside into
 * trash/ and deleted at the end: on ext4, creating files soon after
 * deleting thousands makes the inode allocator skip every recently freed
 * inode (recently_deleted(), five minutes), and a 130 MB tree copy took
 * 7.8 s instead of 0.27 s, whatever copied it.
 */
static void
clear_dst(struct plan *p)
{
	struct stat st;
	char aside[PATH_MAX + 64];

	if (lstat(p->dst, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		snprintf(aside, sizeof(aside), "%s/trash", p->o->dir);
		(void)mkdir(aside, 0700);
		snprintf(aside, sizeof(aside), "%s/trash/%ld", p->o->dir,
			 p->trashed++);
		if (rename(p->dst, aside) == 0)
			return;
	}
	remove_path(p->dst);
}

/* Make the page cache what the cell asks for; the fraction resident. */
static double
prepare(struct plan *p, const struct cell *c, const char *src)
{
	clear_dst(p);
	sync(); /* DEST's removal, synced */
	if (c->cache == CACHE_COLD)
		cache_evict(src);
	else
		cache_warm(src);
	return cache_resident(src);
}

/* Check run's result; on failure say why in c->error, once. */
static bool
verify(struct plan *p, struct cell *c, int size_index, const char *out,
       unsigned long long expect_sum, struct sample *s, const char *err)
{
	char why[256] = "";
	XXH128_hash_t got = { 0, 0 };

	if (!WIFEXITED(s->m.status) || WEXITSTATUS(s->m.status) != 0) {
		describe_status(s->m.status, why, sizeof(why));
		if (err[0]) {
			size_t n = strlen(why);
			int room = n + 3 < sizeof(why)
					   ? (int)(sizeof(why) - n - 3)
					   : 0;

			/* Cut to fit: the status first, then what it said. */
			snprintf(why + n, sizeof(why) - n, ": %.*s", room, err);
		}
	} else if (p->o->workload == WORKLOAD_RANDOM_READ) {
		double ns = 0;
		unsigned long long sum = 0;

		if (sscanf(out, "%lf %llu", &ns, &sum) != 2) /* NOLINT */
			snprintf(why, sizeof(why), "no result from the reader");
		else if (sum != expect_sum)
			snprintf(why, sizeof(why),
				 "read other bytes than pread");
		else if (ns > 0) {
			/* The reads' own time, without the process's start. */
			s->m.wall = ns / 1e9;
			s->reads_per_s = (double)p->o->reads / s->m.wall;
		}
	} else {
		struct stat st;
		int ret = stat(p->dst, &st) < 0 ? -errno
			  : S_ISDIR(st.st_mode) ? digest_tree(p->dst, &got)
						: digest_file(p->dst, &got);

		if (ret < 0)
			snprintf(why, sizeof(why), "no copy: %s",
				 strerror(-ret));
		else if (!XXH128_isEqual(got, p->digests[size_index]))
			snprintf(why, sizeof(why),
				 "the copy differs from the source (xxh3-128)");
	}
	if (why[0] == '\0')
		return true;
	if (c->failed++ == 0)
		snprintf(c->error, sizeof(c->error), "%s", why);
	return false;
}

/* One measured (or warmup) run of cell c. */
static void
run_one(struct plan *p, struct cell *c, int size_index, int run, bool record)
{
	const char *src = p->sources[size_index];
	char reads[32], seed[32], out[256] = "", err[256] = "";
	unsigned long long expect = 0;
	struct sample s = { 0 };
	char **argv;

	/* pread's answer first: reading it must not warm a cold run. */
	if (p->o->workload == WORKLOAD_RANDOM_READ &&
	    random_read_expect(src, p->o->reads, (unsigned long)run, &expect) <
		    0)
		die("cannot read '%s'", src);
	s.resident = prepare(p, c, src);
	snprintf(reads, sizeof(reads), "%ld", p->o->reads);
	snprintf(seed, sizeof(seed), "%d", run);
	argv = bind(c->cmd, src, p->dst);
	for (int i = 0; argv[i] != NULL; i++) {
		if (strcmp(argv[i], "{reads}") == 0 ||
		    strcmp(argv[i], "{seed}") == 0) {
			char *v = xstrdup(argv[i][1] == 'r' ? reads : seed);

			free(argv[i]);
			argv[i] = v;
		}
	}
	if (run_measured(argv, out, sizeof(out), err, sizeof(err), &s.m) < 0)
		die("cannot run '%s'", argv[0]);
	free_argv(argv);
	if (!record)
		return;
	s.ok = verify(p, c, size_index, out, expect, &s, err);
	if (c->cache == CACHE_COLD && s.resident > COLD_ENOUGH)
		c->not_cold++;
	if (c->cache == CACHE_WARM && s.resident >= 0 &&
	    s.resident < WARM_ENOUGH)
		c->not_warm++;
	c->runs[c->nruns++] = s;
}

/*
 * Every cell, in the order they run: by size, then cold before warm, then
 * command; cell k is command k % ncmds of group k / ncmds.
 */
static void
lay_out(struct plan *p, struct results *r)
{
	const struct options *o = p->o;
	int caches = o->cold + o->warm;

	r->ncells = p->nsizes * caches * p->ncmds;
	r->cells = xcalloc((size_t)r->ncells, sizeof(*r->cells));
	for (int k = 0; k < r->ncells; k++) {
		struct cell *c = &r->cells[k];
		int group = k / p->ncmds;
		bool second = caches == 2 && group % 2 == 1;

		c->size = p->sizes[group / caches];
		c->cache = second || !o->cold ? CACHE_WARM : CACHE_COLD;
		c->cmd = &p->cmds[k % p->ncmds];
		c->runs = xcalloc((size_t)o->runs, sizeof(*c->runs));
		c->costs = xcalloc((size_t)o->runs + (size_t)o->warmup,
				   sizeof(*c->costs));
	}
}

/*
 * Note the load average, after each run, if it is the highest yet: the
 * 1-minute figure lags, so one taken before the first run would still be
 * the build's or whatever ran just before.
 */
static void
note_load(struct plan *p)
{
	double load = load_average();

	if (load > p->load)
		p->load = load;
}

static void
measure(struct plan *p, struct results *r)
{
	const struct options *o = p->o;
	int total_runs = o->warmup + o->runs;

	lay_out(p, r);
	p->total = (long)r->ncells * total_runs;
	/*
	 * The test data just written is flushed, and a full page cache
	 * dropped, now: not in the first run, where it took seconds that
	 * made every estimate of the time left minutes too long.
	 */
	sync();
	if (o->cold)
		cache_evict(p->sources[0]);
	for (int k = 0; k < r->ncells; k += p->ncmds) {
		struct cell *row = &r->cells[k];
		int z = k / p->ncmds / (o->cold + o->warm);

		/* A B C, A B C, ...: drift hits all alike. */
		for (int run = 0; run < total_runs; run++)
			for (int i = 0; i < p->ncmds && k + i < r->ncells;
			     i++) {
				double t0 = mapcp_monotonic();

				run_one(p, &row[i], z, run - o->warmup,
					run >= o->warmup);
				row[i].costs[row[i].ncosts++] =
					mapcp_monotonic() - t0;
				note_load(p);
				progress(p, r, &row[i], run);
			}
	}
	remove_path(p->dst);
	if (p->trashed > 0) {
		char trash[PATH_MAX + 16];

		snprintf(trash, sizeof(trash), "%s/trash", o->dir);
		remove_path(trash);
	}
}

static int
write_outputs(const struct results *r, const struct options *o)
{
	int ret = 0;

	if (o->csv != NULL && write_csv(r, o->csv) < 0)
		ret = 1;
	if (o->json != NULL && write_json(r, o->json) < 0)
		ret = 1;
	if (o->markdown != NULL && write_markdown(r, o->markdown) < 0)
		ret = 1;
	if (o->plot != NULL && write_plot(r, o->plot) < 0)
		ret = 1;
	return ret;
}

static void
free_all(struct plan *p, struct results *r)
{
	for (int i = 0; i < p->ncmds; i++) {
		free_argv(p->cmds[i].argv);
		free(p->cmds[i].name);
	}
	for (int i = 0; i < p->nsizes; i++)
		free(p->sources[i]);
	for (int i = 0; i < r->ncells; i++) {
		free(r->cells[i].runs);
		free(r->cells[i].costs);
	}
	free(p->cmds);
	free(p->sizes);
	free(p->sources);
	free(p->digests);
	free(p->o->cmds);
	free(r->cells);
}

int
main(int argc, char **argv)
{
	struct options o = { .cold = true,
			     .warm = true,
			     .runs = 7,
			     .warmup = 1,
			     .dir = "./bench-data",
			     .reads = 20000 };
	struct plan p = { .o = &o, .load = -1 };
	struct results r = { 0 };
	int failed = 0;

	parse(&o, argc, argv);
	if (mkdir(o.dir, 0755) < 0 && errno != EEXIST)
		die("cannot create '%s'", o.dir);
	find_mapcp(&p);
	find_mmap_cp(&p);
	snprintf(p.dst, sizeof(p.dst), "%s/dst", o.dir);
	plan_sources(&p);
	plan_commands(&p);
	digest_sources(&p);
	r.workload = o.workload;
	r.runs = o.runs;
	r.warmup = o.warmup;
	r.dir = o.dir;
	r.wide = o.wide;
	describe_machine(&r.machine, o.dir);
	if (r.machine.note[0] && !o.quiet)
		fprintf(stderr, "mapcp-bench: warning: %s\n", r.machine.note);
	measure(&p, &r);
	r.resident_method = cache_method();
	r.load = p.load;
	r.files = p.files;
	r.dirs = p.dirs;
	summarize(&r);
	print_table(&r);
	print_warnings(&r);
	print_verdict(&r);
	for (int i = 0; i < r.ncells; i++)
		failed |= r.cells[i].failed > 0;
	failed |= write_outputs(&r, &o);
	free_all(&p, &r);
	return failed;
}
