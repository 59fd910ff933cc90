#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# htmldocs.sh KSRC OUT: the kernel's own "make htmldocs", limited to
# Documentation/networking (our page, the index that links it and the
# kernel-doc of net/hv_sock), built into OUT. Fails on any warning or
# error about our files, if the page is missing or if the networking index
# does not link it. Warnings about other pages are printed and counted only:
# a partial build cannot resolve their labels outside networking/.
set -u
ksrc=$1 out=$2
log=$out/htmldocs.log
html=$out/Documentation/output/networking

mkdir -p "$out"
# Sphinx rebuilds only changed pages: always re-read ours, so its warnings
# (and those of the kernel-doc it pulls in) are reported on every run.
touch "$ksrc/Documentation/networking/af_hvsock.rst"
if ! make -C "$ksrc" O="$out" SPHINXDIRS=networking htmldocs > "$log" 2>&1; then
	tail -n 20 "$log"
	echo "htmldocs: the documentation build failed, see $log"
	exit 1
fi

problems='warning|error|critical|severe'
ours='af_hvsock|hv_sock|ring_iter|hyperv\.h'
others=$(grep -iE "$problems" "$log" | grep -vcE "$ours")
[ "$others" -gt 0 ] && grep -iE "$problems" "$log" | grep -vE "$ours" |
	sed 's/^/htmldocs: not ours: /'

rc=0
if grep -iE "$problems" "$log" | grep -E "$ours"; then
	echo "htmldocs: warnings about af_hvsock.rst or net/hv_sock"
	rc=1
fi
if [ ! -s "$html/af_hvsock.html" ]; then
	echo "htmldocs: $html/af_hvsock.html was not built"
	rc=1
elif ! grep -q 'href="af_hvsock.html"' "$html/index.html"; then
	echo "htmldocs: the networking index does not link af_hvsock.html"
	rc=1
fi
[ $rc -eq 0 ] && echo "htmldocs: $html/af_hvsock.html, no warnings" \
	"($others about other pages)"
exit $rc
