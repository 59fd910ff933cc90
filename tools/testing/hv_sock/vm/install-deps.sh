#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Install, through apt and only when missing, what building and testing needs.
set -e

pkgs=(linux-source-6.12 build-essential flex bison bc libelf-dev libssl-dev
      kmod cpio rsync python3 qemu-system-x86 busybox-static sparse perl
      util-linux xz-utils python3-sphinx python3-yaml graphviz
      python3-ply python3-git)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "== installing: ${missing[*]}"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# An empty or stale package list cannot find linux-source-6.12.
if ! apt-cache show linux-source-6.12 >/dev/null 2>&1; then
	$sudo apt-get update -q
fi
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" ||
	{ $sudo apt-get update -q &&
	  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }
