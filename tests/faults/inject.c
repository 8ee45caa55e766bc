/*
 * The injection driver of make check-faults: runs mapcp under the fault
 * shim (tests/faults/shim.c) once per (function, call number, fault) and
 * judges every outcome.
 *
 *   inject MAPCP SHIM WORKDIR [CAP]
 *
 * For each scenario (an engine, DEST new or existing, --fsync, -p, named
 * temporaries, trees) a first run counts the calls each function gets.
 * Then every call of every function that was called (or the 1st ... CAPth
 * and the last, given CAP) is made to fail in turn, with EIO, ENOSPC, EDQUOT, EINTR,
 * EAGAIN and, for calls that move bytes, a short count. A run is judged:
 *
 *   complete  exit 0 and DEST byte-identical to the source;
 *   clean     exit 1, one "mapcp: " line naming the failure's errno,
 *             DEST exactly as before (or still absent), no temporary;
 *   bad       anything else, and any failure after EINTR, EAGAIN or a
 *             short count, which must be retried.
 *
 * With INJECT_FIU_RUNS=N, each scenario also gets N runs under libfiu's
 * POSIX preload wrappers (fiu-run -x), faults at random.
 *
 * Bytes lost: for a bad run, the bytes of DEST that are neither what it
 * held before nor what was copied. Ends with the totals, appends them to
 * $MAPCP_TALLY when set, and exits 1 if any run was bad.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024 * 1024)
#define FIU_LIB "/usr/lib/fiu" /* Debian's fiu-utils */

struct scenario {
	const char *name;
	const char *args[6]; /* before SRC DST */
	bool existing;	     /* DEST exists before the copy */
	bool tree;	     /* copy the tree "tree" to "out" */
	bool no_tmpfile;     /* no O_TMPFILE: named temporaries */
};

/* S(name, DEST exists, tree, named temporaries, options...) */
#define S(n, e, t, x, ...)                                                     \
	{                                                                      \
		.name = n, .existing = e, .tree = t, .no_tmpfile = x,          \
		.args = { __VA_ARGS__ }                                        \
	}
static const struct scenario scenarios[] = {
	S("auto, new DEST", false, false, false, NULL),
	S("auto, existing DEST", true, false, false, NULL),
	S("rw, new DEST", false, false, false, "-e", "rw", NULL),
	S("rw, existing DEST", true, false, false, "-e", "rw", NULL),
	S("mmap, new DEST", false, false, false, "-e", "mmap", NULL),
	S("mmap, existing DEST", true, false, false, "-e", "mmap", NULL),
	S("mmap-write, new DEST", false, false, false, "-e", "mmap-write",
	  NULL),
	S("mmap-write, existing DEST", true, false, false, "-e", "mmap-write",
	  NULL),
	S("copy_file_range, new DEST", false, false, false, "-e",
	  "copy_file_range", NULL),
	S("copy_file_range, existing DEST", true, false, false, "-e",
	  "copy_file_range", NULL),
	S("sendfile, new DEST", false, false, false, "-e", "sendfile", NULL),
	S("sendfile, existing DEST", true, false, false, "-e", "sendfile",
	  NULL),
	S("splice, new DEST", false, false, false, "-e", "splice", NULL),
	S("splice, existing DEST", true, false, false, "-e", "splice", NULL),
	S("io_uring, new DEST", false, false, false, "-e", "io_uring", NULL),
	S("io_uring, existing DEST", true, false, false, "-e", "io_uring",
	  NULL),
	S("rw --sparse=always, new DEST", false, false, false, "-e", "rw",
	  "--sparse=always", NULL),
	S("auto --fsync, existing DEST", true, false, false, "--fsync", NULL),
	S("auto -p, existing DEST", true, false, false, "-p", NULL),
	S("auto, named temporary, new DEST", false, false, true, NULL),
	S("auto, named temporary, existing DEST", true, false, true, NULL),
	S("auto -r, tree", false, true, false, "-r", NULL),
	S("auto -a --fsync, tree", false, true, false, "-a", "--fsync", NULL),
	S("rw -r, named temporaries, tree", false, true, true, "-r", "-e",
	  "rw", NULL),
};

