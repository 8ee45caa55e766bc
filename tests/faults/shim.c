/*
 * The fault shim: an LD_PRELOAD library that makes one chosen call of one
 * chosen function fail, so that make check-faults can walk every syscall
 * of the copy path into failure, the 1st call, the 2nd, ... the nth.
 *
 * libfiu's POSIX preload wrappers cover read, write, open, mmap and a few
 * more, and make check-faults uses them too (random faults); but they do
 * not wrap openat, copy_file_range, sendfile, splice, io_uring, fallocate,
 * fchmod, futimens, linkat or renameat, and they cannot fail "exactly the
 * nth call". This shim wraps all of them, counts calls per function and
 * acts on one:
 *
 *   MAPCP_FAULT=FUNC:N:KIND   fail the Nth call of FUNC (counted from 1)
 *                             KIND: EIO ENOSPC EDQUOT EINTR EAGAIN SHORT
 *   MAPCP_FAULT_LOG=FILE      append "FUNC N KIND" there when it fires
 *   MAPCP_FAULT_COUNT=FILE    at exit, write "FUNC CALLS" for every FUNC
 *   MAPCP_FAULT_NOTMPFILE=1   open(O_TMPFILE) fails with EOPNOTSUPP, as on
 *                             filesystems without it (named temporaries)
 *   MAPCP_FAULT_SWAP=NAME:TO  the race an attacker wins: just before the
 *                             first openat() of an entry NAME that is not a
 *                             directory, replace it by a FIFO (TO "fifo")
 *                             or by a symlink to TO
 *   MAPCP_FAULT_SWAPDIR=NAME:TO  just after the process makes a directory
 *                             NAME (mkdirat), and before it opens it, move
 *                             it aside and put a symlink to TO there
 *
 * An injected error does not perform the call, except close(2), which on
 * Linux releases the descriptor whatever it returns. SHORT performs the
 * call for half the count (read, write, copy_file_range, sendfile,
 * splice, their positioned forms, and io_uring completions, whose result
 * is halved in the completion ring). io_uring is faulted at its two
 * doors: io_uring_submit_and_wait (the io_uring_enter(2) mapcp makes) and
 * the completions it reaps ("io_uring_cqe", whose result becomes -errno).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Every function the shim knows, in the order MAPCP_FAULT_COUNT lists. */
#define FUNCS(X)                                                               \
	X(open64)                                                              \
	X(openat64)                                                            \
	X(read)                                                                \
	X(pread64)                                                             \
	X(write)                                                               \
	X(pwrite64)                                                            \
	X(lseek64)                                                             \
	X(mmap64)                                                              \
	X(munmap)                                                              \
	X(madvise)                                                             \
	X(copy_file_range)                                                     \
	X(sendfile64)                                                          \
	X(splice)                                                              \
	X(ioctl)                                                               \
	X(io_uring_submit_and_wait)                                            \
	X(io_uring_cqe)                                                        \
	X(ftruncate64)                                                         \
	X(fallocate64)                                                         \
	X(fsync)                                                               \
	X(fdatasync)                                                           \
	X(fchmod)                                                              \
	X(fchown)                                                              \
	X(futimens)                                                            \
	X(fsetxattr)                                                           \
	X(linkat)                                                              \
	X(renameat)                                                            \
	X(renameat2)                                                           \
	X(unlinkat)                                                            \
	X(mkdirat)                                                             \
	X(getdents64)                                                          \
	X(close)

#define ENUM(f) F_##f,
#define NAME(f) #f,
enum func { FUNCS(ENUM) NFUNCS };
static const char *const names[] = { FUNCS(NAME) };

enum kind { K_NONE, K_ERROR, K_SHORT };

static atomic_ulong calls[NFUNCS];
static int target = -1;        /* the function to fail, or -1 */
static unsigned long target_n; /* its call to fail */
static int target_err;         /* errno, for K_ERROR */
static enum kind target_kind;
static const char *kind_name;
static const char *log_path;
static const char *count_path;
static int no_tmpfile;
static char swap_name[256], swap_to[256];       /* MAPCP_FAULT_SWAP */
static char swapdir_name[256], swapdir_to[256]; /* MAPCP_FAULT_SWAPDIR */
static atomic_int swapped, swapdir_armed;

static const struct {
	const char *name;
	int err;
} kinds[] = {
	{ "EIO", EIO },     { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT },
	{ "EINTR", EINTR }, { "EAGAIN", EAGAIN }, { "SHORT", 0 },
};

static void
die(const char *what, const char *v)
{
	fprintf(stderr, "fault shim: bad %s '%s'\n", what, v);
	_exit(99);
}

/* NAME:TO from the variable var, if set. */
static void
swap_arg(const char *var, char *name, char *to)
{
	const char *v = getenv(var);

	if (v != NULL && sscanf(v, "%255[^:]:%255s", name, to) != 2)
		die(var, v);
}

/* The last component of path. */
static const char *
base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * MAPCP_FAULT_SWAP and MAPCP_FAULT_SWAPDIR, before an openat(): what
 * another user would do at that moment. Raw syscalls: not counted.
 */
