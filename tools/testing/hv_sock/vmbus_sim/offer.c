// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control plane between the simulated host and the guest: offering a
 * channel (the guest sees a new device on the vmbus bus), rescinding it
 * (as vmbus_onoffer_rescind() handles CHANNELMSG_RESCIND_CHANNELOFFER) and
 * the host's timeout for offers the guest never opens.
 *
 * Offers are delivered in order on an ordered workqueue, and the driver's
 * probe runs there synchronously. A rescind runs on its own workqueue,
 * only after the offer has been processed, and calls the driver's rescind
 * callback if it set one, else unregisters the device.
 */
#include <linux/device.h>
#include <linux/workqueue.h>

#include "hvsim_internal.h"

/**
 * hvsim_offer_queue() - schedule the offer of a connection's new channel
 * @c: connection whose channel is in HVSIM_CH_QUEUED
 * @delay_ms: delay before the guest sees the offer (fault injection)
 * @timeout_ms: the host rescinds the offer if the guest has not opened it
 *	@timeout_ms after it was delivered
 *
 * Does not sleep.
 */
void hvsim_offer_queue(struct hvsim_conn *c, u32 delay_ms, u32 timeout_ms)
{
	unsigned long delay = msecs_to_jiffies(delay_ms);

	c->timeout_ms = timeout_ms;
	hvsim_conn_get(c);
	if (!queue_delayed_work(hvsim_wq, &c->timeout_work,
				delay + msecs_to_jiffies(timeout_ms)))
		hvsim_conn_put(c);
	queue_delayed_work(hvsim_offer_wq, &c->hch->offer_work, delay);
}

/* The channel is delivered (HVSIM_CH_DELIVERED). */
static void hvsim_queue_rescind(struct hvsim_conn *c)
{
	lockdep_assert_held(&c->lock);
	c->ch_state = HVSIM_CH_RESCINDING;
	c->flags |= HVSIM_INFO_RESCINDED;
	/* Keeps the channel alive until the rescind work is done. */
	get_device(&c->hch->hdev->device);
	queue_work(hvsim_rescind_wq, &c->hch->rescind_work);
}

/**
 * hvsim_offer_work() - deliver an offer: register the device, probe
 * @work: hvsim_channel.offer_work
 */
void hvsim_offer_work(struct work_struct *work)
{
	struct hvsim_channel *hch = container_of(to_delayed_work(work),
						 struct hvsim_channel,
						 offer_work);
	struct hvsim_conn *c = hch->conn;
	unsigned long flags;
	int ret;

	/*
	 * Once probe_done is set, the guest may unregister the device and
	 * so release the channel and its reference on @c before we finish.
	 */
	hvsim_conn_get(c);
	spin_lock_irqsave(&c->lock, flags);
	c->ch_state = HVSIM_CH_DELIVERING;
	c->flags |= HVSIM_INFO_OFFER_DELIVERED;
	spin_unlock_irqrestore(&c->lock, flags);
	atomic64_inc(&hvsim_counters.offers);

	ret = hvsim_device_add(hch);
	WRITE_ONCE(hch->chan.probe_done, true);

	spin_lock_irqsave(&c->lock, flags);
	if (!ret) {
		c->ch_state = HVSIM_CH_DELIVERED;
		if (c->rescind_requested)
			hvsim_queue_rescind(c);
	}
	spin_unlock_irqrestore(&c->lock, flags);
	hvsim_conn_event(c);

	if (ret) {
		hvsim_conn_abort_offer(c, HVSIM_CLOSE_REFUSED);
		hvsim_channel_release(hch);
	}
	hvsim_conn_put(c);
}

/**
 * hvsim_rescind_work() - the guest handles a rescind
 * @work: hvsim_channel.rescind_work
 *
 * As vmbus_onoffer_rescind(): stop callbacks, mark the channel rescinded
 * (waking vmbus_hvsock_device_unregister()), then either call the
 * driver's rescind callback or unregister the device.
 */
void hvsim_rescind_work(struct work_struct *work)
{
	struct hvsim_channel *hch = container_of(work, struct hvsim_channel,
						 rescind_work);
	struct vmbus_channel *chan = &hch->chan;
	struct device *dev = &hch->hdev->device;
	void (*cb)(struct vmbus_channel *chan);

	atomic64_inc(&hvsim_counters.rescinds);
	vmbus_reset_channel_cb(chan);
	hvsim_channel_set_rescinded(hch);

	cb = READ_ONCE(chan->chn_rescind_callback);
	if (cb)
		cb(chan);
	else
		hvsim_device_remove(hch);

	put_device(dev);
}

/**
 * hvsim_timeout_work() - rescind an offer the guest did not open in time
 * @work: hvsim_conn.timeout_work
 */
void hvsim_timeout_work(struct work_struct *work)
{
	struct hvsim_conn *c = container_of(to_delayed_work(work),
					    struct hvsim_conn, timeout_work);

	if (hvsim_conn_abort_offer(c, HVSIM_CLOSE_TIMEOUT))
		hvsim_conn_rescind(c, HVSIM_CLOSE_TIMEOUT);
	hvsim_conn_put(c);
}

/**
 * hvsim_conn_rescind() - the host closes a connection: rescind its channel
 * @c: connection
 * @why: close reason recorded if the connection was not closed yet
 *
 * Idempotent. An offer the guest has not seen yet is withdrawn; one being
 * delivered is rescinded as soon as the probe returns; a delivered one is
 * rescinded now. Process context, no spinlocks held.
 */
void hvsim_conn_rescind(struct hvsim_conn *c, enum hvsim_close_reason why)
{
	struct hvsim_channel *discard = NULL;
	unsigned long flags;

	might_sleep();
	spin_lock_irqsave(&c->lock, flags);
	if (c->state != HVSIM_STATE_CLOSED) {
		c->state = HVSIM_STATE_CLOSED;
		c->reason = why;
	}
	if (!c->rescind_requested && c->hch) {
		c->rescind_requested = true;
		switch (c->ch_state) {
		case HVSIM_CH_QUEUED:
			if (cancel_delayed_work(&c->hch->offer_work))
				discard = c->hch;
			break;
		case HVSIM_CH_DELIVERED:
			hvsim_queue_rescind(c);
			break;
		default:
			/* Being delivered: done when the probe returns. */
			break;
		}
	}
	spin_unlock_irqrestore(&c->lock, flags);

	/* No open to wait for any more; the caller holds a reference. */
	if (cancel_delayed_work(&c->timeout_work))
		hvsim_conn_put(c);
	hvsim_conn_event(c);
	if (discard)
		hvsim_channel_release(discard);
}
