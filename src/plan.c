/*
 * The planner: which engines copy a file, in which order, and when to give
 * up on one for the next. All fallback rules live here, none in the
 * engines: an engine may be left for the next only with an error that
 * means "I cannot copy this" and only before it has written a byte.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "core.h"

const struct mapcp_engine *const engine_table[] = {
#define ENGINE(name) &engine_##name,
#include "engines.def"
#undef ENGINE
	NULL,
};

/*
 * The test engine (engines/fail.c), linked into the test binaries only:
 * in what make builds for users the weak reference stays NULL, and "fail"
 * is an unknown engine like any other name.
 */
extern const struct mapcp_engine engine_fail __attribute__((weak));

static bool
named(const struct mapcp_engine *e, const char *name, size_t len)
{
	return strlen(e->name) == len && memcmp(e->name, name, len) == 0;
}

const struct mapcp_engine *
engine_find(const char *name, size_t len)
{
	for (unsigned int i = 0; engine_table[i] != NULL; i++)
		if (named(engine_table[i], name, len))
			return engine_table[i];
	if (&engine_fail != NULL && named(&engine_fail, name, len))
		return &engine_fail;
	return NULL;
}

const char *
mapcp_engine_name(unsigned int i)
{
	unsigned int seen = 0;

	for (unsigned int k = 0; engine_table[k] != NULL; k++)
		if (seen++ == i)
			return engine_table[k]->name;
	return seen == i ? "auto" : NULL;
}

bool
plan_may_fall_back(int err)
{
	switch (err) {
	case EOPNOTSUPP: /* this filesystem cannot do it */
	case ENOSYS:     /* this kernel cannot do it */
	case EXDEV:      /* not across filesystems */
	case EINVAL:     /* not for this kind of file */
	case ENODEV:     /* mmap(2): this file cannot be mapped */
	case ENODATA:    /* copy_file_range read nothing: a /proc-like file */
		return true;
	default:
		return false;
	}
}

/*
 * What an engine cannot do between two filesystems, learnt from the first
 * file that showed it: reflink on ext4 fails with EOPNOTSUPP for every
 * file, and copy_file_range across some filesystems with EXDEV. A tree of
 * 8,000 files need not ask 8,000 times. Only errors that belong to the
 * filesystems, never to one file, are learnt, and only where another
 * engine follows in the chain, so an engine asked for alone is always
 * tried. Nothing here can make a copy wrong, only skip a doomed attempt.
 */
struct learnt {
	const struct mapcp_engine *engine;
	dev_t src, dst;
	int err;
	const char *note;
};

#define LEARNT_MAX 16
static struct learnt learnt[LEARNT_MAX];
static unsigned int nlearnt;
static pthread_mutex_t learnt_lock = PTHREAD_MUTEX_INITIALIZER;

static bool
learnable(int err)
{
	return err == EOPNOTSUPP || err == ENOSYS || err == EXDEV;
}

static const struct learnt *
learnt_find(const struct mapcp_engine *e, const struct mapcp_job *job)
{
	const struct learnt *found = NULL;

	if (job->core->dst_dev == 0)
		return NULL;
	pthread_mutex_lock(&learnt_lock);
	for (unsigned int i = 0; i < nlearnt && found == NULL; i++)
		if (learnt[i].engine == e &&
		    learnt[i].src == job->core->src_dev &&
		    learnt[i].dst == job->core->dst_dev)
			found = &learnt[i];
	pthread_mutex_unlock(&learnt_lock);
	return found; /* entries are never changed once written */
}

static void
learn(const struct mapcp_engine *e, const struct mapcp_job *job, int err)
{
	if (job->core->dst_dev == 0 || !learnable(err) || learnt_find(e, job))
		return;
	pthread_mutex_lock(&learnt_lock);
	if (nlearnt < LEARNT_MAX)
		learnt[nlearnt++] =
			(struct learnt){ e, job->core->src_dev,
					 job->core->dst_dev, err, job->note };
	pthread_mutex_unlock(&learnt_lock);
}

