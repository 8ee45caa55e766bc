/*
 * The source's data extents, found with lseek(SEEK_DATA) and
 * lseek(SEEK_HOLE). Every engine copies only what this returns, so holes
 * stay holes whatever the engine. A filesystem without SEEK_DATA reports
 * the whole file as data, which is correct, merely slower for sparse files.
 */
#include <errno.h>
#include <unistd.h>

#include "internal.h"

int
extent_next(int fd, off_t end, off_t *pos, off_t *len)
{
	off_t data, hole;

	if (*pos >= end)
		return 0;
	data = lseek(fd, *pos, SEEK_DATA);
	if (data < 0) {
		if (errno == ENXIO) /* only hole from *pos to EOF */
			return 0;
		if (errno != EINVAL && errno != EOPNOTSUPP)
			return -errno;
		data = *pos; /* no SEEK_DATA here: all data */
		hole = end;
	} else {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return errno == ENXIO ? 0 : -errno;
	}
	if (data >= end)
		return 0;
	if (hole > end)
		hole = end;
	*pos = data;
	*len = hole - data;
	return 1;
}
