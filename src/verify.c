/*
 * --verify: before the temporary becomes DEST, read it back and compare
 * its xxh3-128 (libxxhash) with the source's. DEST's pages are written out
 * and dropped first (fdatasync, POSIX_FADV_DONTNEED) so that the bytes
 * compared come back from storage where the filesystem allows. Both files
 * are read over the union of their data extents: outside it both are holes,
 * zeros, so a 500 GiB sparse file is checked without reading 500 GiB.
 * What went wrong is told apart: the source changed (its size or mtime
 * moved, or it reads differently a second time), an I/O error, or DEST
 * does not read back as written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>

#include "core.h"

#define PIECE ((size_t)1 << 20)

/* The next data at or after pos in fd, or end. */
static off_t
data_at(int fd, off_t pos, off_t end)
{
	off_t d = RETRY(lseek(fd, pos, SEEK_DATA));

	return d < 0 || d > end ? end : d;
}

/* The end of the data at pos in fd: pos itself when pos is in a hole. */
static off_t
data_end(int fd, off_t pos, off_t end)
{
	off_t h;

	if (data_at(fd, pos, end) != pos)
		return pos;
	h = RETRY(lseek(fd, pos, SEEK_HOLE));
	return h < 0 || h > end ? end : h;
}

/* Feed [off, off + len) of fd to s. 0 or -errno. */
static int
digest_range(int fd, XXH3_state_t *s, unsigned char *buf, off_t off, off_t len)
{
	while (len > 0) {
		size_t want = len < (off_t)PIECE ? (size_t)len : PIECE;
		ssize_t n = RETRY(pread(fd, buf, want, off));

		if (n <= 0) /* -ENODATA: the end came early */
			return n < 0 ? -errno : -ENODATA;
		XXH3_128bits_update(s, buf, (size_t)n);
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * Digest both files over the union of their data extents into a and b;
 * with b NULL, the source alone over the same runs.
 */
static int
digest_both(struct mapcp_job *job, XXH3_state_t *a, XXH3_state_t *b,
	    unsigned char *buf)
{
	off_t pos = 0, end = job->size;
	int src = job->src_fd, dst = job->dst_fd, ret;

	while (pos < end) {
		off_t start = data_at(src, pos, end),
		      d = data_at(dst, pos, end);
		off_t stop;

		if (d < start)
			start = d;
		if (start >= end)
			break;
		/* Grow the run while either file has data at its end. */
		for (stop = start;;) {
			off_t s1 = data_end(src, stop, end);
			off_t s2 = data_end(dst, stop, end);
			off_t next = s1 > s2 ? s1 : s2;

			if (next == stop)
				break;
			stop = next;
		}
		if ((ret = digest_range(src, a, buf, start, stop - start)) < 0)
			return ret == -ENODATA
				       ? job_changed(job)
				       : job_fail(job, MAPCP_STEP_READ, -ret);
		/* DEST cut short: it does not read back as written */
		if (b != NULL &&
		    (ret = digest_range(dst, b, buf, start, stop - start)) < 0)
			return job_fail(job, MAPCP_STEP_VERIFY,
					ret == -ENODATA ? EIO : -ret);
		pos = stop;
	}
	return 0;
}

/*
 * The digests differ: whose fault? A source whose size or mtime moved, or
 * that now reads differently from the first time (written through a
 * mapping, its mtime not yet updated), changed; else DEST is bad.
 */
static int
mismatch(struct mapcp_job *job, const struct stat *src, XXH3_state_t *first,
	 unsigned char *buf)
{
	XXH128_hash_t was = XXH3_128bits_digest(first);
	int ret = job_source_changed(job, src);

	if (ret > 0)
		return job_changed(job);
	if (ret < 0)
		return job_fail(job, MAPCP_STEP_READ, -ret);
	XXH3_128bits_reset(first);
	if ((ret = digest_both(job, first, NULL, buf)) < 0)
		return ret;
	if (!XXH128_isEqual(was, XXH3_128bits_digest(first)))
		return job_changed(job);
	return job_fail(job, MAPCP_STEP_VERIFY, EIO);
}

int
verify_copy(struct mapcp_job *job, const struct stat *src)
{
	XXH3_state_t *a = XXH3_createState(), *b = XXH3_createState();
	unsigned char *buf = malloc(PIECE);
	int ret;

	if (a == NULL || b == NULL || buf == NULL) {
		ret = job_fail(job, MAPCP_STEP_VERIFY, ENOMEM);
		goto out;
	}
	if (RETRY(fdatasync(job->dst_fd)) < 0 && errno != EINVAL) {
		ret = job_fail(job, MAPCP_STEP_SYNC, errno);
		goto out;
	}
	(void)posix_fadvise(job->dst_fd, 0, 0, POSIX_FADV_DONTNEED);
	XXH3_128bits_reset(a);
	XXH3_128bits_reset(b);
	ret = digest_both(job, a, b, buf);
	if (ret == 0 &&
	    !XXH128_isEqual(XXH3_128bits_digest(a), XXH3_128bits_digest(b)))
		ret = mismatch(job, src, a, buf);
	if (ret == 0)
		job->report->verified = "read back, xxh3-128 matched";
out:
	XXH3_freeState(a);
	XXH3_freeState(b);
	free(buf);
	return ret;
}
