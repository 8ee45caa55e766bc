/*
 * Test data and verification for mapcp-bench: random bytes from
 * getrandom(2), trees made with mkdir(2) and open(2), digests with
 * libxxhash's XXH3-128 (streaming), read with read(2) in 1 MiB pieces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"

#define PIECE ((size_t)1 << 20)

static int
write_random(int fd, off_t size)
{
	static unsigned char buf[PIECE];

	while (size > 0) {
		size_t n =
			size < (off_t)sizeof(buf) ? (size_t)size : sizeof(buf);

		if (getrandom(buf, n, 0) != (ssize_t)n)
			return -EIO;
		if (write(fd, buf, n) != (ssize_t)n)
			return errno ? -errno : -ENOSPC;
		size -= (off_t)n;
	}
	return 0;
}

int
data_file(const char *path, off_t size)
{
	struct stat st;
	char tmp[PATH_MAX];
	int fd, ret;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size)
		return 0;
	/* Made under another name and renamed, so a half file is never reused.
	 */
	snprintf(tmp, sizeof(tmp), "%s.part", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ret = write_random(fd, size);
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

/* Sizes of the generated tree's files: mostly small, as source trees are. */
static off_t
tree_file_size(unsigned int r)
{
	static const off_t sizes[] = { 0,     100,   700,   2000,   4096,  6000,
				       12000, 30000, 65536, 102400, 262144 };
	static const unsigned int weight[] = { 2,  10, 20, 20, 10, 12,
					       10, 8,  4,  3,  1 };
	unsigned int total = 0, pick;
	size_t i;

	for (i = 0; i < sizeof(weight) / sizeof(weight[0]); i++)
		total += weight[i];
	pick = r % total;
	for (i = 0; pick >= weight[i]; i++)
		pick -= weight[i];
	return sizes[i];
}

int
data_tree(const char *dir, int nfiles, int ndirs)
{
	char path[PATH_MAX];
	struct stat st;
	unsigned int seed = 12345;

	if (strlen(dir) > PATH_MAX - 32)
		return -ENAMETOOLONG;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	snprintf(path, sizeof(path), "%s.part", dir);
	remove_path(path);
	if (mkdir(path, 0755) < 0)
		return -errno;
	for (int d = 0; d < ndirs; d++) {
		char sub[PATH_MAX + 32];

		snprintf(sub, sizeof(sub), "%s/d%03d", path, d);
		if (mkdir(sub, 0755) < 0)
			return -errno;
	}
	for (int f = 0; f < nfiles; f++) {
		char file[PATH_MAX + 32];
		int fd, ret;

		seed = seed * 1103515245u + 12345u;
		snprintf(file, sizeof(file), "%s/d%03d/f%05d", path, f % ndirs,
			 f);
		fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		ret = write_random(fd, tree_file_size(seed >> 16));
		close(fd);
		if (ret < 0)
			return ret;
	}
	return rename(path, dir) < 0 ? -errno : 0;
}

static int
digest_fd(int fd, XXH3_state_t *s)
{
	static unsigned char buf[PIECE];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		XXH3_128bits_update(s, buf, (size_t)n);
	return n < 0 ? -errno : 0;
}

int
digest_file(const char *path, XXH128_hash_t *h)
{
	XXH3_state_t *s = XXH3_createState();
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (s == NULL || fd < 0) {
		ret = fd < 0 ? -errno : -ENOMEM;
		if (fd >= 0)
			close(fd);
		XXH3_freeState(s);
		return ret;
	}
	XXH3_128bits_reset(s);
	ret = digest_fd(fd, s);
	close(fd);
	*h = XXH3_128bits_digest(s);
	XXH3_freeState(s);
	return ret;
}

/* Add dir (relative name rel) and all below it, sorted, to s. */
static int
digest_dir(const char *dir, const char *rel, XXH3_state_t *s)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), ret = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[PATH_MAX], sub[PATH_MAX], type;
		struct stat st;

		if (ret < 0 || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0)
			goto next;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		snprintf(sub, sizeof(sub), "%s/%s", rel, name);
		if (lstat(path, &st) < 0) {
			ret = -errno;
			goto next;
		}
		type = S_ISDIR(st.st_mode) ? 'd' : 'f';
		XXH3_128bits_update(s, sub, strlen(sub) + 1);
		XXH3_128bits_update(s, &type, 1);
		if (S_ISDIR(st.st_mode)) {
			ret = digest_dir(path, sub, s);
		} else if (S_ISREG(st.st_mode)) {
			int fd = open(path, O_RDONLY | O_CLOEXEC);

			ret = fd < 0 ? -errno : digest_fd(fd, s);
			if (fd >= 0)
				close(fd);
		}
	next:
		free(names[i]);
	}
	free(names);
	return ret;
}

int
digest_tree(const char *dir, XXH128_hash_t *h)
{
	XXH3_state_t *s = XXH3_createState();
	int ret;

	if (s == NULL)
		return -ENOMEM;
	XXH3_128bits_reset(s);
	ret = digest_dir(dir, ".", s);
	*h = XXH3_128bits_digest(s);
	XXH3_freeState(s);
	return ret;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st, (void)type, (void)f;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int
remove_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? -errno : 0;
	return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}
