/*
 * Unit tests for what issue 5 added below the command line: --preserve
 * lists, metadata carried onto the temporary (metadata.c), --verify
 * (verify.c), and mapcp_copy()'s tree walker (walk.c): every entry reported
 * once, hard links kept, directories finished with the source's mode and
 * times after their contents, and mapcp_scan()'s totals.
 */
#include <pthread.h>
#include <sys/xattr.h>

#include "tree.h"
#include "helpers.h"

static void
test_parse_preserve(void **state)
{
	unsigned int bits = 12345;

	(void)state;
	assert_int_equal(mapcp_parse_preserve("mode", &bits), 0);
	assert_int_equal(bits, MAPCP_PRESERVE_MODE);
	assert_int_equal(mapcp_parse_preserve("timestamps,links", &bits), 0);
	assert_int_equal(bits,
			 MAPCP_PRESERVE_TIMESTAMPS | MAPCP_PRESERVE_LINKS);
	assert_int_equal(mapcp_parse_preserve("all", &bits), 0);
	assert_int_equal(bits, MAPCP_PRESERVE_ALL);
	assert_int_equal(mapcp_parse_preserve("xattr,ownership", &bits), 0);
	assert_int_equal(bits, MAPCP_PRESERVE_XATTR | MAPCP_PRESERVE_OWNERSHIP);
	bits = 7;
	assert_int_equal(mapcp_parse_preserve("mode,bogus", &bits), -EINVAL);
	assert_int_equal(mapcp_parse_preserve("", &bits), -EINVAL);
	assert_int_equal(mapcp_parse_preserve("mode,", &bits), -EINVAL);
	assert_int_equal(mapcp_parse_preserve("modes", &bits), -EINVAL);
	assert_int_equal(bits, 7); /* untouched on error */
}

static const struct timespec when[2] = {
	{ 981173106, 123456789 }, /* 2001-02-03, atime */
	{ 981173107, 987654321 }, /* mtime */
};

/* Timestamps to the nanosecond, mode, and user xattrs land on DEST. */
static void
test_metadata(void **state)
{
	struct mapcp_opts o = test_opts("auto");
	struct mapcp_report r;
	struct stat a, b;
	char value[16] = "";
	bool xattrs;

	(void)state;
	make_file(path_in("src"), 10000, 1);
	assert_int_equal(chmod(path_in("src"), 0751), 0);
	assert_int_equal(utimensat(AT_FDCWD, path_in("src"), when, 0), 0);
	xattrs = setxattr(path_in("src"), "user.mapcp", "kept", 4, 0) == 0;

	/* Without -p: the mode minus the umask, a new time, no xattrs. */
	assert_int_equal(
		mapcp_copy_file(path_in("src"), path_in("plain"), &o, &r), 0);
	assert_int_equal(stat(path_in("plain"), &b), 0);
	assert_int_equal(b.st_mode & 07777, 0751 & ~022);
	assert_true(b.st_mtim.tv_sec != when[1].tv_sec);
	assert_true(getxattr(path_in("plain"), "user.mapcp", value,
			     sizeof(value)) < 0);

	o.preserve = MAPCP_PRESERVE_ALL;
	o.umask = 077; /* -p keeps the mode whatever the umask */
	assert_int_equal(
		mapcp_copy_file(path_in("src"), path_in("kept"), &o, &r), 0);
	assert_int_equal(stat(path_in("src"), &a), 0);
	assert_int_equal(stat(path_in("kept"), &b), 0);
	assert_int_equal(b.st_mode & 07777, 0751);
	assert_int_equal(b.st_mtim.tv_sec, when[1].tv_sec);
	assert_int_equal(b.st_mtim.tv_nsec, when[1].tv_nsec);
	assert_int_equal(b.st_atim.tv_nsec, a.st_atim.tv_nsec);
	assert_int_equal(b.st_uid, a.st_uid);
	if (xattrs) {
		assert_int_equal(getxattr(path_in("kept"), "user.mapcp", value,
					  sizeof(value)),
				 4);
		assert_memory_equal(value, "kept", 4);
	} else {
		fprintf(stderr,
			"# xattrs not checked: %s keeps no user xattrs\n",
			scratch);
	}
}

