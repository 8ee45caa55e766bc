/*
 * What an engine sees of mapcp: the job (one file being copied), how it
 * reports a failure or progress, and the table entry it fills in. The
 * engines (each file of src/engines/, with window.h for the mmap ones)
 * include this and nothing else of the core: they know nothing of
 * temporaries, DEST's name, metadata, trees, or where holes go (the
 * planner's extents say what to copy; stream_write() and keep_holes say
 * the rest). Same conventions as mapcp.h: 0 or
 * -errno, never print.
 *
 * The contract: copy() gets [off, off + len) of the source, a data extent
 * the planner chose, and writes it to the same offsets of DEST (for a
 * stream, everything until EOF, in order); it counts what it wrote with
 * job_advance() and fails with job_fail(), which names the step, or
 * job_changed() / job_no_data(). An engine that cannot copy this file at
 * all fails before writing a byte, with an errno plan_may_fall_back()
 * knows, and the next engine is tried.
 */
#ifndef MAPCP_ENGINE_H
#define MAPCP_ENGINE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "mapcp.h"

struct copy_state; /* the core's own state of a copy (core.h) */

/* One file being copied: what the engines see. */
struct mapcp_job {
	int src_fd;
	int dst_fd;
	const char *src_path; /* for messages and on_window */
	const char *dst_path;
	off_t size;           /* the source's size when opened */
	size_t block;         /* DEST's block size: the grain of holes */
	bool stream;          /* read until EOF, write sequentially */
	bool seekable_dst;    /* DEST is a regular file */
	bool keep_holes;      /* DEST keeps holes: fault no page into them */
	off_t copied;         /* bytes written by every engine so far */
	bool sized;           /* DEST already has the source's size */
	unsigned int windows; /* windows mapped so far, for on_window */
	const struct mapcp_opts *opts;
	struct mapcp_report *report; /* written by job_fail() and the core */
	void *priv;                  /* the running engine's per-file state */
	const char *note;            /* an engine's words on its last failure */
	struct copy_state *core;     /* not the engines' */
};

/*
 * EINTR and EAGAIN are never failures. RETRY(call) makes a call that
 * returned -1 again while errno is one of them; again() pauses a
 * millisecond after EAGAIN, so that a busy resource is not spun on.
 */
#define RETRY(call)                                                            \
	__extension__({                                                        \
		__typeof__(call) retry_ret_;                                   \
		while ((retry_ret_ = (call)) == -1 && again())                 \
			;                                                      \
		retry_ret_;                                                    \
	})
bool again(void);
/*
 * For the calls where EAGAIN is an answer, not a busy resource: a
 * non-blocking flock() (EWOULDBLOCK is EAGAIN) must not wait for the lock.
 */
#define RETRY_EINTR(call)                                                      \
	__extension__({                                                        \
		__typeof__(call) retry_ret_;                                   \
		while ((retry_ret_ = (call)) == -1 && errno == EINTR)          \
			;                                                      \
		retry_ret_;                                                    \
	})
/* close(2); -1 only for an error that means data was not written. */
int close_checked(int fd);

/* Give DEST the source's size, once. 0, or -1 with errno set. */
static inline int
job_size_dest(struct mapcp_job *job)
{
	if (job->sized)
		return 0;
	if (RETRY(ftruncate(job->dst_fd, job->size)) < 0)
		return -1;
	job->sized = true;
	return 0;
}

/* r failed at step with errno err (EIO if none): returns -err. */
static inline int
report_fail(struct mapcp_report *r, enum mapcp_step step, int err)
{
	int e = err > 0 ? err : EIO;

	r->step = step;
	r->err = e;
	return -e;
}

/*
 * Record that step failed with the positive errno err, and return -err, so
 * an engine can write "return job_fail(job, MAPCP_STEP_READ, errno);".
 * A zero errno, which no syscall should leave, still makes a failure.
 */
static inline int
job_fail(struct mapcp_job *job, enum mapcp_step step, int err)
{
	return report_fail(job->report, step, err);
}

/* Count n more bytes written, for the report and any progress display. */
static inline void
job_advance(struct mapcp_job *job, off_t n)
{
	job->copied += n;
	if (job->opts->progress != NULL)
		job->opts->progress->bytes += (unsigned long long)n;
}

/*
 * Record that the source no longer has the size it had when opened (it
 * shrank under the copy, or grew) and return -EIO: never a fallback.
 */
int job_changed(struct mapcp_job *job);

/*
 * An in-kernel copy returned 0 bytes before the end of the extent: if
 * nothing was copied yet, the source is /proc-like (-ENODATA, a fallback),
 * else it shrank (job_changed()).
 */
int job_no_data(struct mapcp_job *job);

enum engine_flag {
	ENGINE_MAY_SHARE = 1 << 2, /* may share blocks instead of copying */
};

/* An engine copies data extents; see DESIGN.md "Engines". */
struct mapcp_engine {
	const char *name;
	unsigned int flags; /* enum engine_flag */
	/* Optional: set up per-file state in job->priv. 0 or -errno. */
	int (*start)(struct mapcp_job *job);
	/*
	 * Copy [off, off + len) to the same offsets of DEST, which already
	 * has the source's size (unless it is a stream). 0 or -errno.
	 */
	int (*copy)(struct mapcp_job *job, off_t off, off_t len);
	/* Optional: release job->priv. */
	void (*finish)(struct mapcp_job *job);
	/*
	 * Optional: would copy() refuse this job outright (the files on two
	 * filesystems, a filesystem that cannot do it)? Then the -errno it
	 * would fail with, reported as copy() would; else 0. Writes nothing.
	 */
	int (*probe)(struct mapcp_job *job);
};

/* guard.c: copies between mappings that survive SIGBUS. */
enum guard_fault {
	GUARD_OK = 0,
	GUARD_SRC = 1, /* the source mapping faulted: file shrank */
	GUARD_DST = 2, /* the destination mapping faulted: no space, EIO */
};

/* memcpy(dst, src, n), turning a SIGBUS inside either range into a code. */
enum guard_fault guard_memcpy(void *dst, const void *src, size_t n);

/*
 * kernel.c: [off, off + len) moved by the kernel, in calls of at most
 * 1 GiB: move() moves up to want bytes from the source at *in (advancing
 * it) to the same offset of DEST, returning the bytes moved or -1 with
 * errno. 0 or -errno, with the step set.
 */
int job_kernel_copy(struct mapcp_job *job, off_t off, off_t len,
		    ssize_t (*move)(struct mapcp_job *job, off_t *in,
				    size_t want));

/*
 * extents.c: a stream's n bytes written at DEST's position, whole blocks
 * of zeros left as holes where --sparse=always wants them. 0 or -errno.
 */
int stream_write(struct mapcp_job *job, const unsigned char *p, size_t n);

/* write(2) all of buf at off (or at the file position if off < 0). */
ssize_t write_all(int fd, const void *buf, size_t len, off_t off);

/* Page size, looked up once. */
size_t page_size(void);

#endif
