/*
 * What threads copying one tree share with the caller: the progress
 * counters (atomics, and the current file's name under a mutex) and the
 * -i question, asked one at a time.
 */
#include <pthread.h>
#include <stdio.h>

#include "internal.h"

void
progress_start(const struct mapcp_opts *opts, const char *path)
{
	struct mapcp_progress *p = opts->progress;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	snprintf(p->current, sizeof(p->current), "%s", path);
	pthread_mutex_unlock(&p->lock);
}

void
progress_done(const struct mapcp_opts *opts)
{
	if (opts->progress != NULL)
		opts->progress->files++;
}

bool
ask_user(const struct mapcp_opts *opts, const char *dst)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	bool yes;

	pthread_mutex_lock(&lock);
	yes = opts->ask(dst, opts->ask_arg);
	pthread_mutex_unlock(&lock);
	return yes;
}
