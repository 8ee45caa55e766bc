/*
 * What -p and --preserve keep, put on a file before anyone can see it:
 * owner (fchown), extended attributes (flistxattr, fgetxattr, fsetxattr),
 * mode (fchmod, then the POSIX ACLs, copied as their xattrs) and times to
 * the nanosecond (futimens), in that order,
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

#include "core.h"

static int
fail(struct mapcp_report *r, const char *what, int err)
{
	r->note = what;
	return report_fail(r, MAPCP_STEP_PRESERVE, err);
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

/*
 * Which xattrs --preserve=xattr copies: not a source's temp mark (it would
 * make DEST a temporary), not the ACLs (they are the mode's, copied with
 * it), not the SELinux label (the context's) nor the EVM signature, which
 * describe the file they are on. The list /etc/xattr.conf gives cp.
 */
static bool
copied_as_xattr(const char *name)
{
	return strcmp(name, TEMP_MARK) != 0 &&
	       strncmp(name, "system.posix_acl_", 17) != 0 &&
	       strcmp(name, "system.nfs4_acl") != 0 &&
	       strcmp(name, "system.nfs4acl") != 0 &&
	       strcmp(name, SELINUX_XATTR) != 0 &&
	       strcmp(name, "security.evm") != 0;
}

/*
 * Copy one xattr from src to dst if it is there; if it is not, remove it
 * from dst (cp -p: an ACL the temporary inherited from its directory is
 * not SOURCE's). 0, or -errno; what we may not set is left.
 */
static int
copy_one_xattr(int src, int dst, const char *name)
{
	char *value = NULL;
	ssize_t n = xattr_get(src, name, &value);
	int ret = 0;

	if (n == -ENODATA) {
		if (RETRY(fremovexattr(dst, name)) < 0 && errno != ENODATA &&
		    !not_permitted(errno))
			ret = -errno;
	} else if (n < 0) {
		ret = not_permitted((int)-n) ? 0 : (int)n;
	} else if (RETRY(fsetxattr(dst, name, value, (size_t)n, 0)) < 0 &&
		   !not_permitted(errno)) {
		ret = -errno;
	}
	free(value);
	return ret;
}

/*
 * The mode's ACLs, as cp copies them with the mode: access, and default.
 * A filesystem that cannot hold an ACL SOURCE has is an error, as in cp
 * (the copy would be more open than its source); one SOURCE has not is
 * nothing to remove.
 */
static int
copy_acls(int src, int dst, const struct stat *st)
{
	static const char *const acl[] = { "system.posix_acl_access",
					   "system.posix_acl_default" };
	char *value = NULL;
	int ret = 0;

	for (int i = 0; ret == 0 && i < (S_ISDIR(st->st_mode) ? 2 : 1); i++) {
		ssize_t n = xattr_get(src, acl[i], &value);

		if (n >= 0 &&
		    RETRY(fsetxattr(dst, acl[i], value, (size_t)n, 0)) < 0)
			ret = errno == EPERM || errno == EACCES ? 0 : -errno;
		else if (n < 0)
			ret = copy_one_xattr(src, dst, acl[i]);
	}
	free(value);
	return ret;
}

int
meta_strip_acls(int fd)
{
	if (RETRY(fremovexattr(fd, "system.posix_acl_access")) < 0 &&
	    errno != ENODATA && !not_permitted(errno))
		return -errno;
	return 0;
}

int
meta_keep_own(int old_fd, int fd, struct mapcp_report *r)
{
	char proc[64], *list = NULL, *value = NULL;
	ssize_t len;
	int ret = 0;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", old_fd);
	len = listxattr(proc, NULL, 0);
	for (int tries = 0; len > 0 && tries < 4; tries++) {
		free(list);
		if ((list = malloc((size_t)len)) == NULL)
			return report_fail(r, MAPCP_STEP_PRESERVE, ENOMEM);
		len = listxattr(proc, list, (size_t)len);
		if (len >= 0 || errno != ERANGE)
			break;
		len = listxattr(proc, NULL, 0);
	}
	for (char *name = list; len > 0 && ret == 0 && name < list + len;
	     name += strlen(name) + 1) {
		ssize_t n;

		/* a write clears file capabilities; the mark is ours */
		if (strcmp(name, "security.capability") == 0 ||
		    strcmp(name, TEMP_MARK) == 0 ||
		    strcmp(name, "security.evm") == 0)
			continue;
		n = getxattr(proc, name, NULL, 0);
		if (n < 0)
			continue;
		free(value);
		if ((value = malloc(n ? (size_t)n : 1)) == NULL) {
			ret = report_fail(r, MAPCP_STEP_PRESERVE, ENOMEM);
			break;
		}
		n = getxattr(proc, name, value, (size_t)n);
		if (n >= 0 &&
		    RETRY(fsetxattr(fd, name, value, (size_t)n, 0)) < 0 &&
		    !not_permitted(errno)) {
			r->note = "DEST's own attributes";
			ret = report_fail(r, MAPCP_STEP_PRESERVE, errno);
		}
	}
	free(list);
	free(value);
	return ret;
}

