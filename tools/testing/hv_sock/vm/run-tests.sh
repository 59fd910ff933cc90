#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Inside the test VM: run the KUnit suites (as modules) and the kselftests.
# Each KUnit result and each kselftest TAP line is printed once, prefixed
# with HVT-KUNIT or HVT-KSFT, for the host to count.
cd /opt/hv_sock || exit 1
rc=0

for m in $(cat kunit-modules 2>/dev/null); do
	if ! modprobe "$m"; then
		echo "HVT-KUNIT not ok 1 $m: module failed to load"
		rc=1
		continue
	fi
done
for r in /sys/kernel/debug/kunit/*/results; do
	[ -f "$r" ] || continue
	suite=$(basename "$(dirname "$r")")
	sed -n "s/^    \(\(not \)\{0,1\}ok [0-9]* .*\)/HVT-KUNIT $suite: \1/p" "$r"
done

# The kselftests load and unload af_hvsock themselves.
for m in $(cat kunit-modules 2>/dev/null); do
	rmmod "$m" 2>/dev/null
done

for t in $(cat kselftests 2>/dev/null); do
	echo "== kselftest $t"
	# The harness times out each C test; this bounds a whole program.
	timeout 900 ./"$t" > /tmp/ksft.out 2>&1
	trc=$?
	cat /tmp/ksft.out
	sed -n "s/^\(\(not \)\{0,1\}ok [0-9]* .*\)/HVT-KSFT $t: \1/p" /tmp/ksft.out
	if [ $trc -ne 0 ] && [ $trc -ne 4 ]; then
		rc=1
	fi
done
exit $rc
