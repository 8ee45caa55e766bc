/*
 * Entries that are not a regular file's data: symlinks (symlinkat),
 * FIFOs, sockets and devices (mknodat), and later names of hard-linked
 * files (linkat to the first name's copy). Each is made under its name
 * if that is free, else under a hidden temporary name beside it, then
 * renamed over what was there: an existing entry is never missing for a
 * moment. What was made is opened at once (O_PATH, O_NOFOLLOW) and
 * checked to be it, and its owner, mode and times are set through that
 * descriptor, never by name: a name another user swapped meanwhile leads
 * nowhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree.h"

/* How to make one kind of entry at dirfd/name. 0, or -1 and errno. */
struct maker {
	int (*make)(const struct maker *m, int dirfd, const char *name);
	mode_t type;              /* S_IFMT of what it makes */
	const char *target;       /* symlink */
	const struct stat *st;    /* special file, */
	mode_t mode;              /* ... made with these permissions */
	uid_t euid;               /* who we are: the owner of what we make */
	int link_fd;              /* hard link: the first name's copy */
	const struct place *from; /* -l: or SOURCE itself, */
	int link_flags;           /* ... followed if AT_SYMLINK_FOLLOW */
	bool linked;              /* a hard link, to the file dev, ino: */
	dev_t dev;
	ino_t ino;
};

static int
make_symlink(const struct maker *m, int dirfd, const char *name)
{
	return RETRY(symlinkat(m->target, dirfd, name));
}

static int
make_node(const struct maker *m, int dirfd, const char *name)
{
	return RETRY(mknodat(dirfd, name, (m->st->st_mode & S_IFMT) | m->mode,
			     m->st->st_rdev));
}

static int
make_link(const struct maker *m, int dirfd, const char *name)
{
	int ret = link_fd(m->link_fd, dirfd, name);

	errno = -ret;
	return ret < 0 ? -1 : 0;
}

static int
make_hard(const struct maker *m, int dirfd, const char *name)
{
	return RETRY(linkat(m->from->dirfd, m->from->name, dirfd, name,
			    m->link_flags));
}

/*
 * Open what m just made at dirfd/name, and check that it is that: for a
 * hard link the very file, else an entry of its type that is ours and
 * has no other name. -EAGAIN if someone put something else there.
 */
