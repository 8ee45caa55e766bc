/*
 * mapcp's command line: cp's three forms (SOURCE DEST, SOURCE... DIRECTORY,
 * -t DIRECTORY SOURCE...), options, messages and exit status. Called as
 * mmap_cp it is the exercise's program: exactly two arguments, mmap engine.
 * One failed source is reported and the rest still copied; the exit status
 * is 1 if any failed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum {
	OPT_BUFFER = 256,
	OPT_DEBUG,
	OPT_FSYNC,
	OPT_INPLACE,
	OPT_PAUSE,
	OPT_QUEUE_DEPTH,
	OPT_REFLINK,
	OPT_SHOW_MAPS,
	OPT_SPARSE,
	OPT_VERSION,
	OPT_WINDOW,
};

static const struct option long_options[] = {
	{ "buffer", required_argument, NULL, OPT_BUFFER },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "engine", required_argument, NULL, 'e' },
	{ "force", no_argument, NULL, 'f' },
	{ "fsync", no_argument, NULL, OPT_FSYNC },
	{ "help", no_argument, NULL, 'h' },
	{ "inplace", no_argument, NULL, OPT_INPLACE },
	{ "no-clobber", no_argument, NULL, 'n' },
	{ "pause", no_argument, NULL, OPT_PAUSE },
	{ "queue-depth", required_argument, NULL, OPT_QUEUE_DEPTH },
	{ "reflink", optional_argument, NULL, OPT_REFLINK },
	{ "show-maps", no_argument, NULL, OPT_SHOW_MAPS },
	{ "sparse", required_argument, NULL, OPT_SPARSE },
	{ "target-directory", required_argument, NULL, 't' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ NULL, 0, NULL, 0 },
};

/* The help text is laid out as the user sees it. */
/* clang-format off */
static void
usage(void)
{
	printf("Usage: mapcp [OPTION]... SOURCE DEST\n"
	       "  or:  mapcp [OPTION]... SOURCE... DIRECTORY\n"
	       "  or:  mapcp [OPTION]... -t DIRECTORY SOURCE...\n"
	       "  or:  mmap_cp SOURCE DEST\n"
	       "Copy SOURCE to DEST, or SOURCEs into DIRECTORY, through memory\n"
	       "mappings or any other copy path of the kernel. DEST is replaced\n"
	       "atomically: it is either untouched or holds the whole copy.\n"
	       "\n"
	       "  -e, --engine=LIST      auto (default), or an engine, or a comma list\n"
	       "                         tried in order; engines:");
	for (unsigned int i = 0, col = 80; mapcp_engine_name(i) != NULL; i++) {
		const char *name = mapcp_engine_name(i);

		if (col + 1 + strlen(name) > 78) {
			col = (unsigned int)printf("\n%27s", "") - 1;
		} else {
			col += (unsigned int)printf(" ");
		}
		col += (unsigned int)printf("%s", name);
	}
	printf("\n"
	       "      --window=SIZE      map SIZE bytes of each file at a time (mmap\n"
	       "                         engines; default %uM); SIZE takes K, M, G\n"
	       "      --buffer=SIZE      buffer of the rw, splice and io_uring engines\n"
	       "                         (default %uK)\n"
	       "      --queue-depth=N    io_uring requests in flight (default %u)\n"
	       "      --sparse=WHEN      auto: keep holes; always: also make holes of\n"
	       "                         zero blocks; never: write every byte\n"
	       "      --reflink[=WHEN]   auto (default): share blocks where possible;\n"
	       "                         always (or no WHEN): share or fail; never\n"
	       "  -f, --force            replace DEST even if it is not writable\n"
	       "  -n, --no-clobber       do not replace an existing DEST\n"
	       "  -t, --target-directory=DIRECTORY  copy all SOURCEs into DIRECTORY\n"
	       "      --inplace          write into DEST as cp does, not atomically\n"
	       "      --fsync            flush the data to disk before DEST appears\n"
	       "  -v, --verbose          say what is being copied\n"
	       "      --debug            say which engine copied each file, and why\n"
	       "      --show-maps        print the /proc/self/maps lines of each window\n"
	       "      --pause            after the first window, wait for ENTER\n"
	       "  -h, --help             display this help and exit\n"
	       "      --version          output version information and exit\n"
	       "\n"
	       "Exit status is 0 if every SOURCE was copied, 1 otherwise.\n"
	       "See mapcp(1) for the engines and when each one wins.\n",
	       MAPCP_DEFAULT_WINDOW >> 20, MAPCP_DEFAULT_BUFFER >> 10,
	       MAPCP_DEFAULT_QUEUE_DEPTH);
}
/* clang-format on */

static void __attribute__((noreturn))
usage_error(const struct cli *cli, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", cli->prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cli->prog);
	exit(1);
}

