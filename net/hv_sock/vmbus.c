// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_HYPERV: the VMBus side of a connection.
 *
 * The host offers one channel per connection, flagged as an hvsock offer;
 * VMBus offers it as a device to every driver registered with .hvsock =
 * true in turn, the next one when a probe declines, so probe() is "a
 * connection arrives" (or "not ours") and remove() is "its device goes
 * away". Which socket an offer belongs to is said by its GUIDs:
 *
 *   user_def[0] != 0: the host connects to us; if_type is our listening
 *                     service, if_instance the host's endpoint.
 *   user_def[0] == 0: the host answers our connect request; if_type is the
 *                     host's service, if_instance ours.
 *
 * A channel we open stays open until the user has released the socket:
 * the data still on the inbound ring is readable after the host closes.
 * Only the teardown below and a reset (hvsock_reset(), under the socket
 * lock) close it; lockless readers are covered by RCU (hvsock_chan_close()).
 *
 * Teardown: after release() the socket waits a bounded time for the host
 * to rescind the channel (graceful close), closes it itself otherwise,
 * and once both the close and the rescind happened unregisters the
 * device, whose remove() drops the channel's socket reference. All of it
 * runs from hvsock_close_work() on hvsock_wq, never in the caller of
 * close() beyond what SO_LINGER allows.
 *
 * The device is ours to unregister: the driver suppresses the sysfs
 * bind/unbind files, and the module cannot go while a socket exists, so
 * remove() normally runs only from that unregistration or for an offer
 * we never opened. It still copes with a socket that is alive.
 */

#include <linux/module.h>
#include <linux/unaligned.h>
#include <net/af_hvsock.h>
#include <net/af_vsock.h>

/*
 * Channel callback: runs in the channel's tasklet (HV_CALL_DIRECT), so it
 * only wakes sleepers; readers and writers do the ring work themselves
 * under the socket lock.
 */
static void hvsock_chan_cb(void *ctx)
{
	struct hvsock_sock *hs = ctx;
	struct vmbus_channel *chan = hs->chan;
	struct sock *sk = &hs->sk;

	if (hv_get_bytes_to_read(&chan->inbound))
		sk->sk_data_ready(sk);

	/*
	 * Take the bit before reading the ring (see hvsock_want_space()):
	 * reading first could see the space as it was before the waiter's
	 * last packet, clear the bit, and leave the waiter asleep with no
	 * one left to wake it. Not enough space yet: wait for the next
	 * signal, which comes when the free space crosses tx_pending.
	 */
	if (!test_and_clear_bit(HVSOCK_F_WANT_SPACE, &hs->flags))
		return;
	if (hv_ringbuffer_free_bytes(&chan->outbound, READ_ONCE(hs->tx_wr)) >
	    (int)READ_ONCE(hs->tx_pending))
		sk->sk_write_space(sk);
	else
		set_bit(HVSOCK_F_WANT_SPACE, &hs->flags);
}

/*
 * Rescind callback: the host closed the connection. Called from the VMBus
 * work queue in process context, after VMBus has stopped the channel
 * callback and after our probe() returned.
 *
 * The work is done on hvsock_wq, whose items module exit waits for: a
 * socket reference dropped here could be the last one, and with it the
 * module's. The channel's own reference keeps @hs alive until the work
 * has seen the rescind, since only then may the device be unregistered.
 * That narrows, but cannot close, the window in which this function still
 * returns into module text after the work dropped the last reference:
 * closing it needs VMBus to hold a module reference around the callback.
 * Until the work runs, chan->rescind (set by VMBus first) keeps the socket
 * calls from signalling or sending: hvsock_chan_rescinded().
 */
static void hvsock_rescind(struct vmbus_channel *chan)
{
	struct hvsock_sock *hs = get_per_channel_state(chan);

	if (!hs)
		return;
	sock_hold(&hs->sk);
	if (!queue_work(hvsock_wq, &hs->rescind_work))
		sock_put(&hs->sk);	/* not the last: see above */
}

