#!/bin/bash
# The tree copier at scale, against GNU cp on the same input, on a fresh
# ext4 in a loop device (so that other files and recently freed inodes do
# not sway the figures): a chain of LEVELS directories, a directory of
# WIDE files, and a tree of LINKS hard links (LINKS / 2 files with two
# names each). Each command runs ROUNDS times, interleaved with the
# others; prints the median wall time, the ratio to cp (median of the
# per-round ratios) and the peak RSS (/usr/bin/time), and whether the
# copy completed. Needs root (mount) and the built ./mapcp and
# build/tests/deeptree.
#
#   scripts/tree-scale.sh [LEVELS=10000] [WIDE=200000] [LINKS=1000000] [ROUNDS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
LEVELS=${1:-10000} WIDE=${2:-200000} LINKS=${3:-1000000} ROUNDS=${4:-5}
MAPCP=$PWD/mapcp DEEPTREE=$PWD/build/tests/deeptree CP=$(command -v cp)
[ "$(id -u)" -eq 0 ] || { echo "tree-scale: needs root (a loop device)" >&2; exit 1; }
[ -x "$MAPCP" ] && [ -x "$DEEPTREE" ] || { echo "tree-scale: run make unit-tests first" >&2; exit 1; }

work=$(mktemp -d /tmp/mapcp-scale-XXXXXX)
img=$work/fs.img
cleanup() {
	cd /
	mountpoint -q "$work/mnt" && umount "$work/mnt"
	rm -rf "$work"
}
trap cleanup EXIT
truncate -s 16G "$img"
mkfs.ext4 -q -N 4000000 -E lazy_itable_init=0,lazy_journal_init=0 "$img"
mkdir "$work/mnt"
mount -o loop "$img" "$work/mnt"
cd "$work/mnt"

echo "making: $LEVELS levels, $WIDE files in one directory, $LINKS hard links" >&2
"$DEEPTREE" make deep "$LEVELS" 100
mkdir wide && (cd wide && seq "$WIDE" | xargs touch)
mkdir -p links/a
(cd links/a && seq $((LINKS / 2)) | sed 's/$/.x/' | xargs touch)
cp -al links/a links/b
sync

# run LABEL OUT CMD...: one timed run; prints "seconds rss_kib status".
run() {
	local out=$2
	shift 2
	rm -rf "$out"
	sync
	/usr/bin/time -f '%e %M %x' -o "$work/time" "$@" >/dev/null 2>"$work/err" || true
	cat "$work/time" | tail -n 1
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

measure() {
	local name=$1 src=$2 opt=$3 i c m
	: >"$work/cp" && : >"$work/mapcp" && : >"$work/ratio"
	for i in $(seq "$ROUNDS"); do
		c=$(run cp out "$CP" $opt "$src" out)
		m=$(run mapcp out "$MAPCP" $opt "$src" out)
		echo "$c" >>"$work/cp"
		echo "$m" >>"$work/mapcp"
		awk -v c="${c%% *}" -v m="${m%% *}" 'BEGIN { print (c > 0 ? m / c : 0) }' >>"$work/ratio"
	done
	printf '| %s | cp %s | %s s | %s MiB | exit %s |\n' "$name" "$opt" \
		"$(cut -d' ' -f1 "$work/cp" | median)" \
		"$(cut -d' ' -f2 "$work/cp" | median | awk '{ printf "%.1f", $1 / 1024 }')" \
		"$(cut -d' ' -f3 "$work/cp" | sort -u | tr '\n' ' ')"
	printf '| %s | mapcp %s | %s s (%.2f of cp) | %s MiB | exit %s |\n' "$name" "$opt" \
		"$(cut -d' ' -f1 "$work/mapcp" | median)" "$(median <"$work/ratio")" \
		"$(cut -d' ' -f2 "$work/mapcp" | median | awk '{ printf "%.1f", $1 / 1024 }')" \
		"$(cut -d' ' -f3 "$work/mapcp" | sort -u | tr '\n' ' ')"
}

echo "| tree | command | median time | peak RSS | status |"
echo "|---|---|---|---|---|"
measure "$LEVELS levels" deep -r
measure "$WIDE files, one directory" wide -r
measure "$LINKS hard links" links -a
# The deep copy is checked whole (cp stops at PATH_MAX, exit 1).
rm -rf out && "$MAPCP" -r deep out && "$DEEPTREE" check out "$LEVELS" 100 &&
	echo "($LEVELS levels: mapcp's copy checked whole)"
rm -rf out && "$MAPCP" -a links out &&
	[ "$(find out -type f -links 2 | wc -l)" -eq "$LINKS" ] &&
	echo "($LINKS hard links: every copied name has its pair)"
