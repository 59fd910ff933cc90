#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run-vm.sh BZIMAGE INITRD TIMEOUT LOG
#
# Boot the test VM under QEMU (TCG, 2 CPUs), copy its serial console to
# stdout and LOG, and exit with the guest's exit status. A guest that does not
# finish within TIMEOUT seconds is killed (exit 124). Any kernel report on the
# console (see scan-console.sh) fails the run whatever the guest said.
#
# HVT_ICOUNT=1 runs the guest on QEMU's instruction-counted clock
# (-icount shift=0,sleep=off: guest time advances 1 ns per executed
# instruction and skips idle time), for figures that host load cannot move;
# the guest's random numbers (-seed) and its real-time clock (a fixed date,
# advancing with the guest's clock) then do not depend on the host either.
set -o pipefail
kernel=$1 initrd=$2 timeout=$3 log=$4
here=$(dirname "$(readlink -f "$0")")
icount=()
[ "${HVT_ICOUNT:-0}" != 0 ] &&
	icount=(-icount "shift=0,sleep=off" -seed 1
		-rtc "base=2025-01-01T00:00:00,clock=vm")

if [ -n "$HVT_INTERACTIVE" ]; then
	exec qemu-system-x86_64 -accel tcg -smp 2 -m 2G -cpu max \
		-nographic -no-reboot -monitor none -serial stdio \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4"
fi

timeout --foreground -k 5 "$timeout" \
	qemu-system-x86_64 -accel tcg -smp 2 -m 2G -cpu max "${icount[@]}" \
	-nographic -no-reboot -monitor none -serial stdio \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 oops=panic loglevel=7 kasan.fault=report $HVT_CMDLINE" \
	</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log"
qemu=$?

# Scan first: a guest that hangs usually said why on the console.
"$here/scan-console.sh" "$log"
clean=$?

if [ "$qemu" -eq 124 ] || [ "$qemu" -eq 137 ]; then
	echo "vm-run: the guest did not finish within ${timeout}s" >&2
	exit 124
fi

rc=$(sed -n 's/^HVT-EXIT \([0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ -z "$rc" ]; then
	echo "vm-run: the guest stopped without reporting an exit status" >&2
	rc=1
fi
if [ "$clean" -ne 0 ] && [ "$rc" -eq 0 ]; then
	rc=1
fi
echo "vm-run: guest exit status $rc"
exit "$rc"
