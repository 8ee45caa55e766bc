/*
 * splice: the source's pages go into a pipe and from the pipe into DEST,
 * splice(2) both ways, without a copy through user space. The pipe is
 * widened with F_SETPIPE_SZ to --buffer (up to the system's pipe-max-size)
 * so that each call moves more. No SPLICE_F_MOVE: the kernel has ignored
 * it since 2.6.21 (splice(2)), and measured with and without it the copy
 * took the same time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "../engine.h"

struct pipe {
	int rd, wr;
	size_t size;
};

static int
splice_start(struct mapcp_job *job)
{
	struct pipe *p = malloc(sizeof(*p));
	int fds[2], size;

	if (p == NULL)
		return job_fail(job, MAPCP_STEP_COPY, ENOMEM);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(p);
		return job_fail(job, MAPCP_STEP_COPY, errno);
	}
	p->rd = fds[0];
	p->wr = fds[1];
	/* Refused above pipe-max-size; then keep what the pipe has. */
	(void)fcntl(p->wr, F_SETPIPE_SZ, (int)job->opts->buffer);
	size = fcntl(p->wr, F_GETPIPE_SZ);
	p->size = size > 0 ? (size_t)size : 65536;
	job->priv = p;
	return 0;
}

static void
splice_finish(struct mapcp_job *job)
{
	struct pipe *p = job->priv;

	close(p->rd);
	close(p->wr);
	free(p);
	job->priv = NULL;
}

/* Move n bytes from the pipe to DEST at *out. 0 or -errno. */
static int
drain(struct mapcp_job *job, struct pipe *p, off_t *out, size_t n)
{
	while (n > 0) {
		ssize_t m = RETRY(splice(p->rd, NULL, job->dst_fd, out, n, 0));

		if (m <= 0)
			return job_fail(job, MAPCP_STEP_WRITE,
					m < 0 ? errno : ENOSPC);
		n -= (size_t)m;
		job_advance(job, m);
	}
	return 0;
}

static int
splice_copy(struct mapcp_job *job, off_t off, off_t len)
{
	struct pipe *p = job->priv;
	off_t in = off, out = off, end = off + len;

	while (in < end) {
		size_t want = end - in < (off_t)p->size ? (size_t)(end - in)
							: p->size;
		ssize_t n =
			RETRY(splice(job->src_fd, &in, p->wr, NULL, want, 0));
		int ret;

		if (n < 0)
			return job_fail(job, MAPCP_STEP_READ, errno);
		if (n == 0)
			return job_no_data(job);
		ret = drain(job, p, &out, (size_t)n);
		if (ret < 0)
			return ret;
	}
	return 0;
}

const struct mapcp_engine engine_splice = {
	.name = "splice",
	.start = splice_start,
	.copy = splice_copy,
	.finish = splice_finish,
};
