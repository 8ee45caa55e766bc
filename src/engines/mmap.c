/*
 * mmap: the exercise's engine. Map a window of the source (PROT_READ,
 * MAP_SHARED) and the same window of DEST, which has the source's size
 * (ftruncate, by copy.c or here) and which we fallocate(), then memcpy()
 * one into the other.
 * The windows keep memory bounded; guard_memcpy() turns the SIGBUS of a
 * source that shrank into an error instead of a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../internal.h"
#include "../window.h"

/*
 * Reserve the blocks of [off, off + len) so that a full disk is an error
 * from fallocate() now, not a SIGBUS halfway through a window. Filesystems
 * without fallocate() are left to the guard.
 */
static int
reserve(struct mapcp_job *job, off_t off, off_t len)
{
	/* A dense file's DEST has no size yet: mapping it needs one. */
	if (job_size_dest(job) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	if (RETRY(fallocate(job->dst_fd, 0, off, len)) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 0;
	return job_fail(job, MAPCP_STEP_WRITE, errno);
}

static int
mmap_copy(struct mapcp_job *job, off_t off, off_t len)
{
	off_t pos = off, end = off + len;
	int ret = reserve(job, off, len);

	while (ret == 0 && pos < end) {
		struct window w;
		char *s, *d = NULL;
		enum guard_fault fault;

		window_at(job, pos, end, &w);
		s = window_map(job, &w, false);
		if (s == NULL)
			return -job->report->err;
		d = window_map(job, &w, true);
		if (d == NULL) {
			munmap(s, w.len);
			return -job->report->err;
		}
		window_notify(job, &w, s, d);
		fault = guard_memcpy(d + w.delta, s + w.delta, w.n);
		munmap(s, w.len);
		munmap(d, w.len);
		if (fault == GUARD_SRC)
			ret = job_changed(job);
		else if (fault == GUARD_DST)
			ret = job_fail(job, MAPCP_STEP_WRITE,
				       window_dst_error(job));
		pos += (off_t)w.n;
		if (ret == 0)
			job_advance(job, (off_t)w.n);
	}
	return ret;
}

const struct mapcp_engine engine_mmap = {
	.name = "mmap",
	.flags = ENGINE_MAPS_SOURCE,
	.copy = mmap_copy,
};
