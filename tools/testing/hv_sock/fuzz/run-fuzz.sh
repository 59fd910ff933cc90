#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# run-fuzz.sh: make fuzz inside the test VM.
#
# Reads FUZZ_SECONDS and SEED from /run-dir/fuzz.env, then runs
#  1. fuzz_syscalls and fuzz_host side by side for FUZZ_SECONDS, on the same
#     simulated host (fuzz_syscalls -S: the end checks are done here, once
#     both are done);
#  2. the end checks of step 1: the host gets back to the channels it had
#     before, and af_hvsock unloads (no socket or channel reference leaked);
#  3. fuzz_failnth, which loads and unloads af_hvsock itself;
#  4. af_hvsock unloads (if anything loaded it again).
# One line per program, "HVT-FUZZ <name>: ok|not ok ...", with its summary
# line and, on failure, the command that replays the run; one more line,
# "HVT-FUZZ unload", for steps 2 and 4. Every program runs under a time
# limit; the output of each is on the console, prefixed with its name.

F=/opt/hv_sock/fuzz
FUZZ_SECONDS=300
SEED=1
cd /run-dir || exit 1
# shellcheck source=/dev/null
[ -f fuzz.env ] && . ./fuzz.env
replay="make fuzz FUZZ_SECONDS=$FUZZ_SECONDS SEED=$SEED"
rc=0

channels() {
	hvhost config 2>/dev/null |
		sed -n 's/^HVSIM_STATS.* channels=\([0-9]*\).*/\1/p'
}

# Wait until the host knows at most $1 channels, for $2 seconds at most.
wait_channels() {
	n=$(channels)
	t=0
	while [ "${n:-0}" -gt "$1" ] && [ $t -lt $(($2 * 5)) ]; do
		sleep 0.2
		t=$((t + 1))
		n=$(channels)
	done
	echo "${n:-0}"
}

# Unload af_hvsock if it is loaded; it may take a while for the sockets that
# close in the background to go. Prints why not, returns 1, on failure.
unload() {
	[ -d /sys/module/af_hvsock ] || return 0
	t=0
	while ! rmmod af_hvsock 2>/tmp/rmmod.err; do
		t=$((t + 1))
		if [ $t -ge 150 ]; then
			echo "rmmod af_hvsock: $(cat /tmp/rmmod.err)," \
			     "refcount $(cat /sys/module/af_hvsock/refcnt 2>/dev/null)"
			return 1
		fi
		sleep 0.2
	done
	return 0
}

# run NAME LIMIT CMD...: run CMD for at most LIMIT seconds, its output on
# the console prefixed with [NAME] and in /tmp/NAME.out, its exit status in
# /tmp/NAME.rc (137: killed at the limit).
run() {
	name=$1 limit=$2
	shift 2
	: > "/tmp/$name.out"
	echo 137 > "/tmp/$name.rc"
	{ timeout -s KILL "$limit" "$@" 2>&1; echo $? > "/tmp/$name.rc"; } |
		while IFS= read -r line; do
			echo "[$name] $line"
			echo "$line" >> "/tmp/$name.out"
		done
}

# report NAME: the HVT-FUZZ line of a program from its summary and status.
report() {
	sum=$(grep "^$1: seed=" "/tmp/$1.out" | tail -n 1)
	st=$(cat "/tmp/$1.rc")
	[ -n "$sum" ] || sum="no summary line"
	if [ "$st" = 0 ] && [ "$sum" != "no summary line" ]; then
		echo "HVT-FUZZ $1: ok $sum"
	else
		[ "$st" = 137 ] && st="killed after its time limit"
		echo "HVT-FUZZ $1: not ok (exit status $st) $sum; replay: $replay"
		rc=1
	fi
}

echo "== fuzz: FUZZ_SECONDS=$FUZZ_SECONDS SEED=$SEED"
modprobe vmbus_sim && modprobe af_hvsock || echo "== fuzz: cannot load the modules"
base=$(channels)
base=${base:-0}

limit=$((FUZZ_SECONDS + 120))
run fuzz_syscalls $limit $F/fuzz_syscalls -S -t "$FUZZ_SECONDS" -s "$SEED" &
run fuzz_host $limit $F/fuzz_host -t "$FUZZ_SECONDS" -s "$SEED" &
wait

unload_err=
left=$(wait_channels "$base" 60)
[ "$left" -gt "$base" ] &&
	unload_err="$left channels left after fuzz_syscalls and fuzz_host, $base before;"
why=$(unload) || unload_err="$unload_err after fuzz_syscalls and fuzz_host: $why;"

run fuzz_failnth 420 $F/fuzz_failnth -s "$SEED"
why=$(unload) || unload_err="$unload_err after fuzz_failnth: $why;"

report fuzz_syscalls
report fuzz_host
report fuzz_failnth
if [ -z "$unload_err" ]; then
	echo "HVT-FUZZ unload: ok channels back to $base, af_hvsock unloaded"
else
	echo "HVT-FUZZ unload: not ok $unload_err replay: $replay"
	rc=1
fi
exit $rc
