#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# mkinitramfs.sh STAGE SELFTESTS OUT [--run PROG] [--files DIR]
#
# Build the test VM's initramfs: static busybox, the modules installed in
# STAGE (with their modules.dep), the kselftest binaries, the host tools, the
# init script, and optionally a program to run and a directory of extra files
# (both land in /run-dir).
set -e
stage=$1 selftests=$2 out=$3
shift 3
run= files=
while [ $# -gt 0 ]; do
	case "$1" in
	--run) run=$2; shift 2 ;;
	--files) files=$2; shift 2 ;;
	*) echo "mkinitramfs: unknown argument $1" >&2; exit 2 ;;
	esac
done

here=$(dirname "$(readlink -f "$0")")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root,run-dir,opt/hv_sock,usr/bin,usr/sbin}
cp /bin/busybox "$root/bin/busybox"
cp -a "$stage/lib" "$root/"
install -m 0755 "$here/init" "$root/init"
cp "$here/run-tests.sh" "$root/opt/hv_sock/"
[ -d "$selftests" ] && cp -a "$selftests"/. "$root/opt/hv_sock/"
[ -d "$stage/bin" ] && cp -a "$stage/bin"/. "$root/usr/bin/"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"

if [ -n "$files" ]; then
	cp -a "$files"/. "$root/run-dir/"
fi
if [ -n "$run" ]; then
	cp "$run" "$root/run-dir/.run"
	chmod +x "$root/run-dir/.run"
fi

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
