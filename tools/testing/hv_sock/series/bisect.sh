#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# bisect.sh BASE VMDIR WORK: the slow part of make series-check. After
# every patch of the series (branch "series" of the repository BASE),
# build the prod and test configurations (VMDIR/prod.config and
# test.config on top of tinyconfig) with W=1, and, once they exist, the
# simulated host's external modules against the test kernel and the
# kselftests through the kselftest TARGETS list. Fails on a build error and
# on a warning no earlier step printed (the first step builds from scratch
# and gives the reference; the files the series adds, the simulated host's
# modules and the kselftests may have none at all). Objects stay in
# WORK, so each step rebuilds only what its patch changed (REGATE=1 only
# judges the warnings of the logs a run left); the sources are
# checked out in WORK/src, a work tree of BASE of its own, so that the fast
# check can run meanwhile. FROM=N resumes a run after an edit that left
# patches 1 to N-1 as they were: their logs are judged again, and the
# build starts at patch N on the objects the run left.
set -u
repo=$1 vmdir=$2 work=$3
base=$work/src
mkdir -p "$work"
if [ ! -e "$base/.git" ]; then
	git -C "$repo" worktree prune
	git -C "$repo" worktree add -q -f --detach "$base" pristine || exit 1
fi
jobs=$(nproc)
mkdir -p "$work/logs"
seen=$work/warnings.seen
: > "$seen"
failed=0
start=$(date +%s)
# The files the series adds: a warning in one of them fails at any step.
ours=$(git -C "$repo" diff --name-only --diff-filter=A pristine series |
	grep -E '\.[ch]$' |
	sed 's|^|^|; s|\.|\\.|g' | paste -sd'|')

# W=1 runs scripts/misc-check, which lists every tracked file a .gitignore
# matches: Debian's top-level .gitignore ignores everything ("/*", its
# packaging repository tracks only debian/), so in a git repository of
# linux-source every file is listed. Upstream's .gitignore has no such line.
warnings() {
	grep -E ': (warning|error):|WARNING: modpost' "$1" |
		grep -v ': warning: ignored by one of the .gitignore files$' |
		sed -E "s|^$base/||; s|^$work/extmod/||; s|^(\.\./)+||; s|:[0-9]+(:[0-9]+)?:|:|" |
		sort -u
}

# What a failed build leaves in its log, for a log judged again (FROM=N).
build_failed() {
	grep -qE '\*\*\* .*(Error [0-9]|Interrupt)|undefined reference|ERROR: modpost' "$1"
}

gate() {	# gate STEP NAME LOG: the log's warnings against the earlier ones
	local new
	if [ ! -s "$3" ] || build_failed "$3"; then
		echo "   $2: no log, or a failed build, at step $1: $3"
		failed=1
		return
	fi
	new=$(warnings "$3" | comm -23 - "$seen")
	warnings "$3" | sort -u -o "$seen" - "$seen"
	case $2 in
	prod|test)	# the first step's build is the reference
		[ "$1" = 1 ] && new= ;;
	*)		# all of it is ours: no warning at all
		new=$(warnings "$3") ;;
	esac
	if [ -n "$new" ]; then
		echo "   $2: new warnings:"
		echo "$new" | sed 's/^/     /'
		failed=1
	elif [ -n "$ours" ] && warnings "$3" | grep -qE "$ours"; then
		echo "   $2: warnings in our files"
		failed=1
	fi
}

configure() {	# configure O FRAGMENT
	make -s -C "$base" O="$1" tinyconfig >/dev/null &&
	(cd "$base" && KCONFIG_CONFIG=$1/.config scripts/kconfig/merge_config.sh \
		-m -O "$1" "$1/.config" "$2" >/dev/null) &&
	make -s -C "$base" O="$1" olddefconfig >/dev/null &&
	config_kept "$1/.config" "$2"
}

# Every option of the fragment that this step's tree defines is set as the
# fragment asks: a patch that makes one unselectable (a dependency on a
# symbol defined later) would otherwise build none of its code and pass.
config_kept() {	# config_kept CONFIG FRAGMENT
	local defined lost
	defined=$(cd "$base" && find . -name 'Kconfig*' -not -path './.git/*' \
		-exec sed -nE 's/^[[:space:]]*(menu)?config[[:space:]]+([A-Za-z0-9_]+).*/CONFIG_\2/p' {} + |
		sort -u)
	lost=$(grep -E '^CONFIG_[A-Za-z0-9_]+=[ym]$' "$2" | sort -u |
		while IFS= read -r line; do
			grep -qxF "${line%%=*}" <<< "$defined" || continue
			grep -qxF "$line" "$1" || echo "$line"
		done)
	[ -z "$lost" ] || { echo "options of $2 not set: $lost"; return 1; }
}

# The first step is the reference only if it builds everything: objects a
# previous run left would hide the warnings of the files they come from.
from=${FROM:-1}
[[ $from =~ ^[1-9][0-9]*$ ]] || { echo "FROM=$from: a patch number" >&2; exit 2; }
[ -n "${REGATE:-}" ] || [ "$from" -gt 1 ] || rm -rf "$work/prod" "$work/test"

