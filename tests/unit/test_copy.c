/*
 * Unit tests for copy.c through the public API, mapcp_copy_file(): every
 * engine at every size that matters to windows and pages, sparse files past
 * 4 GiB, the same-file refusal, atomicity when a copy fails midway or the
 * source changes size, streams, permissions and the forms of DEST.
 */
#include <pthread.h>
#include <sys/sysmacros.h>

#include <sys/statfs.h>

#include "core.h"
#include "helpers.h"

#define KiB ((off_t)1 << 10)
#define MiB ((off_t)1 << 20)
#define GiB ((off_t)1 << 30)

/* Every engine but reflink, which most filesystems cannot do: see below. */
static const char *const engines[] = { "auto",     "copy_file_range", "rw",
				       "io_uring", "mmap-write",      "mmap",
				       "sendfile", "splice" };
#define NENGINES (sizeof(engines) / sizeof(engines[0]))

static struct mapcp_report report;

static int
copy(const char *src, const char *dst, const struct mapcp_opts *o)
{
	return mapcp_copy_file(path_in(src), path_in(dst), o, &report);
}

/* Each engine at the sizes around pages and around the window. */
static void
sizes_for_window(size_t window)
{
	const off_t w = (off_t)window;
	const off_t sizes[] = { 0,        1,     4095, 4096,  4097,
				MiB + 13, w - 1, w,    w + 1, 3 * w + 7 };

	for (size_t e = 0; e < NENGINES; e++) {
		struct mapcp_opts o = test_opts(engines[e]);

		o.window = window;
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			make_file(path_in("src"), (size_t)sizes[i],
				  (unsigned int)i);
			assert_int_equal(copy("src", "dst", &o), 0);
			if (!files_equal(path_in("src"), path_in("dst")))
				fail_msg("%s, window %zu, size %jd: differ",
					 engines[e], window,
					 (intmax_t)sizes[i]);
			assert_int_equal(report.bytes, sizes[i]);
			assert_int_equal(unlink(path_in("dst")), 0);
		}
	}
	assert_int_equal(scratch_entries(), 1);
}

static void
test_sizes_default_window(void **state)
{
	(void)state;
	sizes_for_window(MAPCP_DEFAULT_WINDOW);
}

static void
test_sizes_small_window(void **state)
{
	(void)state;
	sizes_for_window(64 * 1024);
}

