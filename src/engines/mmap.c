/*
 * mmap: the exercise's engine. Map a window of the source (PROT_READ,
 * MAP_SHARED) and the same window of DEST, which has the source's size
 * (ftruncate, by copy.c or here), then memcpy() one into the other.
 * The windows keep memory bounded; guard_memcpy() turns the SIGBUS of a
 * source that shrank into an error instead of a crash.
 *
 * Where the time goes (perf, on a VM whose host takes back free 2 MiB
 * blocks: virtio-balloon free page reporting, the default on many hosted
 * VMs): a write fault on a DEST page that is not in the page cache reads
 * it around, 2 MiB folios at a time when read-ahead is large, and zeroes
 * them. Those are the blocks the host took back, so the zeroing is their
 * first touch, and 70% of a 1 GiB copy was memset() at 0.5 GB/s (copy
 * 3.2x cp). write(2) makes folios the size of the write, from memory the
 * host still backs. So DEST's pages are made by writing zeros over the
 * window first (128 KiB at a time, see fill()), and the faults then find
 * them: 1.8x cp where it was 3.2x. A full disk is ENOSPC from that
 * write, not a SIGBUS halfway through a window.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine.h"
#include "../window.h"

/* Bytes a write of zeros makes: the folios DEST's faults then find. */
#define FILL ((size_t)128 << 10)

/* Write zeros over [pos, pos + n) of DEST, the bytes the window copies. */
static int
fill(struct mapcp_job *job, off_t pos, size_t n)
{
	static const char zeros[FILL];

	for (size_t done = 0; done < n; done += FILL) {
		size_t len = n - done < FILL ? n - done : FILL;
		ssize_t w = write_all(job->dst_fd, zeros, len,
				      pos + (off_t)done);

		if (w < 0)
			return job_fail(job, MAPCP_STEP_WRITE, (int)-w);
	}
	return 0;
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
		if ((ret = fill(job, pos, w.n)) < 0)
			return ret;
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
 * the next extents, the holes between). fill() makes the pages a window
 * copies, but not the head of its first page, which belongs to what comes
 * before: where DEST is to keep holes, its mappings are MADV_RANDOM
 * (w.edge), so that a page it faults gets a folio of its own.
 */
static int
mmap_copy(struct mapcp_job *job, off_t off, off_t len)
{
	/* A dense file's DEST has no size yet: mapping it needs one. */
	if (job_size_dest(job) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	return copy_span(job, off, off + len, job->keep_holes);
}

const struct mapcp_engine engine_mmap = {
	.name = "mmap",
	.copy = mmap_copy,
};
