/*
 * One command-line SOURCE at a time, within a session that lasts for the
 * whole command, as one cp command does: a directory goes to the tree
 * walker (walk.c), a symlink or special file is made as itself, a file
 * with other names is linked to an earlier copy of it (--preserve=links),
 * and anything else is copy_file_at()'s. Every entry is reported through
 * opts->on_file, one at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree.h"

void
emit(struct mapcp_session *s, struct mapcp_report *r, int ret)
{
	if (ret < 0)
		atomic_fetch_add(&s->failures, 1);
	if (s->opts->on_file == NULL)
		return;
	pthread_mutex_lock(&s->out);
	s->opts->on_file(r, s->opts->on_file_arg);
	pthread_mutex_unlock(&s->out);
}

void
entry_report(struct mapcp_report *r, const char *src, const char *dst,
	     const char *what)
{
	memset(r, 0, sizeof(*r));
	r->src = src;
	r->dst = dst;
	r->what = what;
}

int
report_fail(struct mapcp_report *r, enum mapcp_step step, int err)
{
	r->step = step;
	r->err = err > 0 ? err : EIO;
	return -r->err;
}

bool
mapcp_follows(const struct mapcp_opts *o, bool top)
{
	if (o->deref == MAPCP_DEREF_ALWAYS)
		return true;
	return top && (o->deref == MAPCP_DEREF_ARGS ||
		       (o->deref == MAPCP_DEREF_DEFAULT &&
			!(o->flags & MAPCP_RECURSIVE)));
}

int
session_top(struct mapcp_session *s, const char *path, int fd,
	    unsigned int *index)
{
	struct top t = { .path = strdup(path) };
	struct stat st;

	if (t.path == NULL)
		return -ENOMEM;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		t.dev = st.st_dev;
		t.ino = st.st_ino;
	}
	if (s->ntops == s->maxtops) {
		unsigned int n = s->maxtops ? 2 * s->maxtops : 8;
		struct top *grown = realloc(s->tops, n * sizeof(*grown));

		if (grown == NULL) {
			free(t.path);
			return -ENOMEM;
		}
		s->tops = grown;
		s->maxtops = n;
	}
	*index = s->ntops;
	s->tops[s->ntops++] = t;
	return 0;
}

struct mapcp_session *
mapcp_session_new(const struct mapcp_opts *opts)
{
	struct mapcp_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->opts = opts;
	s->link_dirfd = -1;
	s->euid = geteuid();
	pthread_mutex_init(&s->out, NULL);
	atomic_init(&s->failures, 0);
	return s;
}

unsigned long
mapcp_session_free(struct mapcp_session *s)
{
	unsigned long failures;

	if (s == NULL)
		return 0;
	failures = atomic_load(&s->failures);
	idmap_free(&s->links, free);
	idmap_free(&s->made, NULL);
	for (unsigned int i = 0; i < s->ntops; i++)
		free(s->tops[i].path);
	free(s->tops);
	if (s->link_dir != NULL)
		close(s->link_dirfd);
	free(s->link_dir);
	pthread_mutex_destroy(&s->out);
	free(s);
	return failures;
}

/* dst without trailing slashes ("e/" is the directory e), malloc'd. */
static char *
without_slashes(const char *dst)
{
	size_t n = strlen(dst);

	while (n > 1 && dst[n - 1] == '/')
		n--;
	return strndup(dst, n);
}

/* A directory SOURCE with -r: the tree walker's. */
static void
copy_dir(struct mapcp_session *s, const char *src, const char *dst,
	 const struct stat *st)
{
	char *bare = without_slashes(dst);
	struct place d;
	int dirfd = -1;

	if (bare == NULL) {
		struct mapcp_report r;

		entry_report(&r, src, dst, "directory");
		emit(s, &r, report_fail(&r, MAPCP_STEP_MKDIR, ENOMEM));
		return;
	}
	place_of_path(bare, &d, &dirfd);
	d.path = dst;
	tree_copy(s, src, &d, st);
	if (dirfd >= 0)
		close(dirfd);
	free(bare);
}

/* A file SOURCE whose copy later names may be linked to. */
static void
copy_top_linked(struct mapcp_session *s, const struct place *src,
		const struct place *dst, const struct stat *st)
{
	unsigned int top;

	if (session_top(s, dst->path, -1, &top) < 0) {
		struct mapcp_report r;

		emit(s, &r, copy_file_at(src, dst, 0, s->opts, &r));
		return;
	}
	copy_linked(s, src, dst, st, 0, top, "");
}

unsigned long
mapcp_session_copy(struct mapcp_session *s, const char *src, const char *dst)
{
	const struct mapcp_opts *o = s->opts;
	bool recursive = o->flags & MAPCP_RECURSIVE;
	unsigned long before = atomic_load(&s->failures);
	struct place sp = { .dirfd = AT_FDCWD, .name = src, .path = src }, d;
	struct mapcp_report r;
	struct stat st;
	int dirfd;

	if ((mapcp_follows(o, true) ? stat(src, &st) : lstat(src, &st)) < 0) {
		entry_report(&r, src, dst, NULL);
		progress_done(o);
		emit(s, &r, report_fail(&r, MAPCP_STEP_STAT_SRC, errno));
		return atomic_load(&s->failures) - before;
	}
	if (S_ISDIR(st.st_mode) && recursive) {
		copy_dir(s, src, dst, &st);
		return atomic_load(&s->failures) - before;
	}
	place_of_path(dst, &d, &dirfd);
	if (S_ISLNK(st.st_mode) ||
	    (recursive && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)))
		copy_other(s, &sp, &d, &st);
	else if (S_ISREG(st.st_mode) && links_wanted(o, &st, true))
		copy_top_linked(s, &sp, &d, &st);
	else
		emit(s, &r, copy_file_at(&sp, &d, 0, o, &r));
	if (dirfd >= 0)
		close(dirfd);
	return atomic_load(&s->failures) - before;
}

unsigned long
mapcp_copy(const char *src, const char *dst, const struct mapcp_opts *opts)
{
	struct mapcp_session *s = mapcp_session_new(opts);
	struct mapcp_report r;

	if (s != NULL) {
		mapcp_session_copy(s, src, dst);
		return mapcp_session_free(s);
	}
	entry_report(&r, src, dst, NULL);
	report_fail(&r, MAPCP_STEP_OPEN_SRC, ENOMEM);
	if (opts->on_file != NULL)
		opts->on_file(&r, opts->on_file_arg);
	return 1;
}
