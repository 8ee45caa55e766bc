/*
 * attack MAPCP WORKDIR RUNS: mapcp, run as root, against another user who
 * can write SOURCE's tree and DEST, and changes both while the copy runs.
 *
 * For each run a fresh tree (owned by nobody) is copied with one of
 * mapcp -r, -a, -rL, -r -j 1 and -a -j 4 into a DEST nobody can write,
 * beside a victim directory of root's that neither holds. The attacker, a
 * child process running as nobody, watches both trees with inotify and, at
 * each event with some probability and also at random moments, swaps
 * directories for symlinks to the victim, regular files for FIFOs and for
 * symlinks to the victim's secret, renames entries, makes and deletes
 * them. Then the run is judged:
 *   - outside: every entry of the victim (type, mode, owner, size, bytes,
 *     mtime and ctime to the nanosecond, symlink target) must be as it
 *     was: a write, chmod, chown, utime or new entry anywhere in it counts;
 *   - read: without -L, no file of DEST may hold the victim's secret;
 *   - hang: mapcp must end within HANG_SECONDS;
 *   - crash: mapcp must exit 0 or 1.
 * Prints one line per kind of run and the totals; with MAPCP_TALLY set,
 * adds them to make check-faults' counts. Exits 1 if any count is not 0,
 * 77 (a skip) if not root.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HANG_SECONDS 30
#define MAX_ENTRIES 512
#define MAX_WATCHES 1024

static const struct variant {
	const char *name;
	const char *args[4];
	bool follows; /* -L: reading through the attacker's links is asked */
} variants[] = {
	{ "-r", { "-r", NULL }, false },
	{ "-a", { "-a", NULL }, false },
	{ "-rL", { "-rL", NULL }, true },
	{ "-r -j 1", { "-r", "-j", "1", NULL }, false },
	{ "-a -j 4", { "-a", "-j", "4", NULL }, false },
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

static const char *secret = "VICTIM-SECRET-7d3f9a1c-not-in-any-source";

/* One entry of the victim, as it must stay. */
struct entry {
	char path[512];
	struct stat st;
	uint64_t hash; /* of a file's bytes or a symlink's target */
};

struct manifest {
	struct entry e[MAX_ENTRIES];
	int n;
};

static struct manifest *taking;
static struct attacker *me; /* for nftw's callback */
static uid_t nobody_uid = 65534;
static gid_t nobody_gid = 65534;

/* snprintf() that refuses to cut a path short. */
static void __attribute__((format(printf, 3, 4)))
xpath(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fputs("attack: path too long\n", stderr);
		exit(2);
	}
}
#define PATHF(buf, ...) xpath(buf, sizeof(buf), __VA_ARGS__)

static uint64_t
fnv(const void *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3u;
	return h;
}

static uint64_t
hash_entry(const char *path, const struct stat *st)
{
	char buf[4096];
	uint64_t h = 0xcbf29ce484222325u;
	ssize_t n;
	int fd;

	if (S_ISLNK(st->st_mode)) {
		n = readlink(path, buf, sizeof(buf));
		return fnv(buf, n > 0 ? (size_t)n : 0, h);
	}
	if (!S_ISREG(st->st_mode) || (fd = open(path, O_RDONLY)) < 0)
		return h;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		h = fnv(buf, (size_t)n, h);
	close(fd);
	return h;
}

static int
take_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	struct entry *e;

	(void)type;
	(void)f;
	if (taking->n == MAX_ENTRIES)
		return 1;
	e = &taking->e[taking->n++];
	PATHF(e->path, "%s", path);
	e->st = *st;
	e->hash = hash_entry(path, st);
	return 0;
}

static void
take(struct manifest *m, const char *dir)
{
	m->n = 0;
	taking = m;
	nftw(dir, take_one, 16, FTW_PHYS);
}

static bool
same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* How many entries of before changed or vanished, and appeared in after. */
static int
changes(const struct manifest *before, const struct manifest *after)
{
	int n = 0;

	for (int i = 0; i < before->n; i++) {
		const struct entry *a = &before->e[i], *b = NULL;

		for (int j = 0; j < after->n && b == NULL; j++)
			if (strcmp(after->e[j].path, a->path) == 0)
				b = &after->e[j];
		if (b == NULL || b->st.st_mode != a->st.st_mode ||
		    b->st.st_uid != a->st.st_uid ||
		    b->st.st_gid != a->st.st_gid ||
		    b->st.st_size != a->st.st_size || b->hash != a->hash ||
		    !same_time(b->st.st_mtim, a->st.st_mtim) ||
		    !same_time(b->st.st_ctim, a->st.st_ctim)) {
			fprintf(stderr, "attack: outside DEST: '%s' changed\n",
				a->path);
			n++;
		}
	}
	if (after->n > before->n) {
		fprintf(stderr, "attack: outside DEST: %d new entries\n",
			after->n - before->n);
		n += after->n - before->n;
	}
	return n;
}

