#!/usr/bin/env bats
# Trees other users can write, as an administrator copying them as root
# meets them: symlinks planted in DEST where a directory goes, the races
# an attacker wins between mkdir and open or between readdir and open
# (played exactly by the fault shim, MAPCP_FAULT_SWAP/SWAPDIR), symlink
# cycles and bind mounts that make a copy into itself, trees deeper than
# any descriptor limit, the sticky and set-group-ID bits of shared
# directories, hard links by the thousand and across operands, and the
# signals that stop a copy midway. GNU cp 9.1 is the reference wherever
# it has an answer. tests/faults/attack.c races mapcp for real, in
# make check-faults.

load helpers

setup_file() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
}

MOUNTS=()

teardown() {
	local m
	for m in "${MOUNTS[@]}"; do
		mountpoint -q "$m" && umount "$m"
	done
	cd / && rm -rf "$T"
}

TOOL() {
	local t=$1
	shift
	"${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/$t" "$@"
}

SHIM() {
	echo "${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/fault-shim.so"
}

# shimmed VAR=VALUE... CMD...: CMD with the fault shim preloaded. The
# shim is not sanitized, so a sanitized mapcp is told not to mind.
shimmed() {
	env LD_PRELOAD="$(SHIM)" \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0 \
		"$@"
}

need_root_here() {
	[ "$(id -u)" -eq 0 ] || skip "not root: $1"
}

# victim DIR: a directory of root's with a file in it, as it must stay.
victim() {
	mkdir -p "$1/sub"
	echo "not yours" >"$1/secret"
	chmod 700 "$1"
	stat -c '%A %U %G %Y %Z' "$1" "$1/sub" "$1/secret" >"$1.before"
	ls -A "$1" >>"$1.before"
}

victim_intact() {
	diff <(stat -c '%A %U %G %Y %Z' "$1" "$1/sub" "$1/secret"; ls -A "$1") \
		"$1.before"
}

no_temps() {
	local left
	left=$(find "$@" -name '.*.mapcp-*' -print)
	[ -z "$left" ] || {
		echo "temporaries left: $left"
		return 1
	}
}

@test "a symlink in DEST where a directory goes is refused as cp refuses it, -a or not" {
	need_root_here "the victim must be another user's"
	victim "$T/victim"
	mkdir -p src/sub dst
	echo hi >src/sub/f
	chown -R nobody src
	chmod 777 src/sub
	ln -s "$T/victim" dst/sub
	for opt in -r -a "-r -j 1" "-a -j 4"; do
		run "$MAPCP" $opt src/. dst
		echo "$opt: $output"
		[ "$status" -eq 1 ]
		[ "$output" = "mapcp: cannot overwrite non-directory 'dst/./sub' with directory 'src/./sub'" ]
		victim_intact "$T/victim"
		[ -L dst/sub ]
	done
	for opt in -r -a; do
		cp_out=$(command cp $opt src/. dst 2>&1) && cp_status=0 || cp_status=$?
		[ "$cp_status" -eq 1 ]
		[ "$cp_out" = "cp: cannot overwrite non-directory 'dst/./sub' with directory 'src/./sub'" ]
	done
	# As the top of the copy too (cp: the same).
	run "$MAPCP" -rT src/sub dst/sub
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot overwrite non-directory 'dst/sub' with directory 'src/sub'" ]
	victim_intact "$T/victim"
}

@test "--keep-directory-symlink writes through a symlink to a directory, only when asked" {
	mkdir -p src/sub dst real
	echo hi >src/sub/f
	ln -s ../real dst/sub
	run "$MAPCP" -r --keep-directory-symlink src/. dst
	[ "$status" -eq 0 ]
	[ -L dst/sub ] && [ "$(cat real/f)" = hi ]
	# A symlink to a file is still no directory.
	rm -rf dst/sub real/f
	ln -s ../real/file dst/sub
	echo x >real/file
	run "$MAPCP" -r --keep-directory-symlink src/. dst
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot overwrite non-directory 'dst/./sub'"* ]]
}

