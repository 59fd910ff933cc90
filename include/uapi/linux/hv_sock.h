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

#ifndef AF_HYPERV
#define AF_HYPERV	46
#endif
#ifndef PF_HYPERV
#define PF_HYPERV	AF_HYPERV
#endif

#ifndef SOL_HYPERV
#define SOL_HYPERV	288
#endif

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

/* Build a GUID a-b-c-d0d1-d2..d7 in the Windows in-memory layout. */
#define HV_GUID_INIT(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)		\
{ (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, \
  (b) & 0xff, ((b) >> 8) & 0xff, (c) & 0xff, ((c) >> 8) & 0xff,	\
  (d0), (d1), (d2), (d3), (d4), (d5), (d6), (d7) }

/* Any VM, and in bind() any service: 00000000-0000-0000-0000-000000000000 */
#define HV_GUID_WILDCARD_INIT						\
	HV_GUID_INIT(0x00000000, 0x0000, 0x0000,			\
		     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00)
/* Every partition: ffffffff-ffff-ffff-ffff-ffffffffffff */
#define HV_GUID_BROADCAST_INIT						\
	HV_GUID_INIT(0xffffffff, 0xffff, 0xffff,			\
		     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
/* The children of this partition: 90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd */
#define HV_GUID_CHILDREN_INIT						\
	HV_GUID_INIT(0x90db8b89, 0x0d35, 0x4f79,			\
		     0x8c, 0xe9, 0x49, 0xea, 0x0a, 0xc8, 0xb7, 0xcd)
/* This partition: e0e16197-dd56-4a10-9195-5ee7a155a838 */
#define HV_GUID_LOOPBACK_INIT						\
	HV_GUID_INIT(0xe0e16197, 0xdd56, 0x4a10,			\
		     0x91, 0x95, 0x5e, 0xe7, 0xa1, 0x55, 0xa8, 0x38)
/* The parent (the host, seen from a guest): a42e7cda-d03f-480c-9cc2-a4de20abb878 */
#define HV_GUID_PARENT_INIT						\
	HV_GUID_INIT(0xa42e7cda, 0xd03f, 0x480c,			\
		     0x9c, 0xc2, 0xa4, 0xde, 0x20, 0xab, 0xb8, 0x78)
/* The silo host of a container: 36bd0c5c-7276-4223-88ba-7d03b654c568 */
#define HV_GUID_SILOHOST_INIT						\
	HV_GUID_INIT(0x36bd0c5c, 0x7276, 0x4223,			\
		     0x88, 0xba, 0x7d, 0x03, 0xb6, 0x54, 0xc5, 0x68)

/*
 * Services registered for AF_VSOCK on Hyper-V use the template
 * PPPPPPPP-facb-11e6-bd58-64006a7986d3, with the vsock port in the first
 * field; HV_GUID_VSOCK_INIT(port) builds one.
 */
#define HV_GUID_VSOCK_INIT(port)					\
	HV_GUID_INIT((__u32)(port), 0xfacb, 0x11e6,			\
		     0xbd, 0x58, 0x64, 0x00, 0x6a, 0x79, 0x86, 0xd3)

/*
 * SOL_HYPERV options, named and numbered after the Windows host's.
 *
 * HVSOCKET_CONNECT_TIMEOUT: __u32 milliseconds a blocking connect() waits
 * for the host, 1 to HVSOCKET_CONNECT_TIMEOUT_MAX; default 30000.
 */
#define HVSOCKET_CONNECT_TIMEOUT	1
#define HVSOCKET_CONNECT_TIMEOUT_MAX	300000

#endif /* _UAPI_LINUX_HV_SOCK_H */
