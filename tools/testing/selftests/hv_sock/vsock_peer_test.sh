#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fidelity of the simulated Hyper-V host: the mainline AF_VSOCK transport
# for Hyper-V (net/vmw_vsock/hyperv_transport.c, built as hv_vsock_peer.ko
# with only the hunk that lets its probe decline) moves 16 MiB each way
# with matching checksums and closes cleanly both ways, with af_hvsock.ko
# loaded before it and after it. Prints TAP.

. "$(dirname "$0")/tap.sh"

SIZE=16M
BYTES=16777216
out=$(mktemp -d)

field() {
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | head -n 1
}

# A transfer matches when both ends saw the same byte count and checksum
# and both ended with status=ok (a clean close).
check_transfer() {
	src=$1 dst=$2
	[ "$(field "$src" sent)" = "$BYTES" ] &&
	[ "$(field "$dst" recv)" = "$BYTES" ] &&
	[ "$(field "$src" sent_fnv)" = "$(field "$dst" recv_fnv)" ] &&
	grep -q "status=ok" "$src" && grep -q "status=ok" "$dst"
}

echo "TAP version 13"
need_simulator
echo "1..6"

modprobe vsock
for order in "af_hvsock hv_vsock_peer" "hv_vsock_peer af_hvsock"; do
	# Two hvsock drivers on the bus, in this order: each offer reaches
	# the mainline transport whether af_hvsock declines it first or not.
	unload_module hv_vsock_peer && unload_module af_hvsock &&
	for m in $order; do
		modprobe "$m" || break
	done &&
	[ -d /sys/module/af_hvsock ] && [ -d /sys/module/hv_vsock_peer ]
	ok $? "hv_vsock_peer and af_hvsock load, in the order $order"

	# Guest (AF_VSOCK) connects to a host listener and sends 16 MiB.
	timeout 120 hvhost listen 1234 sink > "$out/host1" 2>&1 &
	host=$!
	retry timeout 60 hvhost vsock-connect 1234 source $SIZE \
		> "$out/guest1" 2>&1
	wait $host
	cat "$out/guest1" "$out/host1" | sed 's/^/# /'
	check_transfer "$out/guest1" "$out/host1"
	ok $? "guest to host $SIZE, checksums match, clean close ($order)"

	# The host connects to a guest AF_VSOCK listener and sends 16 MiB.
	timeout 120 hvhost vsock-listen 2345 sink > "$out/guest2" 2>&1 &
	guest=$!
	wait_vsock_listen "$out/guest2"
	retry timeout 60 hvhost -t 5000 connect 2345 source $SIZE \
		> "$out/host2" 2>&1
	wait $guest
	cat "$out/host2" "$out/guest2" | sed 's/^/# /'
	check_transfer "$out/host2" "$out/guest2"
	ok $? "host to guest $SIZE, checksums match, clean close ($order)"
done

rm -rf "$out"
[ $fails -eq 0 ]
