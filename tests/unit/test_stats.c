/*
 * Unit tests for mapcp-bench's statistics: medians, the modified z-score
 * and its outliers, summaries, and ratios of paired runs with their range.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats.h"

static void
test_median(void **state)
{
	const double odd[] = { 5, 1, 3 };
	const double even[] = { 4, 1, 3, 2 };
	const double one[] = { 7 };

	(void)state;
	assert_float_equal(stats_median(odd, 3), 3, 1e-12);
	assert_float_equal(stats_median(even, 4), 2.5, 1e-12);
	assert_float_equal(stats_median(one, 1), 7, 1e-12);
	assert_true(isnan(stats_median(odd, 0)));
	/* The input is left as it was. */
	assert_float_equal(odd[0], 5, 0);
	assert_float_equal(even[0], 4, 0);
}

static void
test_modified_z(void **state)
{
	/* median 10, absolute deviations 0 1 1 2 2 -> MAD 1 */
	const double v[] = { 10, 11, 9, 12, 8 };
	const double flat[] = { 3, 3, 3, 3 };

	(void)state;
	assert_float_equal(stats_modified_z(v, 5, 10), 0, 1e-12);
	assert_float_equal(stats_modified_z(v, 5, 12), 2 * 0.6745, 1e-12);
	assert_float_equal(stats_modified_z(v, 5, 4), -6 * 0.6745, 1e-12);
	/* No spread: no score, so no outlier. */
	assert_float_equal(stats_modified_z(flat, 4, 100), 0, 0);
}

static void
test_summary(void **state)
{
	/* One wild run among steady ones, as a noisy machine gives. */
	const double v[] = { 0.27, 0.26, 0.28, 0.27, 2.10, 0.27, 0.26 };
	const double steady[] = { 1.0, 1.1, 0.9, 1.05, 0.95 };
	struct summary s;

	(void)state;
	stats_summarize(v, 7, &s);
	assert_int_equal(s.n, 7);
	assert_float_equal(s.min, 0.26, 1e-12);
	assert_float_equal(s.max, 2.10, 1e-12);
	assert_float_equal(s.median, 0.27, 1e-12);
	assert_float_equal(s.mean, 3.71 / 7, 1e-9);
	assert_true(s.stddev > 0.6 && s.stddev < 0.7);
	assert_int_equal(s.outliers, 1);
	stats_summarize(steady, 5, &s);
	assert_int_equal(s.outliers, 0);
	stats_summarize(steady, 1, &s);
	assert_float_equal(s.stddev, 0, 0);
	stats_summarize(steady, 0, &s);
	assert_int_equal(s.n, 0);
	assert_true(isnan(s.median));
}

static void
test_paired_ratio(void **state)
{
	/* The machine slows down over time; pairs cancel the drift. */
	const double a[] = { 0.8, 1.6, 2.4, 3.2, 4.0 };
	const double b[] = { 1.0, 2.0, 3.0, 4.0, 5.0 };
	const int ok[] = { 1, 1, 0, 1, 1 };
	/* A twice as fast in most pairs; the ratio of medians says 1.5. */
	const double c[] = { 1, 2, 3, 4, 5 };
	const double d[] = { 2, 4, 6, 1, 1 };
	const double e[] = { 1.0, 0.5 };
	const double zero[] = { 0.0, 1.0 };
	const int none[] = { 0, 0 };

	(void)state;
	assert_float_equal(stats_paired_ratio(a, b, NULL, 5), 0.8, 1e-12);
	assert_float_equal(stats_paired_ratio(a, b, ok, 5), 0.8, 1e-12);
	assert_float_equal(stats_paired_ratio(c, d, NULL, 5), 0.5, 1e-12);
	assert_float_equal(stats_median(c, 5) / stats_median(d, 5), 1.5, 1e-12);
	/* Runs whose baseline took no time are left out. */
	assert_float_equal(stats_paired_ratio(e, zero, NULL, 2), 0.5, 1e-12);
	assert_true(isnan(stats_paired_ratio(e, zero, none, 2)));
}

static void
test_paired(void **state)
{
	/* Faster in three rounds of four, slower in one: ratios .5 .5 .5 2 */
	const double a[] = { 1, 2, 3, 4 };
	const double b[] = { 2, 4, 6, 2 };
	const int ok[] = { 1, 1, 0, 1 };
	struct paired p;

	(void)state;
	stats_paired(a, b, NULL, 4, &p);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.below, 3);
	assert_float_equal(p.median, 0.5, 1e-12);
	assert_float_equal(p.min, 0.5, 1e-12);
	assert_float_equal(p.max, 2, 1e-12);
	/* The pairs left out count nowhere. */
	stats_paired(a, b, ok, 4, &p);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.below, 2);
	assert_float_equal(p.max, 2, 1e-12);
	stats_paired(a, b, ok, 0, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.below, 0);
	assert_true(isnan(p.median) && isnan(p.min) && isnan(p.max));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_modified_z),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_paired_ratio),
		cmocka_unit_test(test_paired),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
