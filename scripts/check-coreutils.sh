#!/bin/bash
# GNU coreutils 9.1's own tests of cp (and of the programs and tests that
# lean on cp), run first with GNU cp as the baseline and then with mapcp
# in its place, as root and, for the tests that skip as root, as a user.
# Fetches Debian's coreutils source (apt-get source, through a private apt
# configuration), builds it once in a cache, and says which tests GNU cp
# passes that mapcp fails. Needs root (runuser, useradd, chown).
#
# Usage: scripts/check-coreutils.sh [MAPCP]     (default ./mapcp)
# Environment:
#   CU_CACHE    cache of the source and the build (/var/tmp/mapcp-coreutils)
#   CU_RESULTS  results directory (CU_CACHE/results/run-DATE)
#   CU_USER     the unprivileged user (cutest; created if missing)
#   CU_TIMEOUT  seconds each test may run (90; GNU cp runs all in 40)
#   CU_JOBS     tests run in parallel (2)
#   CU_TESTS    the tests to run, instead of the list below
# Exit status: 0; 1 when a test GNU cp passes fails with mapcp and is not
# in tests/coreutils/differences; 2 when the run itself cannot go on.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
MAPCP=$(readlink -f "${1:-$HERE/mapcp}")
CU_CACHE=${CU_CACHE:-/var/tmp/mapcp-coreutils}
CU_USER=${CU_USER:-cutest}
CU_TIMEOUT=${CU_TIMEOUT:-90}
CU_JOBS=${CU_JOBS:-2}
DIFFERENCES=$HERE/tests/coreutils/differences
VERSION=9.1
SRC=$CU_CACHE/coreutils-$VERSION

# Building GNU cp as Debian does needs its ACL, xattr, capability and
# SELinux libraries; the tests need getfacl, getfattr and setcap.
BUILD_PACKAGES=(acl attr gcc libacl1-dev libattr1-dev libcap-dev libcap2-bin
	libselinux1-dev make perl xz-utils)

# Besides every tests/cp/*.sh.
EXTRA_TESTS=(tests/misc/xattr.sh tests/misc/selinux.sh
	tests/mv/childproof.sh tests/mv/dup-source.sh tests/mv/hard-2.sh
	tests/mv/hard-3.sh tests/mv/i-2.sh tests/mv/part-symlink.sh
	tests/mv/update.sh tests/mv/trailing-slash.sh tests/misc/help-version.sh
	tests/misc/close-stdout.sh tests/ln/misc.sh tests/install/basic-1.sh
	tests/du/basic.sh tests/misc/csplit.sh tests/misc/head-c.sh
	tests/misc/od-j.sh tests/misc/tac-2-nonseekable.sh tests/misc/wc-proc.sh
	tests/tail-2/tail-c.sh)

say() { echo "check-coreutils: $*" >&2; }
die() { say "$*"; exit 2; }

[ "$(id -u)" -eq 0 ] || die "run as root (the tests need runuser and a user)"
[ -x "$MAPCP" ] || die "$MAPCP: no such program; run make first"

check_packages() {
	local p missing=""
	for p in "${BUILD_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "missing Debian packages:$missing"
	say "install them, then run again:"
	say "  apt-get install -y$missing"
	exit 2
}

# Writes deb-src entries for the machine's Debian archives into $1, from
# debian.sources (deb822) and sources.list (one-line): the system's apt
# configuration is only read, never changed, so there is nothing to put
# back, even after kill -9.
write_src_sources() {
	local dir=$1 f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; ORS = "\n\n" }
			/(^|\n)Types:[^\n]*deb/ && /(^|\n)URIs:[^\n]*debian/ {
				sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src")
				print
			}' "$f" >>"$dir/src.sources"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^[[:space:]]*deb\([[:space:]].*debian.*\)/deb-src\1/p' \
			"$f" >>"$dir/src.list"
	done
	grep -qs . "$dir/src.sources" "$dir/src.list" ||
		die "no Debian archive in /etc/apt's sources"
}

