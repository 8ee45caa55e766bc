/*
 * mapcp-bench's test data and its checks: files of random bytes made once
 * and reused, a generated tree of small files, and xxh3-128 digests of a
 * file or a whole tree to verify every copy.
 */
#ifndef MAPCP_BENCH_DATA_H
#define MAPCP_BENCH_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <xxhash.h>

/* Make path a file of size random bytes, unless it already is one. 0/-errno. */
int data_file(const char *path, off_t size);

/*
 * Make dir a tree of nfiles files of mixed small sizes (0 to 256 KiB) in
 * ndirs directories, unless dir exists. 0 or -errno.
 */
int data_tree(const char *dir, int nfiles, int ndirs);

/* The xxh3-128 digest of a file's bytes. 0 or -errno. */
int digest_file(const char *path, XXH128_hash_t *h);

/*
 * The digest of a tree: every entry's relative path, type and, for files,
 * bytes, in sorted order, so equal trees have equal digests. 0 or -errno.
 */
int digest_tree(const char *dir, XXH128_hash_t *h);

/* Remove path, a file or a tree, if it exists. 0 or -errno. */
int remove_path(const char *path);

#endif
