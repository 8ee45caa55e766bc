/*
 * eiofs: a FUSE filesystem (libfuse3) of three files that misbehave the
 * way real storage and real writers do, for the tests of what mapcp
 * reports when a read fails or a source changes during --verify:
 *
 *   eio      SIZE bytes; any read reaching offset EIO_AT or beyond fails
 *            with EIO, as failing media do. Served through the page
 *            cache, so it can be mapped (the mmap engines see SIGBUS).
 *   shifty   SIZE bytes whose contents change each time offset 0 is read
 *            again, its size and mtime never: a file rewritten in place.
 *   shrinky  SIZE bytes until offset 0 is read a second time, SIZE / 2
 *            after: a file truncated after it was copied.
 *
 * shifty and shrinky are direct_io (every read reaches us) and their
 * attributes are never cached, so fstat sees a change at once.
 *
 *   eiofs MOUNTPOINT SIZE EIO_AT     (runs in the foreground; umount ends it)
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static off_t size, eio_at;
static atomic_uint shifty_gen, shrinky_reads;

enum file { NONE, EIO_FILE, SHIFTY, SHRINKY };

static enum file
which(const char *path)
{
	if (strcmp(path, "/eio") == 0)
		return EIO_FILE;
	if (strcmp(path, "/shifty") == 0)
		return SHIFTY;
	if (strcmp(path, "/shrinky") == 0)
		return SHRINKY;
	return NONE;
}

/* The byte at off of a file in generation gen: varied, and reproducible. */
static unsigned char
byte_at(off_t off, unsigned int gen)
{
	unsigned long long x = (unsigned long long)(off / 8) * 0x9e3779b97f4a7c15ull;

	x ^= (unsigned long long)gen * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return (unsigned char)(x >> (8 * (off % 8)));
}

static off_t
size_of(enum file f)
{
	return f == SHRINKY && atomic_load(&shrinky_reads) > 1 ? size / 2 : size;
}

static void *
fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->use_ino = 1;
	return NULL;
}

static int
fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	enum file f = which(path);

	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (f == NONE)
		return -ENOENT;
	st->st_mode = S_IFREG | 0644;
	st->st_nlink = 1;
	st->st_ino = (ino_t)f + 10;
	st->st_size = size_of(f);
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim.tv_sec = 1700000000; /* never moves: only bytes change */
	return 0;
}

static int
fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
	   struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "eio", NULL, 0, 0);
	fill(buf, "shifty", NULL, 0, 0);
	fill(buf, "shrinky", NULL, 0, 0);
	return 0;
}

static int
fs_open(const char *path, struct fuse_file_info *fi)
{
	enum file f = which(path);

	if (f == NONE)
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	fi->direct_io = f != EIO_FILE;
	fi->keep_cache = 0;
	return 0;
}

static int
fs_read(const char *path, char *buf, size_t n, off_t off,
	struct fuse_file_info *fi)
{
	enum file f = which(path);
	unsigned int gen = 0;
	off_t end;

	(void)fi;
	if (f == NONE)
		return -ENOENT;
	if (f == EIO_FILE && off + (off_t)n > eio_at)
		return -EIO; /* the whole request, lest a short read look like EOF */
	if (off == 0 && f == SHIFTY)
		atomic_fetch_add(&shifty_gen, 1);
	if (off == 0 && f == SHRINKY)
		atomic_fetch_add(&shrinky_reads, 1);
	if (f == SHIFTY)
		gen = atomic_load(&shifty_gen);
	end = size_of(f);
	if (off >= end)
		return 0;
	if (off + (off_t)n > end)
		n = (size_t)(end - off);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)byte_at(off + (off_t)i, gen);
	return (int)n;
}

static const struct fuse_operations ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
};

int
main(int argc, char **argv)
{
	char *args[] = { argv[0], "-f", "-s", "-o", "default_permissions",
			 argc > 1 ? argv[1] : NULL, NULL };

	if (argc != 4) {
		fprintf(stderr, "usage: eiofs MOUNTPOINT SIZE EIO_AT\n");
		return 2;
	}
	size = (off_t)strtoll(argv[2], NULL, 0);
	eio_at = (off_t)strtoll(argv[3], NULL, 0);
	return fuse_main(6, args, &ops, NULL);
}
