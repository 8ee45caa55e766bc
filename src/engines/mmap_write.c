/*
 * mmap-write: map a window of the source (mmap, PROT_READ) and write(2) it
 * into DEST with pwrite(), --buffer bytes at a time. Whole 8 MiB windows
 * in one write make the page cache allocate 2 MiB folios; in a VM whose
 * host reclaims free 2 MiB blocks (virtio-balloon free page reporting)
 * those are the blocks each first touch faults in again, and a 1 GiB copy
 * took 0.7 to 2 s instead of 0.23 s. Smaller writes cost nothing elsewhere
 * (docs/measuring.md, "Choosing the defaults"). Only the source is
 * mapped, so DEST takes no page faults. When the source shrinks, the
 * kernel's copy from the mapping fails with EFAULT rather than SIGBUS,
 * and that is reported as a change.
 */
#include <errno.h>
#include <sys/mman.h>

#include "../engine.h"
#include "../window.h"

/* pwrite() n bytes from p at pos, --buffer bytes a call. */
static ssize_t
write_window(const struct mapcp_job *job, const char *p, size_t n, off_t pos)
{
	size_t step = job->opts->buffer;

	for (size_t done = 0; done < n; done += step) {
		size_t len = n - done < step ? n - done : step;
		ssize_t w = write_all(job->dst_fd, p + done, len,
				      pos + (off_t)done);

		if (w < 0)
			return w;
	}
	return (ssize_t)n;
}

static int
mmap_write_copy(struct mapcp_job *job, off_t off, off_t len)
{
	off_t pos = off, end = off + len;

	while (pos < end) {
		struct window w;
		char *s;
		ssize_t n;
		int ret;

		window_at(job, pos, end, &w);
		if ((ret = window_map(job, &w, false, &s)) < 0)
			return ret;
		window_notify(job, &w, s, NULL);
		n = write_window(job, s + w.delta, w.n, pos);
		munmap(s, w.len);
		if (n == -EFAULT)
			return window_src_fault(job, &w);
		if (n < 0)
			return job_fail(job, MAPCP_STEP_WRITE, (int)-n);
		pos += (off_t)w.n;
		job_advance(job, (off_t)w.n);
	}
	return 0;
}

const struct mapcp_engine engine_mmap_write = {
	.name = "mmap-write",
	.copy = mmap_write_copy,
};
