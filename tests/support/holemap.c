/*
 * holemap FILE: the layout of FILE as the filesystem reports it, for the
 * CLI tests to compare: one "OFFSET LENGTH" line per data extent
 * (SEEK_DATA, SEEK_HOLE), then "size SIZE allocated BYTES".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct stat st;
	off_t pos = 0;
	int fd;

	if (argc != 2) {
		fputs("usage: holemap FILE\n", stderr);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	while (pos < st.st_size) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;

		if (data < 0) {
			if (errno == ENXIO)
				break;
			perror("SEEK_DATA");
			return 1;
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			perror("SEEK_HOLE");
			return 1;
		}
		printf("%jd %jd\n", (intmax_t)data, (intmax_t)(hole - data));
		pos = hole;
	}
	printf("size %jd allocated %jd\n", (intmax_t)st.st_size,
	       (intmax_t)st.st_blocks * 512);
	return 0;
}