# Downloads coreutils' Debian source into $CU_CACHE/dl (apt checks it
# against the signed index) and unpacks the upstream tarball: GNU's tests
# as released, pre-configured, without Debian's patches.
fetch_source() {
	local apt=$CU_CACHE/apt tarball
	tarball=$CU_CACHE/dl/coreutils_$VERSION.orig.tar.xz
	if [ ! -f "$tarball" ]; then
		rm -rf "$apt"
		mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache" \
			"$CU_CACHE/dl"
		write_src_sources "$apt/parts"
		local opts=(-q -o Dir::Etc::SourceList=/dev/null
			-o Dir::Etc::SourceParts="$apt/parts"
			-o Dir::State::Lists="$apt/lists"
			-o Dir::Cache="$apt/cache"
			-o APT::Sandbox::User=root)
		say "fetching the coreutils source (apt-get source)"
		apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 ||
			die "apt-get update failed: see $apt/update.log"
		(cd "$CU_CACHE/dl" &&
			apt-get "${opts[@]}" source --download-only coreutils) \
			>"$apt/source.log" 2>&1 ||
			die "apt-get source failed: see $apt/source.log"
		rm -rf "$apt"
		[ -f "$tarball" ] ||
			die "apt-get source brought no coreutils $VERSION"
	fi
	[ -d "$SRC" ] && return 0
	tar -xJf "$tarball" -C "$CU_CACHE"
}

# Configures and builds once: the stamp holds the build libraries'
# versions, so that installing one rebuilds.
build_coreutils() {
	local want
	want=$(dpkg-query -W -f='${Package} ${Version}\n' "${BUILD_PACKAGES[@]}")
	if [ -x "$SRC/src/cp.gnu" ] &&
		[ "$(cat "$SRC/.mapcp-built" 2>/dev/null)" = "$want" ]; then
		return 0
	fi
	say "building coreutils $VERSION in $SRC (log: $SRC/build.log)"
	rm -f "$SRC/.mapcp-built" "$SRC/src/cp.gnu"
	# configure refuses root without this; the tree is chowned later.
	(cd "$SRC" &&
		{ [ -f config.status ] ||
			FORCE_UNSAFE_CONFIGURE=1 ./configure --quiet; } &&
		make -j"$CU_JOBS") >"$SRC/build.log" 2>&1 ||
		die "building coreutils failed: see $SRC/build.log"
	"$SRC/src/cp" --version | grep -q 'GNU coreutils' ||
		die "$SRC/src/cp is not GNU cp"
	cp -p "$SRC/src/cp" "$SRC/src/cp.gnu"
	echo "$want" >"$SRC/.mapcp-built"
}

# Puts $1 at src/cp, with the built cp's times, so that make check
# neither relinks src/cp nor regenerates man/cp.1 from it.
install_cp() {
	cp "$1" "$SRC/src/cp.tmp"
	chmod 755 "$SRC/src/cp.tmp"
	touch -r "$SRC/src/cp.gnu" "$SRC/src/cp.tmp"
	mv -f "$SRC/src/cp.tmp" "$SRC/src/cp"
}

ensure_user() {
	id "$CU_USER" >/dev/null 2>&1 && return 0
	# A second group, for the tests that chgrp (cp/preserve-gid.sh).
	say "creating the user $CU_USER (and group ${CU_USER}2) for the tests"
	groupadd -f "${CU_USER}2"
	useradd -m -G "${CU_USER}2" "$CU_USER"
}

