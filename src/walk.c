/*
 * Trees: mapcp_copy() copies one command-line SOURCE, and with
 * MAPCP_RECURSIVE everything below it. This thread walks the source
 * through directory fds (openat, fdopendir, fstatat), makes directories,
 * symlinks (symlinkat) and special files (mknodat) itself, and hands
 * regular files, in batches, to a pool of worker threads that copy each
 * with copy_file_at(): same engines, same atomic writer as a single file.
 * A directory gets its mode and times when the last entry in it is done
 * (a reference count), so they end as the source's. Paths are built only
 * for messages, never for system calls: depth is limited by file
 * descriptors, not by PATH_MAX.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Files per hand-off, and hand-offs waiting: see enqueue(). */
#define BATCH      64
#define QUEUED_MAX 4

struct tree;

/* A directory being copied: kept open until all in it is done. */
struct dir {
	int src_fd, dst_fd;
	char *src_path, *dst_path; /* for messages */
	char *rel;                 /* path below the top DEST, for hard links */
	struct stat st;            /* the source directory */
	bool made;                 /* we created DEST's directory */
	mode_t made_mode;          /* with this mode, or (mode_t)-1 */
	dev_t dst_dev;             /* DEST directory's filesystem */
	atomic_int refs;
	struct dir *parent;
	struct tree *tree;
};

struct task {
	struct dir *dir;
	char *name;
};

struct batch {
	struct batch *next;
	int n;
	struct task t[BATCH];
};

/* A hard-linked source file already copied: where its copy is. */
struct link {
	dev_t dev;
	ino_t ino;
	char *rel;
};

struct tree {
	const struct mapcp_opts *opts;
	pthread_mutex_t lock; /* the queue */
	pthread_cond_t work;
	struct batch *head, *tail, *filling;
	int queued, idle;
	bool closing;
	pthread_t *workers;
	unsigned int nworkers;
	pthread_mutex_t out; /* one on_file at a time */
	atomic_ulong failures;
	int top_fd; /* DEST's top directory, for hard links */
	struct link *links;
	size_t nlinks, maxlinks;
};

/* dir/name, for messages; NULL without memory. */
static char *
join(const char *dir, const char *name)
{
	size_t a = strlen(dir);
	const char *sep = a > 0 && dir[a - 1] == '/' ? "" : "/";
	size_t n = a + strlen(sep) + strlen(name) + 1;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s%s%s", dir, sep, name);
	return p;
}

/* Tell the caller about one entry, and count it if it failed. */
static void
emit(struct tree *t, struct mapcp_report *r, int ret)
{
	if (ret < 0)
		atomic_fetch_add(&t->failures, 1);
	if (t->opts->on_file == NULL)
		return;
	pthread_mutex_lock(&t->out);
	t->opts->on_file(r, t->opts->on_file_arg);
	pthread_mutex_unlock(&t->out);
}

/* A report for an entry that is not a regular file's data. */
static void
entry_report(struct mapcp_report *r, const char *src, const char *dst,
	     const char *what)
{
	memset(r, 0, sizeof(*r));
	r->src = src;
	r->dst = dst;
	r->what = what;
}

static int
fail(struct mapcp_report *r, enum mapcp_step step, int err)
{
	r->step = step;
	r->err = err > 0 ? err : EIO;
	return -r->err;
}

static bool
follows(const struct tree *t)
{
	return t->opts->deref == MAPCP_DEREF_ALWAYS;
}

/* Give a directory we made (or any, with -p) its final mode and times. */
static void
finish_dir(struct dir *d)
{
	const struct mapcp_opts *o = d->tree->opts;
	struct mapcp_report r;
	struct mapcp_job job = { .opts = o,
				  .report = &r,
				  .dst_mode = (mode_t)-1 };

	entry_report(&r, d->src_path, d->dst_path, "directory");
	if (!o->preserve && d->made_mode == (d->st.st_mode & 0777 & ~o->umask))
		return; /* made with its final mode */
	if ((d->made || o->preserve) &&
	    meta_apply(&job, d->src_fd, d->dst_fd, &d->st,
		       d->st.st_mode & 0777 & ~o->umask) < 0)
		emit(d->tree, &r, -r.err);
}

