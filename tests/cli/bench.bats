#!/usr/bin/env bats
# mapcp-bench end to end, at tiny sizes: every cell in every output format,
# a baseline that writes wrong bytes, a cold run that cannot be cold, and
# the workloads' edges.

load helpers

bench() {
	"${MAPCP_BIN:-$BATS_TEST_DIRNAME/../..}/mapcp-bench" --dir="$T/data" -q "$@"
}

@test "CSV, JSON and Markdown hold every command x size x cache cell" {
	run bench --sizes=4K,64K --runs=2 --warmup=0 --engines=rw,mmap,cp \
		--cmd 'dd=dd if={src} of={dst} bs=64K status=none' \
		--csv r.csv --json r.json --markdown r.md
	[ "$status" -eq 0 ]
	# 4 commands x 2 sizes x 2 cache states, plus the header.
	[ "$(wc -l <r.csv)" -eq 17 ]
	head -n 1 r.csv | grep -q '^workload,size,cache,command,runs_ok,'
	fields=$(head -n 1 r.csv | tr ',' '\n' | wc -l)
	awk -F, -v n="$fields" 'NR > 1 && NF != n { exit 1 }' r.csv
	for size in 4096 65536; do
		for cache in cold warm; do
			for cmd in rw mmap cp dd; do
				grep -q "^copy,$size,$cache,\"$cmd\",2,0," r.csv
				[ "$(jq "[.results[] | select(.size == $size and .cache == \"$cache\" and .command == \"$cmd\")] | length" r.json)" -eq 1 ]
			done
		done
	done
	[ "$(jq '.results | length' r.json)" -eq 16 ]
	[ "$(jq '[.results[].samples | length] | unique' r.json)" = "$(printf '[\n  2\n]')" ]
	[ "$(jq '[.results[] | select(.command == "cp")][0].ratio_to_baseline' r.json)" = 1 ]
	jq -e '.machine.kernel | startswith("Linux")' r.json
	[ "$(grep -c '^| rw |' r.md)" -eq 4 ]
	# The table on stdout has every group.
	[ "$(grep -c 'cache$' <<<"$output")" -eq 4 ]
}

@test "a command that writes wrong bytes is a verification error, never averaged" {
	run bench --sizes=64K --runs=2 --warmup=0 --engines=cp --cache=warm \
		--cmd 'bad=head -c 100 /dev/zero >{dst}' --json r.json
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad "*"2/2 FAILED: the copy differs from the source (xxh3-128)"* ]]
	[ "$(jq '.results[] | select(.command == "bad") | .runs_ok' r.json)" -eq 0 ]
	[ "$(jq '.results[] | select(.command == "bad") | .median_s' r.json)" = null ]
	[ "$(jq '.results[] | select(.command == "cp") | .runs_ok' r.json)" -eq 2 ]
}

@test "a command that fails says how" {
	run bench --sizes=4K --runs=1 --warmup=0 --engines=cp --cache=warm \
		--cmd 'false=false'
	[ "$status" -eq 1 ]
	[[ "$output" == *"1/1 FAILED: exit status 1"* ]]
}

@test "a cold run whose source cannot be evicted is flagged" {
	mkdir -p data
	head -c 1M /dev/urandom >data/src-1048576.bin
	"${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/pin" data/src-1048576.bin >pinned &
	pid=$!
	wait_for pinned pinned
	run bench --sizes=1M --runs=2 --warmup=0 --engines=cp,rw --cache=cold \
		--json r.json
	kill "$pid"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 NOT COLD (source cached)"* ]]
	[ "$(jq '[.results[].not_cold] | min' r.json)" -eq 2 ]
	[ "$(jq '[.results[].samples[].resident_before] | min' r.json)" = 1 ]
}

@test "warm runs report the source resident, cold ones evicted" {
	run bench --sizes=1M --runs=2 --warmup=0 --engines=rw --json r.json
	[ "$status" -eq 0 ]
	[ "$(jq '.results[] | select(.cache == "warm") | .not_warm' r.json)" -eq 0 ]
	[ "$(jq '.results[] | select(.cache == "cold") | .not_cold' r.json)" -eq 0 ]
	[ "$(jq '[.results[] | select(.cache == "warm") | .samples[].resident_before] | min' r.json)" = 1 ]
}

@test "random-read: mmap and pread read the same blocks, reads/s reported" {
	run bench --workload=random-read --sizes=1M --runs=2 --warmup=0 \
		--reads=300 --csv r.csv
	[ "$status" -eq 0 ]
	[ "$(grep -c '^random-read,1048576,' r.csv)" -eq 4 ]
	# reads_per_s is filled for every cell.
	awk -F, 'NR > 1 && $14 == "" { exit 1 }' r.csv
	[[ "$output" == *"pread "*"1.00"* ]]
}

@test "tree: mapcp -r, each engine and cp -r copy the same tree, verified" {
	mkdir -p tree/a/b tree/c
	for i in $(seq 30); do random_file "tree/a/f$i" $((i * 100)); done
	random_file tree/a/b/deep 70000
	: >tree/c/empty
	ln -s ../a/f1 tree/c/link
	m="${MAPCP_BIN:-$BATS_TEST_DIRNAME/../..}/mapcp"
	run bench --workload=tree --tree="$T/tree" --runs=2 --warmup=0 \
		--cache=warm --engines=cp,auto,rw,mmap \
		--cmd "j1=$m -r -j1 {src} {dst}" --csv r.csv
	echo "$output"
	[ "$status" -eq 0 ]
	for cmd in cp auto rw mmap j1; do
		grep -q "^tree,[0-9]*,warm,\"$cmd\",2,0," r.csv
	done
	# The size column is the tree's bytes.
	grep -q "^tree,$(find tree -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')," r.csv
}

@test "the tree workload: a mapcp that copies nothing is left out, and says why" {
	printf '#!/bin/sh\necho "Usage: old-mapcp SOURCE DEST"\n' >old-mapcp
	chmod +x old-mapcp
	run "${MAPCP_BIN:-$BATS_TEST_DIRNAME/../..}/mapcp-bench" --dir="$T/data" \
		--workload=tree --runs=1 --mapcp="$T/old-mapcp" --csv r.csv
	echo "$output"
	[[ "$output" == *"leaving out auto, which does not work here"* ]]
	! grep -q ',"auto",' r.csv
	# cp itself, run alongside, is measured as usual
	grep -q '^tree,[0-9]*,[a-z]*,"cp",1,0,' r.csv
	[[ "$output" != *FAILED* ]]
	# an engine asked for by name is measured, and its failures shown
	run bench --workload=tree --runs=1 --cache=warm --engines=cp,auto \
		--mapcp="$T/old-mapcp"
	[ "$status" -eq 1 ]
	[[ "$output" == *"auto"*"1/1 FAILED: no copy: No such file or directory"* ]]
}

@test "the tree workload's defaults here: every engine that works, cp, rsync and uutils where installed, none failing" {
	mkdir -p tree/a
	for i in $(seq 20); do random_file "tree/a/f$i" $((i * 300)); done
	run "${MAPCP_BIN:-$BATS_TEST_DIRNAME/../..}/mapcp-bench" --dir="$T/data" \
		--workload=tree --tree="$T/tree" --runs=1 --warmup=0 \
		--cache=warm --csv r.csv
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *FAILED* ]]
	for e in cp auto copy_file_range rw mmap; do
		grep -q "^tree,[0-9]*,warm,\"$e\",1,0," r.csv
	done
	# reflink where blocks can be shared; elsewhere left out, saying why
	if ! grep -q ',"reflink",' r.csv; then
		[[ "$output" == *"leaving out reflink, which does not work here"* ]]
	fi
	if command -v rsync >/dev/null; then
		grep -q '^tree,[0-9]*,warm,"rsync",1,0,' r.csv
	fi
	if [ -x /usr/bin/coreutils ]; then
		grep -q '^tree,[0-9]*,warm,"uutils",1,0,' r.csv
	fi
}

