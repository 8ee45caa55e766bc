/*
 * mapcp's command line: cp's three forms (SOURCE DEST, SOURCE... DIRECTORY,
 * -t DIRECTORY SOURCE...), cp's options with cp's meanings, messages and
 * exit status. Called as mmap_cp it is the exercise's program: exactly two
 * arguments, mmap engine. Every entry copied is reported through
 * mapcp_opts.on_file, one whole line at a time, from whichever thread
 * copied it; one failure is reported and the rest still copied; the exit
 * status is 1 if anything failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum {
	OPT_ATOMIC = 256,
	OPT_ATTRIBUTES_ONLY,
	OPT_BACKUP,
	OPT_BUFFER,
	OPT_CLEAN_TEMPS,
	OPT_COPY_CONTENTS,
	OPT_DEBUG,
	OPT_FSYNC,
	OPT_INPLACE,
	OPT_KEEP_DIR_SYMLINK,
	OPT_NO_PRESERVE,
	OPT_PARENTS,
	OPT_PAUSE,
	OPT_PRESERVE,
	OPT_PROGRESS,
	OPT_QUEUE_DEPTH,
	OPT_REFLINK,
	OPT_REMOVE_DEST,
	OPT_SHOW_MAPS,
	OPT_SPARSE,
	OPT_STRIP_SLASHES,
	OPT_UPDATE,
	OPT_VERIFY,
	OPT_VERSION,
	OPT_WINDOW,
};

static const struct option long_options[] = {
	{ "archive", no_argument, NULL, 'a' },
	{ "atomic", no_argument, NULL, OPT_ATOMIC },
	{ "attributes-only", no_argument, NULL, OPT_ATTRIBUTES_ONLY },
	{ "backup", optional_argument, NULL, OPT_BACKUP },
	{ "buffer", required_argument, NULL, OPT_BUFFER },
	{ "clean-temps", no_argument, NULL, OPT_CLEAN_TEMPS },
	{ "context", optional_argument, NULL, 'Z' },
	{ "copy-contents", no_argument, NULL, OPT_COPY_CONTENTS },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "dereference", no_argument, NULL, 'L' },
	{ "engine", required_argument, NULL, 'e' },
	{ "force", no_argument, NULL, 'f' },
	{ "fsync", no_argument, NULL, OPT_FSYNC },
	{ "help", no_argument, NULL, 'h' },
	{ "inplace", no_argument, NULL, OPT_INPLACE },
	{ "interactive", no_argument, NULL, 'i' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "keep-directory-symlink", no_argument, NULL, OPT_KEEP_DIR_SYMLINK },
	{ "link", no_argument, NULL, 'l' },
	{ "no-clobber", no_argument, NULL, 'n' },
	{ "no-dereference", no_argument, NULL, 'P' },
	{ "no-preserve", required_argument, NULL, OPT_NO_PRESERVE },
	{ "no-target-directory", no_argument, NULL, 'T' },
	{ "one-file-system", no_argument, NULL, 'x' },
	{ "parents", no_argument, NULL, OPT_PARENTS },
	{ "pause", no_argument, NULL, OPT_PAUSE },
	{ "preserve", optional_argument, NULL, OPT_PRESERVE },
	{ "progress", optional_argument, NULL, OPT_PROGRESS },
	{ "queue-depth", required_argument, NULL, OPT_QUEUE_DEPTH },
	{ "recursive", no_argument, NULL, 'r' },
	{ "reflink", optional_argument, NULL, OPT_REFLINK },
	{ "remove-destination", no_argument, NULL, OPT_REMOVE_DEST },
	{ "show-maps", no_argument, NULL, OPT_SHOW_MAPS },
	{ "sparse", required_argument, NULL, OPT_SPARSE },
	{ "strip-trailing-slashes", no_argument, NULL, OPT_STRIP_SLASHES },
	{ "suffix", required_argument, NULL, 'S' },
	{ "symbolic-link", no_argument, NULL, 's' },
	{ "target-directory", required_argument, NULL, 't' },
	{ "update", optional_argument, NULL, OPT_UPDATE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ NULL, 0, NULL, 0 },
};

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		perror("mapcp");
		exit(1);
	}
	return p;
}

/*
 * GNU cp 9.1's long options. An abbreviation that is unambiguous among
 * them means what it means to cp, whatever mapcp's own options share its
 * prefix: --pr is --preserve (not also --progress), --b is cp's --backup
 * (not mapcp's --buffer). Scripts written for cp keep working.
 */
static const char *const cp_long[] = { "archive",
				       "attributes-only",
				       "backup",
				       "context",
				       "copy-contents",
				       "debug",
				       "dereference",
				       "force",
				       "help",
				       "interactive",
				       "keep-directory-symlink",
				       "link",
				       "no-clobber",
				       "no-dereference",
				       "no-preserve",
				       "no-target-directory",
				       "one-file-system",
				       "parents",
				       "preserve",
				       "recursive",
				       "reflink",
				       "remove-destination",
				       "sparse",
				       "strip-trailing-slashes",
				       "suffix",
				       "symbolic-link",
				       "target-directory",
				       "update",
				       "verbose",
				       "version",
				       NULL };

/*
 * "--NAME" + what follows the abbreviation arg's first len + 2 bytes,
 * kept for the process's life; the same text gets the same string.
 */
static char *
spelt_out(const char *arg, const char *name, size_t len)
{
	static struct spelt {
		struct spelt *next;
		char *from, *to;
	} * all;
	struct spelt *sp;

	for (sp = all; sp != NULL; sp = sp->next)
		if (strcmp(sp->from, arg) == 0)
			return sp->to;
	sp = xmalloc(sizeof(*sp));
	sp->from = xmalloc(strlen(arg) + 1);
	memcpy(sp->from, arg, strlen(arg) + 1);
	sp->to = xmalloc(2 + strlen(name) + strlen(arg + 2 + len) + 1);
	sprintf(sp->to, "--%s%s", name, arg + 2 + len);
	sp->next = all;
	all = sp;
	return sp->to;
}

/* Spell out the abbreviations of cp's long options in argv, as cp reads them.
 */
static void
expand_cp_abbreviations(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *arg = argv[i], *match = NULL;
		bool exact = false;
		size_t len;
		int n = 0;

		if (strncmp(arg, "--", 2) != 0)
			continue;
		len = strcspn(arg + 2, "=");
		if (len == 0)
			continue;
		for (int j = 0; long_options[j].name != NULL; j++)
			exact |= strlen(long_options[j].name) == len &&
				 strncmp(long_options[j].name, arg + 2, len) ==
					 0;
		for (int j = 0; !exact && cp_long[j] != NULL; j++)
			if (strncmp(cp_long[j], arg + 2, len) == 0)
				match = cp_long[j], n++;
		if (n == 1)
			argv[i] = spelt_out(arg, match, len);
	}
}

