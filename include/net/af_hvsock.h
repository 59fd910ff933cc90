/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AF_HYPERV: kernel-internal definitions shared by net/hv_sock/ and its
 * KUnit tests.
 */
#ifndef __NET_AF_HVSOCK_H
#define __NET_AF_HVSOCK_H

#include <linux/hyperv.h>
#include <linux/list.h>
#include <linux/seqlock.h>
#include <linux/uuid.h>
#include <linux/workqueue.h>
#include <net/sock.h>
#include <uapi/linux/hv_sock.h>

/*
 * Ring geometry. Every connection uses one VMBus channel with two rings,
 * each a header page and data pages. WS2016 hosts (VMBus 4.x) accept five
 * data pages and nothing else; from VMBus 5.0 on, each ring follows the
 * socket's SO_SNDBUF or SO_RCVBUF (hvsock_ring_size()): the buffer size
 * taken is at least HVSOCK_RING_DATA_SIZE, at most HVSOCK_RING_BUF_MAX.
 */
#define HVSOCK_RING_DATA_SIZE	(5 * HV_HYP_PAGE_SIZE)
#define HVSOCK_RING_SIZE	VMBUS_RING_SIZE(HVSOCK_RING_DATA_SIZE)
#define HVSOCK_RING_BUF_MAX	(64 * HV_HYP_PAGE_SIZE)

/**
 * struct hvsock_pipe_hdr - the header in front of every hvsock payload
 * @pkt_type: HVSOCK_PIPE_DATA
 * @data_size: payload bytes that follow; zero is the FIN
 *
 * The host calls it the vmpipe protocol header. It follows the
 * &struct vmpacket_descriptor of a VM_PKT_DATA_INBAND packet.
 */
struct hvsock_pipe_hdr {
	u32 pkt_type;
	u32 data_size;
};

#define HVSOCK_PIPE_DATA	1

/* Descriptor plus pipe header: what precedes the payload on the ring. */
#define HVSOCK_HDR_LEN	(sizeof(struct vmpacket_descriptor) + \
			 sizeof(struct hvsock_pipe_hdr))
/* Ring bytes taken by a packet carrying @n payload bytes. */
#define HVSOCK_PKT_LEN(n) \
	HV_RINGBUFFER_INBAND_LEN(sizeof(struct hvsock_pipe_hdr), (n))

/* Largest payload of one packet, either way: the host's MTU. */
#define HVSOCK_MTU		(16 * 1024)

/*
 * Largest payload we send in one packet. The host frees ring space a whole
 * packet at a time: with packets of a fifth of the smallest ring it drains
 * one while we write the next, where 16 KiB packets leave the two sides
 * taking turns (a third of the throughput for large writes).
 */
#define HVSOCK_TX_PKT_MAX	4096
static_assert(HVSOCK_TX_PKT_MAX <= HVSOCK_MTU);

/*
 * A sender waits until at least HVSOCK_TX_MIN payload bytes fit (or the
 * whole rest of its message, if smaller), so a full ring does not
 * degenerate into a stream of tiny packets. HVSOCK_TX_PENDING is the
 * pending_send_sz we give the host: it signals when the free space grows
 * past it, which is exactly when HVSOCK_TX_MIN bytes fit again (free space
 * is a multiple of 8, and a packet plus the FIN reserve costs 72 bytes of
 * overhead).
 */
#define HVSOCK_TX_MIN		4096
#define HVSOCK_TX_OVERHEAD	(HVSOCK_PKT_LEN(0) + HVSOCK_PKT_LEN(0) + 8)
#define HVSOCK_TX_PENDING	(HVSOCK_TX_MIN + HVSOCK_TX_OVERHEAD - 8)

/* Default and limits of SOL_HYPERV HVSOCKET_CONNECT_TIMEOUT, in ms. */
#define HVSOCK_CONNECT_TIMEOUT_DEFAULT	30000

/* How long a graceful close waits for the host's rescind. */
#define HVSOCK_CLOSE_TIMEOUT	(8 * HZ)

/**
 * struct hvsock_rx - receive cursor over the inbound ring
 * @pub: read index last published to the host
 * @cur: ring offset of the packet being consumed (valid when @left > 0)
 * @next: ring offset of the first packet not parsed yet
 * @off: ring offset of the next payload byte to deliver
 * @left: payload bytes of the current packet not delivered yet
 * @seq: lets poll() and /proc read @pub, @next and @left as one snapshot
 *
 * Offsets are relative to the ring data area. The host's read index only
 * moves in whole packets, so a partly read packet stays on the ring and
 * is published once it is consumed. The reader moves the cursor under the
 * socket lock; lockless readers use hvsock_rx_scan().
 */
struct hvsock_rx {
	seqcount_t seq;
	u32 pub;
	u32 cur;
	u32 next;
	u32 off;
	u32 left;
};

/**
 * struct hvsock_pkt - a validated inbound packet
 * @data_off: ring offset of the payload
 * @data_len: payload bytes (0 for the FIN)
 * @next: ring offset of the packet after this one
 */
