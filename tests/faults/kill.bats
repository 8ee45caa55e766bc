#!/usr/bin/env bats
# kill -9 at random moments of a 1 GiB copy, 50 times: DEST is always the
# old bytes or the whole new ones, and the only debris a kill can leave is
# a temporary named .NAME.mapcp-XXXXXX (where O_TMPFILE is missing), which
# mapcp --clean-temps removes.

load helpers

KILLS=${MAPCP_KILLS:-50}

setup_file() {
	# A tmpfs of our own keeps fifty 1 GiB copies fast and off the disk.
	if [ "$(id -u)" -eq 0 ]; then
		export KILL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mapcp-kill-XXXXXX")
		mount -t tmpfs -o size=4g mapcp-kill "$KILL_DIR"
	fi
}

teardown_file() {
	if [ -n "${KILL_DIR:-}" ]; then
		umount "$KILL_DIR" && rmdir "$KILL_DIR"
	fi
}

@test "kill -9 at random moments of a 1 GiB copy leaves DEST old or whole" {
	[ -n "${KILL_DIR:-}" ] || skip "not root: no tmpfs to hold 1 GiB copies"
	SHIM=${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/fault-shim.so
	[ -e "$SHIM" ] || skip "no fault shim at $SHIM (make check-faults builds it)"
	cd "$KILL_DIR"
	shopt -s nullglob dotglob
	head -c 1G /dev/urandom >new
	head -c 64M /dev/urandom >old
	local engines=(auto rw mmap mmap-write copy_file_range sendfile splice io_uring)
	local i engine pid status start elapsed us olds=0 news=0 bad=0 lost=0
	local leftover t0 t1

	# How long one copy takes here, to spread the kills over it.
	t0=$(date +%s%N)
	"$MAPCP" new probe
	t1=$(date +%s%N)
	us=$(((t1 - t0) / 1000 + 1))
	rm -f probe
	for i in $(seq "$KILLS"); do
		engine=${engines[i % ${#engines[@]}]}
		cp old dst
		if [ $((i % 2)) -eq 0 ]; then
			# The shim makes open(O_TMPFILE) fail, as on filesystems
			# without it: named temporaries. (No shell function here:
			# $! must be mapcp's own pid.)
			LD_PRELOAD=$SHIM MAPCP_FAULT_NOTMPFILE=1 \
				ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
				"$MAPCP" -e "$engine" new dst 2>err &
		else
			"$MAPCP" -e "$engine" new dst 2>err &
		fi
		pid=$!
		sleep "$(awk -v r="$RANDOM" -v us="$us" \
			'BEGIN { printf "%.6f", r / 32768 * us / 1e6 }')"
		kill -9 "$pid" 2>/dev/null || true
		status=0
		wait "$pid" || status=$?
		[ -s err ] && echo "kill $i ($engine): $(cat err)"
		if cmp -s dst old; then
			olds=$((olds + 1))
		elif cmp -s dst new; then
			news=$((news + 1))
		else
			bad=$((bad + 1))
			lost=$((lost + $(differing dst new)))
			echo "kill $i ($engine): DEST is neither old nor new (status $status)"
		fi
		# Debris: only the documented pattern, only DEST's.
		for f in *; do
			case $f in
			new | old | dst | err) ;;
			.dst.mapcp-??????)
				[[ $f =~ ^\.dst\.mapcp-[A-Za-z0-9]{6}$ ]] || {
					echo "kill $i: temporary '$f' off the pattern"
					bad=$((bad + 1))
				}
				;;
			*)
				echo "kill $i: unexpected file '$f' left"
				bad=$((bad + 1))
				;;
			esac
		done
	done
	leftover=$(temps .)
	echo "# $KILLS kills: DEST old $olds times, new $news times, bad $bad;" \
		"$leftover temporaries left" >&3
	# --clean-temps removes them all, and nothing else.
	touch keep.mapcp-AAAAAA .keep.mapcp-AAAAA .keep.mapcp-AAAAAAA
	run "$MAPCP" --clean-temps .
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(temps .)" -eq 0 ]
	[ -e keep.mapcp-AAAAAA ] && [ -e .keep.mapcp-AAAAA ] && [ -e .keep.mapcp-AAAAAAA ]
	cmp -s new dst || cmp -s old dst
	tally kill-9 "$KILLS" "$KILLS" "$news" "$olds" "$bad" "$lost"
	[ "$bad" -eq 0 ]
	[ "$lost" -eq 0 ]
	# The kills did land mid-copy, and left temporaries to clean.
	[ "$olds" -gt 0 ]
	[ "$leftover" -gt 0 ]
}
