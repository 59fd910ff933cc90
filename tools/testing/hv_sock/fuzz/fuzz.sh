#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# fuzz.sh: make fuzz [FUZZ_SECONDS=N] [SEED=S], on the build machine.
#
# Writes build/fuzz/fuzz.env, boots the test VM with run-fuzz.sh (the
# fuzzers run for FUZZ_SECONDS, default 300; SEED default random), prints
# the fuzzers' result lines and any kernel report, and ends with
# "N passed, M failed": N and M count the HVT-FUZZ lines, and a kernel
# report on the console, a VM that did not finish in time or a result line
# that is missing each add one to M. Exits non-zero if M > 0. The console is
# kept in build/fuzz/console.log, the VM run's output in build/fuzz.out.
set -u
top=$(cd "$(dirname "$0")/../../../.." && pwd)
cd "$top" || exit 1
out=$top/build/fuzz
secs=${FUZZ_SECONDS:-300}
seed=${SEED:-}
names="fuzz_syscalls fuzz_host fuzz_failnth unload"

if [ -z "$seed" ]; then
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
case "$secs$seed" in
*[!0-9]*)
	echo "fuzz: FUZZ_SECONDS and SEED must be numbers" >&2
	exit 2 ;;
esac
[ "$secs" -ge 1 ] || { echo "fuzz: FUZZ_SECONDS must be at least 1" >&2; exit 2; }

# Only fuzz.env goes into the VM: the directory is copied in whole.
rm -rf "$out"
mkdir -p "$out"
printf 'FUZZ_SECONDS=%s\nSEED=%s\n' "$secs" "$seed" > "$out/fuzz.env"
log=$out/console.log
echo "fuzz: FUZZ_SECONDS=$secs SEED=$seed (replay: make fuzz FUZZ_SECONDS=$secs SEED=$seed)"
echo "fuzz: console in build/fuzz/console.log"

start=$(date +%s)
${MAKE:-make} -s vm-run RUN="$top/tools/testing/hv_sock/fuzz/run-fuzz.sh" \
	FILES="$out" INITRD="$top/build/initramfs-fuzz.cpio.gz" \
	VMLOG="$log" TIMEOUT=$((secs + 600)) > "$top/build/fuzz.out" 2>&1
vm=$?

passed=0 failed=0
if [ -f "$log" ]; then
	grep -E '^HVT-FUZZ ' "$log"
	# What each failing fuzzer said first: the result line alone does
	# not tell a CI log's reader what went wrong.
	grep -iE '^\[fuzz_[a-z]*\] [^ ]*: (violation|hang|leak)[: ]' "$log" |
		head -n 20 | sed 's/^/   | /'
	passed=$(grep -cE '^HVT-FUZZ [^:]*: ok' "$log")
	failed=$(grep -cE '^HVT-FUZZ [^:]*: not ok' "$log")
	for n in $names; do
		if ! grep -qE "^HVT-FUZZ $n: " "$log"; then
			echo "fuzz: no result from $n"
			failed=$((failed + 1))
		fi
	done
	if ! tools/testing/hv_sock/vm/scan-console.sh "$log" 2> /dev/null; then
		echo "fuzz: kernel report(s) on the console:"
		sed 's/^/   | /' "$log.reports"
		first=$(head -n 1 "$log.reports" | cut -d: -f1)
		echo "   the first one, console lines $first-$((first + 40)):"
		sed -n "${first},$((first + 40))p" "$log" | sed 's/^/   | /'
		failed=$((failed + 1))
	fi
else
	echo "fuzz: the VM did not start, see build/fuzz.out"
	tail -n 20 "$top/build/fuzz.out" | sed 's/^/   | /'
	failed=$((failed + 1))
fi
if [ "$vm" -eq 124 ]; then
	echo "fuzz: the VM did not finish within $((secs + 600))s"
	failed=$((failed + 1))
fi
echo "fuzz: $(( $(date +%s) - start ))s"
if [ "$failed" -gt 0 ]; then
	echo "fuzz: replay with: make fuzz FUZZ_SECONDS=$secs SEED=$seed"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
