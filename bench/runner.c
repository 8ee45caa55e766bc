/*
 * fork(), execvp() and wait4(): the child's rusage (CPU time, page faults,
 * context switches, max RSS, blocks read) and the wall time on CLOCK_MONOTONIC.
 * Its output is captured in memfds, so a chatty child can never block on a full
 * pipe while we wait for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mapcp.h" /* mapcp_monotonic() */
#include "runner.h"

static double
seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Read up to size - 1 bytes of fd from its start; NUL-terminate. */
static void
slurp(int fd, char *buf, size_t size, int first_line)
{
	ssize_t n;

	if (buf == NULL || size == 0)
		return;
	n = pread(fd, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	if (first_line)
		buf[strcspn(buf, "\n")] = '\0';
}

static void
child(char *const argv[], int out, int err)
{
	int null = open("/dev/null", O_RDWR);

	if (null >= 0)
		dup2(null, STDIN_FILENO);
	dup2(out >= 0 ? out : null, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

int
run_measured(char *const argv[], char *out, size_t outsize, char *err,
	     size_t errsize, struct measure *m)
{
	int ofd = out ? memfd_create("mapcp-bench-out", MFD_CLOEXEC) : -1;
	int efd = memfd_create("mapcp-bench-err", MFD_CLOEXEC);
	struct rusage ru;
	double t0;
	pid_t pid;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	if (efd < 0 || (out && ofd < 0)) {
		ret = -errno;
		goto out;
	}
	t0 = mapcp_monotonic();
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (pid == 0)
		child(argv, ofd, efd);
	while (wait4(pid, &m->status, 0, &ru) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			goto out;
		}
	}
	m->wall = mapcp_monotonic() - t0;
	m->user = seconds(ru.ru_utime);
	m->sys = seconds(ru.ru_stime);
	m->minflt = ru.ru_minflt;
	m->majflt = ru.ru_majflt;
	m->nvcsw = ru.ru_nvcsw;
	m->nivcsw = ru.ru_nivcsw;
	m->maxrss_kb = ru.ru_maxrss;
	m->inblock = ru.ru_inblock;
	slurp(ofd, out, outsize, 0);
	slurp(efd, err, errsize, 1);
out:
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	return ret;
}

const char *
describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "wait status %#x", (unsigned int)status);
	return buf;
}
