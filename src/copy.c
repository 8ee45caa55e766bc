/*
 * One file's copy, start to finish (DESIGN.md "One file's journey"): open
 * and check the source, check DEST, open the temporary (or DEST itself
 * with --inplace), run the planner's engines over the data extents, check
 * the source kept its size, set the mode, and only then make the temporary
 * DEST. Every failure before that last step leaves DEST as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

/* Where the bytes go, as found before the copy. */
struct dest {
	const char *path; /* DEST, or the target of DEST's symlink */
	char *resolved;   /* owned when path is a symlink's target */
	struct stat st;
	bool exists;
	bool writable; /* we may write it, so its mode carries over */
};

static int
open_source(struct mapcp_job *job, struct stat *st)
{
	struct stat tmp;

	job->src_fd = open(job->src_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (job->src_fd < 0) {
		int err = errno;

		/* cp's wording: "cannot stat" unless the file is there. */
		if (stat(job->src_path, &tmp) < 0)
			return job_fail(job, MAPCP_STEP_STAT_SRC, errno);
		return job_fail(job, MAPCP_STEP_OPEN_SRC, err);
	}
	if (fstat(job->src_fd, st) < 0)
		return job_fail(job, MAPCP_STEP_STAT_SRC, errno);
	if (S_ISDIR(st->st_mode))
		return job_fail(job, MAPCP_STEP_IS_DIR, EISDIR);
	return 0;
}

/* Filesystems whose files' sizes say nothing of their contents. */
static bool
pseudo_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return false;
	switch (sf.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
		return true;
	default:
		return false;
	}
}

/* Why the source must be read as a stream, or NULL if it can be mapped. */
static const char *
stream_reason(int fd, const struct stat *st)
{
	if (S_ISFIFO(st->st_mode))
		return "the source is a FIFO";
	if (S_ISCHR(st->st_mode))
		return "the source is a character device";
	if (S_ISBLK(st->st_mode))
		return "the source is a block device";
	if (S_ISSOCK(st->st_mode))
		return "the source is a socket";
	/* Pseudo filesystems have anonymous devices: skip fstatfs otherwise. */
	if (major(st->st_dev) == 0 && pseudo_fs(fd))
		return "the source is a /proc or /sys file, its size is no "
		       "guide";
	if (st->st_size == 0)
		return "the source's size reads 0";
	return NULL;
}

/* Look at DEST: follow a symlink, refuse a directory or the source itself. */
static int
check_dest(struct mapcp_job *job, const struct stat *src, struct dest *d)
{
	d->path = job->dst_path;
	if (lstat(d->path, &d->st) < 0) {
		if (errno == ENOENT)
			return 0;
		return job_fail(job,
				errno == ENOTDIR ? MAPCP_STEP_CREATE
						 : MAPCP_STEP_STAT_DST,
				errno);
	}
	if (S_ISLNK(d->st.st_mode)) {
		if (stat(d->path, &d->st) < 0)
			return job_fail(job,
					errno == ENOENT ? MAPCP_STEP_DANGLING
							: MAPCP_STEP_STAT_DST,
					errno);
		d->resolved = realpath(d->path, NULL);
		if (d->resolved == NULL)
			return job_fail(job, MAPCP_STEP_STAT_DST, errno);
		d->path = d->resolved;
	}
	if (d->st.st_dev == src->st_dev && d->st.st_ino == src->st_ino)
		return job_fail(job, MAPCP_STEP_SAME_FILE, EINVAL);
	if (S_ISDIR(d->st.st_mode))
		return job_fail(job, MAPCP_STEP_DST_IS_DIR, EISDIR);
	d->exists = true;
	d->writable = faccessat(AT_FDCWD, d->path, W_OK, AT_EACCESS) == 0;
	if (!d->writable && !(job->opts->flags & MAPCP_FORCE) &&
	    S_ISREG(d->st.st_mode))
		return job_fail(job, MAPCP_STEP_CREATE, errno);
	return 0;
}

/* The mode DEST ends with: an existing writable DEST's, else SOURCE's. */
static mode_t
dest_mode(const struct dest *d, const struct stat *src, mode_t umask)
{
	if (d->exists && d->writable)
		return d->st.st_mode & 0777;
	return src->st_mode & 0777 & ~umask;
}

/*
 * --inplace, and DEST that is not a regular file (/dev/null, a FIFO):
 * open DEST itself, as cp does, and check again that it is not the source.
 */
