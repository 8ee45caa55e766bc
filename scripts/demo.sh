#!/bin/bash
# make demo: make a test file, copy it with mmap_cp and with mapcp, check
# the copies, then time them against GNU cp side by side, warm cache,
# interleaved runs, and print how to go on. Takes about a minute at most.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=demo-data
size_mib=${DEMO_MIB:-256}
runs=${DEMO_RUNS:-5}
src=$dir/demo-${size_mib}M.bin
mkdir -p "$dir"

if [ ! -f "$src" ] || [ "$(stat -c %s "$src")" -ne $((size_mib << 20)) ]; then
	echo "== making $src ($size_mib MiB of random bytes)"
	head -c "$((size_mib << 20))" /dev/urandom >"$src"
fi

echo "== copying it with mmap_cp and with mapcp"
rm -f "$dir/copy-mmap_cp" "$dir/copy-mapcp"
./mmap_cp "$src" "$dir/copy-mmap_cp"
./mapcp --debug "$src" "$dir/copy-mapcp"
cmp "$src" "$dir/copy-mmap_cp"
cmp "$src" "$dir/copy-mapcp"
echo "   both copies are byte-identical to the source"

echo "== timing against GNU cp: $runs interleaved runs each, warm page cache"
names=("cp" "mmap_cp" "mapcp (auto)" "mapcp -e rw" "mapcp -e mmap-write")
cmds=("cp" "./mmap_cp" "./mapcp" "./mapcp -e rw" "./mapcp -e mmap-write")
declare -a times
cat "$src" >/dev/null # warm
for ((r = 0; r < runs; r++)); do
	for i in "${!cmds[@]}"; do
		rm -f "$dir/out"
		sync
		t0=$(date +%s%N)
		${cmds[$i]} "$src" "$dir/out"
		t1=$(date +%s%N)
		times[$i]+="$(((t1 - t0) / 1000)) "
	done
done
rm -f "$dir/out"

median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
base=$(median <<<"${times[0]}")
printf '   %-22s %12s %10s %12s\n' command "median ms" "vs cp" "MB/s"
for i in "${!cmds[@]}"; do
	m=$(median <<<"${times[$i]}")
	awk -v n="${names[$i]}" -v m="$m" -v b="$base" -v s="$size_mib" \
		'BEGIN { printf "   %-22s %12.1f %9.2fx %12.0f\n", n, m / 1000, m / b, s * 1.048576 / (m / 1e6) }'
done
echo "   (ratios below 1 are faster than cp; one machine, $runs runs: a"
echo "    first look, not a benchmark)"

cat <<'USAGE'

== your turn
   ./mapcp BIG.iso /backup/BIG.iso          copy, atomically replacing DEST
   ./mapcp --debug -e mmap a b              which engine ran, and why
   ./mapcp --show-maps --window=64M a b     watch the mmap windows move
   ./mmap_cp a b                            the exercise's interface
   ./mapcp --help                           everything else; man man/mapcp.1
USAGE