/* The test engine's FLIP mode corrupts one byte; --verify must notice. */
static void
test_verify(void **state)
{
	struct mapcp_opts o = test_opts("fail");
	struct mapcp_report r;

	(void)state;
	make_file(path_in("src"), 3 << 20, 2);
	make_file(path_in("dst"), 100, 3);
	o.fail_errno = -1;
	o.fail_after = (3 << 20) - 1;
	o.flags |= MAPCP_VERIFY;
	assert_int_equal(
		mapcp_copy_file(path_in("src"), path_in("dst"), &o, &r), -EIO);
	assert_int_equal(r.step, MAPCP_STEP_VERIFY);
	assert_int_equal(file_size(path_in("dst")), 100); /* untouched */
	assert_int_equal(scratch_entries(), 2);

	/* The same copy unverified lands, corrupted: the engine works. */
	o.flags &= ~(unsigned)MAPCP_VERIFY;
	assert_int_equal(
		mapcp_copy_file(path_in("src"), path_in("dst"), &o, &r), 0);
	assert_false(files_equal(path_in("src"), path_in("dst")));
	assert_null(r.verified);

	/* A good copy with holes verifies, over the data extents. */
	o = test_opts("auto");
	o.flags |= MAPCP_VERIFY;
	assert_int_equal(truncate(path_in("src"), 64 << 20), 0);
	assert_int_equal(
		mapcp_copy_file(path_in("src"), path_in("dst"), &o, &r), 0);
	assert_non_null(r.verified);
	assert_true(files_equal(path_in("src"), path_in("dst")));
}

struct seen {
	pthread_mutex_t lock;
	int files, dirs, links, others, failed;
};

static void
count(const struct mapcp_report *r, void *arg)
{
	struct seen *s = arg;

	pthread_mutex_lock(&s->lock);
	if (r->step != MAPCP_STEP_NONE)
		s->failed++;
	else if (r->what == NULL)
		s->files++;
	else if (strcmp(r->what, "directory") == 0)
		s->dirs++;
	else if (strcmp(r->what, "hard link") == 0)
		s->links++;
	else
		s->others++;
	pthread_mutex_unlock(&s->lock);
}

/* src/ with 3 directories, 203 files (one linked twice), a symlink, a FIFO. */
static void
make_tree(void)
{
	char name[64];

	assert_int_equal(mkdir(path_in("src"), 0755), 0);
	assert_int_equal(mkdir(path_in("src/d1"), 0700), 0);
	assert_int_equal(mkdir(path_in("src/d1/d2"), 0755), 0);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "src/d1/f%d", i);
		make_file(path_in(name), (size_t)i * 37, (unsigned int)i);
	}
	make_file(path_in("src/d1/d2/deep"), 100000, 7);
	make_file(path_in("src/linked"), 5000, 8);
	assert_int_equal(
		link(path_in("src/linked"), path_in("src/d1/d2/alias")), 0);
	assert_int_equal(symlink("d1/f1", path_in("src/sym")), 0);
	assert_int_equal(mkfifo(path_in("src/fifo"), 0640), 0);
	assert_int_equal(utimensat(AT_FDCWD, path_in("src/d1"), when, 0), 0);
}

