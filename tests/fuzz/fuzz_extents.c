/*
 * Fuzz the extent walker (src/extents.c) on real sparse files: the input
 * is a layout of holes and data (random bytes, zeros, zeros with one byte
 * set), built in a memfd (tmpfs: SEEK_DATA and SEEK_HOLE work, a page
 * never written is a hole), then walked in every --sparse mode with
 * extents_next(), as plan.c does. Checked, for each mode:
 *   - extents come in order, do not overlap, are not empty and stay
 *     inside [0, end), end being the size the copy was told (the file may
 *     have shrunk or grown since: the input says);
 *   - every nonzero byte is in a data extent, never in a hole or a gap;
 *   - auto: no page the layout never wrote is in an extent; dense: one
 *     extent, the whole file;
 *   - always: exactly auto's extents less every whole block of zeros (of
 *     the grid of the block size given) inside them;
 *   - never: the extents tile [0, end); those marked holes are all zeros
 *     and are exactly the gaps between auto's extents;
 *   - and if the file shrinks under the walk: it ends, in order, and
 *     every nonzero byte left is still in a data extent.
 * Input: block size (512 << n) and where the file shrinks to, flags
 * (force dense; end past or short of the size), then 3 bytes per segment:
 * kind and unit, and a length.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "core.h"

#define MAX_SIZE  ((off_t)3 << 20) /* past SCAN_BUFFER (1 MiB) twice */
#define MAX_SPANS 8192 /* runs of >= 1 byte between zero blocks of 512 */

struct span {
	off_t off, len;
	bool hole;
};

/* The layout as built: what the file holds, and which pages were written. */
struct layout {
	off_t size, end;
	size_t block;
	bool force_dense;
	unsigned char *bytes;   /* [0, size) */
	unsigned char *written; /* per page: 1 if a write touched it */
};

static int memfd = -1;
static unsigned char bytes[MAX_SIZE + 1];
static unsigned char written[MAX_SIZE / 4096 + 2]; /* pages of 4K or more */
static struct span spans[4][MAX_SPANS];
static size_t page;
static bool page_holes; /* does tmpfs keep holes page by page here? */

static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Does a page-sized hole next to one written page stay a hole here? */
static bool
probe_page_holes(int fd)
{
	bool ok = ftruncate(fd, 8 << 20) == 0 &&
		  pwrite(fd, "x", 1, (4 << 20) + (off_t)page) == 1 &&
		  lseek(fd, 0, SEEK_DATA) == (4 << 20) + (off_t)page &&
		  lseek(fd, (4 << 20) + (off_t)page, SEEK_HOLE) ==
			  (4 << 20) + 2 * (off_t)page;

	CHECK(ftruncate(fd, 0) == 0);
	return ok;
}

