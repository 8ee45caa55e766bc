/*
 * The loop the in-kernel engines share (copy_file_range, sendfile): the
 * kernel moves [off, off + len) in calls of at most 1 GiB, large enough
 * to keep syscalls rare and small enough to stay interruptible. A call
 * that moves nothing before the end is job_no_data()'s to explain.
 */
#include <errno.h>

#include "../engine.h"

#define CHUNK ((off_t)1 << 30)

int
job_kernel_copy(struct mapcp_job *job, off_t off, off_t len,
		ssize_t (*move)(struct mapcp_job *job, off_t *in, size_t want))
{
	off_t in = off, end = off + len;

	while (in < end) {
		size_t want = (size_t)(end - in < CHUNK ? end - in : CHUNK);
		ssize_t n = RETRY(move(job, &in, want));

		if (n < 0)
			return job_fail(job, MAPCP_STEP_COPY, errno);
		if (n == 0)
			return job_no_data(job);
		job_advance(job, n);
	}
	return 0;
}