/**
 * hvsock_rescind_work() - handle the host's rescind of a socket's channel
 * @work: hvsock_sock::rescind_work
 *
 * Holds a socket reference while queued.
 */
void hvsock_rescind_work(struct work_struct *work)
{
	struct hvsock_sock *hs = container_of(work, struct hvsock_sock,
					      rescind_work);
	struct sock *sk = &hs->sk;

	lock_sock(sk);
	if (!test_and_set_bit(HVSOCK_F_RESCINDED, &hs->flags)) {
		if (sock_flag(sk, SOCK_DEAD))
			hvsock_queue_close(hs, 0);
		else
			hvsock_peer_gone(hs);
	}
	release_sock(sk);
	sock_put(sk);
}

/**
 * hvsock_queue_close() - schedule the teardown of a released socket
 * @hs: the socket, locked, with an open channel
 * @delay: in jiffies; 0 runs it now, even if it was set to run later
 *
 * A queued hvsock_close_work() holds a socket reference of its own.
 */
void hvsock_queue_close(struct hvsock_sock *hs, unsigned long delay)
{
	bool pending;

	sock_owned_by_me(&hs->sk);
	sock_hold(&hs->sk);
	if (delay)
		pending = !queue_delayed_work(hvsock_wq, &hs->close_work,
					      delay);
	else
		pending = mod_delayed_work(hvsock_wq, &hs->close_work, 0);
	if (pending)
		sock_put(&hs->sk);
}

/**
 * hvsock_chan_close() - close a socket's channel
 * @hs: the socket, locked
 *
 * Safe to call more than once. The host sees the connection closed; its
 * rescind follows, after which the device is unregistered.
 */
void hvsock_chan_close(struct hvsock_sock *hs)
{
	sock_owned_by_me(&hs->sk);
	if (!test_bit(HVSOCK_F_OPEN, &hs->flags) ||
	    test_and_set_bit(HVSOCK_F_CLOSED, &hs->flags))
		return;
	/*
	 * poll() and /proc read the rings under rcu_read_lock() after
	 * checking CLOSED: wait for them before the rings are freed.
	 */
	synchronize_rcu();
	vmbus_close(hs->chan);
}

/**
 * hvsock_close_work() - finish a released socket's connection
 * @work: hvsock_sock::close_work
 *
 * Queued by release() (after a delay for a graceful close) and again by
 * hvsock_rescind_work(). Closes the channel if nobody did yet and, once the
 * host rescinded it, unregisters the device; that calls hvsock_remove(),
 * which drops the channel's reference. The work's own reference keeps the
 * socket until the end.
 */
void hvsock_close_work(struct work_struct *work)
{
	struct hvsock_sock *hs = container_of(to_delayed_work(work),
					      struct hvsock_sock, close_work);
	struct vmbus_channel *unreg = NULL;
	struct sock *sk = &hs->sk;

	lock_sock(sk);
	hvsock_chan_close(hs);
	/* Only after the rescind: unregistering waits for one otherwise. */
	if (test_bit(HVSOCK_F_RESCINDED, &hs->flags) &&
	    !test_and_set_bit(HVSOCK_F_UNREG, &hs->flags))
		unreg = hs->chan;
	release_sock(sk);

	if (unreg)
		vmbus_hvsock_device_unregister(unreg);
	sock_put(sk);
}

/*
 * Open the channel for @hs. On success the channel holds a reference to
 * the socket and the rescind callback is armed; on failure nothing of the
 * channel is kept, and the host rescinds the unused offer in time, after
 * which VMBus removes the device by itself.
 */
