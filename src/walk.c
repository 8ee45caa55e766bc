/*
 * The walk of one command-line directory: an explicit stack of directory
 * records (struct dir), never the C stack, so a tree of any depth copies
 * in memory that grows by a few hundred bytes a level. Each record holds
 * one descriptor per side, opened with openat(2); names are joined into
 * paths only for messages. On the DEST side nothing is reached by a path
 * or through a symlink: every directory is made (mkdirat) or found by
 * one name in a directory already open, opened with O_NOFOLLOW and
 * checked by device and inode, and given its metadata through its own
 * descriptor. A source directory that is an ancestor of itself (-L, bind
 * mounts) is a cycle; one that is a directory this session made is a
 * copy into itself.
 *
 * Descriptors are kept within a budget: when it is used up, the
 * shallowest directory of the walker's path that no queued file needs is
 * closed, and reopened when the walk comes back to it, from its child's
 * ".." or, failing that, down from an open ancestor, each checked by
 * device and inode. A directory that cannot be found again is reported
 * and left; nothing more is copied into it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree.h"

/* Descriptors kept for everything but directories, and the budget's range. */
#define FD_RESERVE    20 /* stdio, the scan's (SCAN_OPEN), a few more */
#define FD_PER_THREAD 8  /* a file's copy: source, temporary, pipes... */
#define BUDGET_MAX    1024
#define BUDGET_MIN    2

/* What the sets of directories (made, ancestors) hold: presence only. */
static char present;

/* Write "/" and part (n bytes) just before end; returns where "/" is. */
static char *
prepend(char *end, const char *part, size_t n)
{
	end -= n;
	memcpy(end, part, n);
	*--end = '/';
	return end;
}

char *
dir_path(const struct dir *d, enum side side, const char *name)
{
	const char *top = side == REL ? "" : d->tree->path[side];
	size_t tl = strlen(top), nl = name ? strlen(name) : 0;
	size_t len = name ? nl + 1 : 0;
	char *p, *end;

	for (const struct dir *x = d; x->name != NULL; x = x->parent)
		len += x->namelen + 1;
	p = malloc(tl + len + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, top, tl + 1);
	end = p + tl + len;
	*end = '\0';
	if (name != NULL)
		end = prepend(end, name, nl);
	for (const struct dir *x = d; x->name != NULL; x = x->parent)
		end = prepend(end, x->name, x->namelen);
	/* No slash of our own after "" (REL) or "dir/". */
	if (len > 0 && (tl == 0 || top[tl - 1] == '/'))
		memmove(p + tl, p + tl + 1, len);
	return p;
}

/* top, rel (n bytes) and name, joined by slashes where needed. */
static char *
join3(const char *top, const char *rel, size_t n, const char *name)
{
	size_t tl = strlen(top), nl = name ? strlen(name) : 0;
	char *p = malloc(tl + n + nl + 3), *q = p;

	if (p == NULL)
		return NULL;
	memcpy(q, top, tl);
	q += tl;
	if (n > 0) {
		if (q > p && q[-1] != '/')
			*q++ = '/';
		memcpy(q, rel, n);
		q += n;
	}
	if (name != NULL) {
		if (q > p && q[-1] != '/')
			*q++ = '/';
		memcpy(q, name, nl);
		q += nl;
	}
	*q = '\0';
	return p;
}

char *
walk_path(const struct dir *d, enum side side, const char *name)
{
	return join3(side == REL ? "" : d->tree->path[side], d->tree->rel,
		     d->rel_len, name);
}

/* Keep name below d as the walker's path, for d's subdirectory. */
static int
walk_into(struct tree *t, const struct dir *d, const char *name, size_t *len)
{
	size_t n = strlen(name), need = d->rel_len + 1 + n + 1;

	if (need > t->rel_cap) {
		size_t cap = t->rel_cap ? 2 * t->rel_cap : 256;
		char *grown;

		while (cap < need)
			cap *= 2;
		if ((grown = realloc(t->rel, cap)) == NULL)
			return -ENOMEM;
		t->rel = grown;
		t->rel_cap = cap;
	}
	*len = d->rel_len;
	if (*len > 0)
		t->rel[(*len)++] = '/';
	memcpy(t->rel + *len, name, n);
	*len += n;
	return 0;
}