static int found_secret;

static int
look_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	char buf[8192];
	ssize_t n;
	int fd;

	(void)type;
	(void)f;
	if (!S_ISREG(st->st_mode) || (fd = open(path, O_RDONLY)) < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (memmem(buf, (size_t)n, secret, strlen(secret)) != NULL) {
			fprintf(stderr, "attack: '%s' holds the secret\n", path);
			found_secret++;
			break;
		}
	close(fd);
	return 0;
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
put_file(const char *path, size_t size, unsigned int seed)
{
	char buf[8192];
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + (seed + i * 7) % 26);
	while (fd >= 0 && size > 0) {
		size_t n = size < sizeof(buf) ? size : sizeof(buf);

		if (write(fd, buf, n) != (ssize_t)n)
			break;
		size -= n;
	}
	if (fd >= 0) {
		fchown(fd, nobody_uid, nobody_gid);
		close(fd);
	}
}

static void
put_dir(const char *path, mode_t mode)
{
	mkdir(path, mode);
	chmod(path, mode);
	chown(path, nobody_uid, nobody_gid);
}

/* The run's three trees: the attacker's source, DEST, root's victim. */
static void
make_trees(const char *run, unsigned int seed)
{
	char p[768], q[768];

	PATHF(p, "%s/victim", run);
	mkdir(p, 0755);
	PATHF(q, "%s/secret", p);
	{
		FILE *f = fopen(q, "w");

		if (f != NULL) {
			fprintf(f, "%s\n", secret);
			fclose(f);
		}
	}
	PATHF(q, "%s/sub", p);
	mkdir(q, 0700);
	PATHF(q, "%s/sub/file", p);
	put_file(q, 100, 1);
	chown(q, 0, 0);
	PATHF(p, "%s/src", run);
	put_dir(p, 0777);
	for (int d = 0; d < 6; d++) {
		PATHF(p, "%s/src/d%d", run, d);
		put_dir(p, d % 2 ? 0777 : 01777);
		for (int f = 0; f < 5; f++) {
			PATHF(q, "%s/f%d", p, f);
			put_file(q, 500 + (seed + (unsigned)f * 977) % 9000,
				 seed + (unsigned)f);
		}
		for (int s = 0; s < 2; s++) {
			PATHF(q, "%s/s%d", p, s);
			put_dir(q, 0777);
			for (int f = 0; f < 3; f++) {
				char r[800];

				PATHF(r, "%s/g%d", q, f);
				put_file(r, 100 + (unsigned)f * 300, seed);
			}
		}
		PATHF(q, "%s/link", p);
		symlink("f0", q);
		lchown(q, nobody_uid, nobody_gid);
	}
	PATHF(p, "%s/dst", run);
	put_dir(p, 0777);
	PATHF(p, "%s/dst/d0", run); /* an existing one, theirs */
	put_dir(p, 0777);
}

/* The attacker's state: what it watches, what it has done. */
struct attacker {
	int in;
	char *paths[MAX_WATCHES]; /* by watch descriptor */
	char victim[512], vsecret[512], vsub[512], src[512], dst[512];
	unsigned long *actions; /* shared with the parent */
	unsigned int rnd;
	unsigned int moved;
	unsigned int percent; /* of events acted on */
};

static unsigned int
rnd(struct attacker *a)
{
	a->rnd = a->rnd * 1103515245u + 12345u;
	return (a->rnd >> 8) & 0xffffff;
}

static void
watch(struct attacker *a, const char *path)
{
	int wd = inotify_add_watch(a->in, path,
				   IN_CREATE | IN_OPEN | IN_MOVED_TO |
					   IN_CLOSE_WRITE | IN_ONLYDIR);

	if (wd >= 0 && wd < MAX_WATCHES && a->paths[wd] == NULL)
		a->paths[wd] = strdup(path);
}

static int
watch_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_D)
		watch(me, path);
	return 0;
}