static void
swap_before_open(int dirfd, const char *path, int flags)
{
	int saved = errno;

	if (*swap_name && !(flags & (O_DIRECTORY | O_CREAT)) &&
	    strcmp(base_of(path), swap_name) == 0 &&
	    atomic_exchange(&swapped, 1) == 0) {
		syscall(SYS_unlinkat, dirfd, path, 0);
		if (strcmp(swap_to, "fifo") == 0)
			syscall(SYS_mknodat, dirfd, path, S_IFIFO | 0644, 0);
		else
			syscall(SYS_symlinkat, swap_to, dirfd, path);
	}
	if (*swapdir_name && (flags & O_DIRECTORY) &&
	    strcmp(base_of(path), swapdir_name) == 0 &&
	    atomic_exchange(&swapdir_armed, 0) == 1) {
		char aside[300];

		snprintf(aside, sizeof(aside), "%s.aside", path);
		syscall(SYS_renameat, dirfd, path, dirfd, aside);
		syscall(SYS_symlinkat, swapdir_to, dirfd, path);
	}
	errno = saved;
}

__attribute__((constructor)) static void
setup(void)
{
	const char *v = getenv("MAPCP_FAULT");
	char func[64], kind[16];
	unsigned long n;

	log_path = getenv("MAPCP_FAULT_LOG");
	count_path = getenv("MAPCP_FAULT_COUNT");
	no_tmpfile = getenv("MAPCP_FAULT_NOTMPFILE") != NULL;
	swap_arg("MAPCP_FAULT_SWAP", swap_name, swap_to);
	swap_arg("MAPCP_FAULT_SWAPDIR", swapdir_name, swapdir_to);
	if (v == NULL || *v == '\0')
		return;
	if (sscanf(v, "%63[^:]:%lu:%15s", func, &n, kind) != 3 || n == 0)
		die("MAPCP_FAULT", v);
	for (int i = 0; i < NFUNCS; i++)
		if (strcmp(func, names[i]) == 0)
			target = i;
	if (target < 0)
		die("function", func);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i].name) == 0) {
			kind_name = kinds[i].name;
			target_err = kinds[i].err;
			target_kind = kinds[i].err ? K_ERROR : K_SHORT;
		}
	if (kind_name == NULL)
		die("kind", kind);
	target_n = n;
}

__attribute__((destructor)) static void
report(void)
{
	FILE *f;

	if (count_path == NULL || (f = fopen(count_path, "w")) == NULL)
		return;
	for (int i = 0; i < NFUNCS; i++)
		fprintf(f, "%s %lu\n", names[i], atomic_load(&calls[i]));
	fclose(f);
}

