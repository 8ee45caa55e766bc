#!/bin/sh
# Install the Debian packages mapcp needs to build, test and benchmark.
# Checks first and does nothing when all are present, so the Makefile can
# run it before every build. As root it runs apt-get; otherwise it prints
# the exact command to run and fails, because it cannot install by itself.
set -eu

# One package a line, sorted; what each is for is in docs/development.md.
PACKAGES="
acl
attr
bash-completion
bats
binutils
bsdutils
btrfs-progs
clang
clang-tidy
cppcheck
e2fsprogs
fiu-utils
fuse3
gcc
gnuplot-nox
jq
libacl1-dev
libattr1-dev
libcap-dev
libcap2-bin
libclang-rt-14-dev
libcmocka-dev
libfiu-dev
libfuse3-dev
libselinux1-dev
liburing-dev
libxxhash-dev
make
perl
pkg-config
rsync
rust-coreutils
strace
time
tmux
util-linux
xfsprogs
xz-utils
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "mapcp: missing Debian packages:$missing" >&2
	echo "mapcp: run this, then make again:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi

echo "mapcp: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists; refresh only if the first
# attempt cannot find something.
# shellcheck disable=SC2086
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update
	apt-get install -y --no-install-recommends $missing
fi