/* The help text is laid out as the user sees it. */
/* clang-format off */
static void
usage(const char *prog)
{
	printf("Usage: %s [OPTION]... SOURCE DEST\n"
	       "  or:  %s [OPTION]... SOURCE... DIRECTORY\n"
	       "  or:  %s [OPTION]... -t DIRECTORY SOURCE...\n"
	       "  or:  %s --clean-temps DIRECTORY...\n"
	       "  or:  mmap_cp SOURCE DEST\n"
	       "Copy SOURCE to DEST, or SOURCEs into DIRECTORY, through memory\n"
	       "mappings or any other copy path of the kernel. DEST is replaced\n"
	       "atomically: it is either untouched or holds the whole copy.\n"
	       "\n"
	       "  -a, --archive          same as -dR --preserve=all\n"
	       "      --attributes-only  copy no data: a new DEST is empty, an\n"
	       "                         existing one keeps its own; only attributes\n"
	       "      --backup[=CONTROL] keep each DEST replaced: none (off), simple\n"
	       "                         (never), numbered (t), existing (nil; default)\n"
	       "  -b                     like --backup, CONTROL from VERSION_CONTROL\n"
	       "      --copy-contents    with -r, read FIFOs and devices as files\n"
	       "  -d                     same as -P --preserve=links\n"
	       "  -e, --engine=LIST      auto (default), or an engine, or a comma list\n"
	       "                         tried in order; engines:",
	       prog, prog, prog, prog);
	for (unsigned int i = 0, col = 80; mapcp_engine_name(i) != NULL; i++) {
		const char *name = mapcp_engine_name(i);

		if (col + 1 + strlen(name) > 78)
			col = (unsigned int)printf("\n%27s", "") - 1;
		else
			col += (unsigned int)printf(" ");
		col += (unsigned int)printf("%s", name);
	}
	printf("\n"
	       "  -f, --force            replace DEST even if it is not writable\n"
	       "  -H                     follow symlinks named on the command line\n"
	       "  -i, --interactive      ask before replacing DEST\n"
	       "  -j, --jobs=N           copy a tree on N threads, the one walking it\n"
	       "                         included (default: one per CPU; 4 per CPU,\n"
	       "                         at least 8, with --verify or --fsync)\n"
	       "      --keep-directory-symlink  write through a symlink to a\n"
	       "                         directory where DEST's tree has one\n"
	       "  -l, --link             make hard links to SOURCEs, not copies\n"
	       "  -L, --dereference      follow every symlink in SOURCE\n"
	       "  -n, --no-clobber       do not replace an existing DEST\n"
	       "  -P, --no-dereference   copy symlinks as symlinks (default with -r)\n"
	       "  -p                     same as --preserve=mode,ownership,timestamps\n"
	       "      --preserve[=LIST]  keep mode (and ACLs), ownership, timestamps,\n"
	       "                         links, context, xattr, all (default:\n"
	       "                         mode,ownership,timestamps)\n"
	       "      --no-preserve=LIST do not keep these (mode: new files get\n"
	       "                         the default modes)\n"
	       "      --parents          copy SOURCE's path below DIRECTORY\n"
	       "  -r, -R, --recursive    copy directories and all in them\n"
	       "  -s, --symbolic-link    make symbolic links to SOURCEs, not copies\n"
	       "      --strip-trailing-slashes  remove trailing slashes from SOURCEs\n"
	       "                         copied into a DIRECTORY\n"
	       "  -t, --target-directory=DIRECTORY  copy all SOURCEs into DIRECTORY\n"
	       "  -T, --no-target-directory  treat DEST as a file, even a directory\n"
	       "  -u                     copy only when SOURCE is newer than DEST\n"
	       "      --update[=WHICH]   which DESTs to replace: all, none (as -n),\n"
	       "                         none-fail (keep, and fail), older (as -u,\n"
	       "                         the default WHICH)\n"
	       "  -v, --verbose          say what is being copied\n"
	       "  -x, --one-file-system  in a tree, make but do not enter directories\n"
	       "                         on other filesystems\n"
	       "  -Z, --context[=CTX]    SELinux labels: ignored where SELinux is off,\n"
	       "                         as cp does; not supported where it is on\n"
	       "  -S, --suffix=SUFFIX    simple backups' suffix (default ~, or\n"
	       "                         SIMPLE_BACKUP_SUFFIX)\n"
	       "      --sparse=WHEN      auto: keep holes; always: also make holes of\n"
	       "                         zero blocks; never: write every byte\n"
	       "      --reflink[=WHEN]   auto (default): share blocks where possible;\n"
	       "                         always (or no WHEN): share or fail; never\n"
	       "      --remove-destination  replace an existing DEST whatever it is\n"
	       "                         (a symlink is replaced, not written through)\n"
	       "      --verify           read DEST back and compare (xxh3-128) before\n"
	       "                         it replaces anything\n"
	       "      --progress[=WHEN]  a status line on stderr: auto (the default\n"
	       "                         WHEN: on a terminal), always, never\n"
	       "      --inplace          write into DEST as cp does, not atomically\n"
	       "      --atomic           refuse DEST that cannot be replaced atomically\n"
	       "                         (default: write it in place, and say so)\n"
	       "      --fsync            flush the data to disk before DEST appears\n"
	       "      --clean-temps      remove the .NAME.mapcp-XXXXXX temporaries a\n"
	       "                         killed mapcp left in each DIRECTORY\n"
	       "      --window=SIZE      map SIZE bytes of each file at a time (mmap\n"
	       "                         engines; default %uM); SIZE takes K, M, G\n"
	       "      --buffer=SIZE      buffer of the rw, splice and io_uring engines\n"
	       "                         (default %uK)\n"
	       "      --queue-depth=N    io_uring requests in flight (default %u)\n"
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

void
cli_put_name(FILE *f, const char *name)
{
	char small[1024];
	size_t n = mapcp_quote(small, sizeof(small), name);
	char *big = n < sizeof(small) ? NULL : malloc(n + 1);

	if (big != NULL)
		mapcp_quote(big, n + 1, name);
	fputs(big != NULL ? big : small, f);
	free(big);
}

/* fmt has one %s, for arg; where it is "'%s'", arg is quoted as cp does. */
static void __attribute__((noreturn))
usage_error(const struct cli *cli, const char *fmt, const char *arg)
{
	const char *at = strstr(fmt, "'%s'");

	fprintf(stderr, "%s: ", cli->prog);
	if (at != NULL) {
		fprintf(stderr, "%.*s", (int)(at - fmt), fmt);
		cli_put_name(stderr, arg);
		fputs(at + 4, stderr);
	} else {
		fprintf(stderr, fmt, arg);
	}
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cli->prog);
	exit(1);
}

/* -e LIST with a name that is no engine: which one, and what there is. */
static void __attribute__((noreturn))
engine_error(const struct cli *cli, const char *list)
{
	size_t size = strlen(list) + 1;
	char *bad = xmalloc(size);

	snprintf(bad, size, "%s", list); /* all engines: the list is wrong */
	for (const char *p = list, *next; *p != '\0'; p = next) {
		size_t len = strcspn(p, ",");

		next = p[len] ? p + len + 1 : p + len;
		snprintf(bad, size, "%.*s", (int)len, p);
		if (len == 0 || mapcp_check_engines(bad) < 0)
			break;
		snprintf(bad, size, "%s", list);
	}
	fprintf(stderr, "%s: unknown engine ", cli->prog);
	cli_put_name(stderr, bad);
	fputs("; the engines are:", stderr);
	for (unsigned int i = 0; mapcp_engine_name(i) != NULL; i++)
		fprintf(stderr, "%s %s", i ? "," : "", mapcp_engine_name(i));
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cli->prog);
	free(bad);
	exit(1);
}

