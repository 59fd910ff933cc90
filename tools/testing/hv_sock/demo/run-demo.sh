#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-demo.sh: make demo on the build machine. Boots the test VM with
# demo.sh and shows what the demo prints, from the guest's start to its
# verdict, without the firmware's terminal codes and the kernel's messages
# (the whole console is kept in build/demo.log, all of make's output in
# build/demo.out). The verdict is the last line: "demo: all checks
# matched", or "demo: FAILED: ..." - also when the VM itself failed (no
# verdict, a kernel report on the console, a timeout, a failed build).
# Exit status 0 only for "all checks matched" on a clean console.
set -u
top=$(cd "$(dirname "$0")/../../../.." && pwd)
log=$top/build/demo.log
out=$top/build/demo.out

# No verdict of an earlier run may pass for this one's.
rm -f "$log"
mkdir -p "$top/build"
${MAKE:-make} -s -C "$top" vm-run RUN="$top/tools/testing/hv_sock/demo/demo.sh" \
	TIMEOUT=900 VMLOG="$log" INITRD="$top/build/initramfs-demo.cpio.gz" 2>&1 |
	tee "$out" | sed -u 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[c=>]//g; s/\r//g' |
	awk '/^HVT-BOOTED/ { on = 1; next }
	     /^demo: (all checks matched|FAILED)/ { on = 0; next }
	     on && !/^\[ *[0-9]+\.[0-9]+\]/ { print; fflush() }
	     /^(make|vm-run).*(Error|did not|without)/ { print; fflush() }'
vm=${PIPESTATUS[0]}

verdict=$(grep -aE '^demo: (all checks matched|FAILED)' "$log" 2>/dev/null |
	tr -d '\r' | tail -n 1)
if [ -z "$verdict" ]; then
	if [ -s "$log" ]; then
		echo "demo: FAILED: the VM gave no verdict (exit status $vm), see $log"
	else
		tail -n 20 "$out"
		echo "demo: FAILED: the VM did not start (exit status $vm), see $out"
	fi
	exit 1
fi
if [ "$vm" -ne 0 ] && [ "$verdict" = "demo: all checks matched" ]; then
	echo "demo: FAILED: the checks matched, but the VM run failed" \
	     "(a kernel report on the console?), see $log"
	exit 1
fi
echo "$verdict"
[ "$verdict" = "demo: all checks matched" ]
