// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest half of VMBus channels: the client API of <linux/hyperv.h>
 * that hvsock drivers call. Ring buffers are set up and used by the
 * kernel's own drivers/hv/ring_buffer.c, linked into this module; this
 * file provides what ring_buffer.c expects from the rest of VMBus
 * (vmbus_setevent()), channel open and close as the host sees them, and
 * interrupt delivery in the contexts real VMBus uses.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uio.h>

/* hv_ringbuffer_init() and friends, implemented by ring_buffer.c */
#include "hyperv_vmbus.h"

#include "hvsim_internal.h"

/* VMBus relids start at 1; hvsock channels share the 2048 the host has. */
#define HVSIM_MAX_RELID		2047

static DEFINE_IDA(hvsim_relids);

/* Per-channel tasklet, as vmbus_on_event() runs it. */
static void hvsim_chan_tasklet(struct tasklet_struct *t)
{
	struct vmbus_channel *chan = from_tasklet(chan, t, callback_event);
	void (*cb)(void *context);

	cb = READ_ONCE(chan->onchannel_callback);
	if (unlikely(!cb))
		return;

	cb(chan->channel_callback_context);

	if (chan->callback_mode != HV_CALL_BATCHED)
		return;
	if (likely(hv_end_read(&chan->inbound) == 0))
		return;
	hv_begin_read(&chan->inbound);
	tasklet_schedule(&chan->callback_event);
}

/* HV_CALL_ISR: the callback runs in hard interrupt context. */
static void hvsim_isr_work(struct irq_work *work)
{
	struct hvsim_channel *hch = container_of(work, struct hvsim_channel,
						 isr_work);
	struct vmbus_channel *chan = &hch->chan;

	spin_lock(&chan->sched_lock);
	if (chan->onchannel_callback)
		chan->onchannel_callback(chan->channel_callback_context);
	spin_unlock(&chan->sched_lock);
}

static void hvsim_free_work(struct work_struct *work)
{
	hvsim_channel_release(container_of(work, struct hvsim_channel,
					   free_work));
}

static void hvsim_chan_init_offer(struct vmbus_channel *chan, u32 relid,
				  const guid_t *if_type,
				  const guid_t *if_instance, bool from_host)
{
	struct vmbus_channel_offer_channel *msg = &chan->offermsg;

	msg->header.msgtype = CHANNELMSG_OFFERCHANNEL;
	guid_copy(&msg->offer.if_type, if_type);
	guid_copy(&msg->offer.if_instance, if_instance);
	msg->offer.chn_flags = VMBUS_CHANNEL_TLNPI_PROVIDER_OFFER;
	msg->offer.u.pipe.user_def[0] = from_host;
	msg->child_relid = relid;
	msg->connection_id = relid;
	msg->is_dedicated_interrupt = 1;
}

/**
 * hvsim_channel_alloc() - create the channel for a new offer
 * @conn: host side; gets a reference held by the channel
 * @if_type: offer if_type
 * @if_instance: offer if_instance
 * @from_host: offer u.pipe.user_def[0]
 *
 * Return: the channel, in state HVSIM_CH_QUEUED, or NULL.
 */