/* The functions that move bytes, which can also be made short. */
static const char *const counted[] = { "read",	     "pread64",
				       "write",	     "pwrite64",
				       "copy_file_range", "sendfile64",
				       "splice",     "io_uring_cqe",
				       "getdents64", NULL };

static const struct {
	const char *name;
	int err; /* 0: a short count */
	bool retry;
} kinds[] = {
	{ "EIO", EIO, false },	   { "ENOSPC", ENOSPC, false },
	{ "EDQUOT", EDQUOT, false }, { "EINTR", EINTR, true },
	{ "EAGAIN", EAGAIN, true },  { "SHORT", 0, true },
};

/* The source tree: name, size, holes. Files only; plus a symlink. */
static const struct {
	const char *path;
	size_t size;
	bool sparse;
} tree_files[] = {
	{ "a", 3 * MIB + 1234, true },
	{ "b", 10000, false },
	{ "sub/c", 100000, false },
	{ "sub/d", 0, false },
};

struct totals {
	unsigned long runs, faults, complete, clean, bad, lost;
};

static const char *mapcp, *shim, *work;
static unsigned long cap = (unsigned long)-1; /* every call */
static unsigned char *src_data, *old_data;
static size_t src_size, old_size;
static unsigned long bad_shown;

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

/* Deterministic bytes: scenarios are repeatable run to run. */
static void
fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

static void
write_file(const char *path, const unsigned char *p, size_t n, bool sparse)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(path);
	/* Sparse: the second MiB is a hole (and zero in p). */
	for (size_t off = 0; off < n; off += MIB) {
		size_t len = n - off < MIB ? n - off : MIB;

		if (sparse && off == MIB)
			continue;
		if (pwrite(fd, p + off, len, (off_t)off) != (ssize_t)len)
			die(path);
	}
	if (ftruncate(fd, (off_t)n) < 0 || close(fd) < 0)
		die(path);
}

static unsigned char *
make_data(size_t n, uint64_t seed, bool sparse)
{
	unsigned char *p = malloc(n ? n : 1);

	if (p == NULL)
		die("malloc");
	fill(p, n, seed);
	if (sparse && n > 2 * MIB)
		memset(p + MIB, 0, MIB);
	return p;
}

/* The bytes of path that differ from p[0..n), size difference included. */
static unsigned long
differing(const char *path, const unsigned char *p, size_t n)
{
	unsigned long diff = 0;
	unsigned char buf[65536];
	size_t off = 0;
	ssize_t got;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return n;
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < got; i++, off++)
			diff += off >= n || buf[i] != p[off];
	}
	close(fd);
	return diff + (off < n ? n - off : 0);
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * How many .NAME.mapcp-XXXXXX temporaries dir holds, subdirectories too;
 * removed if remove, so that one bad run does not spoil the next.
 */
static int
temps_in(const char *dir, bool remove)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		const char *tag = strstr(e->d_name, ".mapcp-");
		char sub[4096];

		if (e->d_name[0] == '.' && tag != NULL && strlen(tag) == 13) {
			n++;
			snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
			if (remove)
				unlink(sub);
		}
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0) {
			snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
			n += temps_in(sub, remove);
		}
	}
	closedir(d);
	return n;
}

static void
make_tree(void)
{
	rm_rf("tree");
	if (mkdir("tree", 0755) < 0 || mkdir("tree/sub", 0750) < 0)
		die("tree");
	for (size_t i = 0; i < sizeof(tree_files) / sizeof(tree_files[0]);
	     i++) {
		unsigned char *p = make_data(tree_files[i].size, i + 7,
					     tree_files[i].sparse);
		char path[256];

		snprintf(path, sizeof(path), "tree/%s", tree_files[i].path);
		write_file(path, p, tree_files[i].size, tree_files[i].sparse);
		free(p);
	}
	if (symlink("a", "tree/link") < 0)
		die("tree/link");
}

