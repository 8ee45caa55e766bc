/*
 * The oracle: mapcp's single-file copies checked against GNU cp run on the
 * same input. Each case, derived from a seed and its number (splitmix64),
 * is a SOURCE of random data, written zeros, holes and fallocated ranges,
 * a DEST state and a set of options; cp and mapcp run on two identical
 * DEST states and what they leave is compared (read, lseek SEEK_DATA and
 * SEEK_HOLE, stat). Uses fork/execv, fallocate, ioctl(FICLONE), memfd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define KiB            ((off_t)1 << 10)
#define MiB            ((off_t)1 << 20)
#define GiB            ((off_t)1 << 30)
#define BLK            ((off_t)4096)
#define MAX_DIRS       8
#define MAX_ARGS       24
#define CHILD_TIMEOUT  300        /* seconds for one cp or mapcp */
#define DEFAULT_WINDOW (8 * MiB)  /* src/window.h, cli/mapcp.c */
#define NEVER_MAX      (48 * MiB) /* largest --sparse=never copy */

/* splitmix64 (Steele, Lea, Flood 2014), as in xoshiro's seeding. */
struct rng {
	uint64_t s;
};

static uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
next(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mix(r->s);
}

static uint64_t
below(struct rng *r, uint64_t n)
{
	return n == 0 ? 0 : next(r) % n;
}

static bool
chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

/* -1, 0 or +1 */
static off_t
wobble(struct rng *r)
{
	return (off_t)below(r, 3) - 1;
}

enum kind { K_DATA, K_ZERO, K_HOLE, K_FALLOC, K_KEEP };
static const char *const kind_names[] = { "data", "zeros", "hole", "falloc",
					  "falloc-keep" };

struct run {
	off_t off, len;
	enum kind kind;
};

struct layout {
	struct run *runs;
	size_t n, cap;
	off_t size;
	struct run under[2]; /* fallocated first, below the runs */
	size_t nunder;
	off_t tail_keep; /* FALLOC_FL_KEEP_SIZE past EOF */
	off_t dense;     /* bytes the runs allocate */
	bool truncate_first, shuffle, sync;
};

enum sparse { SP_NONE, SP_AUTO, SP_ALWAYS, SP_NEVER };
static const char *const sparse_names[] = { NULL, "auto", "always", "never" };
enum reflink { RL_NONE, RL_AUTO, RL_NEVER, RL_ALWAYS };
static const char *const reflink_names[] = { NULL, "auto", "never", "always" };

enum dest {
	D_ABSENT,
	D_SHORTER,
	D_LONGER,
	D_SPARSE,
	D_SYMLINK,
	D_HARDLINK,
	D_KINDS
};
static const char *const dest_names[] = { "absent", "shorter", "longer",
					  "sparse", "symlink", "hard link" };

static const char *const engines[] = {
	"auto",   "reflink",  "copy_file_range", "rw",  "sendfile",
	"splice", "io_uring", "mmap-write",      "mmap"
};
#define N_ENGINES (sizeof(engines) / sizeof(engines[0]))
enum { E_AUTO, E_REFLINK, E_CFR, E_IO_URING = 6 };

enum fs { FS_XFS, FS_BTRFS, FS_EXT4, FS_TMPFS, FS_OTHER };
static const char *const fs_names[] = { "xfs", "btrfs", "ext4", "tmpfs",
					"other" };

struct kase {
	uint64_t seed, num;
	struct rng rng;
	uint64_t data_seed;
	struct layout lay;
	bool huge;
	int engine;
	enum sparse sparse;
	enum reflink reflink;
	bool inplace, fsync, verify, preserve;
	size_t window, buffer;
	unsigned int qd;
	enum dest dest;
	off_t dest_size;
	int src_slot, dst_slot;
	mode_t umask, src_mode, dst_mode;
	uid_t src_uid, dst_uid;
	struct timespec times[2];
};

struct env {
	const char *argv0, *mapcp;
	const char *dirs[MAX_DIRS];
	enum fs type[MAX_DIRS];
	dev_t dev[MAX_DIRS];
	bool clones[MAX_DIRS];
	int ndirs;
	bool io_uring_off, keep, verbose, root;
	/* counts */
	unsigned long cases, failed, notes, refused, skipped;
	unsigned long e_cases[N_ENGINES], e_failed[N_ENGINES];
};

/* What a case found, as it goes. */
struct verdict {
	char *text;
	size_t len, cap;
	int fails, notes;
};

static void __attribute__((format(printf, 3, 4)))
say(struct verdict *v, bool fail, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (v->len + (size_t)n + 16 > v->cap) {
		v->cap = (v->len + (size_t)n + 16) * 2;
		v->text = realloc(v->text, v->cap);
		if (v->text == NULL)
			abort();
	}
	v->len += (size_t)sprintf(v->text + v->len, "  %s %s\n",
				  fail ? "FAIL" : "note", line);
	if (fail)
		v->fails++;
	else
		v->notes++;
}

