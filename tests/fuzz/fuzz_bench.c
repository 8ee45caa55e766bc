/*
 * Fuzz mapcp-bench's command line (bench/main.c): parse() with its number
 * and word options, then the commands it plans from --engines and --cmd
 * (add_named(), add_other()), without running any. The input is split on
 * NUL bytes into the arguments after "mapcp-bench"; --random-read-child,
 * which runs a workload, is left out. bench/main.c is included as it is,
 * with exit() made to return here through longjmp and main() renamed.
 * Checked:
 *   - the outcome and the options are those of a model fed getopt_long's
 *     (option, argument) pairs: counts are whole decimal numbers in the
 *     range of their type (--runs and --warmup are ints), the last of an
 *     option wins, --wide and -q are flags, an operand is an error;
 *   - an error is one "mapcp-bench: ..." line or getopt's and "Try ...";
 *   - each --cmd NAME=COMMAND plans one command named NAME (cut to 63
 *     bytes) that runs COMMAND: its words, or /bin/sh -c "exec COMMAND";
 *     each name of --engines plans one command, or is an error.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

static jmp_buf exit_jmp;
static int exit_status;

static void __attribute__((noreturn)) fuzz_exit(int status)
{
	exit_status = status;
	longjmp(exit_jmp, 1);
}

/* mapcp-bench as it is; its main() is never called. */
#define exit(status) fuzz_exit(status)
#define main         mapcp_bench_main
#include "../../bench/main.c" /* NOLINT(bugprone-suspicious-include) */
#undef main
#undef exit

#define MAX_ARGS 32
#define RUNS_ON  (-2) /* status: no exit */

static void
options_init(struct options *o)
{
	*o = (struct options){ .cold = true,
			       .warm = true,
			       .runs = 7,
			       .warmup = 1,
			       .dir = "./bench-data",
			       .reads = 20000 };
}

