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

# Filesystems for the tests that need real ones (filesystems.bats,
# oracle.bats), each made fresh in a loop device (tmpfs: mounted) by root.
# make_fs NAME: make and mount the filesystem NAME under $FS_ROOT/NAME, or
# write why not to $FS_ROOT/NAME.skip.
make_fs() {
	local name=$1 dir=$FS_ROOT/$1 img=$FS_ROOT/$1.img out
	mkdir -p "$dir"
	case $name in
	tmpfs)
		out=$(mount -t tmpfs -o size=1G tmpfs "$dir" 2>&1) && return 0
		;;
	*)
		local mkfs="mkfs.$name"
		command -v "$mkfs" >/dev/null || {
			echo "$mkfs is not installed" >"$FS_ROOT/$name.skip"
			return 0
		}
		truncate -s 600M "$img"
		case $name in
		xfs) out=$(mkfs.xfs -q -m reflink=1 "$img" 2>&1) ;;
		btrfs) out=$(mkfs.btrfs -q -f "$img" 2>&1) ;;
		ext4) out=$(mkfs.ext4 -q -F -b 4096 "$img" 2>&1) ;;
		esac || {
			echo "$mkfs failed: $out" >"$FS_ROOT/$name.skip"
			return 0
		}
		# read ahead as a disk does (virtio: 8 MiB), not a loop's 128 KiB
		if out=$(mount -o loop "$img" "$dir" 2>&1); then
			blockdev --setra 16384 "$(findmnt -no SOURCE "$dir")" || true
			return 0
		fi
		;;
	esac
	echo "cannot mount $name: ${out:-unknown error}" >"$FS_ROOT/$name.skip"
}

# make_filesystems NAME...: a fresh FS_ROOT (exported) holding each NAME
# made by make_fs, or NAME.skip saying why not (not root, say).
make_filesystems() {
	local fs
	FS_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/mapcp-fs-XXXXXX")
	export FS_ROOT
	for fs in "$@"; do
		if [ "$(id -u)" -ne 0 ]; then
			echo "not root: cannot mount filesystems" >"$FS_ROOT/$fs.skip"
		else
			make_fs "$fs"
		fi
	done
}

# remove_filesystems NAME...: unmount what make_filesystems made, remove FS_ROOT.
remove_filesystems() {
	local fs
	for fs in "$@"; do
		mountpoint -q "$FS_ROOT/$fs" && umount "$FS_ROOT/$fs"
	done
	rm -rf "$FS_ROOT"
}
