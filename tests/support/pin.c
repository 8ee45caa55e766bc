/*
 * pin FILE: map FILE, lock every page of it in memory (mlock), say "pinned"
 * on stdout and wait to be killed. While it runs the file cannot be evicted
 * from the page cache: the CLI tests use it to make a "cold" run that
 * cannot be cold, which mapcp-bench must notice.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct stat st;
	void *p;
	int fd;

	if (argc != 2) {
		fputs("usage: pin FILE\n", stderr);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	/* The raw syscall: AddressSanitizer makes mlock() a no-op. */
	if (p == MAP_FAILED || syscall(SYS_mlock, p, (size_t)st.st_size) < 0) {
		perror("pin");
		return 1;
	}
	puts("pinned");
	fflush(stdout);
	for (;;)
		pause();
}
