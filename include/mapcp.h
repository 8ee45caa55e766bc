/*
 * mapcp: copy files through memory mappings and every other path the
 * Linux kernel offers, without ever losing data.
 *
 * This is the library's public API, used by the mapcp command line and by
 * mapcp-bench. Functions return 0 (or a count) on success and -errno on
 * failure; they never print and never exit. What went wrong is described in
 * a struct mapcp_report, which mapcp_report_error() turns into the one-line
 * message the command line prints.
 */
#ifndef MAPCP_H
#define MAPCP_H

#include <pthread.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define MAPCP_VERSION "0.1.0"

/* Default mmap window: measured, see docs/measuring.md. */
#define MAPCP_DEFAULT_WINDOW (8u << 20)
/* Default rw buffer: measured likewise; never below 128 KiB. */
#define MAPCP_DEFAULT_BUFFER (256u << 10)
/* Default io_uring queue depth (reads and writes in flight): measured. */
/*
 * The largest buffer and window taken: memory stays bounded whatever the
 * options, not only whatever the file's size. 64 MiB is 256 default
 * buffers; past a few MiB no engine measured gets faster.
 */
#define MAPCP_MAX_BUFFER          (64u << 20)
#define MAPCP_MAX_WINDOW          (1u << 30)
#define MAPCP_DEFAULT_QUEUE_DEPTH 32u
#define MAPCP_MAX_QUEUE_DEPTH     1024u

enum mapcp_flag {
	MAPCP_FORCE = 1 << 0, /* replace DEST even if we may not write it */
	MAPCP_NO_CLOBBER = 1 << 1, /* never replace an existing DEST */
	MAPCP_INPLACE = 1 << 2,    /* write into DEST instead of replacing it */
	MAPCP_FSYNC = 1 << 3,      /* fsync the data and the directory */
	MAPCP_RECURSIVE = 1 << 4,  /* copy directories and what is in them */
	MAPCP_UPDATE = 1 << 5,     /* only when SOURCE is newer than DEST */
	MAPCP_VERIFY = 1 << 6,     /* read DEST back and compare, xxh3-128 */
	MAPCP_INTERACTIVE = 1 << 7, /* ask opts.ask before replacing DEST */
	/* A symlink to a directory in DEST's tree is written through */
	MAPCP_KEEP_DIR_SYMLINK = 1 << 8,
	/*
	 * Replace DEST atomically or fail: where a rename cannot replace it
	 * (its directory is not writable, sticky and someone else's file,
	 * a mount point), refuse instead of writing it in place.
	 */
	MAPCP_ATOMIC = 1 << 9,
	/* cp --remove-destination: DEST is replaced, never written through */
	MAPCP_REMOVE_DEST = 1 << 10,
	/* POSIXLY_CORRECT: a dangling symlink DEST makes its target */
	MAPCP_THROUGH_DANGLING = 1 << 11,
	/*
	 * cp --attributes-only: a regular file's data is not copied; a new
	 * DEST is made empty, an existing one keeps its data, and either gets
	 * the attributes -p and --preserve ask for.
	 */
	MAPCP_ATTRIBUTES_ONLY = 1 << 12,
	/*
	 * cp --copy-contents: with MAPCP_RECURSIVE, FIFOs and devices in a
	 * tree are read as files and their contents copied, as without -r.
	 */
	MAPCP_COPY_CONTENTS = 1 << 13,
	/* --update=none-fail: an existing DEST is kept, and that is an error */
	MAPCP_NO_CLOBBER_FAIL = 1 << 14,
	/*
	 * cp -x: in a tree, directories on another filesystem than their
	 * command-line SOURCE are made, empty, but not entered.
	 */
	MAPCP_ONE_FS = 1 << 15,
	/*
	 * cp --no-preserve=mode: what is made gets the default mode (0666
	 * for files, 0777 for directories, less the umask), not SOURCE's.
	 */
	MAPCP_DEFAULT_MODES = 1 << 16,
	/*
	 * --preserve=xattr named: a filesystem that cannot hold SOURCE's
	 * extended attributes is an error, as in cp (-a, all: quietly not)
	 */
	MAPCP_XATTR_REQUIRED = 1 << 17,
	/*
	 * on_file hears of a tree's entries in the order of the walk, as
	 * cp -v lists them (a directory, then what is in it, each
	 * directory's entries by inode number), not as they finish.
	 */
	MAPCP_IN_ORDER = 1 << 18,
};

/* cp -l and -s: what a SOURCE that is not a directory becomes at DEST. */
enum mapcp_make {
	MAPCP_MAKE_COPY = 0,  /* a copy */
	MAPCP_MAKE_HARD_LINK, /* -l: another name of SOURCE */
	MAPCP_MAKE_SYMLINK,   /* -s: a symbolic link to SOURCE as named */
};

