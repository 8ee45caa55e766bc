#!/usr/bin/env bats
# io_uring switched off by the administrator: the engine says so and the
# planner moves on. Needs root to flip kernel.io_uring_disabled; the old
# value is put back whatever happens.

load helpers

SYSCTL=/proc/sys/kernel/io_uring_disabled

setup() {
	local root
	root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	MAPCP=${MAPCP_BIN:-$root}/mapcp
	T=$(mktemp -d "${TMPDIR:-/tmp}/mapcp-bats-XXXXXX")
	cd "$T" || return 1
	[ -w "$SYSCTL" ] || skip "cannot write $SYSCTL (not root, or no such sysctl)"
	OLD=$(cat "$SYSCTL")
}

teardown() {
	[ -n "${OLD:-}" ] && echo "$OLD" >"$SYSCTL"
	cd / && rm -rf "$T"
}

@test "io_uring disabled: --debug says why and rw copies instead" {
	head -c 300000 /dev/urandom >a
	echo 2 >"$SYSCTL"
	run "$MAPCP" --debug -e io_uring,rw a b
	[ "$status" -eq 0 ]
	[[ "$output" == *"engine rw (next in the --engine list, after a fallback); fell back from io_uring: Operation not supported (io_uring is disabled: kernel.io_uring_disabled is 2)"* ]]
	cmp a b
}

@test "io_uring disabled and asked for alone: a clear error, no file" {
	head -c 300000 /dev/urandom >a
	echo 2 >"$SYSCTL"
	run "$MAPCP" -e io_uring a b
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: error copying 'a' to 'b': Operation not supported (io_uring is disabled: kernel.io_uring_disabled is 2)" ]
	[ ! -e b ]
}
