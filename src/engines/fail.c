/*
 * fail: a test engine, hidden from users and never chosen by auto. It
 * copies like rw until opts->fail_after bytes are written, then fails with
 * opts->fail_errno (EIO if unset), so the tests can drive the planner's
 * fallbacks and prove that a copy failing midway leaves DEST untouched
 * (as fio's null engine exists to test fio itself).
 */
#include <errno.h>

#include "../internal.h"

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

static int
fail_copy(struct mapcp_job *job, off_t off, off_t len)
{
	off_t left = job->opts->fail_after - job->copied;
	int ret;

	if (left <= 0)
		return fail_now(job);
	if (left >= len)
		return engine_rw.copy(job, off, len);
	ret = engine_rw.copy(job, off, left);
	return ret < 0 ? ret : fail_now(job);
}

const struct mapcp_engine engine_fail = {
	.name = "fail",
	.flags = ENGINE_HIDDEN,
	.start = fail_start,
	.copy = fail_copy,
	.finish = fail_finish,
};
