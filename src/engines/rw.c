/*
 * rw: the portable baseline, pread(2) into a page-aligned buffer and
 * pwrite(2) it out; for a stream (a pipe, a device, a /proc file) plain
 * read(2) and write(2) until end of file. A file smaller than the buffer
 * gets a buffer its own size, so copying many small files stays cheap.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "../engine.h"

struct rw {
	char *buf;
	size_t size;
};

static int
rw_start(struct mapcp_job *job)
{
	struct rw *rw = malloc(sizeof(*rw));
	size_t pg = page_size();
	size_t size = job->opts->buffer;

	if (rw == NULL)
		return job_fail(job, MAPCP_STEP_READ, ENOMEM);
	if (!job->stream && (off_t)size > job->size)
		size = (size_t)job->size;
	size = (size + pg - 1) / pg * pg;
	if (size == 0)
		size = pg;
	rw->size = size;
	rw->buf = aligned_alloc(pg, size);
	if (rw->buf == NULL) {
		free(rw);
		return job_fail(job, MAPCP_STEP_READ, ENOMEM);
	}
	job->priv = rw;
	return 0;
}

static void
rw_finish(struct mapcp_job *job)
{
	struct rw *rw = job->priv;

	free(rw->buf);
	free(rw);
	job->priv = NULL;
}

/* read(2) or pread(2), retrying EINTR and waiting out EAGAIN. */
static ssize_t
read_some(int fd, void *buf, size_t len, off_t off)
{
	for (;;) {
		ssize_t n =
			off < 0 ? read(fd, buf, len) : pread(fd, buf, len, off);

		if (n >= 0)
			return n;
		if (errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			(void)poll(&pfd, 1, -1);
		} else if (errno != EINTR) {
			return -errno;
		}
	}
}

static int
rw_stream(struct mapcp_job *job, struct rw *rw)
{
	for (;;) {
		ssize_t n = read_some(job->src_fd, rw->buf, rw->size, -1);
		int ret;

		if (n < 0)
			return job_fail(job, MAPCP_STEP_READ, (int)-n);
		if (n == 0)
			return 0;
		ret = stream_write(job, (unsigned char *)rw->buf, (size_t)n);
		if (ret < 0)
			return ret;
	}
}

static int
rw_copy(struct mapcp_job *job, off_t off, off_t len)
{
	struct rw *rw = job->priv;
	off_t pos = off, end = off + len;

	if (job->stream)
		return rw_stream(job, rw);
	while (pos < end) {
		size_t want = end - pos < (off_t)rw->size ? (size_t)(end - pos)
							  : rw->size;
		ssize_t n = read_some(job->src_fd, rw->buf, want, pos);

		if (n < 0)
			return job_fail(job, MAPCP_STEP_READ, (int)-n);
		if (n == 0)
			return job_changed(job); /* end of file came early */
		n = write_all(job->dst_fd, rw->buf, (size_t)n, pos);
		if (n < 0)
			return job_fail(job, MAPCP_STEP_WRITE, (int)-n);
		pos += n;
		job_advance(job, n);
	}
	return 0;
}

const struct mapcp_engine engine_rw = {
	.name = "rw",
	.start = rw_start,
	.copy = rw_copy,
	.finish = rw_finish,
};
