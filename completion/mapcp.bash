# bash completion for mapcp, mmap_cp and mapcp-bench.
# Installed by "make install" into share/bash-completion/completions, where
# bash-completion loads it on first use of each command.

_mapcp_engines() {
	# The engines this mapcp knows, from its own --help.
	"${1:-mapcp}" --help 2>/dev/null |
		sed -n '/engines:/,/--force/p' |
		sed -e 's/.*engines://' -e '/--force/d' |
		tr -s ' ' '\n' | grep -v '^$'
	echo auto
}

_mapcp() {
	local cur prev words cword split
	_init_completion -s || return

	case $prev in
	-e | --engine)
		local IFS=$'\n'
		COMPREPLY=($(compgen -W "$(_mapcp_engines "$1")" -- "${cur##*,}"))
		[[ $cur == *,* ]] &&
			COMPREPLY=("${COMPREPLY[@]/#/${cur%,*},}")
		return
		;;
	--sparse | --reflink)
		COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
		return
		;;
	--progress)
		COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
		return
		;;
	--update)
		COMPREPLY=($(compgen -W 'all none none-fail older' -- "$cur"))
		return
		;;
	--preserve | --no-preserve)
		local attrs='mode ownership timestamps links context xattr all'
		COMPREPLY=($(compgen -W "$attrs" -- "${cur##*,}"))
		[[ $cur == *,* ]] &&
			COMPREPLY=("${COMPREPLY[@]/#/${cur%,*},}")
		return
		;;
	-t | --target-directory)
		_filedir -d
		return
		;;
	-j | --jobs | --queue-depth | --window | --buffer)
		return
		;;
	esac
	$split && return

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '$(_parse_help "$1")' -- "$cur"))
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
		return
	fi
	_filedir
}
complete -F _mapcp mapcp

_mmap_cp() {
	local cur prev words cword
	_init_completion || return
	[[ $cword -le 2 ]] && _filedir
}
complete -F _mmap_cp mmap_cp

_mapcp_bench() {
	local cur prev words cword split
	_init_completion -s || return

	case $prev in
	--workload)
		COMPREPLY=($(compgen -W 'copy tree random-read' -- "$cur"))
		return
		;;
	--cache)
		COMPREPLY=($(compgen -W 'cold warm both' -- "$cur"))
		return
		;;
	--engines)
		local all
		all="$(_mapcp_engines mapcp) mmap_cp cp"
		COMPREPLY=($(compgen -W "$all" -- "${cur##*,}"))
		[[ $cur == *,* ]] &&
			COMPREPLY=("${COMPREPLY[@]/#/${cur%,*},}")
		return
		;;
	--dir | --tree)
		_filedir -d
		return
		;;
	--source | --csv | --json | --markdown | --plot | --mapcp)
		_filedir
		return
		;;
	--sizes | --runs | --warmup | --reads | --cmd)
		return
		;;
	esac
	$split && return
	COMPREPLY=($(compgen -W '$(_parse_help "$1")' -- "$cur"))
	[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
}
complete -F _mapcp_bench mapcp-bench