/* Tell the caller about a directory (or a failure with it). */
static void
emit_dir(struct tree *t, const struct dir *parent, const char *name, int ret,
	 struct mapcp_report *r)
{
	char *sp = parent ? walk_path(parent, SRC, name) : NULL;
	char *dp = parent ? walk_path(parent, DST, name) : NULL;

	if (r->src == NULL)
		r->src = sp ? sp : parent ? name : t->path[SRC];
	if (r->dst == NULL)
		r->dst = dp ? dp : parent ? name : t->path[DST];
	progress_done(t->opts);
	emit(t->s, r, ret);
	free(sp);
	free(dp);
}

static void
lru_del(struct tree *t, struct dir *d)
{
	if (d->lru_prev != NULL || t->lru_head == d) {
		if (d->lru_prev)
			d->lru_prev->lru_next = d->lru_next;
		else
			t->lru_head = d->lru_next;
		if (d->lru_next)
			d->lru_next->lru_prev = d->lru_prev;
		else
			t->lru_tail = d->lru_prev;
	}
	d->lru_prev = d->lru_next = NULL;
}

/* d is open and on the path: make it the most recently used. */
static void
lru_use(struct tree *t, struct dir *d)
{
	lru_del(t, d);
	d->lru_prev = t->lru_tail;
	if (t->lru_tail)
		t->lru_tail->lru_next = d;
	else
		t->lru_head = d;
	t->lru_tail = d;
}

static void
dir_close(struct dir *d)
{
	if (d->fd[SRC] < 0 && d->fd[DST] < 0)
		return;
	for (int i = SRC; i <= DST; i++)
		if (d->fd[i] >= 0)
			close(d->fd[i]);
	d->fd[SRC] = d->fd[DST] = -1;
	atomic_fetch_sub(&d->tree->nopen, 1);
}

/*
 * Close the least recently used directory of the path that nothing
 * queued needs, until one more fits in the budget. If every one is
 * needed, wait for the queued files (and the directories they keep).
 */
static void
make_room(struct tree *t, const struct dir *keep)
{
	bool drained = false;

	while (atomic_load(&t->nopen) >= t->budget) {
		struct dir *v = t->lru_head;

		while (v != NULL && (v == t->root || v == keep ||
				     atomic_load(&v->tasks) > 0))
			v = v->lru_next;
		if (v != NULL) {
			lru_del(t, v);
			dir_close(v);
		} else if (!drained) {
			pool_drain(t);
			drained = true;
		} else {
			return; /* over budget rather than stuck */
		}
	}
}

/* Is fd the directory (dev, ino)? Closes it and returns -1 if not. */
static int
checked(int fd, dev_t dev, ino_t ino)
{
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != dev ||
			st.st_ino != ino || !S_ISDIR(st.st_mode))) {
		close(fd);
		errno = EAGAIN;
		return -1;
	}
	return fd;
}

/* May a symlink be followed to reach a directory on this side? */
static bool
side_follows(const struct tree *t, enum side side)
{
	return side == SRC ? t->follow
			   : (t->opts->flags & MAPCP_KEEP_DIR_SYMLINK) != 0;
}

/*
 * Open both sides of x, through child's ".." if child is open, else by
 * its name in its parent, if that is open; each checked by device and
 * inode. true, or false with errno (EAGAIN: found, but not x).
 */
static bool
open_record(struct tree *t, struct dir *x, const struct dir *child)
{
	int fd[2] = { -1, -1 };

	for (int side = SRC; side <= DST; side++) {
		int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

		if (child != NULL && child->fd[side] >= 0)
			fd[side] = checked(
				RETRY(openat(child->fd[side], "..", flags)),
				x->dev[side], x->ino[side]);
		if (!side_follows(t, side))
			flags |= O_NOFOLLOW;
		if (fd[side] < 0 && x->parent != NULL &&
		    x->parent->fd[side] >= 0)
			fd[side] = checked(RETRY(openat(x->parent->fd[side],
							x->name, flags)),
					   x->dev[side], x->ino[side]);
		else if (fd[side] < 0)
			errno = EAGAIN;
	}
	if (fd[SRC] < 0 || fd[DST] < 0) {
		int err = errno;

		if (fd[SRC] >= 0)
			close(fd[SRC]);
		if (fd[DST] >= 0)
			close(fd[DST]);
		errno = err;
		return false;
	}
	x->fd[SRC] = fd[SRC];
	x->fd[DST] = fd[DST];
	atomic_fetch_add(&t->nopen, 1);
	return true;
}

