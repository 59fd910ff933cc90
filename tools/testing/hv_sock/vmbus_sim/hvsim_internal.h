/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmbus_sim internals: the simulated Hyper-V host shared between main.c,
 * config.c, bus.c, channel.c, offer.c, ring_host.c, conn.c, host_io.c,
 * faults.c and chardev.c.
 *
 * Two halves meet here. The guest half is the VMBus client API of
 * <linux/hyperv.h> that hvsock drivers call (channel.c, bus.c, plus the
 * kernel's own drivers/hv/ring_buffer.c). The host half (conn.c,
 * ring_host.c, offer.c) plays Windows: it owns one struct hvsim_conn per
 * connection and touches the guest only through the ring pages, offers,
 * rescinds and interrupts, as Hyper-V does.
 */
#ifndef _HVSIM_INTERNAL_H
#define _HVSIM_INTERNAL_H

#include <linux/hyperv.h>
#include <linux/irq_work.h>
#include <linux/kref.h>
#include <linux/rwsem.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "hvsim.h"

struct hvsim_listener;

/* struct vmpipe_proto_header, as the host defines it. */
struct hvsim_pipe_hdr {
	u32 pkt_type;
	u32 data_size;
} __packed;

#define HVSIM_PIPE_DATA		1

#define HVSIM_DESC_LEN		sizeof(struct vmpacket_descriptor)
#define HVSIM_TRAILER_LEN	sizeof(u64)
/* Ring bytes of one hvsock packet carrying @p payload bytes. */
#define HVSIM_PKT_LEN(p)	(HVSIM_DESC_LEN + sizeof(struct hvsim_pipe_hdr) + \
				 ALIGN((p), 8) + HVSIM_TRAILER_LEN)

/* A host write does not cut a packet smaller than this to fit the ring. */
#define HVSIM_TX_MIN_CHUNK	1024

#define HVSIM_DEFAULT_MTU		HVSIM_MTU_MAX
#define HVSIM_DEFAULT_OPEN_TIMEOUT_MS	30000
#define HVSIM_MAX_OFFER_DELAY_MS	60000
#define HVSIM_DEFAULT_BACKLOG		16
#define HVSIM_MAX_INJECT		65536

/**
 * struct hvsim_ring - the host's view of one ring of a channel
 * @hdr: the shared header page (struct hv_ring_buffer)
 * @data: first data byte; the host mapping is linear, not double-mapped
 * @size: data bytes
 * @pos: the host's own index: read index of the guest's outbound ring,
 *	write index of the guest's inbound ring. Never read back from the
 *	shared page, which the guest could scribble on.
 */
struct hvsim_ring {
	struct hv_ring_buffer *hdr;
	u8 *data;
	u32 size;
	u32 pos;
};

/**
 * struct hvsim_pkt - a guest packet the host has validated
 * @start: ring offset of the descriptor
 * @next: ring offset after the packet and its trailer
 * @data: ring offset of the payload
 * @data_size: payload bytes (vmpipe data_size); 0 is the FIN
 */
struct hvsim_pkt {
	u32 start;
	u32 next;
	u32 data;
	u32 data_size;
};

/* ring_host.c: the host side of the ring protocol */
void hvsim_ring_attach(struct hvsim_ring *r, struct page *first, u32 bytes);
void hvsim_ring_detach(struct hvsim_ring *r);
bool hvsim_ring_attached(const struct hvsim_ring *r);
int hvsim_ring_readable(const struct hvsim_ring *r, u32 *bytes);
int hvsim_ring_writable(const struct hvsim_ring *r, u32 *bytes);
int hvsim_ring_parse(const struct hvsim_ring *r, struct hvsim_pkt *pkt);
size_t hvsim_ring_copy_to_iter(const struct hvsim_ring *r, u32 pos, u32 len,
			       struct iov_iter *to);
void hvsim_ring_consume(struct hvsim_ring *r, u32 next);
u32 hvsim_ring_advance(const struct hvsim_ring *r, u32 pos, u32 n);
bool hvsim_ring_reader_should_signal(const struct hvsim_ring *r, u32 old_pos);
void hvsim_ring_put(struct hvsim_ring *r, u32 *pos, const void *src, u32 len);
size_t hvsim_ring_put_iter(struct hvsim_ring *r, u32 *pos, u32 len,
			   struct iov_iter *from);
void hvsim_ring_put_zero(struct hvsim_ring *r, u32 *pos, u32 len);
void hvsim_ring_publish(struct hvsim_ring *r, u32 new_pos);
bool hvsim_ring_writer_should_signal(const struct hvsim_ring *r, u32 old_pos);
void hvsim_ring_set_pending(struct hvsim_ring *r, u32 bytes);
void hvsim_ring_set_mask(struct hvsim_ring *r, bool masked);
u32 hvsim_ring_write_packet(struct hvsim_ring *r, u32 pos,
			    const struct vmpacket_descriptor *desc,
			    const void *hdr, u32 hdr_len, u32 payload_len,
			    struct iov_iter *payload, bool *fault);

