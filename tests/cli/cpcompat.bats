#!/usr/bin/env bats
# cp's options as cp means them, each case checked against GNU cp run on
# the same input in a twin directory: what is left on disk, and what is
# said.

load helpers

# twins: make c/ (for cp) and m/ (for mapcp) from the commands in "$1",
# run in each.
twins() {
	mkdir c m
	(cd c && eval "$1")
	(cd m && eval "$1")
}

# state DIR: every entry's type, mode, link target or contents, and how
# many names its inode has (not inode numbers: those differ).
state() {
	(cd "$1" && for f in $(ls -A | sort); do
		if [ -L "$f" ]; then
			echo "$f link $(readlink "$f")"
		elif [ -f "$f" ]; then
			echo "$f file $(stat -c '%A %h' "$f") $(cat "$f")"
		else
			echo "$f $(stat -c '%F %A' "$f")"
		fi
	done)
}

@test "abbreviations of cp's long options mean what they mean to cp" {
	echo data >src
	run "$MAPCP" --pr=mode src a # --preserve, though --progress exists too
	[ "$status" -eq 0 ]
	run "$MAPCP" --verb src b
	[ "$output" = "'src' -> 'b'" ]
	run "$MAPCP" --rem src b
	[ "$status" -eq 0 ]
	# mapcp's own options abbreviate too, where cp has no such prefix
	run "$MAPCP" --buf=1M src c
	[ "$status" -eq 0 ]
	# --preserve's names abbreviate as in cp
	run "$MAPCP" --preserve=link,mo,t src d
	[ "$status" -eq 0 ]
	run "$MAPCP" --preserve=lonks src e
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: invalid attribute list 'lonks'" ]
}

@test "--remove-destination: a symlink, a FIFO, a read-only file and a hard link are replaced, as cp does" {
	twins 'echo src >a; echo tgt >t; chmod 444 t; ln -s t l; mkfifo ff;
		echo ro >ro; chmod 444 ro; ln a hl'
	for d in l ff ro hl; do
		(cd c && cp --remove-destination a "$d")
		(cd m && "$MAPCP" --remove-destination a "$d")
	done
	[ "$(state c)" = "$(state m)" ]
	[ "$(cat m/t)" = tgt ] # the symlink's target is not written
	# the source under its own name is still the same file
	run "$MAPCP" --remove-destination m/a m/./a
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: 'm/a' and 'm/./a' are the same file" ]
}

@test "-b, --backup=CONTROL, -S: the backups GNU cp makes, and what -v says" {
	twins 'echo new >a; echo old >b; echo x >c; echo y >c.~1~; echo t >tg;
		ln -s tg l; echo F >F'
	for args in "-b a b" "--backup=numbered a b" "--backup=t a b" \
		"--backup=existing a c" "--backup=simple -S .orig a b" \
		"--backup=none a b" "-S _s a c" "--backup=nil a l" \
		"--force --backup=simple --suffix=.b F F"; do
		# shellcheck disable=SC2086
		(cd c && cp -v $args >>out 2>&1) || true
		# shellcheck disable=SC2086
		(cd m && "$MAPCP" -v $args >>out 2>&1) || true
	done
	sed -i 's/^cp:/X:/' c/out
	sed -i 's/^mapcp:/X:/' m/out
	diff c/out m/out
	[ "$(state c)" = "$(state m)" ]
	[ "$(cat m/tg)" = t ] # a symlink DEST is backed up, not written through
	# VERSION_CONTROL and SIMPLE_BACKUP_SUFFIX, as in cp
	(cd c && VERSION_CONTROL=numbered cp -b a b && SIMPLE_BACKUP_SUFFIX=.s cp --backup=simple a b)
	(cd m && VERSION_CONTROL=numbered "$MAPCP" -b a b && SIMPLE_BACKUP_SUFFIX=.s "$MAPCP" --backup=simple a b)
	[ "$(state c)" = "$(state m)" ]
}

@test "backups: a backup that would be the source, -n, bad CONTROL" {
	echo A >a~
	: >a
	run "$MAPCP" --b=simple a~ a
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: backing up 'a' might destroy source;  'a~' not copied" ]
	[ "$(cat a~)" = A ]
	run "$MAPCP" -bn a~ b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: options --backup and --no-clobber are mutually exclusive" ]
	run "$MAPCP" --backup=bogus a~ b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: invalid argument 'bogus' for 'backup type'" ]
	run "$MAPCP" --backup=n a~ b
	[ "${lines[0]}" = "mapcp: ambiguous argument 'n' for 'backup type'" ]
	[ ! -e b ]
}

@test "backups with several SOURCEs and of symlinks, as cp makes them" {
	twins 'mkdir a b d; echo a >a/f; echo b >b/f; touch x; echo r >reg;
		ln -s "$PWD/reg" sl'
	for args in "--backup=numbered a/f b/f d" "--backup a/f b/f d" \
		"--backup=numbered x x d" "-bd sl reg"; do
		# shellcheck disable=SC2086
		(cd c && cp $args >>out 2>&1) || true
		# shellcheck disable=SC2086
		(cd m && "$MAPCP" $args >>out 2>&1) || true
	done
	sed -i 's/^cp:/X:/' c/out
	sed -i 's/^mapcp:/X:/' m/out
	diff c/out m/out
	[ "$(state c/d)" = "$(state m/d)" ]
	[ "$(state c | sed "s,$PWD/c,,")" = "$(state m | sed "s,$PWD/m,,")" ]
}

@test "-v names the directories it makes, not those already there, as cp -v" {
	twins 'mkdir -p s/d t/d x y; echo f >s/d/f'
	(cd c && cp -rv s/d t/ >out && cd y && cp -v -ab ../x/. . >>../out)
	(cd m && "$MAPCP" -rv s/d t/ >out && cd y && "$MAPCP" -v -ab ../x/. . >>../out)
	diff c/out m/out
	[ "$(cat m/out)" = "'s/d/f' -> 't/d/f'" ]
}

@test "POSIXLY_CORRECT: a dangling symlink DEST is written through, as cp does then" {
	ln -s no-such dangle
	echo hi >f
	run "$MAPCP" f dangle
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: not writing through dangling symlink 'dangle'" ]
	[ ! -e no-such ]
	POSIXLY_CORRECT=1 run "$MAPCP" f dangle
	[ "$status" -eq 0 ]
	[ "$(cat no-such)" = hi ]
	[ -L dangle ]
}