/*
 * The walk is back in d, whose descriptors were closed: reopen them from
 * child's "..", else down from the nearest open ancestor, opening and
 * keeping each closed one on the way, since the walk comes back through
 * them next (a chain reached through symlinks, -L, has no useful "..").
 * false, with errno, if d is lost.
 */
static bool
reopen(struct tree *t, struct dir *d, const struct dir *child)
{
	struct step {
		struct dir *d;
	} * chain;
	size_t n = 0, i;
	struct dir *a;
	bool ok = true;

	make_room(t, child);
	if (open_record(t, d, child))
		return true;
	for (a = d; a->fd[SRC] < 0; a = a->parent) /* the top stays open */
		n++;
	chain = calloc(n + 1, sizeof(*chain));
	if (chain == NULL)
		return false;
	i = n;
	for (struct dir *x = d; x != a && i > 0; x = x->parent)
		chain[--i].d = x;
	for (i = 0; i < n && ok && chain[i].d != NULL; i++) {
		make_room(t, chain[i].d->parent);
		ok = open_record(t, chain[i].d, NULL);
		if (ok && chain[i].d != d)
			lru_use(t, chain[i].d);
	}
	free(chain);
	return ok && d->fd[SRC] >= 0;
}

/*
 * A directory is complete: give it its mode and times. If we made it,
 * without -p that is the mode mkdir gave it, plus the group and other
 * write bits left out so that nobody could add to it meanwhile (cp's
 * rule), less the umask; with -p, the source's (st), also for one that
 * was there. 0 or -errno, r filled.
 */
int
dir_meta(const struct mapcp_opts *o, const struct dir *d, int src_fd,
	 struct mapcp_report *r)
{
	mode_t final =
		d->made ? d->made_mode | (d->omitted & ~o->umask) : d->mode_now;

	mode_t now = d->mode_now;

	if (d->fd[DST] < 0 || (!d->made && !o->preserve))
		return 0;
	/* --no-preserve=mode: no inherited ACL, exactly the default mode */
	if (d->made && (o->flags & MAPCP_DEFAULT_MODES)) {
		int ret = meta_strip_acls(d->fd[DST]);

		if (ret < 0)
			return report_fail(r, MAPCP_STEP_META, -ret);
		now = (mode_t)-1;
	}
	if (!o->preserve)
		return final == now || RETRY(fchmod(d->fd[DST], final)) == 0
			       ? 0
			       : report_fail(r, MAPCP_STEP_META, errno);
	return meta_apply(o, src_fd, d->fd[DST], &d->st, now, final, r);
}

static void
finish_dir(struct dir *d)
{
	struct mapcp_report r;

	entry_report(&r, NULL, NULL, "directory");
	if (dir_meta(d->tree->opts, d, d->fd[SRC], &r) == 0)
		return;
	r.src = dir_path(d, SRC, NULL);
	r.dst = dir_path(d, DST, NULL);
	emit(d->tree->s, &r, -r.err);
	free((char *)r.src);
	free((char *)r.dst);
}

static void
dir_free(struct dir *d)
{
	dir_close(d);
	for (size_t i = d->next; i < d->nentries; i++)
		free(d->entries[i].name);
	free(d->entries);
	free(d->name);
	free(d);
}

void
dir_unref(struct dir *d)
{
	while (d != NULL && atomic_fetch_sub(&d->refs, 1) == 1) {
		struct dir *parent = d->parent;

		finish_dir(d);
		dir_free(d);
		d = parent;
	}
}

/*
 * cp's order, which is gnulib savedir's "fast read" order: by inode
 * number. Inodes near each other are read together, and -v lists the
 * entries as cp does.
 */
static int
by_inode(const void *a, const void *b)
{
	ino_t x = ((const struct dir_entry *)a)->ino;
	ino_t y = ((const struct dir_entry *)b)->ino;

	return (x > y) - (x < y);
}

