/*
 * The extents every engine is given, in one place below the engines, so
 * that holes are handled alike whatever copies the bytes. Data extents come
 * from lseek(SEEK_DATA) and lseek(SEEK_HOLE); --sparse=always also reads
 * them (pread) to leave out every whole block of zeros; --sparse=never
 * gives the holes too, marked, for the planner to fill with zeros without
 * reading them (mapping a hole of a tmpfs file would allocate it). A
 * filesystem without SEEK_DATA reports the whole file as data, which is
 * correct, merely slower for sparse files.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

/* How much --sparse=always reads at a time to look for zeros. */
#define SCAN_BUFFER ((size_t)1 << 20)

int
extent_next(int fd, off_t end, off_t *pos, off_t *len)
{
	off_t data, hole;

	if (*pos >= end)
		return 0;
	data = RETRY(lseek(fd, *pos, SEEK_DATA));
	if (data < 0) {
		if (errno == ENXIO) /* only hole from *pos to EOF */
			return 0;
		if (errno != EINVAL && errno != EOPNOTSUPP)
			return -errno;
		data = *pos; /* no SEEK_DATA here: all data */
		hole = end;
	} else {
		hole = RETRY(lseek(fd, data, SEEK_HOLE));
		if (hole < 0)
			return errno == ENXIO ? 0 : -errno;
	}
	if (data >= end)
		return 0;
	if (hole > end)
		hole = end;
	*pos = data;
	*len = hole - data;
	return 1;
}

bool
all_zero(const unsigned char *p, size_t n)
{
	/* The first byte is zero and every byte equals the next one. */
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int
extents_init(struct extents *x, int fd, off_t end, enum mapcp_sparse mode,
	     size_t block, bool dense)
{
	memset(x, 0, sizeof(*x));
	x->fd = fd;
	x->end = end;
	x->mode = mode;
	x->dense = dense;
	x->block = block ? block : 4096;
	if (mode == MAPCP_SPARSE_ALWAYS) {
		x->buf = malloc(SCAN_BUFFER);
		if (x->buf == NULL)
			return -ENOMEM;
	}
	return 0;
}

void
extents_free(struct extents *x)
{
	free(x->buf);
	x->buf = NULL;
}

/*
 * The block of the grid that starts at off (block-aligned), clipped to
 * [off, limit): a pointer to its bytes and *n, read in if need be. NULL when
 * the file ended early (it shrank) or on a read error (-errno in *err).
 */
static const unsigned char *
block_at(struct extents *x, off_t off, off_t limit, size_t *n, int *err)
{
	off_t next = (off / (off_t)x->block + 1) * (off_t)x->block;

	*n = (size_t)((next < limit ? next : limit) - off);
	if (off < x->buf_off ||
	    off + (off_t)*n > x->buf_off + (off_t)x->buf_len) {
		size_t want = SCAN_BUFFER;
		ssize_t got;

		if (limit - off < (off_t)want)
			want = (size_t)(limit - off);
		got = RETRY(pread(x->fd, x->buf, want, off));
		if (got < 0)
			*err = -errno;
		if (got < (ssize_t)*n)
			return NULL;
		x->buf_off = off;
		x->buf_len = (size_t)got;
	}
	return x->buf + (off - x->buf_off);
}

/*
 * --sparse=always: the next run of [x->pos, x->data_end) that is not made
 * of whole zero blocks. Blocks cut by the extent's edges count as data.
 */
static int
next_nonzero_run(struct extents *x, off_t *off, off_t *len)
{
	off_t pos = x->pos, start = -1;
	int err = 0;

	while (pos < x->data_end) {
		size_t n;
		const unsigned char *p =
			block_at(x, pos, x->data_end, &n, &err);
		bool hole;

		if (p == NULL) { /* shrank, or EIO: let the engine find out */
			if (err < 0)
				return err;
			if (start < 0)
				start = pos;
			pos = x->data_end;
			break;
		}
		hole = n == x->block && all_zero(p, n);
		if (hole && start >= 0)
			break;
		if (!hole && start < 0)
			start = pos;
		pos += (off_t)n;
	}
	x->pos = pos;
	if (start < 0)
		return 0;
	*off = start;
	*len = pos - start;
	return 1;
}

int
extents_next(struct extents *x, off_t *off, off_t *len, bool *hole)
{
	off_t data;
	int ret;

	*hole = false;
	if (x->mode == MAPCP_SPARSE_NEVER) {
		if (x->pos >= x->end)
			return 0;
		data = x->pos;
		ret = extent_next(x->fd, x->end, &data, len);
		if (ret < 0)
			return ret;
		if (ret == 0 || data > x->pos) { /* a hole up to the data */
			*off = x->pos;
			*len = (ret == 0 ? x->end : data) - x->pos;
			*hole = true;
		} else {
			*off = data;
		}
		x->pos = *off + *len;
		return 1;
	}
	if (x->mode == MAPCP_SPARSE_AUTO && x->dense) {
		if (x->pos >= x->end)
			return 0;
		*off = x->pos;
		*len = x->end - x->pos;
		x->pos = x->end;
		return 1;
	}
	if (x->mode == MAPCP_SPARSE_AUTO) {
		ret = extent_next(x->fd, x->end, &x->pos, len);
		if (ret > 0) {
			*off = x->pos;
			x->pos += *len;
		}
		return ret;
	}
	for (;;) {
		if (x->pos >= x->data_end) {
			off_t dlen = 0;

			ret = extent_next(x->fd, x->end, &x->pos, &dlen);
			if (ret <= 0)
				return ret;
			x->data_end = x->pos + dlen;
		}
		ret = next_nonzero_run(x, off, len);
		if (ret != 0)
			return ret;
	}
}

/*
 * A stream's n bytes, written at DEST's position. With --sparse=always and
 * a DEST that can seek, whole aligned blocks of zeros are skipped with
 * lseek(SEEK_CUR) instead: holes, as cp makes them from a pipe or a disk
 * image. The end of a DEST that ends in a hole is set by copy.c.
 */
int
stream_write(struct mapcp_job *job, const unsigned char *p, size_t n)
{
	size_t b = job->block;
	bool holes = job->opts->sparse == MAPCP_SPARSE_ALWAYS &&
		     job->seekable_dst && b > 0;

	while (n > 0) {
		size_t piece = n;
		bool zero = false;
		ssize_t w;

		if (holes) {
			/* Up to DEST's next block boundary, then whole blocks
			 * of the same kind, zero or not. */
			piece = b - (size_t)(job->copied % (off_t)b);
			if (piece > n)
				piece = n;
			zero = piece == b && all_zero(p, b);
			while (piece + b <= n && all_zero(p + piece, b) == zero)
				piece += b;
		}
		if (zero) {
			if (RETRY(lseek(job->dst_fd, (off_t)piece, SEEK_CUR)) <
			    0)
				return job_fail(job, MAPCP_STEP_WRITE, errno);
		} else if ((w = write_all(job->dst_fd, p, piece, -1)) < 0) {
			return job_fail(job, MAPCP_STEP_WRITE, (int)-w);
		}
		job_advance(job, (off_t)piece);
		p += piece;
		n -= piece;
	}
	return 0;
}
