#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# uapi-check.sh KSRC HDRDIR: the exported <linux/hv_sock.h> and
# <linux/hv_sock_diag.h> must pass the kernel's header test (C90, included
# twice, headers_check.pl) and compile in a userspace program with only
# <sys/socket.h> before them, with the layout Windows' SOCKADDR_HV has and
# the sock_diag structures' sizes and offsets without padding. AF_HYPERV is
# the C library's to define, as AF_VSOCK and AF_MCTP are: the headers must
# not define it. uapi headers give constants and layouts, not code: no
# static or inline functions (nor static data).
set -e
ksrc=$1 hdr=$2

for h in "$hdr/linux/hv_sock.h" "$hdr/linux/hv_sock_diag.h"; do
	gcc -std=c90 -Wall -Werror -fsyntax-only -I "$hdr" \
		-I "$ksrc/usr/dummy-include" -x c /dev/null -include "$h" -include "$h"
	perl "$ksrc/usr/include/headers_check.pl" "$hdr" x86 "$h"
	if grep -nE '^#[[:space:]]*define[[:space:]]+[AP]F_' "$h"; then
		echo "uapi: $h defines an address family: the C library's to define" >&2
		exit 1
	fi
	# Outside comments: a line whose text before any '*' or '/' has one.
	if grep -nE '^[^*/]*\<(static|inline|__inline__|__inline)\>' "$h"; then
		echo "uapi: $h has a static or inline definition: code is not uapi" >&2
		exit 1
	fi
done

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
		.shv_service_id = HV_GUID_VSOCK_TEMPLATE_INIT,
	};

	/* vsock port 5000: the first 4 bytes, little-endian */
	a.shv_service_id[0] = 0x88;
	a.shv_service_id[1] = 0x13;

	return socket(AF_HYPERV, SOCK_STREAM, HV_PROTOCOL_RAW) < 0 ||
	       a.shv_vm_id[0] != 0xda || a.shv_service_id[4] != 0xcb;
}
C

# The diag structures: fixed sizes, no holes (-Wpadded: -I, not -isystem,
# so that it warns), and a request that starts as sock_diag's common
# struct sock_diag_req does.
gcc -Wall -Wextra -Werror -Wpadded -fsyntax-only -I "$hdr" -x c - <<'C'
#include <stddef.h>
#include <sys/socket.h>
#include <linux/hv_sock.h>
#include <linux/hv_sock_diag.h>

#ifndef AF_HYPERV
#define AF_HYPERV 46
#endif

_Static_assert(sizeof(struct hvsock_diag_req) == 24, "req size");
_Static_assert(offsetof(struct hvsock_diag_req, sdiag_family) == 0, "family");
_Static_assert(offsetof(struct hvsock_diag_req, sdiag_protocol) == 1, "proto");
_Static_assert(offsetof(struct hvsock_diag_req, hdiag_states) == 4, "states");
_Static_assert(offsetof(struct hvsock_diag_req, hdiag_show) == 12, "show");
_Static_assert(sizeof(struct hvsock_diag_msg) == 48, "msg size");
_Static_assert(offsetof(struct hvsock_diag_msg, hdiag_ino) == 4, "ino");
_Static_assert(offsetof(struct hvsock_diag_msg, hdiag_cookie) == 8, "cookie");
_Static_assert(offsetof(struct hvsock_diag_msg, hdiag_local_srv) == 16, "local");
_Static_assert(offsetof(struct hvsock_diag_msg, hdiag_remote_srv) == 32, "remote");
_Static_assert(sizeof(struct hvsock_diag_queues) == 8, "queues");
_Static_assert(sizeof(struct hvsock_diag_rings) == 8, "rings");
_Static_assert(HVSOCK_DIAG_MAX == 3, "attributes");

int main(void)
{
	struct hvsock_diag_req r = {
		.sdiag_family = AF_HYPERV,
		.hdiag_show = HVSOCK_DIAG_SHOW_QUEUES | HVSOCK_DIAG_SHOW_RINGS |
			      HVSOCK_DIAG_SHOW_UID,
	};

	return r.sdiag_protocol;
}
C
echo "uapi: linux/hv_sock.h and linux/hv_sock_diag.h ok"
