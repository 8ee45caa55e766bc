/*
 * io_uring: reads and writes kept in flight through an io_uring (liburing:
 * io_uring_queue_init, io_uring_register_buffers, READ_FIXED/WRITE_FIXED).
 * Each of --queue-depth slots owns one registered buffer and carries one
 * piece of the file: a read into the buffer, then a write out of it, the
 * write queued when the read completes. Linking each read to its write
 * (IOSQE_IO_LINK) was measured and left out: no faster here, warm or cold,
 * at depths 2 to 32 (docs/measuring.md, "Choosing the defaults"), and a
 * link breaks on every short read. Short reads and writes do the rest.
 * Where io_uring is disabled or refused, start() says why and the planner
 * moves on.
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "../engine.h"

/* All slots' buffers together stay within this, whatever the depth. */
#define MAX_MEMORY ((size_t)32 << 20)

struct slot {
	off_t off;         /* where this slot's piece starts in the file */
	unsigned int len;  /* bytes in the piece */
	unsigned int have; /* of them read so far */
	unsigned int sent; /* of them written so far */
};

struct ring {
	struct io_uring ring;
	struct slot *slots;
	unsigned int *free; /* stack of idle slots */
	unsigned int nfree;
	unsigned int depth;
	unsigned int inflight; /* requests submitted, not yet completed */
	unsigned char *mem;    /* depth buffers of bufsize bytes */
	size_t bufsize;
	bool fixed; /* buffers registered with the ring */
	int error;  /* first failure: finish what is in flight, start nothing */
};

/* Why io_uring_queue_init() was refused, for --debug. */
static const char *
refusal(int err)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "re");
	char line[16] = "";
	long disabled = 0;

	if (f != NULL) {
		if (fgets(line, sizeof(line), f) != NULL)
			disabled = strtol(line, NULL, 10);
		fclose(f);
	}
	if (disabled == 2)
		return "io_uring is disabled: kernel.io_uring_disabled is 2";
	if (disabled == 1 && err == EPERM)
		return "io_uring is limited to a group: "
		       "kernel.io_uring_disabled "
		       "is 1";
	if (err == ENOSYS)
		return "this kernel has no io_uring, or a sandbox forbids it";
	return "io_uring setup was refused";
}

/* Slots and buffers for this file: no more than it needs. */
static void
size_ring(struct ring *r, const struct mapcp_job *job)
{
	size_t pg = page_size(), bufsize = job->opts->buffer;
	off_t pieces;

	r->depth = job->opts->queue_depth ? job->opts->queue_depth : 1;
	if (bufsize * r->depth > MAX_MEMORY)
		bufsize = MAX_MEMORY / r->depth;
	if ((off_t)bufsize > job->size)
		bufsize = (size_t)job->size;
	bufsize = (bufsize + pg - 1) / pg * pg;
	if (bufsize == 0)
		bufsize = pg;
	pieces = (job->size + (off_t)bufsize - 1) / (off_t)bufsize;
	if (pieces > 0 && pieces < (off_t)r->depth)
		r->depth = (unsigned int)pieces;
	r->bufsize = bufsize;
}

static void
free_ring(struct ring *r, bool queue)
{
	if (queue)
		io_uring_queue_exit(&r->ring);
	free(r->mem);
	free(r->slots);
	free(r->free);
	free(r);
}

/* Register the buffers so the kernel need not map them on every request. */
static void
register_buffers(struct ring *r)
{
	struct iovec *iov = calloc(r->depth, sizeof(*iov));

	if (iov == NULL)
		return;
	for (unsigned int i = 0; i < r->depth; i++) {
		iov[i].iov_base = r->mem + (size_t)i * r->bufsize;
		iov[i].iov_len = r->bufsize;
	}
	/* Refused (old kernels count it against RLIMIT_MEMLOCK): go unfixed. */
	r->fixed = io_uring_register_buffers(&r->ring, iov, r->depth) == 0;
	free(iov);
}

static int
ring_start(struct mapcp_job *job)
{
	struct ring *r = calloc(1, sizeof(*r));
	int ret;

	if (r == NULL)
		return job_fail(job, MAPCP_STEP_COPY, ENOMEM);
	size_ring(r, job);
	ret = io_uring_queue_init(r->depth, &r->ring, 0);
	if (ret < 0) {
		free_ring(r, false);
		job->note = refusal(-ret);
		/* Disabled or absent: "cannot do this here", a fallback. */
		return job_fail(job, MAPCP_STEP_COPY,
				-ret == EPERM || -ret == ENOSYS ? EOPNOTSUPP
								: -ret);
	}
	r->slots = calloc(r->depth, sizeof(*r->slots));
	r->free = calloc(r->depth, sizeof(*r->free));
	r->mem = aligned_alloc(page_size(), r->bufsize * r->depth);
	if (r->slots == NULL || r->free == NULL || r->mem == NULL) {
		free_ring(r, true);
		return job_fail(job, MAPCP_STEP_COPY, ENOMEM);
	}
	for (r->nfree = 0; r->nfree < r->depth; r->nfree++)
		r->free[r->nfree] = r->depth - 1 - r->nfree;
	register_buffers(r);
	job->priv = r;
	return 0;
}

