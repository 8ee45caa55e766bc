/*
 * Fuzz mapcp's command line (cli/mapcp.c): MAPCP_FAIL's parser (hooks.c) and
 * parse_options() with every option parser under it. The input is split on
 * NUL bytes: the first field is MAPCP_FAIL (unset if empty), the rest are
 * the arguments after "mapcp". cli/mapcp.c is included as it is, with
 * exit() made to return here through longjmp and main() renamed, so that
 * a usage error ends one run, not the fuzzer. Checked:
 *   - the outcome and every option's value are those of a model of the
 *     options, fed the (option, argument) pairs getopt_long gives;
 *   - a usage error says "mapcp: ..." and ends "Try 'mapcp --help' ...",
 *     --help and --version print to stdout only, a success prints nothing;
 *   - accepted options are consistent: a nonzero page-multiple window,
 *     a queue depth from 1 to 1024, mapcp_check_opts() happy, ...;
 *   - parsing the same arguments twice gives the same result.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static jmp_buf exit_jmp;
static int exit_status;

static void __attribute__((noreturn)) fuzz_exit(int status)
{
	exit_status = status;
	longjmp(exit_jmp, 1);
}

/* The command line as it is; its main() is never called. */
#define exit(status) fuzz_exit(status)
#define main         mapcp_cli_main
#include "../../cli/mapcp.c" /* NOLINT(bugprone-suspicious-include) */
#undef main
#undef exit

#define MAX_ARGS 32
/* parse_options()'s short options: keep in step with cli/mapcp.c. */
#define SHORT_OPTIONS "abde:fHhij:lLnPpRrsS:t:TuvxZ"
#define TRY_HELP      "Try 'mapcp --help' for more information.\n"
#define RUNS_ON       (-2) /* status: parse_options() returned */

/* What one parse ended with. */
struct outcome {
	int status; /* exit status, or RUNS_ON */
	struct cli cli;
	char *out, *err; /* what went to stdout and stderr */
	size_t out_len, err_len;
};

/* MAPCP_FAIL's names, as cli_test_hooks() must know them. */
static const struct {
	const char *name;
	int err;
} fail_names[] = {
	{ "EDQUOT", EDQUOT },
	{ "EINVAL", EINVAL },
	{ "EIO", EIO },
	{ "ENODATA", ENODATA },
	{ "ENOSPC", ENOSPC },
	{ "ENOSYS", ENOSYS },
	{ "EOPNOTSUPP", EOPNOTSUPP },
	{ "EXDEV", EXDEV },
	{ "FLIP", -1 },
};

/* As main() does before the options, then parse_options(). */
static void
parse(struct outcome *o, int argc, char **argv)
{
	FILE *saved_out = stdout, *saved_err = stderr;
	FILE *out = open_memstream(&o->out, &o->out_len);
	FILE *err = open_memstream(&o->err, &o->err_len);

	CHECK(out != NULL && err != NULL);
	memset(&o->cli, 0, sizeof(o->cli));
	o->cli.prog = "mapcp";
	mapcp_opts_init(&o->cli.opts);
	stdout = out;
	stderr = err;
	optind = 0; /* getopt_long starts afresh */
	if (setjmp(exit_jmp) == 0) {
		cli_test_hooks(&o->cli);
		parse_options(&o->cli, argc, argv);
		o->status = RUNS_ON;
	} else {
		o->status = exit_status;
	}
	stdout = saved_out;
	stderr = saved_err;
	fclose(out);
	fclose(err);
}

/* MAPCP_FAIL=NAME:BYTES gave the test engine's settings it should. */
static void
check_fail(const struct mapcp_opts *opts, const char *v)
{
	const char *colon = v ? strchr(v, ':') : NULL;
	int want = 0;

	if (colon == NULL) {
		CHECK(opts->fail_errno == 0 && opts->fail_after == 0);
		return;
	}
	for (size_t i = 0; i < sizeof(fail_names) / sizeof(fail_names[0]); i++)
		if (strlen(fail_names[i].name) == (size_t)(colon - v) &&
		    memcmp(fail_names[i].name, v, (size_t)(colon - v)) == 0)
			want = fail_names[i].err;
	CHECK(opts->fail_errno == want);
	CHECK(opts->fail_after == strtoll(colon + 1, NULL, 10));
}