struct hvsock_pkt {
	u32 data_off;
	u32 data_len;
	u32 next;
};

/*
 * Bits of hvsock_sock::flags, changed with atomic bit operations: the
 * channel callback and poll() use some of them without the socket lock.
 * OPEN, CLOSED, RESCINDED, UNREG and RESET are not one state machine: our
 * close and the host's rescind come in either order, and RESET says why
 * the connection ended. Who sets and tests each bit, under which lock:
 * Documentation/networking/af_hvsock.rst, "Kernel internals".
 */
enum {
	HVSOCK_F_BOUND,		/* in the bind table under local_srv */
	HVSOCK_F_AUTOBIND,	/* bound by connect(), not by the user */
	HVSOCK_F_CONNECTED,	/* was connected: the peer is known */
	HVSOCK_F_OPEN,		/* @chan is ours, from vmbus_open() to remove() */
	HVSOCK_F_CLOSED,	/* vmbus_close() done */
	HVSOCK_F_RESCINDED,	/* rescind_work saw the host's rescind */
	HVSOCK_F_UNREG,		/* device unregistration started or done */
	HVSOCK_F_FIN_SENT,	/* our FIN is on the ring */
	HVSOCK_F_PEER_FIN,	/* the host's FIN was consumed */
	HVSOCK_F_RESET,		/* bad host input: connection reset */
	HVSOCK_F_WANT_SPACE,	/* a writer or poller waits for ring space */
};

/**
 * struct hvsock_sock - an AF_HYPERV socket
 * @sk: the socket; must be first
 * @local_srv: local service GUID (zero until bound)
 * @remote_srv: the host's service GUID (connected sockets)
 * @bind_node: entry in the bind table, keyed by @local_srv
 * @all_node: entry in the list of all sockets, for /proc/net/hv_sock and
 *	sock_diag
 * @accept_q: listener: connected children not accepted yet
 * @accept_node: child: entry in its listener's @accept_q
 * @chan: the connection's VMBus channel, or NULL
 * @flags: HVSOCK_F_* bits
 * @connect_timeout: HVSOCKET_CONNECT_TIMEOUT in milliseconds
 * @connect_deadline: jiffies at which a pending connect() fails
 * @send_mtu: largest payload we put in one packet (at most the host's MTU)
 * @tx_pending: the pending_send_sz currently given to the host
 * @tx_wr: our copy of the outbound write index (we are its only writer)
 * @rx: receive cursor, under the socket lock
 * @connect_work: fails a connect the host never answered
 * @close_work: closes and unregisters the channel after release
 * @rescind_work: handles the host's rescind of @chan
 * @list_id: position on the list of all sockets, for resuming a walk
 *
 * Lifetime: the socket holds one reference for its user (or, before
 * accept(), for the listener's queue), the opened channel holds another
 * until hvsock_remove(), and each queued @connect_work, @close_work and
 * @rescind_work holds one. @chan is valid while HVSOCK_F_OPEN is set; its
 * rings only while hvsock_ring_ok(), which turns false for good once the
 * connection is reset or closed: every ring access of the socket calls
 * go through hvsock_live_chan(), under the socket lock or, for lockless
 * readers, under rcu_read_lock(). (The channel callback runs only while
 * the channel is open: vmbus_close() stops it.)
 */
struct hvsock_sock {
	struct sock		sk;
	guid_t			local_srv;
	guid_t			remote_srv;
	struct hlist_node	bind_node;
	struct list_head	all_node;
	struct list_head	accept_q;
	struct list_head	accept_node;
	struct vmbus_channel	*chan;
	unsigned long		flags;
	u32			connect_timeout;
	unsigned long		connect_deadline;
	u32			send_mtu;
	u32			tx_pending;
	u32			tx_wr;
	struct hvsock_rx	rx;
	struct delayed_work	connect_work;
	struct delayed_work	close_work;
	struct work_struct	rescind_work;
	u64			list_id;
};

static inline struct hvsock_sock *hvsock_sk(const struct sock *sk)
{
	return container_of(sk, struct hvsock_sock, sk);
}

/*
 * sk_state uses the TCP state names, as AF_VSOCK and AF_UNIX streams do;
 * poll() and /proc read it without the socket lock.
 */
static inline void hvsock_set_state(struct sock *sk, int state)
{
	/* Pairs with hvsock_state(): lockless readers see what came before. */
	smp_store_release(&sk->sk_state, state);
}

static inline int hvsock_state(const struct sock *sk)
{
	/* Pairs with hvsock_set_state(). */
	return smp_load_acquire(&sk->sk_state);
}

/* The rings may be used: open, not closed, not reset. */
static inline bool hvsock_ring_ok(const struct hvsock_sock *hs)
{
	/* Pairs with hvsock_chan_open(): @chan is set before OPEN. */
	unsigned long f = smp_load_acquire(&hs->flags);

	return (f & BIT(HVSOCK_F_OPEN)) &&
	       !(f & (BIT(HVSOCK_F_CLOSED) | BIT(HVSOCK_F_RESET)));
}