static int
copy_xattrs(int src, int dst, bool required)
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

		if (!copied_as_xattr(name))
			continue;
		n = xattr_get(src, name, &value);
		if (n < 0)
			ret = not_permitted((int)-n) || n == -ENODATA ? 0
								      : (int)n;
		else if (RETRY(fsetxattr(dst, name, value, (size_t)n, 0)) < 0 &&
			 (!not_permitted(errno) ||
			  (required && errno == EOPNOTSUPP)))
			ret = -errno;
	}
	free(list);
	free(value);
	return ret;
}

int
meta_apply(const struct mapcp_opts *o, int src_fd, int fd,
	   const struct stat *st, mode_t mode_now, mode_t mode_default,
	   struct mapcp_report *r)
{
	unsigned int p = o->preserve;
	bool owner_kept = false;
	mode_t mode = mode_default;
	int ret;

	if (p & MAPCP_PRESERVE_OWNERSHIP) {
		if (RETRY(fchown(fd, st->st_uid, st->st_gid)) == 0)
			owner_kept = true;
		else if (errno == EPERM) /* not root: the group, if we may */
			(void)RETRY(fchown(fd, (uid_t)-1, st->st_gid));
		else
			return fail(r, "ownership", errno);
	}
	/*
	 * A user.* xattr needs write permission on the file, even through a
	 * descriptor: a copy of a read-only file is made writable by its
	 * owner while they are set, as cp does.
	 */
	if ((p & (MAPCP_PRESERVE_XATTR | MAPCP_PRESERVE_CONTEXT)) &&
	    src_fd >= 0 && mode_now != (mode_t)-1 && !(mode_now & S_IWUSR)) {
		if (RETRY(fchmod(fd, mode_now | S_IWUSR)) < 0)
			return report_fail(r, MAPCP_STEP_META, errno);
		mode_now |= S_IWUSR;
	}
	if ((p & MAPCP_PRESERVE_XATTR) && src_fd >= 0 &&
	    (ret = copy_xattrs(src_fd, fd, o->flags & MAPCP_XATTR_REQUIRED)) <
		    0)
		return fail(r, "extended attributes", -ret);
	if ((p & MAPCP_PRESERVE_CONTEXT) && src_fd >= 0 &&
	    (ret = copy_one_xattr(src_fd, fd, SELINUX_XATTR)) < 0)
		return fail(r, "security context", -ret);
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
		if (!(mode & 07000) && mode_now != (mode_t)-1)
			mode |= mode_now & 07000;
	}
	if (mode != mode_now && RETRY(fchmod(fd, mode)) < 0) /* not made so */
		return report_fail(r, MAPCP_STEP_META, errno);
	/* after the mode, which would change an ACL's mask */
	if ((p & MAPCP_PRESERVE_MODE) && src_fd >= 0 &&
	    (ret = copy_acls(src_fd, fd, st)) < 0)
		return fail(r, "permissions", -ret);
	if (p & MAPCP_PRESERVE_TIMESTAMPS) {
		struct timespec ts[2] = { st->st_atim, st->st_mtim };

		if (RETRY(futimens(fd, ts)) < 0)
			return fail(r, "timestamps", errno);
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
meta_apply_node(const struct mapcp_opts *o, int fd, const struct stat *st,
		struct mapcp_report *r)
{
	unsigned int p = o->preserve;
	char proc[64];

	if ((p & MAPCP_PRESERVE_OWNERSHIP) &&
	    RETRY(fchownat(fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH)) <
		    0 &&
	    errno != EPERM)
		return fail(r, "ownership", errno);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((p & MAPCP_PRESERVE_MODE) && !S_ISLNK(st->st_mode) &&
	    RETRY(chmod(proc, st->st_mode & 07777)) < 0)
		return report_fail(r, MAPCP_STEP_META, errno);
	if (p & MAPCP_PRESERVE_TIMESTAMPS) {
		struct timespec ts[2] = { st->st_atim, st->st_mtim };

		if (RETRY(utimensat(fd, "", ts, AT_EMPTY_PATH)) < 0 &&
		    !not_permitted(errno))
			return fail(r, "timestamps", errno);
	}
	return 0;
}