/* What the user sees agrees with the exit status. */
static void
check_output(const struct outcome *o)
{
	/* the one warning a parse that goes on may give, as cp gives it */
	static const char warning[] =
		"mapcp: warning: ignoring --context; it requires an "
		"SELinux-enabled kernel\n";
	/* and the one error cp gives without the hint */
	static const char no_context[] =
		"mapcp: cannot preserve security context without an "
		"SELinux-enabled kernel\n";
	size_t try_len = strlen(TRY_HELP), w = sizeof(warning) - 1, skip = 0;
	const char *err;
	size_t len;

	while (o->err_len - skip >= w && memcmp(o->err + skip, warning, w) == 0)
		skip += w;
	err = o->err + skip;
	len = o->err_len - skip;
	if (o->status == RUNS_ON) {
		CHECK(o->out_len == 0 && len == 0);
	} else if (o->status == 0) {
		CHECK(len == 0);
		CHECK(strncmp(o->out, "Usage: mapcp ", 13) == 0 ||
		      strcmp(o->out, "mapcp " MAPCP_VERSION "\n") == 0);
	} else {
		CHECK(o->status == 1);
		CHECK(o->out_len == 0);
		CHECK(strncmp(err, "mapcp: ", 7) == 0 ||
		      strcmp(err, TRY_HELP) == 0);
		CHECK(strcmp(err, no_context) == 0 ||
		      (len >= try_len &&
		       strcmp(err + len - try_len, TRY_HELP) == 0));
	}
}

/* Options that were accepted make sense together. */
static void
check_accepted(const struct cli *cli)
{
	const struct mapcp_opts *o = &cli->opts;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	CHECK(mapcp_check_opts(o) == NULL);
	CHECK(o->engine != NULL && mapcp_check_engines(o->engine) == 0);
	CHECK(o->window >= pg && o->window % pg == 0);
	CHECK(o->buffer >= 1);
	CHECK(o->queue_depth >= 1 && o->queue_depth <= MAPCP_MAX_QUEUE_DEPTH);
	CHECK(o->jobs <= 1024);
	CHECK(o->sparse <= MAPCP_SPARSE_NEVER);
	CHECK(o->reflink <= MAPCP_REFLINK_NEVER);
	CHECK(o->deref <= MAPCP_DEREF_ALWAYS);
	CHECK((o->preserve & ~(unsigned int)MAPCP_PRESERVE_ALL) == 0);
	CHECK(!((o->flags & MAPCP_INTERACTIVE) &&
		(o->flags & MAPCP_NO_CLOBBER)));
	CHECK(cli->progress_when <= WHEN_ALWAYS);
}

/*
 * The model: what the options should leave in *m, fed each (c, arg) in
 * getopt_long's order. 0 to go on, or the exit status; -1 if c is an
 * option the model does not know (then only the checks above apply).
 */
/*
 * Which of three words arg names, as getopt_long names options: the word
 * itself, or a prefix of that one alone. -1 for none or several.
 */
static int
pick(const char *const words[3], const char *arg)
{
	int found = -1, n = 0;

	for (int i = 0; i < 3; i++) {
		if (strcmp(words[i], arg) == 0)
			return i;
		if (strncmp(words[i], arg, strlen(arg)) == 0)
			found = i, n++;
	}
	return n == 1 ? found : -1;
}

