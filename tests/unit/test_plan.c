/*
 * Unit tests for plan.c: the chains built for auto, for a list and for a
 * stream, and the fallback rules, driven by the test engine "fail": fall
 * back only on "cannot do this" errors and only before the first byte.
 */
#include <sys/statfs.h>

#include "core.h"
#include "helpers.h"

/* The engines of engines.def, reflink included. */
static unsigned int
engines(void)
{
	unsigned int n = 0;

	while (engine_table[n] != NULL)
		n++;
	return n;
}

#define ENGINES engines()

#define SIZE (300 * 1024)

static struct mapcp_report report;
static struct mapcp_opts opts;
static struct mapcp_job job;
static struct copy_state core;

static dev_t device = 1000;

static int
setup(void **state)
{
	if (setup_scratch(state) < 0)
		return -1;
	make_file(path_in("src"), SIZE, 7);
	memset(&report, 0, sizeof(report));
	opts = test_opts("auto");
	memset(&job, 0, sizeof(job));
	memset(&core, 0, sizeof(core));
	job.core = &core;
	job.opts = &opts;
	job.report = &report;
	job.size = SIZE;
	job.block = 4096;
	job.seekable_dst = true;
	job.src_fd = open(path_in("src"), O_RDONLY);
	job.dst_fd = open(path_in("dst"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (job.src_fd < 0 || job.dst_fd < 0)
		return -1;
	/*
	 * One filesystem, a device of its own for each test: what the
	 * planner learns of a device (plan.c, learnt) stays in its test,
	 * while auto's rules ask the descriptors what the filesystem is.
	 */
	core.src_dev = core.dst_dev = ++device;
	return 0;
}

/* Can the scratch directory's filesystem not share blocks (auto knows)? */
static bool
scratch_copies_only(void)
{
	struct statfs sf;

	return statfs(scratch, &sf) == 0 &&
	       (sf.f_type == 0xef53 || sf.f_type == 0x01021994);
}

static bool
in_chain(const struct plan *plan, const struct mapcp_engine *e)
{
	for (unsigned int i = 0; i < plan->n; i++)
		if (plan->chain[i] == e)
			return true;
	return false;
}

static int
teardown(void **state)
{
	close(job.src_fd);
	close(job.dst_fd);
	return teardown_scratch(state);
}

/*
 * auto by filesystem: every engine once, reflink first where blocks may
 * be shared, left out where they cannot (ext4, tmpfs: copy_file_range
 * first) and across filesystems (sendfile first). The reason names the
 * rule.
 */
static void
test_auto_chain(void **state)
{
	struct plan plan;
	struct stat st;

	(void)state;
	assert_int_equal(plan_build(&plan, &job), 0);
	for (unsigned int i = 0; engine_table[i] != NULL; i++)
		assert_true(in_chain(&plan, engine_table[i]) ||
			    (engine_table[i] == &engine_reflink &&
			     scratch_copies_only()));
	if (scratch_copies_only()) {
		assert_int_equal(plan.n, ENGINES - 1);
		assert_ptr_equal(plan.chain[0], &engine_copy_file_range);
		assert_non_null(strstr(plan.why, "cannot share blocks"));
	} else {
		assert_int_equal(plan.n, ENGINES);
		assert_ptr_equal(plan.chain[0], &engine_reflink);
		assert_ptr_equal(plan.chain[1], &engine_copy_file_range);
	}
	/*
	 * DEST on another filesystem of the same kind (here a device of its
	 * own on the same filesystem): where that kind cannot share or
	 * offload, sendfile; where it can (btrfs subvolumes), as on one.
	 */
	core.src_dev = core.dst_dev + 1;
	assert_int_equal(plan_build(&plan, &job), 0);
	if (scratch_copies_only()) {
		assert_ptr_equal(plan.chain[0], &engine_sendfile);
		assert_false(in_chain(&plan, &engine_reflink));
		assert_int_equal(plan.n, ENGINES - 1);
		assert_non_null(strstr(plan.why, "different filesystems"));
	} else {
		assert_ptr_equal(plan.chain[0], &engine_reflink);
	}
	/* DEST past a symlink (no device known): asked of its descriptor */
	assert_int_equal(fstat(job.src_fd, &st), 0);
	core.src_dev = st.st_dev;
	core.dst_dev = 0;
	assert_int_equal(plan_build(&plan, &job), 0);
	assert_ptr_not_equal(plan.chain[0], &engine_sendfile);
}

/*
 * Engines that may share blocks are kept out when sharing is unwanted,
 * but for copy_file_range where the filesystem cannot share.
 */
static void
test_auto_without_sharing(void **state)
{
	const enum mapcp_reflink reflink[] = { MAPCP_REFLINK_NEVER,
					       MAPCP_REFLINK_AUTO };
	const enum mapcp_sparse sparse[] = { MAPCP_SPARSE_AUTO,
					     MAPCP_SPARSE_NEVER };
	struct plan plan;

	(void)state;
	for (int i = 0; i < 2; i++) {
		opts.reflink = reflink[i];
		opts.sparse = sparse[i];
		assert_int_equal(plan_build(&plan, &job), 0);
		assert_false(in_chain(&plan, &engine_reflink));
		if (scratch_copies_only()) {
			assert_ptr_equal(plan.chain[0],
					 &engine_copy_file_range);
		} else {
			assert_ptr_equal(plan.chain[0], &engine_rw);
			for (unsigned int k = 0; k < plan.n; k++)
				assert_false(plan.chain[k]->flags &
					     ENGINE_MAY_SHARE);
		}
	}
	opts.reflink = MAPCP_REFLINK_ALWAYS;
	opts.sparse = MAPCP_SPARSE_AUTO;
	assert_int_equal(plan_build(&plan, &job), 0);
	assert_int_equal(plan.n, 1);
	assert_ptr_equal(plan.chain[0], &engine_reflink);
	assert_string_equal(plan.why, "--reflink=always");
}

/* A fallback keeps the engine's own words on why it could not copy. */
static void
test_fallback_note(void **state)
{
	struct plan plan;

	(void)state;
	opts.engine = "reflink,rw";
	assert_int_equal(plan_build(&plan, &job), 0);
	assert_int_equal(plan_run(&plan, &job), 0);
	assert_string_equal(report.engine, "rw");
	if (report.nfallbacks == 0) { /* this filesystem clones */
		fprintf(stderr, "# SKIP: %s can clone\n", scratch);
		skip();
	}
	assert_string_equal(report.fallback[0].engine, "reflink");
	assert_non_null(report.fallback[0].note);
	assert_true(files_equal(path_in("src"), path_in("dst")));
}

static void
test_list_and_stream(void **state)
{
	struct plan plan;

	(void)state;
	opts.engine = "mmap,rw";
	assert_int_equal(plan_build(&plan, &job), 0);
	assert_int_equal(plan.n, 2);
	assert_ptr_equal(plan.chain[0], &engine_mmap);
	assert_ptr_equal(plan.chain[1], &engine_rw);
	opts.engine = "mmap,nope";
	assert_int_equal(plan_build(&plan, &job), -EINVAL);
	opts.engine = "mmap";
	job.stream = true; /* whatever was asked */
	assert_int_equal(plan_build(&plan, &job), 0);
	assert_int_equal(plan.n, 1);
	assert_ptr_equal(plan.chain[0], &engine_rw);
	job.stream = false;
}

static void
test_fallback_errors(void **state)
{
	const int yes[] = {
		EOPNOTSUPP, ENOSYS, EXDEV, EINVAL, ENODEV, ENODATA
	};
	const int no[] = { EIO, ENOSPC, EDQUOT, EACCES, EPERM, EFBIG, EBADF };

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(plan_may_fall_back(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(plan_may_fall_back(no[i]));
}

/* Run the chain "fail,rw" with fail returning err after `after` bytes. */
static int
run_fail_then_rw(int err, off_t after)
{
	struct plan plan;

	opts.engine = "fail,rw";
	opts.fail_errno = err;
	opts.fail_after = after;
	assert_int_equal(plan_build(&plan, &job), 0);
	return plan_run(&plan, &job);
}

static void
test_falls_back_before_first_byte(void **state)
{
	(void)state;
	assert_int_equal(run_fail_then_rw(EXDEV, 0), 0);
	assert_string_equal(report.engine, "rw");
	assert_int_equal(report.nfallbacks, 1);
	assert_string_equal(report.fallback[0].engine, "fail");
	assert_int_equal(report.fallback[0].err, EXDEV);
	assert_int_equal(report.step, MAPCP_STEP_NONE);
	assert_int_equal(job.copied, SIZE);
	assert_true(files_equal(path_in("src"), path_in("dst")));
}

static void
test_no_fallback_after_a_byte(void **state)
{
	(void)state;
	assert_int_equal(run_fail_then_rw(EXDEV, 4096), -EXDEV);
	assert_string_equal(report.engine, "fail");
	assert_int_equal(report.nfallbacks, 0);
	assert_int_equal(report.step, MAPCP_STEP_WRITE);
	assert_int_equal(job.copied, 4096);
}

static void
test_no_fallback_on_real_errors(void **state)
{
	(void)state;
	assert_int_equal(run_fail_then_rw(EIO, 0), -EIO);
	assert_int_equal(report.nfallbacks, 0);
	assert_int_equal(run_fail_then_rw(ENOSPC, 0), -ENOSPC);
	assert_int_equal(report.nfallbacks, 0);
	assert_int_equal(job.copied, 0);
}

static void
test_last_engine_error_is_final(void **state)
{
	struct plan plan;

	(void)state;
	opts.engine = "fail";
	opts.fail_errno = EXDEV;
	opts.fail_after = 0;
	assert_int_equal(plan_build(&plan, &job), 0);
	assert_int_equal(plan_run(&plan, &job), -EXDEV);
	assert_int_equal(report.err, EXDEV);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auto_chain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_auto_without_sharing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_note, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_and_stream, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fallback_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_falls_back_before_first_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fallback_after_a_byte,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fallback_on_real_errors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_engine_error_is_final,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
