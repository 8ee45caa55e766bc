/*
 * What threads copying one tree share with the caller: the progress
 * counters (atomics, and the current file's name under a mutex) and the
 * -i question, asked one at a time.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"

/*
 * The file now being copied, for the display. Only a name on a status
 * line: a thread that finds another writing it, or the display reading
 * it, goes on with its copy rather than wait its turn.
 */
void
progress_start(const struct mapcp_opts *opts, const char *path)
{
	struct mapcp_progress *p = opts->progress;
	size_t n;

	if (p == NULL || pthread_mutex_trylock(&p->lock) != 0)
		return;
	n = strnlen(path, sizeof(p->current) - 1);
	memcpy(p->current, path, n);
	p->current[n] = '\0';
	pthread_mutex_unlock(&p->lock);
}

void
progress_done(const struct mapcp_opts *opts)
{
	if (opts->progress != NULL)
		opts->progress->files++;
}

/*
 * What a display counts as done is what the engines write: data, not
 * holes. A file with fewer blocks than its size has holes, and its
 * blocks are the estimate (a stat(2) has no more to say, and an lseek
 * walk of every sparse file would slow the scan); rounding to blocks
 * makes it a little high, which only a file whose last block is part
 * full can show, so never more than the file's size. Links and
 * --attributes-only write no data at all.
 */
unsigned long long
progress_estimate(const struct mapcp_opts *opts, const struct stat *st)
{
	unsigned long long size = (unsigned long long)st->st_size;
	unsigned long long blocks = (unsigned long long)st->st_blocks * 512;

	/* links (-l, -s) and --attributes-only copy no data */
	if (opts->make != MAPCP_MAKE_COPY ||
	    (opts->flags & MAPCP_ATTRIBUTES_ONLY))
		return 0;
	if (opts->sparse == MAPCP_SPARSE_NEVER || blocks >= size)
		return size;
	return blocks;
}

void
progress_skip(const struct mapcp_opts *opts, const struct stat *st)
{
	if (opts->progress != NULL && S_ISREG(st->st_mode))
		opts->progress->skipped_bytes += progress_estimate(opts, st);
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
