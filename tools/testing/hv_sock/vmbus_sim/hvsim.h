/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ABI of the simulated Hyper-V host, /dev/hvsim
 *
 * vmbus_sim.ko plays the Windows host for hvsock drivers in a guest kernel
 * built without CONFIG_HYPERV. This header is the contract between the
 * simulator and the programs that drive its host side (hvhost, the
 * kselftests); it builds unchanged in userspace (plain C, <linux/types.h>)
 * and in the kernel.
 *
 * Model
 * -----
 * Every open() of /dev/hvsim yields an unbound host endpoint. One ioctl
 * turns it into either
 *
 *  - a listener (HVSIM_IOC_LISTEN) on a host service GUID: a guest
 *    connect() to that service (a VMBus TL connect request) makes the host
 *    offer a hvsock channel to the guest, if_type = the service,
 *    if_instance = the guest's endpoint GUID, user_def[0] = 0. Once the
 *    guest has opened the channel (vmbus_open), the connection is queued on
 *    the listener: poll() reports EPOLLIN and HVSIM_IOC_ACCEPT returns a new
 *    fd for it. A guest connect request for a service nobody listens on is
 *    dropped without any answer, as Hyper-V does: the guest's connect()
 *    times out;
 *
 *  - a connection (HVSIM_IOC_CONNECT) to a guest service GUID: the host
 *    offers a channel with if_type = the guest's service, if_instance = a
 *    fresh random host endpoint GUID (or the one given), user_def[0] = 1, and
 *    waits for the guest driver to open it.
 *
 * A connection fd moves data with read() (guest -> host payload bytes) and
 * write() (host -> guest, cut into VMBus in-band packets carrying a
 * struct vmpipe_proto_header and at most config.mtu payload bytes each).
 * HVSIM_IOC_SHUTDOWN sends the zero-length packet (FIN). close() of the
 * last reference to the fd, or HVSIM_IOC_RESCIND, rescinds the channel:
 * that is how a Hyper-V host closes a hvsock connection.
 *
 * GUIDs are __u8[16] in the Windows in-memory layout (first three fields
 * little-endian), exactly as struct sockaddr_hv in <linux/hv_sock.h>, so
 * its HV_GUID_*_INIT initializers and the helpers of
 * tools/hv_sock/hv_guid_text.h apply.
 *
 * All ioctls return 0 or a positive count on success and -1 with errno set
 * on failure (in the kernel API, hvsim_host.h, a negative errno).
 *
 * Connection states and poll()
 * ----------------------------
 * HVSIM_STATE_OFFERED  the offer is queued or delivered, the guest has not
 *                      opened the channel yet: read/write fail with ENOTCONN,
 *                      poll() reports nothing.
 * HVSIM_STATE_OPEN     data flows. EPOLLIN: guest payload or FIN is
 *                      readable (EPOLLRDHUP too once the FIN was read).
 *                      EPOLLOUT: the guest's inbound ring has room for a
 *                      packet (or write() would fail at once).
 * HVSIM_STATE_CLOSED   the channel is gone or going; see close_reason.
 *                      EPOLLIN, EPOLLRDHUP and EPOLLHUP (read() does not
 *                      block: it returns 0 or the error), plus EPOLLERR
 *                      unless the guest had sent its FIN or the host
 *                      itself rescinded the channel.
 * A listener reports EPOLLIN while a connection waits to be accepted.
 *
 * Flow control follows the VMBus ring rules both ways: the host signals the
 * guest only on an empty -> non-empty transition of the guest's inbound
 * ring with interrupt_mask clear, or when it frees enough of the guest's
 * outbound ring to cross the guest's pending_send_sz; a blocked host waits
 * for a guest signal (vmbus_setevent()) and nothing else. A guest driver
 * that forgets to signal hangs here as it would on Hyper-V.
 */
#ifndef _HVSIM_H
#define _HVSIM_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define HVSIM_DEVICE_PATH	"/dev/hvsim"

/* Largest payload of one hvsock packet the host sends or accepts. */
#define HVSIM_MTU_MAX		16384

/* "Forever" for the fault counters in struct hvsim_config. */
#define HVSIM_FOREVER		0xffffffffU