/* Read a directory whole with getdents64(2), from a fresh fd. 0 or -errno. */
int
read_dir(int fd, char *buf, struct dir_entry **out, size_t *n)
{
	size_t cap = 0;
	ssize_t len;

	*out = NULL;
	*n = 0;
	while ((len = RETRY(getdents64(fd, buf, DENTS_BUF))) > 0) {
		for (ssize_t off = 0; off < len;) {
			const struct dirent64 *e = (const void *)(buf + off);

			off += e->d_reclen;
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			if (*n == cap) {
				struct dir_entry *grown;

				cap = cap ? 2 * cap : 16;
				grown = realloc(*out, cap * sizeof(**out));
				if (grown == NULL) {
					errno = ENOMEM;
					goto fail;
				}
				*out = grown;
			}
			(*out)[*n].name = strdup(e->d_name);
			(*out)[*n].ino = e->d_ino;
			(*out)[*n].type = e->d_type;
			if ((*out)[*n].name == NULL)
				goto fail;
			(*n)++;
		}
	}
	if (len == 0) {
		if (*n > 1)
			qsort(*out, *n, sizeof(**out), by_inode);
		return 0;
	}
fail:
	len = -errno;
	for (size_t i = 0; i < *n; i++)
		free((*out)[i].name);
	free(*out);
	*out = NULL;
	*n = 0;
	return (int)len;
}

/* cp's rule: which mode bits a new directory is made without, for now. */
static mode_t
omitted_bits(const struct mapcp_opts *o, mode_t mode)
{
	return mode &
	       (o->preserve & MAPCP_PRESERVE_OWNERSHIP ? S_IRWXG | S_IRWXO
						       : S_IWGRP | S_IWOTH);
}

/*
 * DEST's directory for d, made in pfd as name: its sticky bit as the
 * source's, its set-group-ID bit as mkdir(2) gives it, writable by us
 * alone until it is complete. The fd (*st its fstat), or -errno: -EEXIST
 * untouched, else with r filled.
 */
int
make_dst_dir(const struct mapcp_session *s, int pfd, const char *name,
	     struct dir *d, struct stat *st, struct mapcp_report *r)
{
	/* --no-preserve=mode: the default permissions, SOURCE's other bits */
	mode_t mode = s->opts->flags & MAPCP_DEFAULT_MODES
			      ? (d->st.st_mode & 07000) | 0777
			      : d->st.st_mode & 07777;
	int fd;

