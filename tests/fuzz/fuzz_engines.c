/*
 * Fuzz the engine list (--engine=LIST) and the rules on options that go
 * with it: mapcp_check_engines(), mapcp_check_opts() and plan_build().
 * Input: reflink, sparse and two bytes of queue depth, then the list (none
 * if the input ends there). Checked against a model written from the man
 * page: a list is "auto" or 1 to PLAN_MAX engine names joined by commas;
 * --reflink=always goes with --sparse=auto and the reflink engine alone;
 * --reflink=never and --sparse=never exclude the engines that may share
 * blocks; the queue depth is 1 to 1024. Options found good must give a
 * plan that follows those rules and, for a list, is the list itself.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "core.h"

/* The fault engine, linked into test binaries only (src/engines/fail.c). */
extern const struct mapcp_engine engine_fail;

/* The engines of list, or -1 if it is not a list of engine names. */
static int
ref_list(const char *list, const struct mapcp_engine **chain)
{
	int n = 0;

	for (const char *p = list;; p++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const struct mapcp_engine *e = NULL;

		for (int i = 0; engine_table[i] != NULL; i++)
			if (strlen(engine_table[i]->name) == len &&
			    memcmp(engine_table[i]->name, p, len) == 0)
				e = engine_table[i];
		if (len == 4 && memcmp(p, "fail", 4) == 0)
			e = &engine_fail; /* in test binaries, by name only */
		if (e == NULL || n == PLAN_MAX)
			return -1;
		chain[n++] = e;
		if (comma == NULL)
			return n;
		p = comma;
	}
}

/* Should mapcp_check_opts() accept o? */
static bool
ref_opts_ok(const struct mapcp_opts *o, const struct mapcp_engine **chain,
	    int n)
{
	bool listed = o->engine != NULL && strcmp(o->engine, "auto") != 0;

	if (listed && n < 0)
		return false;
	if (o->reflink == MAPCP_REFLINK_ALWAYS &&
	    (o->sparse != MAPCP_SPARSE_AUTO ||
	     (listed && (n != 1 || chain[0] != &engine_reflink))))
		return false;
	for (int i = 0; listed && i < n; i++)
		if ((chain[i]->flags & ENGINE_MAY_SHARE) &&
		    (o->reflink == MAPCP_REFLINK_NEVER ||
		     o->sparse == MAPCP_SPARSE_NEVER))
			return false;
	return o->queue_depth >= 1 && o->queue_depth <= MAPCP_MAX_QUEUE_DEPTH;
}

/* The plan for good options follows the rules. */
static void
check_plan(const struct mapcp_opts *o, const struct mapcp_engine **chain, int n)
{
	struct mapcp_report report = { 0 };
	struct copy_state core = { .dst_mode = (mode_t)-1 };
	struct mapcp_job job = { .opts = o,
				 .report = &report,
				 .src_fd = -1,
				 .dst_fd = -1,
				 .core = &core };
	bool listed = o->engine != NULL && strcmp(o->engine, "auto") != 0;
	struct plan plan;

	CHECK(plan_build(&plan, &job) == 0);
	CHECK(plan.n >= 1 && plan.n <= PLAN_MAX && plan.why != NULL);
	if (o->reflink == MAPCP_REFLINK_ALWAYS)
		CHECK(plan.n == 1 && plan.chain[0] == &engine_reflink);
	else if (listed)
		CHECK((int)plan.n == n);
	for (unsigned int i = 0; i < plan.n; i++) {
		unsigned int f = plan.chain[i]->flags;

		if (listed && o->reflink != MAPCP_REFLINK_ALWAYS)
			CHECK(plan.chain[i] == chain[i]);

		CHECK(plan.chain[i]->copy != NULL);
		if (!listed) /* auto never picks the fault engine */
			CHECK(plan.chain[i] != &engine_fail);
		if (o->reflink == MAPCP_REFLINK_NEVER ||
		    o->sparse == MAPCP_SPARSE_NEVER)
			CHECK(!(f & ENGINE_MAY_SHARE));
	}
	/* A stream is copied by rw whatever was asked. */
	job.stream = true;
	CHECK(plan_build(&plan, &job) == 0);
	CHECK(plan.n == 1 && plan.chain[0] == &engine_rw);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mapcp_engine *chain[PLAN_MAX];
	struct mapcp_opts o;
	char *list = NULL;
	int n = -1;

	if (size < 4)
		return 0;
	memset(&o, 0, sizeof(o));
	o.reflink = (enum mapcp_reflink)(data[0] % 3);
	o.sparse = (enum mapcp_sparse)(data[1] % 3);
	o.queue_depth = (unsigned int)(data[2] | (data[3] & 7) << 8);
	if (size > 4) {
		list = fuzz_string(data + 4, size - 4);
		if (list == NULL)
			return 0;
		n = ref_list(list, chain);
	}
	o.engine = list;

	if (list == NULL || strcmp(list, "auto") == 0)
		CHECK(mapcp_check_engines(list) == 0);
	else
		CHECK(mapcp_check_engines(list) == (n < 0 ? -EINVAL : 0));
	CHECK((mapcp_check_opts(&o) == NULL) == ref_opts_ok(&o, chain, n));
	if (mapcp_check_opts(&o) == NULL)
		check_plan(&o, chain, n);

	/* Every engine --help names is one --engine takes. */
	for (unsigned int i = 0; mapcp_engine_name(i) != NULL; i++) {
		CHECK(i < 64);
		CHECK(mapcp_check_engines(mapcp_engine_name(i)) == 0);
	}
	free(list);
	return 0;
}