static int hvsock_chan_open(struct hvsock_sock *hs, struct vmbus_channel *chan)
{
	struct sock *sk = &hs->sk;
	u32 snd, rcv;
	int err;

	/* Before vmbus_open(): the channel callback may run at once. */
	hs->chan = chan;
	hs->send_mtu = HVSOCK_TX_PKT_MAX;
	hs->tx_pending = HVSOCK_TX_PENDING;
	set_channel_read_mode(chan, HV_CALL_DIRECT);
	/*
	 * We never use hv_pkt_iter_first(): keep the copy buffer it would
	 * need per channel as small as VMBus allows.
	 */
	chan->max_pkt_size = HVSOCK_PKT_LEN(0);

	snd = hvsock_ring_size(vmbus_proto_version, READ_ONCE(sk->sk_sndbuf));
	rcv = hvsock_ring_size(vmbus_proto_version, READ_ONCE(sk->sk_rcvbuf));
	err = vmbus_open(chan, snd, rcv, NULL, 0, hvsock_chan_cb, hs);
	/*
	 * Larger rings are a high-order block that fragmentation can deny:
	 * like TCP's, the buffer sizes are hints, and the default rings
	 * beat no connection.
	 */
	if (err == -ENOMEM &&
	    (snd != HVSOCK_RING_SIZE || rcv != HVSOCK_RING_SIZE))
		err = vmbus_open(chan, HVSOCK_RING_SIZE, HVSOCK_RING_SIZE, NULL,
				 0, hvsock_chan_cb, hs);
	if (err)
		goto fail;

	err = hvsock_rx_init(&chan->inbound, &hs->rx);
	if (!err)
		err = hv_ringbuffer_get_write_index(&chan->outbound, &hs->tx_wr);
	if (err) {
		vmbus_close(chan);
		goto fail;
	}
	/* From here on SO_SNDBUF and SO_RCVBUF report what the rings hold. */
	WRITE_ONCE(sk->sk_sndbuf, hv_ringbuffer_data_size(&chan->outbound));
	WRITE_ONCE(sk->sk_rcvbuf, hv_ringbuffer_data_size(&chan->inbound));
	/* The host signals us whenever the free space grows past this. */
	set_channel_pending_send_size(chan, hs->tx_pending);

	set_per_channel_state(chan, hs);
	sock_hold(&hs->sk);	/* dropped by hvsock_remove() */
	/* Lockless readers that see OPEN see @chan and the cursors too. */
	smp_mb__before_atomic();
	set_bit(HVSOCK_F_OPEN, &hs->flags);
	vmbus_set_chn_rescind_callback(chan, hvsock_rescind);
	return 0;

fail:
	hs->chan = NULL;
	return err;
}

/*
 * The host answers our connect request. Return: -ENODEV if @hs is not
 * waiting for this offer, else 0 (claimed, even if it could not be
 * opened).
 */
static int hvsock_offer_connect(struct hvsock_sock *hs,
				struct vmbus_channel *chan)
{
	const guid_t *host_srv = &chan->offermsg.offer.if_type;
	struct sock *sk = &hs->sk;
	int err, ret = 0;

	lock_sock(sk);
	if (sk->sk_state != TCP_SYN_SENT || hs->chan ||
	    !guid_equal(host_srv, &hs->remote_srv)) {
		ret = -ENODEV;
		goto out;
	}

	hvsock_connect_cancel(hs);
	err = hvsock_chan_open(hs, chan);
	if (err) {
		net_info_ratelimited("hv_sock: cannot open channel for %pUl: %d\n",
				     &hs->local_srv, err);
		hvsock_connect_failed(hs, err == -ENOMEM ? ENOMEM :
					  ECONNREFUSED);
		goto out;
	}

	set_bit(HVSOCK_F_CONNECTED, &hs->flags);
	hvsock_set_state(sk, TCP_ESTABLISHED);
	sk->sk_state_change(sk);
	/* As tcp_finish_connect(): SIGIO for a non-blocking connect. */
	sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
out:
	release_sock(sk);
	return ret;
}

/*
 * The host connects to our listener @ls. Return: -ENODEV if @ls is not
 * listening, else 0 (claimed, even if refused).
 */
static int hvsock_offer_accept(struct hvsock_sock *ls,
			       struct vmbus_channel *chan)
{
	struct sock *lsk = &ls->sk;
	struct hvsock_sock *hs;
	int err, ret = 0;