/* What -p, --preserve keeps, with cp's meanings. */
enum mapcp_preserve {
	MAPCP_PRESERVE_MODE = 1 << 0,
	MAPCP_PRESERVE_OWNERSHIP = 1 << 1,
	MAPCP_PRESERVE_TIMESTAMPS = 1 << 2,
	MAPCP_PRESERVE_LINKS = 1 << 3, /* hard links inside the copied set */
	MAPCP_PRESERVE_XATTR = 1 << 4,
	/* the SELinux label (security.selinux), where SELinux is on */
	MAPCP_PRESERVE_CONTEXT = 1 << 5,
	MAPCP_PRESERVE_ALL = (1 << 6) - 1,
};

/* Which symbolic links in SOURCE are followed: cp's -P, -H, -L. */
enum mapcp_deref {
	MAPCP_DEREF_DEFAULT = 0, /* cp's: -L for files, -P with -r */
	MAPCP_DEREF_NEVER,       /* -P: copy symlinks as symlinks */
	MAPCP_DEREF_ARGS,   /* -H: follow those named on the command line */
	MAPCP_DEREF_ALWAYS, /* -L: follow them all */
};

/*
 * Counters the library keeps up to date while it copies, for a progress
 * display reading them from another thread. Totals come from
 * mapcp_scan(), which may run alongside the copy.
 */
struct mapcp_progress {
	_Atomic unsigned long long bytes;       /* data bytes copied so far */
	_Atomic unsigned long long files;       /* entries done (or failed) */
	/*
	 * The scan's total of the data it expects to be copied: a file's
	 * size, or for a sparse one its allocated bytes, as the engines copy
	 * only data (its size with MAPCP_SPARSE_NEVER, where holes are
	 * written). Files found to be kept (-n, -u, -i) are added to
	 * skipped_bytes, to be taken off the total.
	 */
	_Atomic unsigned long long total_bytes;
	_Atomic unsigned long long skipped_bytes;
	_Atomic unsigned long long total_files;
	_Atomic int scanned;  /* the scan has finished: totals are final */
	_Atomic int cancel;   /* set by the caller: mapcp_scan() stops early */
	pthread_mutex_t lock; /* guards current */
	char current[1024];   /* the file being copied, as given */
};

/*
 * One mapped window, passed to mapcp_opts.on_window just after the mapping
 * is made and before any byte of it is copied. dst is NULL for engines that
 * map only the source.
 */
struct mapcp_window {
	const char *src_path;
	const char *dst_path;
	const void *src;
	const void *dst;
	size_t len;
	off_t off;
	unsigned int index; /* 0 for a file's first window */
};

typedef void mapcp_window_fn(const struct mapcp_window *w, void *arg);

struct mapcp_report;

/*
 * Called once for every entry mapcp_copy() copies, skips or fails on, from
 * any thread, but never two at a time.
 */
typedef void mapcp_file_fn(const struct mapcp_report *r, void *arg);

/* -i: may DEST be replaced? Never called two at a time. */
typedef bool mapcp_ask_fn(const char *dst, void *arg);

/* --sparse, with cp's meanings. */
enum mapcp_sparse {
	MAPCP_SPARSE_AUTO = 0, /* holes in SOURCE stay holes, nothing more */
	MAPCP_SPARSE_ALWAYS,   /* and whole blocks of zeros become holes */
	MAPCP_SPARSE_NEVER,    /* write every byte, holes as zeros */
};

/* --reflink, with cp's meanings. */
enum mapcp_reflink {
	MAPCP_REFLINK_AUTO = 0, /* share blocks where the filesystem can */
	MAPCP_REFLINK_ALWAYS,   /* share blocks or fail */
	MAPCP_REFLINK_NEVER,    /* always a real copy of the data */
};

/* cp's -b, --backup=CONTROL: what an existing DEST is kept as. */
enum mapcp_backup {
	MAPCP_BACKUP_NONE = 0, /* none, off */
	MAPCP_BACKUP_SIMPLE,   /* simple, never: DEST + suffix */
	MAPCP_BACKUP_NUMBERED, /* numbered, t: DEST.~N~ */
	MAPCP_BACKUP_EXISTING, /* existing, nil: numbered if any is, else simple
				*/
};