@test "race: DEST's new directory swapped for a symlink before it is opened: refused, nothing written outside" {
	victim "$T/victim"
	for j in 1 4; do
		rm -rf src dst && mkdir -p src/d1/d2 dst
		echo 1 >src/d1/f
		echo 2 >src/d1/d2/g
		echo 3 >src/top
		run shimmed MAPCP_FAULT_SWAPDIR="d1:$T/victim" "$MAPCP" -a -j "$j" src/. dst
		echo "-j $j: $output"
		[ "$status" -eq 1 ]
		[ "$output" = "mapcp: 'dst/./d1' was moved or replaced during the copy: nothing more is copied into it" ]
		victim_intact "$T/victim"
		# What was moved aside is the directory mapcp made: still empty.
		[ -L dst/d1 ] && [ -d dst/d1.aside ] && [ -z "$(ls -A dst/d1.aside)" ]
		[ "$(cat dst/top)" = 3 ]
	done
}

@test "race: a listed file swapped for a FIFO before it is opened: no hang, cp's message, the rest copied" {
	mkdir -p src
	for i in 1 2 3; do echo "$i" >"src/f$i"; done
	for j in 1 4; do
		rm -rf dst s && cp -r src s
		run timeout 20 env LD_PRELOAD="$(SHIM)" \
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0 \
			MAPCP_FAULT_SWAP=f2:fifo "$MAPCP" -r -j "$j" s dst
		echo "-j $j: $output"
		[ "$status" -eq 1 ]
		[ "$output" = "mapcp: skipping 's/f2', as it was replaced while being copied" ]
		[ "$(cat dst/f1 dst/f3)" = "$(printf '1\n3')" ]
		[ ! -e dst/f2 ]
		no_temps dst
	done
}

@test "race: a listed file swapped for a symlink to a secret: not read without -L" {
	need_root_here "the secret must be unreadable to its owner"
	victim "$T/victim"
	mkdir -p src
	echo 1 >src/f1
	echo 2 >src/f2
	run shimmed MAPCP_FAULT_SWAP="f2:$T/victim/secret" "$MAPCP" -r src dst
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: skipping 'src/f2', as it was replaced while being copied" ]
	! grep -rq "not yours" dst
	# -L asks for symlinks to be followed: then it is read, as asked.
	rm -rf dst
	ln -sf "$T/victim/secret" src/f2
	run "$MAPCP" -rL src dst
	[ "$status" -eq 0 ]
	[ "$(cat dst/f2)" = "not yours" ]
}

@test "a symlink in a DEST tree where a file goes is replaced, never written through" {
	need_root_here "the victim must be another user's"
	victim "$T/victim"
	mkdir -p src dst
	echo new >src/f
	echo new >src/g
	ln -s "$T/victim/secret" dst/f
	mkfifo dst/g
	run timeout 20 "$MAPCP" -r src/. dst
	[ "$status" -eq 0 ]
	[ ! -L dst/f ] && [ "$(cat dst/f)" = new ]
	[ ! -p dst/g ] && [ "$(cat dst/g)" = new ]
	victim_intact "$T/victim"
	# --inplace too: a tree's symlink or FIFO is replaced, not opened.
	ln -sf "$T/victim/secret" dst/f
	run timeout 20 "$MAPCP" -r --inplace src/. dst
	[ "$status" -eq 0 ]
	[ ! -L dst/f ] && [ "$(cat dst/f)" = new ]
	victim_intact "$T/victim"
}

@test "--parents: a symlink planted where a directory of the path goes is refused; nothing made for a bad SOURCE" {
	need_root_here "the victim must be another user's"
	chmod 755 "$T" # let nobody in
	victim "$T/victim"
	mkdir -p a/b D
	echo c >a/b/c
	chmod 777 D
	as_nobody ln -s "$T/victim" D/a
	run "$MAPCP" --parents a/b/c D
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot overwrite non-directory 'D/a' with directory 'a'" ]
	victim_intact "$T/victim"
	rm D/a
	as_nobody ln -s "$T/victim" D/a2
	mkdir -p a2/sub && echo x >a2/sub/x
	run "$MAPCP" -r --parents a2/sub D
	[ "$status" -eq 1 ]
	victim_intact "$T/victim"
	# A SOURCE that cannot be copied leaves nothing behind (cp leaves D4/a).
	mkdir D4
	run "$MAPCP" --parents a/b/c/nope D4
	[ "$status" -eq 1 ]
	[ -z "$(ls -A D4)" ]
}

