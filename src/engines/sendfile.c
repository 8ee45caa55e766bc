/*
 * sendfile: sendfile(2) from the source to DEST, which is a file here, not
 * a socket: the kernel moves the pages, nothing passes through user space.
 * It writes at DEST's file position (lseek), reads at an explicit offset,
 * in kernel.c's chunks, below the 2 GiB a call may move.
 */
#include <errno.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "../engine.h"

/* Writes at DEST's file position, which sendfile_copy() set to off. */
static ssize_t
sendfile_move(struct mapcp_job *job, off_t *in, size_t want)
{
	return sendfile(job->dst_fd, job->src_fd, in, want);
}

static int
sendfile_copy(struct mapcp_job *job, off_t off, off_t len)
{
	if (RETRY(lseek(job->dst_fd, off, SEEK_SET)) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	return job_kernel_copy(job, off, len, sendfile_move);
}

const struct mapcp_engine engine_sendfile = {
	.name = "sendfile",
	.copy = sendfile_copy,
};