struct mapcp_opts {
	/*
	 * "auto", one engine's name, or a comma-separated list tried in
	 * order ("copy_file_range,rw"). NULL means "auto".
	 */
	const char *engine;
	size_t window;      /* mmap window in bytes, a page multiple */
	size_t buffer;      /* rw buffer in bytes */
	unsigned int flags; /* enum mapcp_flag */
	mode_t umask;       /* applied to the mode of a new DEST */
	enum mapcp_sparse sparse;
	enum mapcp_reflink reflink;
	unsigned int queue_depth; /* io_uring: requests in flight */
	unsigned int preserve;    /* enum mapcp_preserve */
	enum mapcp_deref deref;
	unsigned int jobs; /* threads copying files of a tree; 0: CPUs */
	struct mapcp_progress *progress; /* counters to update, or NULL */
	mapcp_file_fn *on_file;
	void *on_file_arg;
	mapcp_ask_fn *ask;
	void *ask_arg;
	mapcp_window_fn *on_window;
	void *on_window_arg;
	enum mapcp_make make;      /* copies, or -l, -s: links to SOURCE */
	enum mapcp_backup backup;  /* keep a replaced DEST under another name */
	const char *backup_suffix; /* for simple backups: "~" by default */
	int fail_errno;   /* the test engine "fail" (in test binaries only):
			     errno it returns, or -1
			     to flip the byte at fail_after instead */
	off_t fail_after; /* ... after copying this many bytes */
};

/* The step that failed, so that a message can say what was being done. */
enum mapcp_step {
	MAPCP_STEP_NONE = 0,
	MAPCP_STEP_STAT_SRC,   /* cannot stat 'SRC' */
	MAPCP_STEP_OPEN_SRC,   /* cannot open 'SRC' for reading */
	MAPCP_STEP_IS_DIR,     /* -r not specified; omitting directory */
	MAPCP_STEP_SAME_FILE,  /* 'SRC' and 'DST' are the same file */
	MAPCP_STEP_STAT_DST,   /* cannot stat 'DST' */
	MAPCP_STEP_DANGLING,   /* not writing through dangling symlink */
	MAPCP_STEP_DST_IS_DIR, /* cannot overwrite directory */
	MAPCP_STEP_CREATE,     /* cannot create regular file 'DST' */
	MAPCP_STEP_READ,       /* error reading 'SRC' */
	MAPCP_STEP_WRITE,      /* error writing 'DST' */
	MAPCP_STEP_MAP_SRC,    /* cannot map 'SRC' */
	MAPCP_STEP_MAP_DST,    /* cannot map 'DST' */
	MAPCP_STEP_COPY,       /* error copying 'SRC' to 'DST' (in-kernel) */
	MAPCP_STEP_CHANGED,    /* 'SRC' changed during the copy */
	MAPCP_STEP_ENGINE,     /* no engine could copy this file */
	MAPCP_STEP_META,       /* cannot set permissions of 'DST' */
	MAPCP_STEP_SYNC,       /* error syncing 'DST' */
	MAPCP_STEP_COMMIT,     /* cannot replace 'DST' */
	MAPCP_STEP_CLOSE,      /* error closing 'DST' */
	MAPCP_STEP_CLONE,      /* failed to clone 'DST' from 'SRC' */
	MAPCP_STEP_VERIFY,     /* 'DST' does not match 'SRC' read back */
	MAPCP_STEP_INTO_SELF,  /* cannot copy a directory into itself */
	MAPCP_STEP_MKDIR,      /* cannot create directory 'DST' */
	MAPCP_STEP_NOT_DIR,  /* cannot overwrite non-directory with directory */
	MAPCP_STEP_SYMLINK,  /* cannot create symbolic link 'DST' */
	MAPCP_STEP_SPECIAL,  /* cannot create special file 'DST' */
	MAPCP_STEP_LINK,     /* cannot create hard link 'DST' */
	MAPCP_STEP_READLINK, /* cannot read symbolic link 'SRC' */
	MAPCP_STEP_PRESERVE, /* failed to preserve ... of 'DST' */
	MAPCP_STEP_THROUGH_NEW_LINK, /* will not copy through just-created */
	MAPCP_STEP_OVER_NEW,         /* will not overwrite just-created */
	MAPCP_STEP_CYCLE,      /* cannot copy cyclic symbolic link 'SRC' */
	MAPCP_STEP_REPLACED,   /* skipping 'SRC', replaced while being copied */
	MAPCP_STEP_MOVED,      /* 'DST' was moved or replaced during the copy */
	MAPCP_STEP_REOPEN,     /* cannot return to directory 'DST' */
	MAPCP_STEP_NOT_ATOMIC, /* cannot replace 'DST' atomically (--atomic) */
	MAPCP_STEP_BACKUP,     /* cannot backup 'DST' */
	MAPCP_STEP_BACKUP_IS_SRC, /* backing up 'DST' might destroy source */
	MAPCP_STEP_SYMLINK_TO, /* cannot create symbolic link 'DST' to 'SRC' */
	MAPCP_STEP_RELATIVE_LINK, /* 'DST': can make relative symbolic links
				     only in current directory */
	MAPCP_STEP_NOT_REPLACING, /* not replacing 'DST' (--update=none-fail) */
	MAPCP_STEP_FIFO,          /* cannot create fifo 'DST' */
	/*
	 * cannot copy 'SRC' to 'DST': a failure that named no step of its
	 * own (a bug: the test build aborts on it instead)
	 */
	MAPCP_STEP_UNKNOWN,
};

