/*
 * treecmp [-t] [-o] [-x] A B: are two trees the same? Compares every entry
 * by name, type, permission bits, size and bytes, symlink target, device
 * number, and which names share an inode (hard-link groups); with -t also
 * modification times to the nanosecond, with -o owners, with -x extended
 * attributes. Walks with openat, so trees deeper than PATH_MAX are fine.
 * Prints each difference and exits 1 if there is any, as diff does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static bool times, owners, xattrs;
static int differences;

/* Hard-link groups: each inode's first relative path, per tree. */
struct seen {
	dev_t dev;
	ino_t ino;
	char *rel;
};
static struct seen *seen[2];
static size_t nseen[2], maxseen[2];

static void
differ(const char *rel, const char *what)
{
	fputs("treecmp: '", stderr);
	for (const unsigned char *p = (const unsigned char *)rel; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	fprintf(stderr, "': %s\n", what);
	differences++;
}

/* The first path seen for this inode in tree i (rel if it is the first). */
static const char *
group(int i, const struct stat *st, const char *rel)
{
	for (size_t k = 0; k < nseen[i]; k++)
		if (seen[i][k].dev == st->st_dev && seen[i][k].ino == st->st_ino)
			return seen[i][k].rel;
	if (nseen[i] == maxseen[i]) {
		maxseen[i] = maxseen[i] ? 2 * maxseen[i] : 64;
		seen[i] = realloc(seen[i], maxseen[i] * sizeof(**seen));
		if (seen[i] == NULL)
			exit(2);
	}
	seen[i][nseen[i]].dev = st->st_dev;
	seen[i][nseen[i]].ino = st->st_ino;
	seen[i][nseen[i]].rel = strdup(rel);
	return seen[i][nseen[i]++].rel;
}

static bool
same_bytes(int a, int b)
{
	static char ba[65536], bb[65536];

	for (;;) {
		ssize_t x = read(a, ba, sizeof(ba)), y = read(b, bb, sizeof(bb));

		if (x != y || x < 0)
			return false;
		if (x == 0)
			return true;
		if (memcmp(ba, bb, (size_t)x) != 0)
			return false;
	}
}

static bool
same_xattrs(int da, const char *na, int db, const char *nb)
{
	char pa[64], pb[64], la[8192], lb[8192], va[8192], vb[8192];
	int fa = openat(da, na, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	int fb = openat(db, nb, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	ssize_t x, y;
	bool same = true;

	if (fa < 0 || fb < 0) {
		if (fa >= 0)
			close(fa);
		if (fb >= 0)
			close(fb);
		return true; /* symlinks and sockets: not compared */
	}
	snprintf(pa, sizeof(pa), "/proc/self/fd/%d", fa);
	snprintf(pb, sizeof(pb), "/proc/self/fd/%d", fb);
	x = flistxattr(fa, la, sizeof(la));
	y = flistxattr(fb, lb, sizeof(lb));
	if (x != y || (x > 0 && memcmp(la, lb, (size_t)x) != 0))
		same = false;
	for (char *n = la; same && x > 0 && n < la + x; n += strlen(n) + 1) {
		ssize_t u = fgetxattr(fa, n, va, sizeof(va));
		ssize_t v = fgetxattr(fb, n, vb, sizeof(vb));

		same = u == v && (u <= 0 || memcmp(va, vb, (size_t)u) == 0);
	}
	close(fa);
	close(fb);
	return same;
}

static void compare_dirs(int da, int db, const char *rel);

static int
names(int fd, char ***out)
{
	DIR *d = fdopendir(dup(fd));
	struct dirent *e;
	int n = 0, cap = 0;

	*out = NULL;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			*out = realloc(*out, (size_t)cap * sizeof(**out));
		}
		(*out)[n++] = strdup(e->d_name);
	}
	closedir(d);
	return n;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
compare_entry(int da, int db, const char *name, const char *rel)
{
	struct stat a, b;

	if (fstatat(da, name, &a, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fstatat(db, name, &b, AT_SYMLINK_NOFOLLOW) < 0) {
		differ(rel, "missing in one tree");
		return;
	}
	if ((a.st_mode & S_IFMT) != (b.st_mode & S_IFMT)) {
		differ(rel, "different types");
		return;
	}
	if (!S_ISLNK(a.st_mode) && (a.st_mode & 07777) != (b.st_mode & 07777))
		differ(rel, "different permissions");
	if (owners && (a.st_uid != b.st_uid || a.st_gid != b.st_gid))
		differ(rel, "different owners");
	if (times && !S_ISLNK(a.st_mode) &&
	    (a.st_mtim.tv_sec != b.st_mtim.tv_sec ||
	     a.st_mtim.tv_nsec != b.st_mtim.tv_nsec))
		differ(rel, "different modification times");
	if (xattrs && !same_xattrs(da, name, db, name))
		differ(rel, "different extended attributes");
	if (!S_ISDIR(a.st_mode) && a.st_nlink > 1 &&
	    strcmp(group(0, &a, rel), group(1, &b, rel)) != 0)
		differ(rel, "different hard-link groups");
	else if (!S_ISDIR(a.st_mode) && a.st_nlink != b.st_nlink)
		differ(rel, "different link counts");
	if (S_ISCHR(a.st_mode) || S_ISBLK(a.st_mode)) {
		if (a.st_rdev != b.st_rdev)
			differ(rel, "different device numbers");
	} else if (S_ISLNK(a.st_mode)) {
		char ta[PATH_MAX], tb[PATH_MAX];
		ssize_t x = readlinkat(da, name, ta, sizeof(ta));
		ssize_t y = readlinkat(db, name, tb, sizeof(tb));

		if (x != y || x < 0 || memcmp(ta, tb, (size_t)x) != 0)
			differ(rel, "different symlink targets");
	} else if (S_ISREG(a.st_mode)) {
		int fa = openat(da, name, O_RDONLY), fb = openat(db, name, O_RDONLY);

		if (a.st_size != b.st_size || fa < 0 || fb < 0 ||
		    !same_bytes(fa, fb))
			differ(rel, "different contents");
		if (fa >= 0)
			close(fa);
		if (fb >= 0)
			close(fb);
	} else if (S_ISDIR(a.st_mode)) {
		int sa = openat(da, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		int sb = openat(db, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

		if (sa < 0 || sb < 0)
			differ(rel, "cannot open the directory");
		else
			compare_dirs(sa, sb, rel);
		if (sa >= 0)
			close(sa);
		if (sb >= 0)
			close(sb);
	}
}

static void
compare_dirs(int da, int db, const char *rel)
{
	char **na, **nb;
	int a = names(da, &na), b = names(db, &nb);

	if (a < 0 || b < 0) {
		differ(rel, "cannot read the directory");
		return;
	}
	if (a > 0) /* an empty directory has no array at all */
		qsort(na, (size_t)a, sizeof(*na), by_name);
	if (b > 0)
		qsort(nb, (size_t)b, sizeof(*nb), by_name);
	for (int i = 0, j = 0; i < a || j < b;) {
		int c = i == a ? 1 : j == b ? -1 : strcmp(na[i], nb[j]);
		char *sub;
		size_t len;

		if (c != 0) {
			const char *only = c < 0 ? na[i++] : nb[j++];

			len = strlen(rel) + strlen(only) + 2;
			sub = malloc(len);
			snprintf(sub, len, "%s/%s", rel, only);
			differ(sub, c < 0 ? "only in the first tree"
					  : "only in the second tree");
			free(sub);
			continue;
		}
		len = strlen(rel) + strlen(na[i]) + 2;
		sub = malloc(len);
		snprintf(sub, len, "%s/%s", rel, na[i]);
		compare_entry(da, db, na[i], sub);
		free(sub);
		i++;
		j++;
	}
	for (int i = 0; i < a; i++)
		free(na[i]);
	for (int j = 0; j < b; j++)
		free(nb[j]);
	free(na);
	free(nb);
}

int
main(int argc, char **argv)
{
	int c, da, db;

	while ((c = getopt(argc, argv, "otx")) != -1) {
		if (c == 'o')
			owners = true;
		else if (c == 't')
			times = true;
		else if (c == 'x')
			xattrs = true;
		else
			return 2;
	}
	if (argc - optind != 2) {
		fputs("usage: treecmp [-t] [-o] [-x] A B\n", stderr);
		return 2;
	}
	da = open(argv[optind], O_RDONLY | O_DIRECTORY);
	db = open(argv[optind + 1], O_RDONLY | O_DIRECTORY);
	if (da < 0 || db < 0) {
		perror("treecmp");
		return 2;
	}
	compare_dirs(da, db, ".");
	return differences > 0;
}