	lock_sock(lsk);
	if (lsk->sk_state != TCP_LISTEN) {
		ret = -ENODEV;
		goto out;
	}
	if (sk_acceptq_is_full(lsk)) {
		/*
		 * Refusing is not opening: the host times the offer out and
		 * rescinds it, and VMBus then removes the device.
		 */
		net_info_ratelimited("hv_sock: %pUl: accept queue full, connection refused\n",
				     &ls->local_srv);
		goto out;
	}

	/* As TCP: a kernel listener's children do not pin its namespace. */
	hs = hvsock_alloc(lsk, !lsk->sk_net_refcnt);
	if (!hs)
		goto out;
	hs->local_srv = chan->offermsg.offer.if_type;
	hs->remote_srv = chan->offermsg.offer.if_instance;

	err = hvsock_chan_open(hs, chan);
	if (err) {
		net_info_ratelimited("hv_sock: cannot open channel for %pUl: %d\n",
				     &ls->local_srv, err);
		sock_put(&hs->sk);
		goto out;
	}
	set_bit(HVSOCK_F_CONNECTED, &hs->flags);
	hvsock_set_state(&hs->sk, TCP_ESTABLISHED);

	/* The queue owns the child's initial reference until accept(). */
	list_add_tail(&hs->accept_node, &ls->accept_q);
	sk_acceptq_added(lsk);
	lsk->sk_data_ready(lsk);
out:
	release_sock(lsk);
	return ret;
}

static struct hv_driver hvsock_drv;

static int hvsock_is_other_driver(struct device_driver *drv, void *unused)
{
	return drv != &hvsock_drv.driver && drv_to_hv_drv(drv)->hvsock;
}

/*
 * Does an AF_VSOCK socket wait for this offer, with another hvsock driver
 * (the AF_VSOCK transport) there to take it? For a host connect: a vsock
 * listener on the port of the template GUID the host connects to. For
 * the answer to a connect: a vsock socket connecting from that port to
 * the host's service of the offer, as the AF_VSOCK transport matches it.
 * In the template space AF_VSOCK goes first (Documentation/networking/
 * af_hvsock.rst, "AF_HYPERV beside AF_VSOCK"). The vsock socket's state
 * is read without its lock: one changing state just now may leave the
 * offer declined by both drivers, and the host then times it out, as it
 * does for a socket that went away. Looked up through symbol_get() so
 * that AF_HYPERV does not load AF_VSOCK.
 */
static bool hvsock_vsock_waits(struct hv_device *hdev, bool from_host)
{
	const struct vmbus_channel_offer *offer = &hdev->channel->offermsg.offer;
	const guid_t *ours = from_host ? &offer->if_type : &offer->if_instance;
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = get_unaligned_le32(ours->b),
	};
	struct sock *(*find)(struct sockaddr_vm *addr);
	const struct sockaddr_vm *peer;
	bool waits = false;
	struct sock *sk;

	if (!hvsock_srv_is_vsock(ours) ||
	    (!from_host && !hvsock_srv_is_vsock(&offer->if_type)) ||
	    !bus_for_each_drv(hdev->device.bus, NULL, NULL,
			      hvsock_is_other_driver))
		return false;
	find = symbol_get(vsock_find_bound_socket);
	if (!find)
		return false;	/* AF_VSOCK is not loaded */
	sk = find(&addr);
	if (sk) {
		peer = &vsock_sk(sk)->remote_addr;
		if (from_host)
			waits = READ_ONCE(sk->sk_state) == TCP_LISTEN;
		else
			waits = READ_ONCE(sk->sk_state) == TCP_SYN_SENT &&
				READ_ONCE(peer->svm_cid) == VMADDR_CID_HOST &&
				READ_ONCE(peer->svm_port) ==
				get_unaligned_le32(offer->if_type.b);
		sock_put(sk);
	}
	symbol_put(vsock_find_bound_socket);
	return waits;
}

