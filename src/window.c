/*
 * Windows for the mmap engines: a file is mapped at most opts->window bytes
 * at a time (mmap/munmap), so memory stays bounded by the window whatever
 * the file's size. Mapped pages count toward RSS; the exercise's mmap_cp
 * maps both files whole and needs RSS of twice the file size.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/stat.h>

#include "internal.h"
#include "window.h"

/*
 * Windows end on 2 MiB boundaries where they can. The page cache holds file
 * data in folios of up to 2 MiB; a shared writable mapping that covers a
 * whole folio takes one write fault for it, while one that covers part of
 * it takes a fault per page, and on ext4 each of those dirties the whole
 * folio again. Measured on a 1 GiB copy: 1 MiB windows took 5 s, 2 MiB
 * windows 0.23 s.
 */
#define FOLIO_MAX ((off_t)2 << 20)

void
window_at(const struct mapcp_job *job, off_t pos, off_t end, struct window *w)
{
	off_t pg = (off_t)page_size();
	off_t size = (off_t)job->opts->window;
	off_t limit;

	w->base = pos - pos % pg; /* mmap offsets are page-aligned */
	limit = w->base + size;
	if (size >= FOLIO_MAX)
		limit -= limit % FOLIO_MAX;
	if (limit > end)
		limit = end;
	w->delta = (size_t)(pos - w->base);
	w->len = (size_t)(limit - w->base);
	w->n = w->len - w->delta;
}

void *
window_map(struct mapcp_job *job, const struct window *w, bool dst)
{
	int fd = dst ? job->dst_fd : job->src_fd;
	int prot = dst ? PROT_READ | PROT_WRITE : PROT_READ;
	void *p = mmap(NULL, w->len, prot, MAP_SHARED, fd, w->base);

	if (p == MAP_FAILED) {
		job_fail(job, dst ? MAPCP_STEP_MAP_DST : MAPCP_STEP_MAP_SRC,
			 errno);
		return NULL;
	}
	/*
	 * Populate the page tables in one call rather than one fault per
	 * page (Linux 5.14+; older kernels say EINVAL and fault as usual).
	 * README.md "Choosing the defaults" has the measurements.
	 */
	(void)madvise(p, w->len,
		      dst ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
	return p;
}

void
window_notify(struct mapcp_job *job, const struct window *w, const void *src,
	      const void *dst)
{
	struct mapcp_window mw = {
		.src_path = job->src_path,
		.dst_path = job->dst_path,
		.src = src,
		.dst = dst,
		.len = w->len,
		.off = w->base,
		.index = job->windows++,
	};

	if (job->opts->on_window != NULL)
		job->opts->on_window(&mw, job->opts->on_window_arg);
}

int
window_dst_error(const struct mapcp_job *job)
{
	struct statfs sf;

	/* A write fault says nothing of its cause; a full disk is the usual. */
	if (fstatfs(job->dst_fd, &sf) == 0 && sf.f_bavail == 0)
		return ENOSPC;
	return EIO;
}
