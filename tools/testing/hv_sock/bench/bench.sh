#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# bench.sh: hvperf for every family, several repetitions, in the test VM
# (make bench; or make vm-run RUN= this script).
#
# Environment (defaults in brackets):
#   REPS         repetitions [3]
#   HOSTS        simulated hosts, in turn [ws2016 modern modern64]: a
#                personality; modern64 is modern with the guest's Hyper-V
#                sockets asking for the largest rings (hvperf -B 128K,
#                64-page rings in both families)
#   FAMS         families on the first host [hyperv,vsock-hv,vsock-lo,unix,tcp]
#   FAMS_MORE    families on the other hosts: those the host changes, and
#                AF_UNIX for the ratios [hyperv,vsock-hv,unix]
#   SIZES        write sizes of tx and rx [4K 64K 1M]
#   MEM          1: the memory measure too, in the first repetition on
#                each host only: it counts pages, and what earlier
#                repetitions left in the slab caches would blur it [1]
#   HVPERF_ARGS  options for every hvperf run [-b 16M -i 1000 -c 100 -n 1024 -T 60]
#
# One repetition measures every figure once, and each figure for every
# family in turn (one hvperf run per figure), so a drift of the machine
# touches all families alike. hvperf -Q waits before every measurement
# until the previous one's connections and channels are gone. RTT and
# connect + close run twice: both ends pinned to CPU 0 ("same") and the
# guest side on CPU 0, the host side on CPU 1 ("diff"); throughput is not
# pinned ("any").
#
# Prints every figure as a CSV line, "rep,host,place,family,measure,size,
# value,unit", and every failed measurement as "failed,host,place,family,
# measure,size,why". Exits 1 if any run of hvperf or any setup failed.

here=$(dirname "$(readlink -f "$0")")
PATH=$PATH:$here:/run-dir
export PATH

REPS=${REPS:-3}
HOSTS=${HOSTS:-ws2016 modern modern64}
FAMS=${FAMS:-hyperv,vsock-hv,vsock-lo,unix,tcp}
FAMS_MORE=${FAMS_MORE:-hyperv,vsock-hv,unix}
SIZES=${SIZES:-4K 64K 1M}
MEM=${MEM:-1}
HVPERF_ARGS=${HVPERF_ARGS:--b 16M -i 1000 -c 100 -n 1024 -T 60}
T=${TMPDIR:-/tmp}/hvbench
rm -rf "$T" && mkdir -p "$T"
rc=0

ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
# Each TCP connection would start from what the previous one left in the
# route's metrics cache: history, not the code, would set the figure.
echo 1 > /proc/sys/net/ipv4/tcp_no_metrics_save
modprobe vsock_loopback || { echo "bench: modprobe vsock_loopback failed"; rc=1; }

# Unload what has to see the host's personality at load time; the last
# connections may still be closing.
unload() {
	for m in hv_vsock_peer af_hvsock; do
		[ -d /sys/module/$m ] || continue
		t=0
		while ! rmmod $m 2>/dev/null; do
			t=$((t + 1))
			if [ $t -ge 100 ]; then
				echo "bench: rmmod $m failed"
				return 1
			fi
			sleep 0.2
		done
	done
}

# host HOST: the simulated host plays HOST from now on; $hostargs are the
# hvperf options that go with it.
host() {
	hostargs=
	pers=$1
	if [ "$1" = modern64 ]; then
		pers=modern
		hostargs="-B 128K"
	fi
	unload || return 1
	modprobe vmbus_sim || return 1
	hvhost config personality="$pers" | grep '^HVSIM ' | sed 's/^/# /'
	modprobe af_hvsock && modprobe hv_vsock_peer
}

# run REP HOST PLACE FAMS HVPERF-OPTIONS...: one hvperf run, its figures
# and failures into $T/all.
run() {
	rep=$1 h=$2 place=$3 fams=$4
	shift 4
	# shellcheck disable=SC2086 # HVPERF_ARGS is a list of options
	hvperf -q -Q -F "$fams" $HVPERF_ARGS $hostargs "$@" > "$T/out" \
		2> "$T/err"
	prc=$?
	cat "$T/err"
	grep -v '^family,' "$T/out" | while IFS= read -r line; do
		case $line in
		"# "*": FAILED: "*)
			# "# fam measure size: FAILED: why"
			echo "$line"
			re='^# \([a-z-]*\) \([a-z_]*\) \([0-9]*\): FAILED: \(.*\)$'
			echo "$line" | sed -n "s/$re/failed,$h,$place,\1,\2,\3,\4/p"
			;;
		"#"*)
			echo "$line"
			;;
		*)
			echo "$rep,$h,$place,$line"
			;;
		esac
	done | tee -a "$T/all"
	if [ $prc -ne 0 ]; then
		echo "# bench: hvperf $* ($h, $place, rep $rep) exited with $prc"
		rc=1
	fi
}

echo "# bench: $REPS repetitions on hosts $HOSTS, hvperf $HVPERF_ARGS"
echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
echo "rep,host,place,family,measure,size,value,unit"
first=1
for h in $HOSTS; do
	if ! host "$h"; then
		echo "# bench: cannot switch to host $h"
		rc=1
		continue
	fi
	fams=$FAMS
	[ $first -eq 1 ] || fams=$FAMS_MORE
	r=1
	while [ $r -le "$REPS" ]; do
		echo "# bench: host $h, repetition $r, families $fams"
		# Not with the largest rings: 512 KiB a connection.
		if [ "$MEM" = 1 ] && [ $r -eq 1 ] && [ -z "$hostargs" ]; then
			run $r "$h" any "$fams" -m mem
		fi
		for s in $SIZES; do
			run $r "$h" any "$fams" -m tx -s "$s"
		done
		for s in $SIZES; do
			run $r "$h" any "$fams" -m rx -s "$s"
		done
		run $r "$h" same "$fams" -m rtt -P 0,0
		run $r "$h" diff "$fams" -m rtt -P 0,1
		run $r "$h" same "$fams" -m conn -P 0,0
		run $r "$h" diff "$fams" -m conn -P 0,1
		r=$((r + 1))
	done
	first=0
done
unload
[ -s "$T/all" ] || { echo "bench: no figures"; exit 1; }
exit $rc