static void
setup(void)
{
	if (memfd >= 0)
		return;
	page = (size_t)sysconf(_SC_PAGESIZE);
	memfd = memfd_create("fuzz-extents", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	page_holes = probe_page_holes(memfd);
}

/* A segment's length: up to 64 KiB in bytes, or up to 1 MiB in pages. */
static off_t
seg_len(const uint8_t *seg)
{
	unsigned int n = seg[1] | seg[2] << 8;

	return seg[0] & 4 ? (off_t)(n % 256) * (off_t)page : (off_t)n;
}

/* Turn the input into a layout and build it in the memfd. */
static void
build(struct layout *l, const uint8_t *data, size_t size)
{
	uint8_t how = data[1];
	off_t off = 0, cut = (off_t)(how >> 3) * 4097;

	memset(l, 0, sizeof(*l));
	l->block = (size_t)512 << (data[0] % 8);
	l->force_dense = how & 1;
	for (size_t i = 2; i + 3 <= size; i += 3)
		off += seg_len(data + i);
	l->size = off < MAX_SIZE ? off : MAX_SIZE;
	/* Static, as the spans: fresh megabytes each run cost page faults. */
	l->bytes = bytes;
	l->written = written;
	memset(bytes, 0, (size_t)l->size + 1);
	memset(written, 0, (size_t)l->size / page + 2);
	CHECK(ftruncate(memfd, 0) == 0 && ftruncate(memfd, l->size) == 0);
	off = 0;
	for (size_t i = 2; i + 3 <= size && off < l->size; i += 3) {
		unsigned int kind = data[i] & 3;
		off_t len = seg_len(data + i);
		uint64_t seed = (uint64_t)i * 0x9e3779b97f4a7c15u + data[i] + 1;
		unsigned char *p = l->bytes + off;

		if (len > l->size - off)
			len = l->size - off;
		if (kind == 1) /* random bytes, some of them zero */
			for (off_t k = 0; k < len; k += 8) {
				uint64_t r = next_random(&seed);

				memcpy(p + k, &r,
				       len - k < 8 ? (size_t)(len - k) : 8);
			}
		else if (kind == 3 && len > 0) /* zeros but one byte */
			p[next_random(&seed) % (uint64_t)len] =
				(unsigned char)(data[i] | 1);
		if (kind != 0 && len > 0) {
			CHECK(pwrite(memfd, p, (size_t)len, off) == len);
			memset(l->written + off / (off_t)page, 1,
			       (size_t)((off + len - 1) / (off_t)page -
					off / (off_t)page + 1));
		}
		off += len;
	}
	if ((how >> 1 & 3) == 1) /* the file shrank after it was measured */
		l->end = l->size + cut;
	else if ((how >> 1 & 3) == 2) /* it grew */
		l->end = l->size - (cut < l->size ? cut : l->size);
	else
		l->end = l->size;
}

/* Walk the memfd in mode; the extents in s[], their count returned. */
static int
walk(const struct layout *l, enum mapcp_sparse mode, bool dense, struct span *s,
     off_t shrink_to)
{
	struct extents x;
	off_t off, len, prev_end = 0;
	bool hole;
	int n = 0, ret;

	CHECK(extents_init(&x, memfd, l->end, mode, l->block, dense) == 0);
	while ((ret = extents_next(&x, &off, &len, &hole)) > 0) {
		CHECK(n < MAX_SPANS);
		CHECK(len > 0);
		CHECK(off >= prev_end); /* in order, no overlap */
		CHECK(off + len <= l->end);
		CHECK(!hole || mode == MAPCP_SPARSE_NEVER);
		s[n++] = (struct span){ off, len, hole };
		prev_end = off + len;
		if (n == 1 && shrink_to >= 0) /* under the walk, as it goes */
			CHECK(ftruncate(memfd, shrink_to) == 0);
	}
	CHECK(ret == 0);
	extents_free(&x);
	return n;
}

/* Are the layout's bytes [from, to) all zeros (past its size: zeros)? */
static bool
zeros(const struct layout *l, off_t from, off_t to)
{
	if (to > l->size)
		to = l->size;
	return from >= to || (l->bytes[from] == 0 &&
			      memcmp(l->bytes + from, l->bytes + from + 1,
				     (size_t)(to - from - 1)) == 0);
}

/* Every nonzero byte below end is in a data extent: the gaps are zeros. */
static void
check_covered(const struct layout *l, const struct span *s, int n)
{
	off_t at = 0;

	for (int i = 0; i < n; i++) {
		if (s[i].hole)
			continue;
		CHECK(zeros(l, at, s[i].off));
		at = s[i].off + s[i].len;
	}
	CHECK(zeros(l, at, l->end));
}

/* auto: no page the layout never wrote is in an extent. */
static void
check_holes_kept(const struct layout *l, const struct span *s, int n)
{
	for (int i = 0; page_holes && i < n; i++) {
		off_t first = s[i].off / (off_t)page;
		off_t last = (s[i].off + s[i].len - 1) / (off_t)page;

		CHECK(s[i].off + s[i].len <= l->size);
		for (off_t p = first; p <= last; p++)
			CHECK(l->written[p]);
	}
}

/* Append [off, off + len) to s[*n], joined to the last span if they touch. */
static void
append(struct span *s, int *n, off_t off, off_t len)
{
	if (*n > 0 && s[*n - 1].off + s[*n - 1].len == off) {
		s[*n - 1].len += len;
		return;
	}
	CHECK(*n < MAX_SPANS);
	s[(*n)++] = (struct span){ .off = off, .len = len, .hole = false };
}

/* always: auto's extents less the zero blocks of the grid inside them. */
static void
check_always(const struct layout *l, const struct span *a, int na,
	     const struct span *s, int n)
{
	struct span *want = spans[2], *got = spans[3];
	off_t b = (off_t)l->block;
	int nw = 0, ng = 0;

	for (int i = 0; i < na; i++) {
		off_t at = a[i].off, stop = a[i].off + a[i].len;

		while (at < stop) {
			off_t next = (at / b + 1) * b;

			if (next > stop)
				next = stop;
			if (next - at < b || !zeros(l, at, next))
				append(want, &nw, at, next - at);
			at = next;
		}
	}
	for (int i = 0; i < n; i++)
		append(got, &ng, s[i].off, s[i].len);
	CHECK(ng == nw);
	for (int i = 0; i < ng; i++)
		CHECK(got[i].off == want[i].off && got[i].len == want[i].len);
}

/*
 * never: a tiling of [0, end) whose holes are all zeros and, unless a is
 * NULL, auto's gaps.
 */
static void
check_never(const struct layout *l, const struct span *s, int n,
	    const struct span *a, int na)
{
	off_t at = 0;
	int data = 0;

	for (int i = 0; i < n; i++) {
		CHECK(s[i].off == at);
		at += s[i].len;
		if (s[i].hole) {
			CHECK(zeros(l, s[i].off, at));
			continue;
		}
		CHECK(a == NULL || (data < na && s[i].off == a[data].off &&
				    s[i].len == a[data].len));
		data++;
	}
	CHECK(at == l->end);
	CHECK(a == NULL || data == na);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span *a = spans[0], *s = spans[1];
	struct layout l;
	struct stat st;
	bool dense;
	int na, n;

	if (size < 2)
		return 0;
	setup();
	build(&l, data, size);

	/* auto, looking for holes: the reference for the other modes. */
	na = walk(&l, MAPCP_SPARSE_AUTO, false, a, -1);
	check_covered(&l, a, na);
	check_holes_kept(&l, a, na);

	/* auto as copy.c runs it: dense if every block is allocated. */
	CHECK(fstat(memfd, &st) == 0);
	dense = l.force_dense || (off_t)st.st_blocks * 512 >= st.st_size;
	n = walk(&l, MAPCP_SPARSE_AUTO, dense, s, -1);
	if (dense)
		CHECK(l.end == 0
			      ? n == 0
			      : n == 1 && s[0].off == 0 && s[0].len == l.end);
	else
		CHECK(n == na);
	for (int i = 0; !dense && i < n; i++)
		CHECK(s[i].off == a[i].off && s[i].len == a[i].len);

	n = walk(&l, MAPCP_SPARSE_ALWAYS, dense, s, -1);
	check_covered(&l, s, n);
	check_always(&l, a, na, s, n);

	n = walk(&l, MAPCP_SPARSE_NEVER, dense, s, -1);
	check_covered(&l, s, n);
	check_never(&l, s, n, a, na);

	/*
	 * The file shrinks under the walk, after its first extent: the walk
	 * still ends, in order, and every nonzero byte left is covered (the
	 * engines find out about the rest).
	 */
	if (data[0] & 8) {
		static const enum mapcp_sparse modes[] = { MAPCP_SPARSE_AUTO,
							   MAPCP_SPARSE_ALWAYS,
							   MAPCP_SPARSE_NEVER };
		struct layout left = l;

		left.size = l.size * (data[0] >> 4) / 16;
		for (int i = 0; i < 3; i++) {
			build(&l, data, size);
			n = walk(&l, modes[i], false, s, left.size);
			check_covered(&left, s, n);
			if (modes[i] == MAPCP_SPARSE_NEVER)
				check_never(&left, s, n, NULL, 0);
		}
	}
	return 0;
}
