/*
 * deeptree make DIR LEVELS [EVERY]: a chain of LEVELS directories named
 * "d" below DIR, with a file "f" holding its level every EVERY levels
 * (default 100), mode 0755 each.
 * deeptree check DIR LEVELS [EVERY]: is DIR exactly such a tree? Walks
 * with openat(2), one descriptor at a time, so that no path is longer
 * than a name and no limit of the shell's tools (PATH_MAX) is met.
 * Exits 0, or 1 with one line saying what differs.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
fail(long level, const char *what)
{
	fprintf(stderr, "deeptree: level %ld: %s\n", level, what);
	return 1;
}

static int
make(int fd, long levels, long every)
{
	for (long i = 0; i < levels; i++) {
		int next;

		if (i % every == 0) {
			int f = openat(fd, "f", O_CREAT | O_WRONLY | O_EXCL, 0644);

			if (f < 0 || dprintf(f, "level %ld\n", i) < 0 || close(f) < 0)
				return fail(i, "cannot make f");
		}
		if (mkdirat(fd, "d", 0755) < 0 ||
		    (next = openat(fd, "d", O_RDONLY | O_DIRECTORY)) < 0)
			return fail(i, "cannot make d");
		close(fd);
		fd = next;
	}
	close(fd);
	return 0;
}

/* The entries of fd other than . and ..: how many, and whether f is one. */
static int
entries(int fd, bool *has_f)
{
	DIR *d = fdopendir(dup(fd));
	struct dirent *e;
	int n = 0;

	*has_f = false;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		*has_f |= strcmp(e->d_name, "f") == 0;
	}
	closedir(d);
	return n;
}

static int
check(int fd, long levels, long every)
{
	for (long i = 0; i <= levels; i++) {
		bool want_f = i < levels && i % every == 0, has_f;
		int n = entries(fd, &has_f), next;
		char buf[64], want[64];

		if (n != (i < levels) + want_f || has_f != want_f)
			return fail(i, "wrong entries");
		if (want_f) {
			int f = openat(fd, "f", O_RDONLY);
			ssize_t len = f < 0 ? -1 : read(f, buf, sizeof(buf) - 1);

			if (f >= 0)
				close(f);
			snprintf(want, sizeof(want), "level %ld\n", i);
			if (len < 0 || (buf[len] = '\0', strcmp(buf, want) != 0))
				return fail(i, "f holds the wrong bytes");
		}
		if (i == levels)
			break;
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (next < 0)
			return fail(i, "no directory d");
		close(fd);
		fd = next;
	}
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	long levels, every;
	int fd;

	if (argc < 4 || argc > 5) {
		fputs("usage: deeptree make|check DIR LEVELS [EVERY]\n", stderr);
		return 2;
	}
	levels = atol(argv[3]);
	every = argc == 5 ? atol(argv[4]) : 100;
	if (every < 1)
		every = 1;
	if (strcmp(argv[1], "make") == 0) {
		if (mkdir(argv[2], 0755) < 0 ||
		    (fd = open(argv[2], O_RDONLY | O_DIRECTORY)) < 0)
			return fail(0, "cannot make the top");
		return make(fd, levels, every);
	}
	if ((fd = open(argv[2], O_RDONLY | O_DIRECTORY)) < 0)
		return fail(0, "cannot open the top");
	return check(fd, levels, every);
}
