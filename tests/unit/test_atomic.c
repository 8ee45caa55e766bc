/*
 * Unit tests for atomic.c: the temporary is invisible (an O_TMPFILE, made
 * with DEST's final mode) or hidden and 0600 while written, becomes DEST only
 * at commit, never replaces DEST when told not to, and leaves nothing behind
 * when abandoned. Each case runs with O_TMPFILE and again with the named
 * temporary of filesystems without it.
 */
#include "core.h"
#include "helpers.h"

static struct mapcp_report report;

/* The scratch directory, opened again whenever it is a new one. */
static int
scratch_fd(void)
{
	static char opened[PATH_MAX];
	static int fd = -1;

	if (fd < 0 || strcmp(opened, scratch) != 0) {
		if (fd >= 0)
			close(fd);
		fd = open(scratch, O_PATH | O_DIRECTORY);
		snprintf(opened, sizeof(opened), "%s", scratch);
	}
	return fd;
}

static void
put(struct atomic *a, const char *text)
{
	ssize_t n = (ssize_t)strlen(text);

	assert_int_equal(write(a->fd, text, (size_t)n), n);
}

static void
assert_content(const char *path, const char *text)
{
	char buf[256] = { 0 };
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) >= 0);
	close(fd);
	assert_string_equal(buf, text);
}

static void
each_mode(void (*body)(void))
{
	atomic_no_tmpfile = false;
	body();
	assert_int_equal(teardown_scratch(NULL), 0);
	assert_int_equal(setup_scratch(NULL), 0);
	atomic_no_tmpfile = true;
	body();
	atomic_no_tmpfile = false;
}

static void
new_dest(void)
{
	struct atomic a;
	struct stat st;

	assert_int_equal(atomic_open(&a, scratch_fd(), "dest", 0644, &report),
			 0);
	assert_int_equal(fstat(a.fd, &st), 0);
	/* A name others could open is private; no name, the final mode. */
	assert_int_equal(st.st_mode & 0777,
			 atomic_no_tmpfile ? 0600 : 0644 & ~process_umask());
	assert_int_equal(a.mode, st.st_mode & 0777);
	assert_int_equal(scratch_entries(), atomic_no_tmpfile ? 1 : 0);
	if (atomic_no_tmpfile)
		assert_int_equal(strncmp(a.tmpname, ".dest.mapcp-", 12), 0);
	put(&a, "new");
	assert_int_equal(file_size(path_in("dest")), -1); /* not yet */
	assert_int_equal(atomic_commit(&a, false, false, &report), 0);
	atomic_abort(&a);
	assert_content(path_in("dest"), "new");
	assert_int_equal(scratch_entries(), 1);
}

static void
replace_dest(void)
{
	struct atomic a;
	struct stat before, after;

	make_file(path_in("dest"), 100, 1);
	assert_int_equal(stat(path_in("dest"), &before), 0);
	assert_int_equal(atomic_open(&a, scratch_fd(), "dest", 0644, &report),
			 0);
	a.existed = true;
	put(&a, "replacement");
	assert_int_equal(file_size(path_in("dest")), 100); /* untouched */
	assert_int_equal(atomic_commit(&a, false, true, &report), 0);
	atomic_abort(&a);
	assert_content(path_in("dest"), "replacement");
	assert_int_equal(stat(path_in("dest"), &after), 0);
	assert_true(after.st_ino != before.st_ino);
	assert_int_equal(scratch_entries(), 1);
}

static void
keep_dest(void)
{
	struct atomic a;

	make_file(path_in("dest"), 100, 1);
	assert_int_equal(atomic_open(&a, scratch_fd(), "dest", 0644, &report),
			 0);
	put(&a, "ignored");
	/* Even if DEST appeared after we looked (existed is false). */
	assert_int_equal(atomic_commit(&a, true, false, &report), 1);
	atomic_abort(&a);
	assert_int_equal(file_size(path_in("dest")), 100);
	assert_int_equal(scratch_entries(), 1);
}

static void
abandon(void)
{
	struct atomic a;

	make_file(path_in("dest"), 100, 1);
	assert_int_equal(atomic_open(&a, scratch_fd(), "dest", 0644, &report),
			 0);
	put(&a, "half");
	atomic_abort(&a);
	assert_int_equal(file_size(path_in("dest")), 100);
	assert_int_equal(scratch_entries(), 1);
}

static void
long_name(void)
{
	char name[256];
	struct atomic a;

	memset(name, 'n', 255);
	name[255] = '\0';
	assert_int_equal(atomic_open(&a, scratch_fd(), name, 0644, &report), 0);
	assert_true(strlen(a.tmpname) <= 255);
	put(&a, "long");
	assert_int_equal(atomic_commit(&a, false, false, &report), 0);
	atomic_abort(&a);
	assert_content(path_in(name), "long");
	assert_int_equal(scratch_entries(), 1);
}

static void
test_new_dest(void **state)
{
	(void)state;
	each_mode(new_dest);
}

static void
test_replace_dest(void **state)
{
	(void)state;
	each_mode(replace_dest);
}

static void
test_keep_dest(void **state)
{
	(void)state;
	each_mode(keep_dest);
}

static void
test_abandon(void **state)
{
	(void)state;
	each_mode(abandon);
}

static void
test_long_name(void **state)
{
	(void)state;
	each_mode(long_name);
}

/* A directory removed under us: no temporary, a clear error. */
static void
test_missing_dir(void **state)
{
	struct atomic a;
	int fd;

	(void)state;
	assert_int_equal(mkdir(path_in("gone"), 0755), 0);
	fd = open(path_in("gone"), O_PATH | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(rmdir(path_in("gone")), 0);
	assert_true(atomic_open(&a, fd, "dest", 0644, &report) < 0);
	assert_int_equal(report.step, MAPCP_STEP_CREATE);
	atomic_abort(&a);
	close(fd);
	assert_int_equal(scratch_entries(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_dest, setup_scratch,
						teardown_scratch),
		cmocka_unit_test_setup_teardown(
			test_replace_dest, setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(test_keep_dest, setup_scratch,
						teardown_scratch),
		cmocka_unit_test_setup_teardown(test_abandon, setup_scratch,
						teardown_scratch),
		cmocka_unit_test_setup_teardown(test_long_name, setup_scratch,
						teardown_scratch),
		cmocka_unit_test_setup_teardown(test_missing_dir, setup_scratch,
						teardown_scratch),
	};

	return cmocka_run_group_tests_name("atomic", tests, NULL, NULL);
}
