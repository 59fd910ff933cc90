#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make check: every gate and every test, in order. Each step logs to
# build/logs/; a failing step shows the end of its log. The last line is
# "N passed, M failed": N and M count KUnit cases and kselftests, and every
# failed gate adds one to M.
set -u
top=$(cd "$(dirname "$0")/../../../.." && pwd)
cd "$top"
logs=$top/build/logs
mkdir -p "$logs"
passed=0 failed=0 skipped=0 gates_failed=0
start=$(date +%s)

report() {	# report NAME RC SECONDS
	printf '== %-34s ' "$1"
	if [ "$2" -eq 0 ]; then
		echo "ok (${3}s)"
		return 0
	fi
	echo "FAILED (${3}s), see build/logs/$1.log"
	tail -n 25 "$logs/$1.log" | sed 's/^/   | /'
	gates_failed=$((gates_failed + 1))
	return 1
}

step() {	# step NAME COMMAND...
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	"$@" > "$logs/$name.log" 2>&1 || rc=$?
	report "$name" "$rc" "$(( $(date +%s) - t0 ))"
}

kill_tree() {	# kill_tree PID: the process and all its descendants
	local child
	for child in $(pgrep -P "$1"); do
		kill_tree "$child"
	done
	kill "$1" 2>/dev/null
}

stop_side_by_side() {
	local pid
	for pid in "${side_pids[@]}"; do
		kill_tree "$pid"
	done
	exit 130
}

# Steps that keep one core busy each and build no kernel, side by side;
# reported in order once all have ended.
steps_side_by_side() {	# steps_side_by_side NAME COMMAND [NAME COMMAND]...
	local names=() name rc
	side_pids=()
	[ $(($# % 2)) = 0 ] || { echo "steps_side_by_side: odd arguments"; exit 1; }
	# An interrupted check leaves no step running behind it (they ignore
	# SIGINT, as background commands of a script do).
	trap stop_side_by_side INT TERM
	while [ $# -gt 1 ]; do
		names+=("$1")
		rm -f "$logs/$1.status"
		(t0=$(date +%s) rc=0
		 $2 > "$logs/$1.log" 2>&1 || rc=$?
		 echo "$rc $(( $(date +%s) - t0 ))" > "$logs/$1.status") &
		side_pids+=($!)
		shift 2
	done
	wait
	trap - INT TERM
	for name in "${names[@]}"; do
		read -r rc secs < "$logs/$name.status" || rc=1 secs=0
		rm -f "$logs/$name.status"
		report "$name" "$rc" "$secs"
	done
}

our_c_files() {
	git ls-files -co --exclude-standard -- '*.c' '*.h' |
		grep -E '^(drivers|include|net|tools)/' | while read -r f; do
			[ -f "$f" ] && echo "$f"
		done
}

# checkpatch's own exit status says whether it found anything; its whole
# report goes to the log.
checkpatch() {
	local ksrc=$top/build/linux-source-6.12 files
	files=$(our_c_files | sed "s|^|$top/|")
	[ -n "$files" ] || { echo "no C files to check"; return 1; }
	# shellcheck disable=SC2086
	(cd "$ksrc" && perl scripts/checkpatch.pl --strict --terse --no-summary \
		--show-types -f $files)
}

# The patch series for netdev (make series): git am onto the pristine tree
# must give exactly this tree, and checkpatch --strict and get_maintainer.pl
# must be content with every patch. The per-patch builds are make
# series-check FULL=1, not part of this.
series() {
	make series && make series-check
}

vm_tests() {
	make initramfs || return 1
	tools/testing/hv_sock/vm/run-vm.sh build/test/arch/x86/boot/bzImage \
		build/initramfs.cpio.gz "${HVT_TIMEOUT:-1200}" "$logs/vm-console.log"
}

# The fuzzers, with a fixed seed so that a failure replays (make fuzz
# FUZZ_SECONDS=... SEED=...); make fuzz ends with "N passed, M failed".
fuzz() {
	make fuzz FUZZ_SECONDS="${HVT_FUZZ_SECONDS:-60}" SEED="${HVT_FUZZ_SEED:-1}"
}

step deps make deps || { echo "0 passed, 1 failed"; exit 1; }
step build bash -c 'make modules' || { echo "0 passed, 1 failed"; exit 1; }
step ext-warnings bash -c "! grep -E '(hv_sock|vmbus_sim|hvhost)[^ ]*:[0-9]+:[0-9]+: (warning|error):' '$logs/build.log'"
step prod-w1-sparse make prod-build
steps_side_by_side checkpatch checkpatch series series htmldocs "make htmldocs"
step vm-tests vm_tests
vm_ok=$?
# A fuzzer that fails is counted with the results below, not as a gate too.
if ! step fuzz fuzz &&
   grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$logs/fuzz.log"; then
	gates_failed=$((gates_failed - 1))
fi
fuzz_passed=0 fuzz_failed=0
if [ -f "$logs/fuzz.log" ]; then
	read -r fuzz_passed fuzz_failed < <(sed -n \
		's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' \
		"$logs/fuzz.log" | tail -n 1)
	fuzz_passed=${fuzz_passed:-0} fuzz_failed=${fuzz_failed:-0}
	grep -E '^HVT-FUZZ [^:]*: not ok' "$logs/fuzz.log" |
		sed 's/^HVT-FUZZ /   failed: /'
fi

log=$logs/vm-console.log
if [ -f "$log" ]; then
	passed=$(grep -cE '^HVT-(KUNIT|KSFT) [^:]*: ok [0-9]+ ' "$log" | head -1)
	skipped=$(grep -cE '^HVT-(KUNIT|KSFT) [^:]*: ok [0-9]+ .*# SKIP' "$log" | head -1)
	failed=$(grep -cE '^HVT-(KUNIT|KSFT) [^:]*: not ok ' "$log" | head -1)
	passed=$((passed - skipped))
	grep -E '^HVT-(KUNIT|KSFT) [^:]*: not ok ' "$log" | sed 's/^HVT-/   failed: /'
	if [ "$passed" -eq 0 ] && [ "$vm_ok" -eq 0 ]; then
		echo "   no test result was reported by the VM"
		gates_failed=$((gates_failed + 1))
	fi
fi

echo "== total time $(( $(date +%s) - start ))s; KUnit and kselftest results:" \
	"$passed passed, $failed failed, $skipped skipped; fuzzers:" \
	"$fuzz_passed passed, $fuzz_failed failed; $gates_failed gate(s) failed"
passed=$((passed + fuzz_passed))
failed=$((failed + fuzz_failed))
total_failed=$((failed + gates_failed))
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $total_failed failed, $skipped skipped"
else
	echo "$passed passed, $total_failed failed"
fi
[ "$total_failed" -eq 0 ]