/*
 * Options people bring from rsync, which mapcp has not: said plainly, with
 * where to look, rather than only getopt's "unrecognized option".
 */
static const char *const rsync_only[] = {
	"acls",		   "append",	      "append-verify",
	"backup-dir",	   "bwlimit",	      "checksum",
	"chmod",	   "chown",	      "compare-dest",
	"compress",	   "compress-level",  "copy-dest",
	"copy-links",	   "copy-unsafe-links", "del",
	"delay-updates",   "delete",	      "delete-after",
	"delete-before",   "delete-delay",    "delete-during",
	"delete-excluded", "devices",	      "dry-run",
	"existing",	   "exclude",	      "exclude-from",
	"files-from",	   "filter",	      "fuzzy",
	"group",	   "hard-links",      "human-readable",
	"ignore-existing", "ignore-times",    "include",
	"include-from",	   "info",	      "itemize-changes",
	"keep-dirlinks",   "link-dest",	      "links",
	"list-only",	   "log-file",	      "max-delete",
	"max-size",	   "min-size",	      "modify-window",
	"no-implied-dirs", "numeric-ids",     "omit-dir-times",
	"out-format",	   "owner",	      "partial",
	"partial-dir",	   "password-file",   "perms",
	"port",		   "prune-empty-dirs", "relative",
	"remove-source-files", "rsh",	      "rsync-path",
	"safe-links",	   "size-only",	      "specials",
	"stats",	   "temp-dir",	      "times",
	"whole-file",	   "xattrs",	      NULL
};

/* After getopt's message for argv[at]: what mapcp has instead, or not. */
static void
unknown_option(const struct cli *cli, int argc, char **argv, int at)
{
	const char *arg = at > 0 && at <= argc ? argv[at - 1] : "";
	size_t len;

	if (strcmp(cli->prog, "cp") == 0)
		return; /* in cp's place, cp's words only */
	/* getopt_long leaves optopt 0 for a long option, and argv[optind -
	 * 1] is then it; inside a cluster of letters it may be the last
	 * long one */
	if (optopt != 0 || strncmp(arg, "--", 2) != 0) {
		/* a short option: a letter mapcp has, wanting its argument? */
		if (optopt != 0 && strchr("ejSt", optopt) == NULL)
			fprintf(stderr,
				"%s: there is no option -%c in mapcp (nor in "
				"cp)\n",
				cli->prog, optopt);
		return;
	}
	len = strcspn(arg + 2, "=");
	for (int i = 0; long_options[i].name != NULL; i++)
		if (strncmp(long_options[i].name, arg + 2, len) == 0)
			return; /* ambiguous, or wants an argument: said */
	for (int i = 0; rsync_only[i] != NULL; i++)
		if (strlen(rsync_only[i]) == len &&
		    strncmp(rsync_only[i], arg + 2, len) == 0) {
			fprintf(stderr,
				"%s: --%s is an rsync option: mapcp copies as "
				"cp does, and has no filters, deletion or "
				"delta transfer (see \"Differences from cp "
				"and rsync\" in mapcp(1))\n",
				cli->prog, rsync_only[i]);
			return;
		}
	fprintf(stderr, "%s: there is no option --%.*s in mapcp (nor in cp)\n",
		cli->prog, (int)len, arg + 2);
}

static size_t
size_arg(const struct cli *cli, const char *what, const char *arg)
{
	size_t v;

	if (arg == NULL || mapcp_parse_size(arg, &v) < 0)
		usage_error(cli, what, arg ? arg : "");
	return v;
}

/*
 * The quotes of argmatch's messages, as gnulib's quote() makes them
 * untranslated: curved in a UTF-8 locale, else ASCII.
 */
static const char *lq = "'", *rq = "'";

static void
set_quotes(void)
{
	if (strcmp(nl_langinfo(CODESET), "UTF-8") == 0)
		lq = "\u2018", rq = "\u2019";
}

/* arg in those quotes, or as cp_put_name() puts it if it has controls. */
static void
put_quoted(const char *arg)
{
	for (const char *p = arg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			cli_put_name(stderr, arg);
			return;
		}
	fprintf(stderr, "%s%s%s", lq, arg, rq);
}

/* A word an option takes, and what it stands for. */
struct word {
	const char *name;
	int value;
};

/*
 * cp's argmatch: arg is one of words[] or an abbreviation that stands for
 * only one value. Otherwise the message cp gives, listing the words
 * (synonyms on one line), and exit 1.
 */
static int
argmatch(const struct cli *cli, const char *what, const char *arg,
	 const struct word *words, size_t n)
{
	int found = -1;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(arg, words[i].name) == 0)
			return words[i].value;
		if (strncmp(arg, words[i].name, strlen(arg)) != 0 ||
		    found == -2)
			continue;
		found = found == -1 || words[found].value == words[i].value
				? (int)i
				: -2; /* ambiguous */
	}
	if (found >= 0)
		return words[found].value;
	fprintf(stderr, "%s: %s argument ", cli->prog,
		found == -2 ? "ambiguous" : "invalid");
	put_quoted(arg);
	fprintf(stderr, " for %s%s%s\nValid arguments are:", lq, what, rq);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%s%s%s",
			i > 0 && words[i].value == words[i - 1].value
				? ", "
				: "\n  - ",
			lq, words[i].name, rq);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cli->prog);
	exit(1);
}

static unsigned int
count_arg(const struct cli *cli, const char *what, const char *arg,
	  unsigned long max)
{
	char *end = NULL;
	unsigned long v = arg != NULL ? strtoul(arg, &end, 10) : 0;

	if (arg == NULL || *arg < '0' || *arg > '9' || *end != '\0' || v < 1 ||
	    v > max)
		usage_error(cli, what, arg ? arg : "");
	return (unsigned int)v;
}

static unsigned int
preserve_arg(const struct cli *cli, const char *what, const char *arg)
{
	unsigned int bits = 0;

	if (arg == NULL)
		return MAPCP_PRESERVE_MODE | MAPCP_PRESERVE_OWNERSHIP |
		       MAPCP_PRESERVE_TIMESTAMPS;
	if (*arg != '\0' && mapcp_parse_preserve(arg, &bits) == 0)
		return bits;
	/* cp's argmatch message, for the first word it does not know */
	for (const char *p = arg;; p++) {
		size_t n = strcspn(p, ",");
		static char *word; /* kept: argmatch() may exit with it */
		struct word names[16];
		size_t k = 0;

		free(word);
		word = strndup(p, n);
		if (word == NULL) {
			perror(cli->prog);
			exit(1);
		}
		if (*word == '\0' || mapcp_parse_preserve(word, &bits) < 0) {
			for (; k < 16 && mapcp_preserve_name(k) != NULL; k++)
				names[k] =
					(struct word){ mapcp_preserve_name(k),
						       (int)k };
			/* "" abbreviates every name: ambiguous, as in cp */
			argmatch(cli, what, word, names, k);
		}
		p += n;
		if (*p == '\0')
			break;
	}
	return bits;
}

