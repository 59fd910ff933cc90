#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# bench-vm.sh: make bench's program in the VM (/run-dir/.run). Runs
# bench.sh with the settings run-bench.sh left in /run-dir/bench.env, then
# repeats every figure on "HVB," lines and every failed measurement on
# "HVB-FAILED," lines between HVB-CSV-BEGIN and HVB-CSV-END, once the
# machine is quiet, for report.py to read back from the console. Exits
# with bench.sh's status.

# shellcheck disable=SC1091 # written by run-bench.sh
[ -f /run-dir/bench.env ] && . /run-dir/bench.env
export REPS HOSTS FAMS FAMS_MORE SIZES MEM HVPERF_ARGS

{
	/run-dir/bench.sh
	echo "HVB-STATUS $?"
} 2>&1 | tee /tmp/bench.out
rc=$(sed -n 's/^HVB-STATUS \([0-9]*\)$/\1/p' /tmp/bench.out)

echo "HVB-CSV-BEGIN"
grep -E '^[0-9]+,' /tmp/bench.out | sed 's/^/HVB,/'
grep -E '^failed,' /tmp/bench.out | sed 's/^failed,/HVB-FAILED,/'
echo "HVB-CSV-END"
exit "$rc"
