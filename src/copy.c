/*
 * One file's copy, start to finish (DESIGN.md "One file's journey"): open
 * and check the source, check DEST, open the temporary (or DEST itself
 * with --inplace), run the planner's engines over the extents, check the
 * source kept its size, verify if asked, give the temporary its metadata,
 * and only then make it DEST. Every failure before that last step leaves
 * DEST as it was. Everything is relative to directory fds (openat,
 * fstatat, linkat...), so a tree of any depth copies file by file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core.h"

/* Where the bytes go, as found before the copy. */
struct dest {
	int dirfd;               /* DEST's directory, or a symlink target's */
	bool own_fd;             /* dirfd is ours to close */
	char name[NAME_MAX + 1]; /* the name in it */
	struct stat st;
	bool exists;
	bool writable; /* we may write it, so its mode carries over */
	bool in_way;   /* a tree's symlink or special file: replaced whole */
	bool magic;    /* reached through /proc's fd links: written in place */
	bool made;     /* --inplace made it: removed if the copy fails */
	bool is_dir;   /* a directory: cannot be overwritten */
	bool unwritable; /* a file we may not write: replaced only with -f */
};

/*
 * A tree's regular file may have been swapped, since it was listed, for
 * a FIFO (an open that would block for ever), a device or a symlink: it
 * is opened without blocking or following, and must still be a regular
 * file. cp says "skipping file ..., as it was replaced while being copied".
 */
static int
expect_regular(struct mapcp_job *job, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return job_fail(job, MAPCP_STEP_REPLACED, EAGAIN);
	/*
	 * O_NONBLOCK is the only status flag it was opened with: clear it in
	 * one call (io_uring would return EAGAIN, not wait, with it set).
	 */
	if (fcntl(job->src_fd, F_SETFL, 0) < 0)
		return job_fail(job, MAPCP_STEP_OPEN_SRC, errno);
	return 0;
}

static int
open_source(struct mapcp_job *job, const struct place *src, unsigned int hints,
	    struct stat *st)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;

	if (hints & COPY_NOFOLLOW)
		flags |= O_NOFOLLOW; /* a tree's entry swapped for a symlink */
	if (hints & COPY_EXPECT_REG)
		flags |= O_NONBLOCK;
	job->src_fd = RETRY(openat(src->dirfd, src->name, flags));
	if (job->src_fd < 0) {
		int err = errno;
		struct stat tmp;

		if (err == ELOOP && (hints & COPY_EXPECT_REG) &&
		    (hints & COPY_NOFOLLOW))
			return job_fail(job, MAPCP_STEP_REPLACED, err);
		/* cp's wording: "cannot stat" unless the file is there. */
		if (fstatat(src->dirfd, src->name, &tmp, 0) < 0)
			return job_fail(job, MAPCP_STEP_STAT_SRC, errno);
		return job_fail(job, MAPCP_STEP_OPEN_SRC, err);
	}
	if (fstat(job->src_fd, st) < 0)
		return job_fail(job, MAPCP_STEP_STAT_SRC, errno);
	if (hints & COPY_EXPECT_REG)
		return expect_regular(job, st);
	if (S_ISDIR(st->st_mode))
		return job_fail(job, MAPCP_STEP_IS_DIR, EISDIR);
	return 0;
}

/* Filesystems whose files' sizes say nothing of their contents. */
static bool
pseudo_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return false;
	switch (sf.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
		return true;
	default:
		return false;
	}
}

/* Why the source must be read as a stream, or NULL if it can be mapped. */
static const char *
stream_reason(int fd, const struct stat *st)
{
	if (S_ISFIFO(st->st_mode))
		return "the source is a FIFO";
	if (S_ISCHR(st->st_mode))
		return "the source is a character device";
	if (S_ISBLK(st->st_mode))
		return "the source is a block device";
	if (S_ISSOCK(st->st_mode))
		return "the source is a socket";
	/* Pseudo filesystems have anonymous devices: skip fstatfs otherwise. */
	if (major(st->st_dev) == 0 && pseudo_fs(fd))
		return "the source is a /proc or /sys file, its size is no "
		       "guide";
	if (st->st_size == 0)
		return "the source's size reads 0";
	return NULL;
}

/*
 * Move d to a symlink's target: its directory, opened from d's, and its
 * name. On failure d is left as it was.
 */
