/*
 * Unit tests for report.c: the size parser behind --window and --buffer,
 * the one-line messages, and the engine names --help lists.
 */
#include <locale.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "core.h" /* report_checked() */

static void
test_sizes_accepted(void **state)
{
	static const struct {
		const char *text;
		size_t value;
	} cases[] = {
		{ "1", 1 },
		{ "4096", 4096 },
		{ "64K", 64 << 10 },
		{ "64k", 64 << 10 },
		{ "64KiB", 64 << 10 },
		{ "64KB", 64000 },
		{ "8M", 8 << 20 },
		{ "8MB", 8000000 },
		{ "1G", (size_t)1 << 30 },
		{ "2T", (size_t)2 << 40 },
		{ "1P", (size_t)1 << 50 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t v = 0;

		assert_int_equal(mapcp_parse_size(cases[i].text, &v), 0);
		assert_int_equal(v, cases[i].value);
	}
}

static void
test_sizes_refused(void **state)
{
	static const char *bad[] = {
		"",    "0",  "0K",   "-1",   "K",   "1Q",   "1KK",
		"1 K", " 1", "1.5M", "12Mi", "1iB", "0x10", "1e3",
	};
	size_t v = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mapcp_parse_size(bad[i], &v), -EINVAL);
		assert_int_equal(v, 7);
	}
	assert_int_equal(mapcp_parse_size("99999999999999999999999", &v),
			 -ERANGE);
	assert_int_equal(mapcp_parse_size("99999999P", &v), -ERANGE);
	assert_int_equal(v, 7);
}

static void
test_messages(void **state)
{
	struct mapcp_report r = { .src = "a", .dst = "b" };
	char buf[256];

	(void)state;
	r.step = MAPCP_STEP_STAT_SRC;
	r.err = ENOENT;
	assert_string_equal(mapcp_report_error(&r, buf, sizeof(buf)),
			    "cannot stat 'a': No such file or directory");
	r.step = MAPCP_STEP_SAME_FILE;
	assert_string_equal(mapcp_report_error(&r, buf, sizeof(buf)),
			    "'a' and 'b' are the same file");
	r.step = MAPCP_STEP_IS_DIR;
	assert_string_equal(mapcp_report_error(&r, buf, sizeof(buf)),
			    "-r not specified; omitting directory 'a'");
	r.step = MAPCP_STEP_WRITE;
	r.err = ENOSPC;
	assert_string_equal(mapcp_report_error(&r, buf, sizeof(buf)),
			    "error writing 'b': No space left on device");
	r.step = MAPCP_STEP_CLONE;
	r.err = EXDEV;
	assert_string_equal(mapcp_report_error(&r, buf, sizeof(buf)),
			    "failed to clone 'b' from 'a': "
			    "Invalid cross-device link");
	r.step = MAPCP_STEP_CHANGED;
	r.size = 100;
	r.size_now = 50;
	assert_string_equal(mapcp_report_error(&r, buf, sizeof(buf)),
			    "'a' changed size during the copy "
			    "(100 bytes when opened, 50 now)");
	r.size_now = 100; /* written over in place: its mtime said so */
	assert_string_equal(mapcp_report_error(&r, buf, sizeof(buf)),
			    "'a' changed during the copy "
			    "(written to while being read)");
	/* Every step has words of its own, and none ends with a period. */
	for (int s = MAPCP_STEP_STAT_SRC; s <= MAPCP_STEP_CLONE; s++) {
		r.step = (enum mapcp_step)s;
		mapcp_report_error(&r, buf, sizeof(buf));
		assert_true(strlen(buf) > 10);
		assert_true(buf[strlen(buf) - 1] != '.');
		assert_null(strchr(buf, '\n'));
	}
}

/* Names are quoted as GNU cp quotes them: one line, pasteable to a shell. */
static void
test_quote(void **state)
{
	static const struct {
		const char *name, *c, *utf8; /* in the C locale, in C.UTF-8 */
	} cases[] = {
		{ "a", "'a'", "'a'" },
		{ "", "''", "''" },
		{ "a b", "'a b'", "'a b'" },
		{ "-n", "'-n'", "'-n'" },
		{ "it's", "\"it's\"", "\"it's\"" },
		{ "it's $x", "'it'\\''s $x'", "'it'\\''s $x'" },
		{ "a\nb", "'a'$'\\n''b'", "'a'$'\\n''b'" },
		{ "\n", "''$'\\n'", "''$'\\n'" },
		{ "t\tx\x1b", "'t'$'\\t''x'$'\\033'", "'t'$'\\t''x'$'\\033'" },
		{ "bad\xff\xfe", "'bad'$'\\377\\376'", "'bad'$'\\377\\376'" },
		{ "\xc3\xa9t\xc3\xa9", "''$'\\303\\251''t'$'\\303\\251'",
		  "'\xc3\xa9t\xc3\xa9'" },
		{ "cut\xe2\x82", "'cut'$'\\342\\202'", "'cut'$'\\342\\202'" },
		{ "it's\n", "'it'\\''s'$'\\n'", "'it'\\''s'$'\\n'" },
	};
	char buf[64];

	(void)state;
	for (int utf8 = 0; utf8 <= 1; utf8++) {
		if (setlocale(LC_CTYPE, utf8 ? "C.UTF-8" : "C") == NULL)
			skip();
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const char *want = utf8 ? cases[i].utf8 : cases[i].c;

			assert_int_equal(
				mapcp_quote(buf, sizeof(buf), cases[i].name),
				strlen(want));
			assert_string_equal(buf, want);
			assert_int_equal(mapcp_quote(NULL, 0, cases[i].name),
					 strlen(want));
		}
	}
	setlocale(LC_CTYPE, "C");
	/* Cut to the buffer, as snprintf cuts, and NULL quoted as "". */
	assert_int_equal(mapcp_quote(buf, 4, "abcdef"), 8);
	assert_string_equal(buf, "'ab");
	assert_int_equal(mapcp_quote(buf, sizeof(buf), NULL), 2);
	assert_string_equal(buf, "''");
}

