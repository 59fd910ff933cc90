#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# demo.sh: AF_HYPERV end to end in the test VM, against the simulated
# Hyper-V host (run with: make vm-run RUN= this script).
#
#  1. a guest service (hvcat -l) receives a file from the host (hvhost)
#  2. a guest service runs a command (hvcat -l -e sha256sum) for the host
#  3. a guest client (hvcat) sends a file to a host listener (hvhost)
#  4. a live connection and a listener, seen in /proc/net/hv_sock
#  5. a short hvperf run, AF_HYPERV next to AF_VSOCK, AF_UNIX and TCP
#
# Checksums are shown on both sides: SHA-256 of the files, and FNV-1a 64
# as computed by hvhost and by hvcat -S on the bytes they moved. The last
# line says whether everything matched; the exit status follows it.

here=$(dirname "$(readlink -f "$0")")
PATH=$PATH:$here:/run-dir
export PATH

T=${TMPDIR:-/tmp}/hvdemo
SIZE_KB=${DEMO_SIZE_KB:-1024}
# Service GUIDs of the demo ("demo" in the last group)
SVC_RECV=c0ffee00-0001-4a5b-8c6d-64656d6f0001
SVC_CMD=c0ffee00-0002-4a5b-8c6d-64656d6f0002
SVC_HOST=c0ffee00-0003-4a5b-8c6d-64656d6f0003
SVC_ECHO=c0ffee00-0004-4a5b-8c6d-64656d6f0004
SVC_IDLE=c0ffee00-0005-4a5b-8c6d-64656d6f0005

failures=
fail() {
	echo "demo: MISMATCH: $*"
	failures="$failures${failures:+; }$*"
}
step() {
	echo
	echo "== $*"
}
sha() {
	sha256sum < "$1" | cut -d' ' -f1
}
# field NAME FILE: value of NAME=... in the HVHOST/HVCAT line of FILE
field() {
	sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" "$2" | tail -n 1
}
# same WHAT A B: report whether two values match
same() {
	if [ -n "$2" ] && [ "$2" = "$3" ]; then
		echo "   match: $1"
	else
		fail "$1 ('$2' vs '$3')"
	fi
}
# wait_listen GUID: until /proc/net/hv_sock shows a listener (state 0A)
wait_listen() {
	i=0
	while [ $i -lt 100 ]; do
		grep -qi " 0A $1 " /proc/net/hv_sock 2>/dev/null && return 0
		usleep 100000
		i=$((i + 1))
	done
	fail "no listener for $1 in /proc/net/hv_sock"
	return 1
}
finish() {
	echo
	if [ -z "$failures" ]; then
		echo "demo: all checks matched"
		exit 0
	fi
	echo "demo: FAILED: $failures"
	exit 1
}

for t in hvcat hvhost hvperf; do
	command -v $t >/dev/null || { fail "$t not found in $PATH"; finish; }
done
rm -rf "$T" && mkdir -p "$T"

step "loading af_hvsock"
if ! modprobe af_hvsock; then
	fail "modprobe af_hvsock"
	finish
fi
grep -E '^(af_hvsock|vmbus_sim) ' /proc/modules | cut -d' ' -f1-3
hvhost config | sed 's/^/   /'

dd if=/dev/urandom of="$T/to_guest" bs=1024 count="$SIZE_KB" 2>/dev/null
dd if=/dev/urandom of="$T/to_host" bs=1024 count="$SIZE_KB" 2>/dev/null

# ---------------------------------------------------------------- 1
step "1. host -> guest: hvcat -l $SVC_RECV, hvhost connect (${SIZE_KB} KiB)"
hvcat -l -S -v "$SVC_RECV" < /dev/null > "$T/guest_got" 2> "$T/hvcat1.err" &
gpid=$!
wait_listen "$SVC_RECV"
timeout 120 hvhost connect "$SVC_RECV" pipe \
	< "$T/to_guest" > /dev/null 2> "$T/hvhost1.err"
hrc=$?
wait $gpid
grc=$?
sed 's/^/   host:  /' "$T/hvhost1.err"
sed 's/^/   guest: /' "$T/hvcat1.err"
echo "   host  sent     sha256 $(sha "$T/to_guest")"
echo "   guest received sha256 $(sha "$T/guest_got")"
same "exit status of hvhost and hvcat -l" "0 0" "$hrc $grc"
same "sha256 host -> guest" "$(sha "$T/to_guest")" "$(sha "$T/guest_got")"
same "fnv64 host sent / guest received" "$(field sent_fnv "$T/hvhost1.err")" \
	"$(field recv_fnv "$T/hvcat1.err")"
same "bytes guest received" "$((SIZE_KB * 1024))" \
	"$(field recv "$T/hvcat1.err")"

