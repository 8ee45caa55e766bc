#!/usr/bin/env bats
# --progress as a person sees it, on a real terminal: tmux (a terminal
# whose screen can be read back while the copy runs, and resized) and
# script (a pty whose every byte is kept). What is checked is what was on
# the screen, never what mapcp meant to draw: the line is there while a
# tree copies, fits the terminal's width even when it narrows, never says
# more was done than there is to do, and ends with what became of every
# entry. -v's lines are checked against GNU cp's for the same tree.

load helpers

# A tmux server of this test's own, so nothing of the user's is touched.
tmx() {
	tmux -L "mapcp-$$" -f /dev/null "$@"
}

need_tmux() {
	command -v tmux >/dev/null || skip "tmux is not installed"
}

teardown() {
	tmux -L "mapcp-$$" kill-server 2>/dev/null || true
	cd / && rm -rf "$T"
}

# A FIFO fed N chunks of 100,000 random bytes, one every 0.1 s.
slow_fifo() {
	mkfifo "$1"
	(for _ in $(seq "$2"); do head -c 100000 /dev/urandom; sleep 0.1; done >"$1") &
}

# bytes TEXT: "9.1 MiB" as a number of bytes.
to_bytes() {
	awk -v n="$1" -v u="$2" 'BEGIN {
		m["B"] = 1; m["KiB"] = 2^10; m["MiB"] = 2^20; m["GiB"] = 2^30; m["TiB"] = 2^40
		printf "%.0f\n", n * m[u] }'
}

# frames FILE: script's record of the terminal, one drawn line per line.
frames() {
	sed 's/\x1b\[[0-9]*A//g; s/\x1b\[[JK]/\n/g' "$1" | tr '\r' '\n' | grep -v '^$'
}

# check_frames FILE WIDTH: every status line fits, and its done <= total.
check_frames() {
	local line n=0 done total
	while IFS= read -r line; do
		[ "${#line}" -lt "$2" ] || {
			echo "wider than $2 columns: '$line'" >&2
			return 1
		}
		if [[ "$line" =~ ([0-9.]+)\ (B|KiB|MiB|GiB)\ /\ ([0-9.]+)\ (B|KiB|MiB|GiB) ]]; then
			done=$(to_bytes "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}")
			total=$(to_bytes "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}")
			[ "$done" -le "$total" ] || {
				echo "done above total: '$line'" >&2
				return 1
			}
		fi
		[[ "$line" == *" / "* ]] && n=$((n + 1))
		if [[ "$line" =~ ^\ *([0-9]+)% ]] && [ "${BASH_REMATCH[1]}" -gt 100 ]; then
			echo "above 100%: '$line'" >&2
			return 1
		fi
	done < <(frames "$1")
	[ "$n" -gt 0 ] || {
		echo "no status line at all" >&2
		return 1
	}
}

@test "a tree's progress line stays on screen while files finish (tmux, sampled)" {
	need_tmux
	mkdir src
	for i in $(seq 12000); do echo "$i" >"src/f$i"; done
	# --fsync -j1: about a millisecond a file, so a few seconds of files
	# finishing one after another, each of which used to erase the line
	tmx new-session -d -x 120 -y 20 -s t \
		"'$MAPCP' -r -j1 --fsync --progress src out; echo END; sleep 60"
	sleep 0.8
	local seen=0 samples=0 screen
	for _ in $(seq 30); do
		screen=$(tmx capture-pane -p -t t)
		grep -q 'END' <<<"$screen" && break
		samples=$((samples + 1))
		grep -Eq '[0-9]+/[0-9]+\+? files|ETA' <<<"$screen" && seen=$((seen + 1))
		sleep 0.1
	done
	echo "status line seen in $seen of $samples samples"
	[ "$samples" -ge 5 ] || skip "the copy ended too soon to sample ($samples samples)"
	[ "$seen" -ge $((samples * 8 / 10)) ]
	wait_for_pane 'END'
	tmx capture-pane -p -t t | grep -Eq '^mapcp: 12000 copied, 0 skipped, 0 failed'
	diff -r src out
}

# wait_for_pane TEXT: up to 30 s for TEXT on the tmux screen.
wait_for_pane() {
	for _ in $(seq 300); do
		tmx capture-pane -p -t t | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	tmx capture-pane -p -t t >&2
	return 1
}

