/*
 * reflink: DEST shares the source's blocks instead of copying them, in
 * O(1) on XFS (reflink=1), btrfs and other copy-on-write filesystems:
 * ioctl(FICLONE) when one extent is the whole file, ioctl(FICLONERANGE)
 * per extent otherwise (a sparse source, or --sparse=always leaving out
 * zero blocks). Elsewhere the ioctl fails with EOPNOTSUPP or EXDEV and the
 * planner moves on, or --reflink=always reports it.
 */
#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "../engine.h"

static int
clone_failed(struct mapcp_job *job, int err)
{
	if (err == ENOTTY) /* no such ioctl */
		err = EOPNOTSUPP;
	if (err == EOPNOTSUPP)
		job->note = "this filesystem cannot share blocks";
	else if (err == EXDEV)
		job->note = "the files are on different filesystems";
	return job_fail(job, MAPCP_STEP_CLONE, err);
}

static int
reflink_copy(struct mapcp_job *job, off_t off, off_t len)
{
	off_t block = (off_t)(job->block ? job->block : 4096);
	struct file_clone_range r = { .src_fd = job->src_fd };
	off_t start, end;
	int ret;

	if (off == 0 && len == job->size) {
		ret = RETRY(ioctl(job->dst_fd, FICLONE, job->src_fd));
	} else {
		/*
		 * Ranges must be block-aligned, but for one ending at EOF.
		 * Widening into the holes around an extent is harmless:
		 * cloning a hole makes a hole.
		 */
		start = off - off % block;
		end = (off + len + block - 1) / block * block;
		if (end > job->size)
			end = job->size;
		r.src_offset = (__u64)start;
		r.src_length = (__u64)(end - start);
		r.dest_offset = (__u64)start;
		ret = RETRY(ioctl(job->dst_fd, FICLONERANGE, &r));
	}
	if (ret < 0)
		return clone_failed(job, errno);
	job_advance(job, len);
	return 0;
}

/* Nothing cloned, from the source's end: would a clone be refused? */
static int
reflink_probe(struct mapcp_job *job)
{
	struct file_clone_range r = { .src_fd = job->src_fd,
				      .src_offset = (__u64)job->size };

	if (RETRY(ioctl(job->dst_fd, FICLONERANGE, &r)) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOTTY || errno == EXDEV)
		return clone_failed(job, errno);
	return 0; /* EINVAL and the like: let the copy itself say */
}

const struct mapcp_engine engine_reflink = {
	.name = "reflink",
	.flags = ENGINE_MAY_SHARE,
	.copy = reflink_copy,
	.probe = reflink_probe,
};
