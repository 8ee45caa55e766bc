/*
 * Unit tests for extents.c: the data extents found with SEEK_DATA and
 * SEEK_HOLE on sparse files of known layout. Filesystems may round data
 * out to whole blocks, so each case checks that every byte written lies
 * in an extent, extents do not overlap, and the holes between stay holes.
 */
#include "core.h"
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

static int
walk(const char *path, off_t end, enum mapcp_sparse mode, struct span *out,
     int max)
{
	struct extents x;
	int fd = open(path, O_RDONLY), n = 0, r;
	off_t off, len, pos = 0;
	bool hole;

	assert_true(fd >= 0);
	assert_int_equal(extents_init(&x, fd, end, mode, 4096, false), 0);
	while ((r = extents_next(&x, &off, &len, &hole)) > 0) {
		assert_true(n < max);
		assert_true(off >= pos); /* in order, no overlap */
		pos = off + len;
		if (hole) { /* only never gives holes, and they tile the file */
			assert_int_equal(mode, MAPCP_SPARSE_NEVER);
			continue;
		}
		out[n].off = off;
		out[n].len = len;
		n++;
	}
	assert_int_equal(r, 0);
	extents_free(&x);
	close(fd);
	return n;
}

/* Bytes covered by the extents and holes of --sparse=never, contiguously. */
static off_t
never_covered(const char *path, off_t end)
{
	struct extents x;
	int fd = open(path, O_RDONLY);
	off_t off, len, pos = 0;
	bool hole;

	assert_int_equal(
		extents_init(&x, fd, end, MAPCP_SPARSE_NEVER, 4096, false), 0);
	while (extents_next(&x, &off, &len, &hole) > 0) {
		assert_int_equal(off, pos);
		pos += len;
	}
	extents_free(&x);
	close(fd);
	return pos;
}

static void
test_sparse_always(void **state)
{
	const char *p = path_in("layout");
	struct span s[8];
	int n;

	(void)state;
	if (!holes_supported()) {
		fprintf(stderr, "# SKIP: %s keeps no holes\n", scratch);
		skip();
	}
	make_layout(p);
	n = walk(p, 2 * MiB, MAPCP_SPARSE_ALWAYS, s, 8);
	/* The zero blocks and the block of 100 zeros are left out. */
	assert_int_equal(n, 3);
	assert_int_equal(s[0].off, 0);
	assert_int_equal(s[0].len, 16 * 4096);
	assert_int_equal(s[1].off, MiB);
	assert_int_equal(s[1].len, 4096);
	assert_int_equal(s[2].off, MiB + 2 * 4096);
	assert_int_equal(s[2].len, 4096);
	/* auto keeps what the filesystem says is data, zeros included. */
	n = walk(p, 2 * MiB, MAPCP_SPARSE_AUTO, s, 8);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].off, 0);
	assert_int_equal(s[0].len, 24 * 4096);
	/* never: the data extents as auto, and the holes between, marked. */
	assert_int_equal(walk(p, 2 * MiB, MAPCP_SPARSE_NEVER, s, 8), 2);
	assert_int_equal(s[1].off, MiB);
	assert_int_equal(never_covered(p, 2 * MiB), 2 * MiB);
	assert_int_equal(walk(p, 0, MAPCP_SPARSE_NEVER, s, 8), 0);
}

/* A block cut by the end of the file is data even if all zero. */
static void
test_always_partial_blocks(void **state)
{
	const char *p = path_in("tail");
	static unsigned char zeros[4096 + 10];
	struct span s[4];
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	(void)state;
	assert_int_equal(write(fd, zeros, sizeof(zeros)), sizeof(zeros));
	close(fd);
	assert_int_equal(
		walk(p, (off_t)sizeof(zeros), MAPCP_SPARSE_ALWAYS, s, 4), 1);
	assert_int_equal(s[0].off, 4096);
	assert_int_equal(s[0].len, 10);
}

static void
test_all_zero(void **state)
{
	unsigned char b[300] = { 0 };

	(void)state;
	assert_true(all_zero(b, 0));
	assert_true(all_zero(b, sizeof(b)));
	b[299] = 1;
	assert_false(all_zero(b, sizeof(b)));
	assert_true(all_zero(b, 299));
	b[0] = 1;
	assert_false(all_zero(b, 1));
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
		cmocka_unit_test_setup_teardown(
			test_sparse_always, setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(test_always_partial_blocks,
						setup_scratch,
						teardown_scratch),
		cmocka_unit_test(test_all_zero),
	};

	return cmocka_run_group_tests_name("extents", tests, NULL, NULL);
}