/**
 * enum hvsim_personality - which Windows host the simulator plays
 * @HVSIM_PERSONALITY_WS2016: Windows Server 2016. vmbus_proto_version is
 *	VERSION_WIN10 (4.0). The host accepts a hvsock channel only if each
 *	ring passed to vmbus_open() is exactly 6 * 4096 bytes (one header page
 *	and five data pages); otherwise it fails the OPENCHANNEL request and
 *	the guest's vmbus_open() returns -EAGAIN, the error Linux maps any
 *	non-zero open status to. This is the default.
 * @HVSIM_PERSONALITY_MODERN: Windows Server 2019 and later.
 *	vmbus_proto_version is VERSION_WIN10_V5_2 (5.2). Each ring may be
 *	2 to 65 pages (one header page, 1 to 64 data pages).
 *
 * Both send packets of up to 16 KiB payload by default (the hvsock MTU,
 * HVS_MTU_SIZE in hyperv_transport.c); hvsim_config.mtu lowers it.
 */
enum hvsim_personality {
	HVSIM_PERSONALITY_WS2016 = 0,
	HVSIM_PERSONALITY_MODERN = 1,
};

/**
 * enum hvsim_state - state of a host endpoint (struct hvsim_conn_info.state)
 * @HVSIM_STATE_NONE: fresh fd, neither listener nor connection
 * @HVSIM_STATE_LISTENING: listener
 * @HVSIM_STATE_OFFERED: channel offer queued or delivered, not yet opened
 * @HVSIM_STATE_OPEN: the guest opened the channel
 * @HVSIM_STATE_CLOSED: closed, see enum hvsim_close_reason
 */
enum hvsim_state {
	HVSIM_STATE_NONE = 0,
	HVSIM_STATE_LISTENING = 1,
	HVSIM_STATE_OFFERED = 2,
	HVSIM_STATE_OPEN = 3,
	HVSIM_STATE_CLOSED = 4,
};

/**
 * enum hvsim_close_reason - why a connection is in HVSIM_STATE_CLOSED
 * @HVSIM_CLOSE_NONE: not closed
 * @HVSIM_CLOSE_HOST: the host rescinded it (HVSIM_IOC_RESCIND or close())
 * @HVSIM_CLOSE_GUEST: the guest closed the channel (vmbus_close()); the
 *	host then rescinds it, as Hyper-V does
 * @HVSIM_CLOSE_REFUSED: the host refused the guest's vmbus_open() (ring
 *	sizes, injected failure) and rescinded the offer
 * @HVSIM_CLOSE_TIMEOUT: the guest did not open the channel in time
 *	(hvsim_connect.timeout_ms or hvsim_config.open_timeout_ms); rescinded
 * @HVSIM_CLOSE_PROTOCOL: the guest broke the ring or pipe protocol (bad
 *	indices, packet type, length, vmpipe header); rescinded
 * @HVSIM_CLOSE_UNLOAD: vmbus_sim is being unloaded
 */
enum hvsim_close_reason {
	HVSIM_CLOSE_NONE = 0,
	HVSIM_CLOSE_HOST = 1,
	HVSIM_CLOSE_GUEST = 2,
	HVSIM_CLOSE_REFUSED = 3,
	HVSIM_CLOSE_TIMEOUT = 4,
	HVSIM_CLOSE_PROTOCOL = 5,
	HVSIM_CLOSE_UNLOAD = 6,
};

/* hvsim_listen.flags */
/*
 * Accept connections as soon as their offer is queued, before the guest
 * opened the channel: the accepted fd starts in HVSIM_STATE_OFFERED, so a
 * test can rescind it before the guest's vmbus_open() (or, with
 * offer_delay_ms, before the guest even sees the offer).
 */
#define HVSIM_LISTEN_EARLY_ACCEPT	0x1U

/**
 * struct hvsim_listen - argument of HVSIM_IOC_LISTEN
 * @service_id: in: host service GUID guests connect to
 * @backlog: in: connections offered but not yet accepted, at most; further
 *	guest requests are dropped unanswered. 0 means 16.
 * @flags: in: HVSIM_LISTEN_*
 *
 * Fails with EADDRINUSE if another listener has the service, EINVAL if the
 * fd is not fresh.
 */
