#!/bin/bash
# The exercise's benchmark_cp.sh, reborn. The original dropped the page
# cache and ran `time` once for mmap_cp and once for cp, so its answer could
# flip between runs. This one builds, makes large-file.txt (1 GiB of random
# data) if it is missing, and lets mapcp-bench race mmap_cp against cp with
# a cold cache: interleaved runs, every copy verified, the cache checked to
# be cold, medians and ratios. Extra arguments go to mapcp-bench, e.g.
#   ./benchmark_cp.sh --runs=11 --cache=both --engines=mmap_cp,auto,rw,cp
set -euo pipefail
cd "$(dirname "$0")"

make --no-print-directory all >/dev/null
[ -f large-file.txt ] || make --no-print-directory large-file
exec ./mapcp-bench --source=large-file.txt --engines=mmap_cp,cp --cache=cold "$@"