static void
ring_finish(struct mapcp_job *job)
{
	free_ring(job->priv, true);
	job->priv = NULL;
}

static unsigned char *
buffer(const struct ring *r, unsigned int i)
{
	return r->mem + (size_t)i * r->bufsize;
}

/* The read (or write) of what slot i has not read (or written) yet. */
static void
queue(struct ring *r, const struct mapcp_job *job, unsigned int i, bool write)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	struct slot *s = &r->slots[i];
	unsigned int done = write ? s->sent : s->have;
	unsigned char *p = buffer(r, i) + done;
	unsigned int n = s->len - done;
	__u64 at = (__u64)s->off + done;

	if (write && r->fixed)
		io_uring_prep_write_fixed(sqe, job->dst_fd, p, n, at, (int)i);
	else if (write)
		io_uring_prep_write(sqe, job->dst_fd, p, n, at);
	else if (r->fixed)
		io_uring_prep_read_fixed(sqe, job->src_fd, p, n, at, (int)i);
	else
		io_uring_prep_read(sqe, job->src_fd, p, n, at);
	io_uring_sqe_set_data64(sqe, (__u64)i << 1 | write);
	r->inflight++;
}

/* EINTR and EAGAIN in a completion are not failures: ask again. */
static bool
requeued(struct ring *r, const struct mapcp_job *job, unsigned int i,
	 bool write, int res)
{
	if ((res != -EINTR && res != -EAGAIN) || r->error != 0)
		return false;
	queue(r, job, i, write);
	return true;
}

/* A read completed: read the rest, or write what was read. 0 or -errno. */
static int
read_done(struct ring *r, struct mapcp_job *job, unsigned int i, int res)
{
	struct slot *s = &r->slots[i];

	if (requeued(r, job, i, false, res))
		return 0;
	if (res <= 0 || r->error != 0)
		r->free[r->nfree++] = i;
	if (res < 0)
		return job_fail(job, MAPCP_STEP_READ, -res);
	if (res == 0) /* end of file before the piece: the source shrank */
		return job_changed(job);
	if (r->error != 0)
		return 0;
	s->have += (unsigned int)res;
	if (s->have < s->len)
		queue(r, job, i, false);
	else
		queue(r, job, i, true);
	return 0;
}

/* A write completed: write the rest, or free the slot. 0 or -errno. */
static int
write_done(struct ring *r, struct mapcp_job *job, unsigned int i, int res)
{
	struct slot *s = &r->slots[i];

	if (requeued(r, job, i, true, res))
		return 0;
	if (res > 0)
		s->sent += (unsigned int)res;
	if (res > 0 && s->sent < s->len && r->error == 0) {
		queue(r, job, i, true); /* short write: the rest */
		return 0;
	}
	r->free[r->nfree++] = i;
	if (res <= 0)
		return job_fail(job, MAPCP_STEP_WRITE, res < 0 ? -res : ENOSPC);
	if (s->sent == s->len)
		job_advance(job, s->len);
	return 0;
}

/* Reap every completion there is. */
static void
reap(struct ring *r, struct mapcp_job *job)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&r->ring, &cqe) == 0) {
		unsigned int i =
			(unsigned int)(io_uring_cqe_get_data64(cqe) >> 1);
		bool is_write = io_uring_cqe_get_data64(cqe) & 1;
		int res = cqe->res, ret;

		io_uring_cqe_seen(&r->ring, cqe);
		r->inflight--;
		ret = is_write ? write_done(r, job, i, res)
			       : read_done(r, job, i, res);
		if (ret < 0 && r->error == 0)
			r->error = ret;
	}
}

static int
ring_copy(struct mapcp_job *job, off_t off, off_t len)
{
	struct ring *r = job->priv;
	off_t pos = off, end = off + len;
	int ret;

	r->error = 0;
	for (;;) {
		while (r->error == 0 && pos < end && r->nfree > 0) {
			unsigned int i = r->free[--r->nfree];
			off_t n = end - pos;

			if (n > (off_t)r->bufsize)
				n = (off_t)r->bufsize;
			r->slots[i] = (struct slot){ .off = pos,
						     .len = (unsigned int)n };
			queue(r, job, i, false);
			pos += n;
		}
		if (r->inflight == 0)
			break;
		ret = io_uring_submit_and_wait(&r->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN) {
			/* The ring itself failed: finish() tears it down. */
			return r->error ? r->error
					: job_fail(job, MAPCP_STEP_COPY, -ret);
		}
		reap(r, job);
	}
	return r->error;
}

const struct mapcp_engine engine_io_uring = {
	.name = "io_uring",
	.start = ring_start,
	.copy = ring_copy,
	.finish = ring_finish,
};
