/*
 * The tree copier's parts, shared by session.c (the command-line
 * operands), walk.c (the walk: directory records, the descriptor budget,
 * cycles), pool.c (the worker threads) and entries.c (symlinks, special
 * files, hard links, and replacing what is in the way). Not installed;
 * the conventions of internal.h: 0 or -errno, never print.
 */
#ifndef MAPCP_TREE_H
#define MAPCP_TREE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "core.h"

/* idmap.c: a hash table keyed by (device, inode); values are not NULL. */
struct idmap_slot;
struct idmap {
	struct idmap_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

/* The value stored for (dev, ino), or NULL. */
void *idmap_get(const struct idmap *m, dev_t dev, ino_t ino);
/* Store val (not NULL) for (dev, ino), replacing any. 0 or -ENOMEM. */
int idmap_put(struct idmap *m, dev_t dev, ino_t ino, void *val);
/* Remove (dev, ino); returns the value it had, or NULL. */
void *idmap_del(struct idmap *m, dev_t dev, ino_t ino);
/* Free the table, and each value with free_val unless it is NULL. */
void idmap_free(struct idmap *m, void (*free_val)(void *));

/* A command-line DEST, as given, and what it was when the copy began. */
struct top {
	char *path;
	dev_t dev;
	ino_t ino;
};

/* The first copy of a hard-linked source file: where it is, what it is. */
struct link {
	dev_t dev; /* the copy's, to check it is still that file */
	ino_t ino;
	unsigned int top; /* session->tops[top] */
	char rel[];       /* below that top, or "" for the top itself */
};

/*
 * What lasts from one command-line SOURCE to the next, as in cp: hard
 * links found so far, and every directory made, so that a source
 * directory that is one of them (a bind mount, -L) is found to be a copy
 * into itself.
 */
/*
 * One command-line SOURCE copied in the session, for cp's rules across
 * SOURCEs: the same one given twice is copied once; what an earlier one
 * made is neither replaced by a later one nor, if a symlink, written
 * through (cp's "abuse" test: mapcp -d a/1 b/1 c, with a/1 a symlink).
 */
struct given {
	struct given *next; /* the earlier SOURCEs with the same DEST */
	char *dst;          /* DEST's path */
	bool src_ok;        /* src, parent: SOURCE and its directory */
	struct stat src, parent;
	char *base;            /* SOURCE's name in parent */
	bool pre_ok, made;     /* DEST before the copy; the copy made it */
	struct stat pre, post; /* DEST before and after */
};

struct mapcp_session {
	const struct mapcp_opts *opts;
	struct idmap given; /* xxh3-128 of DEST's path -> struct given list */
	struct idmap links; /* source (dev, ino) -> struct link */
	struct idmap made;  /* DEST directories made, as a set */
	struct top *tops;
	unsigned int ntops, maxtops;
	int link_dirfd;      /* the last directory a link was made from */
	char *link_dir;      /* its top and rel, "N/rel", or NULL */
	pthread_mutex_t out; /* one on_file at a time; guards what follows */
	pthread_cond_t turn; /* a held report went out */
	struct held *held;   /* MAPCP_IN_ORDER: reports early, by ticket */
	size_t nheld;
	unsigned long long next;    /* the ticket whose report is due */
	_Atomic unsigned long long tickets; /* taken by the walking thread */
	atomic_ulong failures;
	uid_t euid; /* who owns what we make */
};

/*
 * Which side of a copy a directory record's fd and path are on; REL is a
 * path below the top, the same on both sides.
 */
enum side { SRC = 0, DST = 1, REL = 2 };

struct tree;

/*
 * A directory being copied, on both sides. Its fds may be closed while
 * the walk is deeper down, to keep within the descriptor budget, and are
 * reopened from its child's ".." (or down from an open ancestor), checked
 * by device and inode. Alive while anything in it is not done (refs).
 */
struct dir {
	struct dir *parent;
	struct tree *tree;
	char *name; /* in parent; NULL for the top */
	size_t namelen;
	struct stat st; /* the source directory, for its metadata */
	dev_t dev[2];   /* each side's directory, as opened first */
	ino_t ino[2];
	int fd[2];        /* -1 while closed */
	mode_t made_mode; /* DEST's, as mkdir made it */
	mode_t mode_now;  /* DEST's mode now (made_mode | u+rwx, maybe) */
	mode_t omitted;   /* bits left out until it is complete */
	bool made;        /* we made DEST's directory */
	bool lost;        /* it could not be reopened: nothing more here */
	atomic_int refs;  /* the walk's, each live child's, each task's */
	atomic_int tasks; /* files queued or being copied: keep fds open */
	struct dir *lru_prev, *lru_next; /* open and on the path */
	struct dir_entry *entries;       /* what is left to copy in it */
	size_t nentries, next;
	size_t rel_len; /* its path below the top: walk_path()'s prefix */
};

struct dir_entry {
	char *name;
	ino_t ino;          /* d_ino: entries are taken in its order */
	unsigned char type; /* d_type */
};

/* pool.c: threads that copy a tree's regular files, in batches. */
struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	struct batch *head, *tail, *filling;
	int queued, idle;
	atomic_ulong pending; /* tasks queued or running */
	bool closing;
	pthread_t *workers;
	unsigned int nworkers;
};

