#!/usr/bin/env bats
# make install and make uninstall under DESTDIR and PREFIX, and the bash
# completion they install, driven as bash-completion drives it.

load helpers

setup_file() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
}

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# install into $T/stage/opt/m from the binaries under test, without
# rebuilding them ("all" is taken as up to date).
stage() {
	make -s -C "$ROOT" -o all B="$(dirname "$MAPCP")" DESTDIR="$T/stage" \
		PREFIX=/opt/m "$@"
}

@test "make install puts binaries, man pages and completion under DESTDIR/PREFIX; uninstall takes them away" {
	run stage install
	echo "$output"
	[ "$status" -eq 0 ]
	p=$T/stage/opt/m
	[ -x "$p/bin/mapcp" ] && [ -x "$p/bin/mapcp-bench" ]
	[ "$(readlink "$p/bin/mmap_cp")" = mapcp ]
	[ -f "$p/share/man/man1/mapcp.1" ] && [ -f "$p/share/man/man1/mapcp-bench.1" ]
	[ -e "$p/share/man/man1/mmap_cp.1" ]
	[ -f "$p/share/bash-completion/completions/mapcp" ]
	[ -e "$p/share/bash-completion/completions/mmap_cp" ]
	[ -e "$p/share/bash-completion/completions/mapcp-bench" ]
	# The installed programs work, under both names.
	echo hello >a
	"$p/bin/mapcp" a b
	"$p/bin/mmap_cp" a c
	cmp a b && cmp a c
	man -l "$p/share/man/man1/mapcp.1" 2>/dev/null | grep -q -- --verify
	run stage uninstall
	[ "$status" -eq 0 ]
	[ -z "$(find "$T/stage" ! -type d)" ]
}

# complete WORD...: what the installed completion offers for the last word.
complete_words() {
	bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$0"
		PATH=$1:$PATH
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_LINE=${COMP_LINE// = /=}
		COMP_POINT=${#COMP_LINE}
		f=_mapcp
		[ "$1" = mapcp-bench ] && f=_mapcp_bench
		"$f" "$1" "${@: -1}" "${@: -2:1}" 2>/dev/null
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
	' "$T/stage/opt/m/share/bash-completion/completions/mapcp" \
		"$T/stage/opt/m/bin" "$@"
}

@test "bash completion: options, engines, --preserve lists, bench workloads" {
	[ -f /usr/share/bash-completion/bash_completion ] ||
		skip "bash-completion is not installed"
	stage install
	[ "$(complete_words mapcp --spa)" = "--sparse= " ]
	[ "$(complete_words mapcp -e mm)" = "mmap mmap-write " ]
	[ "$(complete_words mapcp --engine = copy)" = "copy_file_range " ]
	[ "$(complete_words mapcp --engine = rw,io)" = "rw,io_uring " ]
	[ "$(complete_words mapcp --preserve = mode,ti)" = "mode,timestamps " ]
	[ "$(complete_words mapcp --progress = al)" = "always " ]
	[ "$(complete_words mapcp --ver)" = "--verbose --verify --version " ]
	[ "$(complete_words mapcp-bench --workload = t)" = "tree " ]
}

@test "make install makes no cp; install-cp-link makes one where asked, and mapcp speaks as cp there" {
	run stage install
	[ "$status" -eq 0 ]
	[[ "$output" == *"make install-cp-link CPLINK="* ]]
	[ -z "$(find "$T/stage" -name cp)" ]
	run stage install-cp-link
	[ "$status" -ne 0 ] && [[ "$output" == *"usage: make install-cp-link"* ]]
	run stage install-cp-link CPLINK=/usr/bin/cp
	[ "$status" -ne 0 ] && [[ "$output" == *"refusing to replace"* ]] && [ "$(readlink -f /usr/bin/cp)" != "$(readlink -f "$MAPCP")" ]
	make -s -C "$ROOT" -o all install-cp-link CPLINK="$T/bin/cp" \
		BINDIR="$(dirname "$MAPCP")"
	[ "$(readlink "$T/bin/cp")" = "$(dirname "$MAPCP")/mapcp" ]
	run "$T/bin/cp" no-such x
	[ "$status" -eq 1 ]
	[ "$output" = "cp: cannot stat 'no-such': No such file or directory" ]
}
