/*
 * The core's own interfaces, between copy.c, the planner, the atomic
 * writer, the extent walker, metadata, verify and the tree copier (whose
 * own parts are in tree.h). Not installed, and not for the engines, which
 * see engine.h alone. Same conventions as mapcp.h: 0 or -errno, never
 * print.
 */
#ifndef MAPCP_CORE_H
#define MAPCP_CORE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine.h"

/*
 * Where failures are counted: ret, with r's step made
 * MAPCP_STEP_UNKNOWN if a failure left none, so that every failure has
 * a message. Built with MAPCP_CHECK_STEPS (the tests' build), it aborts
 * there instead.
 */
int report_checked(struct mapcp_report *r, int ret);

/*
 * Has the source changed since it was opened (src, its fstat then)? Its
 * size says so for a file that shrank or grew, its mtime for one written
 * over in place, which keeps its size. 1 if it changed, 0, or -errno.
 */
int job_source_changed(const struct mapcp_job *job, const struct stat *src);

#define ENGINE(name) extern const struct mapcp_engine engine_##name;
#include "engines.def"
#undef ENGINE

/* Every engine in engines.def order; NULL-terminated. */
extern const struct mapcp_engine *const engine_table[];

/* The engine called name, or NULL. */
const struct mapcp_engine *engine_find(const char *name, size_t len);

/*
 * What copy.c and the planner keep of one copy beside what the engines
 * see (job->core).
 */
struct copy_state {
	bool dense;      /* every block allocated: no holes to look for */
	mode_t dst_mode; /* DEST's mode as made, or (mode_t)-1 */
	bool empty_dest; /* --inplace: DEST to be emptied first, once an
			    engine is known not to refuse the copy */
	dev_t src_dev;   /* the source's filesystem */
	dev_t dst_dev;   /* DEST's, or 0 if not known: learnt failures */
};

/* plan.c: choose and run the engines for one job. */
#define PLAN_MAX 8
struct plan {
	const struct mapcp_engine *chain[PLAN_MAX];
	unsigned int n;
	const char *why;      /* why the first engine leads */
	const char *why_next; /* why the others, after a fallback */
};

/* Build the chain for opts->engine. 0 or -EINVAL for an unknown engine. */
int plan_build(struct plan *plan, const struct mapcp_job *job);

/*
 * Copy every data extent of the job with the first engine of the chain
 * that can, falling back only before the first byte is written. 0 or -errno.
 */
int plan_run(const struct plan *plan, struct mapcp_job *job);

/*
 * Would every engine of plan refuse job before writing a byte? Then the
 * last one's -errno, reported as plan_run() would report it; else 0 and
 * nothing reported. --inplace asks before it empties DEST.
 */
int plan_refuses(const struct plan *plan, struct mapcp_job *job);

/* Is err a reason to try the next engine, if nothing was written yet? */
bool plan_may_fall_back(int err);

/* extents.c: the source's data extents, found with SEEK_DATA/SEEK_HOLE. */

/*
 * Find the first data extent at or after *pos and before end. Returns 1 and
 * sets *pos and *len, 0 when only hole is left, or -errno.
 */
int extent_next(int fd, off_t end, off_t *pos, off_t *len);

/*
 * The extents an engine is given, by --sparse mode: auto, the data extents;
 * always, the data extents less every whole block of zeros in them (read to
 * find out); never, the data extents and, marked, the holes between them,
 * which the planner fills with zeros.
 */
struct extents {
	int fd;
	off_t end;
	off_t pos;
	off_t data_end; /* end of the SEEK_DATA extent being split (always) */
	enum mapcp_sparse mode;
	bool dense;         /* no holes: auto\'s extent is the whole file */
	size_t block;       /* hole granularity: DEST's block size */
	unsigned char *buf; /* always: the bytes at [buf_off, +buf_len) */
	off_t buf_off;
	size_t buf_len;
};

/*
 * Start walking fd's [0, end). dense: the file has every block allocated,
 * so auto needs no SEEK_DATA. 0, or -ENOMEM.
 */
int extents_init(struct extents *x, int fd, off_t end, enum mapcp_sparse mode,
		 size_t block, bool dense);

/*
 * The next extent: 1 with *off and *len set, and *hole if it is a hole to
 * write as zeros (--sparse=never); 0 at the end; -errno.
 */
