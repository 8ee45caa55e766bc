/*
 * Unit tests for guard.c: a SIGBUS inside the window being copied becomes
 * a code naming the side that faulted; a SIGBUS anywhere else still ends
 * the process, as it would without mapcp's handler.
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "core.h"
#include "helpers.h"

#define LEN (4 * 4096)

static char *
map_file(const char *path, size_t size, bool write)
{
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	char *p;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	p = mmap(NULL, size, write ? PROT_READ | PROT_WRITE : PROT_READ,
		 MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	close(fd);
	return p;
}

static void
test_clean_copy(void **state)
{
	char *src = map_file(path_in("s"), LEN, true);
	char *dst = map_file(path_in("d"), LEN, true);

	(void)state;
	memset(src, 'x', LEN);
	assert_int_equal(guard_memcpy(dst, src, LEN), GUARD_OK);
	assert_memory_equal(dst, src, LEN);
	munmap(src, LEN);
	munmap(dst, LEN);
}

static void
test_source_shrank(void **state)
{
	char *src = map_file(path_in("s"), LEN, true);
	static char buf[LEN];

	(void)state;
	memset(src, 'x', LEN);
	assert_int_equal(truncate(path_in("s"), 4096), 0);
	assert_int_equal(guard_memcpy(buf, src, LEN), GUARD_SRC);
	/* The first page was still there and was copied. */
	assert_int_equal(buf[4095], 'x');
	/* The guard is reusable after a fault. */
	assert_int_equal(guard_memcpy(buf, src, 4096), GUARD_OK);
	munmap(src, LEN);
}

static void
test_destination_fault(void **state)
{
	char *dst = map_file(path_in("d"), LEN, true);
	static char buf[LEN];

	(void)state;
	memset(buf, 'y', LEN);
	assert_int_equal(truncate(path_in("d"), 0), 0);
	assert_int_equal(guard_memcpy(dst, buf, LEN), GUARD_DST);
	munmap(dst, LEN);
}

/*
 * A SIGBUS outside any guarded copy must still end the process. The child
 * starts from the default action (cmocka installs its own handler, which
 * we would otherwise chain to), uses the guard once so that its handler
 * is in place, then faults outside any window.
 */
static void
test_foreign_fault_kills(void **state)
{
	char *src = map_file(path_in("s"), LEN, true);
	static char buf[LEN];
	int fds[2], status;
	char got = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(truncate(path_in("s"), 0), 0);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		volatile char c;

		signal(SIGBUS, SIG_DFL);
		if (guard_memcpy(buf, src, 16) != GUARD_SRC) /* installs */
			_exit(3);
		c = src[100]; /* SIGBUS: nobody's guard */
		(void)c;
		(void)!write(fds[1], "!", 1);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(read(fds[0], &got, 1), 0); /* never went on */
	close(fds[0]);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGBUS);
	munmap(src, LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_copy, setup_scratch,
						teardown_scratch),
		cmocka_unit_test_setup_teardown(
			test_source_shrank, setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(test_destination_fault,
						setup_scratch,
						teardown_scratch),
		cmocka_unit_test_setup_teardown(test_foreign_fault_kills,
						setup_scratch,
						teardown_scratch),
	};

	return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
