/*
 * Helpers for mapcp's cmocka tests: a scratch directory per test and files
 * of known pseudo-random bytes. Files are compared with files_equal() from
 * tests/support/compare.c, which the CLI tests use too (as sparsecmp).
 */
#ifndef MAPCP_TEST_HELPERS_H
#define MAPCP_TEST_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "compare.h"
#include "mapcp.h"

/* The scratch directory of the running test, and a path in it. */
static char scratch[PATH_MAX];

static inline const char *
path_in(const char *name)
{
	static char bufs[4][2 * PATH_MAX];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof(bufs[0]), "%s/%s", scratch, name);
	return p;
}

static inline int
setup_scratch(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(scratch, sizeof(scratch), "%s/mapcp-test-XXXXXX",
		 tmp ? tmp : "/tmp");
	return mkdtemp(scratch) == NULL ? -1 : 0;
}

static inline int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static inline int
teardown_scratch(void **state)
{
	(void)state;
	return nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The pseudo-random byte at offset off of the file seeded with seed. */
static inline unsigned char
pattern_byte(unsigned int seed, off_t off)
{
	uint64_t x = (uint64_t)off * 0x9E3779B97F4A7C15ull + seed;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	return (unsigned char)(x >> 32);
}

/* Write len pattern bytes at off of path (creating it). */
static inline void
write_pattern_at(const char *path, off_t off, size_t len, unsigned int seed)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	unsigned char buf[65536];

	assert_true(fd >= 0);
	while (len > 0) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern_byte(seed, off + (off_t)i);
		assert_int_equal(pwrite(fd, buf, n, off), (ssize_t)n);
		off += (off_t)n;
		len -= n;
	}
	assert_int_equal(close(fd), 0);
}

/* Make path a file of size pattern bytes. */
static inline void
make_file(const char *path, size_t size, unsigned int seed)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	write_pattern_at(path, 0, size, seed);
}

/*
 * A file of known layout in 4 KiB blocks, 2 MiB in all: data [0, 64K),
 * written zeros [64K, 96K) (allocated, so SEEK_DATA calls them data), a
 * hole, data [1M, 1M+4K), a written zero block, data [1M+8K, 1M+12K), a
 * block holding 100 written zeros, and a trailing hole.
 */
static inline void
make_layout(const char *p)
{
	static unsigned char zeros[8 * 4096];
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_int_equal(ftruncate(fd, 2 * (1 << 20)), 0);
	assert_int_equal(pwrite(fd, zeros, 8 * 4096, 16 * 4096), 8 * 4096);
	assert_int_equal(pwrite(fd, zeros, 4096, (1 << 20) + 4096), 4096);
	assert_int_equal(pwrite(fd, zeros, 100, (1 << 20) + 3 * 4096), 100);
	close(fd);
	write_pattern_at(p, 0, 16 * 4096, 1);
	write_pattern_at(p, 1 << 20, 4096, 2);
	write_pattern_at(p, (1 << 20) + 2 * 4096, 4096, 3);
}

/* Entries in the scratch directory, "." and ".." aside. */
static inline int
scratch_entries(void)
{
	DIR *d = opendir(scratch);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static inline off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Default options with a fixed umask, so tests do not depend on the caller. */
static inline struct mapcp_opts
test_opts(const char *engine)
{
	struct mapcp_opts o;

	mapcp_opts_init(&o);
	o.engine = engine;
	o.umask = 022;
	return o;
}

#endif
