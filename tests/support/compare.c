/*
 * Compare two files byte for byte without reading their holes. Reading a
 * 5 GiB hole on ext4 fills the page cache with 5 GiB of zeros (cmp takes
 * half a minute); but bytes outside both files' data extents (SEEK_DATA,
 * SEEK_HOLE) are zero in both, so comparing each file's data extents with
 * the other file's bytes at the same offsets compares every byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"

static bool
ranges_equal(int a, int b, off_t off, off_t len)
{
	static unsigned char ba[1 << 16], bb[1 << 16];

	while (len > 0) {
		size_t n = len < (off_t)sizeof(ba) ? (size_t)len : sizeof(ba);

		if (pread(a, ba, n, off) != (ssize_t)n ||
		    pread(b, bb, n, off) != (ssize_t)n || memcmp(ba, bb, n) != 0)
			return false;
		off += (off_t)n;
		len -= (off_t)n;
	}
	return true;
}

/* Compare b with a wherever a has data. */
static bool
data_of_a_in_b(int a, int b, off_t size)
{
	off_t pos = 0;

	while (pos < size) {
		off_t data = lseek(a, pos, SEEK_DATA), hole;

		if (data < 0)
			return errno == ENXIO;
		hole = lseek(a, data, SEEK_HOLE);
		if (hole < 0 || !ranges_equal(a, b, data, hole - data))
			return false;
		pos = hole;
	}
	return true;
}

bool
files_equal(const char *pa, const char *pb)
{
	int a = open(pa, O_RDONLY), b = open(pb, O_RDONLY);
	struct stat sa, sb;
	bool eq = false;

	if (a >= 0 && b >= 0 && fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_size == sb.st_size)
		eq = data_of_a_in_b(a, b, sa.st_size) &&
		     data_of_a_in_b(b, a, sa.st_size);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return eq;
}
