/*
 * The random-read workload's child: N random 4 KiB reads over a file,
 * through a mapping (mmap(2) and memcpy) or through pread(2), at offsets
 * from a seeded generator so both methods read the same blocks. It prints
 * the nanoseconds the reads took and a checksum of the bytes read, which
 * mapcp-bench compares with pread's in-process answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "bench.h"

#define BLOCK 4096

/* xorshift64*: fast, and the same offsets in both processes. */
static uint64_t
next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Do the reads; *sum gets the checksum. 0 or -errno. */
static int
reads(int fd, const unsigned char *map, off_t size, long n, unsigned long seed,
      unsigned long long *sum)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1,
		 blocks = (uint64_t)size / BLOCK;
	unsigned char buf[BLOCK];

	*sum = 0;
	for (long i = 0; i < n && blocks > 0; i++) {
		off_t off = (off_t)(next(&s) % blocks) * BLOCK;

		if (map != NULL)
			memcpy(buf, map + off, BLOCK);
		else if (pread(fd, buf, BLOCK, off) != BLOCK)
			return errno ? -errno : -EIO;
		*sum += XXH3_64bits(buf, BLOCK);
	}
	return 0;
}

int
random_read_expect(const char *path, long n, unsigned long seed,
		   unsigned long long *sum)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;
	struct stat st;

	if (fd < 0)
		return -errno;
	ret = fstat(fd, &st) < 0 ? -errno
				 : reads(fd, NULL, st.st_size, n, seed, sum);
	close(fd);
	return ret;
}

int
random_read_child(const char *method, const char *path, long n,
		  unsigned long seed)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *map = NULL;
	unsigned long long sum;
	struct stat st;
	double t0;
	int ret;

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return 1;
	}
	if (strcmp(method, "mmap") == 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd,
			   0);
		if (map == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
	} else if (strcmp(method, "pread") != 0) {
		fprintf(stderr, "unknown method '%s'\n", method);
		return 1;
	}
	t0 = (mapcp_monotonic() * 1e9);
	ret = reads(fd, map, st.st_size, n, seed, &sum);
	printf("%.0f %llu\n", (mapcp_monotonic() * 1e9) - t0, sum);
	if (ret < 0)
		fprintf(stderr, "read: %s\n", strerror(-ret));
	return ret < 0;
}