/*
 * VMBus offers each hvsock channel to every hvsock driver in turn, the
 * next one when a probe declines with -ENODEV: claim only what an
 * AF_HYPERV socket waits for, so that the AF_VSOCK transport gets the
 * rest.
 */
static int hvsock_probe(struct hv_device *hdev,
			const struct hv_vmbus_device_id *dev_id)
{
	struct vmbus_channel *chan = hdev->channel;
	const struct vmbus_channel_offer *offer = &chan->offermsg.offer;
	bool from_host = offer->u.pipe.user_def[0];
	const guid_t *ours = from_host ? &offer->if_type : &offer->if_instance;
	struct hvsock_sock *hs;
	int ret;

	hs = hvsock_lookup_bound(ours);
	if (!hs)
		return -ENODEV;
	if (hvsock_vsock_waits(hdev, from_host)) {
		sock_put(&hs->sk);
		return -ENODEV;
	}

	/*
	 * An offer a socket waits for is claimed even if it cannot be
	 * opened (accept queue full, no memory, the host refused the
	 * rings): the host rescinds it in time and VMBus cleans up.
	 */
	if (from_host)
		ret = hvsock_offer_accept(hs, chan);
	else
		ret = hvsock_offer_connect(hs, chan);
	sock_put(&hs->sk);
	return ret;
}

static void hvsock_remove(struct hv_device *hdev)
{
	struct vmbus_channel *chan = hdev->channel;
	struct hvsock_sock *hs = get_per_channel_state(chan);
	struct sock *sk;

	if (!hs)
		return;	/* refused: never opened */

	sk = &hs->sk;
	lock_sock(sk);
	/*
	 * Normally hvsock_close_work() unregistered the device. If anything
	 * else removes it, the socket loses its channel here, and a
	 * close_work still to run must leave the device alone (UNREG).
	 * Nothing here may wait for close_work: it takes the device lock
	 * we may be called under.
	 */
	set_bit(HVSOCK_F_UNREG, &hs->flags);
	if (!sock_flag(sk, SOCK_DEAD) &&
	    !test_and_set_bit(HVSOCK_F_RESCINDED, &hs->flags))
		hvsock_peer_gone(hs);
	hvsock_chan_close(hs);
	clear_bit(HVSOCK_F_OPEN, &hs->flags);
	WRITE_ONCE(hs->chan, NULL);
	set_per_channel_state(chan, NULL);
	release_sock(sk);
	sock_put(sk);	/* the channel's reference */
}

/*
 * hvsock channels never survive hibernation: after these run, VMBus
 * rescinds them all (vmbus_bus_suspend()), and hvsock_wq, frozen by then,
 * handles the rescinds after the resume. Every VMBus driver needs these
 * callbacks for hibernation to proceed.
 */
static int hvsock_suspend(struct hv_device *hdev)
{
	return 0;
}

static int hvsock_resume(struct hv_device *hdev)
{
	return 0;
}

/* hvsock offers match by the .hvsock flag, not by this table. */
static const struct hv_vmbus_device_id hvsock_id_table[] = {
	{},
};

static struct hv_driver hvsock_drv = {
	.name		= "af_hvsock",
	.hvsock		= true,
	.id_table	= hvsock_id_table,
	.probe		= hvsock_probe,
	.remove		= hvsock_remove,
	.suspend	= hvsock_suspend,
	.resume		= hvsock_resume,
	/* Connections come and go with the host's offers, not by sysfs. */
	.driver = {
		.suppress_bind_attrs = true,
	},
};

int hvsock_vmbus_init(void)
{
	/* Hosts older than Windows 10 / WS2016 have no hvsock. */
	if (vmbus_proto_version < VERSION_WIN10)
		return -ENODEV;
	return vmbus_driver_register(&hvsock_drv);
}

void hvsock_vmbus_exit(void)
{
	vmbus_driver_unregister(&hvsock_drv);
}
