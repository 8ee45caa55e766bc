/*
 * Running one measured command: fork, execvp, wait4. Everything mapcp-bench
 * measures, mapcp's engines and other programs alike, is a child process
 * timed the same way.
 */
#ifndef MAPCP_BENCH_RUNNER_H
#define MAPCP_BENCH_RUNNER_H

#include <stddef.h>

struct measure {
	double wall;      /* seconds, CLOCK_MONOTONIC around fork and wait4 */
	double user, sys; /* seconds, from wait4's rusage */
	long minflt, majflt;
	long nvcsw, nivcsw;
	long maxrss_kb;
	long inblock; /* 512-byte blocks read from storage: data and program */
	int status;   /* as wait4 gives it */
};

/*
 * Run argv with stdin from /dev/null. The child's standard output goes to
 * out (up to outsize bytes, NUL-terminated; NULL to discard it) and the
 * first line of its standard error to err. Returns 0 when the command ran
 * (whatever its exit status, which is in m->status), -errno otherwise.
 */
int run_measured(char *const argv[], char *out, size_t outsize, char *err,
		 size_t errsize, struct measure *m);

/* "exit status 1", "killed by signal 9": what a wait status means. */
const char *describe_status(int status, char *buf, size_t size);

#endif