struct hvsim_channel *hvsim_channel_alloc(struct hvsim_conn *conn,
					  const guid_t *if_type,
					  const guid_t *if_instance,
					  bool from_host)
{
	struct hvsim_channel *hch;
	struct vmbus_channel *chan;
	unsigned long flags;
	int relid;

	hch = kzalloc(sizeof(*hch), GFP_KERNEL);
	if (!hch)
		return NULL;

	relid = ida_alloc_range(&hvsim_relids, 1, HVSIM_MAX_RELID, GFP_KERNEL);
	if (relid < 0) {
		kfree(hch);
		return NULL;
	}

	chan = &hch->chan;
	hvsim_chan_init_offer(chan, relid, if_type, if_instance, from_host);
	chan->is_dedicated_interrupt = true;
	chan->state = CHANNEL_OPEN_STATE;
	chan->callback_mode = HV_CALL_BATCHED;
	spin_lock_init(&chan->sched_lock);
	init_completion(&chan->rescind_event);
	INIT_LIST_HEAD(&chan->listentry);
	INIT_LIST_HEAD(&chan->sc_list);
	tasklet_setup(&chan->callback_event, hvsim_chan_tasklet);
	hv_ringbuffer_pre_init(chan);

	hch->conn = conn;
	INIT_DELAYED_WORK(&hch->offer_work, hvsim_offer_work);
	INIT_WORK(&hch->rescind_work, hvsim_rescind_work);
	INIT_WORK(&hch->free_work, hvsim_free_work);
	init_irq_work(&hch->isr_work, hvsim_isr_work);
	init_completion(&hch->rescinded);

	hvsim_conn_get(conn);
	spin_lock_irqsave(&conn->lock, flags);
	conn->hch = hch;
	conn->relid = relid;
	conn->ch_state = HVSIM_CH_QUEUED;
	spin_unlock_irqrestore(&conn->lock, flags);

	atomic64_inc(&hvsim_counters.channels);
	return hch;
}

/**
 * hvsim_channel_release() - free a channel the guest no longer knows
 * @hch: channel whose device is released, or whose offer was never
 *	delivered
 *
 * Process context.
 */
void hvsim_channel_release(struct hvsim_channel *hch)
{
	struct hvsim_conn *conn = hch->conn;
	unsigned long flags;

	spin_lock_irqsave(&conn->lock, flags);
	conn->hch = NULL;
	conn->ch_state = HVSIM_CH_GONE;
	spin_unlock_irqrestore(&conn->lock, flags);
	hvsim_conn_closed(conn);

	tasklet_kill(&hch->chan.callback_event);
	irq_work_sync(&hch->isr_work);
	ida_free(&hvsim_relids, hch->chan.offermsg.child_relid);
	atomic64_dec(&hvsim_counters.channels);

	kfree(hch->hdev);
	kfree(hch);
	hvsim_conn_put(conn);
}

/**
 * hvsim_channel_signal() - raise the channel interrupt in the guest
 * @hch: channel
 *
 * What vmbus_chan_sched() does when the host sets the channel's event
 * flag: nothing once the channel is rescinded or has no callback; else
 * run the callback in hard interrupt context (HV_CALL_ISR) or schedule the
 * channel tasklet, masking host interrupts first for HV_CALL_BATCHED.
 * Called with interrupts and bottom halves disabled.
 */
void hvsim_channel_signal(struct hvsim_channel *hch)
{
	struct vmbus_channel *chan = &hch->chan;

	if (READ_ONCE(chan->rescind))
		return;

	spin_lock(&chan->sched_lock);
	if (chan->onchannel_callback) {
		++chan->interrupts;
		switch (chan->callback_mode) {
		case HV_CALL_ISR:
			irq_work_queue(&hch->isr_work);
			break;
		case HV_CALL_BATCHED:
			hv_begin_read(&chan->inbound);
			fallthrough;
		case HV_CALL_DIRECT:
			tasklet_schedule(&chan->callback_event);
			break;
		}
	}
	spin_unlock(&chan->sched_lock);
}

/**
 * hvsim_channel_set_rescinded() - the guest learns the channel is rescinded
 * @hch: channel
 */
void hvsim_channel_set_rescinded(struct hvsim_channel *hch)
{
	WRITE_ONCE(hch->chan.rescind, true);
	complete_all(&hch->rescinded);
}

/**
 * vmbus_reset_channel_cb() - stop channel callbacks
 * @channel: channel
 *
 * Waits for a running callback to finish; none runs afterwards until the
 * channel is opened again.
 */
