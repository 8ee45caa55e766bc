/*
 * Hooks for mapcp's own tests, linked into build/tests/mapcp-hooks and
 * never into the mapcp that make builds and installs: MAPCP_FAIL=NAME:BYTES
 * sets up the test engine "fail" (src/engines/fail.c), which copies BYTES
 * and then fails with errno NAME, or with FLIP copies everything and
 * corrupts the byte at BYTES, for --verify to catch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void
cli_test_hooks(struct cli *cli)
{
	static const struct {
		const char *name;
		int err;
	} names[] = {
		{ "EDQUOT", EDQUOT },
		{ "EINVAL", EINVAL },
		{ "EIO", EIO },
		{ "ENODATA", ENODATA },
		{ "ENOSPC", ENOSPC },
		{ "ENOSYS", ENOSYS },
		{ "EOPNOTSUPP", EOPNOTSUPP },
		{ "EXDEV", EXDEV },
		{ "FLIP", 0 }, /* no error: copy, but flip a byte there */
	};
	const char *v = getenv("MAPCP_FAIL");
	const char *colon;

	if (v == NULL || (colon = strchr(v, ':')) == NULL)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(v, names[i].name, (size_t)(colon - v)) == 0 &&
		    names[i].name[colon - v] == '\0')
			cli->opts.fail_errno = names[i].err ? names[i].err : -1;
	cli->opts.fail_after = strtoll(colon + 1, NULL, 10);
}