/* Does the list name the attribute bit itself (not through all)? */
static bool
names_itself(const char *list, unsigned int bit)
{
	for (const char *p = list; *p != '\0'; p += *p == ',') {
		size_t n = strcspn(p, ",");
		char word[16];
		unsigned int bits;

		if (n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			if (mapcp_parse_preserve(word, &bits) == 0 &&
			    bits == bit)
				return true;
		}
		p += n;
	}
	return false;
}

/* -i's question, on stderr; the answer is a line on stdin. */
static bool
ask(const char *dst, void *arg)
{
	struct cli *cli = arg;
	char line[64];
	struct stat st;
	bool yes;

	pthread_mutex_lock(&cli->out);
	cli_clear_line(cli);
	fprintf(stderr, "%s: ", cli->prog);
	/* cp's words for a DEST we may not write (a symlink always may) */
	if (lstat(dst, &st) == 0 && !S_ISLNK(st.st_mode) &&
	    faccessat(AT_FDCWD, dst, W_OK, AT_EACCESS) < 0) {
		char perms[10];

		for (int i = 0; i < 9; i++)
			perms[i] =
				st.st_mode & (0400 >> i) ? "rwxrwxrwx"[i] : '-';
		if (st.st_mode & S_ISUID)
			perms[2] = st.st_mode & S_IXUSR ? 's' : 'S';
		if (st.st_mode & S_ISGID)
			perms[5] = st.st_mode & S_IXGRP ? 's' : 'S';
		if (st.st_mode & S_ISVTX)
			perms[8] = st.st_mode & S_IXOTH ? 't' : 'T';
		fputs(cli->opts.flags & (MAPCP_FORCE | MAPCP_REMOVE_DEST)
			      ? "replace "
			      : "unwritable ",
		      stderr);
		cli_put_name(stderr, dst);
		fprintf(stderr,
			cli->opts.flags & (MAPCP_FORCE | MAPCP_REMOVE_DEST)
				? ", overriding mode %04o (%.9s)? "
				: " (mode %04o, %.9s); try anyway? ",
			(unsigned int)(st.st_mode & 07777), perms);
	} else {
		fputs("overwrite ", stderr);
		cli_put_name(stderr, dst);
		fputs("? ", stderr);
	}
	fflush(stderr);
	yes = fgets(line, sizeof(line), stdin) != NULL &&
	      (line[0] == 'y' || line[0] == 'Y');
	pthread_mutex_unlock(&cli->out);
	return yes;
}

/*
 * --backup=CONTROL, or VERSION_CONTROL's with none given: cp's names and
 * their unambiguous abbreviations; "existing" when neither says.
 */
static enum mapcp_backup
backup_control(const struct cli *cli, const char *arg)
{
	static const struct word types[] = {
		{ "none", MAPCP_BACKUP_NONE },
		{ "off", MAPCP_BACKUP_NONE },
		{ "simple", MAPCP_BACKUP_SIMPLE },
		{ "never", MAPCP_BACKUP_SIMPLE },
		{ "existing", MAPCP_BACKUP_EXISTING },
		{ "nil", MAPCP_BACKUP_EXISTING },
		{ "numbered", MAPCP_BACKUP_NUMBERED },
		{ "t", MAPCP_BACKUP_NUMBERED },
	};
	const char *what = arg != NULL ? "backup type" : "$VERSION_CONTROL";

	if (arg == NULL)
		arg = getenv("VERSION_CONTROL");
	if (arg == NULL || *arg == '\0')
		return MAPCP_BACKUP_EXISTING;
	return (enum mapcp_backup)argmatch(cli, what, arg, types,
					   sizeof(types) / sizeof(types[0]));
}

/*
 * --update[=WHICH], from coreutils 9.5: all (every DEST replaced: no -u),
 * none (-n), none-fail (kept, and an error), older (-u). As in cp it
 * clears -i, and a -n given before it wins.
 */
static void
update_arg(struct cli *cli, const char *arg)
{
	enum { ALL, NONE, NONE_FAIL, OLDER };
	static const struct word which[] = {
		{ "all", ALL },
		{ "none", NONE },
		{ "none-fail", NONE_FAIL },
		{ "older", OLDER },
	};
	unsigned int *flags = &cli->opts.flags;
	int w = arg == NULL ? OLDER
			    : argmatch(cli, "--update", arg, which,
				       sizeof(which) / sizeof(which[0]));

	if (arg == NULL) {
		*flags |= MAPCP_UPDATE;
		return;
	}
	if (cli->no_clobber_n)
		return;
	*flags &= ~(unsigned)(MAPCP_UPDATE | MAPCP_NO_CLOBBER |
			      MAPCP_NO_CLOBBER_FAIL | MAPCP_INTERACTIVE);
	*flags |= w == OLDER       ? MAPCP_UPDATE
		  : w == NONE      ? MAPCP_NO_CLOBBER
		  : w == NONE_FAIL ? MAPCP_NO_CLOBBER | MAPCP_NO_CLOBBER_FAIL
				   : 0;
}

/* Is SELinux on (its filesystem mounted)? What -Z and context hang on. */
static bool
selinux_enabled(void)
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

/*
 * -Z, --context[=CTX]. Where SELinux is off, cp ignores -Z and warns
 * about --context=CTX; mapcp does the same. Where it is on, mapcp cannot
 * label what it makes, and says so instead of pretending.
 */
static void
context_arg(const struct cli *cli, const char *arg)
{
	if (selinux_enabled()) {
		fprintf(stderr,
			"%s: -Z, --context: setting SELinux contexts is not "
			"supported by mapcp\n",
			cli->prog);
		exit(1);
	}
	if (arg != NULL)
		fprintf(stderr,
			"%s: warning: ignoring --context; it requires an "
			"SELinux-enabled kernel\n",
			cli->prog);
}

