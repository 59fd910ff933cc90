#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# base.sh TARBALL DIR: DIR becomes a git repository of the pristine kernel
# tree, its one commit tagged "pristine". Made once (git add of ~90k files
# takes a few minutes); the stamp says it is complete. Its work tree is
# where make series-check runs git am.
set -e
tarball=$1 dir=$2
stamp=$dir/.git/hv-sock-pristine
if [ -f "$stamp" ] && git -C "$dir" rev-parse -q --verify pristine >/dev/null; then
	exit 0
fi
echo "== series: a git repository of the pristine tree in $dir (once, a few minutes)"
rm -rf "$dir" "$dir.tmp"
mkdir -p "$dir.tmp"
tar -C "$dir.tmp" -xf "$tarball"
mv "$dir.tmp"/linux-source-* "$dir"
rmdir "$dir.tmp"
cd "$dir"
git init -q
git config gc.auto 0
git config core.autocrlf false
# Every file of the tarball, the ones the kernel's .gitignore names too.
git add -A -f
export GIT_AUTHOR_NAME=linux-source GIT_AUTHOR_EMAIL=linux-source@localhost
export GIT_COMMITTER_NAME=linux-source GIT_COMMITTER_EMAIL=linux-source@localhost
export GIT_AUTHOR_DATE='1700000000 +0000' GIT_COMMITTER_DATE='1700000000 +0000'
git commit -q -m "$(basename "$tarball" .tar.xz) as Debian ships it"
git tag pristine
touch "$stamp"
