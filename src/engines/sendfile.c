/*
 * sendfile: sendfile(2) from the source to DEST, which is a file here, not
 * a socket: the kernel moves the pages, nothing passes through user space.
 * It writes at DEST's file position (lseek), reads at an explicit offset,
 * in chunks below the 2 GiB a call may move.
 */
#include <errno.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "../internal.h"

#define CHUNK ((size_t)1 << 30)

static int
sendfile_copy(struct mapcp_job *job, off_t off, off_t len)
{
	off_t in = off, end = off + len;

	if (RETRY(lseek(job->dst_fd, off, SEEK_SET)) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	while (in < end) {
		size_t want =
			end - in < (off_t)CHUNK ? (size_t)(end - in) : CHUNK;
		ssize_t n = RETRY(sendfile(job->dst_fd, job->src_fd, &in, want));

		if (n < 0)
			return job_fail(job, MAPCP_STEP_COPY, errno);
		if (n == 0)
			return job_no_data(job);
		job_advance(job, n);
	}
	return 0;
}

const struct mapcp_engine engine_sendfile = {
	.name = "sendfile",
	.copy = sendfile_copy,
};