/* Put something hostile where dir/name is, having moved it aside. */
static void
swap(struct attacker *a, const char *dir, const char *name, bool isdir)
{
	char from[1024], to[1024];
	unsigned int how = rnd(a) % 4;

	PATHF(from, "%s/%s", dir, name);
	PATHF(to, "%s/.moved%u", dir, a->moved++);
	if (rename(from, to) < 0 && how != 3)
		return;
	switch (isdir ? how % 2 : how) {
	case 0:
		symlink(isdir ? a->victim : a->vsecret, from);
		break;
	case 1:
		if (isdir)
			symlink(a->vsub, from);
		else
			mkfifo(from, 0666);
		break;
	case 2:
		symlink(a->victim, from);
		break;
	default: /* a new file or directory of theirs in its place */
		if (isdir)
			mkdir(from, 0777);
		else
			close(open(from, O_CREAT | O_WRONLY, 0666));
		break;
	}
	(*a->actions)++;
}

/* A random entry of dir, swapped: a sibling of what mapcp just opened. */
static void
swap_some(struct attacker *a, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char names[64][256];
	bool dirs[64];
	int n = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && n < 64) {
		if (e->d_name[0] == '.')
			continue;
		PATHF(names[n], "%s", e->d_name);
		dirs[n++] = e->d_type == DT_DIR;
	}
	closedir(d);
	if (n > 0) {
		int i = (int)(rnd(a) % (unsigned)n);

		swap(a, dir, names[i], dirs[i]);
	}
}

static void
attacker_event(struct attacker *a, const struct inotify_event *ev)
{
	const char *dir = ev->wd >= 0 && ev->wd < MAX_WATCHES ? a->paths[ev->wd]
							       : NULL;
	char path[1024];

	if (dir == NULL)
		return;
	if ((ev->mask & IN_CREATE) && (ev->mask & IN_ISDIR) && ev->len) {
		PATHF(path, "%s/%s", dir, ev->name);
		watch(a, path);
	}
	if (rnd(a) % 100 >= a->percent)
		return;
	if (ev->len && ev->name[0] != '.' && (ev->mask & IN_CREATE) &&
	    strncmp(dir, a->dst, strlen(a->dst)) == 0)
		swap(a, dir, ev->name, ev->mask & IN_ISDIR);
	else if (strncmp(dir, a->src, strlen(a->src)) == 0)
		swap_some(a, dir);
}

/* The attacker's life: as nobody, until killed. */
static void __attribute__((noreturn))
attacker(struct attacker *a)
{
	char buf[16384] __attribute__((aligned(8)));

	if (setgid(nobody_gid) < 0 || setuid(nobody_uid) < 0)
		_exit(2);
	a->in = inotify_init1(IN_NONBLOCK);
	me = a;
	nftw(a->src, watch_one, 16, FTW_PHYS);
	nftw(a->dst, watch_one, 16, FTW_PHYS);
	for (;;) {
		ssize_t n = read(a->in, buf, sizeof(buf));

		for (ssize_t off = 0; off < n;) {
			const struct inotify_event *ev = (const void *)(buf + off);

			attacker_event(a, ev);
			off += (ssize_t)sizeof(*ev) + ev->len;
		}
		if (n < 0) { /* quiet: now and then, something anyway */
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
			if (rnd(a) % 50 == 0)
				swap_some(a, rnd(a) % 2 ? a->src : a->dst);
		}
	}
}

struct counts {
	unsigned long runs, actions, ok, failed, outside, reads, hangs,
		crashes;
};

