/*
 * Windows for the mmap engines: a file is mapped at most opts->window bytes
 * at a time (mmap/munmap), so memory stays bounded by the window whatever
 * the file's size. Mapped pages count toward RSS; the exercise's mmap_cp
 * maps both files whole and needs RSS of twice the file size.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/stat.h>

#include "core.h"
#include "window.h"

/*
 * Why windows end on FOLIO_MAX boundaries: the page cache holds file data in
 * folios of up to 2 MiB; a shared writable mapping that covers a whole
 * folio takes one write fault for it, while one that covers part of it
 * takes a fault per page, and on ext4 each of those dirties the whole
 * folio again. Measured on a 1 GiB copy: 1 MiB windows took 5 s, 2 MiB
 * windows 0.23 s.
 */

void
window_at(const struct mapcp_job *job, off_t pos, off_t end, struct window *w)
{
	/*
	 * Unsigned, the window at most INT64_MAX: base + size cannot wrap
	 * whatever --window says (as off_t, a window of 2^63 was negative).
	 */
	uint64_t pg = page_size();
	uint64_t size =
		job->opts->window < INT64_MAX ? job->opts->window : INT64_MAX;
	uint64_t base = (uint64_t)pos - (uint64_t)pos % pg; /* mmap's rule */
	uint64_t limit = base + size;

	if (size >= (uint64_t)FOLIO_MAX)
		limit -= limit % (uint64_t)FOLIO_MAX;
	if (limit > (uint64_t)end)
		limit = (uint64_t)end;
	w->base = (off_t)base;
	w->delta = (size_t)(pos - w->base);
	w->len = (size_t)(limit - base);
	w->n = w->len - w->delta;
	w->edge = false;
}

int
window_map(struct mapcp_job *job, const struct window *w, bool dst, char **out)
{
	int fd = dst ? job->dst_fd : job->src_fd;
	int prot = dst ? PROT_READ | PROT_WRITE : PROT_READ;
	void *p;

	do
		p = mmap(NULL, w->len, prot, MAP_SHARED, fd, w->base);
	while (p == MAP_FAILED && again());
	if (p == MAP_FAILED)
		return job_fail(job,
				dst ? MAPCP_STEP_MAP_DST : MAPCP_STEP_MAP_SRC,
				errno);
	/*
	 * A write fault makes its folio by reading around the page, as large
	 * as 2 MiB, and dirties all of it: writeback then allocates the whole
	 * folio, holes included. Where DEST keeps holes, MADV_RANDOM turns the
	 * read-around off, so each page gets a folio of its own (see mmap.c).
	 */
	if (dst && w->edge)
		(void)madvise(p, w->len, MADV_RANDOM);
	/*
	 * Populate the page tables in one call rather than one fault per
	 * page (Linux 5.14+; older kernels say EINVAL and fault as usual).
	 * docs/measuring.md, "Choosing the defaults", has the measurements.
	 */
	(void)madvise(p, w->len,
		      dst ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
	*out = p;
	return 0;
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
	uintmax_t left = (uintmax_t)(job->size - job->copied), room;
	struct statfs sf;

	/*
	 * A write fault says nothing of its cause; a full disk is the usual.
	 * Not only f_bavail == 0: a block that needs index blocks too (ext2,
	 * ext4 without extents) fails with one or two blocks still free. So
	 * too little room for what is left of the copy is a full disk.
	 */
	if (fstatfs(job->dst_fd, &sf) < 0)
		return EIO;
	room = (uintmax_t)sf.f_bavail * (uintmax_t)sf.f_bsize;
	return room < left + (uintmax_t)sf.f_bsize ? ENOSPC : EIO;
}

int
window_src_fault(struct mapcp_job *job, const struct window *w)
{
	struct stat st;

	if (fstat(job->src_fd, &st) == 0 &&
	    st.st_size >= w->base + (off_t)(w->delta + w->n))
		return job_fail(job, MAPCP_STEP_READ, EIO);
	return job_changed(job);
}
