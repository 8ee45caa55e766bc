/*
 * The atomic writer. The copy goes into a temporary in DEST's directory
 * (given as a directory fd, which stays the caller's):
 * an unnamed O_TMPFILE where the filesystem has one, made with DEST's
 * final mode since nobody else can open a file that has no name, else a
 * hidden name ".NAME.mapcp-XXXXXX" made with O_EXCL and mode 0600, which
 * gets its mode only once it is complete. Such a name is locked (flock,
 * shared) while we hold it and only then marked ours (the xattr
 * user.mapcp.temp, holding its inode number): --clean-temps removes only
 * marked files it can lock, so never a live temporary, nor a file that
 * merely looks like one. Only
 * a complete copy becomes DEST, by linkat(2) where DEST does not exist and
 * rename(2) over it where it does; with --fsync, RENAME_EXCHANGE keeps the
 * old DEST until the directory is flushed, so that a failed flush can put
 * it back. A failed copy removes the temporary, so DEST is either
 * untouched or whole. Syscalls: open(O_TMPFILE), openat(O_EXCL), flock,
 * linkat, renameat, renameat2(RENAME_NOREPLACE, RENAME_EXCHANGE),
 * unlinkat, fsync, and a close(2) of a duplicate for the errors some
 * filesystems only report at close.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core.h"

#define TMP_TAG ".mapcp-"

bool atomic_no_tmpfile;
#define TMP_RANDOM 6

void
temp_name(struct atomic *a)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[TMP_RANDOM];
	int keep = NAME_MAX - 1 - (int)strlen(TMP_TAG) - TMP_RANDOM;
	int n;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned long x = (unsigned long)getpid() ^ (unsigned long)a;

		for (int i = 0; i < TMP_RANDOM; i++, x /= 7)
			rnd[i] = (unsigned char)x;
	}
	n = snprintf(a->tmpname, sizeof(a->tmpname), ".%.*s" TMP_TAG, keep,
		     a->name);
	for (int i = 0; i < TMP_RANDOM; i++)
		a->tmpname[n + i] = set[rnd[i] % (sizeof(set) - 1)];
	a->tmpname[n + TMP_RANDOM] = '\0';
}

/* The temporary's name is gone (placed, removed, or never made). */
static void
forget_temp(struct atomic *a)
{
	a->tmpname[0] = '\0';
	temp_untrack(a->slot);
	a->slot = 0;
}

/*
 * A named temporary is locked (shared) while mapcp writes it, so that
 * --clean-temps, which needs the lock exclusive, leaves a running copy's
 * temporary alone. The lock goes with the last descriptor, or a kill.
 */
static bool
hold(int fd)
{
	return RETRY_EINTR(flock(fd, LOCK_SH | LOCK_NB)) == 0;
}

/* The mark --clean-temps looks for: "ino:N", N fd's inode number. */
static int
temp_mark(int fd, char *buf, size_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	return snprintf(buf, size, "ino:%ju", (uintmax_t)st.st_ino);
}

/*
 * Mark fd, locked, as our temporary. Where the filesystem keeps no
 * xattrs it stays unmarked: --clean-temps will leave it, and say so.
 */
static void
mark(int fd)
{
	char val[32];
	int n = temp_mark(fd, val, sizeof(val));

	if (n > 0)
		(void)fsetxattr(fd, TEMP_MARK, val, (size_t)n, 0);
}
int
atomic_open(struct atomic *a, int dirfd, const char *name, mode_t mode,
	    struct mapcp_report *r)
{
	mode_t umask = process_umask();
	int ret;

	memset(a, 0, sizeof(*a));
	a->dirfd = dirfd;
	a->name = name;
	a->fd = -1;
	a->slot = 0;
	a->mode = (mode_t)-1;
	mode &= 0777; /* our fd is open read-write whatever the mode says */
	if (!atomic_no_tmpfile) {
		a->fd = RETRY(openat(a->dirfd, ".",
				     O_TMPFILE | O_RDWR | O_CLOEXEC, mode));
		if (a->fd >= 0) {
			a->mode = mode & ~umask;
			return 0;
		}
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return report_fail(r, MAPCP_STEP_CREATE, errno);
	}
	for (int tries = 0; tries < 100; tries++) {
		temp_name(a);
		a->slot = temp_track(a->dirfd, a->tmpname);
		a->fd = RETRY(openat(a->dirfd, a->tmpname,
				     O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC,
				     0600));
		if (a->fd >= 0 && !hold(a->fd)) {
			/* A --clean-temps has it locked: it is not ours. */
			close(a->fd);
			a->fd = -1;
			errno = EEXIST;
		}
		if (a->fd >= 0) {
			temp_made(a->slot);
			a->mode = 0600 & ~umask;
			mark(a->fd);
			return 0;
		}
		ret = errno;
		forget_temp(a);
		if (ret != EEXIST)
			break;
	}
	return report_fail(r, MAPCP_STEP_CREATE, ret);
}