struct hvsim_listen {
	__u8	service_id[16];
	__u32	backlog;
	__u32	flags;
};

/* hvsim_accept.flags and hvsim_connect.flags: properties of the new fd */
#define HVSIM_FD_NONBLOCK	0x1U
#define HVSIM_FD_CLOEXEC	0x2U

/**
 * struct hvsim_accept - argument of HVSIM_IOC_ACCEPT (on a listener)
 * @guest_service_id: out: the guest's endpoint GUID (offer if_instance)
 * @host_service_id: out: the listener's service GUID (offer if_type)
 * @fd: out: new connection fd
 * @flags: in: HVSIM_FD_NONBLOCK, HVSIM_FD_CLOEXEC for the new fd
 *
 * Blocks until a connection is ready unless the listener fd is O_NONBLOCK
 * (then EAGAIN).
 */
struct hvsim_accept {
	__u8	guest_service_id[16];
	__u8	host_service_id[16];
	__s32	fd;
	__u32	flags;
};

/* hvsim_connect.flags (besides nothing else: HVSIM_FD_* do not apply) */
/* Return as soon as the offer is queued; poll() for EPOLLOUT / EPOLLHUP. */
#define HVSIM_CONNECT_NOWAIT	0x1U

/**
 * struct hvsim_connect - argument of HVSIM_IOC_CONNECT (on a fresh fd)
 * @service_id: in: the guest's service GUID (offer if_type)
 * @host_service_id: in/out: host endpoint GUID (offer if_instance); all
 *	zero on input means a fresh random GUID, reported back
 * @timeout_ms: in: how long the guest may take to open the channel;
 *	0 means hvsim_config.open_timeout_ms. When it expires the host
 *	rescinds the offer.
 * @flags: in: HVSIM_CONNECT_*
 *
 * Returns 0 once the guest opened the channel. Errors: ETIMEDOUT (nobody in
 * the guest took the offer in time; rescinded), ECONNREFUSED (the host
 * refused the guest's vmbus_open(): ring sizes for the personality or an
 * injected failure), ECONNRESET (rescinded meanwhile), EINTR (signal: the
 * connection stays in progress as with HVSIM_CONNECT_NOWAIT). With
 * HVSIM_CONNECT_NOWAIT returns 0 once the offer is queued.
 */
struct hvsim_connect {
	__u8	service_id[16];
	__u8	host_service_id[16];
	__u32	timeout_ms;
	__u32	flags;
};

/* hvsim_conn_info.flags */
#define HVSIM_INFO_FROM_HOST		0x1U /* host-initiated connection */
#define HVSIM_INFO_OFFER_DELIVERED	0x2U /* guest saw the offer */
#define HVSIM_INFO_FIN_SENT		0x4U /* host sent FIN */
#define HVSIM_INFO_FIN_RECEIVED		0x8U /* guest sent FIN */
#define HVSIM_INFO_DRAIN_STOPPED	0x10U /* HVSIM_IOC_STOP_DRAIN on */
#define HVSIM_INFO_RESCINDED		0x20U /* rescind sent to guest */

/**
 * struct hvsim_conn_info - result of HVSIM_IOC_CONN_INFO
 * @state: enum hvsim_state
 * @close_reason: enum hvsim_close_reason
 * @flags: HVSIM_INFO_*
 * @relid: the channel's child_relid, 0 if none yet
 * @guest_service_id: guest endpoint / service GUID
 * @host_service_id: host service / endpoint GUID
 * @send_ring_size: guest -> host ring as passed to vmbus_open(), bytes
 * @recv_ring_size: host -> guest ring as passed to vmbus_open(), bytes
 * @bytes_to_guest: payload bytes the host wrote into the guest's ring
 * @bytes_from_guest: payload bytes the host consumed from the guest's ring
 * @pkts_to_guest: packets written, FIN and injected ones included
 * @pkts_from_guest: packets consumed, FIN included
 * @signals_to_guest: interrupts the host raised for the channel
 * @signals_from_guest: vmbus_setevent() calls by the guest
 * @guest_ring_full: times a host write found the guest's ring full
 * @proto_errors: guest packets that broke the protocol
 * @out_ring: the guest's outbound ring header as it is now: read_index,
 *	write_index, interrupt_mask, pending_send_sz (zero once detached)
 * @in_ring: the same for the guest's inbound ring
 */
