#!/usr/bin/env bats
# --show-maps and --pause: the exercise's look at the process's mappings.

load helpers

@test "--show-maps prints the source r--s and the destination rw-s" {
	random_file src $((3 * 1024 * 1024))
	run "$MAPCP" --show-maps --window=1M src dst
	[ "$status" -eq 0 ]
	cmp src dst
	[ "$(grep -c "^mapcp: window [0-9] of 'src'" <<<"$output")" -eq 3 ]
	[ "$(grep -c " r--s .* $T/src\$" <<<"$output")" -eq 3 ]
	[ "$(grep -c ' rw-s ' <<<"$output")" -eq 3 ]
}

@test "--show-maps with mmap-write shows only the source" {
	random_file src 100000
	run "$MAPCP" --show-maps -e mmap-write src dst
	[ "$status" -eq 0 ]
	[ "$(grep -c " r--s .* $T/src\$" <<<"$output")" -eq 1 ]
	[ "$(grep -c ' rw-s ' <<<"$output")" -eq 0 ]
}

@test "--pause waits for a line on stdin, then finishes the copy" {
	random_file src $((2 * 1024 * 1024))
	run bash -c "echo | '$MAPCP' --pause src dst"
	[ "$status" -eq 0 ]
	cmp src dst
	[[ "${lines[0]}" =~ ^PID:\ [0-9]+$ ]]
	[[ "$output" == *" r--s "*"$T/src"* ]]
	[[ "$output" == *" -- Press ENTER to continue ..."* ]]
}

@test "--pause really waits" {
	random_file src 100000
	mkfifo ctl
	"$MAPCP" --pause src dst <ctl >out &
	pid=$!
	exec 7>ctl
	wait_for out "Press ENTER"
	pid_shown=$(sed -n 's/^PID: //p' out)
	[ "$pid_shown" = "$pid" ]
	grep -q " r--s .* $T/src\$" "/proc/$pid/maps" # visible from outside
	sleep 0.3
	kill -0 "$pid" # still waiting
	echo >&7
	exec 7>&-
	wait "$pid"
	cmp src dst
}
