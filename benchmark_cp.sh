#!/bin/bash
# The exercise's benchmark_cp.sh, reborn. The original dropped the page
# cache and ran `time` once for mmap_cp and once for cp, so its answer could
# flip between runs. This one builds, makes large-file.txt (1 GiB of random
# data) if it is missing, and lets mapcp-bench race mmap_cp against cp with
# a cold cache: interleaved runs, every copy verified, the cache checked to
# be cold, medians and ratios, and a verdict last. 11 runs: here a cold
# 1 GiB run varies 2 to 7 times (the host takes back free memory), and in
# seven races of 7 or 11 runs mmap_cp was 0.83 to 1.00 of cp, 10% ahead in
# at most 7 rounds of 11: "nothing beat cp by 10% in enough rounds" each
# time. About 20 s here. Extra arguments go to mapcp-bench, e.g.
#   ./benchmark_cp.sh --runs=21 --cache=both --engines=mmap_cp,auto,rw,cp
set -euo pipefail
cd "$(dirname "$0")"

make --no-print-directory all >/dev/null
[ -f large-file.txt ] || make --no-print-directory large-file
exec ./mapcp-bench --source=large-file.txt --engines=mmap_cp,cp --cache=cold \
	--runs=11 "$@"
