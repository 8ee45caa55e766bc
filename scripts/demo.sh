#!/bin/bash
# make demo: make a test file, copy it with mmap_cp and with mapcp, check
# the copies, then race them against GNU cp with mapcp-bench (256 MiB, warm
# and cold, 3 runs each), and say how to go on. About a minute here.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=demo-data
size_mib=${DEMO_MIB:-256}
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
rm -f "$dir/copy-mmap_cp" "$dir/copy-mapcp"

echo "== mmap_cp and mapcp against GNU cp (mapcp-bench, 3 runs, warm and cold)"
./mapcp-bench --source="$src" --engines=mmap_cp,auto,cp --runs=3 \
	--dir="$dir" --quiet

cat <<'USAGE'

== your turn
   ./mapcp BIG.iso /backup/BIG.iso          copy, atomically replacing DEST
   ./mapcp --debug -e mmap a b              which engine ran, and why
   ./mapcp --show-maps --window=64M a b     watch the mmap windows move
   ./mmap_cp a b                            the exercise's interface
   ./mapcp-bench                            every engine, 4K to 1G, vs cp
   ./benchmark_cp.sh                        the exercise's race, done right
   ./mapcp --help; man -l man/mapcp.1       everything else
USAGE