static int
model_option(struct cli *m, int c, const char *arg)
{
	static const char *const whens[] = { "auto", "always", "never" };
	static const char *const progress[] = { "never", "auto", "always" };
	const unsigned int mot = MAPCP_PRESERVE_MODE |
				 MAPCP_PRESERVE_OWNERSHIP |
				 MAPCP_PRESERVE_TIMESTAMPS;
	struct mapcp_opts *o = &m->opts;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), v;
	unsigned int bits;
	char *end;
	unsigned long n;
	int i;

	switch (c) {
	case 'h':
	case OPT_VERSION:
		return 0x100; /* exit 0 */
	case '?':
		return 1;
	case 'a':
		o->flags |= MAPCP_RECURSIVE;
		o->deref = MAPCP_DEREF_NEVER;
		o->preserve = MAPCP_PRESERVE_ALL;
		return 0;
	case 'd':
		o->deref = MAPCP_DEREF_NEVER;
		o->preserve |= MAPCP_PRESERVE_LINKS;
		return 0;
	case 'e':
		if (mapcp_check_engines(arg) < 0)
			return 1;
		o->engine = arg;
		return 0;
	case 'f':
		o->flags |= MAPCP_FORCE;
		return 0;
	case 'H':
		o->deref = MAPCP_DEREF_ARGS;
		return 0;
	case 'i':
		o->flags =
			(o->flags | MAPCP_INTERACTIVE) &
			~(unsigned)(MAPCP_NO_CLOBBER | MAPCP_NO_CLOBBER_FAIL);
		m->no_clobber_n = false;
		return 0;
	case 'n':
		o->flags =
			(o->flags | MAPCP_NO_CLOBBER) &
			~(unsigned)(MAPCP_INTERACTIVE | MAPCP_NO_CLOBBER_FAIL);
		m->no_clobber_n = true;
		return 0;
	case 'l':
		o->make = MAPCP_MAKE_HARD_LINK;
		m->hard_link = true;
		return 0;
	case 's':
		o->make = MAPCP_MAKE_SYMLINK;
		m->symbolic_link = true;
		return 0;
	case 'x':
		o->flags |= MAPCP_ONE_FS;
		return 0;
	case OPT_ATTRIBUTES_ONLY:
		o->flags |= MAPCP_ATTRIBUTES_ONLY;
		return 0;
	case OPT_COPY_CONTENTS:
		o->flags |= MAPCP_COPY_CONTENTS;
		return 0;
	case OPT_STRIP_SLASHES:
		m->strip_slashes = true;
		return 0;
	case 'Z':        /* depends on the machine's SELinux */
	case OPT_UPDATE: /* cp's argmatch: not modelled */
		return -1;
	case 'j':
	case OPT_QUEUE_DEPTH:
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 ||
		    n < 1 || n > 1024)
			return 1;
		*(c == 'j' ? &o->jobs : &o->queue_depth) = (unsigned int)n;
		return 0;
	case 'L':
		o->deref = MAPCP_DEREF_ALWAYS;
		return 0;
	case 'P':
		o->deref = MAPCP_DEREF_NEVER;
		return 0;
	case 'p':
		o->preserve |= mot;
		return 0;
	case 'r':
	case 'R':
		o->flags |= MAPCP_RECURSIVE;
		return 0;
	case 't':
		m->target_dir = arg;
		return 0;
	case 'T':
		m->no_target_dir = true;
		return 0;
	case 'u':
		o->flags |= MAPCP_UPDATE;
		return 0;
	case 'v':
		m->verbose = true;
		return 0;
	case 'b':
	case 'S':
	case OPT_BACKUP: /* cp's argmatch and the environment: not modelled */
		return -1;
	case OPT_BUFFER:
	case OPT_WINDOW:
		if (mapcp_parse_size(arg, &v) < 0)
			return 1;
		/* Bounded memory: nothing above the caps is taken. */
		if (v > (c == OPT_BUFFER ? MAPCP_MAX_BUFFER : MAPCP_MAX_WINDOW))
			return 1;
		if (c == OPT_BUFFER) {
			o->buffer = v;
			return 0;
		}
		/* Rounded up to a page; a size with no page above it is bad. */
		if (v > SIZE_MAX - (pg - 1))
			return 1;
		o->window = (v + pg - 1) / pg * pg;
		return 0;
	case OPT_DEBUG:
		m->debug = true;
		return 0;
	case OPT_FSYNC:
		o->flags |= MAPCP_FSYNC;
		return 0;
	case OPT_ATOMIC:
		o->flags |= MAPCP_ATOMIC;
		return 0;
	case OPT_REMOVE_DEST:
		o->flags |= MAPCP_REMOVE_DEST;
		return 0;
	case OPT_INPLACE:
		o->flags |= MAPCP_INPLACE;
		return 0;
	case OPT_VERIFY:
		o->flags |= MAPCP_VERIFY;
		return 0;
	case OPT_NO_PRESERVE:
	case OPT_PRESERVE:
		bits = mot;
		if ((arg != NULL || c == OPT_NO_PRESERVE) &&
		    mapcp_parse_preserve(arg ? arg : "", &bits) < 0)
			return 1;
		/* --preserve=context: depends on the machine's SELinux */
		if (c == OPT_PRESERVE && (bits & MAPCP_PRESERVE_CONTEXT))
			return -1;
		if (c == OPT_PRESERVE)
			o->preserve |= bits;
		else
			o->preserve &= ~bits;
		if ((bits & MAPCP_PRESERVE_MODE) && c == OPT_PRESERVE)
			o->flags &= ~(unsigned)MAPCP_DEFAULT_MODES;
		else if (bits & MAPCP_PRESERVE_MODE)
			o->flags |= MAPCP_DEFAULT_MODES;
		if ((bits & MAPCP_PRESERVE_XATTR) && c == OPT_NO_PRESERVE)
			o->flags &= ~(unsigned)MAPCP_XATTR_REQUIRED;
		/* --preserve=xattr by name (not all): then an error to fail */
		for (const char *w = c == OPT_PRESERVE ? arg : NULL;
		     w != NULL && *w != '\0'; w += *w == ',') {
			size_t n = strcspn(w, ",");
			char word[16];

			if (n < sizeof(word)) {
				memcpy(word, w, n);
				word[n] = '\0';
				if (mapcp_parse_preserve(word, &bits) == 0 &&
				    bits == MAPCP_PRESERVE_XATTR)
					o->flags |= MAPCP_XATTR_REQUIRED;
			}
			w += n;
		}
		return 0;
	case OPT_PARENTS:
		m->parents = true;
		return 0;
	case OPT_PAUSE:
		m->pause = true;
		return 0;
	case OPT_SHOW_MAPS:
		m->show_maps = true;
		return 0;
	case OPT_PROGRESS:
		m->progress_when = WHEN_AUTO;
		if (arg == NULL)
			return 0;
		if ((i = pick(progress, arg)) < 0)
			return 1;
		m->progress_when = (enum when)i;
		return 0;
	case OPT_REFLINK:
	case OPT_SPARSE:
		if (arg == NULL && c == OPT_REFLINK) {
			o->reflink = MAPCP_REFLINK_ALWAYS;
			return 0;
		}
		if (arg == NULL || (i = pick(whens, arg)) < 0)
			return 1;
		if (c == OPT_SPARSE)
			o->sparse = (enum mapcp_sparse)i;
		else
			o->reflink = (enum mapcp_reflink)i;
		return 0;
	default:
		return -1;
	}
}