void vmbus_reset_channel_cb(struct vmbus_channel *channel)
{
	unsigned long flags;

	tasklet_disable(&channel->callback_event);

	spin_lock_irqsave(&channel->sched_lock, flags);
	channel->onchannel_callback = NULL;
	spin_unlock_irqrestore(&channel->sched_lock, flags);

	channel->sc_creation_callback = NULL;

	tasklet_enable(&channel->callback_event);
}
EXPORT_SYMBOL_GPL(vmbus_reset_channel_cb);

/**
 * vmbus_alloc_ring() - allocate the ring pages of a channel
 * @channel: channel
 * @send_size: guest -> host ring size in bytes, header page included
 * @recv_size: host -> guest ring size in bytes, header page included
 *
 * Return: 0, -EINVAL for sizes that are not whole pages, -ENOMEM.
 */
int vmbus_alloc_ring(struct vmbus_channel *channel, u32 send_size,
		     u32 recv_size)
{
	unsigned int i;
	struct page *page;
	int order;

	if (!send_size || !recv_size ||
	    send_size % PAGE_SIZE || recv_size % PAGE_SIZE)
		return -EINVAL;

	order = get_order((size_t)send_size + recv_size);
	if (order > MAX_PAGE_ORDER)
		return -ENOMEM;

	/* As the patched VMBus: no warning, keep only the pages used. */
	page = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, order);
	if (!page)
		return -ENOMEM;
	split_page(page, order);
	for (i = (send_size + recv_size) >> PAGE_SHIFT; i < 1U << order; i++)
		__free_page(page + i);

	channel->ringbuffer_page = page;
	channel->ringbuffer_pagecount = (send_size + recv_size) >> PAGE_SHIFT;
	channel->ringbuffer_send_offset = send_size >> PAGE_SHIFT;
	return 0;
}
EXPORT_SYMBOL_GPL(vmbus_alloc_ring);

/**
 * vmbus_free_ring() - free the ring pages of a closed channel
 * @channel: channel
 */
void vmbus_free_ring(struct vmbus_channel *channel)
{
	hv_ringbuffer_cleanup(&channel->outbound);
	hv_ringbuffer_cleanup(&channel->inbound);

	if (channel->ringbuffer_page) {
		free_pages_exact(page_address(channel->ringbuffer_page),
				 channel->ringbuffer_pagecount << PAGE_SHIFT);
		channel->ringbuffer_page = NULL;
	}
}
EXPORT_SYMBOL_GPL(vmbus_free_ring);

static void hvsim_ring_cleanup(struct vmbus_channel *chan)
{
	hv_ringbuffer_cleanup(&chan->outbound);
	hv_ringbuffer_cleanup(&chan->inbound);
	chan->state = CHANNEL_OPEN_STATE;
}

/*
 * Open a channel whose rings are allocated; the caller withdraws a refused
 * offer (hvsim_withdraw_refused()) once it no longer touches the channel.
 */
static int hvsim_connect_ring(struct vmbus_channel *channel,
			      void (*onchannel_callback)(void *context),
			      void *context)
{
	struct hvsim_channel *hch = to_hvsim_channel(channel);
	struct page *page = channel->ringbuffer_page;
	u32 send_pages = channel->ringbuffer_send_offset;
	u32 recv_pages = channel->ringbuffer_pagecount - send_pages;
	int err;

	if (channel->state != CHANNEL_OPEN_STATE)
		return -EINVAL;

	channel->state = CHANNEL_OPENING_STATE;
	channel->onchannel_callback = onchannel_callback;
	channel->channel_callback_context = context;
	if (!channel->max_pkt_size)
		channel->max_pkt_size = VMBUS_DEFAULT_MAX_PKT_SIZE;

	err = hv_ringbuffer_init(&channel->outbound, page, send_pages, 0);
	if (!err)
		err = hv_ringbuffer_init(&channel->inbound, &page[send_pages],
					 recv_pages, channel->max_pkt_size);
	if (!err && READ_ONCE(channel->rescind))
		err = -ENODEV;
	if (!err)
		err = hvsim_conn_guest_open(hch->conn, channel);
	if (err) {
		hvsim_ring_cleanup(channel);
		return err;
	}

	channel->state = CHANNEL_OPENED_STATE;
	return 0;
}