@test "-a --parents gives the directories of the path their source's owner, mode and times, as cp" {
	mkdir -p a/b
	echo c >a/b/c
	chmod 777 a
	chmod 750 a/b
	[ "$(id -u)" -ne 0 ] || chown nobody a
	touch -d '2002-01-01 01:02:03.5' a
	touch -d '2003-01-01' a/b
	mkdir m c
	command cp -a --parents a/b/c c
	run "$MAPCP" -a --parents a/b/c m
	[ "$status" -eq 0 ]
	[ "$(stat -c '%A %U %y' m/a m/a/b m/a/b/c)" = "$(stat -c '%A %U %y' c/a c/a/b c/a/b/c)" ]
	# Without -p: modes from the source's, less the umask, as cp.
	mkdir m2 c2
	command cp --parents a/b/c c2
	"$MAPCP" --parents a/b/c m2
	[ "$(stat -c '%A' m2/a m2/a/b)" = "$(stat -c '%A' c2/a c2/a/b)" ]
}

@test "--inplace in a tree: a file with a name outside DEST (a planted hard link) is replaced, not written" {
	need_root_here "the planted link's target must be root's"
	chmod 755 "$T" # let nobody in
	mkdir -p src dst/src out
	chmod 777 dst/src
	echo new >src/f
	chown nobody: src/f
	chmod 4755 src/f
	echo old >out/x
	chmod 666 out/x
	as_nobody ln out/x dst/src/f
	before=$(stat -c '%A %U %Y %Z' out/x)
	run "$MAPCP" -a --inplace src dst
	[ "$status" -eq 0 ]
	[ "$(cat out/x)" = old ]
	[ "$(stat -c '%A %U %Y %Z' out/x)" = "$before" ]
	[ "$(cat dst/src/f)" = new ] && [ "$(stat -c %h dst/src/f)" -eq 1 ]
}

@test "-j 4 under ulimit -n 16: fewer threads, every file copied (as -j 1 and cp)" {
	mkdir src
	for d in $(seq 30); do
		mkdir -p "src/d$d/e/f/g"
		for i in $(seq 10); do
			echo "$i" >"src/d$d/x$i"
			echo "$i" >"src/d$d/e/f/g/y$i"
		done
	done
	run bash -c "ulimit -n 16 && '$MAPCP' -a -j 4 src D"
	echo "$output" | head -5
	[ "$status" -eq 0 ]
	diff -r src D
}

@test "a chain reached only through symlinks (-rL), deeper than the descriptor budget: copied whole" {
	mkdir chain
	for i in $(seq 0 1500); do mkdir "chain/r$i"; done
	for i in $(seq 0 1499); do ln -s "../r$((i + 1))" "chain/r$i/n"; done
	echo end >chain/r1500/end
	run timeout 120 bash -c "ulimit -n 64 && '$MAPCP' -rL chain/r0 out"
	[ "$status" -eq 0 ]
	[ "$(find out -type d | wc -l)" -eq 1501 ]
	[ "$(find out -name end -exec cat {} +)" = end ]
}

@test "a symlink to an ancestor with -rL: cp's 'cannot copy cyclic symbolic link', the rest copied" {
	mkdir -p t/a/b
	echo x >t/a/f
	echo y >t/a/b/g
	ln -s .. t/a/b/up
	cp_out=$(command cp -rL t/a c 2>&1) && cp_status=0 || cp_status=$?
	run "$MAPCP" -rL t/a m
	[ "$status" -eq 1 ] && [ "$cp_status" -eq 1 ]
	[ "$output" = "mapcp: cannot copy cyclic symbolic link 't/a/b/up'" ]
	[ "${output//mapcp:/cp:}" = "$cp_out" ]
	[ "$(cat m/f m/b/g)" = "$(printf 'x\ny')" ]
	# The progress scan walks it once, too, and ends.
	run timeout 20 "$MAPCP" -rL --progress=always t/a m2
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot copy cyclic symbolic link 't/a/b/up'"* ]]
}

@test "a directory copied into itself through a bind mount: cp's message, no endless copy" {
	need_root_here "bind mounts need root"
	mkdir -p src/inner dst
	echo x >src/f
	mount --bind dst src/inner
	MOUNTS+=("$T/src/inner")
	run timeout 60 "$MAPCP" -r src dst/x
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot copy a directory, 'src', into itself, 'dst/x'" ]
	[ "$(cat dst/x/f)" = x ]
	# The copy stopped at once: no dst/x/inner/x/inner...
	[ ! -e dst/x/inner/x ]
}