int extents_next(struct extents *x, off_t *off, off_t *len, bool *hole);

void extents_free(struct extents *x);

/* Is [p, p + n) all zero bytes? */
bool all_zero(const unsigned char *p, size_t n);

/* atomic.c: the temporary that becomes DEST. */
struct atomic {
	int dirfd;         /* DEST's directory: the caller's, not closed here */
	const char *name;  /* DEST's name in it */
	int fd;            /* the temporary, open read-write */
	char tmpname[256]; /* its name, or "" for an unnamed O_TMPFILE */
	bool existed;      /* DEST existed when we looked */
	int slot;          /* temp_track()'s handle for tmpname, or 0 */
	mode_t mode;       /* the temporary's mode, or (mode_t)-1 if unknown */
	enum {             /* how the copy took DEST's place, to undo it */
	       PLACED_NEW, /* DEST did not exist: unlink to undo */
	       PLACED_EXCHANGED, /* tmpname holds the old DEST now */
	       PLACED_REPLACED,  /* the old DEST is gone */
	} how;
};

/*
 * Open a temporary in dirfd: O_TMPFILE if the filesystem has it, else a
 * hidden name made with O_EXCL and mode 0600. An O_TMPFILE has no name,
 * so nobody can open it (/proc/PID/fd asks for the right to trace us):
 * it is made with mode, DEST's final mode, saving an fchmod(2) per file;
 * a->mode says what the file got. 0 or -errno, step set.
 */
int atomic_open(struct atomic *a, int dirfd, const char *name, mode_t mode,
		struct mapcp_report *r);

/*
 * The process's umask, read once (report.c): what open(2) and mkdir(2)
 * take away from a mode, and mapcp_opts_init()'s default for opts.umask.
 */
mode_t process_umask(void);

/*
 * Make the temporary DEST: link it (no_replace) or rename it over DEST.
 * Returns 0, 1 if no_replace found DEST already there (nothing changed),
 * or -errno.
 */
int atomic_commit(struct atomic *a, bool no_replace, bool sync,
		  struct mapcp_report *r);

/* Remove the temporary if it is still there and close it. */
void atomic_abort(struct atomic *a);

/*
 * Make a hidden name beside a->name for a temporary (".NAME.mapcp-XXXXXX",
 * within NAME_MAX) in a->tmpname.
 */
void temp_name(struct atomic *a);

/*
 * temps.c: named temporaries not yet in place, for mapcp_remove_temps().
 * temp_track() before creating dirfd/name returns a handle (0 if the table
 * is full); temp_made() once it exists; temp_untrack() once it is placed
 * or removed. Handle 0 is ignored.
 */
int temp_track(int dirfd, const char *name);
/* If mapcp_remove_temps() has run, stop this thread for good. */
void temp_dying_wait(void);
void temp_made(int handle);
void temp_untrack(int handle);

/*
 * Link the file open as fd (O_PATH will do) as dirfd/name. 0 or -errno;
 * -EEXIST if name is taken.
 */
int link_fd(int fd, int dirfd, const char *name);

/* Tests set this to take the named-temporary path on any filesystem. */
extern bool atomic_no_tmpfile;

/* copy.c: where a file is, relative to a directory fd. */
struct place {
	int dirfd;        /* AT_FDCWD or a directory (O_PATH will do) */
	const char *name; /* in it */
	const char *path; /* what users call it, for messages */
	int err;          /* its directory could not be opened: this errno */
	dev_t dev;        /* dirfd's filesystem, or 0 if not known */
};

/* Are a and b one file: the same device and inode? */
static inline bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Are a and b one directory entry: one name in one directory? */
bool same_dirent(const struct place *a, const struct place *b);

enum copy_hint {
	COPY_DST_ABSENT = 1 << 0, /* DEST's directory is new: no DEST yet */
	COPY_NOFOLLOW = 1 << 1,   /* SOURCE must not be a symlink (trees) */
	COPY_IN_TREE = 1 << 2,    /* below a command-line DEST: what is in
				     DEST's way is replaced, never followed
				     or written into */
	COPY_EXPECT_REG = 1 << 3, /* SOURCE was a regular file when listed:
				     open it without blocking, and refuse
				     anything else */
	COPY_WANT_INODE = 1 << 4, /* put DEST's device and inode in the
				     report (hard links) */
	COPY_AS_ITSELF = 1 << 5,  /* a symlink or special file: made as
				     itself, not read (copy_linked()) */
};

