/*
 * What -p and --preserve keep, put on a file before anyone can see it:
 * owner (fchown), extended attributes (flistxattr, fgetxattr, fsetxattr),
 * mode (fchmod) and times to the nanosecond (futimens), in that order,
 * because changing the owner clears set-id bits and security.capability.
 * As in cp, what an unprivileged user may not set (another owner, trusted.*
 * or security.* attributes) is quietly left as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "internal.h"

static int
fail(struct mapcp_job *job, const char *what, int err)
{
	job->report->note = what;
	return job_fail(job, MAPCP_STEP_PRESERVE, err);
}

/* Not ours to set, or not here: leave it, as cp does. */
static bool
not_permitted(int err)
{
	return err == EPERM || err == EACCES || err == EOPNOTSUPP;
}

/* A malloc'd list or value from an xattr call that says its size first. */
static ssize_t
xattr_get(int fd, const char *name, char **buf)
{
	for (int tries = 0; tries < 4; tries++) {
		ssize_t n = name ? fgetxattr(fd, name, NULL, 0)
				 : flistxattr(fd, NULL, 0);

		if (n < 0)
			return -errno;
		free(*buf);
		*buf = malloc(n ? (size_t)n : 1);
		if (*buf == NULL)
			return -ENOMEM;
		n = name ? fgetxattr(fd, name, *buf, (size_t)n)
			 : flistxattr(fd, *buf, (size_t)n);
		if (n >= 0 || errno != ERANGE) /* ERANGE: it grew meanwhile */
			return n < 0 ? -errno : n;
	}
	return -ERANGE;
}

static int
copy_xattrs(int src, int dst)
{
	char *list = NULL, *value = NULL;
	ssize_t len = xattr_get(src, NULL, &list);
	int ret = 0;

	if (len < 0) {
		free(list);
		return not_permitted((int)-len) ? 0 : (int)len;
	}
	for (char *name = list; ret == 0 && name < list + len;
	     name += strlen(name) + 1) {
		ssize_t n;

		if (strcmp(name, TEMP_MARK) == 0)
			continue; /* a source's mark would make DEST a temporary */
		n = xattr_get(src, name, &value);
		if (n < 0)
			ret = not_permitted((int)-n) || n == -ENODATA ? 0
								      : (int)n;
		else if (RETRY(fsetxattr(dst, name, value, (size_t)n, 0)) < 0 &&
			 !not_permitted(errno))
			ret = -errno;
	}
	free(list);
	free(value);
	return ret;
}

int
meta_apply(struct mapcp_job *job, int src_fd, int fd, const struct stat *st,
	   mode_t mode_default)
{
	unsigned int p = job->opts->preserve;
	bool owner_kept = false;
	mode_t mode = mode_default;
	int ret;

	if (p & MAPCP_PRESERVE_OWNERSHIP) {
		if (RETRY(fchown(fd, st->st_uid, st->st_gid)) == 0)
			owner_kept = true;
		else if (errno == EPERM) /* not root: the group, if we may */
			(void)RETRY(fchown(fd, (uid_t)-1, st->st_gid));
		else
			return fail(job, "ownership", errno);
	}
	if ((p & MAPCP_PRESERVE_XATTR) && src_fd >= 0 &&
	    (ret = copy_xattrs(src_fd, fd)) < 0)
		return fail(job, "extended attributes", -ret);
	if (p & MAPCP_PRESERVE_MODE) {
		mode = st->st_mode & 07777;
		/* cp: special bits only for their own owner, if it was asked */
		if ((p & MAPCP_PRESERVE_OWNERSHIP) && !owner_kept)
			mode &= ~(mode_t)(S_ISUID | S_ISGID | S_ISVTX);
		/*
		 * cp sets the permission bits as an ACL, which leaves the
		 * special ones alone (a set-group-ID bit a new directory
		 * inherited), unless the source has some of its own.
		 */
		if (!(mode & 07000) && job->dst_mode != (mode_t)-1)
			mode |= job->dst_mode & 07000;
	}
	if (mode != job->dst_mode &&
	    RETRY(fchmod(fd, mode)) < 0) /* not made so */
		return job_fail(job, MAPCP_STEP_META, errno);
	if (p & MAPCP_PRESERVE_TIMESTAMPS) {
		struct timespec ts[2] = { st->st_atim, st->st_mtim };

		if (RETRY(futimens(fd, ts)) < 0)
			return fail(job, "timestamps", errno);
	}
	return 0;
}

/*
 * fd is an O_PATH descriptor of a symlink or special file we just made,
 * checked to be it: what it is called now does not matter, and nothing
 * else can be reached through it. chmod(2) goes through /proc/self/fd,
 * as glibc's fchmodat(AT_SYMLINK_NOFOLLOW) does; a symlink has no mode.
 */
int
meta_apply_node(struct mapcp_job *job, int fd, const struct stat *st)
{
	unsigned int p = job->opts->preserve;
	char proc[64];

	if ((p & MAPCP_PRESERVE_OWNERSHIP) &&
	    RETRY(fchownat(fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH)) <
		    0 &&
	    errno != EPERM)
		return fail(job, "ownership", errno);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((p & MAPCP_PRESERVE_MODE) && !S_ISLNK(st->st_mode) &&
	    RETRY(chmod(proc, st->st_mode & 07777)) < 0)
		return job_fail(job, MAPCP_STEP_META, errno);
	if (p & MAPCP_PRESERVE_TIMESTAMPS) {
		struct timespec ts[2] = { st->st_atim, st->st_mtim };

		if (RETRY(utimensat(fd, "", ts, AT_EMPTY_PATH)) < 0 &&
		    !not_permitted(errno))
			return fail(job, "timestamps", errno);
	}
	return 0;
}
