#!/usr/bin/env bats
# mapcp and its standard descriptors: started with 0, 1 or 2 closed, no
# file it opens lands there (the progress line once went into DEST); what
# it writes to stdout is checked at exit, as cp checks it; and the test
# hooks are not in the binary users run.

load helpers

@test "stdout and stderr closed: DEST gets the data, not the progress line" {
	random_file src 300000
	# (closed inside bash -c: bats' run captures stdout and stderr itself)
	run bash -c '"$0" --progress=always src dst >&- 2>&-' "$MAPCP"
	[ "$status" -eq 0 ]
	cmp src dst
	# and a tree, whose files are opened by several threads
	mkdir tree && random_file tree/a 70000 && random_file tree/b 5
	run bash -c '"$0" -r --progress=always tree out >&- 2>&-' "$MAPCP"
	[ "$status" -eq 0 ]
	cmp tree/a out/a && cmp tree/b out/b
	# a copy long enough for the progress line to be redrawn while the
	# temporary is open: a FIFO written to twice, 1.5 s apart
	mkfifo fifo
	env bash -c '{ echo first; sleep 1.5; echo second; } >fifo' &
	run bash -c '"$0" --progress=always fifo slow >&- 2>&-' "$MAPCP"
	wait
	[ "$status" -eq 0 ]
	[ "$(cat slow)" = "first
second" ]
}

@test "stdin closed: -i reads no answer from a file, and says no" {
	echo yes >src # the answer mapcp would read, were src opened as fd 0
	echo old >dst
	# (closed inside bash -c: bats' own run does not survive a closed stdin)
	run bash -c '"$0" -i src dst <&-' "$MAPCP"
	[ "$status" -eq 0 ]
	[ "$(cat dst)" = old ]
	[ "$(cat src)" = yes ]
	[[ "$output" == "mapcp: overwrite 'dst'? "* ]]
}

@test "a write error on stdout is reported and the status is 1, as cp does" {
	echo data >src
	# (redirected inside bash -c: bats' run captures stdout itself)
	run bash -c '"$0" -v src a >/dev/full' "$MAPCP"
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: write error: No space left on device" ]
	cmp src a # the copy itself is done
	run bash -c '"$0" -v src b >&-' "$MAPCP"
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: write error: Bad file descriptor" ]
	run bash -c '"$0" --help >/dev/full' "$MAPCP"
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: write error: No space left on device" ]
	# nothing written: a closed stdout is no error
	run bash -c '"$0" src c >&-' "$MAPCP"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "a closed pipe on stdout with SIGPIPE ignored: write error, status 1" {
	echo data >src
	run python3 - "$MAPCP" <<-'EOF'
	import os, signal, subprocess, sys
	r, w = os.pipe()
	os.close(r)
	signal.signal(signal.SIGPIPE, signal.SIG_IGN)
	p = subprocess.run([sys.argv[1], "-v", "src", "dst"], stdout=w,
	                   stderr=subprocess.PIPE, restore_signals=False)
	sys.stdout.write(p.stderr.decode())
	sys.exit(p.returncode)
	EOF
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: write error: Broken pipe" ]
}

@test "the test hooks are not in mapcp: no engine 'fail', MAPCP_FAIL ignored" {
	random_file src 5000
	MAPCP_FAIL=FLIP:10 run "$MAPCP" -e fail src dst
	[ "$status" -eq 1 ]
	[[ "$output" == "mapcp: unknown engine 'fail'; the engines are:"* ]]
	[[ "$output" != *" fail,"* && "$output" != *" fail"$'\n'* ]]
	[ ! -e dst ]
	MAPCP_FAIL=EIO:0 run "$MAPCP" src dst
	[ "$status" -eq 0 ]
	cmp src dst
	! grep -q MAPCP_FAIL "$MAPCP"
	# the engines --help lists (as the bash completion reads them)
	run bash -c '"$0" --help | sed -n "/engines:/,/--force/p" | sed "1d;\$d"' "$MAPCP"
	[[ " $(echo $output) " == *" mmap io_uring "* ]]
	[[ " $(echo $output) " != *" fail "* ]]
	# while the test binary has them: the byte after the 10th flipped
	MAPCP_FAIL=FLIP:10 run "$MAPCP_HOOKS" -e fail src flipped
	[ "$status" -eq 0 ]
	[ "$(cmp src flipped | sed 's/.*byte \([0-9]*\),.*/\1/')" = 11 ]
}

@test "/dev/stdout, /dev/fd/N naming a descriptor we were not given: an error, as in cp" {
	echo data >src
	run bash -c '"$0" src /dev/stdout >&-' "$MAPCP"
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: not writing through dangling symlink '/dev/stdout'" ]
	run "$MAPCP" src /dev/fd/9
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot create regular file '/dev/fd/9': No such file or directory" ]
	run bash -c '"$0" /dev/stdin copy <&-' "$MAPCP"
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot stat '/dev/stdin': No such file or directory" ]
	[ ! -e copy ]
	# a descriptor we were given is written
	run bash -c '"$0" src /dev/fd/5 5>given' "$MAPCP"
	[ "$status" -eq 0 ]
	cmp src given
}
