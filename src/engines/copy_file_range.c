/*
 * copy_file_range: the kernel copies from file to file without the data
 * passing through user space (copy_file_range(2), Linux 4.5+; across
 * filesystems only where the filesystem allows). On NFS 4.2 and SMB the
 * server copies; on XFS and btrfs the kernel may share blocks. A source
 * that returns no data at all (as /proc files do) is passed to the next
 * engine with ENODATA.
 */
#include <errno.h>
#include <unistd.h>

#include "../engine.h"

/* DEST's offset is the source's: out follows in. */
static ssize_t
cfr_move(struct mapcp_job *job, off_t *in, size_t want)
{
	off_t out = *in;

	return copy_file_range(job->src_fd, in, job->dst_fd, &out, want, 0);
}

static int
cfr_copy(struct mapcp_job *job, off_t off, off_t len)
{
	return job_kernel_copy(job, off, len, cfr_move);
}

/* Nothing copied, from the source's end: would the kernel refuse? */
static int
cfr_probe(struct mapcp_job *job)
{
	off_t in = job->size, out = 0;

	if (RETRY(copy_file_range(job->src_fd, &in, job->dst_fd, &out, 0, 0)) ==
	    0)
		return 0;
	if (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS)
		return job_fail(job, MAPCP_STEP_COPY, errno);
	return 0;
}

const struct mapcp_engine engine_copy_file_range = {
	.name = "copy_file_range",
	.flags = ENGINE_MAY_SHARE, /* XFS and btrfs clone instead */
	.copy = cfr_copy,
	.probe = cfr_probe,
};