static void
unref(struct dir *d)
{
	while (d != NULL && atomic_fetch_sub(&d->refs, 1) == 1) {
		struct dir *parent = d->parent;

		finish_dir(d);
		close(d->src_fd);
		close(d->dst_fd);
		free(d->src_path);
		free(d->dst_path);
		free(d->rel);
		free(d);
		d = parent;
	}
}

/* Copy one regular file of a batch, in a worker. */
static void
copy_task(struct tree *t, const struct task *task)
{
	struct dir *d = task->dir;
	char *sp = join(d->src_path, task->name);
	char *dp = join(d->dst_path, task->name);
	struct place s = { d->src_fd, task->name, sp ? sp : task->name, 0, 0 };
	struct place p = { d->dst_fd, task->name, dp ? dp : task->name, 0,
			   d->dst_dev };
	unsigned int hints = (follows(t) ? 0 : COPY_NOFOLLOW) |
			     (d->made ? COPY_DST_ABSENT : 0);
	struct mapcp_report r;

	emit(t, &r, copy_file_at(&s, &p, hints, t->opts, &r));
	free(sp);
	free(dp);
	free(task->name);
	unref(d);
}

static void
run_batch(struct tree *t, struct batch *b)
{
	for (int i = 0; i < b->n; i++)
		copy_task(t, &b->t[i]);
	free(b);
}

static void *
worker(void *arg)
{
	struct tree *t = arg;

	for (;;) {
		struct batch *b;

		pthread_mutex_lock(&t->lock);
		while (t->head == NULL && !t->closing) {
			t->idle++;
			pthread_cond_wait(&t->work, &t->lock);
			t->idle--;
		}
		b = t->head;
		if (b != NULL) {
			t->head = b->next;
			if (t->head == NULL)
				t->tail = NULL;
			t->queued--;
		}
		pthread_mutex_unlock(&t->lock);
		if (b == NULL)
			return NULL;
		run_batch(t, b);
	}
}

/*
 * Hand the batch being filled to the workers. If they have work enough
 * queued already, or there are none (-j 1), the walking thread copies it
 * itself rather than wait: it is one of the -j threads.
 */
static void
push(struct tree *t)
{
	struct batch *b = t->filling;

	if (b == NULL)
		return;
	t->filling = NULL;
	pthread_mutex_lock(&t->lock);
	if (t->nworkers == 0 || t->queued >= QUEUED_MAX) {
		pthread_mutex_unlock(&t->lock);
		run_batch(t, b);
		return;
	}
	if (t->tail != NULL)
		t->tail->next = b;
	else
		t->head = b;
	t->tail = b;
	t->queued++;
	pthread_cond_signal(&t->work);
	pthread_mutex_unlock(&t->lock);
}

/*
 * Queue a file for the workers. Files go in batches of up to BATCH, so
 * that for small files handing over costs less than copying; but a batch
 * leaves at once if a worker is idle, so the walk and the copies overlap.
 */
static void
enqueue(struct tree *t, struct dir *d, const char *name)
{
	struct batch *b = t->filling;

	if (b == NULL && (b = t->filling = calloc(1, sizeof(*b))) == NULL) {
		struct task task = { d, strdup(name) };

		atomic_fetch_add(&d->refs, 1);
		if (task.name != NULL)
			copy_task(t, &task); /* no memory to queue: do it now */
		else
			unref(d);
		return;
	}
	atomic_fetch_add(&d->refs, 1);
	b->t[b->n].dir = d;
	b->t[b->n].name = strdup(name);
	if (b->t[b->n].name == NULL) {
		unref(d);
		return;
	}
	b->n++;
	if (b->n == BATCH || t->idle > 0 || t->nworkers == 0)
		push(t);
}

/*
 * -j N: N threads copy, the walking one included, so N - 1 workers; with
 * -j 1 the walk copies each file as it meets it, as cp does. Fewer
 * workers than asked, if threads run out, is still a working copy.
 * By default one per CPU; but --verify and --fsync wait on the disk for
 * every file, and more files in flight share its flushes: four per CPU,
 * at least 8 (a tree of 8,000 small files verified 2.3 times faster).
 */
