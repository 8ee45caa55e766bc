# Shared by the fault suites (tests/faults/*.bats): the usual per-test
# directory and binaries from tests/cli/helpers.bash, plus the judge that
# every faulted run goes through and the tally that make check-faults sums.
#
# A faulted run may end in exactly two ways: exit 0 with DEST complete and
# byte-identical to what was copied, or exit 1 with one clear line on
# stderr, DEST exactly as it was before and no temporary left. Anything
# else (another status, a crash, a mixed or short DEST) is "bad", and every
# byte of DEST that is neither the old nor the new content is "lost".

load ../cli/helpers

# tally NAME RUNS FAULTS COMPLETE CLEAN BAD LOST: add a line to the counts
# make check-faults prints at the end ($MAPCP_TALLY; nothing without it).
tally() {
	[ -n "${MAPCP_TALLY:-}" ] || return 0
	echo "$*" >>"$MAPCP_TALLY"
}

# differing A B: how many bytes of A differ from B, size difference included
# (a missing file counts as empty).
differing() {
	local a=$1 b=$2 sa sb n
	[ -e "$a" ] || a=/dev/null
	[ -e "$b" ] || b=/dev/null
	sa=$(stat -Lc %s "$a") sb=$(stat -Lc %s "$b")
	n=$(cmp -l "$a" "$b" 2>/dev/null | wc -l)
	echo $((n + (sa > sb ? sa - sb : sb - sa)))
}

# temps DIR: the temporaries mapcp can leave in DIR (.NAME.mapcp-XXXXXX).
temps() {
	find "$1" -maxdepth 1 -name '.*.mapcp-??????' | wc -l
}

# judge STATUS STDERR DEST OLD NEW...: classify one faulted run. OLD is
# DEST's content before the run ("-" when DEST did not exist), NEW... the
# contents a complete copy may have (usually one). Sets JUDGED to
# complete, clean or bad and LOST to the bytes lost; prints why when bad.
judge() {
	local status=$1 err=$2 dest=$3 old=$4 f lines
	shift 4
	JUDGED=bad LOST=0
	case $status in
	0)
		for f in "$@"; do
			if cmp -s "$dest" "$f"; then
				JUDGED=complete
				return 0
			fi
		done
		LOST=$(differing "$dest" "$1")
		echo "bad: exit 0 but $dest matches no source ($LOST bytes differ)"
		;;
	1)
		lines=$(wc -l <"$err")
		if [ "$old" = - ]; then
			[ -e "$dest" ] && LOST=$(differing "$dest" /dev/null)
		else
			LOST=$(differing "$dest" "$old")
		fi
		if [ "$LOST" -ne 0 ]; then
			echo "bad: exit 1 but $dest changed ($LOST bytes)"
		elif [ "$lines" -lt 1 ] || ! grep -q '^mapcp: ' "$err"; then
			echo "bad: exit 1 without a 'mapcp: ' message"
		elif [ "$(temps "$(dirname "$dest")")" -ne 0 ]; then
			echo "bad: exit 1 left a temporary behind"
		else
			JUDGED=clean
			return 0
		fi
		;;
	*)
		echo "bad: exit status $status"
		;;
	esac
	cat "$err"
	return 1
}

# attempt CMD...: run CMD with its stderr in $ERR ($T/err) and its exit
# status in $status (128 + N for a signal); never fails, so that what it
# did can be judged.
attempt() {
	ERR=$T/err
	status=0
	"$@" 2>"$ERR" || status=$?
}

# counts_reset, then judged ARGS...: judge ARGS (as judge) and add the
# verdict to RUNS COMPLETE CLEAN BAD LOST_SUM, for tally; never fails, a
# bad verdict is printed with WHAT (say which run it was) and counted.
counts_reset() {
	RUNS=0 FAULTS=0 COMPLETE=0 CLEAN=0 BAD=0 LOST_SUM=0
}
judged() {
	RUNS=$((RUNS + 1))
	if ! judge "$@"; then
		echo "  ^ in: ${WHAT:-?}"
	fi
	case $JUDGED in
	complete) COMPLETE=$((COMPLETE + 1)) ;;
	clean) CLEAN=$((CLEAN + 1)) ;;
	*) BAD=$((BAD + 1)) ;;
	esac
	LOST_SUM=$((LOST_SUM + LOST))
}

# expect COMMAND...: what a suite asks of the run judged last beyond what
# judge checks (the message's words, the space given back). If COMMAND
# fails it is printed with WHAT and the run's verdict becomes bad (moved
# from COMPLETE or CLEAN to BAD); never fails.
expect() {
	"$@" && return 0
	echo "bad: expected '$*' in: ${WHAT:-?}"
	if [ -s "${ERR:-}" ]; then sed 's/^/  stderr: /' "$ERR"; fi
	case $JUDGED in
	complete) COMPLETE=$((COMPLETE - 1)) BAD=$((BAD + 1)) ;;
	clean) CLEAN=$((CLEAN - 1)) BAD=$((BAD + 1)) ;;
	esac
	JUDGED=bad
}

# tally_counts NAME: tally NAME with the counts judged kept.
tally_counts() {
	tally "$1" "$RUNS" "$FAULTS" "$COMPLETE" "$CLEAN" "$BAD" "$LOST_SUM"
}

# need_root: skip, saying why, unless root (mounts, loop devices).
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot mount filesystems"
}