static int
open_made(const struct maker *m, int dirfd, const char *name)
{
	int fd = RETRY(openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
	struct stat st;
	bool ok;

	if (fd < 0)
		return errno == ENOENT ? -EAGAIN : -errno;
	if (fstat(fd, &st) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	ok = m->linked ? st.st_dev == m->dev && st.st_ino == m->ino
		       : (st.st_mode & S_IFMT) == m->type &&
				 st.st_uid == m->euid && st.st_nlink == 1;
	if (!ok) {
		close(fd);
		return -EAGAIN;
	}
	return fd;
}

/* Make the entry under a hidden name, check it, rename it over dst. */
static int
make_beside(const struct maker *m, const struct place *dst)
{
	struct atomic a = { .dirfd = dst->dirfd, .name = dst->name };
	int fd = -EEXIST, handle = 0;

	for (int tries = 0; tries < 100 && fd == -EEXIST; tries++) {
		temp_name(&a);
		handle = temp_track(dst->dirfd, a.tmpname);
		fd = m->make(m, dst->dirfd, a.tmpname) == 0 ? 0 : -errno;
		if (fd == 0) {
			temp_made(handle);
			fd = open_made(m, dst->dirfd, a.tmpname);
		} else {
			temp_untrack(handle);
		}
	}
	if (fd >= 0 &&
	    RETRY(renameat(dst->dirfd, a.tmpname, dst->dirfd, dst->name)) < 0) {
		int err = errno;

		close(fd);
		fd = -err;
	}
	if (fd < 0 && fd != -EEXIST)
		(void)RETRY(unlinkat(dst->dirfd, a.tmpname, 0));
	temp_untrack(handle);
	return fd;
}

/* What lets cp replace what is in the way of a link it makes. */
#define REPLACED_IF_FORCED (MAPCP_FORCE | MAPCP_REMOVE_DEST)

/*
 * Make dst with m. If the name is taken, -n, -u and -i decide whether it
 * stays (returns -EEXIST with r->skipped set); if not, the new entry
 * replaces it atomically. allowed_by (cp -l, -s, --attributes-only): it
 * stays, and that is -EEXIST, unless -b or one of these flags (-f,
 * --remove-destination; for -l also a yes to -i) lets it be replaced.
 * Returns an O_PATH fd of the new entry, or -errno.
 */
static int
replace_entry(const struct mapcp_opts *o, const struct maker *m,
	      const struct place *dst, const struct stat *src,
	      unsigned int allowed_by, struct mapcp_report *r)
{
	struct stat old;
	int fd, how = -1;

	if (dst->err)
		return -dst->err;
	if (m->make(m, dst->dirfd, dst->name) == 0)
		return open_made(m, dst->dirfd, dst->name);
	if (errno != EEXIST)
		return -errno;
	if (fstatat(dst->dirfd, dst->name, &old, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (dest_kept(o, &old, src, dst->path, &r->why)) {
		r->skipped = true;
		return o->flags & MAPCP_NO_CLOBBER_FAIL
			       ? report_fail(r, MAPCP_STEP_NOT_REPLACING,
					     EEXIST)
			       : -EEXIST;
	}
	if (allowed_by != 0 && o->backup == MAPCP_BACKUP_NONE &&
	    !(o->flags & allowed_by))
		return -EEXIST;
	/* -b: what is there is kept under its backup name first */
	if (o->backup != MAPCP_BACKUP_NONE && !S_ISDIR(old.st_mode)) {
		int ret = backup_name(o, dst->dirfd, dst->name, r->backup,
				      sizeof(r->backup));

		if (ret == 0)
			ret = how =
				backup_keep(dst->dirfd, dst->name, r->backup);
		if (ret < 0)
			return ret;
	}
	fd = make_beside(m, dst);
	if (fd < 0 && how >= 0) { /* DEST as it was, and no backup */
		backup_undo(dst->dirfd, dst->name, r->backup, how);
		r->backup[0] = '\0';
	}
	return fd;
}

/* replace_entry()'s failure as a report; EISDIR: rename(2) cannot. */
static int
made_fail(struct mapcp_report *r, int ret, enum mapcp_step step)
{
	if (ret == -EEXIST && r->skipped)
		return r->step == MAPCP_STEP_NONE ? 0 : ret;
	if (ret == -EAGAIN)
		return report_fail(r, MAPCP_STEP_MOVED, EAGAIN);
	return report_fail(r, ret == -EISDIR ? MAPCP_STEP_DST_IS_DIR : step,
			   -ret);
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
	if (same_file(&dl, st))
		return true;
	if (S_ISLNK(st->st_mode) && S_ISLNK(dl.st_mode))
		return false;
	d = dl;
	if ((S_ISLNK(st->st_mode) &&
	     fstatat(src->dirfd, src->name, &s, 0) < 0) ||
	    (S_ISLNK(dl.st_mode) && fstatat(dst->dirfd, dst->name, &d, 0) < 0))
		return false;
	return same_file(&s, &d);
}

/* What copy_other() says it makes. */
static const char *
kind(const struct stat *st)
{
	return S_ISLNK(st->st_mode)    ? "symbolic link"
	       : S_ISFIFO(st->st_mode) ? "FIFO"
	       : S_ISSOCK(st->st_mode) ? "socket"
				       : "device";
}

/* Make dst as src is, then give it src's metadata (through its fd). */
static int
make_other(const struct mapcp_opts *o, uid_t euid, const struct place *src,
	   const struct place *dst, const struct stat *st, bool want_inode,
	   struct mapcp_report *r)
{
	struct stat made;
	char target[PATH_MAX + 1];
	struct maker m = { .type = st->st_mode & S_IFMT,
			   .st = st,
			   .mode = st->st_mode & 0777,
			   .euid = euid };
	int fd, ret;

	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(src->dirfd, src->name, target, PATH_MAX);

		if (n < 0)
			return report_fail(r, MAPCP_STEP_READLINK, errno);
		target[n] = '\0';
		m.make = make_symlink;
		m.target = target;
	} else {
		m.make = make_node;
		/* --no-preserve=mode: a new file's default, as in cp */
		if (o->flags & MAPCP_DEFAULT_MODES)
			m.mode = S_ISSOCK(st->st_mode) ? 0777 : 0666;
	}
	/* with -b nothing is lost: the entry in the way is kept aside */
	if (!(o->flags & MAPCP_NO_CLOBBER) && o->backup == MAPCP_BACKUP_NONE &&
	    same_entry(src, dst, st)) {
		/* a symlink's other name is that symlink already: done */
		if (S_ISLNK(st->st_mode) && !same_dirent(src, dst) &&
		    fstatat(dst->dirfd, dst->name, &made,
			    AT_SYMLINK_NOFOLLOW) == 0 &&
		    same_file(&made, st))
			return 0;
		return report_fail(r, MAPCP_STEP_SAME_FILE, EINVAL);
	}
	/* --attributes-only: what is there stays, unless -f says otherwise */
	fd = replace_entry(
		o, &m, dst, st,
		o->flags & MAPCP_ATTRIBUTES_ONLY ? REPLACED_IF_FORCED : 0, r);
	if (fd < 0)
		return made_fail(r, fd,
				 S_ISLNK(st->st_mode)    ? MAPCP_STEP_SYMLINK
				 : S_ISFIFO(st->st_mode) ? MAPCP_STEP_FIFO
							 : MAPCP_STEP_SPECIAL);
	ret = o->preserve ? meta_apply_node(o, fd, st, r) : 0;
	if (ret == 0 && want_inode && fstat(fd, &made) == 0) {
		r->dst_dev = made.st_dev; /* for later hard links to it */
		r->dst_ino = made.st_ino;
	}
	close(fd);
	return ret;
}

void
copy_other(struct mapcp_session *s, const struct place *src,
	   const struct place *dst, const struct stat *st)
{
	struct mapcp_report r;

	entry_report(&r, src->path, dst->path, kind(st));
	emit(s, &r, make_other(s->opts, s->euid, src, dst, st, false, &r));
	progress_done(s->opts);
}

bool
links_wanted(const struct mapcp_opts *o, const struct stat *st,
	     bool command_line)
{
	if (!(o->preserve & MAPCP_PRESERVE_LINKS) || S_ISDIR(st->st_mode))
		return false;
	return st->st_nlink > 1 || o->deref == MAPCP_DEREF_ALWAYS ||
	       (command_line && o->deref == MAPCP_DEREF_ARGS);
}

/* Open dir (components of rel, no symlink followed) below fd. */
static int
open_below(int fd, const char *rel, size_t len)
{
	char name[NAME_MAX + 1];
	int cur = RETRY(fcntl(fd, F_DUPFD_CLOEXEC, 0));

	while (cur >= 0 && len > 0) {
		size_t n = strcspn(rel, "/");
		int next;

		if (n > NAME_MAX || n > len) {
			close(cur);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, rel, n);
		name[n] = '\0';
		next = RETRY(
			openat(cur, name,
			       O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
		close(cur);
		cur = next;
		rel += n + (n < len);
		len -= n + (n < len);
	}
	return cur;
}

/* The directory a command-line path is in, and its name there. */
static int
open_dir_of(const char *path, const char **base)
{
	struct place p;
	int fd;

	place_of_path(path, &p, &fd);
	*base = p.name;
	if (p.dirfd == AT_FDCWD)
		return open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

/* The command-line top t, if it is still the directory it was. */
static int
open_top(const struct top *t)
{
	int fd = open(t->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != t->dev ||
			st.st_ino != t->ino)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	return fd;
}

/*
 * The directory holding l's copy, opened from its command-line top
 * (followed, as given) down, no symlink followed below it; *base is the
 * copy's name in it. The last one opened is kept, since hard links come
 * in directories. An fd, or -1 and errno.
 */
static int
link_dir(struct mapcp_session *s, const struct link *l, const char **base)
{
	const struct top *top = &s->tops[l->top];
	const char *slash = strrchr(l->rel, '/');
	size_t len = slash ? (size_t)(slash - l->rel) : 0;
	char *key = NULL;
	int fd;

	*base = slash ? slash + 1 : l->rel;
	if (asprintf(&key, "%u/%.*s", l->top, (int)len, l->rel) < 0)
		return -1;
	if (s->link_dir != NULL && strcmp(s->link_dir, key) == 0 &&
	    *l->rel != '\0') {
		free(key);
		return s->link_dirfd;
	}
	if (*l->rel == '\0') { /* a command-line file: its own directory */
		fd = open_dir_of(top->path, base);
	} else {
		int tfd = open_top(top);

		fd = tfd < 0 ? -1 : open_below(tfd, l->rel, len);
		if (tfd >= 0)
			close(tfd);
	}
	if (fd < 0) {
		free(key);
		return -1;
	}
	if (s->link_dir != NULL)
		close(s->link_dirfd);
	free(s->link_dir);
	s->link_dir = key;
	s->link_dirfd = fd;
	return fd;
}

/* Link dst to l's copy. 0 or -errno (r filled). */
static int
link_to(struct mapcp_session *s, const struct link *l, const struct place *dst,
	const struct stat *st, struct mapcp_report *r)
{
	struct maker m = {
		.make = make_link, .linked = true, .dev = l->dev, .ino = l->ino
	};
	struct mapcp_opts o = *s->opts;
	struct stat now;
	const char *base;
	int dirfd = link_dir(s, l, &base);
	int fd;

	if (dirfd < 0)
		return report_fail(r, MAPCP_STEP_LINK, errno);
	m.link_fd = open_made(&m, dirfd, base);
	if (m.link_fd < 0)
		return report_fail(r, MAPCP_STEP_LINK,
				   m.link_fd == -EAGAIN ? ENOENT : -m.link_fd);
	if (fstatat(dst->dirfd, dst->name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now.st_dev == l->dev && now.st_ino == l->ino) {
		close(m.link_fd);
		return 0; /* linked already: rename would do nothing */
	}
	/* cp links later names whatever -u says of them */
	o.flags &= ~(unsigned)MAPCP_UPDATE;
	fd = replace_entry(&o, &m, dst, st, 0, r);
	close(m.link_fd);
	if (fd < 0)
		return made_fail(r, fd, MAPCP_STEP_LINK);
	close(fd);
	return 0;
}

/* Remember that st's file was copied to top/rel (r: the copy's inode). */
static void
remember(struct mapcp_session *s, const struct stat *st, unsigned int top,
	 const char *rel, const struct mapcp_report *r)
{
	size_t n = strlen(rel) + 1;
	struct link *l = malloc(sizeof(*l) + n);

	if (l == NULL)
		return; /* a later name becomes a copy: still right */
	l->dev = r->dst_dev;
	l->ino = r->dst_ino;
	l->top = top;
	memcpy(l->rel, rel, n);
	if (idmap_put(&s->links, st->st_dev, st->st_ino, l) < 0)
		free(l);
}

void
copy_linked(struct mapcp_session *s, const struct place *src,
	    const struct place *dst, const struct stat *st, unsigned int hints,
	    unsigned int top, const char *rel)
{
	const struct link *l = idmap_get(&s->links, st->st_dev, st->st_ino);
	bool as_itself = hints & COPY_AS_ITSELF;
	struct mapcp_report r;
	int ret;

	if (l == NULL && as_itself) { /* a symlink or special file */
		entry_report(&r, src->path, dst->path, kind(st));
		ret = make_other(s->opts, s->euid, src, dst, st, true, &r);
		if (ret == 0 && !r.skipped && r.dst_ino != 0)
			remember(s, st, top, rel, &r);
		progress_done(s->opts);
	} else if (l == NULL) {
		ret = copy_file_at(src, dst, hints | COPY_WANT_INODE, s->opts,
				   &r);
		/* kept by -u, DEST is still what later names link to, as in
		 * cp; not so by -n or -i, which keep every name as it is */
		if (ret == 0 && r.dst_ino != 0 &&
		    (!r.skipped || !(s->opts->flags &
				     (MAPCP_NO_CLOBBER | MAPCP_INTERACTIVE))))
			remember(s, st, top, rel, &r);
	}
	if (l == NULL) {
		emit(s, &r, ret);
		return;
	}
	entry_report(&r, src->path, dst->path, "hard link");
	ret = link_to(s, l, dst, st, &r);
	progress_done(s->opts);
	emit(s, &r, ret);
}

/* Is dst's directory the current one? -s makes relative links only there. */
static bool
in_cwd(const struct place *dst)
{
	struct stat here, dir;

	if (dst->dirfd == AT_FDCWD)
		return true;
	return stat(".", &here) < 0 || fstat(dst->dirfd, &dir) < 0 ||
	       same_file(&here, &dir);
}

/*
 * cp -l, -s for one SOURCE that is not a directory (st as seen, followed
 * if follow). cp's same-file rules: with -l, a DEST that is SOURCE's file
 * already is left as it is and that is success; with -s, a DEST that is
 * what SOURCE resolves to (not a symlink itself) would become a link to
 * itself, and is refused.
 */
static int
make_link_to(const struct mapcp_session *s, const struct place *src,
	     const struct place *dst, const struct stat *st, bool follow,
	     struct mapcp_report *r)
{
	bool hard = s->opts->make == MAPCP_MAKE_HARD_LINK;
	enum mapcp_step step = hard ? MAPCP_STEP_LINK : MAPCP_STEP_SYMLINK_TO;
	struct maker m = { .from = src, .euid = s->euid };
	struct stat old, to = *st;
	struct place beside;
	int fd;

	if (dst->err)
		return report_fail(r, step, dst->err);
	/* cp -fbl F F: F linked as its own backup, F.~1~ or F~, as with -fb */
	if (s->opts->backup != MAPCP_BACKUP_NONE &&
	    (s->opts->flags & MAPCP_FORCE) && S_ISREG(st->st_mode) &&
	    same_dirent(src, dst)) {
		if ((fd = backup_name(s->opts, dst->dirfd, dst->name, r->backup,
				      sizeof(r->backup))) < 0)
			return report_fail(r, MAPCP_STEP_BACKUP, -fd);
		r->backup_of_src = true;
		beside = *dst;
		beside.name = r->backup;
		dst = &beside;
	}
	if (!dst->err &&
	    fstatat(dst->dirfd, dst->name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!follow && S_ISLNK(st->st_mode) &&
		    fstatat(src->dirfd, src->name, &to, 0) < 0)
			to = *st;
		if (hard && (same_file(&old, st) ||
			     (!S_ISLNK(old.st_mode) && same_file(&old, &to))))
			return 0;
		if (!hard && !S_ISLNK(old.st_mode) && same_file(&old, &to))
			return report_fail(r, MAPCP_STEP_SAME_FILE, EINVAL);
	}
	if (hard) {
		m.make = make_hard;
		m.link_flags = follow ? AT_SYMLINK_FOLLOW : 0;
		m.linked = true;
		m.dev = st->st_dev;
		m.ino = st->st_ino;
	} else {
		if (src->path[0] != '/' && !in_cwd(dst))
			return report_fail(r, MAPCP_STEP_RELATIVE_LINK, EINVAL);
		m.make = make_symlink;
		m.type = S_IFLNK;
		m.target = src->path;
	}
	/* cp: -i's yes replaces what is in the way of a hard link only */
	fd = replace_entry(s->opts, &m, dst, st,
			   hard ? REPLACED_IF_FORCED | MAPCP_INTERACTIVE
				: REPLACED_IF_FORCED,
			   r);
	if (fd < 0)
		return made_fail(r, fd, step);
	close(fd);
	return 0;
}

void
link_source(struct mapcp_session *s, const struct place *src,
	    const struct place *dst, const struct stat *st, bool follow)
{
	struct mapcp_report r;

	entry_report(&r, src->path, dst->path,
		     s->opts->make == MAPCP_MAKE_HARD_LINK ? "hard link"
							   : "symbolic link");
	emit(s, &r, make_link_to(s, src, dst, st, follow, &r));
	progress_done(s->opts);
}
