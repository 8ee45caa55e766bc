#!/usr/bin/env bats
# mapcp-bench end to end, at tiny sizes: every cell in every output format,
# a baseline that writes wrong bytes, a cold run that cannot be cold, the
# workloads' edges, and the report: tables within 80 columns, warnings, a
# verdict whose every figure is the table's, the charts.

load helpers

bench() {
	"${MAPCP_BIN:-$BATS_TEST_DIRNAME/../..}/mapcp-bench" --dir="$T/data" -q "$@"
}

# The tree test may mount an ext4 of its own.
teardown() {
	[ -z "${FS_ROOT:-}" ] || remove_filesystems ext4
	cd / && rm -rf "$T"
}

# fake NAME SECONDS: a copier $T/bin/NAME that takes SECONDS, then copies
# with GNU cp: commands whose times and ratios are known. With SECONDS
# "flip", 0.02 and 0.12 in turns.
fake() {
	mkdir -p "$T/bin"
	if [ "$2" = flip ]; then
		cat >"$T/bin/$1" <<-EOF
		#!/bin/sh
		n=\$(cat "$T/bin/$1.n" 2>/dev/null || echo 0)
		echo \$((n + 1)) >"$T/bin/$1.n"
		if [ \$((n % 2)) -eq 0 ]; then sleep 0.02; else sleep 0.12; fi
		exec /bin/cp "\$@"
		EOF
	else
		printf '#!/bin/sh\nsleep %s\nexec /bin/cp "$@"\n' "$2" >"$T/bin/$1"
	fi
	chmod +x "$T/bin/$1"
}

# joined: $output with the wrapped lines of warnings and verdicts (those
# that go on indented by 4) joined again, one paragraph a line.
joined() {
	printf '%s\n' "$output" | awk '
		/^    [^ ]/ && NR > 1 { sub(/^ +/, " "); prev = prev $0; next }
		NR > 1 { print prev }
		{ prev = $0 }
		END { print prev }'
}