/* Log a fault that fired, with raw syscalls: our wrappers would count. */
static void
note(enum func f, unsigned long n)
{
	int saved = errno;
	char line[128];
	long fd;
	int len;

	if (log_path != NULL &&
	    (fd = syscall(SYS_openat, AT_FDCWD, log_path,
			  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) >=
		    0) {
		len = snprintf(line, sizeof(line), "%s %lu %s\n", names[f], n,
			       kind_name);
		if (syscall(SYS_write, fd, line, (size_t)len) != len)
			fprintf(stderr, "fault shim: cannot log to %s\n",
				log_path);
		syscall(SYS_close, fd);
	}
	errno = saved;
}

/* Count a call of f; the fault to apply to it, if this is the one. */
static enum kind
hit(enum func f)
{
	unsigned long n = atomic_fetch_add(&calls[f], 1) + 1;

	if ((int)f != target || n != target_n)
		return K_NONE;
	note(f, n);
	return target_kind;
}

/* The next definition of f: libc's, or a sanitizer's interceptor. */
#define REAL(f)                                                                \
	static __typeof__(&f) real_##f;                                        \
	if (real_##f == NULL)                                                  \
	real_##f = (__typeof__(&f))dlsym(RTLD_NEXT, #f)

/* The common case: an error, or the real call. */
#define PLAIN(f, fail, ...)                                                    \
	do {                                                                   \
		REAL(f);                                                       \
		if (hit(F_##f) != K_NONE) {                                    \
			errno = target_err ? target_err : EIO;                 \
			return fail;                                           \
		}                                                              \
		return real_##f(__VA_ARGS__);                                  \
	} while (0)

/* A call that moves bytes: an error, half the count, or the real call. */
#define COUNTED(f, count, ...)                                                 \
	do {                                                                   \
		REAL(f);                                                       \
		switch (hit(F_##f)) {                                          \
		case K_ERROR:                                                  \
			errno = target_err;                                    \
			return -1;                                             \
		case K_SHORT:                                                  \
			if (count > 1)                                         \
				count /= 2;                                    \
			break;                                                 \
		case K_NONE:                                                   \
			break;                                                 \
		}                                                              \
		return real_##f(__VA_ARGS__);                                  \
	} while (0)

static mode_t
mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
		       ? (mode_t)va_arg(ap, int)
		       : 0;
}

int
open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (no_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	PLAIN(open64, -1, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (no_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	swap_before_open(dirfd, path, flags);
	PLAIN(openat64, -1, dirfd, path, flags, mode);
}

ssize_t
read(int fd, void *buf, size_t count)
{
	COUNTED(read, count, fd, buf, count);
}

ssize_t
pread64(int fd, void *buf, size_t count, off_t off)
{
	COUNTED(pread64, count, fd, buf, count, off);
}

ssize_t
write(int fd, const void *buf, size_t count)
{
	COUNTED(write, count, fd, buf, count);
}

ssize_t
pwrite64(int fd, const void *buf, size_t count, off_t off)
{
	COUNTED(pwrite64, count, fd, buf, count, off);
}

off_t
lseek64(int fd, off_t off, int whence)
{
	PLAIN(lseek64, -1, fd, off, whence);
}

void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	PLAIN(mmap64, MAP_FAILED, addr, len, prot, flags, fd, off);
}

int
munmap(void *addr, size_t len)
{
	PLAIN(munmap, -1, addr, len);
}

int
madvise(void *addr, size_t len, int advice)
{
	PLAIN(madvise, -1, addr, len, advice);
}

ssize_t
copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len,
		unsigned int flags)
{
	COUNTED(copy_file_range, len, in, in_off, out, out_off, len, flags);
}

ssize_t
sendfile64(int out, int in, off_t *off, size_t count)
{
	COUNTED(sendfile64, count, out, in, off, count);
}

ssize_t
splice(int in, off_t *in_off, int out, off_t *out_off, size_t len,
       unsigned int flags)
{
	COUNTED(splice, len, in, in_off, out, out_off, len, flags);
}

int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	PLAIN(ioctl, -1, fd, req, arg);
}

/*
 * liburing returns -errno. The completions this call made available are
 * counted one by one as "io_uring_cqe": the chosen one gets an error for
 * a result, or half its byte count (a short read or write, which mapcp
 * must resume).
 */
int
io_uring_submit_and_wait(struct io_uring *ring, unsigned int wait_nr)
{
	REAL(io_uring_submit_and_wait);
	int ret;

	if (hit(F_io_uring_submit_and_wait) != K_NONE)
		return -target_err;
	ret = real_io_uring_submit_and_wait(ring, wait_nr);
	{
		unsigned head = *ring->cq.khead;
		unsigned tail =
			__atomic_load_n(ring->cq.ktail, __ATOMIC_ACQUIRE);
		static unsigned seen; /* completions up to here are counted */

		if ((int)(tail - seen) < 0 || (int)(seen - head) < 0)
			seen = head;
		for (; seen != tail; seen++) {
			struct io_uring_cqe *cqe =
				&ring->cq.cqes[seen & *ring->cq.kring_mask];

			switch (hit(F_io_uring_cqe)) {
			case K_ERROR:
				cqe->res = -target_err;
				break;
			case K_SHORT:
				if (cqe->res > 1)
					cqe->res /= 2;
				break;
			case K_NONE:
				break;
			}
		}
	}
	return ret;
}

int
ftruncate64(int fd, off_t len)
{
	PLAIN(ftruncate64, -1, fd, len);
}

int
fallocate64(int fd, int mode, off_t off, off_t len)
{
	PLAIN(fallocate64, -1, fd, mode, off, len);
}

int
fsync(int fd)
{
	PLAIN(fsync, -1, fd);
}

int
fdatasync(int fd)
{
	PLAIN(fdatasync, -1, fd);
}

int
fchmod(int fd, mode_t mode)
{
	PLAIN(fchmod, -1, fd, mode);
}

int
fchown(int fd, uid_t uid, gid_t gid)
{
	PLAIN(fchown, -1, fd, uid, gid);
}

int
futimens(int fd, const struct timespec times[2])
{
	PLAIN(futimens, -1, fd, times);
}

int
fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)
{
	PLAIN(fsetxattr, -1, fd, name, value, size, flags);
}

int
linkat(int olddir, const char *old, int newdir, const char *new, int flags)
{
	PLAIN(linkat, -1, olddir, old, newdir, new, flags);
}

int
renameat(int olddir, const char *old, int newdir, const char *new)
{
	PLAIN(renameat, -1, olddir, old, newdir, new);
}

int
renameat2(int olddir, const char *old, int newdir, const char *new,
	  unsigned int flags)
{
	PLAIN(renameat2, -1, olddir, old, newdir, new, flags);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	PLAIN(unlinkat, -1, dirfd, path, flags);
}

int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	if (*swapdir_name && strcmp(base_of(path), swapdir_name) == 0)
		atomic_store(&swapdir_armed, 1);
	PLAIN(mkdirat, -1, dirfd, path, mode);
}

ssize_t
getdents64(int fd, void *buf, size_t len)
{
	COUNTED(getdents64, len, fd, buf, len);
}

/* close(2) releases the descriptor even when it reports an error. */
int
close(int fd)
{
	REAL(close);
	enum kind k = hit(F_close);
	int ret = real_close(fd);

	if (k == K_ERROR && ret == 0) {
		errno = target_err;
		return -1;
	}
	return ret;
}
