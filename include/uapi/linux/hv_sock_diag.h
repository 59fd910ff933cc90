/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * AF_HYPERV sock_diag(7) interface: list the Hyper-V sockets of the
 * requester's network namespace, as ss(8) does for other families.
 *
 * Send a SOCK_DIAG_BY_FAMILY request with NLM_F_DUMP carrying a
 * struct hvsock_diag_req on a NETLINK_SOCK_DIAG socket; every socket whose
 * state is in hdiag_states comes back as a struct hvsock_diag_msg followed
 * by the attributes hdiag_show asked for. Only dumps are supported.
 *
 * Service GUIDs are in the layout of struct sockaddr_hv in
 * <linux/hv_sock.h>: the Windows in-memory layout.
 */
#ifndef _UAPI_LINUX_HV_SOCK_DIAG_H
#define _UAPI_LINUX_HV_SOCK_DIAG_H

#include <linux/types.h>

/**
 * struct hvsock_diag_req - request
 * @sdiag_family: AF_HYPERV
 * @sdiag_protocol: must be 0
 * @pad: must be 0
 * @hdiag_states: bitmap of the socket states wanted, 1 << TCP_LISTEN etc.
 * @hdiag_ino: must be 0 (reserved)
 * @hdiag_show: HVSOCK_DIAG_SHOW_* bits: the attributes wanted
 * @hdiag_cookie: must be 0 (reserved)
 *
 * 24 bytes, laid out as struct unix_diag_req and struct vsock_diag_req.
 * A request with a reserved field set or an unknown show bit fails with
 * EINVAL, so that later kernels can give them a meaning.
 */
struct hvsock_diag_req {
	__u8	sdiag_family;
	__u8	sdiag_protocol;
	__u16	pad;
	__u32	hdiag_states;
	__u32	hdiag_ino;
	__u32	hdiag_show;
	__u32	hdiag_cookie[2];
};

/* hdiag_show bits */
#define HVSOCK_DIAG_SHOW_QUEUES	0x00000001	/* HVSOCK_DIAG_QUEUES */
#define HVSOCK_DIAG_SHOW_RINGS	0x00000002	/* HVSOCK_DIAG_RINGS */
#define HVSOCK_DIAG_SHOW_UID	0x00000004	/* HVSOCK_DIAG_UID */
#define HVSOCK_DIAG_SHOW_ALL	0x00000007

/**
 * struct hvsock_diag_msg - reply, one per socket
 * @hdiag_family: AF_HYPERV
 * @hdiag_type: SOCK_STREAM
 * @hdiag_state: the socket state, TCP_ESTABLISHED etc.
 * @hdiag_shutdown: RCV_SHUTDOWN (1) and SEND_SHUTDOWN (2) bits
 * @hdiag_ino: the socket's inode number, 0 once the socket is closed
 * @hdiag_cookie: the socket cookie, as SO_COOKIE reports it
 * @hdiag_local_srv: local service GUID, zero until bound
 * @hdiag_remote_srv: the peer's service GUID, zero until connected
 *
 * 48 bytes without padding. The VM GUIDs are left out: a guest socket's
 * are always the wildcard and the parent. A kernel that lets a socket
 * name another VM would report them in an attribute of their own.
 */
struct hvsock_diag_msg {
	__u8	hdiag_family;
	__u8	hdiag_type;
	__u8	hdiag_state;
	__u8	hdiag_shutdown;
	__u32	hdiag_ino;
	__u32	hdiag_cookie[2];
	__u8	hdiag_local_srv[16];
	__u8	hdiag_remote_srv[16];
};

/* Netlink attributes after struct hvsock_diag_msg. */
enum {
	HVSOCK_DIAG_UNSPEC,
	HVSOCK_DIAG_QUEUES,	/* struct hvsock_diag_queues */
	HVSOCK_DIAG_RINGS,	/* struct hvsock_diag_rings */
	HVSOCK_DIAG_UID,	/* __u32: the owner, in the requester's user ns */

	__HVSOCK_DIAG_MAX,
};

#define HVSOCK_DIAG_MAX (__HVSOCK_DIAG_MAX - 1)

/**
 * struct hvsock_diag_queues - queue bytes (HVSOCK_DIAG_QUEUES)
 * @hdiag_rqueue: payload bytes received and not read yet; for a
 *	listener, connections waiting for accept()
 * @hdiag_wqueue: payload bytes sent and not taken by the peer yet; for
 *	a listener, the backlog
 *
 * As ss shows Recv-Q and Send-Q.
 */
struct hvsock_diag_queues {
	__u32	hdiag_rqueue;
	__u32	hdiag_wqueue;
};

/**
 * struct hvsock_diag_rings - ring sizes (HVSOCK_DIAG_RINGS)
 * @hdiag_rx_ring: data bytes of the inbound ring
 * @hdiag_tx_ring: data bytes of the outbound ring
 *
 * Both are 0 when the socket has no open channel.
 */
struct hvsock_diag_rings {
	__u32	hdiag_rx_ring;
	__u32	hdiag_tx_ring;
};

#endif /* _UAPI_LINUX_HV_SOCK_DIAG_H */
