/*
 * Statistics for mapcp-bench: order statistics, the modified z-score that
 * hyperfine uses to flag outliers, and ratios between commands measured
 * run for run. Pure functions on arrays of doubles; no I/O.
 */
#ifndef MAPCP_BENCH_STATS_H
#define MAPCP_BENCH_STATS_H

#include <stddef.h>

struct summary {
	size_t n;
	double min, max, median, mean, stddev; /* stddev: sample (n - 1) */
	size_t outliers; /* |modified z-score| > OUTLIER_Z */
};

/* Modified z-scores beyond this are outliers (Iglewicz and Hoaglin). */
#define OUTLIER_Z 3.5

/* The median of v[0..n), which is left unchanged; NaN if n is 0. */
double stats_median(const double *v, size_t n);

/*
 * The modified z-score of x among v[0..n): 0.6745 (x - median) / MAD, where
 * MAD is the median absolute deviation; 0 when the MAD is 0.
 */
double stats_modified_z(const double *v, size_t n, double x);

/* Fill s from v[0..n). */
void stats_summarize(const double *v, size_t n, struct summary *s);

/*
 * The median over i of a[i] / b[i], for the pairs where both are present
 * (ok[i], or every i if ok is NULL) and b[i] > 0; NaN if there are none.
 * The ratio of medians would hide run-to-run drift that paired runs cancel.
 */
double stats_paired_ratio(const double *a, const double *b, const int *ok,
			  size_t n);

/* The same ratios, summed up: how many, their median and range, and in how
 * many rounds a was the faster. */
struct paired {
	size_t n;                /* pairs */
	size_t below;            /* pairs whose ratio is below 1 */
	double median, min, max; /* NaN if n is 0 */
};

/* Fill p from the pairs of a and b as stats_paired_ratio() takes them. */
void stats_paired(const double *a, const double *b, const int *ok, size_t n,
		  struct paired *p);

#endif
