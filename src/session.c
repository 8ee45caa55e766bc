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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "tree.h"

/*
 * MAPCP_IN_ORDER. The walk hands a tree's files to workers in batches and
 * reports its directories itself, so reports finish out of the walk's
 * order; -v wants cp's. Each entry takes a ticket where the walk meets
 * it, and a report that is early is copied and held until every earlier
 * one is out. Workers are ahead of the walk's oldest file by their
 * batches at most, unless one file takes long: then the held reports
 * grow, and a worker with HELD_MAX held waits its turn (for up to
 * HELD_WAIT, never forever: the oldest ticket is always in a batch that
 * some thread is copying, since batches are taken in order, but a wait
 * that could never end is not worth the proof). The walking thread
 * never waits: it holds the files it has not yet handed out.
 */
#define HELD_MAX  4096
#define HELD_WAIT 1.0 /* seconds */

struct held {
	struct held *next;
	unsigned long long ticket;
	struct mapcp_report r;
	char paths[]; /* r.src and r.dst point here */
};

static _Thread_local bool may_wait;

void
emit_may_wait(void)
{
	may_wait = true;
}

unsigned long long
session_ticket(struct mapcp_session *s)
{
	return atomic_fetch_add(&s->tickets, 1);
}

static void
deliver(struct mapcp_session *s, const struct mapcp_report *r)
{
	s->opts->on_file(r, s->opts->on_file_arg);
}

/* Keep a copy of r until its turn; false without memory. */
static bool
hold(struct mapcp_session *s, const struct mapcp_report *r,
     unsigned long long ticket)
{
	size_t sl = r->src ? strlen(r->src) + 1 : 0;
	size_t dl = r->dst ? strlen(r->dst) + 1 : 0;
	struct held *h = malloc(sizeof(*h) + sl + dl), **at = &s->held;

	if (h == NULL)
		return false;
	h->ticket = ticket;
	h->r = *r;
	if (r->src != NULL)
		h->r.src = memcpy(h->paths, r->src, sl);
	if (r->dst != NULL)
		h->r.dst = memcpy(h->paths + sl, r->dst, dl);
	while (*at != NULL && (*at)->ticket < ticket)
		at = &(*at)->next;
	h->next = *at;
	*at = h;
	s->nheld++;
	return true;
}

/* Send what is held and now due; all of it when all is true. */
static void
release(struct mapcp_session *s, bool all)
{
	struct held *h;

	while ((h = s->held) != NULL && (all || h->ticket <= s->next)) {
		s->held = h->next;
		s->nheld--;
		deliver(s, &h->r);
		if (h->ticket >= s->next)
			s->next = h->ticket + 1;
		free(h);
	}
	pthread_cond_broadcast(&s->turn);
}

/* A worker with too much held waits its turn, HELD_WAIT at most. */
static void
wait_turn(struct mapcp_session *s, unsigned long long ticket)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)HELD_WAIT;
	while (ticket > s->next && s->nheld >= HELD_MAX &&
	       pthread_cond_timedwait(&s->turn, &s->out, &until) == 0)
		;
}

void
emit_at(struct mapcp_session *s, struct mapcp_report *r, int ret,
	unsigned long long ticket)
{
	/* A signal is ending the process: its temporaries are gone, say nothing
	 */
	temp_dying_wait();
	ret = report_checked(r, ret);
	if (ret < 0)
		atomic_fetch_add(&s->failures, 1);
	if (s->opts->on_file == NULL)
		return;
	pthread_mutex_lock(&s->out);
	if (!(s->opts->flags & MAPCP_IN_ORDER)) {
		deliver(s, r);
	} else {
		if (may_wait)
			wait_turn(s, ticket);
		if (ticket <= s->next || !hold(s, r, ticket)) {
			deliver(s, r); /* due, or no memory to wait with */
			if (ticket >= s->next)
				s->next = ticket + 1;
			release(s, false);
		}
	}
	pthread_mutex_unlock(&s->out);
}

