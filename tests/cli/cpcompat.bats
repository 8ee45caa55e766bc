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