static void
start_workers(struct tree *t)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int cpus = online > 0 ? (unsigned)online : 1;
	bool waits = t->opts->flags & (MAPCP_VERIFY | MAPCP_FSYNC);
	unsigned int jobs = t->opts->jobs ? t->opts->jobs
			    : waits	  ? (4 * cpus > 8 ? 4 * cpus : 8)
					  : cpus;

	t->nworkers = 0;
	t->workers = jobs > 1 ? calloc(jobs - 1, sizeof(*t->workers)) : NULL;
	if (t->workers == NULL)
		return;
	while (t->nworkers < jobs - 1 &&
	       pthread_create(&t->workers[t->nworkers], NULL, worker, t) == 0)
		t->nworkers++;
}

static void
stop_workers(struct tree *t)
{
	push(t);
	pthread_mutex_lock(&t->lock);
	t->closing = true;
	pthread_cond_broadcast(&t->work);
	pthread_mutex_unlock(&t->lock);
	for (unsigned int i = 0; i < t->nworkers; i++)
		pthread_join(t->workers[i], NULL);
	free(t->workers);
	t->workers = NULL;
	t->nworkers = 0;
}

/* The directory of rel below fd, opened component by component. */
static int
open_parent(int fd, const char *rel, const char **base)
{
	const char *slash = strrchr(rel, '/');
	char *path, *save = NULL;
	int cur = fd;

	*base = slash ? slash + 1 : rel;
	if (slash == NULL)
		return dup(fd);
	path = strndup(rel, (size_t)(slash - rel));
	if (path == NULL)
		return -1;
	for (char *c = strtok_r(path, "/", &save); c != NULL;
	     c = strtok_r(NULL, "/", &save)) {
		int next = RETRY(openat(cur, c, O_PATH | O_DIRECTORY | O_CLOEXEC));

		if (cur != fd)
			close(cur);
		if (next < 0) {
			free(path);
			return -1;
		}
		cur = next;
	}
	free(path);
	return cur == fd ? dup(fd) : cur;
}

static const struct link *
find_link(const struct tree *t, const struct stat *st)
{
	for (size_t i = 0; i < t->nlinks; i++)
		if (t->links[i].dev == st->st_dev &&
		    t->links[i].ino == st->st_ino)
			return &t->links[i];
	return NULL;
}

static void
add_link(struct tree *t, const struct stat *st, const char *rel)
{
	if (t->nlinks == t->maxlinks) {
		size_t n = t->maxlinks ? 2 * t->maxlinks : 64;
		struct link *l = realloc(t->links, n * sizeof(*l));

		if (l == NULL)
			return; /* a later link becomes a copy: still correct */
		t->links = l;
		t->maxlinks = n;
	}
	t->links[t->nlinks].rel = strdup(rel);
	if (t->links[t->nlinks].rel == NULL)
		return;
	t->links[t->nlinks].dev = st->st_dev;
	t->links[t->nlinks].ino = st->st_ino;
	t->nlinks++;
}

/*
 * Make dst->name with make(): a symlink, a special file or a hard link.
 * If the name is taken, -n, -u and -i decide whether it stays (return 1,
 * r->skipped); if not, the new entry is made beside it and renamed over
 * it, atomically. 0, 1, or -errno.
 */
