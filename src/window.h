/* Windows for the mmap engines; see window.c. */
#ifndef MAPCP_WINDOW_H
#define MAPCP_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mapcp_job;

struct window {
	off_t base;   /* page-aligned file offset of the mapping */
	size_t len;   /* bytes mapped */
	size_t delta; /* where the bytes to copy start in it */
	size_t n;     /* bytes to copy */
	bool edge;    /* DEST keeps holes: no read-ahead into them (mmap.c) */
};

/*
 * Windows end on 2 MiB boundaries where they can: the largest folio the
 * page cache makes, so a folio lies either wholly inside [a, b) between
 * two boundaries or wholly outside it.
 */
#define FOLIO_MAX ((off_t)2 << 20)

/* The window that copies from pos towards end. */
void window_at(const struct mapcp_job *job, off_t pos, off_t end,
	       struct window *w);

/* Map w of the source (dst false) or DEST into *out. 0, or -errno failed. */
int window_map(struct mapcp_job *job, const struct window *w, bool dst,
	       char **out);

/* Tell opts->on_window that a window is mapped. */
void window_notify(struct mapcp_job *job, const struct window *w,
		   const void *src, const void *dst);

/*
 * The source's mapping of w faulted. If the source still covers w, no
 * truncation caused it: a read error (failing media, a FUSE file's EIO),
 * reported as one; otherwise the source changed. Returns -errno.
 */
int window_src_fault(struct mapcp_job *job, const struct window *w);

/* The positive errno to report for a fault in a DEST mapping. */
int window_dst_error(const struct mapcp_job *job);

#endif
