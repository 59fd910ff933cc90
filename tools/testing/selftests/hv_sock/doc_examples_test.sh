#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest server and client of Documentation/networking/af_hvsock.rst,
# extracted and compiled as printed there (see the Makefile), run against
# the simulated host. Prints TAP.

. "$(dirname "$0")/tap.sh"

ex=$(dirname "$0")/doc-examples
out=$(mktemp -d)

# A host client sends 64 KiB to the example server (port 5000) and half-
# closes; it must read the same bytes back before the server's EOF.
host_echo_round_trip() {
	timeout 30 hvhost -t 5000 connect 5000 pipe \
		< "$out/data" > "$out/echo" 2> "$out/host" &&
	cmp -s "$out/data" "$out/echo"
}

echo "TAP version 13"
need_simulator
echo "1..2"

head -c 65536 /dev/urandom > "$out/data"
"$ex/server" &
server=$!
retry host_echo_round_trip
ok $? "the documented server echoes 64 KiB to a host client"
sed 's/^/# /' "$out/host"
kill $server
wait $server 2>/dev/null

# The example client (port 5001) against a host echo service: it sends
# "hello", half-closes, and prints what comes back until EOF.
timeout 60 hvhost listen 5001 echo > "$out/listener" 2>&1 &
host=$!
retry sh -c "timeout 30 '$ex/client' > '$out/client'"
[ "$(cat "$out/client")" = "hello" ]
ok $? "the documented client gets its hello back from a host echo service"
wait $host
sed 's/^/# /' "$out/listener"

rm -rf "$out"
[ $fails -eq 0 ]