/*
 * The host withdraws an offer whose open it refused. Only once the guest
 * is done with the channel: the rescind may unregister the device and
 * free the channel.
 */
static void hvsim_withdraw_refused(struct vmbus_channel *channel, int err)
{
	if (err == -EAGAIN)
		hvsim_conn_rescind(to_hvsim_channel(channel)->conn,
				   HVSIM_CLOSE_REFUSED);
}

/**
 * vmbus_connect_ring() - open a channel whose rings are allocated
 * @channel: channel
 * @onchannel_callback: called on every host interrupt
 * @context: argument of @onchannel_callback
 *
 * The host checks the ring sizes against its personality and may refuse
 * the open; see vmbus_open().
 *
 * Return: 0, -EINVAL if the channel is not in the offered state, -ENODEV
 * if it was rescinded, -EAGAIN if the host refused, -ENOMEM.
 */
int vmbus_connect_ring(struct vmbus_channel *channel,
		       void (*onchannel_callback)(void *context),
		       void *context)
{
	int err = hvsim_connect_ring(channel, onchannel_callback, context);

	hvsim_withdraw_refused(channel, err);
	return err;
}
EXPORT_SYMBOL_GPL(vmbus_connect_ring);

/**
 * vmbus_open() - allocate the rings of a channel and open it
 * @newchannel: channel offered to the driver
 * @send_ringbuffersize: guest -> host ring, bytes including the header page
 * @recv_ringbuffersize: host -> guest ring, bytes including the header page
 * @userdata: bytes for the host, at most MAX_USER_DEFINED_BYTES (ignored)
 * @userdatalen: length of @userdata
 * @onchannel_callback: called on every host interrupt, in the context the
 *	channel's read mode selects (tasklet by default)
 * @context: argument of @onchannel_callback
 *
 * The simulated host refuses rings its personality does not accept
 * (ws2016: anything but 6 pages each) and opens made to fail by the
 * fail_opens fault; Linux reports any refusal as -EAGAIN.
 *
 * Return: 0 or a negative errno.
 */
int vmbus_open(struct vmbus_channel *newchannel,
	       u32 send_ringbuffersize, u32 recv_ringbuffersize,
	       void *userdata, u32 userdatalen,
	       void (*onchannel_callback)(void *context), void *context)
{
	int err;

	if (userdatalen > MAX_USER_DEFINED_BYTES)
		return -EINVAL;

	err = vmbus_alloc_ring(newchannel, send_ringbuffersize,
			       recv_ringbuffersize);
	if (err)
		return err;

	err = hvsim_connect_ring(newchannel, onchannel_callback, context);
	if (err) {
		vmbus_free_ring(newchannel);
		hvsim_withdraw_refused(newchannel, err);
	}
	return err;
}
EXPORT_SYMBOL_GPL(vmbus_open);

/**
 * vmbus_disconnect_ring() - close a channel but keep its ring pages
 * @channel: channel
 *
 * Stops callbacks and tells the host, which stops touching the rings
 * before this returns and then rescinds the channel if it had not yet.
 *
 * Return: 0, or -EINVAL if the channel was not open.
 */
int vmbus_disconnect_ring(struct vmbus_channel *channel)
{
	if (channel->primary_channel)
		return -EINVAL;

	vmbus_reset_channel_cb(channel);

	if (channel->state != CHANNEL_OPENED_STATE)
		return -EINVAL;

	channel->state = CHANNEL_OPEN_STATE;
	hvsim_conn_guest_close(to_hvsim_channel(channel)->conn);
	return 0;
}
EXPORT_SYMBOL_GPL(vmbus_disconnect_ring);