/*
 * linkat(AT_EMPTY_PATH) is the direct way (Linux 6.10 allows it for a
 * file we opened; before, only with CAP_DAC_READ_SEARCH); else through
 * /proc/self/fd. Once the direct way fails with EPERM or ENOENT it is
 * not tried again.
 */
int
link_fd(int fd, int dirfd, const char *name)
{
	static atomic_bool no_empty_path;
	char proc[64];

	if (!no_empty_path) {
		if (RETRY(linkat(fd, "", dirfd, name, AT_EMPTY_PATH)) == 0)
			return 0;
		if (errno != EPERM && errno != ENOENT && errno != EINVAL)
			return -errno;
		no_empty_path = true;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return RETRY(linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW)) ==
			       0
		       ? 0
		       : -errno;
}

/* Give the unnamed temporary the name name. 0 or -errno. */
static int
link_tmpfile(struct atomic *a, const char *name)
{
	return link_fd(a->fd, a->dirfd, name);
}

/* Give the unnamed temporary a hidden name, ready to be renamed. */
static int
name_tmpfile(struct atomic *a)
{
	int ret = -EEXIST;

	/* Locked and marked before it has a name: never unmarked there. */
	(void)hold(a->fd);
	mark(a->fd);
	for (int tries = 0; tries < 100 && ret == -EEXIST; tries++) {
		temp_name(a);
		a->slot = temp_track(a->dirfd, a->tmpname);
		ret = link_tmpfile(a, a->tmpname);
		if (ret < 0)
			forget_temp(a);
	}
	temp_made(a->slot);
	return ret;
}