static void
die(const char *what)
{
	fprintf(stderr, "oracle: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- generating a case ---- */

static void
add_run(struct layout *l, off_t off, off_t len, enum kind kind)
{
	if (len <= 0)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->runs = realloc(l->runs, l->cap * sizeof(*l->runs));
		if (l->runs == NULL)
			abort();
	}
	l->runs[l->n++] = (struct run){ off, len, kind };
	if (kind != K_HOLE)
		l->dense += len;
}

static off_t
boundary_after(off_t pos, off_t unit)
{
	return (pos / unit + 1) * unit;
}

/* A run's length: small, block-sized, up to a folio or window edge, ... */
static off_t
pick_len(struct rng *r, off_t pos, off_t window)
{
	off_t len;

	switch (below(r, 10)) {
	case 0:
		return 1 + (off_t)below(r, 16);
	case 1:
		return BLK * (1 + (off_t)below(r, 4)) + wobble(r);
	case 2:
		return 1 + (off_t)below(r, 65536);
	case 3:
		return BLK * (1 + (off_t)below(r, 256));
	case 4:
		len = boundary_after(pos, 2 * MiB) - pos + wobble(r);
		return len > 0 ? len : 1;
	case 5:
		len = boundary_after(pos, window) - pos + wobble(r);
		return len > 0 ? len : 1;
	case 6:
		len = (off_t)1 << below(r, 23);
		return len + (off_t)below(r, (uint64_t)len);
	case 7:
		return 2 * MiB * (1 + (off_t)below(r, 2)) + wobble(r);
	case 8:
		return 512 * (1 + (off_t)below(r, 16));
	default:
		return 1 + (off_t)below(r, 4 * BLK);
	}
}

static enum kind
pick_kind(struct rng *r)
{
	unsigned int x = (unsigned int)below(r, 100);

	return x < 40   ? K_DATA
	       : x < 55 ? K_ZERO
	       : x < 85 ? K_HOLE
	       : x < 93 ? K_FALLOC
			: K_KEEP;
}

/* Runs covering [0, size): at most maxruns, dense bytes within budget. */
static void
gen_runs(struct rng *r, struct layout *l, off_t window, size_t maxruns,
	 off_t budget)
{
	off_t pos = 0, size = l->size, trail = 0, len;
	unsigned int t = (unsigned int)below(r, 100);
	enum kind trail_kind = t < 40 ? K_HOLE : t < 70 ? K_ZERO : pick_kind(r);
	enum kind kind;

	if (size > 0) {
		trail = pick_len(r, 0, window);
		if (trail > size)
			trail = size;
	}
	while (pos < size - trail) {
		kind = pick_kind(r);
		len = pick_len(r, pos, window);
		if (len > size - trail - pos || l->n + 2 >= maxruns)
			len = size - trail - pos;
		if (kind != K_HOLE && l->dense + len > budget)
			kind = K_HOLE;
		add_run(l, pos, len, kind);
		pos += len;
	}
	if (trail_kind != K_HOLE && l->dense + trail > budget)
		trail_kind = K_HOLE;
	add_run(l, pos, trail, trail_kind);
}

/* Up to 10,000 small data runs between holes. */
static void
gen_many(struct rng *r, struct layout *l)
{
	static const size_t counts[] = { 200, 1000, 3000, 10000 };
	size_t n = counts[below(r, 4)], i;
	off_t pos = 0, len;

	for (i = 0; i < n; i++) {
		len = 1 + (off_t)below(r, chance(r, 80) ? 512 : 8192);
		add_run(l, pos, len, chance(r, 85) ? K_DATA : K_ZERO);
		pos += len;
		len = chance(r, 10) ? 1 + (off_t)below(r, BLK)
				    : BLK + (off_t)below(r, 60000);
		add_run(l, pos, len, K_HOLE);
		pos += len;
	}
	if (chance(r, 50)) { /* end on data, not a hole */
		l->n--;
		pos = l->runs[l->n - 1].off + l->runs[l->n - 1].len;
	}
	l->size = pos;
}

/* Past 4 GiB, sparse: a few data runs, near 4 GiB and the end among them. */
static void
gen_huge(struct rng *r, struct layout *l)
{
	off_t at[6], pos = 0, len;
	size_t n = 0, i, j;

	l->size = 4 * GiB +
		  (chance(r, 50) ? wobble(r) : (off_t)below(r, (uint64_t)GiB));
	at[n++] = (off_t)below(r, 2 * MiB);
	at[n++] = 4 * GiB - (off_t)below(r, 3 * BLK);
	at[n++] = (off_t)below(r, (uint64_t)l->size);
	if (chance(r, 60))
		at[n++] = l->size - 1 - (off_t)below(r, 64 * KiB);
	for (i = 1; i < n; i++) /* insertion sort */
		for (j = i; j > 0 && at[j] < at[j - 1]; j--) {
			off_t x = at[j];
			at[j] = at[j - 1];
			at[j - 1] = x;
		}
	for (i = 0; i < n; i++) {
		if (at[i] < pos)
			continue;
		add_run(l, pos, at[i] - pos, K_HOLE);
		len = 1 + (off_t)below(r, 256 * KiB);
		if (at[i] + len > l->size)
			len = l->size - at[i];
		add_run(l, at[i], len, chance(r, 80) ? K_DATA : K_ZERO);
		pos = at[i] + len;
	}
	add_run(l, pos, l->size - pos, K_HOLE);
}

static off_t
pick_size(struct rng *r, off_t window)
{
	switch (below(r, 11)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return 4095 + (off_t)below(r, 3);
	case 3:
		return BLK * (1 + (off_t)below(r, 64)) + wobble(r);
	case 4:
		return window * (1 + (off_t)below(r, 2)) + wobble(r);
	case 5:
		return 2 * MiB * (1 + (off_t)below(r, 4)) + wobble(r);
	case 6:
		return 1 + (off_t)below(r, 16 * MiB);
	case 7:
		return 1 + (off_t)below(r, 256 * KiB);
	case 8:
		return DEFAULT_WINDOW + wobble(r);
	case 9:
		return 1 + (off_t)below(r, 3 * (uint64_t)window);
	default:
		return -1; /* many extents */
	}
}

static void
gen_layout(struct kase *k, off_t window)
{
	static const off_t budgets[] = { 256 * KiB, 2 * MiB, 2 * MiB,
					 8 * MiB,   8 * MiB, 24 * MiB };
	struct rng *r = &k->rng;
	struct layout *l = &k->lay;
	off_t budget = budgets[below(r, 6)], size;
	size_t i;

	if (chance(r, 3)) {
		k->huge = true;
		gen_huge(r, l);
	} else if ((size = pick_size(r, window)) < 0) {
		gen_many(r, l);
	} else {
		l->size = size;
		gen_runs(r, l, window, chance(r, 20) ? 1000 : 64, budget);
	}
	for (i = 0; i < 2 && l->size > 0; i++) {
		struct run *u = &l->under[l->nunder];

		if (!chance(r, 12))
			continue;
		u->off = (off_t)below(r, (uint64_t)l->size);
		u->len = pick_len(r, u->off, window);
		if (u->len > 8 * MiB)
			u->len = 8 * MiB;
		u->kind = chance(r, 50) ? K_FALLOC : K_KEEP;
		if (u->kind == K_FALLOC && u->off + u->len > l->size)
			u->len = l->size - u->off;
		l->nunder++;
	}
	if (chance(r, 12))
		l->tail_keep = BLK * (1 + (off_t)below(r, 64)) +
			       (chance(r, 50) ? (off_t)below(r, BLK) : 0);
	l->truncate_first = chance(r, 50);
	l->shuffle = chance(r, 50);
	l->sync = chance(r, 30);
}

static void
gen_options(struct kase *k)
{
	static const size_t windows[] = { 64 * KiB, 256 * KiB + BLK, 1 * MiB,
					  2 * MiB,  3 * MiB + BLK,   4 * MiB };
	static const size_t buffers[] = { 4 * KiB, 64 * KiB, 100000,
					  1 * MiB, 3 * MiB,  8 * MiB };
	static const unsigned int qds[] = { 1, 2, 4, 64 };
	struct rng *r = &k->rng;
	unsigned int x;

	x = (unsigned int)below(r, N_ENGINES + 1);
	k->engine = x == N_ENGINES ? E_AUTO : (int)x;
	k->sparse = (enum sparse)below(r, 4);
	x = (unsigned int)below(r, 8);
	k->reflink = x < 3   ? RL_NONE
		     : x < 5 ? RL_AUTO
		     : x < 7 ? RL_NEVER
			     : RL_ALWAYS;
	k->inplace = chance(r, 30);
	k->fsync = chance(r, 15);
	k->verify = chance(r, 20);
	k->preserve = chance(r, 35);
	k->window = chance(r, 25) ? windows[below(r, 6)] : 0;
	k->buffer = chance(r, 25) ? buffers[below(r, 6)] : 0;
	k->qd = chance(r, 20) ? qds[below(r, 4)] : 0;
}

static void
gen_dest(struct kase *k)
{
	static const mode_t umasks[] = { 022, 077, 002, 0 };
	static const mode_t src_modes[] = { 0644, 0600,  0755,  0640,  0444,
					    0666, 04755, 02755, 01644, 0700 };
	static const mode_t dst_modes[] = { 0644, 0600, 0666, 0755,
					    0640, 0444, 0400 };
	struct rng *r = &k->rng;
	off_t size = k->lay.size > 16 * MiB ? 16 * MiB : k->lay.size;

	k->dest = (enum dest)below(r, D_KINDS);
	switch (k->dest) {
	case D_SHORTER:
		k->dest_size = (off_t)below(r, (uint64_t)size);
		break;
	case D_LONGER:
		k->dest_size = k->lay.size + 1 + (off_t)below(r, MiB);
		if (k->huge)
			k->dest_size = 1 + (off_t)below(r, MiB);
		break;
	default:
		k->dest_size = (off_t)below(r, (uint64_t)(2 * size + MiB));
		break;
	}
	k->src_slot = (int)below(r, 4);
	k->dst_slot = chance(r, 50) ? k->src_slot : (int)below(r, 4);
	k->umask = umasks[below(r, 4)];
	k->src_mode = src_modes[below(r, 10)];
	k->dst_mode = dst_modes[below(r, 7)];
	k->src_uid = chance(r, 50) ? 0 : 1000 + (uid_t)below(r, 3);
	k->dst_uid = chance(r, 50) ? 0 : 1000 + (uid_t)below(r, 3);
	for (int i = 0; i < 2; i++) {
		k->times[i].tv_sec = 1000000000 + (time_t)below(r, 600000000);
		k->times[i].tv_nsec = (long)below(r, 1000000000);
	}
}

/* Everything from the seed and the case number, in a fixed order. */
static void
gen_case(struct kase *k, uint64_t seed, uint64_t num)
{
	memset(k, 0, sizeof(*k));
	k->seed = seed;
	k->num = num;
	k->rng.s = mix(seed ^ mix(num + 0x632be59bd9b4e019ULL));
	k->data_seed = next(&k->rng);
	gen_options(k);
	gen_layout(k, k->window ? (off_t)k->window : DEFAULT_WINDOW);
	gen_dest(k);
	/* Never a dense copy of a big or huge file. */
	if (k->sparse == SP_NEVER && (k->huge || k->lay.size > NEVER_MAX))
		k->sparse = SP_AUTO;
}

/* ---- making files ---- */

static void
fill_random(uint64_t seed, char *buf, size_t n)
{
	struct rng r = { mix(seed) };
	uint64_t x;

	for (size_t i = 0; i < n; i += 8) {
		x = next(&r);
		memcpy(buf + i, &x, n - i < 8 ? n - i : 8);
	}
}

static int
pwrite_all(int fd, const char *buf, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, buf, n, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* len bytes at off: random (from seed) or zeros, 1 MiB at a time. */
static int
write_run(int fd, off_t off, off_t len, bool random, uint64_t seed)
{
	static char *buf;
	const size_t chunk = (size_t)MiB;

	if (buf == NULL && (buf = malloc(chunk)) == NULL)
		return -1;
	for (off_t done = 0; done < len;) {
		size_t n = (size_t)(len - done < (off_t)chunk ? len - done
							      : (off_t)chunk);

		if (random)
			fill_random(seed + (uint64_t)done, buf, n);
		else
			memset(buf, 0, n);
		if (pwrite_all(fd, buf, n, off + done) < 0)
			return -1;
		done += (off_t)n;
	}
	return 0;
}

/* fallocate, where the filesystem has it; a hole where not. */
static int
falloc(int fd, int mode, off_t off, off_t len)
{
	if (len <= 0 || fallocate(fd, mode, off, len) == 0)
		return 0;
	return errno == EOPNOTSUPP ? 0 : -1;
}

static int
apply_run(int fd, const struct run *u, uint64_t seed)
{
	switch (u->kind) {
	case K_DATA:
		return write_run(fd, u->off, u->len, true, seed);
	case K_ZERO:
		return write_run(fd, u->off, u->len, false, 0);
	case K_FALLOC:
		return falloc(fd, 0, u->off, u->len);
	case K_KEEP:
		return falloc(fd, FALLOC_FL_KEEP_SIZE, u->off, u->len);
	default:
		return 0;
	}
}

static int
make_source(const struct kase *k, const char *path)
{
	const struct layout *l = &k->lay;
	struct rng r = { k->data_seed };
	size_t *order = malloc((l->n + 1) * sizeof(*order)), i;
	int fd, ret = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || order == NULL)
		goto out;
	for (i = 0; i < l->n; i++)
		order[i] = i;
	for (i = l->n; l->shuffle && i > 1; i--) {
		size_t j = (size_t)below(&r, i), x = order[i - 1];

		order[i - 1] = order[j];
		order[j] = x;
	}
	if (l->truncate_first && ftruncate(fd, l->size) < 0)
		goto out;
	for (i = 0; i < l->nunder; i++)
		if (apply_run(fd, &l->under[i], 0) < 0)
			goto out;
	for (i = 0; i < l->n; i++)
		if (apply_run(fd, &l->runs[order[i]],
			      k->data_seed ^ mix(order[i])) < 0)
			goto out;
	if (ftruncate(fd, l->size) < 0 ||
	    falloc(fd, FALLOC_FL_KEEP_SIZE, l->size, l->tail_keep) < 0)
		goto out;
	if (l->sync && fsync(fd) < 0)
		goto out;
	if ((geteuid() == 0 && fchown(fd, k->src_uid, k->src_uid) < 0) ||
	    fchmod(fd, k->src_mode) < 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0 && close(fd) < 0)
		ret = -1;
	free(order);
	return ret;
}

static int
make_file(const char *path, off_t size, bool sparse, uint64_t seed,
	  const struct kase *k)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	/* data in the first 16 MiB at most: the rest, if any, a hole */
	off_t dense = size < 16 * MiB ? size : 16 * MiB;
	int ret = -1;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, size) < 0)
		goto out;
	if (sparse) {
		/* a hole, then a few runs of data */
		for (off_t at = BLK; at < dense;
		     at += 3 * BLK + (off_t)(seed % 7) * BLK)
			if (write_run(fd, at,
				      dense - at < 100 ? dense - at : 100, true,
				      seed + (uint64_t)at) < 0)
				goto out;
	} else if (write_run(fd, 0, dense, true, seed) < 0) {
		goto out;
	}
	if ((geteuid() == 0 && fchown(fd, k->dst_uid, k->dst_uid) < 0) ||
	    fchmod(fd, k->dst_mode) < 0)
		goto out;
	ret = 0;