/* The model's outcome for argv, in m; -1 if the model cannot tell. */
static int
model(struct cli *m, int argc, char **argv)
{
	char **copy = malloc(sizeof(*copy) * (size_t)(argc + 1));
	bool engine_set = false;
	int c, ret = RUNS_ON;

	CHECK(copy != NULL);
	memcpy(copy, argv, sizeof(*copy) * (size_t)(argc + 1));
	optind = 0;
	opterr = 0;
	expand_cp_abbreviations(argc, copy); /* as cp reads them */
	while ((c = getopt_long(argc, copy, SHORT_OPTIONS, long_options,
				NULL)) != -1) {
		int r = model_option(m, c, optarg);

		engine_set |= c == 'e';
		if (r != 0) {
			ret = r == 0x100 ? 0 : r;
			break;
		}
	}
	opterr = 1;
	free(copy);
	if (ret != RUNS_ON)
		return ret;
	if (m->hard_link && m->symbolic_link)
		return 1;
	if (m->hard_link && m->opts.deref == MAPCP_DEREF_DEFAULT)
		m->opts.deref = MAPCP_DEREF_ALWAYS;
	if (m->verbose || m->debug) /* their lines in the walk's order */
		m->opts.flags |= MAPCP_IN_ORDER;
	if ((m->show_maps || m->pause) && !engine_set)
		m->opts.engine = "mmap";
	return mapcp_check_opts(&m->opts) == NULL ? RUNS_ON : 1;
}