static void
parse_option(struct cli *cli, int c, const char *arg)
{
	/* In the order of enum mapcp_sparse and enum mapcp_reflink. */
	/* cp's words for --sparse and --reflink, in its order */
	static const struct word sparse[] = {
		{ "never", MAPCP_SPARSE_NEVER },
		{ "auto", MAPCP_SPARSE_AUTO },
		{ "always", MAPCP_SPARSE_ALWAYS },
	};
	static const struct word reflink[] = {
		{ "auto", MAPCP_REFLINK_AUTO },
		{ "always", MAPCP_REFLINK_ALWAYS },
		{ "never", MAPCP_REFLINK_NEVER },
	};
	static const struct word progress[] = {
		{ "auto", WHEN_AUTO },
		{ "always", WHEN_ALWAYS },
		{ "never", WHEN_NEVER },
	};
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	unsigned int *flags = &cli->opts.flags, bits;

	switch (c) {
	case 'b':
	case OPT_BACKUP:
		cli->opts.backup = backup_control(cli, c == 'b' ? NULL : arg);
		break;
	case 'S':
		cli->opts.backup_suffix = arg;
		if (cli->opts.backup == MAPCP_BACKUP_NONE)
			cli->opts.backup = backup_control(cli, NULL);
		break;
	case 'a':
		*flags |= MAPCP_RECURSIVE;
		cli->opts.deref = MAPCP_DEREF_NEVER;
		cli->opts.preserve = MAPCP_PRESERVE_ALL;
		break;
	case 'd':
		cli->opts.deref = MAPCP_DEREF_NEVER;
		cli->opts.preserve |= MAPCP_PRESERVE_LINKS;
		break;
	case 'e':
		if (mapcp_check_engines(arg) < 0)
			engine_error(cli, arg);
		cli->opts.engine = arg;
		break;
	case 'f':
		*flags |= MAPCP_FORCE;
		break;
	case 'H':
		cli->opts.deref = MAPCP_DEREF_ARGS;
		break;
	case 'i': /* -i and -n: the last one given wins, as in cp */
		*flags = (*flags | MAPCP_INTERACTIVE) &
			 ~(unsigned)(MAPCP_NO_CLOBBER | MAPCP_NO_CLOBBER_FAIL);
		cli->no_clobber_n = false;
		break;
	case 'j':
		cli->opts.jobs = count_arg(cli, "invalid number of jobs '%s'",
					   arg, 1024);
		break;
	case 'L':
		cli->opts.deref = MAPCP_DEREF_ALWAYS;
		break;
	case 'n':
		*flags = (*flags | MAPCP_NO_CLOBBER) &
			 ~(unsigned)(MAPCP_INTERACTIVE | MAPCP_NO_CLOBBER_FAIL);
		cli->no_clobber_n = true;
		break;
	case 'l':
		cli->opts.make = MAPCP_MAKE_HARD_LINK;
		cli->hard_link = true;
		break;
	case 's':
		cli->opts.make = MAPCP_MAKE_SYMLINK;
		cli->symbolic_link = true;
		break;
	case 'x':
		*flags |= MAPCP_ONE_FS;
		break;
	case 'Z':
		context_arg(cli, arg);
		break;
	case OPT_ATTRIBUTES_ONLY:
		*flags |= MAPCP_ATTRIBUTES_ONLY;
		break;
	case OPT_COPY_CONTENTS:
		*flags |= MAPCP_COPY_CONTENTS;
		break;
	case OPT_STRIP_SLASHES:
		cli->strip_slashes = true;
		break;
	case OPT_UPDATE:
		update_arg(cli, arg);
		break;
	case 'P':
		cli->opts.deref = MAPCP_DEREF_NEVER;
		break;
	case 'p':
		cli->opts.preserve |= preserve_arg(cli, "-p", NULL);
		break;
	case 'r':
	case 'R':
		*flags |= MAPCP_RECURSIVE;
		break;
	case 't':
		cli->target_dir = arg;
		break;
	case 'T':
		cli->no_target_dir = true;
		break;
	case 'u':
		*flags |= MAPCP_UPDATE;
		break;
	case 'v':
		cli->verbose = true;
		break;
	case OPT_BUFFER:
		cli->opts.buffer =
			size_arg(cli, "invalid buffer size '%s'", arg);
		if (cli->opts.buffer > MAPCP_MAX_BUFFER)
			usage_error(cli,
				    "invalid buffer size '%s': at most 64M, "
				    "so that memory stays bounded",
				    arg);
		break;
	case OPT_DEBUG:
		cli->debug = true;
		break;
	case OPT_FSYNC:
		*flags |= MAPCP_FSYNC;
		break;
	case OPT_CLEAN_TEMPS:
		cli->clean_temps = true;
		break;
	case OPT_INPLACE:
		*flags |= MAPCP_INPLACE;
		break;
	case OPT_ATOMIC:
		*flags |= MAPCP_ATOMIC;
		break;
	case OPT_REMOVE_DEST:
		*flags |= MAPCP_REMOVE_DEST;
		break;
	case OPT_KEEP_DIR_SYMLINK:
		*flags |= MAPCP_KEEP_DIR_SYMLINK;
		break;
	case OPT_NO_PRESERVE:
		bits = preserve_arg(cli, "--no-preserve", arg ? arg : "");
		cli->opts.preserve &= ~bits;
		if (bits & MAPCP_PRESERVE_CONTEXT)
			cli->context_required = false;
		if (bits & MAPCP_PRESERVE_XATTR)
			*flags &= ~(unsigned)MAPCP_XATTR_REQUIRED;
		/* cp: new files get the default modes, not SOURCE's */
		if (bits & MAPCP_PRESERVE_MODE)
			*flags |= MAPCP_DEFAULT_MODES;
		break;
	case OPT_PARENTS:
		cli->parents = true;
		break;
	case OPT_PAUSE:
		cli->pause = true;
		break;
	case OPT_PRESERVE:
		bits = preserve_arg(cli, "--preserve", arg);
		cli->opts.preserve |= bits;
		if (arg != NULL && names_itself(arg, MAPCP_PRESERVE_CONTEXT))
			cli->context_required = true;
		/* --preserve=xattr: failing to keep them is an error, as cp */
		if (arg != NULL && names_itself(arg, MAPCP_PRESERVE_XATTR))
			*flags |= MAPCP_XATTR_REQUIRED;
		if (bits & MAPCP_PRESERVE_MODE)
			*flags &= ~(unsigned)MAPCP_DEFAULT_MODES;
		break;
	case OPT_PROGRESS:
		cli->progress_when =
			arg == NULL ? WHEN_AUTO
				    : (enum when)argmatch(cli, "--progress",
							  arg, progress, 3);
		break;
	case OPT_QUEUE_DEPTH:
		cli->opts.queue_depth =
			count_arg(cli, "invalid queue depth '%s' (1 to 1024)",
				  arg, MAPCP_MAX_QUEUE_DEPTH);
		break;
	case OPT_REFLINK:
		cli->opts.reflink =
			arg == NULL
				? MAPCP_REFLINK_ALWAYS
				: (enum mapcp_reflink)argmatch(cli, "--reflink",
							       arg, reflink, 3);
		break;
	case OPT_SHOW_MAPS:
		cli->show_maps = true;
		break;
	case OPT_SPARSE:
		cli->opts.sparse = (enum mapcp_sparse)argmatch(
			cli, "--sparse", arg ? arg : "", sparse, 3);
		break;
	case OPT_VERIFY:
		*flags |= MAPCP_VERIFY;
		break;
	case OPT_WINDOW:
		cli->opts.window =
			size_arg(cli, "invalid window size '%s'", arg);
		if (cli->opts.window > MAPCP_MAX_WINDOW)
			usage_error(cli,
				    "invalid window size '%s': at most 1G, "
				    "so that memory stays bounded",
				    arg);
		/* mmap offsets are page multiples: round up to one, if any. */
		if (cli->opts.window > SIZE_MAX - (pg - 1))
			usage_error(cli, "invalid window size '%s'", arg);
		cli->opts.window = (cli->opts.window + pg - 1) / pg * pg;
		break;
	default:
		break;
	}
}

