#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvperf (tools/hv_sock/hvperf.c): a short run of every measurement over
# AF_HYPERV, AF_VSOCK on the mainline Hyper-V transport and AF_UNIX must
# report every figure (tx is counted by the host, rx by the guest), and bad
# options must give exit status 2. Prints TAP.

. "$(dirname "$0")/tap.sh"

out=$(mktemp -d)

# usage ARGS...: hvperf refuses ARGS with exit status 2
usage() {
	hvperf "$@" > /dev/null 2> "$out/stderr"
	rc=$?
	sed 's/^/# /' "$out/stderr"
	[ $rc -eq 2 ]
	ok $? "hvperf $*: exit 2"
}

echo "TAP version 13"
need_simulator
if ! command -v hvperf > /dev/null; then
	echo "1..0 # SKIP hvperf not installed"
	exit $KSFT_SKIP
fi
echo "1..8"

usage -b -1
usage -b 99999999999G
usage -i 5k
usage -F ,
usage -m nothing

modprobe af_hvsock && modprobe vsock && modprobe hv_vsock_peer
timeout 600 hvperf -F hyperv,vsock-hv,unix -m tx,rx,rtt,conn -s 4K,64K \
	-b 4M -i 200 -c 20 -T 120 > "$out/run" 2>&1
rc=$?
sed 's/^/# /' "$out/run"
[ $rc -eq 0 ]
ok $? "hvperf over hyperv, vsock-hv and unix: exit 0"

r=0
for f in hyperv vsock-hv unix; do
	for m in tx,4096 tx,65536 rx,4096 rx,65536 rtt_p50,1 rtt_p99,1 \
		 conn_rate,0; do
		grep -q "^$f,$m,[0-9.]*[1-9][0-9.]*," "$out/run" ||
			{ echo "# missing: $f,$m"; r=1; }
	done
done
ok $r "every family reported all 7 figures, none zero"

# Many short guest-to-host runs: a writer that misses the host's "space
# freed" signal sleeps forever on an empty ring. Before that race was
# fixed, about 1 run in 20 stalled.
r=0
for i in $(seq 40); do
	hvperf -F hyperv -m tx -s 64K -b 4M -T 10 -q > "$out/tx" 2>&1 ||
		{ sed 's/^/# /' "$out/tx"; r=1; break; }
done
ok $r "40 runs of 4 MiB guest to host: none stalled"

rm -rf "$out"
[ $fails -eq 0 ]