/* Put DEST back as it was before every run. */
static void
reset(const struct scenario *sc)
{
	rm_rf(sc->tree ? "out" : "dst");
	temps_in(".", true);
	if (sc->existing && !sc->tree)
		write_file("dst", old_data, old_size, false);
	unlink("log");
}

/* Run mapcp for sc with fault spec (or none); its wait status. */
static int
run(const struct scenario *sc, const char *fault, bool count,
    const char *fiu)
{
	const char *argv[16];
	int argc = 0, status;
	pid_t pid;

	argv[argc++] = mapcp;
	for (int i = 0; sc->args[i] != NULL; i++)
		argv[argc++] = sc->args[i];
	argv[argc++] = sc->tree ? "tree" : "src";
	argv[argc++] = sc->tree ? "out" : "dst";
	argv[argc] = NULL;
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int err = open("err", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDWR);

		if (err < 0 || null < 0 || dup2(err, 2) < 0 ||
		    dup2(null, 1) < 0 || dup2(null, 0) < 0)
			_exit(98);
		if (fiu != NULL) {
			char preload[4096];

			snprintf(preload, sizeof(preload),
				 FIU_LIB "/fiu_run_preload.so " FIU_LIB
					 "/fiu_posix_preload.so %s",
				 shim);
			setenv("LD_PRELOAD", preload, 1);
			setenv("FIU_ENABLE", fiu, 1);
			setenv("FIU_CTRL_FIFO", "", 1);
		} else {
			setenv("LD_PRELOAD", shim, 1);
		}
		setenv("MAPCP_FAULT_LOG", "log", 1);
		if (fault != NULL)
			setenv("MAPCP_FAULT", fault, 1);
		if (count)
			setenv("MAPCP_FAULT_COUNT", "count", 1);
		if (sc->no_tmpfile)
			setenv("MAPCP_FAULT_NOTMPFILE", "1", 1);
		/* A sanitized build: the shim comes before its runtime. */
		setenv("ASAN_OPTIONS",
		       "verify_asan_link_order=0:detect_leaks=1:exitcode=86",
		       1);
		alarm(60); /* a retry loop that never ends is a failure too */
		execv(mapcp, (char **)argv);
		_exit(97);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return status;
}

static char *
slurp(const char *path, size_t *len)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	*len = n > 0 ? (size_t)n : 0;
	return buf;
}

/* Are the messages in "err" what a clean failure prints? NULL if so. */
static const char *
messages_ok(const struct scenario *sc, int err)
{
	size_t len;
	char *text = slurp("err", &len);
	int lines = 0;

	for (char *line = text; *line != '\0';) {
		char *nl = strchr(line, '\n');

		if (nl == NULL)
			return "a message without a newline";
		if (strncmp(line, "mapcp: ", 7) != 0)
			return "a line that is not a 'mapcp: ' message";
		lines++;
		line = nl + 1;
	}
	if (lines == 0)
		return "no message";
	if (!sc->tree && lines != 1)
		return "more than one line for one file";
	if (err != 0 && strstr(text, strerror(err)) == NULL)
		return "a message that does not say the error";
	return NULL;
}

/* The tree's bytes lost, and whether every file is complete. */
static unsigned long
tree_lost(bool *complete)
{
	unsigned long lost = 0;
	char path[256], target[16];

	*complete = true;
	for (size_t i = 0; i < sizeof(tree_files) / sizeof(tree_files[0]);
	     i++) {
		unsigned char *p = make_data(tree_files[i].size, i + 7,
					     tree_files[i].sparse);
		unsigned long d;

		snprintf(path, sizeof(path), "out/%s", tree_files[i].path);
		if (access(path, F_OK) == 0) {
			d = differing(path, p, tree_files[i].size);
			lost += d;
			*complete &= d == 0;
		} else {
			*complete = false;
		}
		free(p);
	}
	ssize_t n = readlink("out/link", target, sizeof(target) - 1);

	*complete &= n == 1 && target[0] == 'a';
	return lost;
}