/**
 * vmbus_close() - close a channel and free its rings
 * @channel: channel; nothing happens if it is not open
 */
void vmbus_close(struct vmbus_channel *channel)
{
	if (vmbus_disconnect_ring(channel) == 0)
		vmbus_free_ring(channel);
}
EXPORT_SYMBOL_GPL(vmbus_close);

/**
 * vmbus_sendpacket_getid() - write one packet to the outbound ring
 * @channel: open channel
 * @buffer: packet data
 * @bufferlen: bytes at @buffer
 * @requestid: transaction id
 * @trans_id: out: transaction id used, may be NULL
 * @type: descriptor type, e.g. VM_PKT_DATA_INBAND
 * @flags: descriptor flags
 *
 * Return: 0, -EAGAIN if the ring is full, -ENODEV if rescinded.
 */
int vmbus_sendpacket_getid(struct vmbus_channel *channel, void *buffer,
			   u32 bufferlen, u64 requestid, u64 *trans_id,
			   enum vmbus_packet_type type, u32 flags)
{
	struct vmpacket_descriptor desc;
	u32 len = sizeof(desc) + bufferlen;
	u32 aligned = ALIGN(len, sizeof(u64));
	u64 pad = 0;
	struct kvec kv[3];
	u32 count = 1;

	desc.type = type;
	desc.flags = flags;
	desc.offset8 = sizeof(desc) >> 3;
	desc.len8 = (u16)(aligned >> 3);
	desc.trans_id = VMBUS_RQST_ERROR;

	kv[0].iov_base = &desc;
	kv[0].iov_len = sizeof(desc);
	if (bufferlen) {
		kv[1].iov_base = buffer;
		kv[1].iov_len = bufferlen;
		kv[2].iov_base = &pad;
		kv[2].iov_len = aligned - len;
		count = 3;
	}

	return hv_ringbuffer_write(channel, kv, count, requestid, trans_id);
}
EXPORT_SYMBOL(vmbus_sendpacket_getid);

/**
 * vmbus_sendpacket() - write one packet to the outbound ring
 * @channel: open channel
 * @buffer: packet data
 * @bufferlen: bytes at @buffer
 * @requestid: transaction id
 * @type: descriptor type, e.g. VM_PKT_DATA_INBAND
 * @flags: descriptor flags
 *
 * Return: 0, -EAGAIN if the ring is full, -ENODEV if rescinded.
 */
int vmbus_sendpacket(struct vmbus_channel *channel, void *buffer,
		     u32 bufferlen, u64 requestid,
		     enum vmbus_packet_type type, u32 flags)
{
	return vmbus_sendpacket_getid(channel, buffer, bufferlen, requestid,
				      NULL, type, flags);
}
EXPORT_SYMBOL(vmbus_sendpacket);

/**
 * vmbus_recvpacket() - copy the payload of the next inbound packet
 * @channel: open channel
 * @buffer: destination
 * @bufferlen: size of @buffer
 * @buffer_actual_len: out: payload length, 0 if no packet
 * @requestid: out: transaction id
 *
 * Return: 0, or -ENOBUFS if @buffer is too small.
 */
int vmbus_recvpacket(struct vmbus_channel *channel, void *buffer,
		     u32 bufferlen, u32 *buffer_actual_len, u64 *requestid)
{
	return hv_ringbuffer_read(channel, buffer, bufferlen,
				  buffer_actual_len, requestid, false);
}
EXPORT_SYMBOL(vmbus_recvpacket);

/**
 * vmbus_recvpacket_raw() - copy the next inbound packet with its descriptor
 * @channel: open channel
 * @buffer: destination
 * @bufferlen: size of @buffer
 * @buffer_actual_len: out: packet length, 0 if no packet
 * @requestid: out: transaction id
 *
 * Return: 0, or -ENOBUFS if @buffer is too small.
 */
