#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# uapi-check.sh KSRC HDRDIR: the exported <linux/hv_sock.h> must pass the
# kernel's header test (C90, included twice, headers_check.pl) and compile
# in a userspace program with only <sys/socket.h> before it, with the
# layout Windows' SOCKADDR_HV has. AF_HYPERV is the C library's to define,
# as AF_VSOCK and AF_MCTP are: the header must not define it.
set -e
ksrc=$1 hdr=$2
h=$hdr/linux/hv_sock.h

gcc -std=c90 -Wall -Werror -fsyntax-only -I "$hdr" -I "$ksrc/usr/dummy-include" \
	-x c /dev/null -include "$h" -include "$h"
perl "$ksrc/usr/include/headers_check.pl" "$hdr" x86 "$h"
if grep -nE '^#[[:space:]]*define[[:space:]]+[AP]F_' "$h"; then
	echo "uapi: linux/hv_sock.h defines an address family: the C library's to define" >&2
	exit 1
fi

gcc -Wall -Wextra -Werror -fsyntax-only -isystem "$hdr" -x c - <<'C'
#include <stddef.h>
#include <sys/socket.h>
#include <linux/hv_sock.h>

#ifndef AF_HYPERV
#define AF_HYPERV 46
#endif

_Static_assert(sizeof(struct sockaddr_hv) == 36, "size");
_Static_assert(offsetof(struct sockaddr_hv, shv_reserved) == 2, "reserved");
_Static_assert(offsetof(struct sockaddr_hv, shv_vm_id) == 4, "vm id");
_Static_assert(offsetof(struct sockaddr_hv, shv_service_id) == 20, "service");
_Static_assert(SOL_HYPERV == 288, "option level");

int main(void)
{
	struct sockaddr_hv a = {
		.shv_family = AF_HYPERV,
		.shv_vm_id = HV_GUID_PARENT_INIT,
	};

	hv_guid_set_vsock_port(a.shv_service_id, 5000);

	return socket(AF_HYPERV, SOCK_STREAM, HV_PROTOCOL_RAW) < 0 ||
	       a.shv_vm_id[0] != 0xda;
}
C
echo "uapi: linux/hv_sock.h ok"