@test "10,000 levels under ulimit -n 1024: complete, peak RSS under 64 MiB (cp stops at PATH_MAX)" {
	TOOL deeptree make deep 10000 100
	for opt in -r "-a -j 1" "-r -j 4"; do
		rm -rf copy
		run bash -c "ulimit -n 1024 && /usr/bin/time -f 'rss %M' '$MAPCP' $opt deep copy"
		echo "$opt: $output"
		[ "$status" -eq 0 ]
		TOOL deeptree check copy 10000 100
		rss=$(sed -n 's/^rss //p' <<<"$output")
		# A sanitizer's shadow memory is not mapcp's to count.
		if ! ldd "$MAPCP" | grep -q libasan; then
			[ "$rss" -le 65536 ]
		fi
	done
	# The progress scan goes as deep, within the same limit.
	rm -rf copy
	run bash -c "ulimit -n 1024 && '$MAPCP' -r --progress=always deep copy"
	[ "$status" -eq 0 ]
	TOOL deeptree check copy 10000 100
}

@test "a descriptor limit of 64 with 4 threads: directories closed and reopened, all copied" {
	TOOL deeptree make deep 300 1
	mkdir -p wide
	for d in $(seq 40); do
		mkdir "wide/d$d"
		for f in $(seq 5); do echo "$d.$f" >"wide/d$d/f$f"; done
	done
	run bash -c "ulimit -n 64 && '$MAPCP' -a -j 4 deep deep2 && '$MAPCP' -r -j 4 wide wide2"
	echo "$output"
	[ "$status" -eq 0 ]
	TOOL deeptree check deep2 300 1
	diff -r wide wide2
	# Times and modes of every directory, set after it was reopened.
	[ "$(find deep -type d -printf '%m %TY%Tm%Td%TH%TM%TS\n' | sort | md5sum)" = \
		"$(find deep2 -type d -printf '%m %TY%Tm%Td%TH%TM%TS\n' | sort | md5sum)" ]
}

@test "special mode bits (sticky, set-group-ID, set-user-ID) as cp gives them, over options, umasks, parents" {
	mkdir shared sg plain pg
	chmod 1777 shared
	chmod 2775 sg
	mkdir sg/in plain/sub
	chmod 3775 sg/in
	echo x >plain/suid
	chmod 4755 plain/suid
	echo y >sg/sgid
	chmod 2755 sg/sgid
	chmod 2755 pg
	for um in 0 022; do
		for opt in -r -a -rp "-r --preserve=mode" "-a --no-preserve=ownership"; do
			for s in shared sg plain; do
				for into in . pg; do
					rm -rf "$into/c" "$into/m"
					(umask $um && command cp $opt $s "$into/c")
					run bash -c "umask $um && '$MAPCP' $opt $s '$into/m'"
					[ "$status" -eq 0 ]
					want=$(find "$into/c" -printf '%P %M\n' | sort)
					got=$(find "$into/m" -printf '%P %M\n' | sort)
					echo "umask $um, $opt $s into $into: cp: $want; mapcp: $got"
					[ "$got" = "$want" ]
				done
			done
		done
	done
	# --preserve=mode onto an existing directory: its set-group-ID bit
	# stays when the source has no special bits (cp sets an ACL).
	mkdir -p pg/e1 pg/e2
	command cp -r --preserve=mode plain/. pg/e1
	"$MAPCP" -r --preserve=mode plain/. pg/e2
	[ "$(stat -c %A pg/e2)" = "$(stat -c %A pg/e1)" ]
}

@test "a copied directory is not writable by others until it is complete (cp's rule)" {
	mkdir -p src/open
	chmod 777 src/open
	for i in $(seq 50); do echo "$i" >"src/open/f$i"; done
	# The mode mkdirat is asked for leaves out g+w and o+w; with -a, all
	# that is not the owner's (the owner changes last).
	traced trace mkdirat bash -c "umask 0 && '$MAPCP' -r src out && '$MAPCP' -a src arch"
	grep -q 'mkdirat(.*"open", 0755)' trace
	grep -q 'mkdirat(.*"open", 0700)' trace
	(umask 0 && command cp -r src ref)
	[ "$(stat -c %a out/open)" = "$(stat -c %a ref/open)" ]
	[ "$(stat -c %a arch/open)" = 777 ]
}

@test "20,000 hard-link pairs with -a: every pair one inode, as cp -a makes them" {
	mkdir -p src/a
	(cd src/a && seq 20000 | xargs touch)
	command cp -al src/a src/b # every file a second name
	[ "$(find src -type f -links 2 | wc -l)" -eq 40000 ]
	run "$MAPCP" -a src out
	[ "$status" -eq 0 ]
	[ "$(find out -type f -links 2 | wc -l)" -eq 40000 ]
	[ "$(find out -type f -printf '%i\n' | sort -u | wc -l)" -eq 20000 ]
	[ "$(stat -c %i out/a/777)" = "$(stat -c %i out/b/777)" ]
}