static void
test_engine_names(void **state)
{
	const char *expect[] = {
		"reflink",  "copy_file_range", "rw",
		"sendfile", "splice",          "mmap-write",
		"mmap",     "io_uring",        "auto",
	};
	unsigned int i;

	(void)state;
	for (i = 0; mapcp_engine_name(i) != NULL; i++) {
		assert_true(i < sizeof(expect) / sizeof(expect[0]));
		assert_string_equal(mapcp_engine_name(i), expect[i]);
	}
	assert_int_equal(i, sizeof(expect) / sizeof(expect[0]));
	assert_int_equal(mapcp_check_engines("auto"), 0);
	assert_int_equal(mapcp_check_engines("mmap"), 0);
	assert_int_equal(mapcp_check_engines("copy_file_range,rw"), 0);
	assert_int_equal(mapcp_check_engines("fail,rw"), 0);
	assert_int_equal(mapcp_check_engines("mmap,"), -EINVAL);
	assert_int_equal(mapcp_check_engines("nope"), -EINVAL);
	assert_int_equal(mapcp_check_engines(""), -EINVAL);
	assert_int_equal(mapcp_check_engines("auto,rw"), -EINVAL);
}

static void
test_option_combinations(void **state)
{
	struct mapcp_opts o;

	(void)state;
	mapcp_opts_init(&o);
	assert_null(mapcp_check_opts(&o));
	o.reflink = MAPCP_REFLINK_ALWAYS;
	assert_null(mapcp_check_opts(&o));
	o.sparse = MAPCP_SPARSE_NEVER; /* cp refuses this too */
	assert_string_equal(mapcp_check_opts(&o),
			    "--reflink can be used only with --sparse=auto");
	o.sparse = MAPCP_SPARSE_AUTO;
	o.engine = "mmap";
	assert_non_null(mapcp_check_opts(&o));
	o.engine = "reflink";
	assert_null(mapcp_check_opts(&o));
	o.reflink = MAPCP_REFLINK_NEVER;
	assert_non_null(mapcp_check_opts(&o));
	o.engine = "rw,copy_file_range";
	assert_non_null(mapcp_check_opts(&o));
	o.reflink = MAPCP_REFLINK_AUTO;
	o.sparse = MAPCP_SPARSE_NEVER;
	assert_non_null(mapcp_check_opts(&o));
	o.engine = "rw,mmap";
	assert_null(mapcp_check_opts(&o));
	o.sparse = MAPCP_SPARSE_ALWAYS;
	o.engine = "reflink"; /* per-extent clones leave zero blocks out */
	assert_null(mapcp_check_opts(&o));
	o.queue_depth = 0;
	assert_non_null(mapcp_check_opts(&o));
	o.queue_depth = MAPCP_MAX_QUEUE_DEPTH + 1;
	assert_non_null(mapcp_check_opts(&o));
	o.queue_depth = MAPCP_MAX_QUEUE_DEPTH;
	assert_null(mapcp_check_opts(&o));
	o.engine = "warp";
	assert_string_equal(mapcp_check_opts(&o), "unknown engine");
}

/*
 * Every failure names its step: one that does not is given
 * MAPCP_STEP_UNKNOWN (a message still), and the tests' build, which this
 * is, aborts on it so that no test passes over one.
 */
static void
test_failure_without_step(void **state)
{
	struct mapcp_report r = { .src = "a", .dst = "b" };
	char buf[256];
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(report_checked(&r, 0), 0);
	r.step = MAPCP_STEP_READ;
	r.err = EIO;
	assert_int_equal(report_checked(&r, -EIO), -EIO);
	assert_int_equal(r.step, MAPCP_STEP_READ);
	r.step = MAPCP_STEP_NONE;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ret = report_checked(&r, -ENOSPC);

		_exit(ret == -ENOSPC && r.step == MAPCP_STEP_UNKNOWN ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef MAPCP_CHECK_STEPS
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
#else
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
	r.step = MAPCP_STEP_UNKNOWN;
	r.err = ENOSPC;
	mapcp_report_error(&r, buf, sizeof(buf));
	assert_string_equal(buf,
			    "cannot copy 'a' to 'b': No space left on device");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_combinations),
		cmocka_unit_test(test_sizes_accepted),
		cmocka_unit_test(test_sizes_refused),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_engine_names),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_failure_without_step),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
