/*
 * The loop the in-kernel engines share (copy_file_range, sendfile): the
 * kernel moves [off, off + len) in calls of at most 1 GiB, large enough
 * to keep syscalls rare and small enough to stay interruptible. A call
 * that moves nothing before the end is job_no_data()'s to explain.
 *
 * A progress display wants to see bytes move more often than 1 GiB at a
 * time (several seconds on a slow disk). With one, each call is sized
 * from the last one's speed to take about PIECE_SECONDS, between 1 MiB
 * and PIECE_MAX: a call sized from a fast stretch (pages in the cache)
 * that meets a slow one (the disk) can take longer, by the ratio of the
 * two speeds, and 16 MiB keeps that within 100 ms down to 160 MB/s.
 * A few hundred calls a second cost nothing measurable.
 */
#include <errno.h>

#include "../engine.h"

#define CHUNK         ((off_t)1 << 30)
#define PIECE_MIN     ((off_t)1 << 20)
#define PIECE_FIRST   ((off_t)8 << 20)
#define PIECE_MAX     ((off_t)16 << 20)
#define PIECE_SECONDS 0.05

/* The next call's size, after n bytes moved in seconds. */
static off_t
next_piece(off_t n, double seconds)
{
	double want = seconds > 0 ? (double)n * PIECE_SECONDS / seconds
				  : (double)PIECE_MAX;

	if (want >= (double)PIECE_MAX)
		return PIECE_MAX;
	if (want <= (double)PIECE_MIN)
		return PIECE_MIN;
	return (off_t)want & ~(PIECE_MIN - 1);
}

int
job_kernel_copy(struct mapcp_job *job, off_t off, off_t len,
		ssize_t (*move)(struct mapcp_job *job, off_t *in, size_t want))
{
	off_t in = off, end = off + len;
	bool shown = job->opts->progress != NULL;
	off_t piece = shown ? PIECE_FIRST : CHUNK;

	while (in < end) {
		size_t want = (size_t)(end - in < piece ? end - in : piece);
		double t = shown ? mapcp_monotonic() : 0;
		ssize_t n = RETRY(move(job, &in, want));

		if (n < 0)
			return job_fail(job, MAPCP_STEP_COPY, errno);
		if (n == 0)
			return job_no_data(job);
		job_advance(job, n);
		if (shown)
			piece = next_piece(n, mapcp_monotonic() - t);
	}
	return 0;
}
