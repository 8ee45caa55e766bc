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

#include "../engine.h"
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

/* Copy [pos, end) window by window; edge: DEST keeps holes, no read-ahead. */
static int
copy_span(struct mapcp_job *job, off_t pos, off_t end, bool edge)
{
	int ret = 0;

	while (ret == 0 && pos < end) {
		struct window w;
		char *s, *d = NULL;
		enum guard_fault fault;

		window_at(job, pos, end, &w);
		w.edge = edge;
		if ((ret = window_map(job, &w, false, &s)) < 0)
			return ret;
		if ((ret = window_map(job, &w, true, &d)) < 0) {
			munmap(s, w.len);
			return ret;
		}
		window_notify(job, &w, s, d);
		fault = guard_memcpy(d + w.delta, s + w.delta, w.n);
		munmap(s, w.len);
		munmap(d, w.len);
		if (fault == GUARD_SRC)
			ret = window_src_fault(job, &w);
		else if (fault == GUARD_DST)
			ret = job_fail(job, MAPCP_STEP_WRITE,
				       window_dst_error(job));
		pos += (off_t)w.n;
		if (ret == 0)
			job_advance(job, (off_t)w.n);
	}
	return ret;
}

/*
 * One extent [off, off + len). A folio of DEST that a write fault dirties
 * is allocated whole, so no folio of DEST may reach from the extent into
 * a hole. DEST's page cache gets large folios only from read-ahead, and
 * read-ahead reaches well past the window that faulted (the next window,
 * the next extents, the holes between): where DEST is to keep holes, its
 * mappings are MADV_RANDOM (w.edge), so that each page it faults gets a
 * folio of its own. A dense copy keeps read-ahead and its large folios.
 */
static int
mmap_copy(struct mapcp_job *job, off_t off, off_t len)
{
	int ret = reserve(job, off, len);

	if (ret == 0)
		ret = copy_span(job, off, off + len, job->keep_holes);
	return ret;
}

const struct mapcp_engine engine_mmap = {
	.name = "mmap",
	.copy = mmap_copy,
};