	d->omitted = omitted_bits(s->opts, mode);
	if (RETRY(mkdirat(pfd, name, mode & ~d->omitted)) < 0)
		return errno == EEXIST
			       ? -EEXIST
			       : report_fail(r, MAPCP_STEP_MKDIR, errno);
	d->made = true;
	fd = RETRY(openat(pfd, name,
			  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (fd < 0 && errno != ELOOP && errno != ENOTDIR && errno != ENOENT)
		return report_fail(r, MAPCP_STEP_MKDIR, errno);
	if (fd >= 0 && fstat(fd, st) < 0) {
		close(fd);
		return report_fail(r, MAPCP_STEP_MKDIR, errno);
	}
	if (fd < 0 || !S_ISDIR(st->st_mode) || st->st_uid != s->euid) {
		if (fd >= 0)
			close(fd);
		return report_fail(r, MAPCP_STEP_MOVED, EAGAIN);
	}
	d->made_mode = d->mode_now = st->st_mode & 07777;
	if ((d->made_mode & S_IRWXU) != S_IRWXU) {
		d->mode_now |= S_IRWXU;
		if (RETRY(fchmod(fd, d->mode_now)) < 0) {
			close(fd);
			return report_fail(r, MAPCP_STEP_META, errno);
		}
	}
	return fd;
}

/*
 * DEST's directory name in pfd exists: it must be a directory, opened
 * without following a symlink (cp's "cannot overwrite non-directory"),
 * unless --keep-directory-symlink allows one to a directory. The fd (*st
 * its fstat), or -errno with r filled.
 */
int
open_dst_dir(const struct mapcp_session *s, int pfd, const char *name,
	     struct dir *d, struct stat *st, struct mapcp_report *r)
{
	bool through = s->opts->flags & MAPCP_KEEP_DIR_SYMLINK;
	struct stat old;
	int fd;

	if (fstatat(pfd, name, &old, AT_SYMLINK_NOFOLLOW) < 0)
		return report_fail(r, MAPCP_STEP_MKDIR, errno);
	if (S_ISLNK(old.st_mode) && through &&
	    fstatat(pfd, name, &old, 0) == 0 && S_ISDIR(old.st_mode))
		fd = RETRY(
			openat(pfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	else if (!S_ISDIR(old.st_mode))
		return report_fail(r, MAPCP_STEP_NOT_DIR, ENOTDIR);
	else
		fd = RETRY(openat(pfd, name,
				  O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					  O_CLOEXEC));
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR || errno == ENOENT))
		return report_fail(r, MAPCP_STEP_MOVED, EAGAIN);
	if (fd < 0 || fstat(fd, st) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return report_fail(r, MAPCP_STEP_MKDIR, err);
	}
	if (!same_file(st, &old)) {
		close(fd);
		return report_fail(r, MAPCP_STEP_MOVED, EAGAIN);
	}
	d->made_mode = d->mode_now = st->st_mode & 07777;
	return fd;
}

/*
 * Open both sides of d: the source directory srcname in fd[SRC] (it
 * must still be the one d->st describes), and DEST's, made or found as
 * dstname in fd[DST]. 0 or -errno with r filled.
 */
static int
open_sides(struct tree *t, struct dir *d, const int pfd[2], const char *srcname,
	   const char *dstname, bool top, struct mapcp_report *r)
{
	int nofollow = top || t->follow ? 0 : O_NOFOLLOW;
	struct stat st;
	int fd;

	fd = RETRY(openat(pfd[SRC], srcname,
			  O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow));
	if (fd < 0)
		return report_fail(r,
				   errno == ELOOP || errno == ENOTDIR
					   ? MAPCP_STEP_REPLACED
					   : MAPCP_STEP_OPEN_SRC,
				   errno);
	d->fd[SRC] = fd;
	if (fstat(fd, &st) < 0)
		return report_fail(r, MAPCP_STEP_OPEN_SRC, errno);
	if (!same_file(&st, &d->st))
		return report_fail(r, MAPCP_STEP_REPLACED, EAGAIN);
	fd = make_dst_dir(t->s, pfd[DST], dstname, d, &st, r);
	if (fd == -EEXIST)
		fd = open_dst_dir(t->s, pfd[DST], dstname, d, &st, r);
	if (fd < 0)
		return fd;
	d->fd[DST] = fd;
	d->dev[SRC] = d->st.st_dev;
	d->ino[SRC] = d->st.st_ino;
	d->dev[DST] = st.st_dev;
	d->ino[DST] = st.st_ino;
	return 0;
}

static struct dir *
dir_alloc(struct tree *t, struct dir *parent, const char *name,
	  const struct stat *st)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->name = name ? strdup(name) : NULL;
	if (name != NULL && d->name == NULL) {
		free(d);
		return NULL;
	}
	d->namelen = name ? strlen(name) : 0;
	d->tree = t;
	d->parent = parent;
	d->st = *st;
	d->fd[SRC] = d->fd[DST] = -1;
	atomic_init(&d->refs, 1);
	atomic_init(&d->tasks, 0);
	return d;
}

/*
 * Is the source directory st one we may walk into? Not an ancestor of
 * itself (a cycle), nor a directory this session made (into itself).
 */
static int
may_enter(struct tree *t, const struct stat *st, struct mapcp_report *r)
{
	if (idmap_get(&t->ancestors, st->st_dev, st->st_ino) != NULL)
		return report_fail(r, MAPCP_STEP_CYCLE, ELOOP);
	if (idmap_get(&t->s->made, st->st_dev, st->st_ino) != NULL) {
		r->src = t->path[SRC];
		r->dst = t->path[DST];
		return report_fail(r, MAPCP_STEP_INTO_SELF, EINVAL);
	}
	return 0;
}

/*
 * Make d the walker's: open, on the path, its entries read. 0, or -errno
 * with r filled and d's descriptors closed.
 */
static int
enter(struct tree *t, struct dir *d, const int pfd[2], const char *srcname,
      const char *dstname, struct mapcp_report *r)
{
	int ret = may_enter(t, &d->st, r);

	if (ret == 0) {
		make_room(t, d->parent);
		ret = open_sides(t, d, pfd, srcname, dstname, d->parent == NULL,
				 r);
	}
	if (ret == 0 && d->made &&
	    idmap_put(&t->s->made, d->dev[DST], d->ino[DST], &present) < 0)
		ret = report_fail(r, MAPCP_STEP_MKDIR, ENOMEM);
	if (ret == 0 &&
	    idmap_put(&t->ancestors, d->st.st_dev, d->st.st_ino, &present) < 0)
		ret = report_fail(r, MAPCP_STEP_MKDIR, ENOMEM);
	/* -x: a directory on another filesystem is made, left empty */
	if (ret == 0 && (t->opts->flags & MAPCP_ONE_FS) && d->parent != NULL &&
	    d->parent->st.st_dev != d->st.st_dev) {
		d->entries = NULL;
		d->nentries = 0;
	} else if (ret == 0 && (ret = read_dir(d->fd[SRC], t->dents,
					       &d->entries, &d->nentries)) < 0)
		ret = report_fail(r, MAPCP_STEP_OPEN_SRC, -ret);
	if (ret < 0) {
		for (int i = SRC; i <= DST; i++)
			if (d->fd[i] >= 0)
				close(d->fd[i]);
		d->fd[SRC] = d->fd[DST] = -1;
		idmap_del(&t->ancestors, d->st.st_dev, d->st.st_ino);
		return ret;
	}
	atomic_fetch_add(&t->nopen, 1);
	lru_use(t, d);
	return 0;
}

/* A subdirectory of d: made, entered. The new record, or NULL. */
static struct dir *
enter_subdir(struct tree *t, struct dir *d, const char *name,
	     const struct stat *st)
{
	struct dir *sub = dir_alloc(t, d, name, st);
	struct mapcp_report r;
	int ret;

	entry_report(&r, NULL, NULL, "directory");
	ret = sub && walk_into(t, d, name, &sub->rel_len) == 0
		      ? enter(t, sub, d->fd, name, name, &r)
		      : report_fail(&r, MAPCP_STEP_MKDIR, ENOMEM);
	r.existed = ret == 0 && sub != NULL && !sub->made;
	emit_dir(t, d, name, ret, &r);
	if (ret < 0) {
		if (sub != NULL)
			dir_free(sub);
		return NULL;
	}
	atomic_fetch_add(&d->refs, 1);
	return sub;
}

/*
 * The places of entry name of d on both sides, for the copy path, and the
 * hints every entry of a tree is copied with. sp and dp are its paths for
 * messages (the name alone when they could not be had).
 */
unsigned int
entry_places(const struct tree *t, const struct dir *d, const char *name,
	     const char *sp, const char *dp, struct place *s, struct place *p)
{
	*s = (struct place){ .dirfd = d->fd[SRC],
			     .name = name,
			     .path = sp ? sp : name };
	*p = (struct place){ .dirfd = d->fd[DST],
			     .name = name,
			     .path = dp ? dp : name,
			     .dev = d->dev[DST] };
	return COPY_IN_TREE | COPY_EXPECT_REG | (t->follow ? 0 : COPY_NOFOLLOW);
}

/* A symlink, special file, or file with other names: made in the walk. */
static void
copy_in_walk(struct tree *t, struct dir *d, const char *name,
	     const struct stat *st)
{
	char *sp = walk_path(d, SRC, name), *dp = walk_path(d, DST, name);
	char *rel = links_wanted(t->opts, st, false) ? walk_path(d, REL, name)
						     : NULL;
	struct place s, p;
	unsigned int hints = entry_places(t, d, name, sp, dp, &s, &p);

	/* rel is NULL without memory: then no link is remembered */
	if (rel != NULL)
		copy_linked(t->s, &s, &p, st,
			    S_ISREG(st->st_mode) ? hints : COPY_AS_ITSELF,
			    t->top, rel);
	else if (S_ISREG(st->st_mode))
		pool_add(t, d, name);
	else
		copy_other(t->s, &s, &p, st);
	free(sp);
	free(dp);
	free(rel);
}

/*
 * --copy-contents: a FIFO or device in the tree is read as a file is
 * (waiting for a FIFO's writer, as cp does), in the walk.
 */
static void
copy_contents(struct tree *t, struct dir *d, const char *name)
{
	char *sp = walk_path(d, SRC, name), *dp = walk_path(d, DST, name);
	struct place s, p;
	unsigned int hints = entry_places(t, d, name, sp, dp, &s, &p);
	struct mapcp_report r;

	emit(t->s, &r,
	     copy_file_at(&s, &p, hints & ~(unsigned)COPY_EXPECT_REG, t->opts,
			  &r));
	free(sp);
	free(dp);
}

/* cp -l, -s: an entry that is not a directory, linked to. */
static void
link_in_walk(struct tree *t, struct dir *d, const char *name,
	     const struct stat *st)
{
	char *sp = walk_path(d, SRC, name), *dp = walk_path(d, DST, name);
	struct place s, p;

	entry_places(t, d, name, sp, dp, &s, &p);
	if (sp == NULL && t->opts->make == MAPCP_MAKE_SYMLINK) {
		struct mapcp_report r;

		entry_report(&r, name, dp ? dp : name, "symbolic link");
		emit(t->s, &r, report_fail(&r, MAPCP_STEP_SYMLINK_TO, ENOMEM));
	} else {
		link_source(t->s, &s, &p, st, t->follow);
	}
	free(sp);
	free(dp);
}

/* One entry of directory d; a subdirectory entered is returned. */
static struct dir *
copy_entry(struct tree *t, struct dir *d, const struct dir_entry *e)
{
	const struct mapcp_opts *o = t->opts;
	struct stat st;

	if (e->type == DT_REG && !(o->preserve & MAPCP_PRESERVE_LINKS) &&
	    o->make == MAPCP_MAKE_COPY) {
		pool_add(t, d, e->name); /* the worker stats it, once open */
		return NULL;
	}
	if (fstatat(d->fd[SRC], e->name, &st,
		    t->follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0) {
		struct mapcp_report r;

		entry_report(&r, NULL, NULL, NULL);
		emit_dir(t, d, e->name,
			 report_fail(&r, MAPCP_STEP_STAT_SRC, errno), &r);
		return NULL;
	}
	if (S_ISDIR(st.st_mode))
		return enter_subdir(t, d, e->name, &st);
	if (o->make != MAPCP_MAKE_COPY)
		link_in_walk(t, d, e->name, &st);
	else if ((o->flags & MAPCP_COPY_CONTENTS) && !S_ISREG(st.st_mode) &&
		 !S_ISLNK(st.st_mode))
		copy_contents(t, d, e->name);
	else if (S_ISREG(st.st_mode) && !links_wanted(o, &st, false))
		pool_add(t, d, e->name);
	else
		copy_in_walk(t, d, e->name, &st);
	return NULL;
}

/*
 * The walker is done with d: off its path; back to its parent, reopened
 * if its descriptors were closed meanwhile. Returns the parent.
 */
static struct dir *
leave(struct tree *t, struct dir *d)
{
	struct dir *p = d->parent;

	idmap_del(&t->ancestors, d->st.st_dev, d->st.st_ino);
	lru_del(t, d);
	if (p != NULL && p->fd[SRC] < 0 && !p->lost && !reopen(t, p, d)) {
		struct mapcp_report r;

		int err = errno;

		p->lost = true;
		entry_report(&r, NULL, NULL, "directory");
		/* EAGAIN: found, but not the directory it was (checked()) */
		emit_dir(t, p->parent, p->name,
			 report_fail(&r,
				     err == EAGAIN ? MAPCP_STEP_MOVED
						   : MAPCP_STEP_REOPEN,
				     err),
			 &r);
	}
	if (p != NULL && p->fd[SRC] >= 0)
		lru_use(t, p);
	dir_unref(d);
	return p;
}

static void
walk(struct tree *t)
{
	struct dir *d = t->root;

	while (d != NULL) {
		if (d->next < d->nentries && !d->lost) {
			struct dir_entry *e = &d->entries[d->next++];
			struct dir *sub = copy_entry(t, d, e);

			free(e->name);
			if (sub != NULL)
				d = sub;
		} else {
			d = leave(t, d);
		}
	}
}

/* The descriptor limit, its soft value raised to the hard one first. */
static long
fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1 << 30
		       ? 1 << 30
		       : (long)rl.rlim_cur;
}

/*
 * Threads that fit in limit beside the smallest budget of directories:
 * under a tight ulimit -n, fewer threads rather than failed copies.
 */
static unsigned int
threads_fitting(long limit)
{
	long n = (limit - FD_RESERVE - 2L * BUDGET_MIN) / FD_PER_THREAD;

	return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned int)n;
}