/* A count: whole decimal digits, from min to max; else -1. */
static long long
ref_count(const char *arg, long long min, long long max)
{
	long long v = 0;

	if (*arg == '\0')
		return -1;
	for (const char *p = arg; *p; p++) {
		if (*p < '0' || *p > '9' || v > (max - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v >= min ? v : -1;
}

/* The model: the options parse() should leave in *m, or an exit status. */
static int
model(struct options *m, int argc, char **argv)
{
	char **copy = malloc(sizeof(*copy) * (size_t)(argc + 1));
	int c, ret = RUNS_ON, ncmds = 0;
	long long v = 0;

	CHECK(copy != NULL);
	memcpy(copy, argv, sizeof(*copy) * (size_t)(argc + 1));
	optind = 0;
	opterr = 0;
	while (ret == RUNS_ON &&
	       (c = getopt_long(argc, copy, "hq", long_options, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case OPT_CACHE:
			m->cold = strcmp(a, "warm") != 0;
			m->warm = strcmp(a, "cold") != 0;
			if (strcmp(a, "cold") != 0 && strcmp(a, "warm") != 0 &&
			    strcmp(a, "both") != 0)
				ret = 1;
			break;
		case OPT_CMD:
			ncmds++;
			if (strchr(a, '=') == NULL)
				ret = 1;
			break;
		case OPT_READS:
			v = ref_count(a, 1, LONG_MAX);
			ret = v < 0 ? 1 : ret;
			m->reads = (long)v;
			break;
		case OPT_RUNS:
		case OPT_WARMUP:
			v = ref_count(a, c == OPT_RUNS, INT_MAX);
			ret = v < 0 ? 1 : ret;
			*(c == OPT_RUNS ? &m->runs : &m->warmup) = (int)v;
			break;
		case OPT_WORKLOAD:
			if (strcmp(a, "copy") == 0)
				m->workload = WORKLOAD_COPY;
			else if (strcmp(a, "tree") == 0)
				m->workload = WORKLOAD_TREE;
			else if (strcmp(a, "random-read") == 0)
				m->workload = WORKLOAD_RANDOM_READ;
			else
				ret = 1;
			break;
		case OPT_SIZES:
			m->sizes = optarg;
			break;
		case OPT_ENGINES:
			m->engines = optarg;
			break;
		case 'q':
			m->quiet = true;
			break;
		case OPT_WIDE:
			m->wide = true;
			break;
		case 'h':
		case OPT_VERSION:
			ret = 0;
			break;
		case '?':
			ret = 1;
			break;
		default:
			break;
		}
	}
	if (ret == RUNS_ON && optind < argc)
		ret = 1;
	m->ncmds = ncmds;
	opterr = 1;
	free(copy);
	return ret;
}

/*
 * What --cmd's spec should run: its words, all of them, if it has no shell
 * syntax and up to 63 words; else /bin/sh -c "exec COMMAND".
 */
static void
check_other(const struct command *cmd, const char *spec)
{
	const char *eq = strchr(spec, '='), *c = eq + 1;
	size_t name_len = (size_t)(eq - spec) < 63 ? (size_t)(eq - spec) : 63;
	bool plain = c[strcspn(c, "|&;<>()$`\\\"'*?[]#~%!\n")] == '\0';
	char *words = strdup(c), *save = NULL, *w[64];
	int n = 0;

	CHECK(strlen(cmd->name) == name_len &&
	      memcmp(cmd->name, spec, name_len) == 0);
	CHECK(cmd->argv != NULL && cmd->argv[0] != NULL && !cmd->baseline);
	CHECK(words != NULL);
	for (char *t = strtok_r(words, " \t", &save); plain && t != NULL;
	     t = strtok_r(NULL, " \t", &save))
		if (n++ < 64)
			w[n - 1] = t;
	if (n > 0 && n < 64) {
		for (int i = 0; i < n; i++) /* no word left out */
			CHECK(cmd->argv[i] != NULL &&
			      strcmp(cmd->argv[i], w[i]) == 0);
		CHECK(cmd->argv[n] == NULL);
	} else {
		CHECK(strcmp(cmd->argv[0], "/bin/sh") == 0);
		CHECK(cmd->argv[1] != NULL && strcmp(cmd->argv[1], "-c") == 0);
		CHECK(cmd->argv[2] != NULL &&
		      strncmp(cmd->argv[2], "exec ", 5) == 0 &&
		      strcmp(cmd->argv[2] + 5, c) == 0);
		CHECK(cmd->argv[3] == NULL);
	}
	free(words);
}

static void
free_plan(struct plan *p)
{
	for (int i = 0; i < p->ncmds; i++) {
		free_argv(p->cmds[i].argv);
		free(p->cmds[i].name);
	}
	free(p->cmds);
	p->cmds = NULL;
	p->ncmds = 0;
}

/* Is name one --engines takes: cp, mmap_cp (not for trees), auto, rsync,
 * uutils, an engine? */
static bool
engine_word(const char *name, bool tree)
{
	return strcmp(name, "cp") == 0 || strcmp(name, "auto") == 0 ||
	       strcmp(name, "rsync") == 0 || strcmp(name, "uutils") == 0 ||
	       (strcmp(name, "mmap_cp") == 0 && !tree) ||
	       (mapcp_check_engines(name) == 0 && strcmp(name, "auto") != 0 &&
		strchr(name, ',') == NULL);
}

/*
 * Plan the commands of o as plan_commands() does, without probing. Static:
 * what is changed between setjmp() and longjmp() must not be automatic.
 */
static void
check_commands(struct options *o)
{
	static struct plan p;
	static char *list;
	static const char *name;
	FILE *saved_err = stderr, *quiet = fopen("/dev/null", "w");

	CHECK(quiet != NULL);
	stderr = quiet; /* add_named()'s words on an unknown engine */
	memset(&p, 0, sizeof(p));
	p.o = o;
	name = NULL;
	o->mapcp = "./mapcp";
	snprintf(p.mmap_cp, sizeof(p.mmap_cp), "./mmap_cp");
	list = strdup(o->engines ? o->engines : "");
	CHECK(list != NULL);
	if (setjmp(exit_jmp) == 0) {
		char *save = NULL;

		for (name = strtok_r(list, ",", &save); name != NULL;
		     name = strtok_r(NULL, ",", &save)) {
			int before = p.ncmds;

			add_named(&p, name);
			CHECK(engine_word(name, o->workload == WORKLOAD_TREE));
			CHECK(p.ncmds == before + 1);
			CHECK(strcmp(p.cmds[before].name, name) == 0);
		}
		free_plan(&p);
		for (int i = 0; i < o->ncmds; i++) {
			add_other(&p, o->cmds[i]);
			CHECK(p.ncmds == i + 1);
			check_other(&p.cmds[i], o->cmds[i]);
		}
	} else {
		/* Only a name that is no engine may end the planning. */
		CHECK(exit_status == 1 && name != NULL);
		CHECK(!engine_word(name, o->workload == WORKLOAD_TREE));
	}
	stderr = saved_err;
	fclose(quiet);
	free_plan(&p);
	free(list);
	list = NULL;
}

/* parse() as main() calls it; the exit status or RUNS_ON. */
static int
parse_args(struct options *o, int argc, char **argv, char **err,
	   size_t *err_len)
{
	FILE *saved_out = stdout, *saved_err = stderr;
	FILE *out = fopen("/dev/null", "w");
	FILE *e = open_memstream(err, err_len);
	int status;

	CHECK(out != NULL && e != NULL);
	stdout = out;
	stderr = e;
	optind = 0;
	if (setjmp(exit_jmp) == 0) {
		parse(o, argc, argv);
		status = RUNS_ON;
	} else {
		status = exit_status;
	}
	stdout = saved_out;
	stderr = saved_err;
	fclose(out);
	fclose(e);
	return status;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *fields[MAX_ARGS], *orig[MAX_ARGS + 2], *argv[MAX_ARGS + 2];
	char *err = NULL;
	size_t err_len = 0, start = 0;
	struct options o, m;
	int n = 0, status, want;
	bool runs_child = false;

	for (size_t i = 0; i <= size && n < MAX_ARGS; i++) {
		if (i < size && data[i] != '\0')
			continue;
		fields[n] = fuzz_string(data + start, i - start);
		CHECK(fields[n] != NULL);
		runs_child |= strncmp(fields[n++], "--ra", 4) == 0;
		start = i + 1;
	}
	orig[0] = "mapcp-bench";
	for (int i = 0; i < n; i++)
		orig[i + 1] = fields[i];
	orig[n + 1] = NULL;
	if (runs_child)
		goto out;
	unsetenv("POSIXLY_CORRECT");

	options_init(&o);
	memcpy(argv, orig, sizeof(orig));
	status = parse_args(&o, n + 1, argv, &err, &err_len);
	options_init(&m);
	memcpy(argv, orig, sizeof(orig));
	want = model(&m, n + 1, argv);
	CHECK(status == want);
	if (status == 1) {
		CHECK(strncmp(err, "mapcp-bench: ", 13) == 0 ||
		      strncmp(err, "Try 'mapcp-bench --help'", 24) == 0);
		CHECK(err_len > 0 && err[err_len - 1] == '\n');
	} else {
		CHECK(err_len == 0);
	}
	if (status == RUNS_ON) {
		CHECK(o.runs == m.runs && o.runs >= 1);
		CHECK(o.warmup == m.warmup && o.warmup >= 0);
		CHECK(o.reads == m.reads && o.reads >= 1);
		CHECK(o.cold == m.cold && o.warm == m.warm &&
		      (o.cold || o.warm));
		CHECK(o.workload == m.workload && o.quiet == m.quiet);
		CHECK(o.wide == m.wide);
		CHECK(o.sizes == m.sizes && o.engines == m.engines);
		CHECK(o.ncmds == m.ncmds);
		for (int i = 0; i < o.ncmds; i++)
			CHECK(strchr(o.cmds[i], '=') != NULL);
		check_commands(&o);
	}
	free(o.cmds);
	free(err);
out:
	for (int i = 0; i < n; i++)
		free(fields[i]);
	return 0;
}