out:
	if (close(fd) < 0)
		ret = -1;
	return ret;
}

/* DIR/dst (and DIR/tgt or DIR/other) as the case's DEST state says. */
static int
make_dest(const struct kase *k, const char *dir)
{
	char dst[PATH_MAX], aux[PATH_MAX];
	uint64_t seed = k->data_seed ^ 0x5eedde57ULL;

	snprintf(dst, sizeof(dst), "%s/dst", dir);
	if (mkdir(dir, 0755) < 0)
		return -1;
	switch (k->dest) {
	case D_ABSENT:
		return 0;
	case D_SHORTER:
	case D_LONGER:
		return make_file(dst, k->dest_size, false, seed, k);
	case D_SPARSE:
		return make_file(dst, k->dest_size, true, seed, k);
	case D_SYMLINK:
		snprintf(aux, sizeof(aux), "%s/tgt", dir);
		if (make_file(aux, k->dest_size, false, seed, k) < 0)
			return -1;
		return symlink("tgt", dst);
	default:
		snprintf(aux, sizeof(aux), "%s/other", dir);
		if (make_file(aux, k->dest_size, false, seed, k) < 0)
			return -1;
		return link(aux, dst);
	}
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- looking at files ---- */

struct fstate {
	bool exists, is_link, regular;
	char link[256];
	struct stat st; /* through a symlink */
	XXH128_hash_t hash;
	long extents;    /* SEEK_DATA runs */
	off_t data;      /* bytes in them */
	off_t alloc;     /* bytes written before EOF (FIEMAP), else st_blocks */
	off_t unwritten; /* preallocated before EOF */
	off_t past;      /* allocated after EOF (and metadata) */
	XXH64_hash_t map;
};

static bool
all_zero(const char *p, size_t n)
{
	static const char zero[BLK];

	return memcmp(p, zero, n) == 0;
}

/* Feed each 4 KiB block of [from, to) that holds a non-zero byte. */
static int
hash_range(int fd, off_t from, off_t to, off_t *done, XXH3_state_t *h)
{
	static char buf[1 << 20];

	from = from / BLK * BLK;
	if (from < *done)
		from = *done;
	while (from < to) {
		size_t want = (size_t)(to - from > (off_t)sizeof(buf)
					       ? (off_t)sizeof(buf)
					       : to - from);
		ssize_t n = pread(fd, buf, want, from);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		for (ssize_t b = 0; b < n; b += BLK) {
			size_t m = (size_t)(n - b < BLK ? n - b : BLK);
			off_t at = from + b;

			if (all_zero(buf + b, m))
				continue;
			XXH3_128bits_update(h, &at, sizeof(at));
			XXH3_128bits_update(h, buf + b, m);
		}
		from += n;
		*done = from;
	}
	return 0;
}

/*
 * The bytes allocated and written (or to be written: delayed allocation)
 * in [0, size rounded up to a block) by FIEMAP, or -1 where there is none
 * (tmpfs); the unwritten ones in *unwritten. XFS preallocates past EOF as
 * a file grows, and the blocks stay, unwritten, inside the file when its
 * size is set later (cp's too) or past EOF until XFS trims them: they are
 * not the copy's, and are counted apart.
 */
static off_t
alloc_within(int fd, off_t size, off_t *unwritten)
{
	enum { N = 256 };
	union {
		struct fiemap f;
		char b[sizeof(struct fiemap) +
		       N * sizeof(struct fiemap_extent)];
	} u;
	off_t start = 0, total = 0, end = (size + BLK - 1) / BLK * BLK;
	bool last = false;

	*unwritten = 0;
	while (!last && start < end) {
		memset(&u, 0, sizeof(u));
		u.f.fm_start = (__u64)start;
		u.f.fm_length = (__u64)(end - start);
		u.f.fm_extent_count = N;
		/* written back first: ext4 shows dirty pages over an
		 * unwritten extent as unwritten, delayed ones as nothing */
		u.f.fm_flags = FIEMAP_FLAG_SYNC;
		if (ioctl(fd, FS_IOC_FIEMAP, &u.f) < 0)
			return -1;
		if (u.f.fm_mapped_extents == 0)
			break;
		for (unsigned int i = 0; i < u.f.fm_mapped_extents; i++) {
			const struct fiemap_extent *e = &u.f.fm_extents[i];
			off_t lo = (off_t)e->fe_logical;
			off_t hi = lo + (off_t)e->fe_length;

			lo = lo < start ? start : lo;
			hi = hi > end ? end : hi;
			if (hi <= lo)
				;
			else if (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN)
				*unwritten += hi - lo;
			else
				total += hi - lo;
			last = (e->fe_flags & FIEMAP_EXTENT_LAST) != 0;
			start = (off_t)(e->fe_logical + e->fe_length);
		}
	}
	return total;
}

/*
 * The content hash of a file, blind to how its zeros are stored (holes or
 * written): the non-zero 4 KiB blocks with their offsets, and the size.
 */
static int
hash_file(const char *path, struct fstate *f)
{
	XXH3_state_t *h = XXH3_createState();
	XXH64_state_t *m = XXH64_createState();
	off_t size = f->st.st_size, pos = 0, data, hole, done = 0;
	int fd = open(path, O_RDONLY | O_NOATIME | O_CLOEXEC), ret = -1;

	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || h == NULL || m == NULL)
		goto out;
	XXH3_128bits_reset(h);
	XXH64_reset(m, 0);
	f->extents = 0;
	f->data = 0;
	while (pos < size) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			goto out;
		f->extents++;
		f->data += hole - data;
		XXH64_update(m, &data, sizeof(data));
		XXH64_update(m, &hole, sizeof(hole));
		if (hash_range(fd, data, hole, &done, h) < 0)
			goto out;
		pos = hole;
	}
	f->alloc = alloc_within(fd, size, &f->unwritten);
	f->past = 0;
	if (f->alloc < 0)
		f->alloc = (off_t)f->st.st_blocks * 512;
	else if ((off_t)f->st.st_blocks * 512 > f->alloc + f->unwritten)
		f->past =
			(off_t)f->st.st_blocks * 512 - f->alloc - f->unwritten;
	XXH3_128bits_update(h, &size, sizeof(size));
	f->hash = XXH3_128bits_digest(h);
	f->map = XXH64_digest(m);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	XXH3_freeState(h);
	XXH64_freeState(m);
	return ret;
}

