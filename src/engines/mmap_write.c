/*
 * mmap-write: map a window of the source (mmap, PROT_READ) and write(2) it
 * into DEST with pwrite(). Only the source is mapped, so DEST takes no
 * page faults. When the source shrinks, the kernel's copy from the mapping
 * fails with EFAULT rather than SIGBUS, and that is reported as a change.
 */
#include <errno.h>
#include <sys/mman.h>

#include "../internal.h"
#include "../window.h"

static int
mmap_write_copy(struct mapcp_job *job, off_t off, off_t len)
{
	off_t pos = off, end = off + len;

	while (pos < end) {
		struct window w;
		char *s;
		ssize_t n;

		window_at(job, pos, end, &w);
		s = window_map(job, &w, false);
		if (s == NULL)
			return -job->report->err;
		window_notify(job, &w, s, NULL);
		n = write_all(job->dst_fd, s + w.delta, w.n, pos);
		munmap(s, w.len);
		if (n == -EFAULT)
			return job_changed(job);
		if (n < 0)
			return job_fail(job, MAPCP_STEP_WRITE, (int)-n);
		pos += (off_t)w.n;
		job->copied += (off_t)w.n;
	}
	return 0;
}

const struct mapcp_engine engine_mmap_write = {
	.name = "mmap-write",
	.flags = ENGINE_MAPS_SOURCE,
	.copy = mmap_write_copy,
};
