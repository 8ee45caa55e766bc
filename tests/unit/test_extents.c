/*
 * Unit tests for extents.c: the data extents found with SEEK_DATA and
 * SEEK_HOLE on sparse files of known layout. Filesystems may round data
 * out to whole blocks, so each case checks that every byte written lies
 * in an extent, extents do not overlap, and the holes between stay holes.
 */
#include "internal.h"
#include "helpers.h"

#define MiB ((off_t)1 << 20)

struct span {
	off_t off, len;
};

/* Collect the extents of path below end. Returns how many. */
static int
collect(const char *path, off_t end, struct span *out, int max)
{
	int fd = open(path, O_RDONLY), n = 0, r;
	off_t pos = 0, len;

	assert_true(fd >= 0);
	while ((r = extent_next(fd, end, &pos, &len)) > 0) {
		assert_true(n < max);
		out[n].off = pos;
		out[n].len = len;
		n++;
		pos += len;
	}
	assert_int_equal(r, 0);
	close(fd);
	return n;
}

/* Does the file system under scratch keep holes at all? */
static bool
holes_supported(void)
{
	const char *p = path_in("probe");
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	bool ok;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8 * MiB), 0);
	assert_int_equal(pwrite(fd, "x", 1, 4 * MiB), 1);
	ok = lseek(fd, 0, SEEK_DATA) >= 2 * MiB;
	close(fd);
	unlink(p);
	return ok;
}

static void
test_layout(void **state)
{
	const char *p = path_in("sparse");
	const off_t data[][2] = { { 0, 4096 },
				  { 3 * MiB, MiB + 17 },
				  { 9 * MiB - 1, 1 } };
	struct span s[8];
	int n, fd;

	(void)state;
	if (!holes_supported()) {
		fprintf(stderr, "# SKIP: %s keeps no holes\n", scratch);
		skip();
	}
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(ftruncate(fd, 16 * MiB), 0);
	close(fd);
	for (int i = 0; i < 3; i++)
		write_pattern_at(p, data[i][0], (size_t)data[i][1], 1);
	n = collect(p, 16 * MiB, s, 8);
	assert_int_equal(n, 3);
	for (int i = 0; i < n; i++) {
		assert_true(s[i].off <= data[i][0]);
		assert_true(s[i].off + s[i].len >= data[i][0] + data[i][1]);
		if (i > 0)
			assert_true(s[i].off > s[i - 1].off + s[i - 1].len);
	}
	/* The trailing hole is no extent; a bound cuts the last one. */
	assert_true(s[2].off + s[2].len <= 10 * MiB);
	n = collect(p, 4 * MiB, s, 8);
	assert_int_equal(n, 2);
	assert_int_equal(s[1].off + s[1].len, 4 * MiB);
}

static void
test_no_data(void **state)
{
	const char *p = path_in("holes");
	struct span s[2];
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	(void)state;
	assert_int_equal(collect(p, 0, s, 2), 0); /* empty */
	assert_int_equal(ftruncate(fd, 5 * MiB), 0);
	close(fd);
	if (holes_supported())
		assert_int_equal(collect(p, 5 * MiB, s, 2), 0);
	else
		assert_int_equal(collect(p, 5 * MiB, s, 2), 1);
}

static void
test_dense(void **state)
{
	const char *p = path_in("dense");
	struct span s[2];

	(void)state;
	make_file(p, 3 * MiB + 5, 2);
	assert_int_equal(collect(p, 3 * MiB + 5, s, 2), 1);
	assert_int_equal(s[0].off, 0);
	assert_int_equal(s[0].len, 3 * MiB + 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup_scratch,
						teardown_scratch),
		cmocka_unit_test_setup_teardown(test_no_data, setup_scratch,
						teardown_scratch),
		cmocka_unit_test_setup_teardown(test_dense, setup_scratch,
						teardown_scratch),
	};

	return cmocka_run_group_tests_name("extents", tests, NULL, NULL);
}