/* Lifecycle of the guest-visible channel of a connection. */
enum hvsim_ch_state {
	HVSIM_CH_QUEUED,	/* offer queued, guest knows nothing */
	HVSIM_CH_DELIVERING,	/* offer work running: register, probe */
	HVSIM_CH_DELIVERED,	/* device registered */
	HVSIM_CH_RESCINDING,	/* rescind work queued or done */
	HVSIM_CH_GONE,		/* channel released */
};

/**
 * struct hvsim_channel - a channel as the simulated bus allocates it
 * @chan: what the guest driver sees
 * @conn: the host side; the channel holds a reference
 * @hdev: the device offered for it
 * @offer_work: delivers the offer (device_register) on hvsim_offer_wq
 * @rescind_work: rescinds it, as vmbus_onoffer_rescind() does
 * @free_work: releases it after the device is released
 * @isr_work: runs HV_CALL_ISR callbacks in hard interrupt context
 * @rescinded: completed when @chan.rescind is set
 * @dev_registered: device_register() succeeded
 * @bits: HVSIM_BIT_* bit numbers, for the atomic bitops
 */
struct hvsim_channel {
	struct vmbus_channel chan;
	struct hvsim_conn *conn;
	struct hv_device *hdev;
	struct delayed_work offer_work;
	struct work_struct rescind_work;
	struct work_struct free_work;
	struct irq_work isr_work;
	struct completion rescinded;
	bool dev_registered;
	unsigned long bits;
};

/* Bit numbers in hvsim_channel.bits; not values of enum hvsim_ch_state. */
#define HVSIM_BIT_UNREGISTERED	0	/* device_unregister() done */

static inline struct hvsim_channel *to_hvsim_channel(struct vmbus_channel *c)
{
	return container_of(c, struct hvsim_channel, chan);
}

/**
 * struct hvsim_conn - the host side of one hvsock connection
 * @ref: references: the host user, the channel, a pending open timeout
 * @lock: protects the state fields below and @hch
 * @wq: host waiters (read, write, connect, poll)
 * @events: bumped by every guest signal and every state change; host
 *	waiters sleep until it moves
 * @state: enum hvsim_state
 * @reason: enum hvsim_close_reason
 * @flags: HVSIM_INFO_*
 * @ch_state: enum hvsim_ch_state of @hch
 * @rescind_requested: the host decided to rescind
 * @hch: the channel, NULL once released
 * @relid: the channel's relid, kept for info after release
 * @guest_id: guest service / endpoint GUID
 * @host_id: host service / endpoint GUID
 * @listener: listener queue the connection is on, under hvsim_listen_lock
 * @lnode: entry on @listener's pending or ready list
 * @on_ready: @lnode is on the ready list
 * @timeout_work: rescinds the offer if the guest does not open it in time
 * @timeout_ms: open timeout in effect
 * @ring_sem: held for read while the host touches ring memory; the guest's
 *	vmbus_close() takes it for write before the pages go away
 * @rx_ring: guest -> host ring (the guest's outbound ring)
 * @tx_ring: host -> guest ring (the guest's inbound ring)
 * @rx_ring_size: size of @rx_ring as the guest passed it to vmbus_open()
 *	(its send ring size)
 * @tx_ring_size: size of @tx_ring as the guest passed it to vmbus_open()
 *	(its receive ring size)
 * @rx_lock: serialises host readers (of @rx_ring)
 * @tx_lock: serialises host writers (to @tx_ring)
 * @rx_pkt: packet being read, valid while @rx_left
 * @rx_left: payload bytes of @rx_pkt still to read
 * @rx_pos: ring offset of the next payload byte of @rx_pkt
 * @drain_stopped: fault: the host does not read the guest's ring
 * @stats: counters reported by HVSIM_IOC_CONN_INFO
 * @node: on hvsim_conns
 * @unloading: hvsim_conns_shutdown() has dealt with it
 *
 * Rings, locks and cursors are named from the host's side: the host
 * receives (rx) on the guest's outbound ring and transmits (tx) on the
 * guest's inbound ring. The /dev/hvsim ABI (struct hvsim_conn_info,
 * HVSIM_RING_OUT/IN) names the same rings from the guest's side.
 */