struct hvsim_conn_info {
	__u32	state;
	__u32	close_reason;
	__u32	flags;
	__u32	relid;
	__u8	guest_service_id[16];
	__u8	host_service_id[16];
	__u32	send_ring_size;
	__u32	recv_ring_size;
	__u64	bytes_to_guest;
	__u64	bytes_from_guest;
	__u64	pkts_to_guest;
	__u64	pkts_from_guest;
	__u64	signals_to_guest;
	__u64	signals_from_guest;
	__u64	guest_ring_full;
	__u64	proto_errors;
	__u32	out_ring[4];
	__u32	in_ring[4];
};

/**
 * struct hvsim_config - global host behaviour (HVSIM_IOC_GET/SET_CONFIG)
 * @personality: enum hvsim_personality. Changing it changes
 *	vmbus_proto_version at once; it applies to channels opened afterwards.
 *	Drivers read vmbus_proto_version at load and open time, so switch
 *	before loading them or between connections.
 * @vmbus_version: out: vmbus_proto_version in effect (ignored by SET)
 * @mtu: largest payload per host -> guest packet, 1 to HVSIM_MTU_MAX;
 *	0 on SET restores the default (16384)
 * @offer_delay_ms: fault: delay each offer by this long (0 to 60000)
 * @open_timeout_ms: rescind an offer the guest has not opened within this
 *	time, as Hyper-V does; 0 on SET restores the default (30000)
 * @ignore_connects: fault: drop the next N guest connect requests
 *	unanswered (HVSIM_FOREVER: all, until reset to 0). Counts down.
 * @fail_opens: fault: refuse the next N vmbus_open() calls (the guest sees
 *	-EAGAIN). Counts down; HVSIM_FOREVER: all.
 * @flags: zero
 * @reserved: zero
 *
 * SET replaces the whole configuration: GET, modify, SET. The module
 * parameter "personality" (ws2016 or modern, writable in
 * /sys/module/vmbus_sim/parameters/) sets @personality too.
 */
struct hvsim_config {
	__u32	personality;
	__u32	vmbus_version;
	__u32	mtu;
	__u32	offer_delay_ms;
	__u32	open_timeout_ms;
	__u32	ignore_connects;
	__u32	fail_opens;
	__u32	flags;
	__u32	reserved[8];
};

/**
 * struct hvsim_stats - global counters (HVSIM_IOC_GET_STATS)
 * @connect_requests: TL connect requests received from the guest
 * @connects_ignored: of which dropped by the ignore_connects fault
 * @connects_unanswered: of which dropped for lack of a listener or backlog
 * @offers: channels offered
 * @opens: successful vmbus_open() calls
 * @opens_refused: vmbus_open() calls the host refused
 * @rescinds: channels rescinded
 * @guest_closes: vmbus_close() calls on open channels
 * @channels: channels currently known to the guest (offered, not released)
 * @probes_declined: guest driver probes that declined an offer (-ENODEV or
 *	-ENXIO: the driver core then tries the next hvsock driver)
 * @reserved: zero
 */
struct hvsim_stats {
	__u64	connect_requests;
	__u64	connects_ignored;
	__u64	connects_unanswered;
	__u64	offers;
	__u64	opens;
	__u64	opens_refused;
	__u64	rescinds;
	__u64	guest_closes;
	__u64	channels;
	__u64	probes_declined;
	__u64	reserved[6];
};

/* hvsim_inject.kind */
/*
 * RAW: copy @len bytes to the guest's inbound ring at its write index and
 * advance the write index by @len (any value, even unaligned). No
 * descriptor, no trailer: the bytes are the packet(s).
 */
#define HVSIM_INJECT_RAW	0
/*
 * PACKET: a vmpacket_descriptor {type = @pkt_type, flags = @pkt_flags,
 * offset8 = 2, len8 = (16 + ALIGN(@len, 8)) / 8, trans_id = @trans_id},
 * then the @len bytes zero-padded to 8, then the 64-bit trailer (previous
 * write index << 32). The write index advances by the bytes actually
 * written, whatever offset8/len8 say.
 */
