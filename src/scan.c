/*
 * The --progress totals: mapcp_scan() adds up what a copy with the same
 * options will meet, in a thread of its own beside the copy. Like the
 * walk it keeps an explicit stack, never the C stack, and few
 * descriptors: past SCAN_OPEN levels the oldest is closed and reopened
 * from its child's "..", checked by device and inode. A cycle (-L, bind
 * mounts) is walked once. The totals are an estimate: what cannot be
 * read or reopened is left out, and the copy goes on regardless.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree.h"

#define SCAN_OPEN 8 /* walk.c keeps room for these (FD_RESERVE) */

struct frame {
	int fd; /* -1 while closed */
	dev_t dev;
	ino_t ino;
	struct dir_entry *entries;
	size_t n, next;
};

struct scan {
	struct frame *f;
	size_t depth, cap;
	struct idmap ancestors;
	char *dents;
	struct mapcp_progress *p;
	const struct mapcp_opts *opts;
	struct idmap linked; /* --preserve=links: inodes counted already */
	dev_t top_dev;       /* -x: the source's filesystem */
	bool follow;
};

static char present;

/* Walk into the directory open as fd. false if it cannot be read. */
static bool
push(struct scan *sc, int fd)
{
	struct frame *f;
	struct stat st;

	if (fstat(fd, &st) < 0 ||
	    idmap_get(&sc->ancestors, st.st_dev, st.st_ino) != NULL ||
	    idmap_put(&sc->ancestors, st.st_dev, st.st_ino, &present) < 0)
		goto fail;
	if (sc->depth == sc->cap) {
		size_t n = sc->cap ? 2 * sc->cap : 64;
		struct frame *grown = realloc(sc->f, n * sizeof(*grown));

		if (grown == NULL)
			goto undo;
		sc->f = grown;
		sc->cap = n;
	}
	f = &sc->f[sc->depth];
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	if (read_dir(fd, sc->dents, &f->entries, &f->n) < 0)
		goto undo;
	sc->depth++;
	/* Keep the top and the last SCAN_OPEN levels open. */
	if (sc->depth > SCAN_OPEN + 1 &&
	    sc->f[sc->depth - SCAN_OPEN - 1].fd >= 0) {
		close(sc->f[sc->depth - SCAN_OPEN - 1].fd);
		sc->f[sc->depth - SCAN_OPEN - 1].fd = -1;
	}
	return true;
undo:
	idmap_del(&sc->ancestors, st.st_dev, st.st_ino);
fail:
	close(fd);
	return false;
}

/* Done with the deepest level: back to its parent, reopened if need be. */
static void
pop(struct scan *sc)
{
	struct frame *f = &sc->f[--sc->depth];

	if (sc->depth > 0 && sc->f[sc->depth - 1].fd < 0) {
		struct frame *up = &sc->f[sc->depth - 1];
		int fd = RETRY(openat(f->fd, "..",
				      O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		struct stat st;

		if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != up->dev ||
				st.st_ino != up->ino)) {
			close(fd);
			fd = -1;
		}
		up->fd = fd;
		if (fd < 0) /* moved meanwhile: left out of the totals */
			up->next = up->n;
	}
	idmap_del(&sc->ancestors, f->dev, f->ino);
	for (size_t i = f->next; i < f->n; i++)
		free(f->entries[i].name);
	free(f->entries);
	if (f->fd >= 0)
		close(f->fd);
}

/*
 * The bytes a file adds to the total: what progress_estimate() says, once
 * per inode where hard links are kept (later names are linked, not copied).
 */
static unsigned long long
file_bytes(struct scan *sc, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return 0;
	if (st->st_nlink > 1 && (sc->opts->preserve & MAPCP_PRESERVE_LINKS)) {
		if (idmap_get(&sc->linked, st->st_dev, st->st_ino) != NULL ||
		    idmap_put(&sc->linked, st->st_dev, st->st_ino, &present) < 0)
			return 0;
	}
	return progress_estimate(sc->opts, st);
}

/* Count one entry of the deepest level, and walk into it if a directory. */
static void
count(struct scan *sc, const char *name)
{
	struct frame *f = &sc->f[sc->depth - 1];
	struct stat st;
	int fd;

	if (f->fd < 0 ||
	    fstatat(f->fd, name, &st, sc->follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
		return;
	sc->p->total_files++;
	sc->p->total_bytes += file_bytes(sc, &st);
	if (!S_ISDIR(st.st_mode))
		return;
	/* -x: a mount point is copied, not what is mounted on it */
	if ((sc->opts->flags & MAPCP_ONE_FS) && st.st_dev != sc->top_dev)
		return;
	fd = RETRY(openat(f->fd, name,
			  O_RDONLY | O_DIRECTORY | O_CLOEXEC |
				  (sc->follow ? 0 : O_NOFOLLOW)));
	if (fd >= 0)
		push(sc, fd);
}

/* Add what is below the directory open as fd to the totals. */
static void
scan_tree(struct scan *sc, int fd)
{
	if (!push(sc, fd))
		return;
	while (sc->depth > 0) {
		struct frame *f = &sc->f[sc->depth - 1];

		if (f->next < f->n && !sc->p->cancel) {
			char *name = f->entries[f->next++].name;

			count(sc, name);
			free(name);
		} else {
			pop(sc);
		}
	}
}

void
mapcp_scan(const char *const *srcs, int n, const struct mapcp_opts *opts,
	   struct mapcp_progress *p)
{
	bool recursive = opts->flags & MAPCP_RECURSIVE;
	struct scan sc = { .p = p, .opts = opts, .follow = mapcp_follows(opts, false) };

	sc.dents = malloc(DENTS_BUF);
	for (int i = 0; i < n && !p->cancel && sc.dents != NULL; i++) {
		struct stat st;
		int fd;

		if (mapcp_stat_source(opts, srcs[i], &st) < 0)
			continue;
		p->total_files++;
		p->total_bytes += file_bytes(&sc, &st);
		if (!S_ISDIR(st.st_mode) || !recursive)
			continue;
		sc.top_dev = st.st_dev;
		fd = RETRY(open(srcs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		if (fd >= 0)
			scan_tree(&sc, fd);
	}
	free(sc.f);
	free(sc.dents);
	idmap_free(&sc.ancestors, NULL);
	idmap_free(&sc.linked, NULL);
	p->scanned = !p->cancel;
}