/* 5 GiB, data at 0, across 4 GiB - 1 and at the very end. */
static void
test_sparse_past_4g(void **state)
{
	const off_t size = 5 * GiB;
	struct stat st;
	int fd;

	(void)state;
	fd = open(path_in("src"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
	write_pattern_at(path_in("src"), 0, 4096, 1);
	write_pattern_at(path_in("src"), 4 * GiB - 1, 1, 2);
	write_pattern_at(path_in("src"), size - 4096, 4096, 3);
	for (size_t e = 0; e < NENGINES; e++) {
		struct mapcp_opts o = test_opts(engines[e]);

		assert_int_equal(copy("src", "dst", &o), 0);
		if (!files_equal(path_in("src"), path_in("dst")))
			fail_msg("%s: 5 GiB sparse copy differs", engines[e]);
		/* Holes stayed holes: nowhere near 5 GiB allocated. */
		assert_int_equal(stat(path_in("dst"), &st), 0);
		assert_true(st.st_blocks * 512 < 64 * MiB);
		assert_int_equal(unlink(path_in("dst")), 0);
	}
}

static void
expect_same_file(const char *src, const char *dst)
{
	struct mapcp_opts o = test_opts("auto");

	assert_int_equal(copy(src, dst, &o), -EINVAL);
	assert_int_equal(report.step, MAPCP_STEP_SAME_FILE);
	o.flags = MAPCP_INPLACE;
	assert_int_equal(copy(src, dst, &o), -EINVAL);
	assert_int_equal(report.step, MAPCP_STEP_SAME_FILE);
}

static void
test_same_file(void **state)
{
	struct mapcp_opts o = test_opts("auto");
	char dot[2 * PATH_MAX];

	(void)state;
	make_file(path_in("a"), 10000, 5);
	assert_int_equal(link(path_in("a"), path_in("hard")), 0);
	assert_int_equal(symlink("a", path_in("soft")), 0);
	expect_same_file("a", "a");
	expect_same_file("a", "hard");
	expect_same_file("a", "soft");
	expect_same_file("soft", "a");
	snprintf(dot, sizeof(dot), "%s/./a", scratch);
	assert_int_equal(mapcp_copy_file(path_in("a"), dot, &o, &report),
			 -EINVAL);
	/* The source kept every byte: the exercise's program truncates it. */
	make_file(path_in("ref"), 10000, 5);
	assert_true(files_equal(path_in("a"), path_in("ref")));
}

/* DEST before a failing copy, to compare with after. */
struct before {
	struct stat st;
	int entries;
};

static void
remember(struct before *b)
{
	make_file(path_in("dst"), 5000, 99);
	make_file(path_in("old"), 5000, 99);
	assert_int_equal(stat(path_in("dst"), &b->st), 0);
	b->entries = scratch_entries();
}

static void
assert_untouched(const struct before *b)
{
	struct stat st;

	assert_int_equal(stat(path_in("dst"), &st), 0);
	assert_int_equal(st.st_ino, b->st.st_ino);
	assert_true(files_equal(path_in("dst"), path_in("old")));
	assert_int_equal(scratch_entries(), b->entries); /* no temporary */
}

static void
test_fails_midway(void **state)
{
	const off_t size = 3 * MiB;
	const off_t after[] = { 0, 1, 4096, size - 1 };

	(void)state;
	make_file(path_in("src"), (size_t)size, 4);
	for (int named = 0; named < 2; named++) {
		atomic_no_tmpfile = named;
		for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
			struct mapcp_opts o = test_opts("fail");
			struct before b;

			o.fail_errno = EIO;
			o.fail_after = after[i];
			remember(&b);
			assert_int_equal(copy("src", "dst", &o), -EIO);
			assert_int_equal(report.step, MAPCP_STEP_WRITE);
			assert_untouched(&b);
		}
	}
	atomic_no_tmpfile = false;
}

/* on_window hooks that change the source under the copy. */
static void
shrink_at_second_window(const struct mapcp_window *w, void *arg)
{
	if (w->index == 1)
		assert_int_equal(truncate(arg, 100 * KiB), 0);
}

static void
shrink_inside_first_window(const struct mapcp_window *w, void *arg)
{
	if (w->index == 0)
		assert_int_equal(truncate(arg, 10 * KiB), 0);
}

static void
grow_at_first_window(const struct mapcp_window *w, void *arg)
{
	if (w->index == 0)
		write_pattern_at(arg, 1 * MiB, 4096, 8);
}

static void
test_source_changes(void **state)
{
	mapcp_window_fn *const hooks[3] = { &shrink_at_second_window,
					    &shrink_inside_first_window,
					    &grow_at_first_window };
	const char *mapping[] = { "mmap", "mmap-write" };
	char src[PATH_MAX];

	(void)state;
	snprintf(src, sizeof(src), "%s", path_in("src"));
	for (size_t e = 0; e < 2; e++) {
		for (size_t h = 0; h < 3; h++) {
			struct mapcp_opts o = test_opts(mapping[e]);
			struct before b;

			o.window = 64 * KiB;
			o.on_window = hooks[h];
			o.on_window_arg = src;
			make_file(src, (size_t)MiB, 6);
			remember(&b);
			assert_int_equal(copy("src", "dst", &o), -EIO);
			assert_int_equal(report.step, MAPCP_STEP_CHANGED);
			assert_int_equal(report.size, MiB);
			assert_int_not_equal(report.size_now, MiB);
			assert_untouched(&b);
		}
	}
}

static void *
truncate_soon(void *arg)
{
	struct timespec ts = { 0, 1000 * 1000 };

	nanosleep(&ts, NULL);
	assert_int_equal(truncate(arg, MiB), 0);
	return NULL;
}

/*
 * Engines without windows meet a shrinking source as a short read; the
 * timing is the scheduler's, so the test holds either outcome to the rule:
 * a complete copy of the original, or an error with DEST untouched.
 */
static void
test_source_shrinks_racing(void **state)
{
	const char *plain[] = { "rw", "copy_file_range", "io_uring", "sendfile",
				"splice" };
	int outcome[2] = { 0, 0 };
	char src[PATH_MAX];

	(void)state;
	snprintf(src, sizeof(src), "%s", path_in("src"));
	for (size_t e = 0; e < sizeof(plain) / sizeof(plain[0]); e++) {
		for (int round = 0; round < 2; round++) {
			struct mapcp_opts o = test_opts(plain[e]);
			struct before b;
			pthread_t t;
			int ret;

			make_file(src, (size_t)(64 * MiB), 9);
			remember(&b);
			assert_int_equal(
				pthread_create(&t, NULL, truncate_soon, src),
				0);
			ret = copy("src", "dst", &o);
			pthread_join(t, NULL);
			outcome[ret == 0]++;
			if (ret == 0) {
				assert_int_equal(file_size(path_in("dst")),
						 64 * MiB);
				make_file(path_in("full"), (size_t)(64 * MiB),
					  9);
				assert_true(files_equal(path_in("dst"),
							path_in("full")));
				unlink(path_in("full"));
				continue;
			}
			assert_int_equal(report.step, MAPCP_STEP_CHANGED);
			assert_untouched(&b);
		}
	}
	print_message("# racing truncations: %d caught, %d after the copy\n",
		      outcome[0], outcome[1]);
}

/*
 * -i's question comes after the source is opened and looked at, before a
 * byte is copied: a hook to change the source at that moment, with every
 * engine. Written over in place (same size, a new mtime) or cut to 0
 * bytes (the in-kernel engines then read nothing at all, which alone
 * would pass for a /proc-like file), it is a changed source either way.
 */
static bool
overwrite_on_ask(const char *dst, void *arg)
{
	(void)dst;
	write_pattern_at(arg, 1 * MiB, 4096, 12);
	return true;
}

static bool
empty_on_ask(const char *dst, void *arg)
{
	(void)dst;
	assert_int_equal(truncate(arg, 0), 0);
	return true;
}

static void
test_source_changes_before_copy(void **state)
{
	/* An old mtime, so that any write, however soon, gives a new one. */
	const struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	mapcp_ask_fn *const hooks[2] = { &overwrite_on_ask, &empty_on_ask };
	char src[PATH_MAX];

	(void)state;
	snprintf(src, sizeof(src), "%s", path_in("src"));
	for (size_t e = 0; e < NENGINES; e++) {
		for (size_t h = 0; h < 2; h++) {
			struct mapcp_opts o = test_opts(engines[e]);
			struct before b;

			o.flags |= MAPCP_INTERACTIVE;
			o.ask = hooks[h];
			o.ask_arg = src;
			make_file(src, (size_t)(3 * MiB), 11);
			assert_int_equal(utimensat(AT_FDCWD, src, old, 0), 0);
			remember(&b);
			if (copy("src", "dst", &o) != -EIO ||
			    report.step != MAPCP_STEP_CHANGED)
				fail_msg("%s, hook %zu: %d, step %d",
					 engines[e], h, report.err,
					 (int)report.step);
			assert_int_equal(report.size, 3 * MiB);
			assert_int_equal(report.size_now, h == 0 ? 3 * MiB : 0);
			assert_untouched(&b);
		}
	}
}

static void *
feed_fifo(void *arg)
{
	int fd = open(arg, O_WRONLY);
	unsigned char buf[1000];

	assert_true(fd >= 0);
	for (int i = 0; i < 100; i++) {
		for (int k = 0; k < 1000; k++)
			buf[k] = pattern_byte(3, i * 1000 + k);
		assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	}
	close(fd);
	return NULL;
}

static void
test_streams(void **state)
{
	struct mapcp_opts o = test_opts("mmap");
	char fifo[PATH_MAX];
	char buf[6] = { 0 };
	pthread_t t;
	int fd;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s", path_in("fifo"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(pthread_create(&t, NULL, feed_fifo, fifo), 0);
	assert_int_equal(copy("fifo", "dst", &o), 0);
	pthread_join(t, NULL);
	assert_string_equal(report.engine, "rw");
	assert_non_null(report.stream);
	write_pattern_at(path_in("ref"), 0, 100000, 3);
	assert_true(files_equal(path_in("dst"), path_in("ref")));

	assert_int_equal(mapcp_copy_file("/proc/self/status", path_in("st"), &o,
					 &report),
			 0);
	assert_non_null(report.stream);
	assert_true(report.bytes > 100);
	fd = open(path_in("st"), O_RDONLY);
	assert_int_equal(read(fd, buf, 5), 5);
	close(fd);
	assert_string_equal(buf, "Name:");
}

/*
 * The temporary's mode, looked up through /proc/self/fd while mapped: an
 * unnamed O_TMPFILE, which nobody else can open, made with DEST's final
 * mode at once, never wider.
 */
struct temp_check {
	int checked;
	mode_t want; /* DEST's final mode */
};

static void
temp_is_private(const struct mapcp_window *w, void *arg)
{
	char link[64], target[PATH_MAX];
	struct stat st;
	struct temp_check *c = arg;

	(void)w;
	for (int fd = 3; fd < 64; fd++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, scratch, strlen(scratch)) != 0 ||
		    strstr(target, "src") != NULL ||
		    strstr(target, "(deleted)") == NULL)
			continue;
		assert_int_equal(stat(link, &st), 0);
		assert_int_equal(st.st_mode & 0777, c->want);
		c->checked++;
	}
}

