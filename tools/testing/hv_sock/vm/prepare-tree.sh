#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# prepare-tree.sh KSRC PATCH PRISTINE
#
# Make the kernel tree KSRC carry exactly PATCH. PRISTINE keeps the original
# of every file a patch ever touched, saved before it was first patched. The
# patch is applied to fresh copies of those originals and only the files
# whose content changed are written back, so editing Kconfig.patch rebuilds
# only what it affects. A hunk that does not apply fails loudly and leaves
# the tree as it was.
set -e
ksrc=$1 patch=$2 pristine=$3

mkdir -p "$pristine"
applied=$pristine/.applied
[ -f "$applied" ] && cmp -s "$patch" "$applied" && exit 0

files=$(sed -n 's|^+++ [^/]*/\([^[:space:]]*\).*|\1|p' "$patch")
for f in $files; do
	if [ ! -e "$pristine/$f" ] && [ -e "$ksrc/$f" ]; then
		mkdir -p "$pristine/$(dirname "$f")"
		cp -p "$ksrc/$f" "$pristine/$f"
	fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$pristine" && find . -type f ! -name .applied -print0 |
	cpio -0pdm --quiet "$work")

echo "== applying Kconfig.patch"
rej=$(mktemp)
if ! out=$(cd "$work" && patch -p1 --no-backup-if-mismatch -r "$rej" < "$patch" 2>&1); then
	echo "$out" >&2
	echo "== the hunks that failed:" >&2
	cat "$rej" >&2
	rm -f "$rej"
	echo "Kconfig.patch does not apply to linux-source-6.12 (see the hunks above)" >&2
	exit 1
fi
rm -f "$rej"
# Files an earlier patch touched and this one does not are pristine again.
rsync -rc "$work"/ "$ksrc"/
cp "$patch" "$applied"
