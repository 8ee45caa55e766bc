/*
 * mksock PATH: leave a Unix socket at PATH (bind, then exit), so that the
 * CLI tests' trees hold every file type there is.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (argc != 2 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fputs("usage: mksock PATH (shorter than 108 bytes)\n", stderr);
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
