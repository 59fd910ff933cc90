#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvcat (tools/hv_sock/hvcat.c): exit statuses and messages scripts rely
# on, against the simulated Hyper-V host. Prints TAP.
#
#   0  success (a round trip with half-close, both directions)
#   1  runtime errors: timeout, refused, unreachable, broken pipe, reset
#   2  usage errors and bad GUIDs, with a message naming the problem

. "$(dirname "$0")/tap.sh"

out=$(mktemp -d)
# Services of this test ("hvcat" in ASCII in the last group)
SVC_ECHO=4a7c0001-5c3e-4d1f-9a2b-687663617401
SVC_NONE=4a7c0002-5c3e-4d1f-9a2b-687663617402
SVC_REFUSE=4a7c0003-5c3e-4d1f-9a2b-687663617403
SVC_PIPE=4a7c0004-5c3e-4d1f-9a2b-687663617404
SVC_STDOUT=4a7c0005-5c3e-4d1f-9a2b-687663617405
SVC_LISTEN=4a7c0006-5c3e-4d1f-9a2b-687663617406
SVC_KEEP=4a7c0007-5c3e-4d1f-9a2b-687663617407
SVC_IDLE=4a7c0008-5c3e-4d1f-9a2b-687663617408

# expect RC PATTERN DESCRIPTION -- COMMAND...: exit status RC and a stderr
# line matching PATTERN
expect() {
	want=$1 pat=$2 desc=$3
	shift 4
	"$@" > "$out/stdout" 2> "$out/stderr"
	rc=$?
	sed 's/^/# /' "$out/stderr"
	[ "$rc" -eq "$want" ] && grep -Eq -e "$pat" "$out/stderr"
	r=$?
	[ $r -eq 0 ] || echo "# exit status $rc, wanted $want and /$pat/"
	ok $r "$desc"
}

echo "TAP version 13"
need_simulator
if ! command -v hvcat > /dev/null || ! command -v hvhost > /dev/null; then
	echo "1..0 # SKIP hvcat or hvhost not installed"
	exit $KSFT_SKIP
fi
echo "1..20"

# ---------------------------------------------------------------- usage: 2
expect 2 "bad service GUID '1234-5678': .*36" \
	"bad GUID (length): exit 2 with a message" -- hvcat 1234-5678
expect 2 "bad service GUID .*'x' in group 5 is not a hex digit" \
	"bad GUID (hex digit): exit 2 naming the digit" -- \
	hvcat 4a7c0001-5c3e-4d1f-9a2b-68766361740x
expect 2 "bad service GUID .*group 2 must be 4 hex digits" \
	"bad GUID (grouping): exit 2 naming the group" -- \
	hvcat 4a7c0001-5c3e4-d1f-9a2b-687663617401
expect 2 "vsock port out of range" \
	"decimal service beyond 32 bits: exit 2" -- hvcat 4294967296
expect 2 "bad VM GUID 'nowhere'" \
	"bad VM name: exit 2 with a message" -- hvcat -V nowhere 1
expect 2 "bad timeout" "bad timeout: exit 2" -- hvcat -t 0 1
expect 2 "missing SERVICE" "no SERVICE: exit 2" -- hvcat
expect 2 "-k needs -l" "-k without -l: exit 2" -- hvcat -k 1
expect 2 "-S cannot count" "-S with -e: exit 2" -- timeout 10 hvcat -S -e cat -l 1

if ! modprobe af_hvsock; then
	for t in $(seq $((n + 1)) 20); do
		echo "ok $t # SKIP af_hvsock.ko does not load"
	done
	rm -rf "$out"
	exit $KSFT_SKIP
fi

# ---------------------------------------------------------------- success
timeout 60 hvhost listen "$SVC_ECHO" echo > "$out/host" 2>&1 &
host=$!
printf 'ping %s\n' $(seq 1000) > "$out/data"
retry hvcat -t 2 "$SVC_ECHO" < "$out/data" > "$out/echoed" 2> "$out/stderr"
rc=$?
wait $host
sed 's/^/# /' "$out/host" "$out/stderr"
[ $rc -eq 0 ] && cmp -s "$out/data" "$out/echoed"
ok $? "echo round trip through hvhost with half-close: exit 0, data intact"

hvcat -l "$SVC_LISTEN" < "$out/data" > "$out/got" 2> "$out/stderr" &
guest=$!
wait_listen "$SVC_LISTEN"
timeout 60 hvhost connect "$SVC_LISTEN" echo > "$out/host" 2>&1
wait $guest
rc=$?
sed 's/^/# /' "$out/host" "$out/stderr"
[ $rc -eq 0 ] && cmp -s "$out/data" "$out/got"
ok $? "hvcat -l served a host connection: exit 0, data intact"

# -k -e: every host connection gets its own command, concurrently.
hvcat -l -k -e cat "$SVC_KEEP" 2> "$out/stderr" &
guest=$!
wait_listen "$SVC_KEEP"
hosts=
for i in 1 2 3; do
	printf 'connection %s\n' "$i" > "$out/in$i"
	timeout 30 hvhost connect "$SVC_KEEP" pipe \
		< "$out/in$i" > "$out/echo$i" 2> "$out/host$i" &
	hosts="$hosts $!"