# run_pass OUTDIR root|user TESTS...: one make check; logs and .trs
# files are copied to OUTDIR/PASS.
run_pass() {
	local out=$1 pass=$2 t
	shift 2
	[ $# -gt 0 ] || return 0
	mkdir -p "$out/$pass"
	for t in "$@"; do
		rm -f "$SRC/${t%.sh}.log" "$SRC/${t%.sh}.trs"
	done
	rm -f "$SRC/test-suite.log"
	local env=(RUN_EXPENSIVE_TESTS=yes NON_ROOT_USERNAME="$CU_USER"
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
	local cmd=(make -k -j"$CU_JOBS" check SUBDIRS=. VERBOSE=yes
		"TESTS=$*"
		"SH_LOG_COMPILER=timeout -k 10 $CU_TIMEOUT /bin/sh")
	if [ "$pass" = root ]; then
		(cd "$SRC" && env "${env[@]}" "${cmd[@]}") \
			>"$out/$pass/make.log" 2>&1 || true
	else
		chown -R "$CU_USER:" "$SRC"
		(cd "$SRC" && runuser -u "$CU_USER" -- \
			env HOME="$(getent passwd "$CU_USER" | cut -d: -f6)" \
			"${env[@]}" "${cmd[@]}") >"$out/$pass/make.log" 2>&1 || true
	fi
	for t in "$@"; do
		mkdir -p "$out/$pass/$(dirname "$t")"
		cp "$SRC/${t%.sh}.log" "$SRC/${t%.sh}.trs" \
			"$out/$pass/$(dirname "$t")/" 2>/dev/null || true
	done
}

# result DIR PASS TEST: PASS, FAIL, SKIP, ERROR, XFAIL, XPASS or NONE.
result() {
	local f=$1/$2/${3%.sh}.trs
	[ -f "$f" ] || { echo NONE; return; }
	sed -n 's/^:test-result: //p' "$f" | head -n 1
}

# combined DIR TEST: FAIL if a pass failed, PASS if one passed, else SKIP.
combined() {
	local r
	r=" $(result "$1" root "$2") "
	if [ -n "${NONROOT[$2]:-}" ]; then
		r="$r$(result "$1" user "$2") "
	fi
	case $r in
	*" FAIL "* | *" ERROR "* | *" XPASS "* | *" NONE "*) echo FAIL ;;
	*" PASS "* | *" XFAIL "*) echo PASS ;;
	*) echo SKIP ;;
	esac
}

# run_cp LABEL PROGRAM: both passes of every test with PROGRAM as src/cp.
run_cp() {
	local out=$RESULTS/$1
	install_cp "$2"
	say "$1: root pass, ${#TESTS[@]} tests"
	run_pass "$out" root "${TESTS[@]}"
	say "$1: user pass ($CU_USER), ${#NONROOT[@]} tests"
	run_pass "$out" user "${!NONROOT[@]}"
}

check_packages
mkdir -p "$CU_CACHE"
fetch_source
build_coreutils
ensure_user
chmod 755 "$CU_CACHE"

if [ -n "${CU_TESTS:-}" ]; then
	read -r -a TESTS <<<"$CU_TESTS"