@test "narrowing the terminal mid-copy: every redraw fits, nothing is left behind" {
	need_tmux
	slow_fifo slow 40 # four seconds
	tmx new-session -d -x 120 -y 20 -s t \
		"'$MAPCP' --progress slow copy; echo END; sleep 60"
	sleep 1.5
	tmx capture-pane -p -t t | grep -q 'ETA\|/s'
	tmx resize-window -t t -x 50
	sleep 0.5
	local narrow=0
	for _ in $(seq 10); do
		local screen
		screen=$(tmx capture-pane -p -t t)
		# one status line, never wrapped onto a second row
		[ "$(grep -c '/s\|ETA\|B /' <<<"$screen")" -le 1 ]
		while IFS= read -r l; do [ "${#l}" -le 50 ]; done <<<"$screen"
		grep -q '/s' <<<"$screen" && narrow=$((narrow + 1))
		sleep 0.1
	done
	[ "$narrow" -ge 5 ]
	wait_for_pane 'END'
	local screen
	screen=$(tmx capture-pane -p -t t)
	echo "$screen"
	# Only the summary is left: no piece of a status line.
	! grep -q 'ETA\|/ ' <<<"$screen"
	grep -Eq '^mapcp: 1 copied, 0 skipped, 0 failed' <<<"$screen"
	while IFS= read -r l; do [ "${#l}" -le 50 ]; done <<<"$screen"
	[ "$(stat -c %s copy)" -eq 4000000 ]
}

@test "a sparse file: the total is its data, and done never passes it (script)" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	truncate -s 4G sparse
	# 512 MiB of data in two places: a second or so of copying
	head -c 256M /dev/urandom | dd of=sparse bs=1M seek=1024 conv=notrunc status=none
	head -c 256M /dev/urandom | dd of=sparse bs=1M seek=3072 conv=notrunc status=none
	# always: on a terminal from the first moment, so the first frames,
	# drawn before anything is known, are seen too
	script -qfec "stty cols 72; '$MAPCP' --progress=always sparse copy" /dev/null >typescript
	check_frames typescript 72
	# the total shown is the 512 MiB of data, not the 4 GiB size
	frames typescript | grep -E ' / ' | grep -vq ' / 512\.0 MiB' && {
		frames typescript | grep ' / ' >&2
		false
	}
	frames typescript | tail -n 1 | grep -Eq '^mapcp: 1 copied, 0 skipped, 0 failed: 512\.0 MiB'
	"$SPARSECMP" sparse copy
}

# piece ENGINE TRACE: the bytes asked of each call strace saw (whole, or
# "<unfinished ...>" when another thread's call came between).
piece() {
	if [ "$1" = copy_file_range ]; then
		sed -nE 's/.*copy_file_range\([0-9]+, [^,]+, [0-9]+, [^,]+, ([0-9]+),.*/\1/p' "$2"
	else
		sed -nE 's/.*sendfile\([0-9]+, [0-9]+, [^,]+, ([0-9]+).*/\1/p' "$2"
	fi
}

@test "a big file moves at least ten times a second, whatever the engine (pieces)" {
	command -v strace >/dev/null || skip "strace is not installed"
	random_file big $((256 << 20))
	# With a display, copy_file_range and sendfile move pieces sized to
	# take about 50 ms, starting at 8 MiB; without one, 1 GiB calls.
	# (LeakSanitizer cannot run under ptrace: not asked of it here. Only
	# the main thread is traced: it copies a single file, and the
	# display's threads would split its lines.)
	export ASAN_OPTIONS=detect_leaks=0
	for e in copy_file_range sendfile; do
		rm -f copy
		strace -e trace="$e" -o trace "$MAPCP" -e "$e" --progress=always big copy 2>/dev/null
		cmp big copy
		local first calls
		first=$(piece "$e" trace | head -n 1)
		calls=$(grep -c "$e(" trace)
		echo "$e: first piece $first bytes, $calls calls"
		[ "$first" -eq $((8 << 20)) ]
		[ "$calls" -ge 3 ]
		rm -f copy
		strace -e trace="$e" -o trace "$MAPCP" -e "$e" big copy
		[ "$(piece "$e" trace | head -n 1)" -eq $((256 << 20)) ]
	done
}

@test "--progress=always on a pipe: no empty first line; a rerun with -u counts what it skipped" {
	mkdir src
	for i in $(seq 30); do random_file "src/f$i" 10000; done
	"$MAPCP" -r --progress=always src out 2>err
	cat err
	# a copy over before the first plain line: only the summary
	[ "$(wc -l <err)" -eq 1 ]
	grep -Eq '^mapcp: 30 copied, 0 skipped, 0 failed: 293\.0 KiB in [0-9.]+ s' err
	sleep 1
	random_file src/f3 20000
	random_file src/f7 20000
	"$MAPCP" -ru --progress=always src/. out 2>err
	cat err
	grep -Eq '^mapcp: 2 copied, 28 skipped, 0 failed: 39\.1 KiB' err
	diff -r src out
}