done
# shellcheck disable=SC2086 # a list of pids
wait $hosts
r=0
for i in 1 2 3; do
	sed 's/^/# /' "$out/host$i"
	cmp -s "$out/in$i" "$out/echo$i" || r=1
done
kill -0 $guest 2>/dev/null || r=1
ok $r "hvcat -l -k -e cat served 3 host connections and kept listening"
kill $guest 2>/dev/null
wait $guest 2>/dev/null
sed 's/^/# /' "$out/stderr"

# A -e command's failure is hvcat's exit status 1 (without -k).
hvcat -l -e 'cat > /dev/null; exit 3' "$SVC_KEEP" 2> "$out/stderr" &
guest=$!
wait_listen "$SVC_KEEP"
timeout 30 hvhost connect "$SVC_KEEP" source 1k > /dev/null 2>&1
wait $guest
rc=$?
sed 's/^/# /' "$out/stderr"
[ $rc -eq 1 ] && grep -q "command exited with status 3" "$out/stderr"
ok $? "hvcat -l -e: a failing command gives exit 1 naming its status"

# The host sends, then closes, while hvcat's stdin stays open and idle:
# hvcat sees the hang-up and ends with what arrived.
rm -f "$out/fifo" && mkfifo "$out/fifo"
exec 3<> "$out/fifo"
timeout 3 hvhost listen "$SVC_IDLE" source 100 > /dev/null 2>&1 &
host=$!
sleep 1
start=$(date +%s)
timeout 30 hvcat -t 5 "$SVC_IDLE" < "$out/fifo" > "$out/got" 2> "$out/stderr"
rc=$?
el=$(($(date +%s) - start))
exec 3>&-
wait $host 2>/dev/null
sed 's/^/# /' "$out/stderr"
[ $rc -eq 0 ] && [ "$(wc -c < "$out/got")" -eq 100 ] && [ $el -le 15 ]
ok $? "host closes while stdin is idle: exit 0 at once with its data (exit $rc, ${el}s)"

# ---------------------------------------------------------------- runtime: 1
start=$(date +%s)
expect 1 "connect to .*: Connection timed out" \
	"nobody listening: -t 1 times out, exit 1 naming the error" -- \
	hvcat -t 1 "$SVC_NONE"
el=$(($(date +%s) - start))
[ $el -ge 1 ] && [ $el -le 10 ]
ok $? "the timeout took about 1 s (took ${el}s)"

expect 1 "connect to .*: Network is unreachable" \
	"a VM that is not the host: exit 1 naming the error" -- \
	hvcat -V loopback -t 1 "$SVC_NONE"

# The host refuses the guest's vmbus_open(): ECONNREFUSED.
hvhost config fail_opens=1 > /dev/null
timeout 30 hvhost listen "$SVC_REFUSE" sink > /dev/null 2>&1 &
host=$!
sleep 1
expect 1 "connect to .*: Connection refused" \
	"host refuses the channel: exit 1, Connection refused" -- \
	hvcat -t 5 "$SVC_REFUSE"
hvhost config fail_opens=0 > /dev/null
kill $host 2>/dev/null
wait $host 2>/dev/null

# The host goes away while the guest sends: EPIPE or ECONNRESET on write.
# The host is killed once the connection is up and data flows, however
# long connecting takes on a loaded machine.
timeout 60 hvhost listen "$SVC_PIPE" sink > /dev/null 2>&1 &
host=$!
(
	for _ in $(seq 300); do
		grep -qi " 01 .* $SVC_PIPE " /proc/net/hv_sock 2>/dev/null &&
			break
		usleep 100000
	done
	usleep 500000
	kill $host 2>/dev/null
) &
killer=$!
sleep 1
expect 1 "(write to|read from) socket: (Broken pipe|Connection reset by peer)" \
	"host closes while the guest writes: exit 1 naming the error" -- \
	timeout 60 hvcat -t 30 "$SVC_PIPE" < /dev/zero
wait $killer 2>/dev/null
wait $host 2>/dev/null

# stdout goes away while the host sends: EPIPE on stdout.
timeout 30 hvhost listen "$SVC_STDOUT" source 64M > /dev/null 2>&1 &
host=$!
sleep 1
( timeout 30 hvcat -t 5 "$SVC_STDOUT" < /dev/null 2> "$out/stderr"
  echo $? > "$out/rc" ) | head -c 1000 > /dev/null
sed 's/^/# /' "$out/stderr"
[ "$(cat "$out/rc")" = 1 ] &&
	grep -q "write to stdout: Broken pipe" "$out/stderr"
ok $? "stdout closes early: exit 1, Broken pipe"
kill $host 2>/dev/null
wait $host 2>/dev/null

rm -rf "$out"
[ $fails -eq 0 ]
