# SPDX-License-Identifier: GPL-2.0
#
# TAP helpers of the AF_HYPERV shell tests; sourced, not run:
#   . "$(dirname "$0")/tap.sh"

n=0
fails=0
KSFT_SKIP=4

# The tools under test sit next to the tests, or in /run-dir.
PATH=$PATH:$(dirname "$(readlink -f "$0")"):/run-dir
export PATH

# ok STATUS DESCRIPTION: the next test point, passed when STATUS is 0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		fails=$((fails + 1))
	fi
}

# Run "$@" until it succeeds: a connect may race the listener's start.
retry() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		"$@" && return 0
		sleep 1
	done
	return 1
}

# need_simulator: after "TAP version 13", skip the whole test where there is
# no simulated Hyper-V host to play the other end (a real Hyper-V guest).
need_simulator() {
	[ -e /dev/hvsim ] || modprobe -q vmbus_sim 2> /dev/null
	[ -e /dev/hvsim ] && return 0
	echo "1..0 # SKIP no simulated Hyper-V host (/dev/hvsim)"
	exit $KSFT_SKIP
}

# unload_module MODULE: rmmod, retrying for up to 20 s while sockets that
# are still closing hold it
unload_module() {
	# af_hvsock_diag uses af_hvsock's symbols, and holds it.
	[ "$1" = af_hvsock ] && rmmod af_hvsock_diag 2>/dev/null
	for _ in $(seq 100); do
		[ -d "/sys/module/$1" ] || return 0
		rmmod "$1" 2>/dev/null && return 0
		usleep 200000
	done
	return 1
}

# wait_listen GUID: until /proc/net/hv_sock shows an AF_HYPERV listener on
# GUID, for up to 5 s
wait_listen() {
	for _ in $(seq 50); do
		grep -qi " 0A $1 " /proc/net/hv_sock 2>/dev/null && return 0
		usleep 100000
	done
	return 1
}

# wait_vsock_listen FILE: until the "hvhost vsock-listen" whose messages
# go to FILE says it listens, for up to 5 s
wait_vsock_listen() {
	for _ in $(seq 50); do
		grep -q "vsock listening" "$1" 2>/dev/null && return 0
		usleep 100000
	done
	return 1
}