#define HVSIM_INJECT_PACKET	1
/*
 * PIPE: like PACKET, but the data are a struct vmpipe_proto_header
 * {pkt_type = @pipe_type, data_size = @len} followed by the @len bytes.
 */
#define HVSIM_INJECT_PIPE	2

/* hvsim_inject.flags */
#define HVSIM_INJECT_F_OFFSET8		0x1U /* use @offset8 as given */
#define HVSIM_INJECT_F_LEN8		0x2U /* use @len8 as given */
#define HVSIM_INJECT_F_DATA_SIZE	0x4U /* use @pipe_data_size */
#define HVSIM_INJECT_F_NO_SIGNAL	0x8U /* never interrupt the guest */
#define HVSIM_INJECT_F_SIGNAL		0x10U /* interrupt unconditionally */

/**
 * struct hvsim_inject - argument of HVSIM_IOC_INJECT (on an open connection)
 * @data: in: user pointer to @len bytes
 * @len: in: number of bytes, at most 65536
 * @kind: in: HVSIM_INJECT_*
 * @flags: in: HVSIM_INJECT_F_*
 * @pkt_type: in: descriptor type for PACKET/PIPE (6 = VM_PKT_DATA_INBAND)
 * @pkt_flags: in: descriptor flags
 * @offset8: in: descriptor offset8 if HVSIM_INJECT_F_OFFSET8
 * @len8: in: descriptor len8 if HVSIM_INJECT_F_LEN8
 * @pipe_type: in: vmpipe_proto_header.pkt_type for PIPE (1 = data)
 * @pipe_data_size: in: vmpipe_proto_header.data_size for PIPE if
 *	HVSIM_INJECT_F_DATA_SIZE
 * @reserved0: zero
 * @trans_id: in: descriptor trans_id
 * @reserved: zero
 *
 * The bytes go to the guest's inbound ring at once, ahead of nothing and
 * behind whatever the host wrote before; the guest is signalled following
 * the usual rule unless a signal flag says otherwise. Returns the number of
 * ring bytes consumed. Errors: EAGAIN (not enough room in the ring: the
 * ring always keeps one 8-byte slot free), ENOTCONN (not open), EINVAL.
 * Bad descriptor lengths, unknown packet types, oversize packets (PIPE with
 * @len > 16384), truncated packets (F_LEN8 smaller than the data, or
 * F_DATA_SIZE larger) and bad data_size values are all expressible.
 */
struct hvsim_inject {
	__u64	data;
	__u32	len;
	__u32	kind;
	__u32	flags;
	__u16	pkt_type;
	__u16	pkt_flags;
	__u16	offset8;
	__u16	len8;
	__u32	pipe_type;
	__u32	pipe_data_size;
	__u32	reserved0;
	__u64	trans_id;
	__u64	reserved[2];
};

/* hvsim_poke.ring */
#define HVSIM_RING_IN		0 /* the guest's inbound ring: host -> guest */
#define HVSIM_RING_OUT		1 /* the guest's outbound ring: guest -> host */

/*
 * hvsim_poke.field: a field of the ring's header page (struct
 * hv_ring_buffer), numbered as in hvsim_conn_info.out_ring and in_ring
 */
#define HVSIM_POKE_READ_INDEX		0
#define HVSIM_POKE_WRITE_INDEX		1
#define HVSIM_POKE_INTERRUPT_MASK	2
#define HVSIM_POKE_PENDING_SEND_SZ	3

/* hvsim_poke.flags */
#define HVSIM_POKE_F_SIGNAL	0x1U /* interrupt the guest afterwards */

/**
 * struct hvsim_poke - argument of HVSIM_IOC_POKE (on an open connection)
 * @ring: in: HVSIM_RING_*
 * @field: in: HVSIM_POKE_*
 * @value: in: the value stored into the field
 * @flags: in: HVSIM_POKE_F_*
 * @old: out: the value the field held before
 * @reserved: zero
 *
 * Fault: store @value into one field of a ring header shared with the
 * guest, as a hostile host can: the fields the host owns (the inbound
 * ring's write_index and pending_send_sz, the outbound ring's read_index
 * and interrupt_mask) and those the guest owns alike, with any value
 * (unaligned, out of range, behind or ahead of the real index). Only the
 * shared page changes: the host's own positions do not, so its next write
 * to the inbound ring publishes its real write index again and its next
 * read of the outbound ring stores its real read index; and the host
 * trusts what the guest owns no more than before (a guest-owned index
 * made invalid resets the connection as a guest protocol error once the
 * host looks at it). Errors: ENOTCONN (not open, or the rings are gone),
 * EINVAL.
 */