/* Run mapcp; its exit status, or -1 for a hang (killed), -2 a crash. */
static int
run_mapcp(const char *mapcp, const struct variant *v, const char *run)
{
	char src[600], dst[600];
	const char *argv[12];
	int n = 0, status;
	pid_t pid;

	PATHF(src, "%s/src/.", run);
	PATHF(dst, "%s/dst", run);
	argv[n++] = mapcp;
	for (int i = 0; v->args[i] != NULL; i++)
		argv[n++] = v->args[i];
	argv[n++] = src;
	argv[n++] = dst;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execv(mapcp, (char *const *)argv);
		_exit(127);
	}
	for (int ms = 0; ms < HANG_SECONDS * 1000; ms++) {
		struct timespec ts = { 0, 1000000 };

		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void
one_run(const char *mapcp, const char *work, int i, struct counts *c)
{
	const struct variant *v = &variants[(unsigned)i % NVARIANTS];
	static struct manifest before, after;
	struct attacker *a;
	char run[512];
	pid_t pid;
	int status;

	PATHF(run, "%s/run%d", work, i);
	mkdir(run, 0755);
	make_trees(run, (unsigned)i * 7919u);
	{
		char vic[600];

		PATHF(vic, "%s/victim", run);
		take(&before, vic);
	}
	a = mmap(NULL, sizeof(*a) + sizeof(unsigned long),
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(a, 0, sizeof(*a));
	a->actions = (unsigned long *)(a + 1);
	*a->actions = 0;
	a->rnd = (unsigned int)i * 2654435761u + 1;
	a->percent = (unsigned int[]){ 2, 10, 40 }[((unsigned)i / NVARIANTS) % 3];
	PATHF(a->victim, "%s/victim", run);
	PATHF(a->vsecret, "%s/victim/secret", run);
	PATHF(a->vsub, "%s/victim/sub", run);
	PATHF(a->src, "%s/src", run);
	PATHF(a->dst, "%s/dst", run);
	pid = fork();
	if (pid == 0)
		attacker(a);
	{
		struct timespec ts = { 0, 20000000 }; /* its watches in place */

		nanosleep(&ts, NULL);
	}
	status = run_mapcp(mapcp, v, run);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	take(&after, a->victim);
	c->runs++;
	c->actions += *a->actions;
	c->ok += status == 0;
	c->failed += status == 1;
	c->hangs += status == -1;
	c->crashes += status != 0 && status != 1 && status != -1;
	if (status != 0 && status != 1)
		fprintf(stderr, "attack: run %d (mapcp %s): %s %d\n", i,
			v->name, status == -1 ? "hang" : "exit status",
			status);
	c->outside += (unsigned long)changes(&before, &after);
	if (!v->follows) {
		found_secret = 0;
		nftw(a->dst, look_one, 16, FTW_PHYS);
		c->reads += (unsigned long)found_secret;
	}
	munmap(a, sizeof(*a) + sizeof(unsigned long));
	nftw(run, remove_one, 16, FTW_PHYS | FTW_DEPTH);
}

int
main(int argc, char **argv)
{
	struct counts total = { 0 }, by[NVARIANTS];
	const char *tally = getenv("MAPCP_TALLY");
	char work[512];
	int runs;

	if (argc != 4) {
		fputs("usage: attack MAPCP WORKDIR RUNS\n", stderr);
		return 2;
	}
	if (geteuid() != 0) {
		puts("attack: skipped: not root, so no other user to attack as");
		return 77;
	}
	runs = atoi(argv[3]);
	PATHF(work, "%s/attack-XXXXXX", argv[2]);
	if (mkdtemp(work) == NULL || chmod(work, 0755) < 0) {
		perror("attack: work directory");
		return 2;
	}
	memset(by, 0, sizeof(by));
	for (int i = 0; i < runs; i++) {
		struct counts c = { 0 };

		one_run(argv[1], work, i, &c);
		by[(unsigned)i % NVARIANTS].runs += c.runs;
		by[(unsigned)i % NVARIANTS].actions += c.actions;
		by[(unsigned)i % NVARIANTS].ok += c.ok;
		by[(unsigned)i % NVARIANTS].failed += c.failed;
		by[(unsigned)i % NVARIANTS].outside += c.outside;
		by[(unsigned)i % NVARIANTS].reads += c.reads;
		by[(unsigned)i % NVARIANTS].hangs += c.hangs;
		by[(unsigned)i % NVARIANTS].crashes += c.crashes;
	}
	printf("%-12s %5s %8s %6s %6s %8s %6s %6s %7s\n", "mapcp", "runs",
	       "attacks", "exit0", "exit1", "outside", "reads", "hangs",
	       "crashes");
	for (size_t k = 0; k < NVARIANTS; k++) {
		const struct counts *c = &by[k];
		FILE *t = tally ? fopen(tally, "a") : NULL;
		unsigned long bad = c->outside + c->reads + c->hangs + c->crashes;

		printf("%-12s %5lu %8lu %6lu %6lu %8lu %6lu %6lu %7lu\n",
		       variants[k].name, c->runs, c->actions, c->ok, c->failed,
		       c->outside, c->reads, c->hangs, c->crashes);
		if (t != NULL) {
			char key[32];

			PATHF(key, "attack:%s", variants[k].name);
			for (char *sp = key; *sp; sp++)
				*sp = *sp == ' ' ? '_' : *sp;
			fprintf(t, "%s %lu %lu %lu %lu %lu 0\n", key, c->runs,
				c->actions, c->ok, c->failed, bad);
			fclose(t);
		}
		total.runs += c->runs;
		total.actions += c->actions;
		total.outside += c->outside;
		total.reads += c->reads;
		total.hangs += c->hangs;
		total.crashes += c->crashes;
	}
	printf("attack: %lu raced copies, %lu attacker actions: %lu changes "
	       "outside DEST, %lu reads outside SOURCE, %lu hangs, %lu "
	       "crashes\n",
	       total.runs, total.actions, total.outside, total.reads,
	       total.hangs, total.crashes);
	rmdir(work);
	return total.outside + total.reads + total.hangs + total.crashes ? 1
									 : 0;
}