@test "--progress=always on a pipe: plain lines every few seconds, no escapes" {
	slow_fifo slow 45
	"$MAPCP" --progress=always slow copy 2>err
	cat err
	! grep -q $'[\r\033]' err
	[ "$(wc -l <err)" -ge 2 ]
	# a FIFO's size is unknown: no total, no percentage, no time left
	head -n 1 err | grep -Eq '^mapcp: [0-9.]+ [KMG]?i?B / \?  [0-9.]+ [KMG]?i?B/s  0/1 files'
	tail -n 1 err | grep -Eq '^mapcp: 1 copied, 0 skipped, 0 failed: 4\.3 MiB in [0-9.]+ s, .*/s$'
}

@test "a failure is counted in the summary, and said between the redraws" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	mkdir src
	random_file src/a 1000
	random_file src/b 1000
	mkdir out && : >out/b && chattr +i out/b 2>/dev/null || skip "no chattr +i here"
	run script -qfec "stty cols 100; '$MAPCP' -r --progress=always src/. out" /dev/null
	chattr -i out/b
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"mapcp: 1 copied, 0 skipped, 1 failed"* ]]
	[[ "$output" == *"cannot create regular file 'out/./b'"* ]]
}

@test "-v lists a tree as GNU cp -v does, line for line, whatever -j" {
	mkdir -p src/a/b src/c src/d
	for i in $(seq 40); do random_file "src/a/f$i" 300; done
	for i in $(seq 40); do random_file "src/c/g$i" 3000; done
	random_file src/a/b/deep 70000
	ln -s ../c src/d/link
	random_file src/top 10
	cp -av src cp-out | sed 's/cp-out/DEST/' >cp.txt
	for j in 1 2 4; do
		rm -rf m-out
		"$MAPCP" -av -j "$j" src m-out | sed 's/m-out/DEST/' >mapcp.txt
		diff cp.txt mapcp.txt
	done
	# a rerun with -u after two changes: the two lines cp prints
	sleep 1
	random_file src/a/f5 10
	random_file src/c/new 10
	cp -auvT src cp-out | sed 's/cp-out/DEST/' >cp.txt
	"$MAPCP" -auvT src m-out | sed 's/m-out/DEST/' >mapcp.txt
	diff cp.txt mapcp.txt
	[ "$(wc -l <mapcp.txt)" -eq 2 ]
}

@test "-v with --parents: the path's directories as cp 9.1 prints them, unquoted" {
	mkdir -p 'a b/c'
	echo x >'a b/c/f'
	mkdir d1 d2
	cp -rv --parents 'a b/c/f' d1 | sed 's/d1/DEST/' >cp.txt
	"$MAPCP" -rv --parents 'a b/c/f' d2 | sed 's/d2/DEST/' >mapcp.txt
	cat mapcp.txt
	diff cp.txt mapcp.txt
	grep -qx 'a b -> DEST/a b' mapcp.txt
}

@test "-v with --verify says the copy was verified" {
	random_file src 5000
	run "$MAPCP" -v --verify src dst
	[ "$status" -eq 0 ]
	[ "$output" = "'src' -> 'dst' (verified)" ]
	run "$MAPCP" -v src dst2
	[ "$output" = "'src' -> 'dst2'" ]
}

@test "an unknown engine lists the engines; an option mapcp lacks says so" {
	run "$MAPCP" -e mmap,bogus a b
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == "mapcp: unknown engine 'bogus'; the engines are: "* ]]
	for e in auto mmap mmap-write rw copy_file_range sendfile splice io_uring reflink; do
		[[ "${lines[0]}" == *" $e"[,]* || "${lines[0]}" == *" $e" ]]
	done
	run "$MAPCP" --frobnicate a b
	[ "$status" -eq 1 ]
	[[ "$output" == *"there is no option --frobnicate in mapcp"* ]]
	run "$MAPCP" --delete a b
	[ "$status" -eq 1 ]
	[[ "$output" == *"--delete is an rsync option"* ]]
	run "$MAPCP" -y a b
	[ "$status" -eq 1 ]
	[[ "$output" == *"there is no option -y in mapcp"* ]]
	# an option mapcp has, without its argument: getopt's words only
	run "$MAPCP" a b -e
	[ "$status" -eq 1 ]
	[[ "$output" != *"there is no option"* ]]
	[ -z "$(ls)" ]
}

