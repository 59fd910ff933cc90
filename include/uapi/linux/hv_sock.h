/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * AF_HYPERV: Hyper-V sockets between a Linux guest and its Windows host.
 *
 * An endpoint is the pair <VM GUID, service GUID>. GUIDs are stored in the
 * Windows in-memory layout (the first three fields little-endian), the same
 * layout as the kernel's guid_t and Windows' GUID, so a value can be copied
 * unchanged between a guest application and the host's registry.
 */
#ifndef _UAPI_LINUX_HV_SOCK_H
#define _UAPI_LINUX_HV_SOCK_H

#include <linux/types.h>
#include <linux/socket.h>

/*
 * AF_HYPERV (46) comes from the C library's <sys/socket.h>, as AF_VSOCK and
 * AF_MCTP do; a program built against an older one defines it itself. The
 * option level has no home there, so it is here, as SOL_VSOCK is in
 * <linux/vm_sockets.h>; it is the value of <linux/socket.h>.
 */
#define SOL_HYPERV	288

/* The only protocol; Windows calls it HV_PROTOCOL_RAW. 0 selects it too. */
#define HV_PROTOCOL_RAW	1

/**
 * struct sockaddr_hv - a Hyper-V socket address
 * @shv_family: AF_HYPERV
 * @shv_reserved: must be zero
 * @shv_vm_id: the VM (partition) GUID, or one of the well-known HV_GUID_*
 * @shv_service_id: the service GUID, like a port number
 *
 * 36 bytes with no padding, laid out as Windows' SOCKADDR_HV.
 */
struct sockaddr_hv {
	__kernel_sa_family_t	shv_family;
	__u16			shv_reserved;
	__u8			shv_vm_id[16];
	__u8			shv_service_id[16];
};

/*
 * Well-known VM GUIDs, as initializers of a __u8[16] in the Windows layout
 * (a GUID aabbccdd-eeff-gghh-iijj-kkllmmnnoopp is stored
 * dd cc bb aa ff ee hh gg ii jj kk ll mm nn oo pp).
 */
/* Any VM; as bind()'s service, a random unused one: 00000000-0000-0000-0000-000000000000 */
#define HV_GUID_WILDCARD_INIT						\
	{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,		\
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }
/* Every partition: ffffffff-ffff-ffff-ffff-ffffffffffff */
#define HV_GUID_BROADCAST_INIT						\
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,		\
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }
/* The children of this partition: 90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd */
#define HV_GUID_CHILDREN_INIT						\
	{ 0x89, 0x8b, 0xdb, 0x90, 0x35, 0x0d, 0x79, 0x4f,		\
	  0x8c, 0xe9, 0x49, 0xea, 0x0a, 0xc8, 0xb7, 0xcd }
/* This partition: e0e16197-dd56-4a10-9195-5ee7a155a838 */
#define HV_GUID_LOOPBACK_INIT						\
	{ 0x97, 0x61, 0xe1, 0xe0, 0x56, 0xdd, 0x10, 0x4a,		\
	  0x91, 0x95, 0x5e, 0xe7, 0xa1, 0x55, 0xa8, 0x38 }
/* The host, seen from a guest: a42e7cda-d03f-480c-9cc2-a4de20abb878 */
#define HV_GUID_PARENT_INIT						\
	{ 0xda, 0x7c, 0x2e, 0xa4, 0x3f, 0xd0, 0x0c, 0x48,		\
	  0x9c, 0xc2, 0xa4, 0xde, 0x20, 0xab, 0xb8, 0x78 }
/* The silo host of a container: 36bd0c5c-7276-4223-88ba-7d03b654c568 */
#define HV_GUID_SILOHOST_INIT						\
	{ 0x5c, 0x0c, 0xbd, 0x36, 0x76, 0x72, 0x23, 0x42,		\
	  0x88, 0xba, 0x7d, 0x03, 0xb6, 0x54, 0xc5, 0x68 }

/*
 * Services that AF_VSOCK uses on Hyper-V follow the template
 * PPPPPPPP-facb-11e6-bd58-64006a7986d3, with the vsock port P in the first
 * field: copy the template and store the port in its first 4 bytes,
 * little-endian (guid[0] = P & 0xff, ..., guid[3] = P >> 24).
 */
/* The template, port 0: 00000000-facb-11e6-bd58-64006a7986d3 */
#define HV_GUID_VSOCK_TEMPLATE_INIT					\
	{ 0x00, 0x00, 0x00, 0x00, 0xcb, 0xfa, 0xe6, 0x11,		\
	  0xbd, 0x58, 0x64, 0x00, 0x6a, 0x79, 0x86, 0xd3 }

/*
 * SOL_HYPERV options, named and numbered after the Windows host's.
 *
 * HVSOCKET_CONNECT_TIMEOUT: __u32 milliseconds a blocking connect() waits
 * for the host, 1 to HVSOCKET_CONNECT_TIMEOUT_MAX; default 30000.
 */
#define HVSOCKET_CONNECT_TIMEOUT	1
#define HVSOCKET_CONNECT_TIMEOUT_MAX	300000

#endif /* _UAPI_LINUX_HV_SOCK_H */