static int
open_inplace(struct mapcp_job *job, const struct dest *d,
	     const struct stat *src)
{
	int flags = O_CREAT | O_CLOEXEC | O_NOCTTY;
	struct stat st;

	flags |= d->exists && !S_ISREG(d->st.st_mode) ? O_WRONLY : O_RDWR;
	job->dst_fd = open(d->path, flags, src->st_mode & 0777);
	if (job->dst_fd < 0 && errno == EACCES && d->exists &&
	    (job->opts->flags & MAPCP_FORCE) && unlink(d->path) == 0)
		job->dst_fd =
			open(d->path, flags | O_EXCL, src->st_mode & 0777);
	if (job->dst_fd < 0)
		return job_fail(job, MAPCP_STEP_CREATE, errno);
	if (fstat(job->dst_fd, &st) < 0)
		return job_fail(job, MAPCP_STEP_CREATE, errno);
	if (st.st_dev == src->st_dev && st.st_ino == src->st_ino)
		return job_fail(job, MAPCP_STEP_SAME_FILE, EINVAL);
	if (S_ISREG(st.st_mode) && ftruncate(job->dst_fd, 0) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	return 0;
}

/* What the engines need to know of DEST: can it seek, its block size. */
static int
dest_geometry(struct mapcp_job *job)
{
	struct stat st;

	if (fstat(job->dst_fd, &st) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	job->seekable_dst = S_ISREG(st.st_mode);
	job->block = st.st_blksize > 0 ? (size_t)st.st_blksize : 4096;
	return 0;
}

/* Copy the data, then check that the source still has its size. */
static int
copy_data(struct mapcp_job *job)
{
	struct plan plan;
	struct stat st;
	int ret;

	if (plan_build(&plan, job) < 0)
		return job_fail(job, MAPCP_STEP_ENGINE, EINVAL);
	/*
	 * DEST gets its size first, so that no write extends it: XFS would
	 * preallocate past each new end of file, and the blocks would stay
	 * inside the file once its size is set (a hole turned allocated).
	 */
	if (!job->stream && job->seekable_dst &&
	    ftruncate(job->dst_fd, job->size) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	ret = plan_run(&plan, job);
	if (ret < 0)
		return ret;
	job->report->bytes = job->copied;
	if (!job->stream) {
		if (fstat(job->src_fd, &st) < 0)
			return job_fail(job, MAPCP_STEP_READ, errno);
		if (st.st_size != job->size)
			return job_changed(job);
	}
	/* A trailing hole, or the end of an old --inplace DEST. */
	if (job->seekable_dst &&
	    ftruncate(job->dst_fd, job->stream ? job->copied : job->size) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	return 0;
}

/* Give the temporary its final owner and mode, then make it DEST. */
static int
commit(struct mapcp_job *job, struct atomic *a, const struct dest *d,
       mode_t mode)
{
	unsigned int flags = job->opts->flags;
	int ret;

	/* cp keeps an existing DEST's owner; try, as only root may. */
	if (d->exists && d->writable &&
	    fchown(job->dst_fd, d->st.st_uid, d->st.st_gid) < 0)
		(void)fchown(job->dst_fd, (uid_t)-1, d->st.st_gid);
	if (fchmod(job->dst_fd, mode) < 0)
		return job_fail(job, MAPCP_STEP_META, errno);
	a->existed = d->exists;
	ret = atomic_commit(a, flags & MAPCP_NO_CLOBBER, flags & MAPCP_FSYNC,
			    job);
	job->dst_fd = -1; /* atomic_commit closed it */
	if (ret == 1)
		job->report->skipped = true;
	return ret < 0 ? ret : 0;
}

static int
finish_inplace(struct mapcp_job *job)
{
	int ret = 0;

	if ((job->opts->flags & MAPCP_FSYNC) && fsync(job->dst_fd) < 0 &&
	    errno != EINVAL)
		ret = job_fail(job, MAPCP_STEP_SYNC, errno);
	if (close(job->dst_fd) < 0 && ret == 0)
		ret = job_fail(job, MAPCP_STEP_CLOSE, errno);
	job->dst_fd = -1;
	return ret;
}

int
mapcp_copy_file(const char *src, const char *dst, const struct mapcp_opts *opts,
		struct mapcp_report *report)
{
	struct mapcp_job job = {
		.src_fd = -1,
		.dst_fd = -1,
		.src_path = src,
		.dst_path = dst,
		.opts = opts,
		.report = report,
	};
	struct atomic a = { .dirfd = -1, .fd = -1 };
	struct dest d = { 0 };
	struct stat st = { 0 };
	bool inplace;
	int ret;

	memset(report, 0, sizeof(*report));
	report->src = src;
	report->dst = dst;
	ret = open_source(&job, &st);
	if (ret < 0)
		goto out;
	job.size = report->size = st.st_size;
	report->stream = stream_reason(job.src_fd, &st);
	job.stream = report->stream != NULL;
	ret = check_dest(&job, &st, &d);
	if (ret < 0)
		goto out;
	if (d.exists && (opts->flags & MAPCP_NO_CLOBBER)) {
		report->skipped = true;
		goto out;
	}
	inplace = (opts->flags & MAPCP_INPLACE) ||
		  (d.exists && !S_ISREG(d.st.st_mode));
	if (inplace) {
		ret = open_inplace(&job, &d, &st);
	} else {
		ret = atomic_open(&a, d.path, &job);
		job.dst_fd = a.fd;
	}
	if (ret < 0)
		goto out;
	if (!job.stream && d.exists && !S_ISREG(d.st.st_mode)) {
		report->stream = "DEST is not a regular file";
		job.stream = true;
	}
	ret = dest_geometry(&job);
	if (ret < 0)
		goto out;
	ret = copy_data(&job);
	if (ret < 0)
		goto out;
	report->atomic = !inplace;
	ret = inplace ? finish_inplace(&job)
		      : commit(&job, &a, &d, dest_mode(&d, &st, opts->umask));
out:
	if (job.src_fd >= 0)
		close(job.src_fd);
	if (job.dst_fd >= 0 && job.dst_fd != a.fd) /* --inplace's DEST */
		close(job.dst_fd);
	atomic_abort(&a);
	free(d.resolved);
	return ret;
}