# check_verdict LABEL HEADING: every figure the verdict gives for LABEL
# ("warm 16 MiB") is the table's under HEADING ("16 MiB, warm cache"), and
# its rounds are r.json's; prints the verdict and how many figures agreed.
check_verdict() {
	printf '%s\n' "$output" >out.txt
	perl - "$1" "$2" out.txt r.json <<-'EOF'
	use strict; use warnings; use JSON::PP;
	my ($label, $heading, $file, $json) = @ARGV;
	open my $f, '<', $file or die "$file: $!";
	my (%row, $in, $verdict, $v);
	while (<$f>) {
		chomp;
		if ($_ eq $heading) { $in = 1; next }
		$in = 0 if /^$/;
		$row{$1} = { median => "$2 $3", ratio => $4, usr => $5,
			     sys => $6, faults => $7, major => $8 }
		    if $in && /^  (\S+) +([\d.]+) (ms|s) +([\d.]+) +[\d.]+x +[\d.]+ +([\d.]+) +([\d.]+) +(\d+) +(\d+)$/;
		if (/^  \Q$label\E[ :]/) { $v = 1; $verdict = $_; next }
		if ($v && /^    (.*)/) { $verdict .= " $1"; next }
		$v = 0;
	}
	die "no rows under '$heading'\n" unless %row;
	die "no verdict for '$label'\n" unless defined $verdict;
	print "$verdict\n";
	my $n = 0;
	my @w = split ' ', $verdict;
	for my $i (1 .. $#w) {
		next unless $w[$i] =~ /^([\d.]+)x$/;
		my ($name) = grep { exists $row{$_} }
		    map { (my $x = $w[$i - $_]) =~ s/,$//; $x } 1 .. 3;
		die "no command before $w[$i]\n" unless defined $name;
		die "$name: the verdict says $1, the table $row{$name}{ratio}\n"
		    unless $row{$name}{ratio} eq $1;
		$n++;
	}
	my $res = decode_json(do { local $/; open my $j, '<', $json or die; <$j> });
	# the rounds: those where the winner took less than 1/1.1 of cp's time
	my %samples = map { $_->{command} => $_->{samples} } @{$res->{results}};
	if ($verdict =~ /(\S+) won, [\d.]+x cp \(([\d.]+ m?s) to ([\d.]+ m?s); 10% ahead in (\d+) of (\d+) rounds/) {
		die "winner's median\n" unless $row{$1}{median} eq $2;
		die "cp's median\n" unless $row{cp}{median} eq $3;
		my ($w, $cp) = ($samples{$1}, $samples{cp});
		my @both = grep { $w->[$_]{ok} && $cp->[$_]{ok} } 0 .. $#$w;
		my $ahead = grep { $w->[$_]{wall_s} / $cp->[$_]{wall_s} < 1 / 1.1 } @both;
		die "rounds: $ahead of " . @both . "\n" unless $ahead == $4 && @both == $5;
		$n += 3;
	}
	my $what = qr/page faults|major faults|of CPU time|of system time|of user time/;
	my %col = ('page faults' => 'faults', 'major faults' => 'major',
		   'of system time' => 'sys', 'of user time' => 'usr');
	my $value = sub {
		my ($name, $w) = @_;
		return $row{$name}{usr} + $row{$name}{sys} if $w eq 'of CPU time';
		return $row{$name}{$col{$w}};
	};
	my $same = sub {
		my ($name, $w, $q) = @_;
		$q =~ s/,//g;
		die "$name $w: the verdict says $q, the table " . $value->($name, $w) . "\n"
		    unless abs($q - $value->($name, $w)) <= 0.11;
		$n++;
	};
	while ($verdict =~ /(\S+) took ([\d,.]+)(?: ms)? ($what) to (\S+)'s ([\d,.]+)(?: ms)?(?:, and ([\d,.]+)(?: ms)? ($what) to ([\d,.]+))?/g) {
		my ($slow, $q1, $w1, $fast, $f1, $q2, $w2, $f2) = ($1, $2, $3, $4, $5, $6, $7, $8);
		$same->($slow, $w1, $q1);
		$same->($fast, $w1, $f1);
		if (defined $q2) { $same->($slow, $w2, $q2); $same->($fast, $w2, $f2) }
	}
	print "$n figures agree\n";
	die "nothing to check\n" unless $n > 0;
	EOF
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

@test "the tree workload's defaults on ext4: every engine that works, cp, rsync and uutils where installed, none failing" {
	dir=$T
	if [ "$(stat -f -c %T "$T")" != ext2/ext3 ]; then
		make_filesystems ext4
		[ ! -f "$FS_ROOT/ext4.skip" ] || skip "$(cat "$FS_ROOT/ext4.skip")"
		dir=$FS_ROOT/ext4
	fi
	mkdir -p "$dir/tree/a/b"
	for i in $(seq 20); do random_file "$dir/tree/a/f$i" $((i * 300)); done
	random_file "$dir/tree/a/b/deep" 5000
	ln -s f1 "$dir/tree/a/link"
	run "${MAPCP_BIN:-$BATS_TEST_DIRNAME/../..}/mapcp-bench" --dir="$dir/data" \
		--workload=tree --tree="$dir/tree" --runs=1 --warmup=0 \
		--cache=warm --csv r.csv --json r.json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *FAILED* ]]
	for e in cp auto copy_file_range rw sendfile splice mmap-write mmap io_uring; do
		grep -q "^tree,[0-9]*,warm,\"$e\",1,0," r.csv
	done
	# ext4 cannot share blocks: reflink is left out, saying why
	! grep -q ',"reflink",' r.csv
	[[ "$output" == *"leaving out reflink, which does not work here: "*"Operation not supported"* ]]
	if command -v rsync >/dev/null; then
		grep -q '^tree,[0-9]*,warm,"rsync",1,0,' r.csv
	fi
	if [ -x /usr/bin/coreutils ]; then
		grep -q '^tree,[0-9]*,warm,"uutils",1,0,' r.csv
	fi
	# the heading says what the tree holds: 21 files in 2 directories
	bytes=$(find "$dir/tree" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
	[[ "$output" == *"tree of 21 files in 2 directories, "*", warm cache"* ]]
	[ "$(jq '.tree.files' r.json)" -eq 21 ]
	[ "$(jq '.tree.directories' r.json)" -eq 2 ]
	[ "$(jq '.results[0].size' r.json)" -eq "$bytes" ]
	[[ "$output" == *"  warm tree: "* ]]
	[ -z "$(printf '%s\n' "$output" | grep -v '^mapcp-bench: ' | awk 'length > 80')" ]
}

@test "--plot draws throughput and the ratio to cp, SVG and PNG" {
	command -v gnuplot >/dev/null || skip "gnuplot is not installed"
	run bench --sizes=4K,8K --runs=1 --warmup=0 --engines=rw,mmap,cp \
		--plot r.svg
	[ "$status" -eq 0 ]
	grep -q '<svg' r.svg
	grep -q 'cold cache' r.svg
	# beside it, the ratio: linear, a bar per engine, no bar for cp
	grep -q '<svg' r-ratio.svg
	grep -q 'time relative to cp' r-ratio.svg
	grep -q 'warm cache' r-ratio.svg
	grep -q '>mmap<' r-ratio.svg
	! grep -q '>cp<' r-ratio.svg
	! grep -q -i 'logscale' r-ratio.svg
	run bench --sizes=4K --runs=1 --warmup=0 --engines=rw,cp --cache=warm \
		--plot r.png
	[ "$status" -eq 0 ]
	[ "$(head -c 4 r.png | od -An -c | tr -d ' ')" = '211PNG' ]
	[ "$(head -c 4 r-ratio.png | od -An -c | tr -d ' ')" = '211PNG' ]
	# no file name extension: the ratio chart is still beside it
	run bench --sizes=4K --runs=1 --warmup=0 --engines=rw,cp --cache=warm \
		--plot "$T/chart"
	[ -f "$T/chart-ratio" ]
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

@test "the tables fit 80 columns; --wide shows every column" {
	run bench --sizes=4K,64K --runs=2 --warmup=0 --engines=cp,rw,mmap \
		--cmd 'a-copier-with-a-long-name=cp {src} {dst}' \
		--cmd 'bad=head -c 100 /dev/zero >{dst}' --json r.json
	[ "$status" -eq 1 ]
	[ -z "$(printf '%s\n' "$output" | awk 'length > 80')" ]
	header=$(grep -m1 '^  command ' <<<"$output")
	for col in median 'vs cp' spread MB/s 'usr ms' 'sys ms' faults major; do
		[[ "$header" == *"$col"* ]]
	done
	# a name too long is cut; a failure is a note under its group
	grep -q '^  a-copier-with-a ' <<<"$output"
	[[ "$output" == *"note: bad: 2/2 FAILED: the copy differs from the source (xxh3-128)"* ]]
	run bench --sizes=4K,64K --runs=2 --warmup=0 --engines=cp,rw,mmap \
		--cmd 'a-copier-with-a-long-name=cp {src} {dst}' \
		--cmd 'bad=head -c 100 /dev/zero >{dst}' --wide --json r.json
	[ "$status" -eq 1 ]
	[ -n "$(printf '%s\n' "$output" | awk 'length > 80')" ]
	header=$(grep -m1 '^  command ' <<<"$output")
	for col in median min 'mean +- sd' 'vs cp' range spread MB/s 'usr ms' \
		'sys ms' minflt majflt 'read MB' maxrss cached notes; do
		[[ "$header" == *"$col"* ]]
	done
	grep -q '^  a-copier-with-a-long-name ' <<<"$output"
	grep -q '^  bad .*2/2 FAILED' <<<"$output"
	# user and sys in milliseconds: the JSON's seconds, times 1000
	usr=$(awk '/^64 KiB, warm cache/ { on = 1 } on && $1 == "rw" { print $14; exit }' <<<"$output")
	sys=$(awk '/^64 KiB, warm cache/ { on = 1 } on && $1 == "rw" { print $15; exit }' <<<"$output")
	jq -e --arg u "$usr" --arg s "$sys" '.results[] |
		select(.size == 65536 and .cache == "warm" and .command == "rw") |
		((.user_s * 1000 - ($u | tonumber)) | fabs) <= 0.05 and
		((.sys_s * 1000 - ($s | tonumber)) | fabs) <= 0.05' r.json
}

@test "the verdict: who won, by how much and why, every figure the table's" {
	run bench --sizes=16M --cache=warm --runs=5 --engines=cp,rw,mmap \
		--json r.json
	[ "$status" -eq 0 ]
	[[ "$output" == *"verdict ("* ]]
	# the verdict comes last, one paragraph for the one group
	[[ "$(printf '%s\n' "$output" | grep -n '^verdict' | cut -d: -f1)" -gt \
		"$(printf '%s\n' "$output" | grep -n '^  mmap ' | cut -d: -f1)" ]]
	check_verdict "warm 16 MiB" "16 MiB, warm cache"
	# mmap against read/write, the exercise's question, is always answered
	grep -q '^  warm 16 MiB: .*\. mmap [0-9.]*x cp, rw [0-9.]*x' <<<"$(joined)"
	# a copier that faults on every page of a 16 MiB buffer loses, and why
	run bench --sizes=16M --cache=warm --runs=5 --engines=cp \
		--cmd 'dd=dd if={src} of={dst} bs=16M status=none' --json r.json
	[ "$status" -eq 0 ]
	check_verdict "warm 16 MiB" "16 MiB, warm cache"
	[[ "$(joined)" == *"cp won: dd was "*"x cp (10% behind in 5 of 5 rounds): dd took "*" page faults to cp's "* ]]
}

@test "warnings: too few runs, a busy machine, ratios whose rounds disagree" {
	fake cp 0.05
	fake slow 0.1
	fake flip flip
	echo '0.10 0.10 0.10 1/100 1' >load
	export MAPCP_BENCH_LOADAVG=$T/load
	PATH=$T/bin:$PATH run bench --sizes=4K --cache=warm --runs=3 \
		--engines=cp --cmd "slow=$T/bin/slow {src} {dst}"
	[ "$status" -eq 0 ]
	[[ "$(joined)" == *"- only 3 runs per command: with fewer than 5 rounds no win can be told from chance"* ]]
	[[ "$output" != *"machine was busy"* ]]
	# 5 runs, each command as fast in every round: nothing to warn of
	PATH=$T/bin:$PATH run bench --sizes=4K --cache=warm --runs=5 \
		--engines=cp --cmd "slow=$T/bin/slow {src} {dst}"
	[ "$status" -eq 0 ]
	[[ "$output" != *warnings:* ]]
	[[ "$(joined)" == *"  warm 4 KiB: cp won: slow was "*"x cp (10% behind in 5 of 5 rounds)"* ]]
	# busy: the load average above the CPUs
	echo "$(($(nproc) + 1)).50 1.00 1.00 1/100 1" >load
	PATH=$T/bin:$PATH run bench --sizes=4K --cache=warm --runs=5 \
		--engines=cp --cmd "slow=$T/bin/slow {src} {dst}"
	[[ "$(joined)" == *"- the machine was busy: the load average reached $(($(nproc) + 1)).50 on $(nproc) CPUs during the runs"* ]]
	# faster in some rounds, slower in others: the ratio means little
	echo '0.10 0.10 0.10 1/100 1' >load
	PATH=$T/bin:$PATH run bench --sizes=4K --cache=warm --runs=5 \
		--engines=cp --cmd "flip=$T/bin/flip {src} {dst}"
	[ "$status" -eq 0 ]
	[[ "$(joined)" == *"- warm 4 KiB: the run-by-run ratios of flip "*" spread too wide"* ]]
	[[ "$(joined)" == *"  warm 4 KiB: nothing beat cp by 10% in enough rounds: flip was "*"x cp (10% ahead in 2, behind in 3 of 5)"* ]]
}

@test "a small cold copy mostly times program loading, and says so" {
	[ "$(id -u)" -eq 0 ] || skip "not root: the programs stay cached"
	run bench --sizes=4K,16M --cache=cold --runs=5 --engines=cp,rw
	[ "$status" -eq 0 ]
	[[ "$(joined)" == *"- cold 4 KiB mostly times program loading: the commands read "*" MB from disk (median) for 4 KiB of data"* ]]
	[[ "$output" == *"  cold 4 KiB (mostly program loading): "* ]]
	[[ "$(joined)" != *"cold 16 MiB mostly times program loading"* ]]
	[[ "$output" == *"  cold 16 MiB: "* ]]
}
