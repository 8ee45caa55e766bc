/*
 * The planner: which engines copy a file, in which order, and when to give
 * up on one for the next. All fallback rules live here, none in the
 * engines: an engine may be left for the next only with an error that
 * means "I cannot copy this" and only before it has written a byte.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"

const struct mapcp_engine *const engine_table[] = {
#define ENGINE(name) &engine_##name,
#include "engines.def"
#undef ENGINE
	NULL,
};

/*
 * The test engine (engines/fail.c), linked into the test binaries only:
 * in what make builds for users the weak reference stays NULL, and "fail"
 * is an unknown engine like any other name.
 */
extern const struct mapcp_engine engine_fail __attribute__((weak));

static bool
named(const struct mapcp_engine *e, const char *name, size_t len)
{
	return strlen(e->name) == len && memcmp(e->name, name, len) == 0;
}

const struct mapcp_engine *
engine_find(const char *name, size_t len)
{
	for (unsigned int i = 0; engine_table[i] != NULL; i++)
		if (named(engine_table[i], name, len))
			return engine_table[i];
	if (&engine_fail != NULL && named(&engine_fail, name, len))
		return &engine_fail;
	return NULL;
}

const char *
mapcp_engine_name(unsigned int i)
{
	unsigned int seen = 0;

	for (unsigned int k = 0; engine_table[k] != NULL; k++)
		if (seen++ == i)
			return engine_table[k]->name;
	return seen == i ? "auto" : NULL;
}

bool
plan_may_fall_back(int err)
{
	switch (err) {
	case EOPNOTSUPP: /* this filesystem cannot do it */
	case ENOSYS:     /* this kernel cannot do it */
	case EXDEV:      /* not across filesystems */
	case EINVAL:     /* not for this kind of file */
	case ENODEV:     /* mmap(2): this file cannot be mapped */
	case ENODATA:    /* copy_file_range read nothing: a /proc-like file */
		return true;
	default:
		return false;
	}
}

/*
 * What an engine cannot do between two filesystems, learnt from the first
 * file that showed it: reflink on ext4 fails with EOPNOTSUPP for every
 * file, and copy_file_range across some filesystems with EXDEV. A tree of
 * 8,000 files need not ask 8,000 times. Only errors that belong to the
 * filesystems, never to one file, are learnt, and only where another
 * engine follows in the chain, so an engine asked for alone is always
 * tried. Nothing here can make a copy wrong, only skip a doomed attempt.
 */
struct learnt {
	const struct mapcp_engine *engine;
	dev_t src, dst;
	int err;
	const char *note;
};

#define LEARNT_MAX 16
static struct learnt learnt[LEARNT_MAX];
static unsigned int nlearnt;
static pthread_mutex_t learnt_lock = PTHREAD_MUTEX_INITIALIZER;

static bool
learnable(int err)
{
	return err == EOPNOTSUPP || err == ENOSYS || err == EXDEV;
}

static const struct learnt *
learnt_find(const struct mapcp_engine *e, const struct mapcp_job *job)
{
	const struct learnt *found = NULL;

	if (job->core->dst_dev == 0)
		return NULL;
	pthread_mutex_lock(&learnt_lock);
	for (unsigned int i = 0; i < nlearnt && found == NULL; i++)
		if (learnt[i].engine == e &&
		    learnt[i].src == job->core->src_dev &&
		    learnt[i].dst == job->core->dst_dev)
			found = &learnt[i];
	pthread_mutex_unlock(&learnt_lock);
	return found; /* entries are never changed once written */
}

static void
learn(const struct mapcp_engine *e, const struct mapcp_job *job, int err)
{
	if (job->core->dst_dev == 0 || !learnable(err) || learnt_find(e, job))
		return;
	pthread_mutex_lock(&learnt_lock);
	if (nlearnt < LEARNT_MAX)
		learnt[nlearnt++] =
			(struct learnt){ e, job->core->src_dev,
					 job->core->dst_dev, err, job->note };
	pthread_mutex_unlock(&learnt_lock);
}