else
	mapfile -t TESTS < <(cd "$SRC" && ls tests/cp/*.sh)
	TESTS+=("${EXTRA_TESTS[@]}")
fi

RESULTS=${CU_RESULTS:-$CU_CACHE/results/run-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RESULTS"
RESULTS=$(readlink -f "$RESULTS")
trap 'install_cp "$SRC/src/cp.gnu"' EXIT
trap 'exit 130' INT TERM

# The user pass: the tests that skip as root, by their source or by GNU
# cp's root pass.
declare -A NONROOT=()
for t in "${TESTS[@]}"; do
	grep -qE '^[[:space:]]*(skip_if_root_|require_non_root_)' "$SRC/$t" &&
		NONROOT[$t]=1
done
start=$SECONDS
install_cp "$SRC/src/cp.gnu"
say "gnu: root pass, ${#TESTS[@]} tests"
run_pass "$RESULTS/gnu" root "${TESTS[@]}"
for t in "${TESTS[@]}"; do
	grep -q 'require_root_' "$SRC/$t" && continue
	[ "$(result "$RESULTS/gnu" root "$t")" = SKIP ] && NONROOT[$t]=1
done
say "gnu: user pass ($CU_USER), ${#NONROOT[@]} tests"
run_pass "$RESULTS/gnu" user "${!NONROOT[@]}"
run_cp mapcp "$MAPCP"
install_cp "$SRC/src/cp.gnu"

declare -A DIFF=() WITH=()
if [ -f "$DIFFERENCES" ]; then
	while read -r t with reason; do
		case $t in '' | '#'*) continue ;; esac
		DIFF[$t]=${reason:-no reason given}
		[ "$with" = - ] || WITH[$t]=$with
	done <"$DIFFERENCES"
fi

# A deliberate difference that is one of mapcp's defaults: with the
# option that turns it off, the test must pass, as it does with GNU cp.
declare -A WITH_RESULT=()
for t in "${TESTS[@]}"; do
	[ -n "${WITH[$t]:-}" ] || continue
	install -m 755 "$MAPCP" "$SRC/src/mapcp.real"
	printf '#!/bin/bash\nexec -a cp "%s" %s "$@"\n' \
		"$SRC/src/mapcp.real" "${WITH[$t]}" >"$SRC/src/cp.wrap"
	install_cp "$SRC/src/cp.wrap"
	say "mapcp ${WITH[$t]}: $t"
	run_pass "$RESULTS/with" root "$t"
	if [ -n "${NONROOT[$t]:-}" ]; then
		run_pass "$RESULTS/with" user "$t"
	fi
	WITH_RESULT[$t]=$(combined "$RESULTS/with" "$t")
done
install_cp "$SRC/src/cp.gnu"

np=0 nf=0 ns=0 gp=0 gf=0 gs=0 bad=0
printf 'test\tmapcp\tgnu\tmapcp_root\tmapcp_user\tgnu_root\tgnu_user\n' \
	>"$RESULTS/results.tsv"
for t in "${TESTS[@]}"; do
	m=$(combined "$RESULTS/mapcp" "$t")
	g=$(combined "$RESULTS/gnu" "$t")
	note=
	if [ "$m" = FAIL ] && [ "$g" = PASS ]; then
		if [ -n "${WITH[$t]:-}" ] && [ "${WITH_RESULT[$t]}" != PASS ]; then
			note="  <- fails with mapcp ${WITH[$t]} too: not explained"
			bad=$((bad + 1))
		elif [ -n "${WITH[$t]:-}" ]; then
			note="  (deliberate, passes with mapcp ${WITH[$t]}: ${DIFF[$t]})"
		elif [ -n "${DIFF[$t]:-}" ]; then
			note="  (deliberate: ${DIFF[$t]})"
		else
			note="  <- regression against GNU cp"
			bad=$((bad + 1))
		fi
	elif [ "$m" = SKIP ] && [ "$g" = PASS ]; then
		note="  (skipped with mapcp only)"
	fi
	printf '%s %-40s gnu: %s%s\n' "$m" "$t" "$g" "$note"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$m" "$g" \
		"$(result "$RESULTS/mapcp" root "$t")" \
		"$(result "$RESULTS/mapcp" user "$t")" \
		"$(result "$RESULTS/gnu" root "$t")" \
		"$(result "$RESULTS/gnu" user "$t")" >>"$RESULTS/results.tsv"
	case $m in
	PASS) np=$((np + 1)) ;;
	FAIL) nf=$((nf + 1)) ;;
	*) ns=$((ns + 1)) ;;
	esac
	case $g in
	PASS) gp=$((gp + 1)) ;;
	FAIL) gf=$((gf + 1)) ;;
	*) gs=$((gs + 1)) ;;
	esac
done
for t in "${!DIFF[@]}"; do
	[ "$(combined "$RESULTS/mapcp" "$t")" = FAIL ] ||
		say "$t is in $DIFFERENCES but does not fail with mapcp"
done
say "summary: $RESULTS/results.tsv"
say "logs: $RESULTS/{mapcp,gnu}/{root,user}/tests/*/NAME.log"
say "took $((SECONDS - start)) s"
echo "GNU cp: $gp passed, $gf failed, $gs skipped"
echo "$np passed, $nf failed, $ns skipped"
[ "$bad" -eq 0 ] || {
	say "$bad tests GNU cp passes fail with mapcp and are not in $DIFFERENCES"
	exit 1
}