#define MAPCP_MAX_FALLBACKS 8

struct mapcp_fallback {
	const char *engine;
	int err;          /* positive errno it failed with */
	const char *note; /* what the errno means here, or NULL */
};

/* What one mapcp_copy_file() did, or why it failed. */
struct mapcp_report {
	const char *engine; /* engine that copied the data, NULL if none */
	const char *why;    /* why that engine, a static string */
	const char *stream; /* why the source was copied as a stream, or NULL */
	struct mapcp_fallback fallback[MAPCP_MAX_FALLBACKS];
	unsigned int nfallbacks;
	off_t size;           /* the source's size when opened */
	off_t size_now;       /* its size afterwards, for MAPCP_STEP_CHANGED */
	off_t bytes;          /* data bytes copied */
	unsigned int extents; /* data extents copied */
	bool skipped;         /* DEST was kept: -n, -u, or no to -i */
	const char *what;     /* NULL for a file's data, else "directory"... */
	bool atomic;          /* DEST was replaced by rename, not written */
	const char *inplace_why; /* why DEST could only be written in place */
	char backup[256];   /* the name a replaced DEST was kept as, or "" */
	bool backup_of_src; /* DEST was SOURCE itself (cp -fb F F) */
	bool existed;       /* a directory that was there already, not made */
	bool parent; /* a directory of SOURCE's path, made for --parents */
	/* SOURCE was given twice and is copied once: "file", "directory" */
	const char *repeated;
	const char *verified; /* --verify: what was found, or NULL */
	enum mapcp_step step; /* the step that failed */
	int err;              /* its positive errno */
	const char *note;     /* the engine's words on it, or NULL */
	const char *src;      /* the paths as given */
	const char *dst;
	dev_t dst_dev; /* the copy's device and inode, when asked */
	ino_t dst_ino;
};

/* Seconds on CLOCK_MONOTONIC: the one clock of the lab and the display. */
double mapcp_monotonic(void);

/* Fill opts with the defaults, reading the process's umask once. */
void mapcp_opts_init(struct mapcp_opts *opts);

/*
 * Copy the file src to the path dst (not a directory to copy into: the
 * caller resolves that). By default DEST is replaced atomically: either it
 * is untouched or it holds every byte of SRC. Returns 0 or -errno; the
 * report says what happened either way.
 */
int mapcp_copy_file(const char *src, const char *dst,
		    const struct mapcp_opts *opts, struct mapcp_report *report);

/*
 * Copy src to dst as cp would: a file, or with MAPCP_RECURSIVE a directory
 * and everything in it (by opts->jobs threads), symlinks and special files
 * too. dst is where src goes, not a directory to copy into. Every entry is
 * reported through opts->on_file. Returns how many entries failed, so 0
 * when all went well.
 */
unsigned long mapcp_copy(const char *src, const char *dst,
			 const struct mapcp_opts *opts);

/*
 * Several command-line SOURCEs are one session, as one cp command is:
 * hard links between them are kept (--preserve=links), a directory made
 * for one is never copied into itself by another, the same SOURCE given
 * twice is copied once (reported with r->repeated set), and what one
 * made is neither replaced by a later one nor written through if a
 * symlink (reported as a failure), as in cp. opts must outlive
 * the session. mapcp_session_copy() is mapcp_copy() within the session;
 * mapcp_session_free() returns the failures of all its copies.
 * mapcp_session_new() returns NULL without memory.
 */
struct mapcp_session;
struct mapcp_session *mapcp_session_new(const struct mapcp_opts *opts);
unsigned long mapcp_session_copy(struct mapcp_session *s, const char *src,
				 const char *dst);
unsigned long mapcp_session_free(struct mapcp_session *s);

/*
 * --parents: copy src to dir/src, making the directories of src's path
 * below dir as cp does (their modes from src's, and with -p all they
 * have once the copy is done), each opened without following a symlink.
 * Returns the failures, as mapcp_session_copy().
 */