/* Copy a file (or stream) from src to dst. 0 or -errno; report filled. */
int copy_file_at(const struct place *src, const struct place *dst,
		 unsigned int hints, const struct mapcp_opts *opts,
		 struct mapcp_report *report);

/* Split a command-line path into an opened directory and a name. */
void place_of_path(const char *path, struct place *p, int *dirfd);

/*
 * DEST (dst, at dst_path) exists: is it to be kept, by -n, -u, or a "no"
 * to -i? If so *why says which.
 */
bool dest_kept(const struct mapcp_opts *o, const struct stat *dst,
	       const struct stat *src, const char *dst_path, const char **why);

/* metadata.c */

/*
 * Give fd (a file or directory being made, whose mode is mode_now, or
 * (mode_t)-1 if not known) what o->preserve keeps of st, the source's
 * stat (src_fd: the source, for xattrs and ACLs, or -1), and mode_default
 * for the mode when modes are not preserved. 0 or -errno, with r's step
 * (MAPCP_STEP_PRESERVE, its note saying what) set.
 */
int meta_apply(const struct mapcp_opts *o, int src_fd, int fd,
	       const struct stat *st, mode_t mode_now, mode_t mode_default,
	       struct mapcp_report *r);

/*
 * An existing DEST replaced by the temporary fd keeps what cp keeps of it
 * by writing the same inode: its extended attributes and ACLs (old_fd, an
 * O_PATH descriptor of it), less file capabilities, which a write clears.
 * 0, or -errno with r's step set.
 */
int meta_keep_own(int old_fd, int fd, struct mapcp_report *r);

/*
 * --no-preserve=mode: what is made has no access ACL of its own (one
 * inherited from its directory's default ACL), as cp sets exactly the
 * default mode; a directory keeps the default ACL it inherited, as in cp.
 * 0 or -errno.
 */
int meta_strip_acls(int fd);

/*
 * The same for a symlink or special file, through fd, an O_PATH
 * descriptor of it: ownership, mode (not of a symlink) and timestamps.
 */
int meta_apply_node(const struct mapcp_opts *o, int fd, const struct stat *st,
		    struct mapcp_report *r);

/*
 * verify.c: read DEST back and compare it with the source (src: its fstat
 * when opened). A source that changed, an I/O error and a DEST that reads
 * back wrong are told apart. 0 or -errno.
 */
int verify_copy(struct mapcp_job *job, const struct stat *src);

/*
 * copy.c: -b's backups. backup_name() puts in b the name that name in
 * dirfd is to be kept as (cp's: NAME + suffix, NAME.~N~); backup_keep()
 * gives it that name, a second hard link where it can (so that name is
 * never missing), else by rename: enum backup_how, or -errno.
 */
int backup_name(const struct mapcp_opts *o, int dirfd, const char *name,
		char *b, size_t size);
int backup_keep(int dirfd, const char *name, const char *b);
enum backup_how {
	BACKUP_LINKED,  /* b is a second name of DEST */
	BACKUP_RENAMED, /* DEST was moved to b: no second name to be had */
	BACKUP_NOTHING, /* DEST had gone */
};
/*
 * The copy failed after backup_keep() returned how: DEST back as it was
 * (moved back, or its second name removed), as cp leaves no backup then.
 */
void backup_undo(int dirfd, const char *name, const char *b, int how);

/*
 * atomic.c: the xattr that marks a named temporary as mapcp's own, for
 * --clean-temps; never copied from a source (metadata.c).
 */
#define SELINUX_XATTR "security.selinux" /* --preserve=context */
#define TEMP_MARK     "user.mapcp.temp"

/* progress.c: the counters and the questions shared between threads. */
void progress_start(const struct mapcp_opts *opts, const char *path);
void progress_done(const struct mapcp_opts *opts);
/* The data bytes a copy of the file st describes will write. */
unsigned long long progress_estimate(const struct mapcp_opts *opts,
				     const struct stat *st);
/* A file that will not be copied after all (-n, -u, -i): off the total. */
void progress_skip(const struct mapcp_opts *opts, const struct stat *st);
bool ask_user(const struct mapcp_opts *opts, const char *dst);

/* util.c */

#endif