@test "-v prints an entry's line before its failure, as cp -v does (immutable DEST)" {
	mkdir -p src/sub d
	echo a >src/a
	echo b >src/sub/b
	mkfifo src/p
	chattr +i d 2>/dev/null || skip "no chattr +i here"
	cp -rv src/. d >cp.txt 2>&1 || true
	"$MAPCP" -rv src/. d >mapcp.txt 2>&1 || true
	chattr -i d
	sed -i 's/^mapcp:/cp:/' mapcp.txt
	cat mapcp.txt
	diff cp.txt mapcp.txt
	grep -q "^'src/./a' -> 'd/./a'$" mapcp.txt
}

@test "the totals leave out what is not copied: later hard links (-a), other filesystems (-x)" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	mkdir -p src/mnt
	random_file src/a $((400 << 20))
	ln src/a src/b
	ln src/a src/c
	mount -t tmpfs -o size=200m mapcp-x src/mnt 2>/dev/null || skip "cannot mount a tmpfs (not root?)"
	random_file src/mnt/big $((100 << 20))
	# a FIFO whose writer waits 1.5 s: before the file or after it (by
	# inode), the scan has ended while the file's bytes are shown
	mkfifo src/zz
	(sleep 1.5; echo end) >src/zz &
	script -qfec "stty cols 100; '$MAPCP' -ax -j 1 --copy-contents --progress=always src out" /dev/null >typescript || true
	umount src/mnt
	check_frames typescript 100
	# 400 MiB once (b and c are linked to a's copy), nothing of the mount
	frames typescript | grep ' / ' | grep -Eq ' / (1\.2 GiB|500\.0 MiB|1\.3 GiB)' && {
		frames typescript | grep ' / ' >&2
		false
	}
	frames typescript | grep -q ' / 400\.0 MiB  '
	[ "$(stat -c %i out/a)" = "$(stat -c %i out/b)" ]
	[ -d out/mnt ] && [ -z "$(ls out/mnt)" ]
}

@test "tmux: a status line on the top row does not fill the scrollback" {
	need_tmux
	slow_fifo slow 30
	tmx new-session -d -x 100 -y 10 -s t \
		"clear; '$MAPCP' --progress slow copy; echo END; sleep 60"
	wait_for_pane 'END'
	local history
	history=$(tmx display -p -t t '#{history_size}')
	echo "history: $history lines"
	[ "$history" -le 2 ]
}

@test "tmux: narrowing by dragging (many small resizes) leaves no status line behind" {
	need_tmux
	slow_fifo slow 50
	tmx new-session -d -x 110 -y 20 -s t \
		"'$MAPCP' --progress slow copy; echo END; sleep 60"
	sleep 1.5
	for w in $(seq 105 -5 40); do
		tmx resize-window -t t -x "$w"
		sleep 0.03
	done
	sleep 0.5
	local screen
	screen=$(tmx capture-pane -p -t t)
	echo "$screen"
	[ "$(grep -c '/s\|ETA\|B /' <<<"$screen")" -le 1 ]
	wait_for_pane 'END'
	screen=$(tmx capture-pane -p -t t)
	! grep -q 'ETA\|/ ' <<<"$screen"
	while IFS= read -r l; do [ "${#l}" -le 40 ]; done <<<"$screen"
}

@test "a narrow terminal: the summary and a cut name fit, the cut never inside an escape" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	local name=$'long-\377\376-name-with-awkward-bytes-\377\376\375'
	slow_fifo "$name" 12
	script -qfec "stty cols 37; '$MAPCP' --progress=always ./'$name' copy" /dev/null >typescript
	check_frames typescript 37
	frames typescript | tail -n 1 | grep -Eq '^mapcp: 1 copied, 0 skipped, 0 failed'
	# a cut name starts "..." and then the name or a quote, never mid-escape
	! frames typescript | grep -E '\.\.\.([0-7]|\\[0-7]*)' >&2
	slow_fifo slow 8
	script -qfec "stty cols 20; '$MAPCP' --progress=always slow copy2" /dev/null >typescript
	check_frames typescript 20
}

@test "an unknown letter after a long option is still named (--verbose -zv)" {
	run "$MAPCP" --verbose -zv a b
	[ "$status" -eq 1 ]
	[[ "$output" == *"there is no option -z in mapcp"* ]]
	run "$MAPCP" --delete-after a b
	[[ "$output" == *"--delete-after is an rsync option"* ]]
}
