#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# check-config.sh FRAGMENT CONFIG: every option the fragment asks for must
# have survived olddefconfig; a silently dropped option fails the build.
set -e
frag=$1 config=$2
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		opt=${line%%=*}
		if grep -q "^$opt=" "$config"; then
			echo "config: $opt should be unset" >&2; bad=1
		fi ;;
	CONFIG_*)
		if ! grep -qxF "$line" "$config"; then
			echo "config: $line was not applied (dependency missing?)" >&2
			bad=1
		fi ;;
	esac
done < "$frag"
exit $bad