static int
follow_link(struct dest *d, const char *target)
{
	const char *slash = strrchr(target, '/');
	const char *name = slash ? slash + 1 : target;
	char dir[PATH_MAX + 1];
	int fd;

	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	if (slash != NULL) {
		snprintf(dir, sizeof(dir), "%.*s",
			 slash == target ? 1 : (int)(slash - target), target);
		fd = RETRY(openat(d->dirfd, dir,
				  O_PATH | O_DIRECTORY | O_CLOEXEC));
		if (fd < 0)
			return -errno;
		if (d->own_fd)
			close(d->dirfd);
		d->dirfd = fd;
		d->own_fd = true;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	return 0;
}

/*
 * DEST is a symlink: put its target, followed to the end, in d (cp writes
 * through symlinks). -ENOENT at the end is a dangling link.
 */
static int
resolve_link(struct dest *d)
{
	for (int hops = 0; hops < 40; hops++) {
		char target[PATH_MAX + 1];
		ssize_t n;
		int ret;
		struct statfs sf;

		/*
		 * /proc/self/fd/N (/dev/stdout, /dev/fd/N) is no path but the
		 * kernel's link to an open file: "pipe:[N]", a deleted file.
		 * Only the kernel can follow it, and there is no directory to
		 * replace it in: DEST is what it opens, written in place.
		 */
		if (fstatfs(d->dirfd, &sf) == 0 &&
		    sf.f_type == PROC_SUPER_MAGIC) {
			if (fstatat(d->dirfd, d->name, &d->st, 0) < 0)
				return -errno;
			d->magic = true;
			return 0;
		}
		n = readlinkat(d->dirfd, d->name, target, PATH_MAX);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		ret = follow_link(d, target);
		if (ret < 0)
			return ret;
		if (fstatat(d->dirfd, d->name, &d->st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (!S_ISLNK(d->st.st_mode))
			return 0;
	}
	return -ELOOP;
}

/* The last name of path, "" for "dir/". */
static const char *
base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The highest N of the backups NAME.~N~ in dirfd, 0 if none. */
static unsigned long
last_backup(int dirfd, const char *name)
{
	int fd = RETRY(openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	size_t len = strlen(name);
	unsigned long max = 0;
	struct dirent *e;
	DIR *dir;

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(dir)) != NULL) {
		const char *p = e->d_name + len;
		char *end;
		unsigned long n;

		if (strncmp(e->d_name, name, len) != 0 ||
		    strncmp(p, ".~", 2) != 0 || p[2] < '1' || p[2] > '9')
			continue;
		n = strtoul(p + 2, &end, 10);
		if (strcmp(end, "~") == 0 && n > max)
			max = n;
	}
	closedir(dir);
	return max;
}

/*
 * -b: an existing DEST (not a directory) will be kept under its backup
 * name, cp's: NAME + suffix, or NAME.~N~. As in cp, DEST itself is then
 * replaced whole, never written through; and a backup that would be the
 * source is refused.
 */
int
backup_name(const struct mapcp_opts *o, int dirfd, const char *name, char *b,
	    size_t size)
{
	unsigned long last =
		o->backup == MAPCP_BACKUP_SIMPLE ? 0 : last_backup(dirfd, name);
	int n;

	if (o->backup == MAPCP_BACKUP_NUMBERED ||
	    (o->backup == MAPCP_BACKUP_EXISTING && last > 0))
		n = snprintf(b, size, "%s.~%lu~", name, last + 1);
	else
		n = snprintf(b, size, "%s%s", name, o->backup_suffix);
	if (n < 0 || (size_t)n >= size || n > NAME_MAX) {
		*b = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

/* The directory a place's name is in. 0 or -1 and errno. */
static int
stat_dir_of(const struct place *p, struct stat *st)
{
	const char *slash = strrchr(p->name, '/');
	char *dir;
	int ret;

	if (slash == NULL)
		return fstatat(p->dirfd, ".", st, 0);
	dir = strndup(p->name,
		      slash == p->name ? 1 : (size_t)(slash - p->name));
	if (dir == NULL)
		return -1;
	ret = fstatat(p->dirfd, dir, st, 0);
	free(dir);
	return ret;
}

bool
same_dirent(const struct place *a, const struct place *b)
{
	struct stat da, db;

	return strcmp(base_of(a->name), base_of(b->name)) == 0 &&
	       stat_dir_of(a, &da) == 0 && stat_dir_of(b, &db) == 0 &&
	       same_file(&da, &db);
}

/*
 * cp's rules when DEST is SOURCE's file: backing up another name of it
 * is fine, and the copy replaces that name; the very entry is backed up
 * only with -f (cp -fb F F copies F to its backup); and a symlink SOURCE
 * is refused, since its target would go to the backup and leave it
 * dangling.
 */
static int
plan_backup(struct mapcp_job *job, const struct place *srcp,
	    const struct place *dstp, struct dest *d, const struct stat *src)
{
	const struct mapcp_opts *o = job->opts;
	char *b = job->report->backup;
	bool same = same_file(&d->st, src);
	bool entry = same && same_dirent(srcp, dstp);
	struct stat st;
	int ret;

	if (same && !S_ISLNK(d->st.st_mode) &&
	    fstatat(srcp->dirfd, srcp->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return job_fail(job, MAPCP_STEP_SAME_FILE, EINVAL);
	if (entry && !(o->flags & MAPCP_FORCE))
		return job_fail(job, MAPCP_STEP_SAME_FILE, EINVAL);
	ret = backup_name(o, d->dirfd, d->name, b, sizeof(job->report->backup));
	if (ret < 0)
		return job_fail(job, MAPCP_STEP_BACKUP, -ret);
	if (o->backup != MAPCP_BACKUP_NUMBERED &&
	    fstatat(d->dirfd, b, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    same_file(&st, src)) {
		*b = '\0';
		return job_fail(job, MAPCP_STEP_BACKUP_IS_SRC, EINVAL);
	}
	job->report->backup_of_src = entry;
	d->exists = d->in_way = true;
	return 0;
}

int
backup_keep(int dirfd, const char *name, const char *b)
{
	if (RETRY(linkat(dirfd, name, dirfd, b, 0)) == 0)
		return BACKUP_LINKED;
	if (errno == ENOENT) /* DEST is gone: nothing to keep */
		return BACKUP_NOTHING;
	if (errno == EEXIST && RETRY(unlinkat(dirfd, b, 0)) == 0 &&
	    RETRY(linkat(dirfd, name, dirfd, b, 0)) == 0)
		return BACKUP_LINKED;
	/* no second name to be had (tmpfs out of inodes): moved aside */
	if (RETRY(renameat(dirfd, name, dirfd, b)) == 0)
		return BACKUP_RENAMED;
	return -errno;
}

void
backup_undo(int dirfd, const char *name, const char *b, int how)
{
	struct stat sn, sb;

	if (how == BACKUP_RENAMED)
		(void)RETRY(renameat2(dirfd, b, dirfd, name, RENAME_NOREPLACE));
	else if (how == BACKUP_LINKED &&
		 fstatat(dirfd, name, &sn, AT_SYMLINK_NOFOLLOW) == 0 &&
		 fstatat(dirfd, b, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		 same_file(&sn, &sb))
		(void)RETRY(unlinkat(dirfd, b, 0));
}

/* Look at DEST: follow a symlink, refuse a directory or the source itself. */
static int
check_dest(struct mapcp_job *job, const struct place *srcp,
	   const struct place *dst, unsigned int hints, const struct stat *src,
	   struct dest *d)
{
	int ret;

	d->dirfd = dst->dirfd;
	if (strlen(dst->name) > NAME_MAX)
		return job_fail(job, MAPCP_STEP_CREATE, ENAMETOOLONG);
	snprintf(d->name, sizeof(d->name), "%s", dst->name);
	if (*d->name == '\0') /* "dest/" that is not a directory, or "" */
		return job_fail(job, MAPCP_STEP_CREATE,
				*dst->path != '\0' ? ENOTDIR : ENOENT);
	if (dst->err != 0) /* its directory could not be opened */
		return job_fail(job, MAPCP_STEP_CREATE, dst->err);
	if (hints & COPY_DST_ABSENT)
		return 0;
	if (fstatat(d->dirfd, d->name, &d->st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return job_fail(job,
				errno == ENOTDIR ? MAPCP_STEP_CREATE
						 : MAPCP_STEP_STAT_DST,
				errno);
	}
	if (job->opts->backup != MAPCP_BACKUP_NONE && !S_ISDIR(d->st.st_mode))
		return plan_backup(job, srcp, dst, d, src);
	/*
	 * --remove-destination: what is there is removed, not written into
	 * nor followed (a symlink, a FIFO, a file we may not write), as cp
	 * unlinks it first; the rename replaces it whole. The source's own
	 * name is still the same file; another hard link to it is not.
	 */
	if ((job->opts->flags & MAPCP_REMOVE_DEST) && !S_ISDIR(d->st.st_mode) &&
	    !(same_file(&d->st, src) &&
	      (d->st.st_nlink < 2 ||
	       strcmp(base_of(job->src_path), d->name) == 0))) {
		d->exists = d->in_way = true;
		return 0;
	}
	if ((hints & COPY_IN_TREE) && !S_ISREG(d->st.st_mode) &&
	    !S_ISDIR(d->st.st_mode)) {
		/* Never followed nor written into: replaced, as if absent. */
		d->exists = d->in_way = true;
		return 0;
	}
	ret = S_ISLNK(d->st.st_mode) ? resolve_link(d) : 0;
	if (ret == -ELOOP && (job->opts->flags & MAPCP_FORCE)) {
		/* cp -f: a symlink loop is replaced, as if it were not there */
		if (d->own_fd)
			close(d->dirfd);
		d->own_fd = false;
		d->dirfd = dst->dirfd;
		snprintf(d->name, sizeof(d->name), "%s", dst->name);
		return 0;
	}
	/*
	 * POSIX (and cp under POSIXLY_CORRECT): the copy makes a dangling
	 * symlink's target, if d reached it (its directory exists).
	 */
	if (ret == -ENOENT && (job->opts->flags & MAPCP_THROUGH_DANGLING) &&
	    fstatat(d->dirfd, d->name, &d->st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT) {
		memset(&d->st, 0, sizeof(d->st));
		return 0;
	}
	if (ret < 0)
		return job_fail(job,
				ret == -ENOENT ? MAPCP_STEP_DANGLING
					       : MAPCP_STEP_STAT_DST,
				-ret);
	if (same_file(&d->st, src)) {
		if (!(job->opts->flags & MAPCP_NO_CLOBBER))
			return job_fail(job, MAPCP_STEP_SAME_FILE, EINVAL);
		d->exists = true; /* -n keeps it, as cp does: nothing to say */
		return 0;
	}
	d->exists = true;
	/* refused after -n, -u and -i had their say, as in cp */
	if (S_ISDIR(d->st.st_mode))
		return d->is_dir = true, 0;
	d->writable =
		faccessat(d->dirfd, d->name, W_OK,
			  AT_EACCESS | (d->magic ? 0 : AT_SYMLINK_NOFOLLOW)) ==
		0;
	/* refused after -n, -u and -i had their say, as in cp */
	d->unwritable = !d->writable && S_ISREG(d->st.st_mode);
	return 0;
}

/* -n, -u and -i: should an existing DEST be kept? Says why in report->why. */
bool
dest_kept(const struct mapcp_opts *o, const struct stat *dst,
	  const struct stat *src, const char *dst_path, const char **why)
{
	if (o->flags & MAPCP_NO_CLOBBER)
		return *why = "DEST exists (--no-clobber)", true;
	if ((o->flags & MAPCP_UPDATE) && mapcp_dest_not_older(dst, src))
		return *why = "DEST is not older than SOURCE (--update)", true;
	if ((o->flags & MAPCP_INTERACTIVE) && o->ask != NULL &&
	    !ask_user(o, dst_path))
		return *why = "not replaced, as answered (--interactive)", true;
	return false;
}

static bool
keep_dest(const struct mapcp_job *job, const struct dest *d,
	  const struct stat *src)
{
	return d->exists && dest_kept(job->opts, &d->st, src, job->dst_path,
				      &job->report->why);
}

/*
 * Do we have capability cap? CAP_FSETID: we may keep set-ID bits on a
 * file we write; CAP_FOWNER: replace other users' files in sticky
 * directories.
 */
static bool
has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, c) < 0)
		return geteuid() == 0;
	return c[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

/*
 * An existing DEST's mode, as writing it in place would leave it: the
 * kernel clears set-user-ID, and set-group-ID with group execute, when
 * someone without CAP_FSETID writes a file.
 */
static mode_t
kept_mode(mode_t mode)
{
	mode &= 07777;
	if ((mode & (S_ISUID | S_ISGID)) && !has_cap(CAP_FSETID)) {
		mode &= ~(mode_t)S_ISUID;
		if (mode & S_IXGRP)
			mode &= ~(mode_t)S_ISGID;
	}
	return mode;
}

/*
 * The mode DEST ends with, without -p: an existing one's, else SOURCE's
 * (--no-preserve=mode: a new file's default, 0666), less the umask.
 */
static mode_t
dest_mode(const struct dest *d, const struct stat *src,
	  const struct mapcp_opts *o)
{
	if (d->exists && d->writable && !d->in_way)
		return kept_mode(d->st.st_mode);
	if (o->flags & MAPCP_DEFAULT_MODES)
		return 0666 & ~o->umask;
	return src->st_mode & 0777 & ~o->umask;
}

/*
 * --inplace, and DEST that is not a regular file (/dev/null, a FIFO):
 * open DEST itself, as cp does, and check again that it is not the source.
 */
static int
open_inplace(struct mapcp_job *job, struct dest *d, const struct stat *src,
	     bool in_tree)
{
	int flags = O_CLOEXEC | O_NOCTTY;
	/*
	 * A new DEST is visible while it is written: as cp makes it, no one
	 * else may write it, nor read it if its group is still to be set
	 * (-p); it gets its mode when complete (inplace_mode()).
	 */
	mode_t mode = dest_mode(d, src, job->opts) &
		      ~(mode_t)(job->opts->preserve & MAPCP_PRESERVE_OWNERSHIP
					? S_IRWXG | S_IRWXO
					: S_IWGRP | S_IWOTH);
	struct stat st;

	flags |= d->exists && !S_ISREG(d->st.st_mode) ? O_WRONLY : O_RDWR;
	/*
	 * The file looked at, and no other: an existing one is not followed
	 * if swapped for a symlink since, and must still be the inode seen
	 * (the fallback writes in directories others can write); a new one
	 * is made here, and only then is it ours to remove on failure. A
	 * magic link of /proc is followed: only the kernel can.
	 */
	if (!d->magic)
		flags |= d->exists ? O_NOFOLLOW : O_CREAT | O_EXCL;
	/* In a tree, only a regular file is written in place. */
	flags |= in_tree ? O_NOFOLLOW | O_NONBLOCK : 0;
	job->dst_fd = RETRY(openat(d->dirfd, d->name, flags, mode));
	if (job->dst_fd < 0 && errno == EACCES && d->exists && !d->magic &&
	    (job->opts->flags & MAPCP_FORCE) &&
	    RETRY(unlinkat(d->dirfd, d->name, 0)) == 0) {
		flags = (flags & ~O_NOFOLLOW) | O_CREAT | O_EXCL;
		d->exists = false;
		job->dst_fd = RETRY(openat(d->dirfd, d->name, flags, mode));
	}
	if (job->dst_fd < 0)
		return job_fail(job,
				errno == ELOOP && d->exists ? MAPCP_STEP_MOVED
							    : MAPCP_STEP_CREATE,
				errno);
	d->made = !d->exists && !d->magic;
	if (fstat(job->dst_fd, &st) < 0)
		return job_fail(job, MAPCP_STEP_CREATE, errno);
	if (same_file(&st, src))
		return job_fail(job, MAPCP_STEP_SAME_FILE, EINVAL);
	if (d->exists && !same_file(&st, &d->st))
		return job_fail(job, MAPCP_STEP_MOVED, EAGAIN);
	if (d->made)
		d->st = st;
	if (in_tree && (!S_ISREG(st.st_mode) || st.st_nlink > 1))
		return job_fail(job, MAPCP_STEP_MOVED, EAGAIN);
	/* Its only status flag: O_NONBLOCK. */
	if (in_tree && fcntl(job->dst_fd, F_SETFL, 0) < 0)
		return job_fail(job, MAPCP_STEP_CREATE, errno);
	/* emptied in copy_data(), once the engines are known to copy */
	job->core->empty_dest = S_ISREG(st.st_mode) && !d->made;
	return 0;
}

/* A DEST --inplace made for a copy that failed: gone, if still ours. */
static void
unmake(const struct dest *d)
{
	struct stat st;

	if (d->made &&
	    fstatat(d->dirfd, d->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    same_file(&st, &d->st))
		(void)RETRY(unlinkat(d->dirfd, d->name, 0));
}

/* What the engines need to know of DEST: can it seek, its block size. */
static int
dest_geometry(struct mapcp_job *job, bool fresh_temp)
{
	struct stat st;

	if (fresh_temp) { /* our own new regular file: no need to ask */
		job->seekable_dst = true;
		job->block = 0; /* looked up only if --sparse=always needs it */
		return 0;
	}
	if (fstat(job->dst_fd, &st) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	job->seekable_dst = S_ISREG(st.st_mode);
	job->block = st.st_blksize > 0 ? (size_t)st.st_blksize : 4096;
	return 0;
}

/* DEST, written, gets SOURCE's size if it has not got it. 0 or -errno. */
static int
dest_ends(struct mapcp_job *job)
{
	struct stat st;

	if (fstat(job->dst_fd, &st) < 0)
		return -errno;
	if (st.st_size != job->size && job_size_dest(job) < 0)
		return -errno;
	return 0;
}

/* Copy the data, then check that the source did not change meanwhile. */
static int
copy_data(struct mapcp_job *job, const struct stat *src)
{
	struct plan plan;
	struct stat st;
	int ret;

	if (plan_build(&plan, job) < 0)
		return job_fail(job, MAPCP_STEP_ENGINE, EINVAL);
	if (job->block == 0 && job->opts->sparse == MAPCP_SPARSE_ALWAYS) {
		if (fstat(job->dst_fd, &st) < 0)
			return job_fail(job, MAPCP_STEP_WRITE, errno);
		job->block = (size_t)st.st_blksize;
	}
	/*
	 * --inplace: DEST is emptied only if the engines will copy at all;
	 * one that cannot copy here (-e reflink on ext4, -e copy_file_range
	 * across filesystems) leaves it as it was.
	 */
	if (job->core->empty_dest) {
		if ((ret = plan_refuses(&plan, job)) < 0)
			return ret;
		if (RETRY(ftruncate(job->dst_fd, 0)) < 0)
			return job_fail(job, MAPCP_STEP_WRITE, errno);
		job->core->empty_dest = false;
	}
	/* A file with all its blocks allocated has no holes to look for. */
	/*
	 * Blocks for every byte need not mean no holes: blocks fallocated
	 * past the end or XFS's speculative preallocation count too. So a
	 * file that looks dense is asked where its first hole is (not a
	 * stream, which is read from its file offset).
	 */
	job->core->dense =
		!job->stream && (off_t)src->st_blocks * 512 >= src->st_size &&
		RETRY(lseek(job->src_fd, 0, SEEK_HOLE)) >= src->st_size;
	/* what the mmap engines must know: no page may be faulted into a hole
	 */
	job->keep_holes = !(
		job->opts->sparse == MAPCP_SPARSE_NEVER ||
		(job->core->dense && job->opts->sparse != MAPCP_SPARSE_ALWAYS));
	/*
	 * A file with holes gets its size first, so that no write extends
	 * it: XFS would preallocate past each new end of file, and the blocks
	 * would stay inside the file once its size is set (a hole turned
	 * allocated). A dense file is written end to end, and whatever XFS
	 * preallocates past its end is trimmed when it is closed; only the
	 * mmap engine needs the size set, and sets it (job_size_dest()).
	 */
	if (!job->stream && job->seekable_dst && !job->core->dense &&
	    job_size_dest(job) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	ret = plan_run(&plan, job);
	/* Nothing to read at the start: a source cut short before the copy. */
	if (ret == -ENODATA && !job->stream && job_source_changed(job, src) > 0)
		return job_changed(job);
	if (ret < 0)
		return ret;
	job->report->bytes = job->copied;
	if (!job->stream && (ret = job_source_changed(job, src)) != 0)
		return ret < 0 ? job_fail(job, MAPCP_STEP_READ, -ret)
			       : job_changed(job);
	/*
	 * Whatever the extents left out at the end (the zeros --sparse=always
	 * skips in a dense file), DEST ends where SOURCE does.
	 */
	if (!job->stream && job->seekable_dst && !job->sized &&
	    (ret = dest_ends(job)) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, -ret);
	/* The end of a stream, or of an old --inplace DEST. */
	if (job->seekable_dst && job->stream &&
	    RETRY(ftruncate(job->dst_fd, job->copied)) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	return 0;
}

/* COPY_WANT_INODE: which file the copy is, for later hard links to it. */
static int
note_inode(struct mapcp_job *job)
{
	struct stat st;

	if (fstat(job->dst_fd, &st) < 0)
		return job_fail(job, MAPCP_STEP_WRITE, errno);
	job->report->dst_dev = st.st_dev;
	job->report->dst_ino = st.st_ino;
	return 0;
}

/* What cp keeps of an existing DEST it writes: its xattrs and ACLs. */
static int
keep_own(struct mapcp_job *job, const struct dest *d)
{
	int old = RETRY(
		openat(d->dirfd, d->name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
	struct stat st;
	int ret = 0;

	if (old < 0)
		return 0; /* gone meanwhile: nothing to keep */
	if (fstat(old, &st) == 0 && same_file(&st, &d->st))
		ret = meta_keep_own(old, job->dst_fd, job->report);
	close(old);
	return ret;
}

/* Give the temporary its final owner, mode, times; then make it DEST. */
static int
commit(struct mapcp_job *job, struct atomic *a, const struct dest *d,
       const struct stat *src, bool want_inode)
{
	unsigned int flags = job->opts->flags;
	int ret;

	bool replaces = d->exists && d->writable && !d->in_way;
	int how = -1; /* how -b kept DEST, if it did */

	/* cp keeps an existing DEST's owner; try, as only root may. */
	if (replaces && !(job->opts->preserve & MAPCP_PRESERVE_OWNERSHIP) &&
	    RETRY(fchown(job->dst_fd, d->st.st_uid, d->st.st_gid)) < 0)
		(void)RETRY(fchown(job->dst_fd, (uid_t)-1, d->st.st_gid));
	/* and, writing the same inode, its xattrs and ACLs */
	if (replaces && (ret = keep_own(job, d)) < 0)
		return ret;
	/* --no-preserve=mode: no inherited ACL, exactly the default mode */
	if (!replaces && (flags & MAPCP_DEFAULT_MODES)) {
		if ((ret = meta_strip_acls(job->dst_fd)) < 0)
			return job_fail(job, MAPCP_STEP_META, -ret);
		job->core->dst_mode = (mode_t)-1;
	}
	ret = meta_apply(job->opts, job->src_fd, job->dst_fd, src,
			 job->core->dst_mode, dest_mode(d, src, job->opts),
			 job->report);
	if (ret < 0)
		return ret;
	if (want_inode && (ret = note_inode(job)) < 0)
		return ret;
	if (job->report->backup[0] != '\0' &&
	    (how = backup_keep(d->dirfd, d->name, job->report->backup)) < 0)
		return job_fail(job, MAPCP_STEP_BACKUP, -how);
	a->existed = d->exists;
	ret = atomic_commit(a, flags & MAPCP_NO_CLOBBER, flags & MAPCP_FSYNC,
			    job->report);
	job->dst_fd = -1; /* atomic_commit closed it */
	/* DEST as it was, so no backup of it either: cp leaves none */
	if (ret != 0 && how >= 0) {
		backup_undo(d->dirfd, d->name, job->report->backup, how);
		job->report->backup[0] = '\0';
	}
	if (ret == 1)
		job->report->skipped = true;
	return ret < 0 ? ret : 0;
}

static int
finish_inplace(struct mapcp_job *job)
{
	int ret = 0;

	if ((job->opts->flags & MAPCP_FSYNC) && RETRY(fsync(job->dst_fd)) < 0 &&
	    errno != EINVAL)
		ret = job_fail(job, MAPCP_STEP_SYNC, errno);
	if (close_checked(job->dst_fd) < 0 && ret == 0)
		ret = job_fail(job, MAPCP_STEP_CLOSE, errno);
	job->dst_fd = -1;
	return ret;
}

static void
release_dest(struct dest *d)
{
	if (d->own_fd)
		close(d->dirfd);
}

/*
 * Why a rename cannot replace the existing, writable regular file d, or
 * NULL if it can. cp writes DEST in place; mapcp does that too in these
 * cases only (unless --atomic), and says why. The kernel's own rules:
 * creating the temporary needs write and search on the directory; in a
 * sticky directory replacing needs to own DEST or the directory, or
 * CAP_FOWNER; a mount point (a bind-mounted file) is never renamed over.
 */
static const char *
replace_blocked(const struct dest *d)
{
	struct statx sx;
	struct stat dir;
	uid_t me = geteuid();

	if (statx(d->dirfd, d->name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) ==
		    0 &&
	    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return "it is a mount point (a bind-mounted file), which "
		       "cannot be replaced";
	if (statx(d->dirfd, ".", 0, STATX_TYPE, &sx) == 0 &&
	    (sx.stx_attributes_mask & STATX_ATTR_APPEND) &&
	    (sx.stx_attributes & STATX_ATTR_APPEND))
		return "its directory is append-only, so nothing in it can be "
		       "renamed over";
	if (faccessat(d->dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0 &&
	    (errno == EACCES || errno == EPERM))
		return "its directory is not writable, so no temporary can be "
		       "made there";
	if (fstatat(d->dirfd, ".", &dir, 0) == 0 && (dir.st_mode & S_ISVTX) &&
	    d->st.st_uid != me && dir.st_uid != me && !has_cap(CAP_FOWNER))
		return "its directory is sticky and it belongs to another "
		       "user, so it cannot be replaced";
	return NULL;
}

/* The copy proper, once the source is open and DEST is known. */
static int
copy_open(struct mapcp_job *job, struct dest *d, const struct stat *st,
	  unsigned int hints)
{
	struct atomic a = { .dirfd = -1, .fd = -1 };
	const struct mapcp_opts *opts = job->opts;
	/*
	 * In a tree, a file with other names is not written in place: one
	 * of them may be outside DEST (a hard link someone planted).
	 */
	bool linked_out =
		(hints & COPY_IN_TREE) && d->exists && d->st.st_nlink > 1;
	bool attr_only = opts->flags & MAPCP_ATTRIBUTES_ONLY;
	bool inplace =
		!d->in_way && (((opts->flags & MAPCP_INPLACE) && !linked_out) ||
			       (d->exists && !S_ISREG(d->st.st_mode)) ||
			       d->magic || (attr_only && d->exists));
	int ret;

	/*
	 * --attributes-only keeps an existing DEST's data, so it can only
	 * be changed in place; in a tree, not if it has a name elsewhere.
	 */
	if (attr_only && inplace && linked_out) {
		job->report->note = "it has other names, so its attributes "
				    "are not changed in place in a tree";
		return job_fail(job, MAPCP_STEP_META, EMLINK);
	}

	if (!inplace && d->exists && d->writable && !d->in_way && !linked_out &&
	    S_ISREG(d->st.st_mode) &&
	    (job->report->inplace_why = replace_blocked(d)) != NULL) {
		if (opts->flags & MAPCP_ATOMIC)
			return job_fail(job, MAPCP_STEP_NOT_ATOMIC, EPERM);
		inplace = true;
	}
	if (inplace) {
		ret = open_inplace(job, d, st, hints & COPY_IN_TREE);
	} else {
		ret = atomic_open(&a, d->dirfd, d->name, dest_mode(d, st, opts),
				  job->report);
		job->dst_fd = a.fd;
		job->core->dst_mode = a.mode;
	}
	if (ret == 0 && !job->stream && inplace && d->exists &&
	    !S_ISREG(d->st.st_mode)) {
		job->report->stream = "DEST is not a regular file";
		job->stream = true;
	}
	if (ret == 0)
		ret = dest_geometry(job, !inplace);
	job->core->empty_dest &= !attr_only;
	if (ret == 0 && !attr_only)
		ret = copy_data(job, st);
	if (ret == 0 && (opts->flags & MAPCP_VERIFY) && !attr_only) {
		if (job->stream || !job->seekable_dst)
			job->report->verified =
				"not verified: a stream cannot be read twice";
		else
			ret = verify_copy(job, st);
	}
	/* -p with --inplace: DEST's own inode gets the metadata, at the end */
	if (ret == 0 && inplace && opts->preserve && job->seekable_dst)
		ret = meta_apply(opts, job->src_fd, job->dst_fd, st,
				 job->core->dst_mode, dest_mode(d, st, opts),
				 job->report);
	else if (ret == 0 && inplace && d->made &&
		 RETRY(fchmod(job->dst_fd, dest_mode(d, st, opts))) < 0)
		ret = job_fail(job, MAPCP_STEP_META, errno);
	if (ret == 0 && inplace && (hints & COPY_WANT_INODE))
		ret = note_inode(job);
	if (ret == 0) {
		job->report->atomic = !inplace;
		ret = inplace ? finish_inplace(job)
			      : commit(job, &a, d, st, hints & COPY_WANT_INODE);
	}
	if (job->dst_fd >= 0 && job->dst_fd != a.fd) /* --inplace's DEST */
		close(job->dst_fd);
	if (ret < 0 && inplace)
		unmake(d);
	atomic_abort(&a);
	return ret;
}

int
copy_file_at(const struct place *src, const struct place *dst,
	     unsigned int hints, const struct mapcp_opts *opts,
	     struct mapcp_report *report)
{
	struct copy_state core = { .dst_mode = (mode_t)-1 };
	struct mapcp_job job = {
		.src_fd = -1,
		.dst_fd = -1,
		.src_path = src->path,
		.dst_path = dst->path,
		.opts = opts,
		.report = report,
		.core = &core,
	};
	struct dest d = { 0 };
	struct stat st = { 0 };
	int ret;

	memset(report, 0, sizeof(*report));
	report->src = src->path;
	report->dst = dst->path;
	progress_start(opts, src->path);
	ret = open_source(&job, src, hints, &st);
	if (ret < 0)
		goto out;
	job.size = report->size = st.st_size;
	job.core->src_dev = st.st_dev;
	report->stream = stream_reason(job.src_fd, &st);
	job.stream = report->stream != NULL;
	ret = check_dest(&job, src, dst, hints, &st, &d);
	if (ret < 0)
		goto out;
	if (keep_dest(&job, &d, &st)) {
		report->skipped = true;
		progress_skip(opts, &st);
		/* --update=none-fail: kept, and said to be */
		if ((opts->flags & MAPCP_NO_CLOBBER_FAIL) && d.exists)
			ret = job_fail(&job, MAPCP_STEP_NOT_REPLACING, EEXIST);
		/* cp -u: later names of SOURCE are linked to the DEST kept */
		if (hints & COPY_WANT_INODE) {
			report->dst_dev = d.st.st_dev;
			report->dst_ino = d.st.st_ino;
		}
		goto out;
	}
	if (d.is_dir) {
		ret = job_fail(&job, MAPCP_STEP_DST_IS_DIR, EISDIR);
		goto out;
	}
	if (d.unwritable && !(opts->flags & MAPCP_FORCE)) {
		ret = job_fail(&job, MAPCP_STEP_CREATE, EACCES);
		goto out;
	}
	job.core->dst_dev =
		d.own_fd ? 0 : dst->dev; /* unknown past a symlink */
	ret = copy_open(&job, &d, &st, hints);
out:
	if (job.src_fd >= 0)
		close(job.src_fd);
	release_dest(&d);
	progress_done(opts);
	return ret;
}

/*
 * Split a command-line path into its directory, opened into *dirfd (or
 * AT_FDCWD), and its name. A directory that cannot be opened is kept in
 * p->err for the copy to report in its turn, after the source's errors.
 */
void
place_of_path(const char *path, struct place *p, int *dirfd)
{
	const char *slash = strrchr(path, '/');

	p->path = path;
	p->err = 0;
	p->dev = 0; /* learnt engine failures are for trees */
	*dirfd = -1;
	if (slash == NULL) {
		p->name = path;
		p->dirfd = AT_FDCWD;
		return;
	}
	p->name = slash + 1;
	if (slash == path) {
		*dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		char *dir = strndup(path, (size_t)(slash - path));

		*dirfd = dir ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
		if (dir == NULL)
			errno = ENOMEM;
		free(dir);
	}
	p->dirfd = *dirfd;
	if (*dirfd < 0)
		p->err = errno;
}

int
mapcp_copy_file(const char *src, const char *dst, const struct mapcp_opts *opts,
		struct mapcp_report *report)
{
	struct place s = { .dirfd = AT_FDCWD, .name = src, .path = src }, d;
	int dirfd, ret;

	place_of_path(dst, &d, &dirfd);
	ret = report_checked(report, copy_file_at(&s, &d, 0, opts, report));
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}