/*
 * VMBus sets chan->rescind before it calls our rescind callback, whose
 * work runs later (after a resume, for the rescinds of hibernation): in
 * between, nothing may signal the host or send on the channel, whose
 * relid may already be gone.
 */
static inline bool hvsock_chan_rescinded(const struct vmbus_channel *chan)
{
	return READ_ONCE(chan->rescind);
}

/**
 * hvsock_live_chan() - the channel, if its rings may be used
 * @hs: the socket, locked or inside rcu_read_lock()
 *
 * Return: the channel, or NULL once the connection is reset or its
 * channel closed; after that nothing may touch the rings again.
 */
static inline struct vmbus_channel *
hvsock_live_chan(const struct hvsock_sock *hs)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_held() &&
			 !lockdep_sock_is_held(&hs->sk),
			 "hv_sock: rings used without the socket lock or RCU");
	return hvsock_ring_ok(hs) ? READ_ONCE(hs->chan) : NULL;
}

/* socket.c */
extern struct workqueue_struct *hvsock_wq;
int hvsock_addr_validate(const struct sockaddr_hv *addr, int addr_len);
bool hvsock_srv_is_vsock(const guid_t *srv);
bool hvsock_srv_is_reserved(const guid_t *srv);
struct hvsock_sock *hvsock_alloc(struct sock *parent, int kern);
void hvsock_peer_gone(struct hvsock_sock *hs);
void hvsock_reset(struct hvsock_sock *hs, const char *why);
void hvsock_close_work(struct work_struct *work);
void hvsock_connect_work(struct work_struct *work);
void hvsock_connect_cancel(struct hvsock_sock *hs);
void hvsock_connect_failed(struct hvsock_sock *hs, int err);
void hvsock_rescind_work(struct work_struct *work);

/**
 * struct hvsock_queues - what a socket holds on its rings
 * @rxq: payload bytes received and not read
 * @txq: payload bytes sent and not taken by the host
 * @rx_ring: data bytes of the inbound ring
 * @tx_ring: data bytes of the outbound ring
 *
 * All zero while the socket has no channel whose rings may be used.
 */
struct hvsock_queues {
	u32 rxq;
	u32 txq;
	u32 rx_ring;
	u32 tx_ring;
};

void hvsock_get_queues(struct hvsock_sock *hs, struct hvsock_queues *q);

/* table.c */
extern spinlock_t hvsock_table_lock;
extern struct list_head hvsock_all;
int hvsock_bind_service(struct hvsock_sock *hs, const guid_t *srv);
void hvsock_unbind(struct hvsock_sock *hs);
struct hvsock_sock *hvsock_lookup_bound(const guid_t *srv);
void hvsock_link(struct hvsock_sock *hs);
void hvsock_unlink(struct hvsock_sock *hs);
int hvsock_walk(u64 *pos, int (*fn)(struct hvsock_sock *hs, void *arg),
		void *arg);

/* vmbus.c */
int hvsock_vmbus_init(void);
void hvsock_vmbus_exit(void);
void hvsock_chan_close(struct hvsock_sock *hs);
void hvsock_queue_close(struct hvsock_sock *hs, unsigned long delay);

/* ring.c */
u32 hvsock_ring_size(u32 vmbus_version, int buf);
int hvsock_rx_init(const struct hv_ring_buffer_info *rbi,
		   struct hvsock_rx *rx);
int hvsock_rx_avail(const struct hv_ring_buffer_info *rbi,
		    const struct hvsock_rx *rx, u32 *avail);
int hvsock_pkt_parse(const struct hv_ring_buffer_info *rbi, u32 pos,
		     u32 avail, struct hvsock_pkt *pkt);
int hvsock_rx_pull(const struct hv_ring_buffer_info *rbi,
		   struct hvsock_rx *rx, struct iov_iter *to, size_t len,
		   size_t skip, bool *fin);
int hvsock_rx_scan(const struct hv_ring_buffer_info *rbi,
		   const struct hvsock_rx *rx, u32 *bytes, bool *fin);
bool hvsock_rx_publish(struct hv_ring_buffer_info *rbi,
		       struct hvsock_rx *rx);
bool hvsock_rx_pending(const struct hv_ring_buffer_info *rbi,
		       const struct hvsock_rx *rx);
int hvsock_tx_room(const struct hv_ring_buffer_info *rbi, u32 wr, u32 mtu);
int hvsock_tx_queued(const struct hv_ring_buffer_info *rbi, u32 wr);
int hvsock_pkt_write(struct hv_ring_buffer_info *rbi, u32 *wr,
		     struct iov_iter *from, u32 len, bool *kick);

/* proc.c */
int hvsock_proc_net_init(struct net *net);
void hvsock_proc_net_exit(struct net *net);

/* netns.c */
bool hvsock_net_enabled(const struct net *net);
int hvsock_net_register(void);
void hvsock_net_unregister(void);

#endif /* __NET_AF_HVSOCK_H */
