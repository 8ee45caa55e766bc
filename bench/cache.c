/*
 * Page cache control for mapcp-bench: drop_caches or posix_fadvise to
 * evict, read(2) to warm, and cachestat(2) or mincore(2) to check. The
 * check is what makes a "cold" run cold: the exercise's script drops the
 * cache and hopes.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cache.h"

/* cachestat(2), Linux 6.5: 451 on every architecture. */
#ifdef SYS_cachestat
#define CACHESTAT SYS_cachestat
#else
#define CACHESTAT 451
#endif

struct cachestat_range {
	uint64_t off, len;
};

struct cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted,
		nr_recently_evicted;
};

static const char *method = "cachestat";
/* Totals for one walk over a tree; nftw's callbacks take no argument. */
static uint64_t walk_pages, walk_resident;
static int walk_error;

static int
drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "3\n", 2) != 2)
		ret = -errno;
	close(fd);
	return ret;
}

static int
evict_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	int fd;

	(void)st, (void)f;
	if (type != FTW_F)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	(void)fdatasync(fd); /* dirty pages cannot be dropped */
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
		walk_error = -EIO;
	close(fd);
	return 0;
}

int
cache_evict(const char *path)
{
	sync();
	if (drop_caches() == 0)
		return 0;
	walk_error = 0;
	if (nftw(path, evict_one, 32, FTW_PHYS) < 0)
		return -errno;
	return walk_error;
}

static int
warm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	static char buf[1 << 20];
	int fd;

	(void)st, (void)f;
	if (type != FTW_F)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return 0;
}

int
cache_warm(const char *path)
{
	return nftw(path, warm_one, 32, FTW_PHYS) < 0 ? -errno : 0;
}

/* Pages of fd in the page cache, by mincore on a mapping of it. */
static int
mincore_count(int fd, off_t size, uint64_t *resident)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = ((size_t)size + pg - 1) / pg;
	unsigned char *vec;
	void *map;
	int ret = 0;

	*resident = 0;
	if (size == 0)
		return 0;
	map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	vec = malloc(pages);
	if (vec == NULL || mincore(map, (size_t)size, vec) < 0)
		ret = vec == NULL ? -ENOMEM : -errno;
	for (size_t i = 0; ret == 0 && i < pages; i++)
		*resident += vec[i] & 1;
	free(vec);
	munmap(map, (size_t)size);
	return ret;
}

static int
count_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	struct cachestat_range range = { 0, 0 };
	struct cachestat cs;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE), resident = 0;
	int fd;

	(void)f;
	if (type != FTW_F)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		walk_error = -errno;
		return 0;
	}
	if (syscall(CACHESTAT, fd, &range, &cs, 0) == 0) {
		method = "cachestat";
		resident = cs.nr_cache;
	} else if (mincore_count(fd, st->st_size, &resident) == 0) {
		method = "mincore";
	} else {
		walk_error = -EIO;
	}
	close(fd);
	walk_pages += ((uint64_t)st->st_size + pg - 1) / pg;
	walk_resident += resident;
	return 0;
}

double
cache_resident(const char *path)
{
	walk_pages = walk_resident = 0;
	walk_error = 0;
	if (nftw(path, count_one, 32, FTW_PHYS) < 0 || walk_error < 0)
		return -1;
	if (walk_pages == 0)
		return 1;
	return walk_resident > walk_pages
		       ? 1
		       : (double)walk_resident / (double)walk_pages;
}

const char *
cache_method(void)
{
	return method;
}
