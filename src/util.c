/*
 * Small helpers shared by the engines and the atomic writer: a write that
 * finishes what it starts (git's write_in_full), the page size, and the
 * failure recorder every engine reports through.
 */
#include <errno.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

ssize_t
write_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	size_t left = len;

	while (left > 0) {
		ssize_t n =
			off < 0 ? write(fd, p, left) : pwrite(fd, p, left, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) { /* a non-blocking pipe: wait */
				struct pollfd pfd = { .fd = fd,
						      .events = POLLOUT };

				(void)poll(&pfd, 1, -1);
				continue;
			}
			return -errno;
		}
		if (n == 0)
			return -ENOSPC; /* a write that makes no progress */
		p += n;
		left -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return (ssize_t)len;
}

bool
again(void)
{
	if (errno == EINTR)
		return true;
	if (errno != EAGAIN)
		return false;
	(void)poll(NULL, 0, 1);
	errno = EAGAIN;
	return true;
}

/*
 * close(2) always releases the descriptor on Linux; EINTR (and an EAGAIN
 * nobody documents) only say the flush was interrupted, not that it
 * failed, and the call must not be made again. Any other error is the
 * filesystem reporting a write it could not do (NFS reports at close).
 */
int
close_checked(int fd)
{
	if (close(fd) == 0 || errno == EINTR || errno == EAGAIN)
		return 0;
	return -1;
}

size_t
page_size(void)
{
	static size_t size;

	if (size == 0)
		size = (size_t)sysconf(_SC_PAGESIZE);
	return size;
}

int
job_changed(struct mapcp_job *job)
{
	struct stat st;

	job->report->size_now = fstat(job->src_fd, &st) == 0 ? st.st_size : -1;
	return job_fail(job, MAPCP_STEP_CHANGED, EIO);
}

int
job_source_changed(const struct mapcp_job *job, const struct stat *src)
{
	struct stat now;

	if (fstat(job->src_fd, &now) < 0)
		return -errno;
	return now.st_size != src->st_size ||
	       now.st_mtim.tv_sec != src->st_mtim.tv_sec ||
	       now.st_mtim.tv_nsec != src->st_mtim.tv_nsec;
}

int
job_no_data(struct mapcp_job *job)
{
	if (job->copied == 0)
		return job_fail(job, MAPCP_STEP_COPY, ENODATA);
	return job_changed(job);
}

double
mapcp_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
