/*
 * The page cache around a measured run: evict a source for a cold run,
 * read it in for a warm one, and check which it really is.
 */
#ifndef MAPCP_BENCH_CACHE_H
#define MAPCP_BENCH_CACHE_H

#include <stdbool.h>

/*
 * Evict path (a file, or every file of a tree) from the page cache: sync,
 * then /proc/sys/vm/drop_caches when we may write it, else fsync and
 * posix_fadvise(POSIX_FADV_DONTNEED) on each file. 0 or -errno.
 */
int cache_evict(const char *path);

/* Read path (file or tree) through once, so that it is resident. */
int cache_warm(const char *path);

/*
 * The fraction of path's pages in the page cache, 0 to 1, by cachestat(2)
 * where the kernel has it (Linux 6.5), else mincore(2) on a mapping; -1 if
 * it cannot be told.
 */
double cache_resident(const char *path);

/* Which of the two cache_resident() used last: "cachestat" or "mincore". */
const char *cache_method(void);

#endif