struct tree {
	struct mapcp_session *s;
	const struct mapcp_opts *opts;
	unsigned int top;    /* session->tops[top] is DEST's top */
	const char *path[2]; /* the top's paths, as given */
	struct dir *root;
	struct pool pool;
	struct idmap ancestors; /* source directories on the walker's path */
	atomic_long nopen;      /* directory records with open fds */
	long budget;            /* the most that may be open */
	struct dir *lru_head, *lru_tail;
	bool follow; /* -L: symlinks below the top are followed */
	char *dents; /* the walker's getdents64(2) buffer */
	char *rel;   /* the walker's directory, below the top */
	size_t rel_cap;
	uid_t euid; /* owner of what we make */
};

/* session.c */
/*
 * Report r (ret: its copy's result) to opts->on_file. With MAPCP_IN_ORDER
 * reports reach on_file in the order the walk met their entries, as cp
 * prints them: each takes a ticket (session_ticket(), in the walking
 * thread), and one that finishes before an earlier one is held until
 * its turn. emit() takes the ticket itself, for an entry the walking
 * thread reports at once; emit_at() is for a file a worker copied.
 */
void emit(struct mapcp_session *s, struct mapcp_report *r, int ret);
void emit_at(struct mapcp_session *s, struct mapcp_report *r, int ret,
	     unsigned long long ticket);
unsigned long long session_ticket(struct mapcp_session *s);
/* Everything held goes out, in order: the walk is over. */
void emit_flush(struct mapcp_session *s);
/* This thread copies for the walker: it may wait for its turn. */
void emit_may_wait(void);
void entry_report(struct mapcp_report *r, const char *src, const char *dst,
		  const char *what);
/* Remember top as session->tops[*index]. 0 or -ENOMEM. */
int session_top(struct mapcp_session *s, const char *path, int fd,
		unsigned int *index);

/* walk.c */

/* Copy the directory src (st) to dst: the top of a tree. */
void tree_copy(struct mapcp_session *s, const char *src,
	       const struct place *dst, const struct stat *st);
/*
 * d's path on side (with name below it, if not NULL); malloc'd or NULL.
 * dir_path() may be called from any thread and follows d's parents;
 * walk_path(), for the walking thread and a directory on its path, is a
 * copy of what it keeps.
 */
char *dir_path(const struct dir *d, enum side side, const char *name);
char *walk_path(const struct dir *d, enum side side, const char *name);
/* Both sides' places of an entry of d, and the hints a tree entry takes. */
unsigned int entry_places(const struct tree *t, const struct dir *d,
			  const char *name, const char *sp, const char *dp,
			  struct place *s, struct place *p);
/*
 * DEST's directory for d (d->st: the source's stat), made in pfd as
 * name (-EEXIST if it is there, untouched), or found there: opened
 * without following a symlink and checked; d's made, mode fields set.
 * The fd (*st its fstat), or -errno with r filled.
 */
int make_dst_dir(const struct mapcp_session *s, int pfd, const char *name,
		 struct dir *d, struct stat *st, struct mapcp_report *r);
int open_dst_dir(const struct mapcp_session *s, int pfd, const char *name,
		 struct dir *d, struct stat *st, struct mapcp_report *r);
/* Give d's DEST directory its final mode and times. 0 or -errno. */
int dir_meta(const struct mapcp_opts *o, const struct dir *d, int src_fd,
	     struct mapcp_report *r);
/* Let go of one reference to d: the last one finishes and frees it. */
void dir_unref(struct dir *d);
/*
 * Read the directory open as fd (fresh, at offset 0) whole, through buf
 * (DENTS_BUF bytes), into a malloc'd array. 0 or -errno.
 */
#define DENTS_BUF 32768
int read_dir(int fd, char *buf, struct dir_entry **out, size_t *n);

/* pool.c */
/* Start the workers: -j's, or fewer, at most most threads in all. */
void pool_start(struct tree *t, unsigned int most);
/* Hand d/name to the workers (or copy it now). */
void pool_add(struct tree *t, struct dir *d, const char *name);
/* Wait until every file handed over is done, helping with the copies. */
void pool_drain(struct tree *t);
void pool_stop(struct tree *t);
/* Copy one regular file d/name, in whichever thread. */
void copy_file_task(struct tree *t, struct dir *d, const char *name,
		    unsigned long long ticket);

/* entries.c */

/*
 * cp -l, -s: dst made a hard link to src (through a symlink if follow),
 * or a symbolic link to src's path; reported.
 */
void link_source(struct mapcp_session *s, const struct place *src,
		 const struct place *dst, const struct stat *st, bool follow);
/* A symlink or special file, made as itself at dst. */
void copy_other(struct mapcp_session *s, const struct place *src,
		const struct place *dst, const struct stat *st);
/*
 * --preserve=links: a file with other names, or a top-level operand.
 * Linked to the copy of an earlier name, or copied and remembered.
 */
void copy_linked(struct mapcp_session *s, const struct place *src,
		 const struct place *dst, const struct stat *st,
		 unsigned int hints, unsigned int top, const char *rel);
/*
 * Does cp remember this source file for later hard links? Files with
 * other names; with -L, and -H on the command line, any file, since two
 * symlinks may lead to it.
 */
bool links_wanted(const struct mapcp_opts *o, const struct stat *st,
		  bool command_line);

#endif