n=0
for c in $(git -C "$base" rev-list --reverse pristine..series); do
	n=$((n + 1))
	t0=$(date +%s)
	regate=${REGATE:-}
	[ "$n" -lt "$from" ] && regate=1
	# N.tree: the tree a step built completely and cleanly; a step judged
	# again needs it, from the same tree.
	tree=$(git -C "$base" rev-parse "$c^{tree}")
	step_failed=$failed failed=0
	if [ -n "$regate" ] && { [ ! -f "$work/logs/$n.tree" ] ||
	   [ "$(cat "$work/logs/$n.tree")" != "$tree" ]; }; then
		echo "   step $n has no clean run of this tree: resume from it"
		failed=1
	fi
	[ -n "$regate" ] || rm -f "$work/logs/$n".tree "$work/logs/$n"-*.log
	if [ -n "$regate" ]; then	# the gate again, on the logs of a run
		git -C "$base" cat-file -e "$c:tools/testing/hv_sock/Kbuild" 2>/dev/null &&
			gate "$n" extmod "$work/logs/$n-extmod.log"
		git -C "$base" cat-file -e "$c:tools/testing/selftests/hv_sock" 2>/dev/null &&
			gate "$n" kselftests "$work/logs/$n-kselftest.log"
	else
		git -C "$base" checkout -q -f --detach "$c" || exit 1
		git -C "$base" clean -q -f -d
	fi
	echo "== $n $(git -C "$base" log -1 --format=%s "$c")"
	# What the patch changes says what must build again: the kernel reads
	# nothing under tools/hv_sock/, tools/testing/ or Documentation/
	# networking/, nor MAINTAINERS (objtool is tools/ too), and the
	# simulated host's modules are rebuilt when their sources or the
	# kernel change. The first step built always builds everything.
	changed=$(git -C "$base" diff --no-renames --name-only "$c~1" "$c")
	kernel=1 extmod=1
	if [ "$n" -gt "$from" ] && [ -z "$regate" ]; then
		grep -qvE '^(tools/hv_sock/|tools/testing/|Documentation/networking/|MAINTAINERS$)' \
			<<< "$changed" || kernel=
		[ -n "$kernel" ] || grep -qE '^tools/testing/hv_sock/' <<< "$changed" ||
			extmod=
	fi
	for cfg in prod test; do
		o=$work/$cfg log=$work/logs/$n-$cfg.log
		mkdir -p "$o"
		if [ -n "$regate" ]; then
			gate "$n" "$cfg" "$log"
			continue
		fi
		if [ -z "$kernel" ]; then	# the previous step's build stands
			cp "$work/logs/$((n - 1))-$cfg.log" "$log" || failed=1
			echo "   $cfg: no file the kernel reads changed"
			continue
		fi
		if ! { configure "$o" "$vmdir/$cfg.config" &&
		       make -C "$base" O="$o" -j"$jobs" W=1 all; } > "$log" 2>&1; then
			echo "   $cfg: build FAILED, see $log"; tail -n 15 "$log"
			failed=1
			continue
		fi
		gate "$n" "$cfg" "$log"
	done
	if [ -z "$regate" ] && [ -f "$base/tools/testing/hv_sock/Kbuild" ]; then
		log=$work/logs/$n-extmod.log
		rm -rf "$work/extmod" && mkdir -p "$work/extmod"
		if [ -z "$extmod" ] && [ -f "$work/logs/$((n - 1))-extmod.log" ]; then
			cp "$work/logs/$((n - 1))-extmod.log" "$log" || failed=1
			echo "   extmod: none of its sources changed"
		elif ! { (cd "$base" && rsync -rcR tools/testing/hv_sock net/hv_sock \
			"$work/extmod/") &&
		       make -C "$base" O="$work/test" -j"$jobs" W=1 \
			M="$work/extmod/tools/testing/hv_sock" modules; } > "$log" 2>&1; then
			echo "   extmod: build FAILED, see $log"; tail -n 15 "$log"
			failed=1
		else
			gate "$n" extmod "$log"
		fi
	fi
	if [ -z "$regate" ] && [ -d "$base/tools/testing/selftests/hv_sock" ]; then
		log=$work/logs/$n-kselftest.log
		rm -rf "$work/kselftest" "$work/hdr"
		if ! { make -s -C "$base" O="$work/test" INSTALL_HDR_PATH="$work/hdr" \
			headers_install &&
		       make -C "$base/tools/testing/selftests" TARGETS=hv_sock \
			O="$work/kselftest" KHDR_INCLUDES="-isystem $work/hdr/include"; } \
			> "$log" 2>&1; then
			echo "   kselftests: build FAILED, see $log"; tail -n 15 "$log"
			failed=1
		else
			gate "$n" kselftests "$log"
		fi
	fi
	[ -n "$regate" ] || [ "$failed" != 0 ] || echo "$tree" > "$work/logs/$n.tree"
	echo "   step $n: $(( $(date +%s) - t0 ))s"
	[ "$step_failed" = 0 ] || failed=1
done
git -C "$base" checkout -q -f --detach series
echo "== bisect: $n steps in $(( $(date +%s) - start ))s: $([ $failed = 0 ] && echo ok || echo FAILED)"
exit $failed