unsigned long mapcp_session_copy_parents(struct mapcp_session *s,
					 const char *src, const char *dir);

/*
 * Is a symlink followed, as cp's -P, -H, -L and their defaults say? top:
 * the symlink was named on the command line (else it is inside a tree).
 */
bool mapcp_follows(const struct mapcp_opts *opts, bool top);

/* stat(2) or lstat(2) of a command-line SOURCE, as mapcp_follows() says. */
int mapcp_stat_source(const struct mapcp_opts *opts, const char *path,
		      struct stat *st);

/* -u's rule: is DEST (dst) not older than SOURCE (src), so kept? */
bool mapcp_dest_not_older(const struct stat *dst, const struct stat *src);

/*
 * Remove the named temporaries of copies in progress (DEST is untouched
 * by each). For a signal handler: async-signal-safe; nothing more is
 * created afterwards, and a thread that would is stopped for good.
 */
void mapcp_remove_temps(void);

/*
 * Add up src's entries and bytes into p's totals, as mapcp_copy() with the
 * same options would copy them; set p->scanned at the end. For a progress
 * display; meant to run in its own thread beside mapcp_copy(). Setting
 * p->cancel makes it return soon, with p->scanned left 0.
 */
void mapcp_scan(const char *const *srcs, int n, const struct mapcp_opts *opts,
		struct mapcp_progress *p);

/*
 * Parse a --preserve list ("mode,ownership,timestamps,links,context,
 * xattr,all")
 * into *out. 0, or -EINVAL naming no attribute it knows.
 */
int mapcp_parse_preserve(const char *list, unsigned int *out);
/* The i-th name mapcp_parse_preserve() knows, in cp's order; NULL past. */
const char *mapcp_preserve_name(unsigned int i);

/*
 * Write the one-line message for a failed copy ("cannot stat 'x': No such
 * file or directory") into buf. Returns buf.
 */
char *mapcp_report_error(const struct mapcp_report *report, char *buf,
			 size_t size);

/*
 * Write name into buf quoted as GNU cp quotes names in its messages, so
 * that it stays on one line: 'a b', "it's", 'a'$'\n''b', 'x'$'\377'
 * (what prints as itself depends on LC_CTYPE, as in cp). Cut to size
 * bytes, NUL included; returns the length of the whole, as snprintf does.
 */
size_t mapcp_quote(char *buf, size_t size, const char *name);

/*
 * Parse a size: digits, then an optional K, M, G or T (powers of 1024,
 * "KiB" too) or KB, MB, GB, TB (powers of 1000). Returns 0, or -EINVAL for
 * anything else, zero included, and -ERANGE on overflow.
 */
int mapcp_parse_size(const char *s, size_t *out);

/*
 * Is name one of the temporaries mapcp names where O_TMPFILE is missing:
 * ".NAME.mapcp-XXXXXX", NAME not empty, X six of [A-Za-z0-9]? Nothing
 * else is ever removed by mapcp_clean_temps().
 */
bool mapcp_is_temp_name(const char *name);

/*
 * Remove the temporaries a killed mapcp left in dir: regular files whose
 * names pass mapcp_is_temp_name(), that carry the mark a mapcp gives its
 * temporaries (the xattr user.mapcp.temp), that no running mapcp holds
 * (each holds a lock on its own temporary), and, in a sticky directory,
 * that the caller owns. report(name, err, arg) is called for every one:
 * err 0 removed, EBUSY in use, EPERM not a regular file,
 * MAPCP_TEMP_UNMARKED, MAPCP_TEMP_NOT_YOURS, else the errno of why it
 * stays. Returns how many could not be removed, or -errno if dir cannot
 * be read.
 */
#define MAPCP_TEMP_UNMARKED  ENODATA    /* no mark: maybe a lookalike */
#define MAPCP_TEMP_NOT_YOURS EOWNERDEAD /* another's, in a sticky dir */
int mapcp_clean_temps(const char *dir,
		      void (*report)(const char *name, int err, void *arg),
		      void *arg);

/* Check an engine list ("auto", "mmap", "copy_file_range,rw"). 0 or -EINVAL. */
int mapcp_check_engines(const char *list);

/*
 * Check that the options make sense together (--reflink=always with
 * --sparse=auto only, as in cp; --sparse=never with no engine that may
 * share blocks...). Returns NULL, or the reason they do not.
 */
const char *mapcp_check_opts(const struct mapcp_opts *opts);

/*
 * Name of the i-th engine a user can choose, auto last, NULL past the end.
 * The test engine, in test binaries only, is not among them.
 */
const char *mapcp_engine_name(unsigned int i);

#endif