static void
look(const char *path, struct fstate *f)
{
	struct stat lst;
	ssize_t n;

	memset(f, 0, sizeof(*f));
	if (lstat(path, &lst) < 0)
		return;
	f->exists = true;
	f->is_link = S_ISLNK(lst.st_mode);
	if (f->is_link) {
		n = readlink(path, f->link, sizeof(f->link) - 1);
		f->link[n > 0 ? n : 0] = '\0';
	}
	if (stat(path, &f->st) < 0)
		return;
	f->regular = S_ISREG(f->st.st_mode);
	if (f->regular && hash_file(path, f) < 0)
		f->regular = false;
}

static bool
same_bytes(const struct fstate *a, const struct fstate *b)
{
	return a->regular == b->regular && a->st.st_size == b->st.st_size &&
	       XXH128_isEqual(a->hash, b->hash);
}

/* DIR's dst, tgt and other, and whether anything else is there. */
struct snap {
	struct fstate dst, tgt, other;
	char extra[256];
};

static void
snapshot(const char *dir, struct snap *s)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/dst", dir);
	look(path, &s->dst);
	snprintf(path, sizeof(path), "%s/tgt", dir);
	look(path, &s->tgt);
	snprintf(path, sizeof(path), "%s/other", dir);
	look(path, &s->other);
	s->extra[0] = '\0';
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, "dst") == 0 ||
		    strcmp(e->d_name, "tgt") == 0 ||
		    strcmp(e->d_name, "other") == 0)
			continue;
		snprintf(s->extra, sizeof(s->extra), "%s", e->d_name);
	}
	closedir(d);
}