@test "hard links between symlinks, FIFOs and devices are kept with -a, as cp keeps them" {
	mkdir s
	ln -s tgt s/l1
	ln s/l1 s/l2
	mkfifo s/p1
	ln s/p1 s/p2
	if [ "$(id -u)" -eq 0 ]; then
		mknod s/c1 c 1 3
		ln s/c1 s/c2
	fi
	command cp -a s c
	run "$MAPCP" -a s m
	[ "$status" -eq 0 ]
	[ "$(cd m && stat -c '%n %h %F' * | sort)" = "$(cd c && stat -c '%n %h %F' * | sort)" ]
	[ "$(stat -c %i m/l1)" = "$(stat -c %i m/l2)" ]
	[ "$(stat -c %i m/p1)" = "$(stat -c %i m/p2)" ]
}

@test "hard links between command-line sources are kept, as cp -a keeps them" {
	echo h >h1
	ln h1 h2
	mkdir -p d/sub
	echo x >d/sub/x
	ln d/sub/x h3
	mkdir m c
	command cp -a h1 h2 d h3 c
	run "$MAPCP" -a h1 h2 d h3 m
	[ "$status" -eq 0 ]
	[ "$(stat -c %i m/h1)" = "$(stat -c %i m/h2)" ]
	[ "$(stat -c %i m/d/sub/x)" = "$(stat -c %i m/h3)" ]
	[ "$(stat -c %h m/h1) $(stat -c %h m/h3)" = "$(stat -c %h c/h1) $(stat -c %h c/h3)" ]
	# Without links in --preserve: two copies, as cp -p makes.
	mkdir p
	run "$MAPCP" -p h1 h2 p
	[ "$status" -eq 0 ]
	[ "$(stat -c %i p/h1)" != "$(stat -c %i p/h2)" ]
}

# feeding FIFO: a writer that puts a little into FIFO and then holds it
# open, so that a copy reading from it waits in read(); its pid in WRITER.
feeding() {
	(echo partial && sleep 60) >"$1" &
	WRITER=$!
}

@test "SIGINT, SIGTERM, SIGHUP mid-copy: no temporary left, DEST as it was, death by the signal" {
	echo old >dst
	for sig in INT TERM HUP; do
		rm -f fifo && mkfifo fifo
		# (A shell starts background jobs with SIGINT ignored.)
		env --default-signal=INT "$MAPCP" fifo dst 2>err &
		pid=$!
		feeding fifo
		sleep 0.3
		kill -"$sig" "$pid"
		status=0
		wait "$pid" || status=$?
		kill "$WRITER" 2>/dev/null || true
		echo "$sig: status $status: $(cat err)"
		[ "$status" -eq $((128 + $(kill -l "$sig"))) ]
		[ "$(cat dst)" = old ]
		no_temps .
	done
}

@test "named temporaries: a signal removes them (SIGTERM with a FIFO source, SIGPIPE with -v | head)" {
	echo old >dst
	rm -f fifo && mkfifo fifo
	# Not through a function: $! must be mapcp's own pid.
	env LD_PRELOAD="$(SHIM)" MAPCP_FAULT_NOTMPFILE=1 \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0 \
		"$MAPCP" fifo dst 2>err &
	pid=$!
	feeding fifo
	# The named temporary exists once mapcp reads.
	for i in $(seq 100); do
		[ -n "$(find . -maxdepth 1 -name '.dst.mapcp-*')" ] && break
		sleep 0.05
	done
	[ -n "$(find . -maxdepth 1 -name '.dst.mapcp-*')" ]
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	kill "$WRITER" 2>/dev/null || true
	[ "$status" -eq 143 ]
	[ "$(cat dst)" = old ]
	no_temps .
	# A tree replacing what it finds, its -v output cut short: SIGPIPE.
	mkdir -p s
	for i in $(seq 300); do head -c 20000 /dev/urandom >"s/f$i"; done
	cp -r s d
	for i in $(seq 10); do
		shimmed MAPCP_FAULT_NOTMPFILE=1 "$MAPCP" -rv s/. d | head -1 >/dev/null
	done
	no_temps d
	for f in s/*; do
		cmp -s "$f" "d/${f#s/}" || { echo "$f differs"; false; }
	done
}