static void
tree_with_jobs(unsigned int jobs)
{
	struct mapcp_opts o = test_opts("auto");
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct mapcp_progress p = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct stat a, b;
	char dst[64];

	snprintf(dst, sizeof(dst), "copy%u", jobs);
	o.flags |= MAPCP_RECURSIVE;
	o.preserve = MAPCP_PRESERVE_ALL;
	o.jobs = jobs;
	o.on_file = count;
	o.on_file_arg = &s;
	o.progress = &p;
	assert_int_equal(mapcp_copy(path_in("src"), path_in(dst), &o), 0);
	assert_int_equal(s.failed, 0);
	assert_int_equal(s.dirs, 3);
	assert_int_equal(s.files, 202); /* 200 + deep + linked's first name */
	assert_int_equal(s.links, 1);
	assert_int_equal(s.others, 2); /* the symlink and the FIFO */
	assert_int_equal(p.files, 3 + 202 + 1 + 2);
	assert_int_equal(p.bytes, 199 * 200 / 2 * 37 + 100000 + 5000);

	snprintf(dst, sizeof(dst), "copy%u/d1", jobs);
	assert_int_equal(stat(path_in(dst), &b), 0);
	assert_int_equal(b.st_mode & 07777, 0700);
	/* Set after every file in it was made, so still the source's. */
	assert_int_equal(b.st_mtim.tv_nsec, when[1].tv_nsec);
	snprintf(dst, sizeof(dst), "copy%u/d1/d2/alias", jobs);
	assert_int_equal(stat(path_in(dst), &a), 0);
	snprintf(dst, sizeof(dst), "copy%u/linked", jobs);
	assert_int_equal(stat(path_in(dst), &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(b.st_nlink, 2);
	snprintf(dst, sizeof(dst), "copy%u/d1/f199", jobs);
	assert_true(files_equal(path_in("src/d1/f199"), path_in(dst)));
}

/* mapcp_scan()'s total of bytes for src, with these options. */
static unsigned long long
scan_total(const char *src, unsigned int preserve, enum mapcp_make make,
	   unsigned int flags, enum mapcp_sparse sparse)
{
	struct mapcp_opts o = test_opts("auto");
	struct mapcp_progress p = { .lock = PTHREAD_MUTEX_INITIALIZER };

	o.flags |= MAPCP_RECURSIVE | flags;
	o.preserve = preserve;
	o.make = make;
	o.sparse = sparse;
	mapcp_scan(&src, 1, &o, &p);
	assert_int_equal(p.scanned, 1);
	return p.total_bytes;
}

/* A sparse file counts its data, not its holes; all of it when written. */
static void
test_scan_sparse(void **state)
{
	const char *src;
	struct stat st;
	int fd;

	(void)state;
	make_file(path_in("sparse"), 8192, 3);
	fd = open(path_in("sparse"), O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 << 20), 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	src = path_in("sparse");
	assert_int_equal(scan_total(src, 0, MAPCP_MAKE_COPY, 0,
				    MAPCP_SPARSE_AUTO),
			 (unsigned long long)st.st_blocks * 512);
	assert_true((unsigned long long)st.st_blocks * 512 < (1 << 20));
	assert_int_equal(scan_total(src, 0, MAPCP_MAKE_COPY, 0,
				    MAPCP_SPARSE_NEVER),
			 64 << 20);
}

static void
test_tree(void **state)
{
	struct mapcp_opts o = test_opts("auto");
	struct mapcp_progress p = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const char *src;

	(void)state;
	make_tree();
	src = path_in("src"); /* path_in() reuses its buffers: take it last */
	o.flags |= MAPCP_RECURSIVE;
	mapcp_scan(&src, 1, &o, &p);
	assert_int_equal(p.scanned, 1);
	assert_int_equal(p.total_files, 3 + 200 + 1 + 2 + 2);
	assert_int_equal(p.total_bytes, 199 * 200 / 2 * 37 + 100000 + 2 * 5000);
	/* what will be copied: a file with two names once, with links kept */
	assert_int_equal(scan_total(src, MAPCP_PRESERVE_LINKS, MAPCP_MAKE_COPY,
				    0, MAPCP_SPARSE_AUTO),
			 199 * 200 / 2 * 37 + 100000 + 5000);
	/* links and --attributes-only copy no data */
	assert_int_equal(scan_total(src, 0, MAPCP_MAKE_HARD_LINK, 0,
				    MAPCP_SPARSE_AUTO),
			 0);
	assert_int_equal(scan_total(src, 0, MAPCP_MAKE_SYMLINK, 0,
				    MAPCP_SPARSE_AUTO),
			 0);
	assert_int_equal(scan_total(src, 0, MAPCP_MAKE_COPY,
				    MAPCP_ATTRIBUTES_ONLY, MAPCP_SPARSE_AUTO),
			 0);
	tree_with_jobs(1);
	tree_with_jobs(3);
	tree_with_jobs(16);
}

/*
 * The (device, inode) table against a model, a plain array, over a
 * million random puts, gets and deletes on keys that collide on purpose
 * (few devices, inodes in runs): every answer must be the model's.
 */
static void
test_idmap(void **state)
{
	enum { KEYS = 5000 };
	static void *model[KEYS];
	struct idmap m = { 0 };
	unsigned int seed = 12345;
	size_t n = 0;

	(void)state;
	memset(model, 0, sizeof(model));
	for (int op = 0; op < 1000000; op++) {
		unsigned int k, what;
		dev_t dev;
		ino_t ino;

		seed = seed * 1103515245u + 12345u;
		k = (seed >> 8) % KEYS;
		what = (seed >> 24) % 4;
		dev = k % 3;
		ino = (ino_t)(k / 3) * ((k & 1) ? 1 : 4096);
		if (what == 0) {
			void *v = (void *)(uintptr_t)(op + 1);

			assert_int_equal(idmap_put(&m, dev, ino, v), 0);
			n += model[k] == NULL;
			model[k] = v;
		} else if (what == 1) {
			assert_ptr_equal(idmap_del(&m, dev, ino), model[k]);
			n -= model[k] != NULL;
			model[k] = NULL;
		} else {
			assert_ptr_equal(idmap_get(&m, dev, ino), model[k]);
		}
		assert_int_equal(m.n, n);
	}
	for (unsigned int k = 0; k < KEYS; k++)
		assert_ptr_equal(
			idmap_get(&m, k % 3,
				  (ino_t)(k / 3) * ((k & 1) ? 1 : 4096)),
			model[k]);
	idmap_free(&m, NULL);
	assert_null(idmap_get(&m, 0, 0));
}

/*
 * What mapcp_remove_temps() removes: names tracked and made, not yet
 * untracked; never an untracked one.
 */
static void
test_remove_temps(void **state)
{
	int kept, made, never;

	(void)state;
	make_file(path_in(".a.mapcp-AAAAAA"), 10, 1);
	make_file(path_in(".b.mapcp-BBBBBB"), 10, 1);
	make_file(path_in("user-file"), 10, 1);
	kept = temp_track(AT_FDCWD, path_in(".b.mapcp-BBBBBB"));
	temp_made(kept);
	temp_untrack(kept); /* in place: not ours to remove any more */
	made = temp_track(AT_FDCWD, path_in(".a.mapcp-AAAAAA"));
	temp_made(made);
	never = temp_track(AT_FDCWD, path_in("never-made"));
	assert_true(made > 0 && never > 0 && kept > 0);
	mapcp_remove_temps();
	assert_int_equal(access(path_in(".a.mapcp-AAAAAA"), F_OK), -1);
	assert_int_equal(access(path_in(".b.mapcp-BBBBBB"), F_OK), 0);
	assert_int_equal(access(path_in("user-file"), F_OK), 0);
}

/* Into itself: refused before anything is made. */
static void
test_into_itself(void **state)
{
	struct mapcp_opts o = test_opts("auto");
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };

	(void)state;
	make_tree();
	o.flags |= MAPCP_RECURSIVE;
	o.on_file = count;
	o.on_file_arg = &s;
	assert_int_equal(
		mapcp_copy(path_in("src"), path_in("src/d1/d2/in"), &o), 1);
	assert_int_equal(s.failed, 1);
	assert_int_equal(access(path_in("src/d1/d2/in"), F_OK), -1);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_scratch, teardown_scratch)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_preserve),
		T(test_metadata),
		T(test_verify),
		T(test_tree),
		T(test_scan_sparse),
		T(test_into_itself),
		cmocka_unit_test(test_idmap),
		/* Last: afterwards no temporary can be tracked in this process.
		 */
		T(test_remove_temps),
	};

	return cmocka_run_group_tests_name("tree", tests, NULL, NULL);
}