/* Rename the named temporary to DEST, unless DEST exists and no_replace. */
static int
rename_temp(struct atomic *a, bool no_replace)
{
	if (!no_replace)
		return RETRY(renameat(a->dirfd, a->tmpname, a->dirfd,
				      a->name)) == 0
			       ? 0
			       : -errno;
	if (RETRY(renameat2(a->dirfd, a->tmpname, a->dirfd, a->name,
			    RENAME_NOREPLACE)) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* No RENAME_NOREPLACE here: link(2) never replaces either. */
	if (RETRY(linkat(a->dirfd, a->tmpname, a->dirfd, a->name, 0)) < 0)
		return -errno;
	RETRY(unlinkat(a->dirfd, a->tmpname, 0));
	forget_temp(a);
	return 0;
}

static int
sync_dir(struct atomic *a)
{
	int fd = RETRY(
		openat(a->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (RETRY(fsync(fd)) < 0 &&
	    errno != EINVAL) /* some filesystems say EINVAL */
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Put the temporary in DEST's place. 0, 1 when no_replace kept DEST,
 * -errno. keep_old (--fsync) swaps the two with RENAME_EXCHANGE, so that
 * the old DEST stays whole under the temporary's name until the
 * directory is synced, and can come back if that fails.
 */
static int
place(struct atomic *a, bool no_replace, bool keep_old)
{
	int ret;

	a->how = PLACED_NEW;
	if (a->tmpname[0] == '\0' && (no_replace || !a->existed)) {
		ret = link_tmpfile(a, a->name);
		if (ret == -EEXIST && no_replace)
			return 1;
		if (ret != -EEXIST)
			return ret;
		/* DEST appeared since we looked: replace it after all. */
	}
	if (a->tmpname[0] == '\0' && (ret = name_tmpfile(a)) < 0)
		return ret;
	/* DEST must not carry the mark: off just before the rename. */
	(void)fremovexattr(a->fd, TEMP_MARK);
	if (keep_old && !no_replace) {
		if (RETRY(renameat2(a->dirfd, a->tmpname, a->dirfd, a->name,
				    RENAME_EXCHANGE)) == 0) {
			a->how = PLACED_EXCHANGED;
			return 0;
		}
		if (errno != ENOENT && errno != EINVAL && errno != ENOSYS)
			return -errno;
		/* DEST is gone, or the filesystem cannot exchange. */
		no_replace = errno == ENOENT;
	}
	ret = rename_temp(a, no_replace);
	if (ret == -EEXIST && no_replace)
		return 1;
	if (ret == 0) {
		forget_temp(a);
		a->how = no_replace ? PLACED_NEW : PLACED_REPLACED;
	}
	return ret;
}

/* Put DEST back as it was before place(), where that can be done. */
static void
unplace(struct atomic *a)
{
	if (a->how == PLACED_NEW) {
		(void)RETRY(unlinkat(a->dirfd, a->name, 0));
	} else if (a->how == PLACED_EXCHANGED &&
		   RETRY(renameat2(a->dirfd, a->tmpname, a->dirfd, a->name,
				   RENAME_EXCHANGE)) == 0) {
		(void)RETRY(unlinkat(a->dirfd, a->tmpname, 0));
		forget_temp(a);
	}
}

int
atomic_commit(struct atomic *a, bool no_replace, bool sync,
	      struct mapcp_report *r)
{
	int ret, placed, dup_fd;

	if (sync && RETRY(fsync(a->fd)) < 0)
		return report_fail(r, MAPCP_STEP_SYNC, errno);
	/*
	 * Errors a filesystem reports at close (NFS does) must come before
	 * DEST is replaced, but the temporary stays open until it is in
	 * place: an unnamed one to be linked, a named one to keep its lock.
	 * So a duplicate is closed: the flush runs at every close(2).
	 */
	if ((dup_fd = RETRY(fcntl(a->fd, F_DUPFD_CLOEXEC, 0))) < 0)
		return report_fail(r, MAPCP_STEP_COMMIT, errno);
	if (close_checked(dup_fd) < 0)
		return report_fail(r, MAPCP_STEP_CLOSE, errno);
	placed = place(a, no_replace, sync);
	if (placed < 0)
		return report_fail(r, MAPCP_STEP_COMMIT, -placed);
	if (placed == 0 && sync && (ret = sync_dir(a)) < 0) {
		unplace(a);
		return report_fail(r, MAPCP_STEP_SYNC, -ret);
	}
	if (a->how == PLACED_EXCHANGED) { /* the old DEST, now unneeded */
		(void)RETRY(unlinkat(a->dirfd, a->tmpname, 0));
		forget_temp(a);
	}
	/* DEST is in place and complete: nothing after this may fail it. */
	if (a->fd >= 0)
		(void)close(a->fd);
	a->fd = -1;
	return placed;
}

void
atomic_abort(struct atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	if (a->tmpname[0] != '\0')
		RETRY(unlinkat(a->dirfd, a->tmpname, 0));
	a->fd = -1;
	forget_temp(a);
}

bool
mapcp_is_temp_name(const char *name)
{
	size_t len = strlen(name), tag = strlen(TMP_TAG);

	if (len < 1 + 1 + tag + TMP_RANDOM || name[0] != '.')
		return false;
	if (strncmp(name + len - TMP_RANDOM - tag, TMP_TAG, tag) != 0)
		return false;
	for (size_t i = len - TMP_RANDOM; i < len; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

/* Does fd carry the mark a mapcp gives its own temporary? */
static bool
marked(int fd)
{
	char want[32], got[32];
	int n = temp_mark(fd, want, sizeof(want));
	ssize_t len = fgetxattr(fd, TEMP_MARK, got, sizeof(got));

	return n > 0 && len == n && memcmp(want, got, (size_t)n) == 0;
}

/*
 * Remove one temporary in dirfd, unless it is not provably one a mapcp
 * left (a regular file with our mark), is in use (locked), or is another
 * user's in a sticky directory (root included: it may be a lookalike).
 * The lock is taken before the mark is read, and a mapcp marks only what
 * it holds locked, so a live temporary is never removed.
 */
static int
clean_one(int dirfd, const char *name, const struct stat *dir)
{
	struct stat st;
	int fd, ret = 0;

	fd = RETRY(openat(dirfd, name,
			  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
	if (fd < 0)
		return errno == ELOOP ? EPERM : errno;
	if (fstat(fd, &st) < 0)
		ret = errno;
	else if (!S_ISREG(st.st_mode))
		ret = EPERM;
	else if ((dir->st_mode & S_ISVTX) && st.st_uid != geteuid())
		ret = MAPCP_TEMP_NOT_YOURS;
	if (ret == 0 && RETRY_EINTR(flock(fd, LOCK_EX | LOCK_NB)) < 0)
		ret = errno == EWOULDBLOCK ? EBUSY : errno;
	if (ret == 0 && !marked(fd))
		ret = MAPCP_TEMP_UNMARKED;
	if (ret == 0 && RETRY(unlinkat(dirfd, name, 0)) < 0)
		ret = errno;
	close(fd);
	return ret;
}

int
mapcp_clean_temps(const char *dir,
		  void (*report)(const char *name, int err, void *arg),
		  void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	int left = 0, err;

	if (d == NULL)
		return -errno;
	if (fstat(dirfd(d), &st) < 0) {
		err = errno;
		closedir(d);
		return -err;
	}
	while ((e = readdir(d)) != NULL) {
		if (!mapcp_is_temp_name(e->d_name))
			continue;
		err = clean_one(dirfd(d), e->d_name, &st);
		left += err != 0;
		if (report != NULL)
			report(e->d_name, err, arg);
	}
	closedir(d);
	return left;
}