static int
plan_parse(struct plan *plan, const char *list)
{
	const char *p = list;

	plan->n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		const struct mapcp_engine *e = engine_find(p, len);

		if (e == NULL || plan->n == PLAN_MAX)
			return -EINVAL;
		plan->chain[plan->n++] = e;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

int
mapcp_check_engines(const char *list)
{
	struct plan plan;

	if (list == NULL || strcmp(list, "auto") == 0)
		return 0;
	return plan_parse(&plan, list);
}

/*
 * May auto use e? --reflink=never and --sparse=never exclude the engines
 * that may share blocks instead of copying them: reflink, and
 * copy_file_range, which clones on XFS and btrfs.
 */
static bool
auto_may_use(const struct mapcp_engine *e, const struct mapcp_opts *o)
{
	if (e->flags & ENGINE_MAY_SHARE)
		return o->reflink != MAPCP_REFLINK_NEVER &&
		       o->sparse != MAPCP_SPARSE_NEVER;
	return true;
}

const char *
mapcp_check_opts(const struct mapcp_opts *o)
{
	struct plan plan;
	bool listed = o->engine != NULL && strcmp(o->engine, "auto") != 0;

	if (listed && plan_parse(&plan, o->engine) < 0)
		return "unknown engine";
	if (o->reflink == MAPCP_REFLINK_ALWAYS) {
		if (o->sparse != MAPCP_SPARSE_AUTO)
			return "--reflink can be used only with --sparse=auto";
		if (listed && (plan.n != 1 || plan.chain[0] != &engine_reflink))
			return "--reflink=always copies with the reflink "
			       "engine "
			       "only";
	}
	for (unsigned int i = 0; listed && i < plan.n; i++) {
		if (!(plan.chain[i]->flags & ENGINE_MAY_SHARE))
			continue;
		if (o->reflink == MAPCP_REFLINK_NEVER)
			return "--reflink=never excludes the engines reflink "
			       "and copy_file_range";
		if (o->sparse == MAPCP_SPARSE_NEVER)
			return "--sparse=never excludes the engines reflink "
			       "and copy_file_range, which may share blocks";
	}
	if (o->queue_depth < 1 || o->queue_depth > MAPCP_MAX_QUEUE_DEPTH)
		return "the queue depth must be from 1 to 1024";
	if ((o->flags & MAPCP_ATOMIC) && (o->flags & MAPCP_INPLACE))
		return "--atomic and --inplace cannot be used together";
	if (o->buffer > MAPCP_MAX_BUFFER)
		return "the buffer can be at most 64M, so that memory stays "
		       "bounded";
	if (o->window > MAPCP_MAX_WINDOW)
		return "the window can be at most 1G, so that memory stays "
		       "bounded";
	return NULL;
}

int
plan_build(struct plan *plan, const struct mapcp_job *job)
{
	const struct mapcp_opts *o = job->opts;
	const char *list = o->engine;

	plan->n = 0;
	plan->why_next = NULL;
	if (job->stream) {
		plan->chain[plan->n++] = &engine_rw;
		plan->why = "streams are always copied by rw";
		return 0;
	}
	if (o->reflink == MAPCP_REFLINK_ALWAYS) {
		plan->chain[plan->n++] = &engine_reflink;
		plan->why = "--reflink=always";
		return 0;
	}
	if (list == NULL || strcmp(list, "auto") == 0) {
		for (unsigned int i = 0; engine_table[i] != NULL; i++)
			if (auto_may_use(engine_table[i], o) &&
			    plan->n < PLAN_MAX)
				plan->chain[plan->n++] = engine_table[i];
		plan->why = plan->chain[0] == &engine_reflink
				    ? "auto's first choice: share the blocks"
				    : "auto's first choice";
		plan->why_next = "auto's next choice, after a fallback";
		return 0;
	}
	if (plan_parse(plan, list) < 0)
		return -EINVAL;
	plan->why = plan->n == 1 ? "chosen with --engine"
				 : "first of the --engine list";
	plan->why_next = "next in the --engine list, after a fallback";
	return 0;
}

/* --sparse=never: write len zeros at off of DEST, no source read. */
static int
fill_zeros(struct mapcp_job *job, off_t off, off_t len)
{
	static const unsigned char zeros[1 << 16];

	while (len > 0) {
		size_t n = len < (off_t)sizeof(zeros) ? (size_t)len
						      : sizeof(zeros);
		ssize_t w = write_all(job->dst_fd, zeros, n, off);

		if (w < 0)
			return job_fail(job, MAPCP_STEP_WRITE, (int)-w);
		job_advance(job, w);
		off += w;
		len -= w;
	}
	return 0;
}

/* Copy every extent of the source with e. 0 or -errno. */
static int
run_engine(const struct mapcp_engine *e, struct mapcp_job *job)
{
	struct extents x;
	off_t off = 0, len = 0;
	bool hole = false;
	int found = 0, ret;

	job->report->extents = 0;
	job->priv = NULL;
	job->note = NULL;
	if (e->start != NULL && (ret = e->start(job)) < 0)
		return ret;
	if (job->stream) {
		ret = e->copy(job, 0, 0);
	} else {
		ret = extents_init(&x, job->src_fd, job->size,
				   job->opts->sparse, job->block,
				   job->core->dense);
		if (ret < 0)
			ret = job_fail(job, MAPCP_STEP_READ, -ret);
		while (ret == 0 &&
		       (found = extents_next(&x, &off, &len, &hole)) > 0) {
			ret = hole ? fill_zeros(job, off, len)
				   : e->copy(job, off, len);
			if (ret == 0 && !hole)
				job->report->extents++;
		}
		if (found < 0)
			ret = job_fail(job, MAPCP_STEP_READ, -found);
		extents_free(&x);
	}
	if (e->finish != NULL)
		e->finish(job);
	return ret;
}

int
plan_run(const struct plan *plan, struct mapcp_job *job)
{
	struct mapcp_report *r = job->report;
	int ret = -ENOSYS;

	for (unsigned int i = 0; i < plan->n; i++) {
		const struct mapcp_engine *e = plan->chain[i];
		const struct learnt *l =
			i + 1 < plan->n ? learnt_find(e, job) : NULL;

		r->engine = e->name;
		r->why = i == 0 ? plan->why : plan->why_next;
		if (l != NULL) { /* known to fail here: as if it had */
			job->note = l->note;
			ret = job_fail(job, MAPCP_STEP_ENGINE, l->err);
		} else {
			ret = run_engine(e, job);
			if (ret < 0 && job->copied == 0)
				learn(e, job, -ret);
		}
		r->note = ret < 0 ? job->note : NULL;
		if (ret == 0 || job->copied > 0 || !plan_may_fall_back(-ret) ||
		    i + 1 == plan->n)
			return ret;
		if (r->nfallbacks < MAPCP_MAX_FALLBACKS) {
			r->fallback[r->nfallbacks].engine = e->name;
			r->fallback[r->nfallbacks].err = -ret;
			r->fallback[r->nfallbacks].note = job->note;
			r->nfallbacks++;
		}
		r->step = MAPCP_STEP_NONE;
		r->err = 0;
	}
	return ret < 0 && r->step == MAPCP_STEP_NONE /* no engine at all */
		       ? job_fail(job, MAPCP_STEP_ENGINE, -ret)
		       : ret;
}

int
plan_refuses(const struct plan *plan, struct mapcp_job *job)
{
	struct mapcp_report *r = job->report;
	unsigned int saved = r->nfallbacks;
	int ret = 0;

	for (unsigned int i = 0; i < plan->n; i++) {
		const struct mapcp_engine *e = plan->chain[i];

		if (e->probe == NULL || (ret = e->probe(job)) == 0 ||
		    !plan_may_fall_back(-ret)) {
			/* it may copy: nothing to report after all */
			r->nfallbacks = saved;
			r->step = MAPCP_STEP_NONE;
			r->err = 0;
			r->note = NULL;
			job->note = NULL;
			return 0;
		}
		r->engine = e->name;
		r->why = i == 0 ? plan->why : plan->why_next;
		r->note = job->note;
		if (i + 1 < plan->n && r->nfallbacks < MAPCP_MAX_FALLBACKS) {
			r->fallback[r->nfallbacks].engine = e->name;
			r->fallback[r->nfallbacks].err = -ret;
			r->fallback[r->nfallbacks].note = job->note;
			r->nfallbacks++;
		}
	}
	return ret;
}