void
emit(struct mapcp_session *s, struct mapcp_report *r, int ret)
{
	emit_at(s, r, ret, session_ticket(s));
}

void
emit_flush(struct mapcp_session *s)
{
	pthread_mutex_lock(&s->out);
	release(s, true);
	s->next = s->tickets;
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
	pthread_condattr_t attr;

	pthread_mutex_init(&s->out, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->turn, &attr);
	pthread_condattr_destroy(&attr);
	atomic_init(&s->failures, 0);
	return s;
}

static void
given_free(void *v)
{
	for (struct given *g = v, *next; g != NULL; g = next) {
		next = g->next;
		free(g->dst);
		free(g->base);
		free(g);
	}
}

unsigned long
mapcp_session_free(struct mapcp_session *s)
{
	unsigned long failures;

	if (s == NULL)
		return 0;
	failures = atomic_load(&s->failures);
	idmap_free(&s->given, given_free);
	idmap_free(&s->links, free);
	idmap_free(&s->made, NULL);
	for (unsigned int i = 0; i < s->ntops; i++)
		free(s->tops[i].path);
	free(s->tops);
	if (s->link_dir != NULL)
		close(s->link_dirfd);
	free(s->link_dir);
	emit_flush(s);
	pthread_mutex_destroy(&s->out);
	pthread_cond_destroy(&s->turn);
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

/* A file SOURCE whose copy later names may be linked to. */
static void
copy_top_linked(struct mapcp_session *s, const struct place *src,
		const struct place *dst, const struct stat *st, bool as_itself)
{
	unsigned int top;

	if (session_top(s, dst->path, -1, &top) < 0) {
		struct mapcp_report r;

		if (as_itself)
			copy_other(s, src, dst, st);
		else
			emit(s, &r, copy_file_at(src, dst, 0, s->opts, &r));
		return;
	}
	copy_linked(s, src, dst, st, as_itself ? COPY_AS_ITSELF : 0, top, "");
}

/* SOURCE as cp sees it on the command line: followed or not. */
static int
stat_top(struct mapcp_session *s, const char *src, const char *dst,
	 struct stat *st)
{
	struct mapcp_report r;

	if (mapcp_stat_source(s->opts, src, st) == 0)
		return 0;
	entry_report(&r, src, dst, NULL);
	progress_done(s->opts);
	emit(s, &r, report_fail(&r, MAPCP_STEP_STAT_SRC, errno));
	return -1;
}

bool
mapcp_dest_not_older(const struct stat *dst, const struct stat *src)
{
	return dst->st_mtim.tv_sec > src->st_mtim.tv_sec ||
	       (dst->st_mtim.tv_sec == src->st_mtim.tv_sec &&
		dst->st_mtim.tv_nsec >= src->st_mtim.tv_nsec);
}

int
mapcp_stat_source(const struct mapcp_opts *o, const char *path, struct stat *st)
{
	return mapcp_follows(o, true) ? stat(path, st) : lstat(path, st);
}

/* The key of DEST's path in s->given. */
static XXH128_hash_t
dst_key(const char *dst)
{
	return XXH3_128bits(dst, strlen(dst));
}

/* SOURCE src copied to dst, as it is before the copy; NULL without memory. */
static struct given *
given_new(struct mapcp_session *s, const char *src, const char *dst)
{
	struct given *g = calloc(1, sizeof(*g));
	size_t end = strlen(src), start;
	char *dir;

	if (g == NULL)
		return NULL;
	while (end > 1 && src[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && src[start - 1] != '/')
		start--;
	g->dst = strdup(dst);
	g->base = strndup(src + start, end - start);
	dir = start ? strndup(src, start) : strdup(".");
	if (g->dst == NULL || g->base == NULL || dir == NULL) {
		free(dir);
		given_free(g);
		return NULL;
	}
	g->src_ok = mapcp_stat_source(s->opts, src, &g->src) == 0 &&
		    stat(dir, &g->parent) == 0;
	free(dir);
	g->pre_ok = lstat(dst, &g->pre) == 0;
	return g;
}

/*
 * cp's rules across SOURCEs, for me, about to be copied: true if it is
 * to be left, as given before (a warning) or aimed at what an earlier
 * one made (a failure); both reported.
 */
static bool
seen_before(struct mapcp_session *s, const char *src, const struct given *me,
	    const struct given *earlier)
{
	const struct mapcp_opts *o = s->opts;
	struct mapcp_report r;

	for (const struct given *g = earlier; g != NULL; g = g->next) {
		if (strcmp(g->dst, me->dst) != 0)
			continue;
		/* with backups, cp copies it again: as a later SOURCE */
		if (me->src_ok && g->src_ok &&
		    (o->backup == MAPCP_BACKUP_NONE ||
		     S_ISDIR(me->src.st_mode)) &&
		    same_file(&me->src, &g->src) &&
		    same_file(&me->parent, &g->parent) &&
		    strcmp(me->base, g->base) == 0) {
			entry_report(&r, src, me->dst, NULL);
			r.repeated =
				S_ISDIR(me->src.st_mode) ? "directory" : "file";
			r.skipped = true;
			emit(s, &r, 0);
			return true;
		}
		if (!g->made || !me->pre_ok || !me->src_ok ||
		    !same_file(&g->post, &me->pre) ||
		    S_ISDIR(me->pre.st_mode) || S_ISDIR(me->src.st_mode))
			continue;
		/* numbered backups keep every copy: cp lets it be replaced */
		if (o->backup == MAPCP_BACKUP_NUMBERED &&
		    !S_ISLNK(me->pre.st_mode))
			continue;
		/* -n and -u keep DEST first, quietly, as in cp */
		if ((o->flags & MAPCP_NO_CLOBBER) ||
		    ((o->flags & MAPCP_UPDATE) &&
		     mapcp_dest_not_older(&me->pre, &me->src)))
			return false;
		entry_report(&r, src, me->dst, NULL);
		emit(s, &r,
		     report_fail(&r,
				 S_ISLNK(me->pre.st_mode) &&
						 !S_ISLNK(me->src.st_mode)
					 ? MAPCP_STEP_THROUGH_NEW_LINK
					 : MAPCP_STEP_OVER_NEW,
				 EEXIST));
		return true;
	}
	return false;
}

/*
 * Copy src to dst with copy(), under the rules across SOURCEs: what it
 * made is remembered for the later ones. Without memory for the record,
 * the copy is made without the rules, as a lone SOURCE would be.
 */
static void
copy_given(struct mapcp_session *s, const char *src, const char *dst,
	   void (*copy)(struct mapcp_session *, const char *, const char *,
			const char *),
	   const char *arg)
{
	XXH128_hash_t k = dst_key(dst);
	struct given *g = given_new(s, src, dst);
	struct given *earlier = idmap_get(&s->given, k.high64, k.low64);
	unsigned long before = atomic_load(&s->failures);

	if (g != NULL && seen_before(s, src, g, earlier)) {
		given_free(g);
		return;
	}
	copy(s, src, dst, arg);
	if (g == NULL)
		return;
	/* Made or written by this copy: there, and not as it was */
	g->made = atomic_load(&s->failures) == before &&
		  lstat(dst, &g->post) == 0 &&
		  (!g->pre_ok || !same_file(&g->pre, &g->post) ||
		   g->pre.st_ctim.tv_sec != g->post.st_ctim.tv_sec ||
		   g->pre.st_ctim.tv_nsec != g->post.st_ctim.tv_nsec);
	g->next = earlier;
	if (idmap_put(&s->given, k.high64, k.low64, g) < 0) {
		g->next = NULL;
		given_free(g);
	}
}

/* One command-line SOURCE (st, as stat_top() saw it) to the place d. */
static void
copy_operand(struct mapcp_session *s, const char *src, const struct place *d,
	     const struct stat *st)
{
	const struct mapcp_opts *o = s->opts;
	bool recursive = o->flags & MAPCP_RECURSIVE;
	struct place sp = { .dirfd = AT_FDCWD, .name = src, .path = src };
	bool as_itself =
		S_ISLNK(st->st_mode) ||
		(recursive && !S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) &&
		 !(o->flags & MAPCP_COPY_CONTENTS));
	struct mapcp_report r;

	if (S_ISDIR(st->st_mode) && recursive)
		tree_copy(s, src, d, st);
	else if (o->make != MAPCP_MAKE_COPY && !S_ISDIR(st->st_mode))
		link_source(s, &sp, d, st, mapcp_follows(o, true));
	else if (links_wanted(o, st, true) &&
		 (as_itself || S_ISREG(st->st_mode)))
		copy_top_linked(s, &sp, d, st, as_itself);
	else if (as_itself)
		copy_other(s, &sp, d, st);
	else
		emit(s, &r, copy_file_at(&sp, d, 0, o, &r));
}

static void
session_copy(struct mapcp_session *s, const char *src, const char *dst,
	     const char *unused)
{
	bool tree = s->opts->flags & MAPCP_RECURSIVE;
	char *bare = NULL;
	struct place d;
	struct stat st;
	int dirfd;

	(void)unused;
	if (stat_top(s, src, dst, &st) < 0)
		return;
	/* "e/" is the directory e, to be made */
	if (S_ISDIR(st.st_mode) && tree &&
	    (bare = without_slashes(dst)) != NULL)
		place_of_path(bare, &d, &dirfd);
	else
		place_of_path(dst, &d, &dirfd);
	d.path = dst;
	copy_operand(s, src, &d, &st);
	if (dirfd >= 0)
		close(dirfd);
	free(bare);
}

unsigned long
mapcp_session_copy(struct mapcp_session *s, const char *src, const char *dst)
{
	unsigned long before = atomic_load(&s->failures);

	copy_given(s, src, dst, session_copy, NULL);
	return atomic_load(&s->failures) - before;
}

/* --parents: the directories of SOURCE's path made below DIRECTORY. */
struct parents {
	struct dir *d; /* by value: nothing points into them */
	size_t n, cap;
	int fd;  /* the deepest one open, or DIRECTORY */
	int top; /* DIRECTORY's own fd */
};

static void
parents_free(struct parents *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->d[i].fd[DST] >= 0)
			close(p->d[i].fd[DST]);
		free(p->d[i].name);
	}
	free(p->d);
	if (p->top >= 0)
		close(p->top);
}