struct hvsim_conn {
	struct kref ref;
	spinlock_t lock;		/* state, flags, hch, listener */
	wait_queue_head_t wq;
	atomic_long_t events;
	enum hvsim_state state;
	enum hvsim_close_reason reason;
	u32 flags;
	enum hvsim_ch_state ch_state;
	bool rescind_requested;
	struct hvsim_channel *hch;
	u32 relid;
	guid_t guest_id;
	guid_t host_id;
	struct hvsim_listener *listener;
	struct list_head lnode;
	bool on_ready;
	struct delayed_work timeout_work;
	u32 timeout_ms;
	struct rw_semaphore ring_sem;	/* ring memory vs vmbus_close() */
	struct hvsim_ring rx_ring;
	struct hvsim_ring tx_ring;
	u32 rx_ring_size;
	u32 tx_ring_size;
	struct mutex rx_lock;		/* one host reader at a time */
	struct mutex tx_lock;		/* one host writer at a time */
	struct hvsim_pkt rx_pkt;
	u32 rx_left;
	u32 rx_pos;
	bool drain_stopped;
	struct {
		u64 bytes_to_guest;
		u64 bytes_from_guest;
		u64 pkts_to_guest;
		u64 pkts_from_guest;
		atomic64_t signals_to_guest;
		atomic64_t signals_from_guest;
		u64 guest_ring_full;
		u64 proto_errors;
	} stats;
	struct list_head node;
	bool unloading;
};

/* main.c: workqueues and global counters */
extern struct workqueue_struct *hvsim_offer_wq;
extern struct workqueue_struct *hvsim_rescind_wq;
extern struct workqueue_struct *hvsim_wq;

/*
 * Global counters; each is the field of the same name in struct
 * hvsim_stats (hvsim.h), which documents them.
 */
struct hvsim_counters {
	atomic64_t connect_requests;
	atomic64_t connects_ignored;
	atomic64_t connects_unanswered;
	atomic64_t offers;
	atomic64_t opens;
	atomic64_t opens_refused;
	atomic64_t rescinds;
	atomic64_t guest_closes;
	atomic64_t channels;
	atomic64_t probes_declined;
};

extern struct hvsim_counters hvsim_counters;

/* config.c: personality, MTU, timeouts, ring sizes */
u32 hvsim_cfg_mtu(void);
u32 hvsim_cfg_offer_delay_ms(void);
u32 hvsim_cfg_open_timeout_ms(void);
bool hvsim_ring_sizes_ok(u32 send_bytes, u32 recv_bytes);

/* config.c: one-shot fault counters */
bool hvsim_fault_take_ignore_connect(void);
bool hvsim_fault_take_fail_open(void);

/* bus.c: the simulated VMBus */
extern const struct bus_type hvsim_bus;
int hvsim_bus_init(void);
void hvsim_bus_exit(void);
int hvsim_device_add(struct hvsim_channel *hch);
void hvsim_device_remove(struct hvsim_channel *hch);

/* channel.c: guest-visible channel objects */
struct hvsim_channel *hvsim_channel_alloc(struct hvsim_conn *conn,
					  const guid_t *if_type,
					  const guid_t *if_instance,
					  bool from_host);
void hvsim_channel_release(struct hvsim_channel *hch);
void hvsim_channel_signal(struct hvsim_channel *hch);
void hvsim_channel_set_rescinded(struct hvsim_channel *hch);
int hvsim_channels_init(void);
void hvsim_channels_exit(void);

/* offer.c: offers, rescinds, open timeouts */
void hvsim_offer_queue(struct hvsim_conn *c, u32 delay_ms, u32 timeout_ms);
void hvsim_offer_work(struct work_struct *work);
void hvsim_rescind_work(struct work_struct *work);
void hvsim_timeout_work(struct work_struct *work);
void hvsim_conn_rescind(struct hvsim_conn *c, enum hvsim_close_reason why);
bool hvsim_conn_abort_offer(struct hvsim_conn *c, enum hvsim_close_reason why);

/* conn.c: host connections and listeners */
struct hvsim_conn *hvsim_conn_alloc(bool from_host, const guid_t *guest_id,
				    const guid_t *host_id);
void hvsim_conn_get(struct hvsim_conn *c);
void hvsim_conn_put(struct hvsim_conn *c);
void hvsim_conn_event(struct hvsim_conn *c);
void hvsim_conn_interrupt_guest(struct hvsim_conn *c);
int hvsim_conn_guest_open(struct hvsim_conn *c, struct vmbus_channel *chan);
void hvsim_conn_guest_close(struct hvsim_conn *c);
void hvsim_conn_guest_setevent(struct hvsim_conn *c);
void hvsim_conn_closed(struct hvsim_conn *c);
void hvsim_tl_connect(const guid_t *guest_id, const guid_t *host_id);
__poll_t hvsim_conn_poll(struct hvsim_conn *c, __poll_t wanted);
__poll_t hvsim_listener_poll(struct hvsim_listener *l);
wait_queue_head_t *hvsim_listener_waitq(struct hvsim_listener *l);
void hvsim_listener_info(struct hvsim_listener *l, struct hvsim_conn_info *i);
void hvsim_conns_shutdown(void);

/* chardev.c */
int hvsim_chardev_init(void);
void hvsim_chardev_exit(void);

#endif /* _HVSIM_INTERNAL_H */