static void
parse_options(struct cli *cli, int argc, char **argv)
{
	bool engine_set = false;
	const char *why;
	int c;

	expand_cp_abbreviations(argc, argv);
	while ((c = getopt_long(argc, argv, "abde:fHhij:lLnPpRrsS:t:TuvxZ",
				long_options, NULL)) != -1) {
		if (c == 'h') {
			usage(cli->prog);
			cli_flush_stdout();
			exit(0);
		}
		if (c == OPT_VERSION) {
			printf("mapcp %s\n", MAPCP_VERSION);
			exit(0);
		}
		if (c == '?') {
			unknown_option(cli, argc, argv, optind);
			fprintf(stderr,
				"Try '%s --help' for more information.\n",
				cli->prog);
			exit(1);
		}
		engine_set |= c == 'e';
		parse_option(cli, c, optarg);
	}
	if (getenv("POSIXLY_CORRECT") != NULL)
		cli->opts.flags |= MAPCP_THROUGH_DANGLING;
	if (cli->hard_link && cli->symbolic_link)
		usage_error(cli, "%s",
			    "cannot make both hard and symbolic links");
	/* cp: -l follows symlinks, even with -r, unless told otherwise */
	if (cli->hard_link && cli->opts.deref == MAPCP_DEREF_DEFAULT)
		cli->opts.deref = MAPCP_DEREF_ALWAYS;
	if ((cli->opts.preserve & MAPCP_PRESERVE_CONTEXT) &&
	    cli->context_required && !selinux_enabled()) {
		fprintf(stderr,
			"%s: cannot preserve security context without an "
			"SELinux-enabled kernel\n",
			cli->prog);
		exit(1);
	}
	if (cli->opts.backup != MAPCP_BACKUP_NONE) {
		const char *env = getenv("SIMPLE_BACKUP_SUFFIX");

		if (strcmp(cli->opts.backup_suffix, "~") == 0 && env != NULL &&
		    *env != '\0' && strchr(env, '/') == NULL)
			cli->opts.backup_suffix = env;
		if (cli->opts.flags & MAPCP_NO_CLOBBER)
			usage_error(cli, "%s",
				    "options --backup and --no-clobber are "
				    "mutually exclusive");
	}
	/* -v lists a tree as cp does: in the walk's order */
	if (cli->verbose || cli->debug)
		cli->opts.flags |= MAPCP_IN_ORDER;
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

/* DIR/BASENAME-of-src, or DIR/src with --parents; malloc'd. */
static char *
into_dir(const struct cli *cli, const char *dir, const char *src)
{
	size_t end = strlen(src), start, dlen = strlen(dir);
	char *path;

	while (end > 1 && src[end - 1] == '/')
		end--;
	start = cli->parents ? 0 : end;
	while (start > 0 && src[start - 1] != '/')
		start--;
	while (cli->parents && src[start] == '/')
		start++; /* --parents /a/b DIR makes DIR/a/b */
	path = xmalloc(dlen + 1 + (end - start) + 1);
	sprintf(path, "%s%s%.*s", dir, dlen && dir[dlen - 1] == '/' ? "" : "/",
		(int)(end - start), src + start);
	return path;
}

void
cli_clear_line(struct cli *cli)
{
	if (cli->line_shown)
		display_clear(cli->display);
}

void
cli_redraw(struct cli *cli)
{
	display_redraw(cli->display);
}

static void
print_debug(const struct mapcp_report *r)
{
	const char *place =
		r->atomic ? "replaced atomically" : "written in place";
	const char *why = r->inplace_why;

	cli_put_name(stdout, r->src);
	fputs(" -> ", stdout);
	cli_put_name(stdout, r->dst);
	fputs(": ", stdout);
	if (r->skipped) {
		printf("skipped, %s\n", r->why ? r->why : "DEST kept");
		return;
	}
	if (r->what != NULL) {
		printf("%s%s\n", r->what, r->step ? "; failed" : "");
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
	if (r->verified != NULL)
		printf("; %s", r->verified);
	if (r->step != MAPCP_STEP_NONE)
		printf("; failed\n");
	else if (r->stream)
		printf("; %jd bytes read to end of file; %s%s%s%s\n",
		       (intmax_t)r->bytes, place, why ? " (" : "",
		       why ? why : "", why ? ")" : "");
	else
		printf("; %jd bytes in %u extent%s; %s%s%s%s\n",
		       (intmax_t)r->bytes, r->extents,
		       r->extents == 1 ? "" : "s", place, why ? " (" : "",
		       why ? why : "", why ? ")" : "");
}

/* -v's " (backup: 'DIR/NAME~')", the directory as DEST was given. */
static void
print_backup(const struct mapcp_report *r, bool as_note)
{
	const char *slash = strrchr(r->dst, '/');
	int dir = slash ? (int)(slash - r->dst + 1) : 0;
	char *path = NULL;

	if (asprintf(&path, "%.*s%s", dir, r->dst, r->backup) < 0)
		path = NULL;
	fputs(as_note ? " (backup: " : "", stdout);
	cli_put_name(stdout, path ? path : r->backup);
	fputs(as_note ? ")" : "", stdout);
	free(path);
}

/* For the summary: what became of an entry. */
static void
count(struct cli *cli, const struct mapcp_report *r)
{
	bool dir = r->what != NULL && strcmp(r->what, "directory") == 0;

	if (r->repeated != NULL)
		return;
	if (r->step != MAPCP_STEP_NONE)
		cli->counts.failed++;
	else if (r->skipped)
		cli->counts.skipped++;
	else if (!dir)
		cli->counts.copied++;
}

/*
 * Failures cp -v has already printed the entry's line for: cp prints it
 * once it has decided to copy, before it opens SOURCE or makes DEST, so
 * these come after the line; a failed mkdir, or a check (same file, into
 * itself, a backup) before the decision, does not.
 */
static bool
said_before(enum mapcp_step step)
{
	switch (step) {
	case MAPCP_STEP_OPEN_SRC:
	case MAPCP_STEP_CREATE:
	case MAPCP_STEP_READ:
	case MAPCP_STEP_WRITE:
	case MAPCP_STEP_MAP_SRC:
	case MAPCP_STEP_MAP_DST:
	case MAPCP_STEP_COPY:
	case MAPCP_STEP_CHANGED:
	case MAPCP_STEP_ENGINE:
	case MAPCP_STEP_META:
	case MAPCP_STEP_SYNC:
	case MAPCP_STEP_COMMIT:
	case MAPCP_STEP_CLOSE:
	case MAPCP_STEP_CLONE:
	case MAPCP_STEP_VERIFY:
	case MAPCP_STEP_SYMLINK:
	case MAPCP_STEP_SPECIAL:
	case MAPCP_STEP_FIFO:
	case MAPCP_STEP_LINK:
	case MAPCP_STEP_READLINK:
	case MAPCP_STEP_PRESERVE:
	case MAPCP_STEP_SYMLINK_TO:
		return true;
	default:
		return false;
	}
}

/* -v's line, as cp prints it: SOURCE -> DEST, for what is made. */
static bool
verbose_line(const struct cli *cli, const struct mapcp_report *r)
{
	return cli->verbose && !r->skipped &&
	       (r->step == MAPCP_STEP_NONE ? !r->existed /* made, or copied */
					   : said_before(r->step));
}

static void
print_verbose(const struct mapcp_report *r)
{
	if (r->parent) { /* cp 9.1 prints these two as they are */
		printf("%s -> %s\n", r->src, r->dst);
		return;
	}
	cli_put_name(stdout, r->src);
	fputs(" -> ", stdout);
	/* cp -fbv F F says it copied F to its backup */
	if (r->backup_of_src)
		print_backup(r, false);
	else
		cli_put_name(stdout, r->dst);
	if (r->backup[0] != '\0' && !r->backup_of_src)
		print_backup(r, true);
	if (r->verified != NULL && r->step == MAPCP_STEP_NONE)
		fputs(" (verified)", stdout);
	putchar('\n');
}

/*
 * Every entry copied, skipped or failed: one line, never two at once.
 * The progress line is taken away only when there is something to say.
 */
static void
on_file(const struct mapcp_report *r, void *arg)
{
	struct cli *cli = arg;
	bool debug = cli->debug &&
		     (r->engine != NULL || r->skipped || r->what != NULL);
	bool says = r->repeated != NULL || debug || verbose_line(cli, r) ||
		    r->step != MAPCP_STEP_NONE ||
		    (r->inplace_why != NULL && !r->skipped);
	char msg[8192];

	pthread_mutex_lock(&cli->out);
	count(cli, r);
	if (!says) {
		pthread_mutex_unlock(&cli->out);
		return;
	}
	cli_clear_line(cli);
	if (r->repeated != NULL) { /* cp's warning, and nothing else */
		fprintf(stderr, "%s: warning: source %s ", cli->prog,
			r->repeated);
		cli_put_name(stderr, r->src);
		fputs(" specified more than once\n", stderr);
	} else {
		if (debug)
			print_debug(r);
		else if (verbose_line(cli, r))
			print_verbose(r);
		cli_flush_stdout();
		if (r->step != MAPCP_STEP_NONE) {
			fprintf(stderr, "%s: %s\n", cli->prog,
				mapcp_report_error(r, msg, sizeof(msg)));
		} else if (r->inplace_why != NULL && !r->skipped) {
			fprintf(stderr, "%s: ", cli->prog);
			cli_put_name(stderr, r->dst);
			fprintf(stderr,
				" written in place, not replaced atomically: "
				"%s\n",
				r->inplace_why);
		}
	}
	cli_redraw(cli);
	pthread_mutex_unlock(&cli->out);
}

/* One SOURCE into dir, as dst (--parents: its path below dir). */
static unsigned long
copy_one(struct cli *cli, const char *src, const char *dir, const char *dst)
{
	if (cli->parents)
		return mapcp_session_copy_parents(cli->session, src, dir);
	return mapcp_session_copy(cli->session, src, dst);
}

/* --strip-trailing-slashes: "d/" is "d", "/" stays "/". */
static void
strip_slashes(char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
}

/*
 * SOURCE... DIRECTORY: each into DIRECTORY, as DIRECTORY/its name (its
 * path with --parents). cp's rules across SOURCEs are the session's.
 */
static int
copy_into(struct cli *cli, const char *dir, char **srcs, int n)
{
	unsigned long failures = 0;

	/* as cp, only in this form: "sd/" is then the symlink sd itself */
	for (int i = 0; cli->strip_slashes && i < n; i++)
		strip_slashes(srcs[i]);
	for (int i = 0; i < n; i++) {
		char *dst = into_dir(cli, dir, srcs[i]);

		failures += copy_one(cli, srcs[i], dir, dst);
		free(dst);
	}
	return failures > 0;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* cp's "target directory 'X': Not a directory", and exit 1. */
static void __attribute__((noreturn))
target_error(const struct cli *cli, const char *what, const char *path)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int err = fd < 0 ? errno : ENOTDIR;

	fprintf(stderr, "%s: %s", cli->prog, what);
	cli_put_name(stderr, path);
	fprintf(stderr, ": %s\n", strerror(err));
	exit(1);
}

/* Work out the forms, then copy. Returns the exit status. */
static int
run(struct cli *cli, char **ops, int nops)
{

	if (cli->target_dir != NULL) {
		if (cli->no_target_dir) { /* cp says it without the hint */
			fprintf(stderr,
				"%s: cannot combine --target-directory (-t) "
				"and --no-target-directory (-T)\n",
				cli->prog);
			exit(1);
		}
		if (!is_dir(cli->target_dir))
			target_error(cli, "target directory ", cli->target_dir);
		if (nops == 0)
			usage_error(cli, "missing file operand%s", "");
		return copy_into(cli, cli->target_dir, ops, nops);
	}
	if (nops == 0)
		usage_error(cli, "missing file operand%s", "");
	if (nops == 1)
		usage_error(cli, "missing destination file operand after '%s'",
			    ops[0]);
	if (cli->no_target_dir) {
		if (nops > 2)
			usage_error(cli, "extra operand '%s'", ops[2]);
		return mapcp_session_copy(cli->session, ops[0], ops[1]) > 0;
	}
	if (is_dir(ops[nops - 1]))
		return copy_into(cli, ops[nops - 1], ops, nops - 1);
	if (cli->parents)
		usage_error(cli,
			    "with --parents, the destination must be a "
			    "directory%s",
			    "");
	if (nops > 2)
		target_error(cli, "target ", ops[nops - 1]);
	return mapcp_session_copy(cli->session, ops[0], ops[1]) > 0;
}

struct cleaning {
	struct cli *cli;
	const char *dir;
};

static void
cleaned(const char *name, int err, void *arg)
{
	const struct cleaning *c = arg;
	FILE *f = err == 0 ? stdout : stderr;
	char *path = NULL;

	if (err == 0 && !c->cli->verbose)
		return;
	if (asprintf(&path, "%s/%s", c->dir, name) < 0)
		path = NULL;
	if (err == 0)
		fputs("removed ", f);
	else
		fprintf(f, "%s: %s ", c->cli->prog,
			err == EBUSY || err == EPERM ||
					err == MAPCP_TEMP_UNMARKED ||
					err == MAPCP_TEMP_NOT_YOURS
				? "not removing"
				: "cannot remove");
	cli_put_name(f, path != NULL ? path : name);
	if (err == EBUSY)
		fputs(": in use by a running copy", f);
	else if (err == EPERM)
		fputs(": not a regular file", f);
	else if (err == MAPCP_TEMP_UNMARKED)
		fputs(": not marked as a mapcp temporary (no user.mapcp.temp "
		      "xattr)",
		      f);
	else if (err == MAPCP_TEMP_NOT_YOURS)
		fputs(": another user's file in a sticky directory", f);
	else if (err != 0)
		fprintf(f, ": %s", strerror(err));
	fputc('\n', f);
	free(path);
}

/* --clean-temps DIRECTORY...: 0 when every temporary found is gone. */
static int
clean_temps(struct cli *cli, char **dirs, int n)
{
	int status = 0;

	if (n == 0)
		usage_error(cli, "missing directory operand%s", "");
	for (int i = 0; i < n; i++) {
		struct cleaning c = { cli, dirs[i] };
		int left = mapcp_clean_temps(dirs[i], cleaned, &c);

		if (left < 0) {
			fprintf(stderr, "%s: cannot read directory ",
				cli->prog);
			cli_put_name(stderr, dirs[i]);
			fprintf(stderr, ": %s\n", strerror(-left));
		}
		if (left != 0)
			status = 1;
	}
	return status;
}

/*
 * SIGINT, SIGTERM, SIGHUP, SIGPIPE: remove the temporaries of copies in
 * progress, so that every DEST is as it was or complete, and die of the
 * signal, as cp would. A signal ignored when we started stays ignored.
 */
static void
on_signal(int sig)
{
	mapcp_remove_temps();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
catch_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGPIPE, SIGTERM };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa, old;

		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigfillset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

/*
 * Open /dev/null on any of fds 0, 1 and 2 that is closed, so that no file
 * the copy opens (a source, a temporary) can land there and receive the
 * progress line, or give -i its answer. As gnulib's stdopen does, it is
 * opened the wrong way round (fd 0 for writing, 1 and 2 for reading): a
 * read of stdin or a write of stdout then fails (EBADF) and is reported
 * at exit, as with a closed descriptor, instead of vanishing.
 */
/* The descriptors 0-63 open when mapcp started: what /dev/fd/N can name. */
static uint64_t fds_at_start;

static void
reserve_std_fds(void)
{
	for (int fd = 0; fd < 64; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			fds_at_start |= (uint64_t)1 << fd;
	for (int fd = 0; fd <= 2; fd++) {
		int got;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		got = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
		if (got != fd) /* cannot even say why: stderr may be closed */
			_exit(1);
	}
}

/* The first error writing stdout, kept for the report at exit. */
static int stdout_err;
static const char *prog_name = "mapcp"; /* cli.prog, for that report */

void
cli_flush_stdout(void)
{
	/* a write that failed inside printf() left its errno, not its data */
	if ((ferror(stdout) || fflush(stdout) != 0) && stdout_err == 0)
		stdout_err = errno ? errno : EIO;
	clearerr(stdout); /* so a later error is seen, not this one's flag */
}

/*
 * At exit: what went to stdout (-v, --debug, --help) must have been
 * written, as coreutils' close_stdout checks. A write error is reported
 * once and makes the exit status 1; an error on stderr can only make it 1.
 * A stdout closed from the start is no error if nothing was written to it.
 */
static void
close_std_streams(void)
{
	bool pending = __fpending(stdout) > 0, failed = ferror(stdout);

	/* fclose() writes what is left and says why it cannot */
	if (fclose(stdout) != 0 && stdout_err == 0 &&
	    (failed || pending || errno != EBADF))
		stdout_err = errno;
	if (failed && stdout_err == 0)
		stdout_err = EIO;
	if (stdout_err != 0) {
		fprintf(stderr, "%s: write error: %s\n", prog_name,
			strerror(stdout_err));
		_exit(1);
	}
	if (fclose(stderr) != 0 && errno != EBADF)
		_exit(1);
}

/*
 * Does path name a descriptor the caller did not give us (/dev/stdout
 * with stdout closed, /dev/fd/N for a closed N)? For cp it names nothing;
 * for us it would name the /dev/null put in its place, or a descriptor of
 * our own.
 */
static bool
names_closed_fd(const char *path, bool *symlink)
{
	static const char *const std[] = { "/dev/stdin", "/dev/stdout",
					   "/dev/stderr" };
	const char *n = NULL;
	char *end;
	long fd = -1;

	*symlink = false;
	for (int i = 0; i < 3; i++)
		if (strcmp(path, std[i]) == 0)
			fd = i, *symlink = true;
	if (strncmp(path, "/dev/fd/", 8) == 0)
		n = path + 8;
	else if (strncmp(path, "/proc/self/fd/", 14) == 0)
		n = path + 14;
	if (n != NULL && *n >= '0' && *n <= '9') {
		fd = strtol(n, &end, 10);
		if (*end != '\0')
			fd = -1;
	}
	return fd >= 0 && fd < 64 && !(fds_at_start & ((uint64_t)1 << fd));
}

/* Operands naming descriptors we were not given: cp's errors for them. */
static bool
closed_fd_operands(const struct cli *cli, char **ops, int nops)
{
	bool bad = false, link;

	for (int i = 0; i < nops; i++) {
		bool dest = cli->target_dir == NULL && i == nops - 1;

		if (!names_closed_fd(ops[i], &link))
			continue;
		fprintf(stderr, "%s: %s", cli->prog,
			!dest  ? "cannot stat "
			: link ? "not writing through dangling symlink "
			       : "cannot create regular file ");
		cli_put_name(stderr, ops[i]);
		fputs(dest && link ? "\n" : ": No such file or directory\n",
		      stderr);
		bad = true;
	}
	return bad;
}

/* The whole command is one session; 0 or 1, the exit status. */
static int
run_session(struct cli *cli, char **ops, int nops)
{
	int status;

	if (closed_fd_operands(cli, ops, nops))
		return 1;

	cli->session = mapcp_session_new(&cli->opts);
	if (cli->session == NULL) {
		fprintf(stderr, "%s: %s\n", cli->prog, strerror(ENOMEM));
		return 1;
	}
	catch_signals();
	status = run(cli, ops, nops);
	mapcp_session_free(cli->session);
	cli->session = NULL;
	return status;
}

int
main(int argc, char **argv)
{
	struct cli cli = { .prog = "mapcp" };
	struct display *display;
	int nops, status;
	char **ops;

	reserve_std_fds();
	atexit(close_std_streams);
	setlocale(LC_CTYPE, ""); /* what prints as itself in a quoted name */
	set_quotes();
	mapcp_opts_init(&cli.opts);
	pthread_mutex_init(&cli.out, NULL);
	pthread_mutex_init(&cli.progress.lock, NULL);
	cli.opts.on_window = cli_on_window;
	cli.opts.on_window_arg = &cli;
	cli.opts.on_file = on_file;
	cli.opts.on_file_arg = &cli;
	cli.opts.ask = ask;
	cli.opts.ask_arg = &cli;
	/*
	 * Messages carry the name we were run by, as GNU tools' do: "cp: ..."
	 * when installed as cp. The test binary stands for mapcp.
	 */
	if (cli_test_hooks != NULL)
		cli_test_hooks(&cli);
	else if (*base_name(argv[0]) != '\0')
		cli.prog = prog_name = base_name(argv[0]);
	if (strcmp(base_name(argv[0]), "mmap_cp") == 0) {
		if (argc != 3) {
			fputs("Usage: ./mmap_cp <from_file> <to_file>\n",
			      stderr);
			return 1;
		}
		cli.prog = prog_name = "mmap_cp";
		cli.opts.engine = "mmap";
		return run_session(&cli, argv + 1, 2);
	}
	parse_options(&cli, argc, argv);
	ops = argv + optind;
	nops = argc - optind;
	if (cli.clean_temps)
		return clean_temps(&cli, ops, nops);
	/* -t: every operand is a source; else all but the last. */
	display = display_start(&cli, ops,
				cli.target_dir ? nops
				: nops > 1     ? nops - 1
					       : 0);
	status = run_session(&cli, ops, nops);
	display_stop(display);
	return status;
}
