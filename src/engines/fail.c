/*
 * fail: a test engine, linked into the test binaries only (the unit tests
 * and build/tests/mapcp-hooks), never into what make builds for users. It
 * copies like rw until opts->fail_after bytes are written, then fails with
 * opts->fail_errno (EIO if unset), so the tests can drive the planner's
 * fallbacks and prove that a copy failing midway leaves DEST untouched
 * (as fio's null engine exists to test fio itself). With fail_errno -1 it
 * copies everything and then flips the byte at fail_after, silently: the
 * corruption --verify is there to catch.
 */
#include <errno.h>
#include <unistd.h>

#include "../engine.h"

/* The engine it copies with, until it fails (rw.c). */
extern const struct mapcp_engine engine_rw;

static int
fail_now(struct mapcp_job *job)
{
	int err = job->opts->fail_errno ? job->opts->fail_errno : EIO;

	return job_fail(job, MAPCP_STEP_WRITE, err);
}

static int
fail_start(struct mapcp_job *job)
{
	return engine_rw.start(job);
}

static void
fail_finish(struct mapcp_job *job)
{
	engine_rw.finish(job);
}

/* Copy [off, off + len), then flip DEST's byte at fail_after if in it. */
static int
flip_copy(struct mapcp_job *job, off_t off, off_t len)
{
	off_t at = job->opts->fail_after;
	unsigned char byte;
	int ret = engine_rw.copy(job, off, len);

	if (ret < 0 || at < off || at >= off + len)
		return ret;
	if (pread(job->dst_fd, &byte, 1, at) != 1)
		return job_fail(job, MAPCP_STEP_WRITE, EIO);
	byte ^= 0xff;
	if (pwrite(job->dst_fd, &byte, 1, at) != 1)
		return job_fail(job, MAPCP_STEP_WRITE, EIO);
	return 0;
}

static int
fail_copy(struct mapcp_job *job, off_t off, off_t len)
{
	off_t left = job->opts->fail_after - job->copied;
	int ret;

	if (job->opts->fail_errno < 0)
		return flip_copy(job, off, len);
	if (left <= 0)
		return fail_now(job);
	if (left >= len)
		return engine_rw.copy(job, off, len);
	ret = engine_rw.copy(job, off, left);
	return ret < 0 ? ret : fail_now(job);
}

const struct mapcp_engine engine_fail = {
	.name = "fail",
	.start = fail_start,
	.copy = fail_copy,
	.finish = fail_finish,
};
