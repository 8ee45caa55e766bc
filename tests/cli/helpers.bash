# Shared by mapcp's bats cases: each runs in its own mktemp -d directory,
# removed afterwards, against the binaries in MAPCP_BIN (default: the
# repository's root) and the test tools in MAPCP_TESTS (default: build/tests).

setup() {
	local root
	root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	MAPCP=${MAPCP_BIN:-$root}/mapcp
	MMAP_CP=${MAPCP_BIN:-$root}/mmap_cp
	# mapcp with the test hooks (MAPCP_FAIL, the engine "fail")
	MAPCP_HOOKS=${MAPCP_TESTS:-$root/build/tests}/mapcp-hooks
	SPARSECMP=${MAPCP_TESTS:-$root/build/tests}/sparsecmp
	T=$(mktemp -d "${TMPDIR:-/tmp}/mapcp-bats-XXXXXX")
	cd "$T" || return 1
}

teardown() {
	cd / && rm -rf "$T"
}

# random_file NAME BYTES: BYTES of random data.
random_file() {
	head -c "$2" /dev/urandom >"$1"
}

# entries: how many names the current directory holds, hidden ones too.
entries() {
	ls -A | wc -l
}

# wait_for FILE TEXT: wait up to 20 s for TEXT to appear in FILE.
wait_for() {
	local i
	for i in $(seq 200); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for '$2' in $1" >&2
	return 1
}

# as_nobody CMD...: run CMD without root's powers, or skip saying why.
as_nobody() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	else
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	fi
}

need_unprivileged() {
	if [ "$(id -u)" -eq 0 ] && ! command -v setpriv >/dev/null; then
		skip "root, and no setpriv to drop privileges with"
	fi
	chmod 755 "$T" # mktemp -d makes it 0700: let nobody in
}

# traced OUT CALLS CMD...: run CMD under strace -f -e trace=CALLS -o OUT, or
# skip saying why. LeakSanitizer cannot run under ptrace, so it is off here.
traced() {
	local out=$1 calls=$2
	shift 2
	command -v strace >/dev/null || skip "strace is not installed"
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -e trace="$calls" -o "$out" "$@"
}