static void
test_permissions(void **state)
{
	struct mapcp_opts o = test_opts("mmap");
	struct stat st;
	struct temp_check c = { 0, 0640 };

	(void)state;
	make_file(path_in("src"), 10000, 1);
	assert_int_equal(chmod(path_in("src"), 0666), 0);
	o.umask = 027;
	o.on_window = temp_is_private;
	o.on_window_arg = &c;
	assert_int_equal(copy("src", "new", &o), 0);
	assert_int_equal(c.checked, 1);
	assert_int_equal(stat(path_in("new"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* An existing DEST keeps its own bits. */
	make_file(path_in("old"), 10, 2);
	assert_int_equal(chmod(path_in("old"), 0604), 0);
	c.want = 0604;
	assert_int_equal(copy("src", "old", &o), 0);
	assert_int_equal(c.checked, 2);
	assert_int_equal(stat(path_in("old"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0604);
	assert_true(files_equal(path_in("src"), path_in("old")));
	/* Special bits do not travel without -p. */
	assert_int_equal(chmod(path_in("src"), 04755), 0);
	c.want = 0750;
	assert_int_equal(copy("src", "suid", &o), 0);
	assert_int_equal(stat(path_in("suid"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
}

static void
test_inplace_and_no_clobber(void **state)
{
	struct mapcp_opts o = test_opts("auto");
	struct stat before, after;

	(void)state;
	make_file(path_in("src"), 10000, 1);
	make_file(path_in("dst"), 50000, 2);
	assert_int_equal(stat(path_in("dst"), &before), 0);
	o.flags = MAPCP_INPLACE;
	assert_int_equal(copy("src", "dst", &o), 0);
	assert_false(report.atomic);
	assert_int_equal(stat(path_in("dst"), &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_true(files_equal(path_in("src"), path_in("dst")));

	make_file(path_in("keep"), 7, 3);
	make_file(path_in("ref"), 7, 3);
	o.flags = MAPCP_NO_CLOBBER;
	assert_int_equal(copy("src", "keep", &o), 0);
	assert_true(report.skipped);
	assert_true(files_equal(path_in("keep"), path_in("ref")));
	assert_int_equal(copy("src", "fresh", &o), 0);
	assert_false(report.skipped);
	assert_true(files_equal(path_in("src"), path_in("fresh")));
}

static void
test_dest_forms(void **state)
{
	struct mapcp_opts o = test_opts("auto");
	struct stat st;

	(void)state;
	make_file(path_in("src"), 3000, 1);
	/* A special DEST is written, never replaced. */
	assert_int_equal(
		mapcp_copy_file(path_in("src"), "/dev/null", &o, &report), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	/* A symlink DEST: its target is replaced, the link stays. */
	make_file(path_in("target"), 10, 2);
	assert_int_equal(symlink("target", path_in("link")), 0);
	assert_int_equal(copy("src", "link", &o), 0);
	assert_int_equal(lstat(path_in("link"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_true(files_equal(path_in("src"), path_in("target")));
	/* Dangling: refused, and nothing created. */
	assert_int_equal(symlink("nowhere", path_in("dangling")), 0);
	assert_int_equal(copy("src", "dangling", &o), -ENOENT);
	assert_int_equal(report.step, MAPCP_STEP_DANGLING);
	assert_int_equal(file_size(path_in("nowhere")), -1);
	/* A directory is not replaced by a file. */
	assert_int_equal(mkdir(path_in("dir"), 0755), 0);
	assert_int_equal(copy("src", "dir", &o), -EISDIR);
	assert_int_equal(report.step, MAPCP_STEP_DST_IS_DIR);
	assert_int_equal(copy("dir", "x", &o), -EISDIR);
	assert_int_equal(report.step, MAPCP_STEP_IS_DIR);
	assert_int_equal(copy("missing", "x", &o), -ENOENT);
	assert_int_equal(report.step, MAPCP_STEP_STAT_SRC);
	assert_int_equal(copy("src", "missing/x", &o), -ENOENT);
	assert_int_equal(report.step, MAPCP_STEP_CREATE);
	assert_int_equal(copy("src", "src/x", &o), -ENOTDIR);
	assert_int_equal(report.step, MAPCP_STEP_CREATE);
}

/* The data extents of path, as "off+len" pairs; n of them. */
static int
data_map(const char *path, off_t *map, int max)
{
	int fd = open(path, O_RDONLY), n = 0;
	off_t pos = 0, data, hole, size = file_size(path);

	assert_true(fd >= 0);
	while (pos < size && (data = lseek(fd, pos, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		assert_true(n + 2 <= max);
		map[n++] = data;
		map[n++] = hole - data;
		pos = hole;
	}
	close(fd);
	return n / 2;
}

/*
 * Every engine in every --sparse mode: the bytes always, and the holes as
 * the mode says: auto copies the source's layout, always also makes holes
 * of the zero blocks, never allocates everything.
 */
static void
test_sparse_modes(void **state)
{
	const enum mapcp_sparse modes[] = { MAPCP_SPARSE_AUTO,
					    MAPCP_SPARSE_ALWAYS,
					    MAPCP_SPARSE_NEVER };
	const off_t always[] = { 0, 64 * KiB, MiB, 4096, MiB + 8192, 4096 };
	off_t src[16], dst[16];
	int nsrc;
	struct stat st;

	(void)state;
	make_layout(path_in("src"));
	nsrc = data_map(path_in("src"), src, 16);
	if (nsrc < 2 || src[0] != 0) {
		fprintf(stderr, "# SKIP: %s keeps no holes\n", scratch);
		skip();
	}
	for (size_t e = 0; e < NENGINES; e++) {
		for (int m = 0; m < 3; m++) {
			struct mapcp_opts o = test_opts(engines[e]);
			int ndst;

			o.sparse = modes[m];
			if (mapcp_check_opts(&o) != NULL)
				continue; /* copy_file_range and never */
			assert_int_equal(copy("src", "dst", &o), 0);
			if (!files_equal(path_in("src"), path_in("dst")))
				fail_msg("%s, sparse mode %d: differ",
					 engines[e], m);
			ndst = data_map(path_in("dst"), dst, 16);
			assert_int_equal(stat(path_in("dst"), &st), 0);
			if (modes[m] == MAPCP_SPARSE_AUTO) {
				assert_int_equal(ndst, nsrc);
				assert_memory_equal(dst, src,
						    (size_t)nsrc * 2 *
							    sizeof(off_t));
			} else if (modes[m] == MAPCP_SPARSE_ALWAYS) {
				assert_int_equal(ndst, 3);
				assert_memory_equal(dst, always,
						    sizeof(always));
			} else {
				assert_int_equal(ndst, 1);
				assert_true(st.st_blocks * 512 >= 2 * MiB);
			}
			assert_int_equal(unlink(path_in("dst")), 0);
		}
	}
}

static void
test_io_uring_depths(void **state)
{
	const unsigned int depths[] = { 1, 4, 64 };
	const off_t sizes[] = { 1, 4097, 300 * KiB + 3, 5 * MiB + 1 };

	(void)state;
	for (size_t d = 0; d < 3; d++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct mapcp_opts o = test_opts("io_uring");

			o.queue_depth = depths[d];
			o.buffer = 64 * 1024; /* many pieces in flight */
			make_file(path_in("src"), (size_t)sizes[i],
				  (unsigned)i);
			assert_int_equal(copy("src", "dst", &o), 0);
			assert_string_equal(report.engine, "io_uring");
			assert_true(
				files_equal(path_in("src"), path_in("dst")));
		}
	}
}

/* From a pipe, --sparse=always seeks over zero blocks as cp does. */
static void *
feed_zeros(void *arg)
{
	static unsigned char block[4096];
	int fd = open(arg, O_WRONLY);

	assert_true(fd >= 0);
	memset(block, 'x', sizeof(block));
	assert_int_equal(write(fd, block, 4096), 4096);
	memset(block, 0, sizeof(block));
	for (int i = 0; i < 64; i++)
		assert_int_equal(write(fd, block, 4096), 4096);
	memset(block, 'y', sizeof(block));
	assert_int_equal(write(fd, block, 100), 100);
	close(fd);
	return NULL;
}

static void
test_stream_always(void **state)
{
	struct mapcp_opts o = test_opts("auto");
	char fifo[PATH_MAX];
	off_t map[8];
	pthread_t t;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s", path_in("fifo"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	o.sparse = MAPCP_SPARSE_ALWAYS;
	assert_int_equal(pthread_create(&t, NULL, feed_zeros, fifo), 0);
	assert_int_equal(copy("fifo", "dst", &o), 0);
	pthread_join(t, NULL);
	assert_int_equal(file_size(path_in("dst")), 65 * 4096 + 100);
	if (data_map(path_in("dst"), map, 8) == 1) {
		fprintf(stderr, "# SKIP: %s keeps no holes\n", scratch);
		skip();
	}
	assert_int_equal(data_map(path_in("dst"), map, 8), 2);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], 4096);
	assert_int_equal(map[2], 65 * 4096);
}

/* Where the filesystem cannot clone, reflink fails cleanly: no file. */
static void
test_reflink_here(void **state)
{
	struct mapcp_opts o = test_opts("auto");
	int ret;

	(void)state;
	make_file(path_in("src"), 300 * KiB, 5);
	o.reflink = MAPCP_REFLINK_ALWAYS;
	ret = copy("src", "dst", &o);
	if (ret == 0) { /* a filesystem that clones: a real copy, then */
		assert_string_equal(report.engine, "reflink");
		assert_true(files_equal(path_in("src"), path_in("dst")));
		return;
	}
	assert_int_equal(report.step, MAPCP_STEP_CLONE);
	assert_int_equal(scratch_entries(), 1);
	/*
	 * auto, meanwhile, copies: where it knows the filesystem cannot
	 * share (ext4, tmpfs) without asking, elsewhere after reflink's no.
	 */
	o.reflink = MAPCP_REFLINK_AUTO;
	assert_int_equal(copy("src", "dst", &o), 0);
	if (report.nfallbacks == 0) {
		struct statfs sf;

		assert_int_equal(statfs(scratch, &sf), 0);
		assert_true(sf.f_type == 0xef53 || sf.f_type == 0x01021994);
		assert_string_equal(report.engine, "copy_file_range");
	} else {
		assert_string_equal(report.fallback[0].engine, "reflink");
	}
	assert_true(files_equal(path_in("src"), path_in("dst")));
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_scratch, teardown_scratch)
	const struct CMUnitTest tests[] = {
		T(test_sizes_default_window),
		T(test_sizes_small_window),
		T(test_sparse_past_4g),
		T(test_same_file),
		T(test_fails_midway),
		T(test_source_changes),
		T(test_source_shrinks_racing),
		T(test_source_changes_before_copy),
		T(test_streams),
		T(test_permissions),
		T(test_inplace_and_no_clobber),
		T(test_dest_forms),
		T(test_sparse_modes),
		T(test_io_uring_depths),
		T(test_stream_always),
		T(test_reflink_here),
	};

	return cmocka_run_group_tests_name("copy", tests, NULL, NULL);
}
