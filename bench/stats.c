/*
 * mapcp-bench's statistics: see stats.h. Small n (runs of one command), so
 * sorting a copy is the simplest correct median.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
stats_median(const double *v, size_t n)
{
	double *s, m;

	if (n == 0 || (s = malloc(n * sizeof(*s))) == NULL)
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

/* The median absolute deviation of v[0..n) around med. */
static double
mad(const double *v, size_t n, double med)
{
	double *d = malloc(n * sizeof(*d)), m;

	if (d == NULL)
		return NAN;
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(v[i] - med);
	m = stats_median(d, n);
	free(d);
	return m;
}

double
stats_modified_z(const double *v, size_t n, double x)
{
	double med = stats_median(v, n), m = mad(v, n, med);

	if (n == 0 || !(m > 0))
		return 0;
	return 0.6745 * (x - med) / m;
}

void
stats_summarize(const double *v, size_t n, struct summary *s)
{
	double sum = 0, sq = 0, med, m;

	memset(s, 0, sizeof(*s));
	s->n = n;
	if (n == 0) {
		s->min = s->max = s->median = s->mean = s->stddev = NAN;
		return;
	}
	s->min = s->max = v[0];
	for (size_t i = 0; i < n; i++) {
		sum += v[i];
		s->min = v[i] < s->min ? v[i] : s->min;
		s->max = v[i] > s->max ? v[i] : s->max;
	}
	s->mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		sq += (v[i] - s->mean) * (v[i] - s->mean);
	s->stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
	med = s->median = stats_median(v, n);
	m = mad(v, n, med);
	for (size_t i = 0; m > 0 && i < n; i++)
		if (fabs(0.6745 * (v[i] - med) / m) > OUTLIER_Z)
			s->outliers++;
}

void
stats_paired(const double *a, const double *b, const int *ok, size_t n,
	     struct paired *p)
{
	double *r = malloc((n ? n : 1) * sizeof(*r));

	p->n = p->below = 0;
	p->median = p->min = p->max = NAN;
	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		if ((ok == NULL || ok[i]) && b[i] > 0)
			r[p->n++] = a[i] / b[i];
	for (size_t i = 0; i < p->n; i++) {
		p->below += r[i] < 1;
		p->min = i == 0 || r[i] < p->min ? r[i] : p->min;
		p->max = i == 0 || r[i] > p->max ? r[i] : p->max;
	}
	p->median = stats_median(r, p->n);
	free(r);
}

double
stats_paired_ratio(const double *a, const double *b, const int *ok, size_t n)
{
	struct paired p;

	stats_paired(a, b, ok, n, &p);
	return p.median;
}
