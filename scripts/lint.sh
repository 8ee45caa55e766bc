#!/bin/bash
# Static checks: cppcheck, then clang-tidy with .clang-tidy's checks, on the
# library and the command line (cppcheck on the tests too). Quiet when all
# is well; exits non-zero on any finding.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
status=0
cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	--std=c11 -D_GNU_SOURCE -Iinclude -Isrc -Itests/support --inline-suppr \
	src cli bench tests/unit tests/support tests/fuzz tests/faults || status=1
out=$(clang-tidy --quiet src/*.c src/engines/*.c cli/*.c bench/*.c -- \
	-D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude -std=c17 2>&1) || status=1
grep -v ' warnings\? generated\.$' <<<"$out"
exit $status