/* The model and parse_options() agree on every option's value. */
static void
check_model(const struct outcome *o, int argc, char **argv)
{
	struct cli m = { .prog = "mapcp" };
	const struct mapcp_opts *a = &o->cli.opts, *b = &m.opts;
	int want;

	mapcp_opts_init(&m.opts);
	want = model(&m, argc, argv);
	if (want == -1)
		return;
	CHECK(o->status == want);
	if (want != RUNS_ON)
		return;
	CHECK(a->engine == b->engine || strcmp(a->engine, b->engine) == 0);
	CHECK(a->window == b->window && a->buffer == b->buffer);
	CHECK(a->queue_depth == b->queue_depth && a->jobs == b->jobs);
	CHECK(a->sparse == b->sparse && a->reflink == b->reflink);
	CHECK(a->flags == b->flags && a->deref == b->deref);
	CHECK(a->preserve == b->preserve && a->make == b->make);
	CHECK(o->cli.strip_slashes == m.strip_slashes);
	CHECK(o->cli.target_dir == m.target_dir);
	CHECK(o->cli.no_target_dir == m.no_target_dir);
	CHECK(o->cli.parents == m.parents && o->cli.verbose == m.verbose);
	CHECK(o->cli.debug == m.debug && o->cli.pause == m.pause);
	CHECK(o->cli.show_maps == m.show_maps);
	CHECK(o->cli.progress_when == m.progress_when);
}

/* Two parses of the same arguments end alike. */
static void
check_same(const struct outcome *a, const struct outcome *b)
{
	CHECK(a->status == b->status);
	CHECK(a->out_len == b->out_len &&
	      memcmp(a->out, b->out, a->out_len) == 0);
	CHECK(a->err_len == b->err_len &&
	      memcmp(a->err, b->err, a->err_len) == 0);
	if (a->status != RUNS_ON)
		return;
	CHECK(a->cli.opts.window == b->cli.opts.window);
	CHECK(a->cli.opts.buffer == b->cli.opts.buffer);
	CHECK(a->cli.opts.flags == b->cli.opts.flags);
	CHECK(a->cli.opts.preserve == b->cli.opts.preserve);
	CHECK(strcmp(a->cli.opts.engine, b->cli.opts.engine) == 0);
}

/* Split the input on NUL bytes into fields[0..n), each its own string. */
static int
split(const uint8_t *data, size_t size, char **fields, int max)
{
	int n = 0;
	size_t start = 0;

	for (size_t i = 0; i <= size && n < max; i++) {
		if (i < size && data[i] != '\0')
			continue;
		fields[n++] = fuzz_string(data + start, i - start);
		CHECK(fields[n - 1] != NULL);
		start = i + 1;
	}
	return n;
}

/* MAPCP_FAIL=...: putenv() of one buffer, as setenv() keeps every value. */
static char env[4096];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *fields[MAX_ARGS + 1], *orig[MAX_ARGS + 2], *argv[MAX_ARGS + 2];
	struct outcome first, second;
	int n = split(data, size, fields, MAX_ARGS + 1), argc = n > 1 ? n : 1;
	const char *fail = n > 0 && fields[0][0] ? fields[0] : NULL;
	size_t argv_size = sizeof(*argv) * (size_t)(argc + 1);

	if (fail != NULL) {
		snprintf(env, sizeof(env), "MAPCP_FAIL=%s", fail);
		putenv(env);
		fail = getenv("MAPCP_FAIL");
	} else {
		unsetenv("MAPCP_FAIL");
	}
	unsetenv("POSIXLY_CORRECT");
	orig[0] = "mapcp";
	for (int i = 1; i < argc; i++)
		orig[i] = fields[i];
	orig[argc] = NULL;

	/* getopt_long permutes argv: each pass gets the original order. */
	memcpy(argv, orig, argv_size);
	parse(&first, argc, argv);
	check_output(&first);
	check_fail(&first.cli.opts, fail);
	if (first.status == RUNS_ON)
		check_accepted(&first.cli);
	memcpy(argv, orig, argv_size);
	parse(&second, argc, argv);
	check_same(&first, &second);
	memcpy(argv, orig, argv_size);
	check_model(&first, argc, argv);

	free(first.out);
	free(first.err);
	free(second.out);
	free(second.err);
	for (int i = 0; i < n; i++)
		free(fields[i]);
	return 0;
}
