#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# AF_HYPERV beside the AF_VSOCK Hyper-V transport in one kernel: each
# driver claims only the offers its own sockets wait for, and the bus hands
# the rest to the next one, whichever module was loaded first. Prints TAP.
#
# The AF_VSOCK transport is hv_vsock_peer.ko (net/vmw_vsock/
# hyperv_transport.c against the simulated host); its driver is "hv_sock",
# ours "af_hvsock". Both load orders are run; in each:
#  - AF_HYPERV and AF_VSOCK connections both ways at the same time, with
#    matching checksums on both ends;
#  - an offer nobody waits for is declined by both drivers and the host's
#    connect times out;
#  - the shared GUID space: the host's connection to the vsock-template
#    GUID of port P goes to an AF_VSOCK listener on P even while an
#    AF_HYPERV listener waits on that GUID, and to the AF_HYPERV listener
#    once no AF_VSOCK socket listens on P;
#  - one module unloads while the other carries a live connection.

. "$(dirname "$0")/tap.sh"

out=$(mktemp -d)
SIZE=2M
BYTES=2097152
HALF=$((BYTES / 2))
# Services of this test ("coexs" in ASCII in the last group)
SVC_G=5c0e0001-2b7d-4e8a-9f10-636f65787301	# AF_HYPERV guest listener
SVC_H=5c0e0002-2b7d-4e8a-9f10-636f65787302	# host listener, AF_HYPERV
SVC_NONE=5c0e0003-2b7d-4e8a-9f10-636f65787303	# nobody
SVC_UNLOAD=5c0e0004-2b7d-4e8a-9f10-636f65787304
PORT_G=23001	# AF_VSOCK guest listener
PORT_H=23002	# host listener, AF_VSOCK
PORT_NONE=23003
PORT_SHARED=23004
PORT_UNLOAD=23005

field() {
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | head -n 1
}

# same SRC-FILE SRC-DIR DST-FILE DST-DIR: the bytes one end counted as
# sent (SRC-DIR=sent) the other counted as received, checksum included.
same() {
	[ -n "$(field "$1" "$2")" ] &&
	[ "$(field "$1" "$2")" = "$(field "$3" "$4")" ] &&
	[ "$(field "$1" "$2_fnv")" = "$(field "$3" "$4_fnv")" ]
}

template() {
	printf '%08x-facb-11e6-bd58-64006a7986d3' "$1"
}

# stat_of NAME: a counter of the simulated host (hvsim_stats)
stat_of() {
	hvhost config | sed -n "s/.* $1=\([0-9]*\).*/\1/p"
}

# feed FILE: FILE to each sender's fifo (fds 3 to 6) at once, in the
# background; $feeders are the writers
feed() {
	feeders=
	for fd in 3 4 5 6; do
		cat "$1" >&$fd &
		feeders="$feeders $!"
	done
}

show() {
	for f in "$@"; do
		sed 's/^/# /' "$f"
	done
}

echo "TAP version 13"
need_simulator
if ! command -v hvcat > /dev/null || ! command -v hvhost > /dev/null; then
	echo "1..0 # SKIP hvcat or hvhost not installed"
	exit $KSFT_SKIP
fi
echo "1..23"

modprobe vsock
unload_module hv_vsock_peer && unload_module af_hvsock
ok $? "neither module loaded at the start"