@test "--plot draws an SVG and a PNG" {
	command -v gnuplot >/dev/null || skip "gnuplot is not installed"
	run bench --sizes=4K,8K --runs=1 --warmup=0 --engines=rw,cp --plot r.svg
	[ "$status" -eq 0 ]
	grep -q '<svg' r.svg
	grep -q 'cold cache' r.svg
	run bench --sizes=4K --runs=1 --warmup=0 --engines=rw,cp --cache=warm \
		--plot r.png
	[ "$status" -eq 0 ]
	[ "$(head -c 4 r.png | od -An -c | tr -d ' ')" = '211PNG' ]
}

@test "usage errors" {
	run bench --workload=frob
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp-bench: unknown workload 'frob' (copy, tree, random-read)" ]
	run bench --engines=warp --sizes=4K
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp-bench: unknown engine 'warp' (a mapcp engine, auto, mmap_cp, cp, rsync or uutils)" ]
	run bench --sizes=12Q
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp-bench: bad size '12Q'" ]
	run bench --runs=0
	[ "$status" -eq 1 ]
	run bench --cache=tepid
	[ "$status" -eq 1 ]
	run bench --cmd=noequals
	[ "$status" -eq 1 ]
	run "${MAPCP_BIN:-$BATS_TEST_DIRNAME/../..}/mapcp-bench" --help
	[ "$status" -eq 0 ]
	[ -z "$(printf '%s\n' "$output" | awk 'length > 80')" ]
}

@test "the default engines are those that work here, with cp" {
	run "${MAPCP_BIN:-$BATS_TEST_DIRNAME/../..}/mapcp-bench" --dir="$T/data" \
		--sizes=4K --runs=1 --warmup=0 --cache=warm --csv r.csv
	[ "$status" -eq 0 ]
	for e in cp auto copy_file_range rw sendfile splice mmap-write mmap io_uring; do
		grep -q ",\"$e\"," r.csv
	done
	# reflink works only where blocks can be shared, and says so if not.
	if ! grep -q ',"reflink",' r.csv; then
		[[ "$output" == *"leaving out reflink, which does not work here"* ]]
	fi
	# the copiers users would pick instead, where installed
	if command -v rsync >/dev/null; then grep -q ',"rsync",' r.csv; fi
	if [ -x /usr/bin/coreutils ]; then grep -q ',"uutils",' r.csv; fi
}