/*
 * Make or open the component name of SOURCE's path (its prefix up to
 * there: sprefix; for messages, dprefix) in p->fd, as the walk makes a
 * directory: no symlink followed, checked by device and inode. 0, or
 * -errno reported.
 */
static int
parent_step(struct mapcp_session *s, struct parents *p, const char *name,
	    const char *sprefix, const char *dprefix)
{
	struct dir *d = calloc(1, sizeof(*d));
	struct mapcp_report r;
	struct stat st;
	int fd;

	entry_report(&r, sprefix, dprefix, "directory");
	if (d == NULL || (d->name = strdup(name)) == NULL) {
		free(d);
		emit(s, &r, report_fail(&r, MAPCP_STEP_MKDIR, ENOMEM));
		return -ENOMEM;
	}
	d->fd[SRC] = d->fd[DST] = -1;
	if (stat(sprefix, &d->st) < 0)
		fd = report_fail(&r, MAPCP_STEP_STAT_SRC, errno);
	else if (!S_ISDIR(d->st.st_mode))
		fd = report_fail(&r, MAPCP_STEP_STAT_SRC, ENOTDIR);
	else
		fd = 0;
	if (fd < 0) {
		emit(s, &r, fd);
		free(d->name);
		free(d);
		return fd;
	}
	fd = make_dst_dir(s, p->fd, name, d, &st, &r);
	if (fd == -EEXIST)
		fd = open_dst_dir(s, p->fd, name, d, &st, &r);
	if (fd >= 0 && p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 8;
		struct dir *grown = realloc(p->d, cap * sizeof(*grown));

		if (grown == NULL) {
			close(fd);
			emit(s, &r, report_fail(&r, MAPCP_STEP_MKDIR, ENOMEM));
			free(d->name);
			free(d);
			return -ENOMEM;
		}
		p->d = grown;
		p->cap = cap;
	}
	if (fd < 0) {
		emit(s, &r, fd);
		free(d->name);
		free(d);
		return fd;
	}
	d->fd[DST] = fd;
	p->d[p->n++] = *d;
	free(d);
	p->fd = fd;
	if (p->d[p->n - 1].made) {
		r.parent = true;
		emit(s, &r, 0);
	}
	return 0;
}