/* Judge one finished run; print why when bad. */
static void
judge(const struct scenario *sc, const char *fault, int err, bool retry,
      int status, struct totals *t)
{
	struct stat st;
	/* libfiu keeps no log: its faults count as fired. */
	bool fired = strncmp(fault, "enable", 6) == 0 ||
		     (stat("log", &st) == 0 && st.st_size > 0);
	const char *why = NULL;
	unsigned long lost = 0;
	bool complete;

	t->runs++;
	t->faults += fired && strncmp(fault, "enable", 6) != 0;
	if (sc->tree)
		lost = tree_lost(&complete);
	else
		complete = differing("dst", src_data, src_size) == 0;
	if (WIFSIGNALED(status)) {
		why = strsignal(WTERMSIG(status));
	} else if (WEXITSTATUS(status) == 0) {
		if (!complete) {
			why = "exit 0 but DEST is not complete";
			lost = sc->tree ? lost
					: differing("dst", src_data, src_size);
		} else if (temps_in(".", false) != 0 &&
			   strncmp(fault, "unlinkat:", 9) != 0) {
			/* Only a failed unlink may leave a temporary. */
			why = "exit 0 but a temporary was left";
		}
	} else if (WEXITSTATUS(status) != 1) {
		why = "an exit status other than 0 and 1";
	} else if (retry && fired) {
		why = "a fault that must be retried was reported";
	} else {
		if (!sc->tree && sc->existing)
			lost = differing("dst", old_data, old_size);
		else if (!sc->tree && access("dst", F_OK) == 0)
			lost = differing("dst", NULL, 0);
		if (lost != 0)
			why = "exit 1 but DEST changed";
		else if (temps_in(".", false) != 0)
			why = "exit 1 left a temporary";
		else
			why = messages_ok(sc, fired ? err : 0);
	}
	if (why == NULL) {
		if (WEXITSTATUS(status) == 0)
			t->complete++;
		else
			t->clean++;
		return;
	}
	t->bad++;
	t->lost += lost;
	if (bad_shown++ < 30) {
		size_t len;

		printf("BAD  %s, fault %s: %s (status %d, %lu bytes lost)\n",
		       sc->name, fault, why,
		       WIFEXITED(status) ? WEXITSTATUS(status) : -1, lost);
		printf("     stderr: %s", slurp("err", &len));
		if (len == 0 || slurp("err", &len)[len - 1] != '\n')
			printf("\n");
	}
}

static bool
is_counted(const char *func)
{
	for (int i = 0; counted[i] != NULL; i++)
		if (strcmp(func, counted[i]) == 0)
			return true;
	return false;
}

static void
scenario(const struct scenario *sc, struct totals *all)
{
	struct totals t = { 0 };
	char func[64], fault[128];
	unsigned long calls;
	int status;
	FILE *f;

	reset(sc);
	unlink("count");
	status = run(sc, NULL, true, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		size_t len;

		printf("SKIP %s: the copy fails without faults: %s", sc->name,
		       slurp("err", &len));
		all->bad++;
		return;
	}
	f = fopen("count", "r");
	if (f == NULL)
		die("count");
	while (fscanf(f, "%63s %lu", func, &calls) == 2) {
		for (unsigned long n = 1; n <= calls; n++) {
			if (n > cap && n != calls)
				continue;
			for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]);
			     k++) {
				if (kinds[k].err == 0 && !is_counted(func))
					continue;
				snprintf(fault, sizeof(fault), "%s:%lu:%s",
					 func, n, kinds[k].name);
				reset(sc);
				status = run(sc, fault, false, NULL);
				judge(sc, fault, kinds[k].err, kinds[k].retry,
				      status, &t);
			}
		}
	}
	fclose(f);
	printf("%-40s runs %5lu  faults %5lu  complete %5lu  clean %5lu  "
	       "bad %lu\n",
	       sc->name, t.runs, t.faults, t.complete, t.clean, t.bad);
	fflush(stdout);
	all->runs += t.runs;
	all->faults += t.faults;
	all->complete += t.complete;
	all->clean += t.clean;
	all->bad += t.bad;
	all->lost += t.lost;
}

