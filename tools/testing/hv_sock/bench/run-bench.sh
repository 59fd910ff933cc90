#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-bench.sh KBENCH STAGE: the host side of make bench, once the bench
# kernel (in KBENCH) and its modules and tools (in STAGE) are built. Builds
# the initramfs and boots the VM twice with bench-vm.sh:
#
#   1. on QEMU's instruction-counted clock (run-vm.sh with HVT_ICOUNT=1:
#      -icount shift=0,sleep=off, 1 instruction = 1 ns of guest time, idle
#      time skipped): the primary table, which host load cannot move;
#   2. on the ordinary clock, fewer repetitions: the wall-clock table,
#      as noisy as the machine it runs on.
#
# then writes KBENCH/results.{md,csv}, raw.csv and throughput.svg, prints
# the tables, and compares the ratios with the previous run's
# (results.prev.csv, compare.txt; see compare.py).
#
# Environment: REPS (repetitions of the instruction-counted run, default 5),
# WALL_REPS (of the wall-clock run, default 1; 0 skips it), HOSTS, FAMS,
# FAMS_MORE, SIZES, MEM, HVPERF_ARGS (see bench.sh), BENCH_TIMEOUT
# (seconds for each VM run, default 900).
#
# Exit status: 0 when the VM runs were clean and every cell of the tables
# was measured, 1 otherwise (the files are written either way).
set -u
kbench=$1 stage=$2
here=$(dirname "$(readlink -f "$0")")
vmdir=$(readlink -f "$here/../vm")
REPS=${REPS:-5}
WALL_REPS=${WALL_REPS:-1}
files=$kbench/files
initrd=$kbench/initramfs.cpio.gz
rc=0

# vm MODE REPS: one VM run; its console in $kbench/console-MODE.log.
vm() {
	local mode=$1 reps=$2 log=$kbench/console-$1.log t0 vmrc

	rm -rf "$files" && mkdir -p "$files"
	cp "$here/bench.sh" "$files/"
	{
		printf 'REPS=%s\n' "$reps"
		for v in HOSTS FAMS FAMS_MORE SIZES MEM HVPERF_ARGS; do
			[ -n "${!v:-}" ] && printf '%s="%s"\n' "$v" "${!v}"
		done
		# memory is counted in pages, not time: once is enough
		if [ "$mode" = wall ]; then echo MEM=0; fi
	} > "$files/bench.env"
	# No kselftests in this initramfs: the directory does not exist.
	"$vmdir/mkinitramfs.sh" "$stage" "$kbench/no-selftests" "$initrd" \
		--run "$here/bench-vm.sh" --files "$files" || return 1

	echo "== bench ($mode): $reps repetitions in the VM (console: $log)"
	t0=$(date +%s)
	# The whole console is in $log; show the progress and any failure.
	if [ "$mode" = icount ]; then
		HVT_ICOUNT=1 "$vmdir/run-vm.sh" "$kbench/arch/x86/boot/bzImage" \
			"$initrd" "${BENCH_TIMEOUT:-900}" "$log"
	else
		"$vmdir/run-vm.sh" "$kbench/arch/x86/boot/bzImage" \
			"$initrd" "${BENCH_TIMEOUT:-900}" "$log"
	fi | grep --line-buffered \
		-E '^(# bench|# kernel|# HVSIM|# .*FAILED|# not quiet|vm-run:|bench:)'
	vmrc=${PIPESTATUS[0]}
	echo "== bench ($mode): VM run took $(( $(date +%s) - t0 ))s, guest exit status $vmrc"
	return $(( vmrc != 0 ))
}

vm icount "$REPS" || rc=1
logs=("$kbench/console-icount.log")
rm -f "$kbench/console-wall.log"
if [ "$WALL_REPS" -gt 0 ]; then
	vm wall "$WALL_REPS" || rc=1
	logs+=("$kbench/console-wall.log")
fi

# The previous run's figures, for the comparison below.
[ -f "$kbench/results.csv" ] && mv "$kbench/results.csv" "$kbench/results.prev.csv"
python3 "$here/report.py" "$kbench" "${logs[@]}" || rc=1
if [ -f "$kbench/results.prev.csv" ]; then
	# Informational: the tree may have changed since.
	python3 "$here/compare.py" "$kbench/results.prev.csv" \
		"$kbench/results.csv" > "$kbench/compare.txt"
	echo "== bench: ratios against the previous run (compare.txt):" \
		"$(tail -n 1 "$kbench/compare.txt")"
fi
python3 "$here/svgchart.py" "$kbench/results.csv" "$kbench/throughput.svg" || rc=1
echo "== bench: $kbench/results.md, results.csv, raw.csv, throughput.svg"
echo "== bench: took $SECONDS s"
exit $rc