static int
plan_parse(struct plan *plan, const char *list)
{
	const char *p = list;

	plan->n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		const struct mapcp_engine *e = engine_find(p, len);

		if (e == NULL || plan->n == PLAN_MAX)
			return -EINVAL;
		plan->chain[plan->n++] = e;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

int
mapcp_check_engines(const char *list)
{
	struct plan plan;

	if (list == NULL || strcmp(list, "auto") == 0)
		return 0;
	return plan_parse(&plan, list);
}

/*
 * May auto use e? --reflink=never and --sparse=never exclude the engines
 * that may share blocks instead of copying them: reflink, and
 * copy_file_range, which clones on XFS and btrfs.
 */
static bool
auto_may_use(const struct mapcp_engine *e, const struct mapcp_opts *o)
{
	if (e->flags & ENGINE_MAY_SHARE)
		return o->reflink != MAPCP_REFLINK_NEVER &&
		       o->sparse != MAPCP_SPARSE_NEVER;
	return true;
}

const char *
mapcp_check_opts(const struct mapcp_opts *o)
{
	struct plan plan;
	bool listed = o->engine != NULL && strcmp(o->engine, "auto") != 0;

	if (listed && plan_parse(&plan, o->engine) < 0)
		return "unknown engine";
	if (o->reflink == MAPCP_REFLINK_ALWAYS) {
		if (o->sparse != MAPCP_SPARSE_AUTO)
			return "--reflink can be used only with --sparse=auto";
		if (listed && (plan.n != 1 || plan.chain[0] != &engine_reflink))
			return "--reflink=always copies with the reflink "
			       "engine "
			       "only";
	}
	for (unsigned int i = 0; listed && i < plan.n; i++) {
		if (!(plan.chain[i]->flags & ENGINE_MAY_SHARE))
			continue;
		if (o->reflink == MAPCP_REFLINK_NEVER)
			return "--reflink=never excludes the engines reflink "
			       "and copy_file_range";
		if (o->sparse == MAPCP_SPARSE_NEVER)
			return "--sparse=never excludes the engines reflink "
			       "and copy_file_range, which may share blocks";
	}
	if (o->queue_depth < 1 || o->queue_depth > MAPCP_MAX_QUEUE_DEPTH)
		return "the queue depth must be from 1 to 1024";
	if ((o->flags & MAPCP_ATOMIC) && (o->flags & MAPCP_INPLACE))
		return "--atomic and --inplace cannot be used together";
	if (o->buffer > MAPCP_MAX_BUFFER)
		return "the buffer can be at most 64M, so that memory stays "
		       "bounded";
	if (o->window > MAPCP_MAX_WINDOW)
		return "the window can be at most 1G, so that memory stays "
		       "bounded";
	return NULL;
}

/*
 * What auto knows of a filesystem, by statfs(2)'s f_type. Clones and
 * server-side copies are worth trying first where a filesystem has them;
 * where it has neither, the in-kernel copy was measured fastest (on one
 * filesystem copy_file_range, across two sendfile: both move the data
 * once, without a user buffer; docs/results.md). A filesystem not listed
 * is asked for a clone first, as cp asks: ZFS and others may share
 * blocks, and the first refusal is learnt (above).
 */
enum fs_does {
	FS_UNKNOWN,  /* ask: reflink, then copy_file_range */
	FS_CLONES,   /* reflink shares the blocks */
	FS_OFFLOADS, /* copy_file_range copies on the server */
	FS_COPIES,   /* neither: copy_file_range copies in the kernel */
};

static const struct fs_kind {
	unsigned long magic;
	enum fs_does does;
	const char *why;
} fs_kinds[] = {
	{ 0x58465342, FS_CLONES, "auto: XFS shares blocks between files" },
	{ 0x9123683e, FS_CLONES, "auto: btrfs shares blocks between files" },
	{ 0xca451a4e, FS_CLONES, "auto: bcachefs shares blocks between files" },
	{ 0x7461636f, FS_CLONES, "auto: OCFS2 shares blocks between files" },
	{ 0x6969, FS_OFFLOADS,
	  "auto: NFS 4.2 copies on the server with copy_file_range" },
	{ 0xfe534d42, FS_OFFLOADS,
	  "auto: SMB copies on the server with copy_file_range" },
	{ 0xff534d42, FS_OFFLOADS,
	  "auto: SMB copies on the server with copy_file_range" },
	{ 0x00c36400, FS_OFFLOADS,
	  "auto: Ceph copies in the cluster with copy_file_range" },
	{ 0xef53, FS_COPIES,
	  "auto: ext4 cannot share blocks; copy_file_range copies in the "
	  "kernel, measured fastest there" },
	{ 0x01021994, FS_COPIES,
	  "auto: tmpfs cannot share blocks; copy_file_range copies in the "
	  "kernel, measured fastest there" },
	{ 0x4d44, FS_COPIES,
	  "auto: FAT cannot share blocks; copy_file_range copies in the "
	  "kernel" },
	{ 0x2011bab0, FS_COPIES,
	  "auto: exFAT cannot share blocks; copy_file_range copies in the "
	  "kernel" },
	{ 0xf2f52010, FS_COPIES,
	  "auto: F2FS cannot share blocks; copy_file_range copies in the "
	  "kernel" },
};

static const struct fs_kind fs_unknown = { 0, FS_UNKNOWN,
					   "auto's first choice" };
static const struct fs_kind fs_across = {
	0, FS_COPIES,
	"auto: SOURCE and DEST are on different filesystems, where "
	"copy_file_range and clones cannot work; sendfile copies in the "
	"kernel, measured fastest there"
};

/* Filesystems already asked, by device: a tree asks once per filesystem. */
#define KNOWN_MAX 16
struct known {
	dev_t dev;
	const struct fs_kind *kind;
};
static struct known known[KNOWN_MAX];
static unsigned int nknown;
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct fs_kind *
fs_kind_of(dev_t dev, int fd)
{
	const struct fs_kind *kind = NULL;
	struct statfs sf;

	pthread_mutex_lock(&known_lock);
	for (unsigned int i = 0; i < nknown && kind == NULL; i++)
		if (known[i].dev == dev)
			kind = known[i].kind;
	pthread_mutex_unlock(&known_lock);
	if (kind != NULL)
		return kind;
	kind = &fs_unknown;
	if (fstatfs(fd, &sf) == 0)
		for (size_t i = 0; i < sizeof(fs_kinds) / sizeof(*fs_kinds);
		     i++)
			if ((unsigned long)sf.f_type == fs_kinds[i].magic)
				kind = &fs_kinds[i];
	pthread_mutex_lock(&known_lock);
	if (nknown < KNOWN_MAX)
		known[nknown++] = (struct known){ dev, kind };
	pthread_mutex_unlock(&known_lock);
	return kind;
}

/* The filesystems of the job's two files, as auto sees them. */
static const struct fs_kind *
fs_kind_of_job(const struct mapcp_job *job)
{
	dev_t dst = job->core->dst_dev;
	const struct fs_kind *kind;
	struct stat st;

	if (dst == 0) { /* DEST past a symlink: ask its descriptor */
		if (fstat(job->dst_fd, &st) < 0)
			return &fs_unknown;
		dst = st.st_dev;
	}
	if (job->core->src_dev == dst)
		return fs_kind_of(dst, job->dst_fd);
	/*
	 * Two filesystems of one kind that clones or offloads may still do
	 * it between them: btrfs subvolumes share blocks, NFS servers copy
	 * between exports. Any other pair: neither can work.
	 */
	kind = fs_kind_of(dst, job->dst_fd);
	if (kind->does != FS_COPIES &&
	    kind == fs_kind_of(job->core->src_dev, job->src_fd))
		return kind;
	return &fs_across;
}

/*
 * May auto use e where the filesystems are kind? copy_file_range cannot
 * share blocks where the filesystem cannot, so --reflink=never and
 * --sparse=never leave it in there.
 */
static bool
auto_may_use_on(const struct mapcp_engine *e, const struct mapcp_opts *o,
		const struct fs_kind *kind)
{
	return auto_may_use(e, o) ||
	       (e == &engine_copy_file_range && kind->does == FS_COPIES);
}

/*
 * A large source already in the page cache, on ext4, is copied fastest
 * by mmap-write: its pages are mapped, not read into a buffer, and DEST
 * is written in --buffer pieces (docs/results.md: 1 GiB warm, ratio to
 * cp 0.84 against copy_file_range's 0.99). Cold, or small, the kernel's
 * copy is as fast or faster, so the rule asks cachestat(2) (Linux 6.5;
 * elsewhere the rule never applies).
 */
#define WARM_MIN ((off_t)64 << 20)
static const char why_warm[] =
	"auto: ext4 cannot share blocks, and the source is large and in the "
	"page cache: mmap-write, measured fastest there";

#ifdef SYS_cachestat
#define CACHESTAT SYS_cachestat
#else
#define CACHESTAT 451 /* on every architecture */
#endif

static bool
warm_and_large(const struct mapcp_job *job)
{
	struct {
		uint64_t off, len;
	} range = { 0, 0 }; /* len 0: to the end of the file */
	struct {
		uint64_t cache, dirty, writeback, evicted, recently_evicted;
	} cs;
	uint64_t pages = ((uint64_t)job->size + page_size() - 1) / page_size();

	if (job->size < WARM_MIN ||
	    syscall(CACHESTAT, job->src_fd, &range, &cs, 0) < 0)
		return false;
	return cs.cache >= pages - pages / 10;
}

/* auto's chain: first what the filesystems do best, then the rest. */
static void
plan_auto(struct plan *plan, const struct mapcp_job *job)
{
	const struct mapcp_opts *o = job->opts;
	const struct fs_kind *kind = fs_kind_of_job(job);
	const struct mapcp_engine *first[2] = { NULL, NULL };
	const char *kind_why = kind->why;

	switch (kind->does) {
	case FS_CLONES:
	case FS_UNKNOWN:
		first[0] = &engine_reflink;
		first[1] = &engine_copy_file_range;
		break;
	case FS_OFFLOADS:
		first[0] = &engine_copy_file_range;
		first[1] = &engine_reflink; /* NFS and SMB may clone too */
		break;
	case FS_COPIES:
		first[0] = kind == &fs_across ? &engine_sendfile
					      : &engine_copy_file_range;
		if (kind->magic == 0xef53 && warm_and_large(job)) {
			first[0] = &engine_mmap_write;
			first[1] = &engine_copy_file_range;
			kind_why = why_warm;
		}
		break;
	}
	for (unsigned int i = 0; i < 2; i++)
		if (first[i] != NULL && auto_may_use_on(first[i], o, kind))
			plan->chain[plan->n++] = first[i];
	for (unsigned int i = 0; engine_table[i] != NULL; i++) {
		const struct mapcp_engine *e = engine_table[i];

		if (e == first[0] || e == first[1] ||
		    !auto_may_use_on(e, o, kind) ||
		    plan->n >= PLAN_MAX)
			continue;
		/* never shares where the filesystems cannot */
		if (e == &engine_reflink && kind->does == FS_COPIES)
			continue;
		plan->chain[plan->n++] = e;
	}
	plan->why = kind_why;
	if (plan->chain[0] != first[0]) /* --reflink=never, --sparse=never */
		plan->why = "auto's first choice that may not share blocks";
	plan->why_next = "auto's next choice, after a fallback";
}

int
plan_build(struct plan *plan, const struct mapcp_job *job)
{
	const struct mapcp_opts *o = job->opts;
	const char *list = o->engine;

	plan->n = 0;
	plan->why_next = NULL;
	if (job->stream) {
		plan->chain[plan->n++] = &engine_rw;
		plan->why = "streams are always copied by rw";
		return 0;
	}
	if (o->reflink == MAPCP_REFLINK_ALWAYS) {
		plan->chain[plan->n++] = &engine_reflink;
		plan->why = "--reflink=always";
		return 0;
	}
	if (list == NULL || strcmp(list, "auto") == 0) {
		plan_auto(plan, job);
		return 0;
	}
	if (plan_parse(plan, list) < 0)
		return -EINVAL;
	plan->why = plan->n == 1 ? "chosen with --engine"
				 : "first of the --engine list";
	plan->why_next = "next in the --engine list, after a fallback";
	return 0;
}

/* --sparse=never: write len zeros at off of DEST, no source read. */
static int
fill_zeros(struct mapcp_job *job, off_t off, off_t len)
{
	static const unsigned char zeros[1 << 16];

	while (len > 0) {
		size_t n = len < (off_t)sizeof(zeros) ? (size_t)len
						      : sizeof(zeros);
		ssize_t w = write_all(job->dst_fd, zeros, n, off);

		if (w < 0)
			return job_fail(job, MAPCP_STEP_WRITE, (int)-w);
		job_advance(job, w);
		off += w;
		len -= w;
	}
	return 0;
}

/* Copy every extent of the source with e. 0 or -errno. */
static int
run_engine(const struct mapcp_engine *e, struct mapcp_job *job)
{
	struct extents x;
	off_t off = 0, len = 0;
	bool hole = false;
	int found = 0, ret;

	job->report->extents = 0;
	job->priv = NULL;
	job->note = NULL;
	if (e->start != NULL && (ret = e->start(job)) < 0)
		return ret;
	if (job->stream) {
		ret = e->copy(job, 0, 0);
	} else {
		ret = extents_init(&x, job->src_fd, job->size,
				   job->opts->sparse, job->block,
				   job->core->dense);
		if (ret < 0)
			ret = job_fail(job, MAPCP_STEP_READ, -ret);
		while (ret == 0 &&
		       (found = extents_next(&x, &off, &len, &hole)) > 0) {
			ret = hole ? fill_zeros(job, off, len)
				   : e->copy(job, off, len);
			if (ret == 0 && !hole)
				job->report->extents++;
		}
		if (found < 0)
			ret = job_fail(job, MAPCP_STEP_READ, -found);
		extents_free(&x);
	}
	if (e->finish != NULL)
		e->finish(job);
	return ret;
}

int
plan_run(const struct plan *plan, struct mapcp_job *job)
{
	struct mapcp_report *r = job->report;
	int ret = -ENOSYS;

	for (unsigned int i = 0; i < plan->n; i++) {
		const struct mapcp_engine *e = plan->chain[i];
		const struct learnt *l =
			i + 1 < plan->n ? learnt_find(e, job) : NULL;

		r->engine = e->name;
		r->why = i == 0 ? plan->why : plan->why_next;
		if (l != NULL) { /* known to fail here: as if it had */
			job->note = l->note;
			ret = job_fail(job, MAPCP_STEP_ENGINE, l->err);
		} else {
			ret = run_engine(e, job);
			if (ret < 0 && job->copied == 0)
				learn(e, job, -ret);
		}
		r->note = ret < 0 ? job->note : NULL;
		if (ret == 0 || job->copied > 0 || !plan_may_fall_back(-ret) ||
		    i + 1 == plan->n)
			return ret;
		if (r->nfallbacks < MAPCP_MAX_FALLBACKS) {
			r->fallback[r->nfallbacks].engine = e->name;
			r->fallback[r->nfallbacks].err = -ret;
			r->fallback[r->nfallbacks].note = job->note;
			r->nfallbacks++;
		}
		r->step = MAPCP_STEP_NONE;
		r->err = 0;
	}
	return ret < 0 && r->step == MAPCP_STEP_NONE /* no engine at all */
		       ? job_fail(job, MAPCP_STEP_ENGINE, -ret)
		       : ret;
}

int
plan_refuses(const struct plan *plan, struct mapcp_job *job)
{
	struct mapcp_report *r = job->report;
	unsigned int saved = r->nfallbacks;
	int ret = 0;

	for (unsigned int i = 0; i < plan->n; i++) {
		const struct mapcp_engine *e = plan->chain[i];

		if (e->probe == NULL || (ret = e->probe(job)) == 0 ||
		    !plan_may_fall_back(-ret)) {
			/* it may copy: nothing to report after all */
			r->nfallbacks = saved;
			r->step = MAPCP_STEP_NONE;
			r->err = 0;
			r->note = NULL;
			job->note = NULL;
			return 0;
		}
		r->engine = e->name;
		r->why = i == 0 ? plan->why : plan->why_next;
		r->note = job->note;
		if (i + 1 < plan->n && r->nfallbacks < MAPCP_MAX_FALLBACKS) {
			r->fallback[r->nfallbacks].engine = e->name;
			r->fallback[r->nfallbacks].err = -ret;
			r->fallback[r->nfallbacks].note = job->note;
			r->nfallbacks++;
		}
	}
	return ret;
}
