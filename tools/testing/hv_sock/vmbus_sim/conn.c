// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host connections and listeners: how the simulated host answers guest
 * connect requests, connects to guest services, and follows the guest's
 * vmbus_open() and vmbus_close() of the channels it offered.
 *
 * Locking, outermost first: hvsim_conn.ring_sem (rwsem), hvsim_listen_lock,
 * hvsim_conn.lock (irq-safe, also nests the guest's channel sched_lock).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "hvsim_internal.h"
#include "hvsim_host.h"

/**
 * struct hvsim_listener - a host service that accepts guest connections
 * @node: in hvsim_listeners
 * @service: host service GUID
 * @backlog: most connections queued (offered or ready) at once
 * @flags: HVSIM_LISTEN_*
 * @qlen: connections on @pending and @ready
 * @nready: connections on @ready
 * @pending: offered, not opened by the guest yet
 * @ready: to be accepted
 * @wq: accept() and poll() waiters
 */
struct hvsim_listener {
	struct hlist_node node;
	guid_t service;
	u32 backlog;
	u32 flags;
	u32 qlen;
	u32 nready;
	struct list_head pending;
	struct list_head ready;
	wait_queue_head_t wq;
};

#define HVSIM_MAX_BACKLOG	1024

static DEFINE_SPINLOCK(hvsim_listen_lock);
static DEFINE_HASHTABLE(hvsim_listeners, 6);

static DEFINE_SPINLOCK(hvsim_conns_lock);
static LIST_HEAD(hvsim_conns);

/**
 * hvsim_conn_alloc() - new host connection in HVSIM_STATE_OFFERED
 * @from_host: the host initiates it
 * @guest_id: guest service or endpoint GUID
 * @host_id: host endpoint or service GUID
 *
 * Return: the connection with one reference, or NULL.
 */
struct hvsim_conn *hvsim_conn_alloc(bool from_host, const guid_t *guest_id,
				    const guid_t *host_id)
{
	struct hvsim_conn *c;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return NULL;

	kref_init(&c->ref);
	spin_lock_init(&c->lock);
	init_waitqueue_head(&c->wq);
	atomic_long_set(&c->events, 0);
	c->state = HVSIM_STATE_OFFERED;
	c->flags = from_host ? HVSIM_INFO_FROM_HOST : 0;
	guid_copy(&c->guest_id, guest_id);
	guid_copy(&c->host_id, host_id);
	INIT_LIST_HEAD(&c->lnode);
	INIT_DELAYED_WORK(&c->timeout_work, hvsim_timeout_work);
	init_rwsem(&c->ring_sem);
	mutex_init(&c->rx_lock);
	mutex_init(&c->tx_lock);
	atomic64_set(&c->stats.signals_to_guest, 0);
	atomic64_set(&c->stats.signals_from_guest, 0);

	spin_lock(&hvsim_conns_lock);
	list_add_tail(&c->node, &hvsim_conns);
	spin_unlock(&hvsim_conns_lock);
	return c;
}

void hvsim_conn_get(struct hvsim_conn *c)
{
	kref_get(&c->ref);
}

static void hvsim_conn_free(struct kref *ref)
{
	struct hvsim_conn *c = container_of(ref, struct hvsim_conn, ref);

	spin_lock(&hvsim_conns_lock);
	list_del(&c->node);
	spin_unlock(&hvsim_conns_lock);
	mutex_destroy(&c->rx_lock);
	mutex_destroy(&c->tx_lock);
	kfree(c);
}

void hvsim_conn_put(struct hvsim_conn *c)
{
	kref_put(&c->ref, hvsim_conn_free);
}

/**
 * hvsim_conn_event() - wake host waiters after a guest signal or state change
 * @c: connection
 *
 * Any context.
 */
void hvsim_conn_event(struct hvsim_conn *c)
{
	atomic_long_inc(&c->events);
	wake_up_all(&c->wq);
}

/**
 * hvsim_conn_guest_setevent() - the guest signalled the host (vmbus_setevent())
 * @c: connection
 *
 * Any context: the guest may signal from a tasklet or an interrupt.
 */
void hvsim_conn_guest_setevent(struct hvsim_conn *c)
{
	atomic64_inc(&c->stats.signals_from_guest);
	hvsim_conn_event(c);
}

/**
 * hvsim_conn_interrupt_guest() - the host interrupts the guest for this connection
 * @c: connection
 *
 * Process context. Bottom halves are disabled around the interrupt so
 * that the channel tasklet runs as soon as they are enabled again, as it
 * would on return from a real interrupt.
 */
void hvsim_conn_interrupt_guest(struct hvsim_conn *c)
{
	unsigned long flags;

	atomic64_inc(&c->stats.signals_to_guest);
	local_bh_disable();
	spin_lock_irqsave(&c->lock, flags);
	if (c->hch)
		hvsim_channel_signal(c->hch);
	spin_unlock_irqrestore(&c->lock, flags);
	local_bh_enable();
}

static void hvsim_listener_make_ready(struct hvsim_conn *c)
{
	struct hvsim_listener *l = c->listener;

	lockdep_assert_held(&hvsim_listen_lock);
	lockdep_assert_held(&c->lock);
	if (!l || c->on_ready)
		return;
	list_move_tail(&c->lnode, &l->ready);
	c->on_ready = true;
	l->nready++;
	wake_up_interruptible_all(&l->wq);
}

/**
 * hvsim_conn_abort_offer() - close a connection whose offer is unanswered
 * @c: connection
 * @why: close reason
 *
 * Atomically with respect to the guest's vmbus_open(): if the connection
 * is still in HVSIM_STATE_OFFERED it becomes closed, and leaves the
 * pending queue of its listener.
 *
 * Return: true if it was closed here; the caller then rescinds it.
 */
bool hvsim_conn_abort_offer(struct hvsim_conn *c, enum hvsim_close_reason why)
{
	unsigned long flags;
	bool aborted, drop = false;

	spin_lock(&hvsim_listen_lock);
	spin_lock_irqsave(&c->lock, flags);
	aborted = c->state == HVSIM_STATE_OFFERED;
	if (aborted) {
		c->state = HVSIM_STATE_CLOSED;
		c->reason = why;
		if (c->listener && !c->on_ready) {
			list_del_init(&c->lnode);
			c->listener->qlen--;
			c->listener = NULL;
			drop = true;
		}
	}
	spin_unlock_irqrestore(&c->lock, flags);
	spin_unlock(&hvsim_listen_lock);

	if (drop)
		hvsim_conn_put(c);
	return aborted;
}

/**
 * hvsim_conn_guest_open() - the host handles the guest's OPENCHANNEL
 * @c: connection
 * @chan: channel whose rings the guest set up
 *
 * Checks the ring sizes against the personality and the fail_opens fault;
 * a refused open closes the connection, and the caller rescinds the
 * channel once the guest's vmbus_open() has cleaned up. On success the
 * host maps the rings and data may flow.
 *
 * Return: 0, -EAGAIN if refused, -ENODEV if the channel is rescinded.
 */
int hvsim_conn_guest_open(struct hvsim_conn *c, struct vmbus_channel *chan)
{
	u32 send_pages = chan->ringbuffer_send_offset;
	u32 send = send_pages << PAGE_SHIFT;
	u32 recv = (chan->ringbuffer_pagecount - send_pages) << PAGE_SHIFT;
	bool put_timeout = false;
	unsigned long flags;
	int ret = 0;

	if (hvsim_fault_take_fail_open() || !hvsim_ring_sizes_ok(send, recv)) {
		atomic64_inc(&hvsim_counters.opens_refused);
		hvsim_conn_abort_offer(c, HVSIM_CLOSE_REFUSED);
		return -EAGAIN;
	}

	down_write(&c->ring_sem);
	spin_lock(&hvsim_listen_lock);
	spin_lock_irqsave(&c->lock, flags);
	if (c->state == HVSIM_STATE_OFFERED) {
		hvsim_ring_attach(&c->rx_ring, chan->ringbuffer_page, send);
		hvsim_ring_attach(&c->tx_ring, &chan->ringbuffer_page[send_pages],
				  recv);
		c->rx_ring_size = send;
		c->tx_ring_size = recv;
		c->state = HVSIM_STATE_OPEN;
		hvsim_listener_make_ready(c);
		put_timeout = cancel_delayed_work(&c->timeout_work);
	} else {
		ret = READ_ONCE(chan->rescind) ? -ENODEV : -EAGAIN;
	}
	spin_unlock_irqrestore(&c->lock, flags);
	spin_unlock(&hvsim_listen_lock);
	up_write(&c->ring_sem);

	if (put_timeout)
		hvsim_conn_put(c);
	if (!ret)
		atomic64_inc(&hvsim_counters.opens);
	hvsim_conn_event(c);
	return ret;
}

static void hvsim_conn_detach_rings(struct hvsim_conn *c)
{
	down_write(&c->ring_sem);
	hvsim_ring_detach(&c->rx_ring);
	hvsim_ring_detach(&c->tx_ring);
	up_write(&c->ring_sem);
}

static void hvsim_conn_set_closed(struct hvsim_conn *c,
				  enum hvsim_close_reason why)
{
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	if (c->state != HVSIM_STATE_CLOSED) {
		c->state = HVSIM_STATE_CLOSED;
		c->reason = why;
	}
	spin_unlock_irqrestore(&c->lock, flags);
}

/**
 * hvsim_conn_guest_close() - the host handles the guest's CLOSECHANNEL
 * @c: connection
 *
 * The host stops touching the rings before this returns (the guest frees
 * them next), then rescinds the channel unless it already did.
 */
void hvsim_conn_guest_close(struct hvsim_conn *c)
{
	hvsim_conn_detach_rings(c);
	hvsim_conn_set_closed(c, HVSIM_CLOSE_GUEST);
	atomic64_inc(&hvsim_counters.guest_closes);
	hvsim_conn_rescind(c, HVSIM_CLOSE_GUEST);
}

/**
 * hvsim_conn_closed() - the guest released the channel of a connection
 * @c: connection
 */
void hvsim_conn_closed(struct hvsim_conn *c)
{
	hvsim_conn_detach_rings(c);
	hvsim_conn_set_closed(c, HVSIM_CLOSE_GUEST);
	hvsim_conn_event(c);
}

static u32 hvsim_guid_hash(const guid_t *g)
{
	return jhash(g, sizeof(*g), 0);
}

static struct hvsim_listener *hvsim_listener_find(const guid_t *service)
{
	struct hvsim_listener *l;

	lockdep_assert_held(&hvsim_listen_lock);
	hash_for_each_possible(hvsim_listeners, l, node,
			       hvsim_guid_hash(service))
		if (guid_equal(&l->service, service))
			return l;
	return NULL;
}

/* Queue a new guest connection on @l, if it has room. */
static bool hvsim_listener_enqueue(struct hvsim_listener *l,
				   struct hvsim_conn *c)
{
	lockdep_assert_held(&hvsim_listen_lock);
	if (!l || l->qlen >= l->backlog)
		return false;

	c->listener = l;
	l->qlen++;
	if (l->flags & HVSIM_LISTEN_EARLY_ACCEPT) {
		list_add_tail(&c->lnode, &l->ready);
		c->on_ready = true;
		l->nready++;
		wake_up_interruptible_all(&l->wq);
	} else {
		list_add_tail(&c->lnode, &l->pending);
	}
	return true;
}

/**
 * hvsim_tl_connect() - the host handles a guest's TL connect request
 * @guest_id: guest endpoint GUID
 * @host_id: host service GUID
 *
 * Process context. Offers a channel if a listener with room exists; else
 * drops the request without an answer.
 */
void hvsim_tl_connect(const guid_t *guest_id, const guid_t *host_id)
{
	struct hvsim_channel *hch;
	struct hvsim_conn *c;
	bool queued;

	atomic64_inc(&hvsim_counters.connect_requests);
	if (hvsim_fault_take_ignore_connect()) {
		atomic64_inc(&hvsim_counters.connects_ignored);
		return;
	}

	c = hvsim_conn_alloc(false, guest_id, host_id);
	if (!c)
		return;
	hch = hvsim_channel_alloc(c, host_id, guest_id, false);
	if (!hch) {
		hvsim_conn_put(c);
		return;
	}

	/* The first reference of @c goes to the listener queue. */
	spin_lock(&hvsim_listen_lock);
	queued = hvsim_listener_enqueue(hvsim_listener_find(host_id), c);
	if (queued)
		hvsim_offer_queue(c, hvsim_cfg_offer_delay_ms(),
				  hvsim_cfg_open_timeout_ms());
	spin_unlock(&hvsim_listen_lock);

	if (!queued) {
		atomic64_inc(&hvsim_counters.connects_unanswered);
		hvsim_conn_set_closed(c, HVSIM_CLOSE_HOST);
		hvsim_channel_release(hch);
		hvsim_conn_put(c);
	}
}

/**
 * hvsim_host_listen() - listen on a host service
 * @service: host service GUID
 * @backlog: queued connections at most, 0 for the default (16)
 * @flags: HVSIM_LISTEN_*
 * @lp: out: the listener
 *
 * Return: 0, -EADDRINUSE, -EINVAL, -ENOMEM.
 */
int hvsim_host_listen(const guid_t *service, u32 backlog, u32 flags,
		      struct hvsim_listener **lp)
{
	struct hvsim_listener *l;
	int ret = 0;

	if (flags & ~HVSIM_LISTEN_EARLY_ACCEPT)
		return -EINVAL;

	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return -ENOMEM;

	guid_copy(&l->service, service);
	l->backlog = min_t(u32, backlog ?: HVSIM_DEFAULT_BACKLOG,
			   HVSIM_MAX_BACKLOG);
	l->flags = flags;
	INIT_LIST_HEAD(&l->pending);
	INIT_LIST_HEAD(&l->ready);
	init_waitqueue_head(&l->wq);

	spin_lock(&hvsim_listen_lock);
	if (hvsim_listener_find(service))
		ret = -EADDRINUSE;
	else
		hash_add(hvsim_listeners, &l->node, hvsim_guid_hash(service));
	spin_unlock(&hvsim_listen_lock);

	if (ret) {
		kfree(l);
		return ret;
	}
	*lp = l;
	return 0;
}
EXPORT_SYMBOL_GPL(hvsim_host_listen);

/**
 * hvsim_host_unlisten() - stop listening; rescind what was not accepted
 * @l: listener; freed
 */
void hvsim_host_unlisten(struct hvsim_listener *l)
{
	struct hvsim_conn *c, *tmp;
	LIST_HEAD(gone);

	spin_lock(&hvsim_listen_lock);
	hash_del(&l->node);
	list_splice_init(&l->pending, &gone);
	list_splice_init(&l->ready, &gone);
	list_for_each_entry(c, &gone, lnode) {
		c->listener = NULL;
		c->on_ready = false;
	}
	spin_unlock(&hvsim_listen_lock);

	list_for_each_entry_safe(c, tmp, &gone, lnode) {
		list_del_init(&c->lnode);
		hvsim_conn_rescind(c, HVSIM_CLOSE_HOST);
		hvsim_conn_put(c);
	}
	kfree(l);
}
EXPORT_SYMBOL_GPL(hvsim_host_unlisten);

static struct hvsim_conn *hvsim_listener_dequeue(struct hvsim_listener *l)
{
	struct hvsim_conn *c;

	spin_lock(&hvsim_listen_lock);
	c = list_first_entry_or_null(&l->ready, struct hvsim_conn, lnode);
	if (c) {
		list_del_init(&c->lnode);
		l->qlen--;
		l->nready--;
		c->listener = NULL;
		c->on_ready = false;
	}
	spin_unlock(&hvsim_listen_lock);
	return c;
}

/**
 * hvsim_host_accept() - take a connection from a listener
 * @l: listener
 * @nonblock: fail with -EAGAIN instead of waiting
 * @cp: out: the connection, to be closed with hvsim_host_close()
 *
 * Return: 0, -EAGAIN, -ERESTARTSYS.
 */
int hvsim_host_accept(struct hvsim_listener *l, bool nonblock,
		      struct hvsim_conn **cp)
{
	struct hvsim_conn *c;
	int ret;

	for (;;) {
		c = hvsim_listener_dequeue(l);
		if (c) {
			*cp = c;
			return 0;
		}
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(l->wq, READ_ONCE(l->nready));
		if (ret)
			return ret;
	}
}
EXPORT_SYMBOL_GPL(hvsim_host_accept);

__poll_t hvsim_listener_poll(struct hvsim_listener *l)
{
	return READ_ONCE(l->nready) ? EPOLLIN | EPOLLRDNORM : 0;
}

wait_queue_head_t *hvsim_listener_waitq(struct hvsim_listener *l)
{
	return &l->wq;
}

void hvsim_listener_info(struct hvsim_listener *l, struct hvsim_conn_info *i)
{
	memset(i, 0, sizeof(*i));
	i->state = HVSIM_STATE_LISTENING;
	memcpy(i->host_service_id, &l->service, sizeof(i->host_service_id));
}

/**
 * hvsim_host_wait_open() - wait until the guest opened or the offer failed
 * @c: connection from hvsim_host_connect()
 *
 * Return: 0 once open; -ETIMEDOUT, -ECONNREFUSED, -ECONNRESET as in
 * struct hvsim_connect; -EINTR on a signal (still in progress).
 */
int hvsim_host_wait_open(struct hvsim_conn *c)
{
	enum hvsim_close_reason reason;
	enum hvsim_state state;
	unsigned long flags;

	if (wait_event_interruptible(c->wq,
				     READ_ONCE(c->state) != HVSIM_STATE_OFFERED))
		return -EINTR;

	spin_lock_irqsave(&c->lock, flags);
	state = c->state;
	reason = c->reason;
	spin_unlock_irqrestore(&c->lock, flags);

	if (state == HVSIM_STATE_OPEN)
		return 0;
	if (reason == HVSIM_CLOSE_TIMEOUT)
		return -ETIMEDOUT;
	if (reason == HVSIM_CLOSE_REFUSED)
		return -ECONNREFUSED;
	return -ECONNRESET;
}
EXPORT_SYMBOL_GPL(hvsim_host_wait_open);

/**
 * hvsim_host_connect() - connect the host to a guest service
 * @guest_service: the guest's service GUID (offer if_type)
 * @host_endpoint: in/out: host endpoint GUID (offer if_instance); null
 *	GUID for a fresh random one
 * @timeout_ms: rescind if not opened in time; 0 = configured default
 * @flags: HVSIM_CONNECT_NOWAIT
 * @cp: out: the connection, set whenever the offer was queued (also on
 *	-ETIMEDOUT etc.); close it with hvsim_host_close()
 *
 * Return: as hvsim_host_wait_open(), or 0 with HVSIM_CONNECT_NOWAIT;
 * -EINVAL, -ENOMEM before anything was queued.
 */
int hvsim_host_connect(const guid_t *guest_service, guid_t *host_endpoint,
		       u32 timeout_ms, u32 flags, struct hvsim_conn **cp)
{
	struct hvsim_conn *c;

	*cp = NULL;
	if (flags & ~HVSIM_CONNECT_NOWAIT)
		return -EINVAL;
	if (guid_is_null(host_endpoint))
		guid_gen(host_endpoint);

	c = hvsim_conn_alloc(true, guest_service, host_endpoint);
	if (!c)
		return -ENOMEM;
	if (!hvsim_channel_alloc(c, guest_service, host_endpoint, true)) {
		hvsim_conn_put(c);
		return -ENOMEM;
	}

	hvsim_offer_queue(c, hvsim_cfg_offer_delay_ms(),
			  timeout_ms ?: hvsim_cfg_open_timeout_ms());
	*cp = c;
	if (flags & HVSIM_CONNECT_NOWAIT)
		return 0;
	return hvsim_host_wait_open(c);
}
EXPORT_SYMBOL_GPL(hvsim_host_connect);

/**
 * hvsim_host_rescind() - rescind a connection's channel now
 * @c: connection
 */
void hvsim_host_rescind(struct hvsim_conn *c)
{
	hvsim_conn_rescind(c, HVSIM_CLOSE_HOST);
}
EXPORT_SYMBOL_GPL(hvsim_host_rescind);

/**
 * hvsim_host_close() - rescind and drop a connection
 * @c: connection from accept or connect; invalid afterwards
 */
void hvsim_host_close(struct hvsim_conn *c)
{
	hvsim_conn_rescind(c, HVSIM_CLOSE_HOST);
	hvsim_conn_put(c);
}
EXPORT_SYMBOL_GPL(hvsim_host_close);

/* For a stall report: the header of a ring the host may still touch. */
static void hvsim_ring_snapshot(const struct hvsim_ring *r, __u32 out[4])
{
	if (!hvsim_ring_attached(r))
		return;
	out[0] = READ_ONCE(r->hdr->read_index);
	out[1] = READ_ONCE(r->hdr->write_index);
	out[2] = READ_ONCE(r->hdr->interrupt_mask);
	out[3] = READ_ONCE(r->hdr->pending_send_sz);
}

/**
 * hvsim_host_conn_info() - state and counters of a connection
 * @c: connection
 * @info: out
 */
void hvsim_host_conn_info(struct hvsim_conn *c, struct hvsim_conn_info *info)
{
	unsigned long flags;

	memset(info, 0, sizeof(*info));
	spin_lock_irqsave(&c->lock, flags);
	info->state = c->state;
	info->close_reason = c->reason;
	info->flags = c->flags | (c->drain_stopped ?
				  HVSIM_INFO_DRAIN_STOPPED : 0);
	info->relid = c->relid;
	info->send_ring_size = c->rx_ring_size;
	info->recv_ring_size = c->tx_ring_size;
	spin_unlock_irqrestore(&c->lock, flags);

	memcpy(info->guest_service_id, &c->guest_id, 16);
	memcpy(info->host_service_id, &c->host_id, 16);
	info->bytes_to_guest = READ_ONCE(c->stats.bytes_to_guest);
	info->bytes_from_guest = READ_ONCE(c->stats.bytes_from_guest);
	info->pkts_to_guest = READ_ONCE(c->stats.pkts_to_guest);
	info->pkts_from_guest = READ_ONCE(c->stats.pkts_from_guest);
	info->signals_to_guest = atomic64_read(&c->stats.signals_to_guest);
	info->signals_from_guest = atomic64_read(&c->stats.signals_from_guest);
	info->guest_ring_full = READ_ONCE(c->stats.guest_ring_full);
	info->proto_errors = READ_ONCE(c->stats.proto_errors);

	/* The ABI names the rings from the guest's side. */
	down_read(&c->ring_sem);
	hvsim_ring_snapshot(&c->rx_ring, info->out_ring);
	hvsim_ring_snapshot(&c->tx_ring, info->in_ring);
	up_read(&c->ring_sem);
}
EXPORT_SYMBOL_GPL(hvsim_host_conn_info);

static struct hvsim_conn *hvsim_conn_next_live(void)
{
	struct hvsim_conn *c, *found = NULL;

	spin_lock(&hvsim_conns_lock);
	list_for_each_entry(c, &hvsim_conns, node) {
		if (!c->unloading) {
			c->unloading = true;
			hvsim_conn_get(c);
			found = c;
			break;
		}
	}
	spin_unlock(&hvsim_conns_lock);
	return found;
}

/**
 * hvsim_conns_shutdown() - rescind every connection (module unload)
 */
void hvsim_conns_shutdown(void)
{
	struct hvsim_conn *c;

	while ((c = hvsim_conn_next_live())) {
		if (cancel_delayed_work_sync(&c->timeout_work))
			hvsim_conn_put(c);
		hvsim_conn_abort_offer(c, HVSIM_CLOSE_UNLOAD);
		hvsim_conn_rescind(c, HVSIM_CLOSE_UNLOAD);
		hvsim_conn_put(c);
	}
}