struct hvsim_poke {
	__u32	ring;
	__u32	field;
	__u32	value;
	__u32	flags;
	__u32	old;
	__u32	reserved[3];
};

#define HVSIM_IOC_MAGIC		0xB9

/* Fresh fd -> listener. */
#define HVSIM_IOC_LISTEN	_IOW(HVSIM_IOC_MAGIC, 0x01, struct hvsim_listen)
/* Listener: take one connection; returns its fd in the struct. */
#define HVSIM_IOC_ACCEPT	_IOWR(HVSIM_IOC_MAGIC, 0x02, struct hvsim_accept)
/* Fresh fd -> connection to a guest service. */
#define HVSIM_IOC_CONNECT	_IOWR(HVSIM_IOC_MAGIC, 0x03, struct hvsim_connect)
/*
 * Connection: send the FIN (zero-length packet) once; later writes fail
 * with EPIPE. Blocks for ring space unless O_NONBLOCK (EAGAIN).
 */
#define HVSIM_IOC_SHUTDOWN	_IO(HVSIM_IOC_MAGIC, 0x04)
/*
 * Connection: rescind the channel now, in any state, also before the guest
 * opened it or saw the offer. Later read/write fail with ECONNABORTED.
 * Also the way to fail a connection on purpose.
 */
#define HVSIM_IOC_RESCIND	_IO(HVSIM_IOC_MAGIC, 0x05)
/* Any host fd: its state and counters. */
#define HVSIM_IOC_CONN_INFO	_IOR(HVSIM_IOC_MAGIC, 0x06, struct hvsim_conn_info)
/*
 * Connection: fault: __u32 argument, 1 = stop draining the guest's
 * outbound ring (read() blocks or fails with EAGAIN, the guest's ring
 * fills up and its writers block), 0 = drain again.
 */
#define HVSIM_IOC_STOP_DRAIN	_IOW(HVSIM_IOC_MAGIC, 0x07, __u32)
/* Connection: fault: write raw or malformed packets into the guest ring. */
#define HVSIM_IOC_INJECT	_IOW(HVSIM_IOC_MAGIC, 0x08, struct hvsim_inject)
/* Any fd: global configuration and fault knobs. */
#define HVSIM_IOC_GET_CONFIG	_IOR(HVSIM_IOC_MAGIC, 0x09, struct hvsim_config)
#define HVSIM_IOC_SET_CONFIG	_IOW(HVSIM_IOC_MAGIC, 0x0a, struct hvsim_config)
/* Any fd: global counters. */
#define HVSIM_IOC_GET_STATS	_IOR(HVSIM_IOC_MAGIC, 0x0b, struct hvsim_stats)
/* Connection: fault: overwrite a field of a shared ring header. */
#define HVSIM_IOC_POKE		_IOWR(HVSIM_IOC_MAGIC, 0x0c, struct hvsim_poke)

/*
 * read() on a connection: guest payload bytes; 0 at end of stream (the
 * guest sent FIN, or closed cleanly after it). ENOTCONN before the guest
 * opened the channel, ECONNRESET if the guest closed or broke the protocol
 * without FIN, ECONNABORTED after the host rescinded, EAGAIN if O_NONBLOCK
 * (or draining is stopped) and nothing is ready.
 *
 * write() on a connection: host -> guest payload, packets of at most
 * config.mtu bytes. Blocks while the guest's ring is full (returns the
 * bytes written so far if interrupted). EPIPE after HVSIM_IOC_SHUTDOWN or
 * once the guest closed the channel, ECONNABORTED after a rescind,
 * ENOTCONN before open, EAGAIN if O_NONBLOCK and nothing fits.
 */

#endif /* _HVSIM_H */