/* Open DIRECTORY and walk SOURCE's directories into it. 0 or -errno. */
static int
parents_make(struct mapcp_session *s, const char *src, const char *dir,
	     const char *dst, const char *rel, struct parents *p)
{
	size_t off = (size_t)(rel - src), dir_len = strlen(dst) - strlen(rel);
	struct mapcp_report r;
	int ret = 0;

	p->top = p->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->top < 0) {
		entry_report(&r, src, dir, "directory");
		emit(s, &r, report_fail(&r, MAPCP_STEP_MKDIR, errno));
		return -r.err;
	}
	for (const char *c = rel; ret == 0 && strchr(c, '/') != NULL;) {
		size_t n = strcspn(c, "/");
		char *name = strndup(c, n);
		char *sp = strndup(src, off + (size_t)(c - rel) + n);
		char *dp = strndup(dst, dir_len + (size_t)(c - rel) + n);

		ret = name && sp && dp ? parent_step(s, p, name, sp, dp)
				       : -ENOMEM;
		free(name);
		free(sp);
		free(dp);
		c += n;
		while (*c == '/')
			c++;
	}
	return ret;
}

/* --parents, for copy_given(): src copied to dst, which is below dir. */
static void
session_copy_parents(struct mapcp_session *s, const char *src, const char *dst,
		     const char *dir)
{
	struct parents p = { .top = -1 };
	char *bare = without_slashes(src);
	const char *rel, *last;
	struct stat st;

	if (bare == NULL)
		return;
	for (rel = bare; *rel == '/'; rel++)
		;
	/* Nothing is made for a SOURCE that cannot be copied. */
	if (stat_top(s, src, dst, &st) == 0 &&
	    parents_make(s, bare, dir, dst, rel, &p) == 0) {
		struct place d = { .dirfd = p.fd, .path = dst };

		last = strrchr(rel, '/');
		d.name = last ? last + 1 : rel;
		copy_operand(s, src, &d, &st);
		/* cp's re_protect: the deepest first */
		for (size_t i = p.n; i-- > 0;) {
			struct mapcp_report r;

			entry_report(&r, NULL, dst, "directory");
			if (dir_meta(s->opts, &p.d[i], -1, &r) < 0)
				emit(s, &r, -r.err);
		}
	}
	parents_free(&p);
	free(bare);
}

unsigned long
mapcp_session_copy_parents(struct mapcp_session *s, const char *src,
			   const char *dir)
{
	unsigned long before = atomic_load(&s->failures);
	char *bare = without_slashes(src), *dst = NULL;
	const char *rel = bare;

	while (rel != NULL && *rel == '/')
		rel++;
	if (rel == NULL ||
	    asprintf(&dst, "%s%s%s", dir,
		     *dir && dir[strlen(dir) - 1] == '/' ? "" : "/", rel) < 0) {
		free(bare);
		return 1;
	}
	copy_given(s, src, dst, session_copy_parents, dir);
	free(dst);
	free(bare);
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