/* The test engine's failure, from MAPCP_FAIL=ERRNO:BYTES (tests only). */
static void
test_failure(struct cli *cli)
{
	static const struct {
		const char *name;
		int err;
	} names[] = {
		{ "EDQUOT", EDQUOT },
		{ "EINVAL", EINVAL },
		{ "EIO", EIO },
		{ "ENODATA", ENODATA },
		{ "ENOSPC", ENOSPC },
		{ "ENOSYS", ENOSYS },
		{ "EOPNOTSUPP", EOPNOTSUPP },
		{ "EXDEV", EXDEV },
	};
	const char *v = getenv("MAPCP_FAIL");
	const char *colon;

	if (v == NULL || (colon = strchr(v, ':')) == NULL)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(v, names[i].name, (size_t)(colon - v)) == 0 &&
		    names[i].name[colon - v] == '\0')
			cli->opts.fail_errno = names[i].err;
	cli->opts.fail_after = strtoll(colon + 1, NULL, 10);
}

static size_t
size_arg(const struct cli *cli, const char *what, const char *arg)
{
	size_t v;

	if (mapcp_parse_size(arg, &v) < 0)
		usage_error(cli, what, arg);
	return v;
}

/* The index of arg in words (NULL-terminated), or a usage error. */
static int
word_arg(const struct cli *cli, const char *option, const char *const *words,
	 const char *arg)
{
	arg = arg != NULL ? arg : ""; /* getopt_long: not for required args */
	for (int i = 0; words[i] != NULL; i++)
		if (strcmp(words[i], arg) == 0)
			return i;
	fprintf(stderr,
		"%s: invalid argument '%s' for '--%s'\n"
		"Valid arguments are: 'auto', 'always', 'never'\n"
		"Try '%s --help' for more information.\n",
		cli->prog, arg, option, cli->prog);
	exit(1);
}

static unsigned int
depth_arg(const struct cli *cli, const char *arg)
{
	char *end = NULL;
	unsigned long v = arg != NULL ? strtoul(arg, &end, 10) : 0;

	if (arg == NULL || *arg < '0' || *arg > '9' || *end != '\0' || v < 1 ||
	    v > MAPCP_MAX_QUEUE_DEPTH)
		usage_error(cli, "invalid queue depth '%s' (1 to 1024)", arg);
	return (unsigned int)v;
}