/* ---- running cp and mapcp ---- */

struct result {
	int status; /* exit status, 128 + signal, or -1: timed out */
	char err[2048];
	int lines;
};

static void
run(char *const argv[], struct result *r)
{
	sigset_t chld, old;
	struct timespec limit = { CHILD_TIMEOUT, 0 };
	int fd = memfd_create("stderr", MFD_CLOEXEC), st = 0;
	pid_t pid;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	if (fd < 0 || (pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		sigprocmask(SIG_SETMASK, &old, NULL);
		dup2(null, 0);
		dup2(null, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	while (sigtimedwait(&chld, NULL, &limit) < 0 && errno == EINTR)
		;
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		r->status = -1;
	} else {
		r->status =
			WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	n = pread(fd, r->err, sizeof(r->err) - 1, 0);
	r->err[n > 0 ? n : 0] = '\0';
	for (char *p = r->err; *p; p++)
		r->lines += *p == '\n';
	close(fd);
}

struct argv {
	char *v[MAX_ARGS];
	char buf[MAX_ARGS][PATH_MAX];
	int n;
};

static void __attribute__((format(printf, 2, 3)))
arg(struct argv *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->buf[a->n], sizeof(a->buf[a->n]), fmt, ap);
	va_end(ap);
	a->v[a->n] = a->buf[a->n];
	a->v[++a->n] = NULL;
}

static void
cp_argv(const struct kase *k, struct argv *a, const char *src, const char *dst)
{
	a->n = 0;
	arg(a, "/bin/cp");
	if (k->sparse != SP_NONE)
		arg(a, "--sparse=%s", sparse_names[k->sparse]);
	if (k->reflink != RL_NONE)
		arg(a, "--reflink=%s", reflink_names[k->reflink]);
	if (k->preserve)
		arg(a, "-p");
	arg(a, "%s", src);
	arg(a, "%s", dst);
}

static void
mapcp_argv(const struct kase *k, const struct env *env, struct argv *a,
	   const char *src, const char *dst)
{
	a->n = 0;
	arg(a, "%s", env->mapcp);
	arg(a, "-e");
	arg(a, "%s", engines[k->engine]);
	if (k->sparse != SP_NONE)
		arg(a, "--sparse=%s", sparse_names[k->sparse]);
	if (k->reflink != RL_NONE)
		arg(a, "--reflink=%s", reflink_names[k->reflink]);
	if (k->inplace)
		arg(a, "--inplace");
	if (k->fsync)
		arg(a, "--fsync");
	if (k->verify)
		arg(a, "--verify");
	if (k->preserve)
		arg(a, "-p");
	if (k->window)
		arg(a, "--window=%zu", k->window);
	if (k->buffer)
		arg(a, "--buffer=%zu", k->buffer);
	if (k->qd)
		arg(a, "--queue-depth=%u", k->qd);
	arg(a, "%s", src);
	arg(a, "%s", dst);
}

/* A word as the shell reads it back. */
static void
put_quoted(FILE *f, const char *s)
{
	if (*s &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789-_=./:,+@%") == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

static void
put_argv(FILE *f, char *const *v)
{
	for (int i = 0; v[i] != NULL; i++) {
		if (i)
			fputc(' ', f);
		put_quoted(f, v[i]);
	}
	fputc('\n', f);
}

/* ---- what mapcp may do ---- */

enum allowed { OK_ONLY, USAGE, MAY_FAIL };

/* mapcp_check_opts (src/plan.c) and the documented refusals. */
static enum allowed
allowed(const struct kase *k, const struct env *env, int s, int d,
	const char **why)
{
	bool shares = k->engine == E_REFLINK || k->engine == E_CFR;
	bool same_fs = env->dev[s] == env->dev[d];

	if (k->reflink == RL_ALWAYS && k->sparse != SP_NONE &&
	    k->sparse != SP_AUTO)
		return *why = "--reflink=always needs --sparse=auto", USAGE;
	if (k->reflink == RL_ALWAYS && k->engine != E_AUTO &&
	    k->engine != E_REFLINK)
		return *why = "--reflink=always with another engine", USAGE;
	if (shares && (k->reflink == RL_NEVER || k->sparse == SP_NEVER))
		return *why = "a sharing engine with never", USAGE;
	if ((k->engine == E_REFLINK || k->reflink == RL_ALWAYS) &&
	    (!same_fs || !env->clones[d]))
		return *why = "cannot clone here", MAY_FAIL;
	if (k->engine == E_CFR && !same_fs)
		return *why = "copy_file_range across filesystems", MAY_FAIL;
	if (k->engine == E_IO_URING && env->io_uring_off)
		return *why = "io_uring disabled", MAY_FAIL;
	return *why = NULL, OK_ONLY;
}

/* ---- checking one case ---- */

struct paths {
	char sdir[PATH_MAX / 2], ddir[PATH_MAX / 2], src[PATH_MAX];
	char cpdir[PATH_MAX / 2 + 8], mcdir[PATH_MAX / 2 + 8];
	char cpdst[PATH_MAX], mcdst[PATH_MAX];
};

static bool
same_state(const struct fstate *a, const struct fstate *b)
{
	return a->exists == b->exists && a->is_link == b->is_link &&
	       strcmp(a->link, b->link) == 0 && same_bytes(a, b) &&
	       (!a->exists || a->st.st_ino == b->st.st_ino);
}

static void
check_failure(const struct kase *k, const struct result *mc,
	      const struct snap *before, const struct snap *after,
	      enum allowed al, struct verdict *v)
{
	bool usage = strstr(mc->err, "\nTry '") != NULL;

	if (strncmp(mc->err, "mapcp: ", 7) != 0)
		say(v, true, "mapcp failed without a 'mapcp: ' line");
	else if (mc->lines != (usage ? 2 : 1))
		say(v, true, "mapcp failed with %d lines on stderr", mc->lines);
	if (al == USAGE && !usage)
		say(v, true, "a usage error expected, not a failed copy");
	if (!same_state(&before->dst, &after->dst) ||
	    !same_state(&before->tgt, &after->tgt) ||
	    !same_state(&before->other, &after->other))
		/*
		 * --inplace may leave DEST partly written (docs/guarantees.md,
		 * "Never lose data"), but not for a refusal known before the
		 * first byte: an engine that cannot work here, a usage error.
		 */
		say(v, !k->inplace || al != OK_ONLY,
		    "mapcp failed and DEST changed%s (was %jd bytes, now %jd)",
		    !k->inplace     ? ""
		    : al != OK_ONLY ? " (--inplace, but an engine that "
				      "cannot copy here)"
				    : " (--inplace: not promised)",
		    (intmax_t)before->dst.st.st_size,
		    (intmax_t)after->dst.st.st_size);
	if (after->extra[0])
		say(v, true, "mapcp failed and left '%s' in DEST's directory",
		    after->extra);
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static void
check_alloc(const struct kase *k, const struct fstate *src,
	    const struct fstate *cp, const struct fstate *mc, struct verdict *v)
{
	off_t mcb = mc->alloc, cpb = cp->alloc, all = mc->alloc + mc->unwritten;
	off_t size = mc->st.st_size, full = size / BLK * BLK;

	if (mc->unwritten > cp->unwritten + BLK * (src->extents + 2) &&
	    mc->unwritten > src->unwritten + BLK * (src->extents + 2))
		say(v, false,
		    "DEST has %jd bytes preallocated (unwritten) "
		    "before its end, cp's %jd",
		    (intmax_t)mc->unwritten, (intmax_t)cp->unwritten);
	if (mc->past > cp->past + 256 * KiB)
		say(v, false,
		    "DEST keeps %jd bytes allocated past its end, "
		    "cp's %jd",
		    (intmax_t)mc->past, (intmax_t)cp->past);
	if (k->sparse == SP_NEVER) {
		if (mc->extents > 1 || all < (cpb < full ? cpb : full))
			say(v, true,
			    "--sparse=never: DEST allocates %jd bytes in %ld "
			    "extents (cp: %jd), size %jd",
			    (intmax_t)all, mc->extents, (intmax_t)cpb,
			    (intmax_t)size);
		return;
	}
	/*
	 * cp 9.1 makes holes of zero buffers in a sparse SOURCE's data even
	 * with --sparse=auto; mapcp's auto keeps written zeros
	 * (docs/architecture.md, "Holes"): so auto may also allocate what
	 * SOURCE's data extents span. Holes filled are past both.
	 */
	if (k->sparse != SP_ALWAYS && src->data > cpb)
		cpb = src->data;
	if (mcb > cpb + BLK * (src->extents + 2))
		say(v, true,
		    "DEST allocates %jd bytes before its end, cp's %jd "
		    "(source: %ld "
		    "extents, %jd bytes of data, %jd allocated)",
		    (intmax_t)mcb, (intmax_t)cp->alloc, src->extents,
		    (intmax_t)src->data, (intmax_t)src->st.st_blocks * 512);
}

static void
check_links(const struct kase *k, const struct snap *before,
	    const struct snap *cp, const struct snap *mc, struct verdict *v)
{
	bool existed = k->dest != D_ABSENT;

	if (k->dest == D_SYMLINK &&
	    (!mc->dst.is_link || strcmp(mc->dst.link, before->dst.link) != 0))
		say(v, true,
		    "DEST, a symlink, was replaced (cp writes "
		    "through it)");
	if (k->dest == D_HARDLINK) {
		if (k->inplace && !same_bytes(&mc->other, &cp->other))
			say(v, true,
			    "--inplace: DEST's other name does not "
			    "hold the copy, as cp's does");
		if (!k->inplace && !same_bytes(&mc->other, &before->other))
			say(v, true,
			    "DEST's other name changed: atomic "
			    "replace promises the old bytes there");
	}
	if (existed && mc->dst.exists && before->dst.exists) {
		bool same = mc->dst.st.st_ino == before->dst.st.st_ino;

		if (k->inplace && !same)
			say(v, true, "--inplace: DEST is a new inode");
		if (!k->inplace && same)
			say(v, true, "DEST written in place, not replaced");
	}
}

static void
check_success(const struct kase *k, const struct result *mc,
	      const struct fstate *src, const struct snap *before,
	      const struct snap *cp, const struct snap *after,
	      struct verdict *v)
{
	const struct fstate *c = &cp->dst, *m = &after->dst;

	if (mc->err[0])
		say(v, true, "mapcp succeeded but wrote to stderr");
	if (!m->exists || !m->regular) {
		say(v, true, "mapcp succeeded but DEST is not a regular file");
		return;
	}
	if (m->st.st_size != c->st.st_size)
		say(v, true, "DEST is %jd bytes, cp's %jd",
		    (intmax_t)m->st.st_size, (intmax_t)c->st.st_size);
	else if (!same_bytes(m, c))
		say(v, true, "DEST's bytes differ from cp's");
	check_alloc(k, src, c, m, v);
	if ((m->st.st_mode & 07777) != (c->st.st_mode & 07777))
		say(v, true, "DEST's mode is %04o, cp's %04o",
		    m->st.st_mode & 07777, c->st.st_mode & 07777);
	if (m->st.st_uid != c->st.st_uid || m->st.st_gid != c->st.st_gid)
		say(v, true, "DEST's owner is %u:%u, cp's %u:%u", m->st.st_uid,
		    m->st.st_gid, c->st.st_uid, c->st.st_gid);
	if (k->preserve && (!same_time(&m->st.st_mtim, &k->times[1]) ||
			    !same_time(&m->st.st_atim, &k->times[0])))
		say(v, true, "-p: DEST's times are not SOURCE's");
	check_links(k, before, cp, after, v);
	if (after->extra[0])
		say(v, true, "'%s' left in DEST's directory", after->extra);
}

static void
describe(const struct kase *k, const struct env *env, int s, int d,
	 const struct argv *cpa, const struct argv *mca,
	 const struct result *cp, const struct result *mc)
{
	const struct layout *l = &k->lay;
	size_t shown = l->n < 40 ? l->n : 40, i;

	printf("  layout: %jd bytes, %zu runs, %jd dense; %s (%s) -> %s "
	       "(%s)%s\n",
	       (intmax_t)l->size, l->n, (intmax_t)l->dense,
	       fs_names[env->type[s]], env->dirs[s], fs_names[env->type[d]],
	       env->dirs[d], env->dev[s] == env->dev[d] ? "" : ", across");
	printf("  runs:");
	for (i = 0; i < shown; i++)
		printf(" %jd+%jd:%s", (intmax_t)l->runs[i].off,
		       (intmax_t)l->runs[i].len, kind_names[l->runs[i].kind]);
	if (shown < l->n)
		printf(" ... (%zu more)", l->n - shown);
	printf("\n  made:");
	for (i = 0; i < l->nunder; i++)
		printf(" first %s %jd+%jd;", kind_names[l->under[i].kind],
		       (intmax_t)l->under[i].off, (intmax_t)l->under[i].len);
	if (l->tail_keep)
		printf(" falloc-keep %jd past EOF;", (intmax_t)l->tail_keep);
	printf("%s%s%s mode %04o owner %u\n",
	       l->truncate_first ? " truncated first;" : "",
	       l->shuffle ? " runs written shuffled;" : "",
	       l->sync ? " fsync'd;" : "", k->src_mode, k->src_uid);
	printf("  dest: %s, %jd bytes, mode %04o owner %u; umask %03o\n",
	       dest_names[k->dest], (intmax_t)k->dest_size, k->dst_mode,
	       k->dst_uid, k->umask);
	printf("  cp:    ");
	put_argv(stdout, cpa->v);
	printf("  mapcp: ");
	put_argv(stdout, mca->v);
	printf("  cp exit %d%s%s", cp->status, cp->err[0] ? ": " : "\n",
	       cp->err);
	printf("  mapcp exit %d%s%s", mc->status, mc->err[0] ? ": " : "\n",
	       mc->err);
}

static void
reproduce(const struct kase *k, const struct env *env)
{
	printf("  reproduce: ");
	put_quoted(stdout, env->argv0);
	printf(" --replay %" PRIu64 ":%" PRIu64 " ", k->seed, k->num);
	put_quoted(stdout, env->mapcp);
	for (int i = 0; i < env->ndirs; i++) {
		putchar(' ');
		put_quoted(stdout, env->dirs[i]);
	}
	putchar('\n');
}

/* The DIR for a slot: the first of that filesystem, else by position. */
static int
resolve(const struct env *env, int slot)
{
	for (int i = 0; i < env->ndirs; i++)
		if ((int)env->type[i] == slot)
			return i;
	return slot % env->ndirs;
}

static void
set_paths(const struct kase *k, const struct env *env, int s, int d,
	  struct paths *p)
{
	snprintf(p->sdir, sizeof(p->sdir), "%s/oracle.%d.%" PRIu64,
		 env->dirs[s], (int)getpid(), k->num);
	snprintf(p->ddir, sizeof(p->ddir), "%s/oracle.%d.%" PRIu64 "%s",
		 env->dirs[d], (int)getpid(), k->num, s == d ? "" : ".d");
	snprintf(p->src, sizeof(p->src), "%s/src", p->sdir);
	snprintf(p->cpdir, sizeof(p->cpdir), "%s/cp", p->ddir);
	snprintf(p->mcdir, sizeof(p->mcdir), "%s/mc", p->ddir);
	snprintf(p->cpdst, sizeof(p->cpdst), "%s/dst", p->cpdir);
	snprintf(p->mcdst, sizeof(p->mcdst), "%s/dst", p->mcdir);
}

static int
prepare(const struct kase *k, const struct paths *p)
{
	if (mkdir(p->sdir, 0755) < 0 ||
	    (strcmp(p->sdir, p->ddir) != 0 && mkdir(p->ddir, 0755) < 0))
		return -1;
	if (make_source(k, p->src) < 0 || make_dest(k, p->cpdir) < 0 ||
	    make_dest(k, p->mcdir) < 0)
		return -1;
	return 0;
}

/* After ENOSPC: once more, when the filesystems have freed what they may. */
static bool
retry(const struct kase *k, const struct paths *p)
{
	const char *dirs[] = { p->sdir, p->ddir };

	rm_rf(p->sdir);
	rm_rf(p->ddir);
	for (int i = 0; i < 2; i++) {
		char up[PATH_MAX];
		int fd;

		snprintf(up, sizeof(up), "%s/..", dirs[i]);
		if ((fd = open(up, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			syncfs(fd);
			close(fd);
		}
	}
	sleep(2);
	return prepare(k, p) == 0;
}

static void
reset_times(const struct kase *k, const char *src)
{
	if (utimensat(AT_FDCWD, src, k->times, 0) < 0)
		die("utimensat");
}

static void
compare(const struct kase *k, const struct env *env, int s, int d,
	const struct paths *p, const struct fstate *src0,
	const struct result *cp, const struct result *mc,
	const struct snap *before, struct verdict *v)
{
	struct snap cps, mcs;
	struct fstate src1;
	const char *why;
	enum allowed al = allowed(k, env, s, d, &why);

	snapshot(p->cpdir, &cps);
	snapshot(p->mcdir, &mcs);
	look(p->src, &src1);
	/* not st_blocks: ext4 counts its extent tree's blocks in there */
	if (!same_bytes(src0, &src1) || src0->alloc != src1.alloc)
		say(v, true, "SOURCE changed (%jd bytes allocated, now %jd)",
		    (intmax_t)src0->alloc, (intmax_t)src1.alloc);
	else if (src0->map != src1.map)
		/*
		 * Preallocated blocks read into the page cache (or faulted
		 * in, on tmpfs) turn from holes into data for SEEK_DATA.
		 */
		say(v, false,
		    "SOURCE's SEEK_DATA map changed (%ld extents, "
		    "now %ld): its preallocated blocks were read",
		    src0->extents, src1.extents);
	if (mc->status != 0 && mc->status != 1) {
		say(v, true, "mapcp exited with status %d", mc->status);
		return;
	}
	if (mc->status == 1) {
		check_failure(k, mc, before, &mcs, al, v);
		if (cp->status == 0 && al == OK_ONLY)
			say(v, true, "mapcp failed where cp copied");
		return;
	}
	if (al == USAGE)
		say(v, true,
		    "mapcp accepted options it documents as a "
		    "usage error (%s)",
		    why);
	if (cp->status != 0) {
		/* cp clones even an empty file, and fails where it cannot */
		bool nothing = k->reflink == RL_ALWAYS && src0->extents == 0;

		say(v, !nothing, "mapcp copied where cp failed");
		return;
	}
	check_success(k, mc, src0, before, &cps, &mcs, v);
}

static void
count(struct env *env, const struct kase *k, const struct verdict *v,
      const struct result *mc)
{
	env->cases++;
	env->e_cases[k->engine]++;
	if (v->fails) {
		env->failed++;
		env->e_failed[k->engine]++;
	}
	if (v->notes)
		env->notes++;
	if (mc->status == 1)
		env->refused++;
}

/* Run case num of seed; 0 if it passed. */
static int
run_case(struct env *env, uint64_t seed, uint64_t num, bool loud)
{
	static struct result cp, mc;
	static struct argv cpa, mca;
	struct verdict v = { 0 };
	struct snap before;
	struct fstate src0;
	struct paths p;
	struct kase k;
	int s, d;

	memset(&p, 0, sizeof(p));
	gen_case(&k, seed, num);
	s = resolve(env, k.src_slot);
	d = resolve(env, k.dst_slot);
	set_paths(&k, env, s, d, &p);
	umask(k.umask);
	if (prepare(&k, &p) < 0 && (errno != ENOSPC || !retry(&k, &p))) {
		int err = errno;

		fprintf(stderr,
			"oracle: case %" PRIu64 ":%" PRIu64
			": cannot make the files in %s: %s\n",
			seed, num, p.sdir, strerror(err));
		rm_rf(p.sdir);
		rm_rf(p.ddir);
		free(k.lay.runs);
		if (err != ENOSPC)
			exit(2);
		env->skipped++; /* the space of earlier cases not yet free */
		return 0;
	}
	look(p.src, &src0);
	snapshot(p.mcdir, &before);
	cp_argv(&k, &cpa, p.src, p.cpdst);
	mapcp_argv(&k, env, &mca, p.src, p.mcdst);
	reset_times(&k, p.src);
	run(cpa.v, &cp);
	reset_times(&k, p.src);
	look(p.src, &src0); /* cp may have changed the atime */
	run(mca.v, &mc);
	compare(&k, env, s, d, &p, &src0, &cp, &mc, &before, &v);
	count(env, &k, &v, &mc);
	if (v.fails || v.notes || loud || env->verbose) {
		printf("%s seed %" PRIu64 " case %" PRIu64 " (%s):\n",
		       v.fails   ? "FAILED"
		       : v.notes ? "noted"
				 : "passed",
		       seed, num, engines[k.engine]);
		fputs(v.text ? v.text : "", stdout);
		if (v.fails || v.notes || loud) {
			describe(&k, env, s, d, &cpa, &mca, &cp, &mc);
			reproduce(&k, env);
		}
		fflush(stdout);
	}
	if (!env->keep) {
		rm_rf(p.sdir);
		rm_rf(p.ddir);
	}
	free(v.text);
	free(k.lay.runs);
	return v.fails ? 1 : 0;
}

/* ---- the filesystems ---- */

static bool
can_clone(const char *dir)
{
	char a[PATH_MAX], b[PATH_MAX];
	char buf[BLK] = { 1 };
	int fa, fb;
	bool ok = false;

	snprintf(a, sizeof(a), "%s/.oracle-probe.%d.a", dir, (int)getpid());
	snprintf(b, sizeof(b), "%s/.oracle-probe.%d.b", dir, (int)getpid());
	fa = open(a, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fb = open(b, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fa >= 0 && fb >= 0 && pwrite_all(fa, buf, sizeof(buf), 0) == 0 &&
	    fsync(fa) == 0)
		ok = ioctl(fb, FICLONE, fa) == 0;
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	unlink(a);
	unlink(b);
	return ok;
}

static void
add_dir(struct env *env, const char *dir)
{
	struct statfs sf;
	struct stat st;
	int i = env->ndirs;

	if (i == MAX_DIRS || strlen(dir) > PATH_MAX / 4) {
		fprintf(stderr,
			"oracle: at most %d directories, each path "
			"at most %d bytes\n",
			MAX_DIRS, PATH_MAX / 4);
		exit(2);
	}
	if (stat(dir, &st) < 0 || statfs(dir, &sf) < 0)
		die(dir);
	env->dirs[i] = dir;
	env->dev[i] = st.st_dev;
	switch ((unsigned long)sf.f_type) {
	case XFS_SUPER_MAGIC:
		env->type[i] = FS_XFS;
		break;
	case BTRFS_SUPER_MAGIC:
		env->type[i] = FS_BTRFS;
		break;
	case EXT4_SUPER_MAGIC:
		env->type[i] = FS_EXT4;
		break;
	case TMPFS_MAGIC:
		env->type[i] = FS_TMPFS;
		break;
	default:
		env->type[i] = FS_OTHER;
	}
	env->clones[i] = can_clone(dir);
	env->ndirs++;
}

static bool
io_uring_disabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "re");
	char line[32] = "0";

	if (f == NULL)
		return false;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '0';
	fclose(f);
	return strtol(line, NULL, 10) != 0;
}

/* ---- main ---- */

static int
parse_case(const char *s, uint64_t *seed, uint64_t *num)
{
	char *end;

	errno = 0;
	*seed = strtoull(s, &end, 0);
	if (errno || *end != ':')
		return -1;
	*num = strtoull(end + 1, &end, 0);
	return errno || (*end && *end != ' ' && *end != '\t' && *end != '\n')
		       ? -1
		       : 0;
}

static void
run_regressions(struct env *env, const char *file)
{
	char line[512];
	uint64_t seed, num;
	FILE *f = fopen(file, "re");

	if (f == NULL)
		die(file);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line + strspn(line, " \t");

		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (parse_case(p, &seed, &num) < 0) {
			fprintf(stderr, "oracle: %s: not SEED:CASE: %s", file,
				line);
			exit(2);
		}
		run_case(env, seed, num, false);
	}
	fclose(f);
}

static void
summary(const struct env *env)
{
	for (size_t e = 0; e < N_ENGINES; e++)
		printf("oracle: engine %-15s %5lu cases, %lu failed\n",
		       engines[e], env->e_cases[e], env->e_failed[e]);
	printf("oracle: %lu refused cleanly, %lu with notes, %lu not made "
	       "(no space left)\n",
	       env->refused, env->notes, env->skipped);
	printf("oracle: %lu cases, %lu failed\n", env->cases, env->failed);
}

static void __attribute__((noreturn)) usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: oracle [--seed N] [--cases N | --seconds S] "
		"[--regressions FILE]\n"
		"              [--replay SEED:CASE] [--keep] [-v] MAPCP "
		"DIR...\n"
		"Copies generated files with MAPCP and with GNU cp, in and "
		"between the DIRs\n(each a different filesystem), and "
		"compares the results.\n");
	exit(status);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cases", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "keep", no_argument, NULL, 'k' },
		{ "regressions", required_argument, NULL, 'r' },
		{ "replay", required_argument, NULL, 'R' },
		{ "seconds", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static struct env env;
	const char *regressions = NULL, *replay = NULL;
	uint64_t seed = 0, cases = 0, num, rseed, rnum;
	double seconds = 0;
	bool seeded = false;
	struct timespec t0, t;
	int c;

	while ((c = getopt_long(argc, argv, "hkv", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			cases = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			env.keep = true;
			break;
		case 'r':
			regressions = optarg;
			break;
		case 'R':
			replay = optarg;
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'v':
			env.verbose = true;
			break;
		case 'h':
			usage(0);
		default:
			usage(1);
		}
	}
	if (argc - optind < 2)
		usage(1);
	env.argv0 = argv[0];
	env.mapcp = argv[optind++];
	for (; optind < argc; optind++)
		add_dir(&env, argv[optind]);
	env.io_uring_off = io_uring_disabled();
	env.root = geteuid() == 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < env.ndirs; i++)
		printf("oracle: %s is %s%s\n", env.dirs[i],
		       fs_names[env.type[i]], env.clones[i] ? ", clones" : "");
	if (replay != NULL) {
		if (parse_case(replay, &rseed, &rnum) < 0)
			usage(1);
		run_case(&env, rseed, rnum, true);
	}
	if (regressions != NULL)
		run_regressions(&env, regressions);
	if (!seeded && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL);
	seed &= (1ULL << 48) - 1; /* short enough to type */
	if (cases || seconds > 0)
		printf("oracle: seed %" PRIu64 "\n", seed);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (num = 0; (cases || seconds > 0) && (!cases || num < cases);
	     num++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (seconds > 0 &&
		    (double)(t.tv_sec - t0.tv_sec) +
				    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >=
			    seconds)
			break;
		run_case(&env, seed, num, false);
	}
	summary(&env);
	return env.failed ? 1 : 0;
}