static int
replace_entry(const struct mapcp_opts *o, const struct place *dst,
	      const struct stat *src, struct mapcp_report *r,
	      int (*make)(int, const char *, const void *), const void *arg)
{
	struct atomic a = { .dirfd = dst->dirfd, .name = dst->name, .fd = -1 };
	struct stat old;
	int tries;

	if (dst->err)
		return -dst->err;
	if (make(dst->dirfd, dst->name, arg) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (fstatat(dst->dirfd, dst->name, &old, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (dest_kept(o, &old, src, dst->path, &r->why)) {
		r->skipped = true;
		return 1;
	}
	for (tries = 0; tries < 100; tries++) {
		temp_name(&a);
		if (make(dst->dirfd, a.tmpname, arg) == 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	if (tries == 100)
		return -EEXIST;
	if (RETRY(renameat(dst->dirfd, a.tmpname, dst->dirfd, dst->name)) < 0) {
		int err = errno;

		RETRY(unlinkat(dst->dirfd, a.tmpname, 0));
		return -err;
	}
	return 0;
}

/* What make_link() links to: the copy of a hard link group's first name. */
struct link_target {
	int dirfd;
	const char *name;
};

static int
make_link(int fd, const char *name, const void *arg)
{
	const struct link_target *to = arg;

	return RETRY(linkat(to->dirfd, to->name, fd, name, 0));
}

/*
 * --preserve=links: a file with other names. Its first name is copied
 * here, in the walk, so that later names can be linked to a complete copy.
 */
static void
copy_linked(struct tree *t, struct dir *d, const char *name,
	    const struct stat *st)
{
	const struct link *l = find_link(t, st);
	char *sp = join(d->src_path, name), *dp = join(d->dst_path, name);
	char *rel = d->rel ? join(d->rel, name) : strdup(name);
	struct mapcp_report r;
	int ret;

	if (l != NULL) {
		struct link_target to;
		struct place p = { d->dst_fd, name, dp ? dp : name, 0, d->dst_dev };
		struct stat a, b;
		int pfd = open_parent(t->top_fd, l->rel, &to.name);

		to.dirfd = pfd;
		entry_report(&r, sp, dp, "hard link");
		if (pfd < 0)
			ret = fail(&r, MAPCP_STEP_LINK, errno);
		else if (fstatat(pfd, to.name, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
			 fstatat(d->dst_fd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
			 a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			ret = 0; /* linked already: rename would do nothing */
		else if ((ret = replace_entry(t->opts, &p, st, &r, make_link,
					      &to)) < 0)
			ret = fail(&r, MAPCP_STEP_LINK, -ret);
		if (pfd >= 0)
			close(pfd);
		progress_done(t->opts);
	} else {
		struct place s = { d->src_fd, name, sp ? sp : name, 0, 0 };
		struct place p = { d->dst_fd, name, dp ? dp : name, 0,
				   d->dst_dev };

		ret = copy_file_at(&s, &p, follows(t) ? 0 : COPY_NOFOLLOW,
				   t->opts, &r);
		if (ret == 0 && !r.skipped && rel != NULL)
			add_link(t, st, rel);
	}
	emit(t, &r, ret);
	free(sp);
	free(dp);
	free(rel);
}

static int
make_symlink(int fd, const char *name, const void *target)
{
	return RETRY(symlinkat(target, fd, name));
}

static int
make_node(int fd, const char *name, const void *arg)
{
	const struct stat *st = arg;

	return RETRY(mknodat(fd, name, st->st_mode & (S_IFMT | 0777), st->st_rdev));
}

/*
 * cp's rule for an entry copied as itself (a symlink, a special file):
 * DEST must be neither that entry, nor what the symlink points to, which
 * the copy would replace with a link to itself and lose. Two different
 * symlinks to one file are fine.
 */
static bool
same_entry(const struct place *src, const struct place *dst,
	   const struct stat *st)
{
	struct stat dl, s = *st, d;

	if (dst->err ||
	    fstatat(dst->dirfd, dst->name, &dl, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (dl.st_dev == st->st_dev && dl.st_ino == st->st_ino)
		return true;
	if (S_ISLNK(st->st_mode) && S_ISLNK(dl.st_mode))
		return false;
	d = dl;
	if ((S_ISLNK(st->st_mode) &&
	     fstatat(src->dirfd, src->name, &s, 0) < 0) ||
	    (S_ISLNK(dl.st_mode) && fstatat(dst->dirfd, dst->name, &d, 0) < 0))
		return false;
	return s.st_dev == d.st_dev && s.st_ino == d.st_ino;
}

/* Recreate a symlink or a special file. */
static void
copy_other(struct tree *t, const struct place *src, const struct place *dst,
	   const struct stat *st)
{
	const struct mapcp_opts *o = t->opts;
	struct mapcp_report r;
	struct mapcp_job job = { .opts = o,
				  .report = &r,
				  .dst_mode = (mode_t)-1 };
	bool same = !(o->flags & MAPCP_NO_CLOBBER) && same_entry(src, dst, st);
	int ret;

	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(src->dirfd, src->name, target, PATH_MAX);

		entry_report(&r, src->path, dst->path, "symbolic link");
		if (n < 0) {
			ret = fail(&r, MAPCP_STEP_READLINK, errno);
			goto out;
		}
		target[n] = '\0';
		if (same)
			ret = fail(&r, MAPCP_STEP_SAME_FILE, EINVAL);
		else if ((ret = replace_entry(o, dst, st, &r, make_symlink,
					      target)) < 0)
			/* EISDIR: rename(2) does not replace a directory */
			ret = fail(&r,
				   ret == -EISDIR ? MAPCP_STEP_DST_IS_DIR
						  : MAPCP_STEP_SYMLINK,
				   -ret);
		else if (ret == 0)
			ret = meta_apply_link(&job, dst->dirfd, dst->name, st);
		goto out;
	}
	entry_report(&r, src->path, dst->path,
		     S_ISFIFO(st->st_mode)   ? "FIFO"
		     : S_ISSOCK(st->st_mode) ? "socket"
					     : "device");
	if (same) {
		ret = fail(&r, MAPCP_STEP_SAME_FILE, EINVAL);
	} else if ((ret = replace_entry(o, dst, st, &r, make_node, st)) < 0) {
		ret = fail(&r,
			   ret == -EISDIR ? MAPCP_STEP_DST_IS_DIR
					  : MAPCP_STEP_SPECIAL,
			   -ret);
	} else if (ret == 0 && o->preserve) {
		ret = meta_apply_link(&job, dst->dirfd, dst->name, st);
		if (ret == 0 && (o->preserve & MAPCP_PRESERVE_MODE) &&
		    RETRY(fchmodat(dst->dirfd, dst->name, st->st_mode & 07777, 0)) < 0)
			ret = fail(&r, MAPCP_STEP_META, errno);
	}
out:
	progress_done(o);
	emit(t, &r, ret < 0 ? ret : 0);
}

static void walk(struct tree *t, struct dir *d);

/*
 * mkdirat() DEST's directory for d. Without --preserve it gets its final
 * mode at once where that leaves us free to fill it (rwx for the owner),
 * as cp does; else 0700, and its mode when all in it is done.
 */
static int
make_dir(const struct tree *t, int dirfd, const char *name, struct dir *d)
{
	mode_t final = d->st.st_mode & 0777 & ~t->opts->umask;
	bool at_once = !t->opts->preserve && (final & S_IRWXU) == S_IRWXU &&
		       process_umask != (mode_t)-1;
	int ret = RETRY(mkdirat(dirfd, name, at_once ? final : 0700));

	d->made = ret == 0;
	d->made_mode = d->made && at_once ? final & ~process_umask
					  : (mode_t)-1;
	return ret;
}

/* Make DEST's directory for name and walk into it. */
static void
copy_subdir(struct tree *t, struct dir *parent, const char *name,
	    const struct stat *st)
{
	struct dir *d = calloc(1, sizeof(*d));
	struct mapcp_report r;
	int ret = -ENOMEM;

	if (d == NULL)
		goto fail;
	d->tree = t;
	d->st = *st;
	d->src_fd = d->dst_fd = -1;
	d->src_path = join(parent->src_path, name);
	d->dst_path = join(parent->dst_path, name);
	d->rel = parent->rel ? join(parent->rel, name) : strdup(name);
	entry_report(&r, d->src_path ? d->src_path : name,
		     d->dst_path ? d->dst_path : name, "directory");
	if (d->src_path == NULL || d->dst_path == NULL || d->rel == NULL)
		goto fail;
	d->src_fd = RETRY(openat(parent->src_fd, name,
			   O_RDONLY | O_DIRECTORY | O_CLOEXEC |
				   (follows(t) ? 0 : O_NOFOLLOW)));
	if (d->src_fd < 0) {
		ret = fail(&r, MAPCP_STEP_OPEN_SRC, errno);
		goto fail;
	}
	d->dst_dev = parent->dst_dev;
	ret = make_dir(t, parent->dst_fd, name, d);
	if (ret < 0) {
		struct stat dst;

		if (errno != EEXIST) {
			ret = fail(&r, MAPCP_STEP_MKDIR, errno);
			goto fail;
		}
		if (fstatat(parent->dst_fd, name, &dst, 0) < 0 ||
		    !S_ISDIR(dst.st_mode)) {
			ret = fail(&r, MAPCP_STEP_NOT_DIR, ENOTDIR);
			goto fail;
		}
		d->dst_dev = dst.st_dev; /* maybe another filesystem's */
	}
	d->dst_fd = RETRY(openat(parent->dst_fd, name,
			   O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (d->dst_fd < 0) {
		ret = fail(&r, MAPCP_STEP_MKDIR, errno);
		goto fail;
	}
	atomic_init(&d->refs, 1);
	d->parent = parent;
	atomic_fetch_add(&parent->refs, 1);
	progress_done(t->opts);
	emit(t, &r, 0);
	walk(t, d);
	unref(d);
	return;
fail:
	if (d == NULL) {
		entry_report(&r, name, name, "directory");
		fail(&r, MAPCP_STEP_MKDIR, ENOMEM);
	}
	progress_done(t->opts);
	/* The report names d's paths: emitted before they are freed. */
	emit(t, &r, ret < 0 ? ret : -EIO);
	if (d != NULL) {
		if (d->src_fd >= 0)
			close(d->src_fd);
		free(d->src_path);
		free(d->dst_path);
		free(d->rel);
		free(d);
	}
}

/* One entry of directory d. */
static void
copy_entry(struct tree *t, struct dir *d, const char *name, unsigned char type)
{
	const struct mapcp_opts *o = t->opts;
	struct stat st;
	bool linked = o->preserve & MAPCP_PRESERVE_LINKS;

	if (type == DT_REG && !linked) {
		enqueue(t, d, name); /* the worker stats it, once open */
		return;
	}
	if (fstatat(d->src_fd, name, &st,
		    follows(t) ? 0 : AT_SYMLINK_NOFOLLOW) < 0) {
		char *sp = join(d->src_path, name),
		     *dp = join(d->dst_path, name);
		struct mapcp_report r;

		entry_report(&r, sp ? sp : name, dp ? dp : name, NULL);
		progress_done(o);
		emit(t, &r, fail(&r, MAPCP_STEP_STAT_SRC, errno));
		free(sp);
		free(dp);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		copy_subdir(t, d, name, &st);
	} else if (S_ISREG(st.st_mode)) {
		if (linked && st.st_nlink > 1)
			copy_linked(t, d, name, &st);
		else
			enqueue(t, d, name);
	} else {
		char *sp = join(d->src_path, name),
		     *dp = join(d->dst_path, name);
		struct place s = { d->src_fd, name, sp ? sp : name, 0, 0 };
		struct place p = { d->dst_fd, name, dp ? dp : name, 0, d->dst_dev };

		copy_other(t, &s, &p, &st);
		free(sp);
		free(dp);
	}
}

struct entry {
	char *name;
	unsigned char type;
};

/*
 * Read a directory whole with getdents64(2), straight from the fd we hold:
 * opendir() would dup, fstat and fcntl it first, five calls per directory
 * for nothing. The fd must be fresh (at offset 0).
 */
static int
read_dir(int fd, struct entry **out, size_t *n)
{
	char buf[32768] __attribute__((aligned(8)));
	size_t cap = 0;
	ssize_t len;

	*out = NULL;
	*n = 0;
	while ((len = RETRY(getdents64(fd, buf, sizeof(buf)))) > 0) {
		for (ssize_t off = 0; off < len;) {
			const struct dirent64 *e = (const void *)(buf + off);

			off += e->d_reclen;
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			if (*n == cap) {
				struct entry *grown;

				cap = cap ? 2 * cap : 64;
				grown = realloc(*out, cap * sizeof(**out));
				if (grown == NULL) {
					errno = ENOMEM;
					goto fail;
				}
				*out = grown;
			}
			(*out)[*n].name = strdup(e->d_name);
			(*out)[*n].type = e->d_type;
			if ((*out)[*n].name == NULL)
				goto fail;
			(*n)++;
		}
	}
	if (len == 0)
		return 0;
fail:
	len = -errno;
	for (size_t i = 0; i < *n; i++)
		free((*out)[i].name);
	free(*out);
	*out = NULL;
	*n = 0;
	return (int)len;
}

static void
walk(struct tree *t, struct dir *d)
{
	struct entry *entries;
	size_t n;
	int ret = read_dir(d->src_fd, &entries, &n);

	if (ret < 0) {
		struct mapcp_report r;

		entry_report(&r, d->src_path, d->dst_path, "directory");
		emit(t, &r, fail(&r, MAPCP_STEP_OPEN_SRC, -ret));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		copy_entry(t, d, entries[i].name, entries[i].type);
		free(entries[i].name);
	}
	free(entries);
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
		found = st.st_dev == src->st_dev && st.st_ino == src->st_ino;
		next = RETRY(openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
		close(fd);
		fd = next;
		if (fd >= 0 && fstat(fd, &up) == 0 && up.st_dev == st.st_dev &&
		    up.st_ino == st.st_ino)
			break; /* "/" is its own parent */
	}
	if (fd >= 0)
		close(fd);
	return found;
}

/*
 * A tree's DEST must be neither the source directory (cp: "'a' and 'b'
 * are the same file") nor inside it. An existing DEST is looked at
 * itself, so that a/b/.. is a's parent, not a/b's child; a new one
 * through its directory.
 */
static int
check_top(const struct place *dst, const struct stat *src,
	  struct mapcp_report *r)
{
	int fd = RETRY(openat(dst->dirfd, dst->name,
			      O_PATH | O_DIRECTORY | O_CLOEXEC));
	struct stat st;
	bool in;

	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == src->st_dev &&
	    st.st_ino == src->st_ino) {
		close(fd);
		return fail(r, MAPCP_STEP_SAME_FILE, EINVAL);
	}
	in = inside(fd >= 0 ? fd : dst->dirfd, src);
	if (fd >= 0)
		close(fd);
	return in ? fail(r, MAPCP_STEP_INTO_SELF, EINVAL) : 0;
}

/* Descriptors: a deep tree keeps two open per level. Ask for all we may. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The top directory of a tree copy: make it, then walk. */
static void
copy_top_dir(struct tree *t, const char *src, const struct place *dst,
	     const struct stat *st)
{
	struct dir root = { .tree = t, .st = *st, .src_fd = -1, .dst_fd = -1,
			    .made_mode = (mode_t)-1 };
	struct stat dst_st;
	struct dir *d = calloc(1, sizeof(*d));
	struct mapcp_report r;
	int ret;

	entry_report(&r, src, dst->path, "directory");
	if (d == NULL) {
		emit(t, &r, fail(&r, MAPCP_STEP_MKDIR, ENOMEM));
		return;
	}
	*d = root;
	d->src_path = strdup(src);
	d->dst_path = strdup(dst->path);
	d->src_fd = RETRY(open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	ret = d->src_fd < 0 ? fail(&r, MAPCP_STEP_OPEN_SRC, errno) : 0;
	if (ret == 0 && dst->err)
		ret = fail(&r, MAPCP_STEP_MKDIR, dst->err);
	if (ret == 0)
		ret = check_top(dst, st, &r);
	if (ret == 0) {
		if (make_dir(t, dst->dirfd, dst->name, d) < 0 &&
		    errno != EEXIST)
			ret = fail(&r, MAPCP_STEP_MKDIR, errno);
	}
	if (ret == 0) {
		d->dst_fd = RETRY(openat(dst->dirfd, dst->name,
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		if (d->dst_fd < 0)
			ret = fail(&r,
				   errno == ENOTDIR ? MAPCP_STEP_NOT_DIR
						    : MAPCP_STEP_MKDIR,
				   errno);
	}
	if (ret == 0 && fstat(d->dst_fd, &dst_st) == 0)
		d->dst_dev = dst_st.st_dev;
	progress_done(t->opts);
	emit(t, &r, ret);
	if (ret < 0) {
		if (d->src_fd >= 0)
			close(d->src_fd);
		free(d->src_path);
		free(d->dst_path);
		free(d);
		return;
	}
	t->top_fd = d->dst_fd;
	atomic_init(&d->refs, 1);
	walk(t, d);
	stop_workers(t); /* every file done before the top directory ends */
	unref(d);
}

static unsigned long
copy_tree(const char *src, const struct place *dst, const struct stat *st,
	  const struct mapcp_opts *opts)
{
	struct tree t = { .opts = opts };
	unsigned long failures;

	pthread_mutex_init(&t.lock, NULL);
	pthread_mutex_init(&t.out, NULL);
	pthread_cond_init(&t.work, NULL);
	atomic_init(&t.failures, 0);
	raise_fd_limit();
	start_workers(&t);
	copy_top_dir(&t, src, dst, st);
	stop_workers(&t); /* if copy_top_dir() did not get that far */
	for (size_t i = 0; i < t.nlinks; i++)
		free(t.links[i].rel);
	free(t.links);
	failures = atomic_load(&t.failures);
	pthread_mutex_destroy(&t.lock);
	pthread_mutex_destroy(&t.out);
	pthread_cond_destroy(&t.work);
	return failures;
}

unsigned long
mapcp_copy(const char *src, const char *dst, const struct mapcp_opts *opts)
{
	struct tree t = { .opts = opts };
	bool recursive = opts->flags & MAPCP_RECURSIVE;
	bool follow = opts->deref == MAPCP_DEREF_ALWAYS ||
		      opts->deref == MAPCP_DEREF_ARGS ||
		      (opts->deref == MAPCP_DEREF_DEFAULT && !recursive);
	struct place s = { AT_FDCWD, src, src, 0, 0 }, d;
	struct mapcp_report r;
	struct stat st;
	int dirfd;

	pthread_mutex_init(&t.out, NULL);
	atomic_init(&t.failures, 0);
	place_of_path(dst, &d, &dirfd);
	if ((follow ? stat(src, &st) : lstat(src, &st)) < 0) {
		entry_report(&r, src, dst, NULL);
		progress_done(opts);
		emit(&t, &r, fail(&r, MAPCP_STEP_STAT_SRC, errno));
	} else if (S_ISDIR(st.st_mode) && recursive) {
		atomic_fetch_add(&t.failures, copy_tree(src, &d, &st, opts));
	} else if (S_ISLNK(st.st_mode) || (recursive && !S_ISREG(st.st_mode) &&
					   !S_ISDIR(st.st_mode))) {
		copy_other(&t, &s, &d, &st);
	} else {
		emit(&t, &r, copy_file_at(&s, &d, 0, opts, &r));
	}
	if (dirfd >= 0)
		close(dirfd);
	pthread_mutex_destroy(&t.out);
	return atomic_load(&t.failures);
}

/* Add what is below fd to p's totals. */
static void
scan_dir(int fd, struct mapcp_progress *p, bool follow)
{
	struct entry *entries;
	size_t n;

	if (read_dir(fd, &entries, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (p->cancel) {
			free(entries[i].name);
			continue;
		}
		if (fstatat(fd, entries[i].name, &st,
			    follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0) {
			p->total_files++;
			if (S_ISREG(st.st_mode))
				p->total_bytes +=
					(unsigned long long)st.st_size;
			if (S_ISDIR(st.st_mode)) {
				int sub = RETRY(openat(
					fd, entries[i].name,
					O_RDONLY | O_DIRECTORY | O_CLOEXEC |
						(follow ? 0 : O_NOFOLLOW)));

				if (sub >= 0) {
					scan_dir(sub, p, follow);
					close(sub);
				}
			}
		}
		free(entries[i].name);
	}
	free(entries);
}

void
mapcp_scan(const char *const *srcs, int n, const struct mapcp_opts *opts,
	   struct mapcp_progress *p)
{
	bool recursive = opts->flags & MAPCP_RECURSIVE;
	bool follow = opts->deref == MAPCP_DEREF_ALWAYS ||
		      opts->deref == MAPCP_DEREF_ARGS ||
		      (opts->deref == MAPCP_DEREF_DEFAULT && !recursive);

	for (int i = 0; i < n && !p->cancel; i++) {
		struct stat st;
		int fd;

		if ((follow ? stat(srcs[i], &st) : lstat(srcs[i], &st)) < 0)
			continue;
		p->total_files++;
		if (S_ISREG(st.st_mode))
			p->total_bytes += (unsigned long long)st.st_size;
		if (!S_ISDIR(st.st_mode) || !recursive)
			continue;
		fd = RETRY(open(srcs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		if (fd >= 0) {
			scan_dir(fd, p, opts->deref == MAPCP_DEREF_ALWAYS);
			close(fd);
		}
	}
	p->scanned = !p->cancel;
}
