/*
 * The planner: which engines copy a file, in which order, and when to give
 * up on one for the next. All fallback rules live here, none in the
 * engines: an engine may be left for the next only with an error that
 * means "I cannot copy this" and only before it has written a byte.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

const struct mapcp_engine *const engine_table[] = {
#define ENGINE(name) &engine_##name,
#include "engines.def"
#undef ENGINE
	NULL,
};

const struct mapcp_engine *
engine_find(const char *name, size_t len)
{
	for (unsigned int i = 0; engine_table[i] != NULL; i++) {
		const char *n = engine_table[i]->name;

		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return engine_table[i];
	}
	return NULL;
}

const char *
mapcp_engine_name(unsigned int i)
{
	unsigned int seen = 0;

	for (unsigned int k = 0; engine_table[k] != NULL; k++) {
		if (engine_table[k]->flags & ENGINE_HIDDEN)
			continue;
		if (seen++ == i)
			return engine_table[k]->name;
	}
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

int
plan_build(struct plan *plan, const struct mapcp_job *job)
{
	const char *list = job->opts->engine;

	if (job->stream) {
		plan->chain[0] = &engine_rw;
		plan->n = 1;
		plan->why = "streams are always copied by rw";
		plan->why_next = NULL;
		return 0;
	}
	if (list == NULL || strcmp(list, "auto") == 0) {
		plan->n = 0;
		for (unsigned int i = 0; engine_table[i] != NULL; i++)
			if (!(engine_table[i]->flags & ENGINE_HIDDEN) &&
			    plan->n < PLAN_MAX)
				plan->chain[plan->n++] = engine_table[i];
		plan->why = "auto's first choice, an in-kernel copy";
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

/* Copy every data extent of the source with e. 0 or -errno. */
static int
run_engine(const struct mapcp_engine *e, struct mapcp_job *job)
{
	off_t pos = 0, len = 0;
	int found, ret = 0;

	job->report->extents = 0;
	job->priv = NULL;
	if (e->start != NULL && (ret = e->start(job)) < 0)
		return ret;
	if (job->stream) {
		ret = e->copy(job, 0, 0);
	} else {
		while ((found = extent_next(job->src_fd, job->size, &pos,
					    &len)) > 0) {
			ret = e->copy(job, pos, len);
			if (ret < 0)
				break;
			job->report->extents++;
			pos += len;
		}
		if (found < 0)
			ret = job_fail(job, MAPCP_STEP_READ, -found);
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

		r->engine = e->name;
		r->why = i == 0 ? plan->why : plan->why_next;
		ret = run_engine(e, job);
		if (ret == 0 || job->copied > 0 || !plan_may_fall_back(-ret) ||
		    i + 1 == plan->n)
			return ret;
		if (r->nfallbacks < MAPCP_MAX_FALLBACKS) {
			r->fallback[r->nfallbacks].engine = e->name;
			r->fallback[r->nfallbacks].err = -ret;
			r->nfallbacks++;
		}
		r->step = MAPCP_STEP_NONE;
		r->err = 0;
	}
	return ret;
}