int vmbus_recvpacket_raw(struct vmbus_channel *channel, void *buffer,
			 u32 bufferlen, u32 *buffer_actual_len,
			 u64 *requestid)
{
	return hv_ringbuffer_read(channel, buffer, bufferlen,
				  buffer_actual_len, requestid, true);
}
EXPORT_SYMBOL_GPL(vmbus_recvpacket_raw);

/**
 * vmbus_set_event() - signal the host for a channel
 * @channel: channel
 *
 * Any context. The host wakes whatever waits on the channel.
 */
void vmbus_set_event(struct vmbus_channel *channel)
{
	++channel->sig_events;
	hvsim_conn_guest_setevent(to_hvsim_channel(channel)->conn);
}
EXPORT_SYMBOL_GPL(vmbus_set_event);

/**
 * vmbus_setevent() - signal the host for a channel
 * @channel: channel
 *
 * hvsock channels are not monitored, so this is vmbus_set_event().
 */
void vmbus_setevent(struct vmbus_channel *channel)
{
	vmbus_set_event(channel);
}
EXPORT_SYMBOL_GPL(vmbus_setevent);

/**
 * vmbus_set_chn_rescind_callback() - set the rescind callback of a channel
 * @channel: channel
 * @chn_rescind_cb: called from a workqueue when the host rescinds
 */
void vmbus_set_chn_rescind_callback(struct vmbus_channel *channel,
				    void (*chn_rescind_cb)(struct vmbus_channel *))
{
	channel->chn_rescind_callback = chn_rescind_cb;
}
EXPORT_SYMBOL_GPL(vmbus_set_chn_rescind_callback);

/**
 * vmbus_set_sc_create_callback() - set the sub-channel callback
 * @primary_channel: channel
 * @sc_cr_cb: never called: hvsock channels have no sub-channels
 */
void vmbus_set_sc_create_callback(struct vmbus_channel *primary_channel,
				  void (*sc_cr_cb)(struct vmbus_channel *new_sc))
{
	primary_channel->sc_creation_callback = sc_cr_cb;
}
EXPORT_SYMBOL_GPL(vmbus_set_sc_create_callback);

/**
 * vmbus_send_tl_connect_request() - ask the host for a hvsock connection
 * @shv_guest_servie_id: the guest's endpoint GUID
 * @shv_host_servie_id: the host service GUID
 *
 * Process context. If a host listener exists for the service, the host
 * offers a channel (if_type = @shv_host_servie_id, if_instance =
 * @shv_guest_servie_id, user_def[0] = 0), which goes to every hvsock
 * driver in turn as any offer does; if not, nothing ever happens, as on
 * Hyper-V.
 *
 * Return: 0 (the request itself cannot fail).
 */
int vmbus_send_tl_connect_request(const guid_t *shv_guest_servie_id,
				  const guid_t *shv_host_servie_id)
{
	might_sleep();
	hvsim_tl_connect(shv_guest_servie_id, shv_host_servie_id);
	return 0;
}
EXPORT_SYMBOL_GPL(vmbus_send_tl_connect_request);

/**
 * vmbus_hvsock_device_unregister() - remove the device of a hvsock channel
 * @channel: channel whose connection the driver is done with
 *
 * Waits (without counting as a hung task) for the host's rescind, which
 * always comes when a connection is closed, then unregisters the device;
 * the driver's remove callback closes the channel.
 */
void vmbus_hvsock_device_unregister(struct vmbus_channel *channel)
{
	struct hvsim_channel *hch = to_hvsim_channel(channel);

	if (WARN_ON(!is_hvsock_channel(channel)))
		return;

	wait_for_completion_state(&hch->rescinded, TASK_IDLE);
	hvsim_device_remove(hch);
}
EXPORT_SYMBOL_GPL(vmbus_hvsock_device_unregister);

int hvsim_channels_init(void)
{
	return 0;
}

void hvsim_channels_exit(void)
{
	ida_destroy(&hvsim_relids);
}