# round ORDER: the checks with both modules loaded in ORDER
round() {
	order=$1
	r=0
	for m in $order; do
		modprobe "$m" || r=1
	done
	[ -d /sys/bus/vmbus/drivers/af_hvsock ] &&
	[ -d /sys/bus/vmbus/drivers/hv_sock ] || r=1
	ok $r "both hvsock drivers registered, loaded as: $order"

	# Four connections at once, two per family, one each way. Each
	# sender reads a fifo: none can finish before all four are open.
	for f in a b c d; do
		rm -f "$out/fifo_$f"
		mkfifo "$out/fifo_$f"
	done
	head -c $HALF /dev/urandom > "$out/part1"
	head -c $HALF /dev/urandom > "$out/part2"
	opens0=$(stat_of opens)
	hvcat -l -S "$SVC_G" < /dev/null > /dev/null 2> "$out/hg" &
	g1=$!
	timeout 120 hvhost vsock-listen $PORT_G sink > "$out/vg" 2>&1 &
	g2=$!
	timeout 120 hvhost listen "$SVC_H" sink > "$out/hh" 2>&1 &
	h1=$!
	timeout 120 hvhost listen $PORT_H sink > "$out/vh" 2>&1 &
	h2=$!
	wait_listen "$SVC_G"
	wait_vsock_listen "$out/vg"
	sleep 1	# the two host listeners give no sign when ready
	timeout 120 hvhost connect "$SVC_G" pipe < "$out/fifo_a" \
		> /dev/null 2> "$out/hc" &
	c1=$!
	timeout 120 hvcat -S "$SVC_H" < "$out/fifo_b" > /dev/null \
		2> "$out/hgc" &
	c2=$!
	timeout 120 hvhost connect $PORT_G pipe < "$out/fifo_c" \
		> /dev/null 2> "$out/vc" &
	c3=$!
	timeout 120 hvhost vsock-connect $PORT_H pipe < "$out/fifo_d" \
		> /dev/null 2> "$out/vgc" &
	c4=$!
	exec 3> "$out/fifo_a" 4> "$out/fifo_b" 5> "$out/fifo_c" \
		6> "$out/fifo_d"
	feed "$out/part1"
	r=1
	for _ in $(seq 100); do
		[ $(($(stat_of opens) - opens0)) -eq 4 ] && r=0 && break
		usleep 100000
	done
	echo "# $(($(stat_of opens) - opens0)) channels opened"
	ok $r "two AF_HYPERV and two AF_VSOCK connections open at once ($order)"
	# shellcheck disable=SC2086 # a list of pids
	wait $feeders
	feed "$out/part2"
	# shellcheck disable=SC2086
	wait $feeders
	exec 3>&- 4>&- 5>&- 6>&-
	wait $c1 $c2 $c3 $c4 $g1 $g2 $h1 $h2
	show "$out/hc" "$out/hg" "$out/hgc" "$out/hh" \
		"$out/vc" "$out/vg" "$out/vgc" "$out/vh"
	same "$out/hc" sent "$out/hg" recv && [ "$(field "$out/hg" recv)" = $BYTES ]
	ok $? "AF_HYPERV host to guest $SIZE beside AF_VSOCK, checksums match ($order)"
	same "$out/hgc" sent "$out/hh" recv && [ "$(field "$out/hh" recv)" = $BYTES ]
	ok $? "AF_HYPERV guest to host $SIZE beside AF_VSOCK, checksums match ($order)"
	same "$out/vc" sent "$out/vg" recv && [ "$(field "$out/vg" recv)" = $BYTES ]
	ok $? "AF_VSOCK host to guest $SIZE beside AF_HYPERV, checksums match ($order)"
	same "$out/vgc" sent "$out/vh" recv && [ "$(field "$out/vh" recv)" = $BYTES ]
	ok $? "AF_VSOCK guest to host $SIZE beside AF_HYPERV, checksums match ($order)"

	# Offers nobody waits for: each driver declines (-ENODEV), the
	# device stays unbound and the host's connect times out.
	for svc in "$SVC_NONE" $PORT_NONE; do
		before=$(stat_of probes_declined)
		timeout 30 hvhost -t 1000 connect "$svc" sink > "$out/none" 2>&1
		rc=$?
		after=$(stat_of probes_declined)
		show "$out/none"
		echo "# $((after - before)) probes declined"
		[ $rc -eq 1 ] && grep -q "timed out" "$out/none" &&
		[ $((after - before)) -eq 2 ]
		ok $? "offer for $svc: both drivers decline, the host's connect times out ($order)"
	done

	# The shared GUID space: AF_VSOCK goes first.
	timeout 60 hvhost vsock-listen $PORT_SHARED sink > "$out/sv" 2>&1 &
	sv=$!
	wait_vsock_listen "$out/sv"
	hvcat -l -S $PORT_SHARED < /dev/null > /dev/null 2> "$out/sh" &
	gsh=$!
	wait_listen "$(template $PORT_SHARED)"
	timeout 60 hvhost -s 5 connect $PORT_SHARED source 64k > "$out/sc1" 2>&1
	wait $sv
	show "$out/sc1" "$out/sv"
	same "$out/sc1" sent "$out/sv" recv && kill -0 $gsh 2>/dev/null &&
	[ ! -s "$out/sh" ]
	ok $? "port $PORT_SHARED: the AF_VSOCK listener gets the host's connection,\
 not the AF_HYPERV one on its GUID ($order)"
	timeout 60 hvhost -s 6 connect $PORT_SHARED source 64k > "$out/sc2" 2>&1
	wait $gsh
	show "$out/sc2" "$out/sh"
	same "$out/sc2" sent "$out/sh" recv
	ok $? "port $PORT_SHARED: with no AF_VSOCK listener the AF_HYPERV one gets it ($order)"
}

# live_unload FAMILY MODULE: a connection of FAMILY carries data while
# MODULE (the other family's) unloads, then finishes with matching sums.
live_unload() {
	fam=$1 mod=$2
	rm -f "$out/fifo"
	mkfifo "$out/fifo"
	head -c 65536 /dev/urandom > "$out/part1"
	head -c 65536 /dev/urandom > "$out/part2"
	if [ "$fam" = AF_HYPERV ]; then
		timeout 60 hvhost listen "$SVC_UNLOAD" sink > "$out/uh" 2>&1 &
		h=$!
		sleep 1
		timeout 60 hvcat -S "$SVC_UNLOAD" < "$out/fifo" > /dev/null \
			2> "$out/ug" &
		g=$!
	else
		timeout 60 hvhost listen $PORT_UNLOAD sink > "$out/uh" 2>&1 &
		h=$!
		sleep 1
		timeout 60 hvhost vsock-connect $PORT_UNLOAD pipe \
			< "$out/fifo" > /dev/null 2> "$out/ug" &
		g=$!
	fi
	exec 3> "$out/fifo"
	cat "$out/part1" >&3
	sleep 1
	unload_module "$mod"
	rc=$?
	cat "$out/part2" >&3
	exec 3>&-
	wait $g $h
	show "$out/ug" "$out/uh"
	[ $rc -eq 0 ] && [ ! -d "/sys/module/$mod" ] &&
	same "$out/ug" sent "$out/uh" recv &&
	[ "$(field "$out/uh" recv)" = 131072 ]
	ok $? "$mod unloads while an $fam connection is live; it finishes with matching checksums"
}

round "af_hvsock hv_vsock_peer"
live_unload AF_VSOCK af_hvsock
# hv_vsock_peer stays loaded: loading af_hvsock now is the other order.
round "hv_vsock_peer af_hvsock"
live_unload AF_HYPERV hv_vsock_peer

rm -rf "$out"
[ $fails -eq 0 ]