/*
 * The libfiu pass: runs of sc under fiu-run's POSIX wrappers, with every
 * call they cover failing at random (probability and errno vary by run).
 * libfiu wraps open, read, write, pread, pwrite, mmap, munmap, ftruncate,
 * fsync, fdatasync, close and rename among others; the shim's pass covers
 * the calls it does not.
 */
static void
fiu_pass(const struct scenario *sc, unsigned long runs, struct totals *all)
{
	static const char *const points[] = { "posix/io/*", "posix/mm/*" };
	static const double probs[] = { 0.01, 0.05, 0.2 };
	static const int errs[] = { EIO, ENOSPC, EINTR, EAGAIN };
	struct totals t = { 0 };
	char spec[256];

	for (unsigned long i = 0; i < runs; i++) {
		int err = errs[i % 4];

		snprintf(spec, sizeof(spec),
			 "enable_random name=%s,probability=%g,failinfo=%d",
			 points[i / 4 % 2], probs[i / 8 % 3], err);
		reset(sc);
		judge(sc, spec, err, err == EINTR || err == EAGAIN,
		      run(sc, NULL, false, spec), &t);
	}
	printf("%-40s runs %5lu  libfiu random  complete %5lu  clean %5lu  "
	       "bad %lu\n",
	       sc->name, t.runs, t.complete, t.clean, t.bad);
	fflush(stdout);
	all->runs += t.runs;
	all->complete += t.complete;
	all->clean += t.clean;
	all->bad += t.bad;
	all->lost += t.lost;
}

int
main(int argc, char **argv)
{
	const char *only = getenv("INJECT_ONLY");
	const char *tally = getenv("MAPCP_TALLY");
	const char *fiu_runs = getenv("INJECT_FIU_RUNS");
	struct totals all = { 0 };
	char *abs_mapcp, *abs_shim;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: inject MAPCP SHIM WORKDIR [CAP]\n");
		return 2;
	}
	abs_mapcp = realpath(argv[1], NULL);
	abs_shim = realpath(argv[2], NULL);
	if (abs_mapcp == NULL || abs_shim == NULL)
		die("realpath");
	mapcp = abs_mapcp;
	shim = abs_shim;
	work = argv[3];
	if (argc == 5)
		cap = strtoul(argv[4], NULL, 10);
	if (mkdir(work, 0755) < 0 && errno != EEXIST)
		die(work);
	if (chdir(work) < 0)
		die(work);
	src_size = 3 * MIB + 1234;
	src_data = make_data(src_size, 1, true);
	write_file("src", src_data, src_size, true);
	old_size = 500 * 1024 + 17;
	old_data = make_data(old_size, 2, false);
	make_tree();
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (only == NULL || strstr(scenarios[i].name, only) != NULL) {
			scenario(&scenarios[i], &all);
			if (fiu_runs != NULL)
				fiu_pass(&scenarios[i],
					 strtoul(fiu_runs, NULL, 10), &all);
		}
	printf("injection: %lu runs, %lu faults injected, %lu complete, "
	       "%lu failed cleanly, %lu bad, %lu bytes lost\n",
	       all.runs, all.faults, all.complete, all.clean, all.bad,
	       all.lost);
	if (tally != NULL && (tally[0] == '/' || chdir("..") == 0)) {
		FILE *t = fopen(tally, "a");

		if (t != NULL) {
			fprintf(t, "injection %lu %lu %lu %lu %lu %lu\n",
				all.runs, all.faults, all.complete, all.clean,
				all.bad, all.lost);
			fclose(t);
		}
	}
	free(abs_mapcp);
	free(abs_shim);
	return all.bad == 0 && all.lost == 0 ? 0 : 1;
}
