#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-bench.sh KBENCH STAGE: the host side of make bench, once the bench
# kernel (in KBENCH) and its modules and tools (in STAGE) are built. Builds
# the initramfs, boots the VM with bench-vm.sh, then writes
# KBENCH/results.{md,csv}, raw.csv and throughput.svg and prints the table.
#
# Environment: REPS (default 3), HVPERF_ARGS (default: every measure at
# 4K,64K,1M, memory with 1024 idle connections), BENCH_TIMEOUT (seconds
# for the whole VM run, default 900).
#
# Exit status: 0 when the VM run was clean and every cell of the table was
# measured, 1 otherwise (the files are written either way).
set -u
kbench=$1 stage=$2
here=$(dirname "$(readlink -f "$0")")
vmdir=$(readlink -f "$here/../vm")
REPS=${REPS:-3}
HVPERF_ARGS=${HVPERF_ARGS:--m tx,rx,rtt,conn,mem -s 4K,64K,1M -b 16M -i 1000 -c 100 -n 1024 -T 20}
files=$kbench/files
initrd=$kbench/initramfs.cpio.gz
log=$kbench/console.log

rm -rf "$files" && mkdir -p "$files"
cp "$here/bench.sh" "$files/"
printf 'REPS=%s\nHVPERF_ARGS="%s"\n' "$REPS" "$HVPERF_ARGS" > "$files/bench.env"

echo "== bench: $REPS runs of hvperf $HVPERF_ARGS in the VM (console: $log)"
# No kselftests in this initramfs: the directory does not exist.
"$vmdir/mkinitramfs.sh" "$stage" "$kbench/no-selftests" "$initrd" \
	--run "$here/bench-vm.sh" --files "$files" || exit 1
t0=$(date +%s)
# The whole console is in $log; show the progress and any failure.
"$vmdir/run-vm.sh" "$kbench/arch/x86/boot/bzImage" "$initrd" \
	"${BENCH_TIMEOUT:-900}" "$log" |
	grep --line-buffered -E '^(# bench|# kernel|# .*FAILED|vm-run:|[0-9]+,[a-z-]+,conn_rate,)'
vmrc=${PIPESTATUS[0]}
echo "== bench: VM run took $(( $(date +%s) - t0 ))s, guest exit status $vmrc"

python3 "$here/report.py" "$log" "$kbench" || vmrc=1
python3 "$here/svgchart.py" "$kbench/results.csv" "$kbench/throughput.svg" || vmrc=1
echo "== bench: $kbench/results.md, results.csv, raw.csv, throughput.svg"
exit $(( vmrc != 0 ))