static void
parse_options(struct cli *cli, int argc, char **argv)
{
	/* In the order of enum mapcp_sparse and enum mapcp_reflink. */
	static const char *const whens[] = { "auto", "always", "never", NULL };
	bool engine_set = false;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	const char *why;
	int c;

	while ((c = getopt_long(argc, argv, "e:fhnt:v", long_options, NULL)) !=
	       -1) {
		switch (c) {
		case 'e':
			if (mapcp_check_engines(optarg) < 0)
				usage_error(cli, "unknown engine in '%s'",
					    optarg);
			cli->opts.engine = optarg;
			engine_set = true;
			break;
		case 'f':
			cli->opts.flags |= MAPCP_FORCE;
			break;
		case 'h':
			usage();
			exit(0);
		case 'n':
			cli->opts.flags |= MAPCP_NO_CLOBBER;
			break;
		case 't':
			cli->target_dir = optarg;
			break;
		case 'v':
			cli->verbose = true;
			break;
		case OPT_BUFFER:
			cli->opts.buffer = size_arg(
				cli, "invalid buffer size '%s'", optarg);
			break;
		case OPT_DEBUG:
			cli->debug = true;
			break;
		case OPT_FSYNC:
			cli->opts.flags |= MAPCP_FSYNC;
			break;
		case OPT_INPLACE:
			cli->opts.flags |= MAPCP_INPLACE;
			break;
		case OPT_PAUSE:
			cli->pause = true;
			break;
		case OPT_QUEUE_DEPTH:
			cli->opts.queue_depth = depth_arg(cli, optarg);
			break;
		case OPT_REFLINK:
			cli->opts.reflink =
				optarg == NULL ? MAPCP_REFLINK_ALWAYS
					       : (enum mapcp_reflink)word_arg(
							 cli, "reflink", whens,
							 optarg);
			break;
		case OPT_SPARSE:
			cli->opts.sparse = (enum mapcp_sparse)word_arg(
				cli, "sparse", whens, optarg);
			break;
		case OPT_SHOW_MAPS:
			cli->show_maps = true;
			break;
		case OPT_VERSION:
			printf("mapcp %s\n", MAPCP_VERSION);
			exit(0);
		case OPT_WINDOW:
			cli->opts.window = size_arg(
				cli, "invalid window size '%s'", optarg);
			/* mmap offsets are page multiples: round up to one. */
			cli->opts.window =
				(cli->opts.window + pg - 1) / pg * pg;
			break;
		default:
			fprintf(stderr,
				"Try '%s --help' for more information.\n",
				cli->prog);
			exit(1);
		}
	}
	/* Looking at mappings asks for an engine that makes them. */
	if ((cli->show_maps || cli->pause) && !engine_set)
		cli->opts.engine = "mmap";
	why = mapcp_check_opts(&cli->opts);
	if (why != NULL)
		usage_error(cli, "%s", why);
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* DIR/BASENAME-of-src, malloc'd; exits on ENOMEM. */
static char *
into_dir(const char *dir, const char *src)
{
	size_t end = strlen(src), start, dlen = strlen(dir);
	char *path;

	while (end > 1 && src[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && src[start - 1] != '/')
		start--;
	path = malloc(dlen + 1 + (end - start) + 1);
	if (path == NULL) {
		perror("mapcp");
		exit(1);
	}
	sprintf(path, "%s%s%.*s", dir, dlen && dir[dlen - 1] == '/' ? "" : "/",
		(int)(end - start), src + start);
	return path;
}

static void
print_debug(const struct mapcp_report *r)
{
	const char *place =
		r->atomic ? "replaced atomically" : "written in place";

	printf("'%s' -> '%s': ", r->src, r->dst);
	if (r->skipped) {
		printf("skipped, DEST exists (--no-clobber)\n");
		return;
	}
	printf("engine %s (%s", r->engine, r->stream ? "stream: " : "");
	printf("%s)", r->stream ? r->stream : r->why);
	for (unsigned int i = 0; i < r->nfallbacks; i++) {
		printf("%s %s: %s", i == 0 ? "; fell back from" : ",",
		       r->fallback[i].engine, strerror(r->fallback[i].err));
		if (r->fallback[i].note != NULL)
			printf(" (%s)", r->fallback[i].note);
	}
	if (r->step != MAPCP_STEP_NONE)
		printf("; failed\n");
	else if (r->stream)
		printf("; %jd bytes read to end of file; %s\n",
		       (intmax_t)r->bytes, place);
	else
		printf("; %jd bytes in %u extent%s; %s\n", (intmax_t)r->bytes,
		       r->extents, r->extents == 1 ? "" : "s", place);
}

static int
copy_one(struct cli *cli, const char *src, const char *dst)
{
	struct mapcp_report r;
	char msg[8192];
	int ret = mapcp_copy_file(src, dst, &cli->opts, &r);

	if (cli->debug && (r.engine != NULL || r.skipped))
		print_debug(&r);
	else if (cli->verbose && r.skipped)
		printf("skipped '%s'\n", dst);
	else if (cli->verbose && ret == 0)
		printf("'%s' -> '%s'\n", src, dst);
	fflush(stdout);
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", cli->prog,
			mapcp_report_error(&r, msg, sizeof(msg)));
		return 1;
	}
	return 0;
}

static int
copy_into(struct cli *cli, const char *dir, char **srcs, int n)
{
	int status = 0;

	for (int i = 0; i < n; i++) {
		char *dst = into_dir(dir, srcs[i]);

		status |= copy_one(cli, srcs[i], dst);
		free(dst);
	}
	return status;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int
main(int argc, char **argv)
{
	struct cli cli = { .prog = "mapcp" };
	char **ops;
	int nops;

	mapcp_opts_init(&cli.opts);
	cli.opts.on_window = cli_on_window;
	cli.opts.on_window_arg = &cli;
	test_failure(&cli);
	if (strcmp(base_name(argv[0]), "mmap_cp") == 0) {
		if (argc != 3) {
			fputs("Usage: ./mmap_cp <from_file> <to_file>\n",
			      stderr);
			return 1;
		}
		cli.prog = "mmap_cp";
		cli.opts.engine = "mmap";
		return is_dir(argv[2]) ? copy_into(&cli, argv[2], argv + 1, 1)
				       : copy_one(&cli, argv[1], argv[2]);
	}
	parse_options(&cli, argc, argv);
	ops = argv + optind;
	nops = argc - optind;
	if (cli.target_dir != NULL) {
		if (!is_dir(cli.target_dir))
			usage_error(&cli, "target '%s' is not a directory",
				    cli.target_dir);
		if (nops == 0)
			usage_error(&cli, "missing file operand%s", "");
		return copy_into(&cli, cli.target_dir, ops, nops);
	}
	if (nops == 0)
		usage_error(&cli, "missing file operand%s", "");
	if (nops == 1)
		usage_error(&cli, "missing destination file operand after '%s'",
			    ops[0]);
	if (is_dir(ops[nops - 1]))
		return copy_into(&cli, ops[nops - 1], ops, nops - 1);
	if (nops > 2)
		usage_error(&cli, "target '%s' is not a directory",
			    ops[nops - 1]);
	return copy_one(&cli, ops[0], ops[1]);
}