/* Directories that may be open at once: half of what threads leave. */
static long
fd_budget(long limit, unsigned int threads)
{
	long n = (limit - FD_RESERVE - FD_PER_THREAD * (long)threads) / 2;

	return n < BUDGET_MIN ? BUDGET_MIN : n > BUDGET_MAX ? BUDGET_MAX : n;
}

/*
 * Is DEST's directory (dirfd) the source directory or inside it? Walk up
 * with ".." to the root, comparing each with the source.
 */
static bool
inside(int dirfd, const struct stat *src)
{
	int fd = RETRY(openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
	bool found = false;

	while (fd >= 0 && !found) {
		struct stat st, up;
		int next;

		if (fstat(fd, &st) < 0)
			break;
		found = same_file(&st, src);
		next = RETRY(
			openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
		close(fd);
		fd = next;
		if (fd >= 0 && fstat(fd, &up) == 0 && same_file(&up, &st))
			break; /* "/" is its own parent */
	}
	if (fd >= 0)
		close(fd);
	return found;
}

/*
 * A tree's DEST must be neither the source directory (cp: "'a' and 'b'
 * are the same file") nor inside it, found before anything is made. An
 * existing DEST is looked at itself, so that a/b/.. is a's parent, not
 * a/b's child; a new one through its directory. Bind mounts can hide it
 * from this walk up; the walk down finds them (may_enter()).
 */
static int
check_top(const struct place *dst, const struct stat *src,
	  struct mapcp_report *r)
{
	int fd = RETRY(openat(dst->dirfd, dst->name,
			      O_PATH | O_DIRECTORY | O_CLOEXEC));
	struct stat st;
	bool in;

	if (fd >= 0 && fstat(fd, &st) == 0 && same_file(&st, src)) {
		close(fd);
		return report_fail(r, MAPCP_STEP_SAME_FILE, EINVAL);
	}
	in = inside(fd >= 0 ? fd : dst->dirfd, src);
	if (fd >= 0)
		close(fd);
	return in ? report_fail(r, MAPCP_STEP_INTO_SELF, EINVAL) : 0;
}

/* Make and enter the top directory. 0 or -errno, reported. */
static int
enter_top(struct tree *t, const struct place *dst)
{
	int pfd[2] = { AT_FDCWD, dst->dirfd };
	struct mapcp_report r;
	int ret = 0;

	entry_report(&r, t->path[SRC], t->path[DST], "directory");
	if (dst->err)
		ret = report_fail(&r, MAPCP_STEP_MKDIR, dst->err);
	if (ret == 0)
		ret = check_top(dst, &t->root->st, &r);
	if (ret == 0)
		ret = enter(t, t->root, pfd, t->path[SRC], dst->name, &r);
	if (ret == 0 &&
	    session_top(t->s, dst->path, t->root->fd[DST], &t->top) < 0)
		ret = report_fail(&r, MAPCP_STEP_MKDIR, ENOMEM);
	r.existed = ret == 0 && !t->root->made;
	emit_dir(t, NULL, NULL, ret, &r);
	return ret;
}

void
tree_copy(struct mapcp_session *s, const char *src, const struct place *dst,
	  const struct stat *st)
{
	struct tree t = { .s = s, .opts = s->opts };
	long limit;

	t.follow = mapcp_follows(s->opts, false);
	t.euid = geteuid();
	t.path[SRC] = src;
	t.path[DST] = dst->path;
	t.dents = malloc(DENTS_BUF);
	t.root = dir_alloc(&t, NULL, NULL, st);
	if (t.dents == NULL || t.root == NULL) {
		struct mapcp_report r;

		entry_report(&r, src, dst->path, "directory");
		emit(s, &r, report_fail(&r, MAPCP_STEP_MKDIR, ENOMEM));
		free(t.root);
		free(t.dents);
		return;
	}
	limit = fd_limit();
	pool_start(&t, threads_fitting(limit));
	t.budget = fd_budget(limit, t.pool.nworkers + 1);
	if (enter_top(&t, dst) == 0)
		walk(&t);
	else
		dir_unref(t.root);
	pool_stop(&t); /* every file done, and every directory finished */
	emit_flush(t.s);
	idmap_free(&t.ancestors, NULL);
	free(t.dents);
	free(t.rel);
}