# ---------------------------------------------------------------- 2
step "2. guest service with a command: hvcat -l $SVC_CMD -e sha256sum"
hvcat -l -e 'sha256sum | cut -d" " -f1' "$SVC_CMD" 2> "$T/hvcat2.err" &
gpid=$!
wait_listen "$SVC_CMD"
timeout 120 hvhost connect "$SVC_CMD" pipe \
	< "$T/to_guest" > "$T/host_got_sum" 2> "$T/hvhost2.err"
hrc=$?
wait $gpid
grc=$?
sed 's/^/   host:  /' "$T/hvhost2.err"
cat "$T/hvcat2.err"
echo "   host  sha256 of what it sent:           $(sha "$T/to_guest")"
echo "   guest sha256 of what it got (via hvsock): $(cat "$T/host_got_sum")"
same "exit status of hvhost and hvcat -l -e" "0 0" "$hrc $grc"
same "sha256 computed in the guest service" "$(sha "$T/to_guest")" \
	"$(cat "$T/host_got_sum")"

# ---------------------------------------------------------------- 3
step "3. guest -> host: hvhost listen $SVC_HOST, hvcat connect (${SIZE_KB} KiB)"
timeout 120 hvhost listen "$SVC_HOST" pipe < /dev/null > "$T/host_got" \
	2> "$T/hvhost3.err" &
hpid=$!
sleep 1
hvcat -S -t 10 "$SVC_HOST" < "$T/to_host" > /dev/null 2> "$T/hvcat3.err"
grc=$?
wait $hpid
hrc=$?
sed 's/^/   host:  /' "$T/hvhost3.err"
sed 's/^/   guest: /' "$T/hvcat3.err"
echo "   guest sent     sha256 $(sha "$T/to_host")"
echo "   host  received sha256 $(sha "$T/host_got")"
same "exit status of hvcat and hvhost listen" "0 0" "$grc $hrc"
same "sha256 guest -> host" "$(sha "$T/to_host")" "$(sha "$T/host_got")"
same "fnv64 guest sent / host received" "$(field sent_fnv "$T/hvcat3.err")" \
	"$(field recv_fnv "$T/hvhost3.err")"

# ---------------------------------------------------------------- 4
step "4. /proc/net/hv_sock with a listener and a live connection"
hvcat -l -k "$SVC_IDLE" < /dev/null > /dev/null 2>&1 &
kpid=$!
timeout 60 hvhost listen "$SVC_ECHO" echo > "$T/hvhost4.out" 2>&1 &
hpid=$!
wait_listen "$SVC_IDLE"
sleep 1
(echo "hello over hvsock"; sleep 3) | hvcat -t 10 "$SVC_ECHO" \
	> "$T/echo_got" 2> "$T/hvcat4.err" &
gpid=$!
sleep 2
tee "$T/proc" < /proc/net/hv_sock
grep -qi " 0A $SVC_IDLE " "$T/proc" ||
	fail "listener $SVC_IDLE not in /proc/net/hv_sock"
grep -qi " 01 [0-9a-f-]* $SVC_ECHO " "$T/proc" ||
	fail "established connection to $SVC_ECHO not in /proc/net/hv_sock"
wait $gpid
grc=$?
wait $hpid
hrc=$?
kill $kpid 2>/dev/null
wait $kpid 2>/dev/null
sed 's/^/   host:  /' "$T/hvhost4.out"
echo "   guest got back: $(cat "$T/echo_got")"
same "exit status of hvcat and hvhost echo" "0 0" "$grc $hrc"
same "echo" "hello over hvsock" "$(cat "$T/echo_got")"

# ---------------------------------------------------------------- 5
step "5. hvperf, short run: AF_HYPERV and its peers"
modprobe hv_vsock_peer || fail "modprobe hv_vsock_peer"
modprobe vsock_loopback || fail "modprobe vsock_loopback"
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
timeout 600 hvperf -s 4K,64K -b 2M -i 200 -c 20 -T 60 > "$T/perf" 2>&1 &
ppid=$!
sleep 1
echo "   /proc/net/hv_sock during hvperf:"
sed 's/^/   /' /proc/net/hv_sock
wait $ppid
prc=$?
cat "$T/perf"
same "hvperf exit status" 0 "$prc"
grep 'FAILED\|unavailable' "$T/perf" | sed 's/^# //' | while read -r l; do
	echo "hvperf: $l"
done > "$T/perf.fail"
[ -s "$T/perf.fail" ] && fail "$(tr '\n' ';' < "$T/perf.fail" | sed 's/;$//')"
for m in tx rx rtt_p50 conn_rate; do
	grep -q "^hyperv,$m," "$T/perf" || fail "hvperf: no hyperv $m figure"
done

step "the simulated host's counters"
hvhost config | sed 's/^/   /'
finish
