// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_HYPERV: Hyper-V sockets, the socket layer.
 *
 * A stream socket whose connection is one VMBus channel. The state
 * machine follows TCP's states and error codes:
 *
 *   CLOSE --connect()--> SYN_SENT --host offer--> ESTABLISHED
 *   SYN_SENT --HVSOCKET_CONNECT_TIMEOUT / vmbus_open() error--> CLOSE
 *   CLOSE --listen()--> LISTEN --host offer--> child ESTABLISHED
 *   ESTABLISHED --shutdown(SHUT_WR)--> FIN_WAIT1, CLOSE_WAIT --> LAST_ACK
 *   ESTABLISHED --host FIN read--> CLOSE_WAIT, FIN_WAIT1 --> CLOSING
 *   any connected state --rescind or bad packet--> CLOSE
 *
 * Locking: the socket lock serialises all socket calls, the VMBus probe
 * and remove callbacks for the socket's channel, and the work items (the
 * host's rescind is handled by one); functions that need it assert it
 * with sock_owned_by_me(). The channel callback runs in softirq context
 * and only wakes sleepers. poll() and /proc read the rings without the socket lock,
 * under rcu_read_lock(): hvsock_chan_close() marks the rings gone and
 * waits for a grace period before it frees them. The bind table and the
 * list of all sockets have their own spinlock (table.c), taken inside the
 * socket lock and never the other way round.
 *
 * The host signals a ring's reader only when the ring goes from empty to
 * non-empty, and its writer when the free space crosses pending_send_sz.
 * Nothing may therefore wait for more data while unconsumed data sits on
 * the inbound ring: no wakeup would come. That is why poll() and MSG_PEEK
 * do not wait for SO_RCVLOWAT bytes (Documentation/networking/af_hvsock.rst).
 */

#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/sockios.h>
#include <linux/unaligned.h>
#include <asm/ioctls.h>
#include <net/af_hvsock.h>
#include <net/net_namespace.h>
#include <kunit/visibility.h>

struct workqueue_struct *hvsock_wq;
static struct proto hvsock_proto;

/*
 * Connected states: the channel is (or was, until a rescind) open and the
 * peer is known.
 */
#define HVSOCK_CONNECTED_STATES	(TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | \
				 TCPF_FIN_WAIT1 | TCPF_LAST_ACK | \
				 TCPF_CLOSING)

static const guid_t hvsock_guid_parent = GUID_INIT(0xa42e7cda, 0xd03f,
	0x480c, 0x9c, 0xc2, 0xa4, 0xde, 0x20, 0xab, 0xb8, 0x78);

/**
 * hvsock_addr_validate() - check a struct sockaddr_hv from userspace
 * @addr: the address
 * @addr_len: the length userspace passed
 *
 * Return: 0 if @addr is a well-formed AF_HYPERV address, -EINVAL for a
 * short buffer or a non-zero reserved field, -EAFNOSUPPORT for another
 * family.
 */
int hvsock_addr_validate(const struct sockaddr_hv *addr, int addr_len)
{
	if (addr_len < (int)sizeof(*addr))
		return -EINVAL;
	if (addr->shv_family != AF_HYPERV)
		return -EAFNOSUPPORT;
	if (addr->shv_reserved)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_addr_validate);

/* The highest AF_VSOCK port reserved to CAP_NET_BIND_SERVICE, as there. */
#define HVSOCK_LAST_RESERVED_PORT	1023

/**
 * hvsock_srv_is_vsock() - is a service GUID one of the AF_VSOCK template?
 * @srv: the service GUID
 *
 * Such a GUID names the vsock port in its first field, the service the
 * AF_VSOCK Hyper-V transport uses for that port. Random GUIDs (version 4)
 * never match the template (version 1), so autobinding never picks one.
 *
 * Return: true if @srv is PPPPPPPP-facb-11e6-bd58-64006a7986d3.
 */
bool hvsock_srv_is_vsock(const guid_t *srv)
{
	static const u8 tmpl[16] = HV_GUID_VSOCK_TEMPLATE_INIT;

	return !memcmp(srv->b + 4, tmpl + 4, sizeof(tmpl) - 4);
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_srv_is_vsock);

/**
 * hvsock_srv_is_reserved() - is a service GUID a privileged one?
 * @srv: the service GUID
 *
 * A GUID of the AF_VSOCK template names the same host service as that
 * vsock port: binding it below 1024 needs CAP_NET_BIND_SERVICE here just
 * as binding the port does in AF_VSOCK.
 *
 * Return: true if binding @srv needs CAP_NET_BIND_SERVICE.
 */
bool hvsock_srv_is_reserved(const guid_t *srv)
{
	return hvsock_srv_is_vsock(srv) &&
	       get_unaligned_le32(srv->b) <= HVSOCK_LAST_RESERVED_PORT;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_srv_is_reserved);

/*
 * In a guest the only local VM is "this one", which a guest can only name
 * with the wildcard; the only remote VM is the host.
 */
static bool hvsock_vm_is_local(const guid_t *vm)
{
	return guid_is_null(vm);
}

static bool hvsock_vm_is_host(const guid_t *vm)
{
	return guid_is_null(vm) || guid_equal(vm, &hvsock_guid_parent);
}

static void hvsock_sk_destruct(struct sock *sk)
{
	struct hvsock_sock *hs = hvsock_sk(sk);

	WARN_ON_ONCE(test_bit(HVSOCK_F_BOUND, &hs->flags));
	WARN_ON_ONCE(test_bit(HVSOCK_F_OPEN, &hs->flags) &&
		     !test_bit(HVSOCK_F_CLOSED, &hs->flags));
	hvsock_unlink(hs);
}

static void hvsock_init_sk(struct hvsock_sock *hs)
{
	struct sock *sk = &hs->sk;

	INIT_LIST_HEAD(&hs->accept_q);
	INIT_LIST_HEAD(&hs->accept_node);
	/* Listed by hvsock_link() once set up; unlinking before is a no-op. */
	INIT_LIST_HEAD(&hs->all_node);
	INIT_DELAYED_WORK(&hs->connect_work, hvsock_connect_work);
	INIT_DELAYED_WORK(&hs->close_work, hvsock_close_work);
	INIT_WORK(&hs->rescind_work, hvsock_rescind_work);
	hs->connect_timeout = HVSOCK_CONNECT_TIMEOUT_DEFAULT;
	sk->sk_destruct = hvsock_sk_destruct;
	/* The ring sizes a channel gets unless the user sets these. */
	sk->sk_sndbuf = HVSOCK_RING_DATA_SIZE;
	sk->sk_rcvbuf = HVSOCK_RING_DATA_SIZE;
}

/**
 * hvsock_alloc() - allocate the child socket of a listener
 * @parent: the listener, locked
 * @kern: whether the socket is for a kernel user
 *
 * The child inherits the listener's socket options, as TCP children do.
 * The caller lists it with hvsock_link() once it is set up.
 *
 * Return: the socket with one reference, or NULL.
 */
struct hvsock_sock *hvsock_alloc(struct sock *parent, int kern)
{
	struct hvsock_sock *hs, *ps = hvsock_sk(parent);
	struct sock *sk;

	sock_owned_by_me(parent);
	sk = sk_alloc(sock_net(parent), PF_HYPERV, GFP_KERNEL, &hvsock_proto,
		      kern);
	if (!sk)
		return NULL;
	sock_init_data(NULL, sk);
	hs = hvsock_sk(sk);
	hvsock_init_sk(hs);

	sk->sk_type = parent->sk_type;
	sk->sk_protocol = parent->sk_protocol;
	sk->sk_rcvlowat = parent->sk_rcvlowat;
	sk->sk_rcvtimeo = parent->sk_rcvtimeo;
	sk->sk_sndtimeo = parent->sk_sndtimeo;
	sk->sk_lingertime = parent->sk_lingertime;
	sk->sk_sndbuf = READ_ONCE(parent->sk_sndbuf);
	sk->sk_rcvbuf = READ_ONCE(parent->sk_rcvbuf);
	sk->sk_userlocks = parent->sk_userlocks;
	sock_copy_flags(sk, parent);
	sk->sk_mark = parent->sk_mark;
	sk->sk_priority = parent->sk_priority;
	hs->connect_timeout = ps->connect_timeout;
	security_sk_clone(parent, sk);
	return hs;
}

/* ---- teardown ------------------------------------------------------- */

/* Signal the host, unless it rescinded the channel. */
static void hvsock_kick(struct vmbus_channel *chan)
{
	if (!hvsock_chan_rescinded(chan))
		vmbus_setevent(chan);
}

/* Send the FIN once, if the channel can still carry it. */
static void hvsock_send_fin(struct hvsock_sock *hs)
{
	struct vmbus_channel *chan;
	bool kick;

	/* Writers of the outbound ring and of tx_wr serialise on it. */
	sock_owned_by_me(&hs->sk);
	chan = hvsock_live_chan(hs);
	if (!chan || hvsock_chan_rescinded(chan) ||
	    test_and_set_bit(HVSOCK_F_FIN_SENT, &hs->flags))
		return;
	/* hvsock_tx_room() always leaves room for it. */
	if (hvsock_pkt_write(&chan->outbound, &hs->tx_wr, NULL, 0, &kick) < 0)
		return;
	if (kick)
		hvsock_kick(chan);
}

/**
 * hvsock_peer_gone() - the host closed the connection
 * @hs: a socket that is not released, locked
 *
 * Data already on the inbound ring stays readable, then reads see EOF.
 * If the host left data of ours unread, it closed like a TCP peer with a
 * full receive queue, which resets the connection: ECONNRESET, as TCP.
 */
void hvsock_peer_gone(struct hvsock_sock *hs)
{
	struct sock *sk = &hs->sk;
	struct vmbus_channel *chan;

	sock_owned_by_me(sk);
	chan = hvsock_live_chan(hs);
	/* After a reset there is nothing left to report. */
	if (test_bit(HVSOCK_F_RESET, &hs->flags))
		return;
	if (chan && hvsock_tx_queued(&chan->outbound, hs->tx_wr) > 0)
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	sock_set_flag(sk, SOCK_DONE);
	hvsock_set_state(sk, TCP_CLOSE);
	sk->sk_state_change(sk);
	/* As tcp_fin() and tcp_reset(): SIGIO for O_ASYNC owners. */
	if (sk->sk_err)
		sk_error_report(sk);
	else
		sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
}

/**
 * hvsock_reset() - reset a connection after bad input from the host
 * @hs: the socket, locked
 * @why: for the log line
 *
 * The rings are not touched again, and the channel is closed at once so
 * that the host sees the reset, as a TCP peer sees an RST.
 */
void hvsock_reset(struct hvsock_sock *hs, const char *why)
{
	struct sock *sk = &hs->sk;

	sock_owned_by_me(sk);
	if (test_and_set_bit(HVSOCK_F_RESET, &hs->flags))
		return;
	net_warn_ratelimited("hv_sock: %pUl: %s from host, connection reset\n",
			     &hs->local_srv, why);
	hvsock_chan_close(hs);
	WRITE_ONCE(sk->sk_err, ECONNRESET);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	sock_set_flag(sk, SOCK_DONE);
	hvsock_set_state(sk, TCP_CLOSE);
	sk->sk_state_change(sk);
	sk_error_report(sk);
}

/* Also called without the socket lock: see hvsock_rx_ready(). */
static bool hvsock_linger_done(struct hvsock_sock *hs)
{
	struct vmbus_channel *chan;
	bool done = true;

	rcu_read_lock();
	chan = hvsock_live_chan(hs);
	if (chan && !hvsock_chan_rescinded(chan)) {
		struct hv_ring_buffer_info *out = &chan->outbound;

		done = hv_ringbuffer_free_bytes(out, READ_ONCE(hs->tx_wr)) ==
		       (int)hv_ringbuffer_data_size(out);
	}
	rcu_read_unlock();
	return done;
}

/*
 * Ask hvsock_chan_cb() to wake sk_sleep() once the host freed space. The
 * caller must be on that wait queue already and check for space after
 * this: the callback clears the bit before it looks at the ring, so a
 * callback that finds the bit also finds us queued and sees every packet
 * we wrote before setting it; one that comes earlier leaves the bit for
 * the next signal, and our check sees the space it found.
 */
static void hvsock_want_space(struct hvsock_sock *hs)
{
	/* Our queue entry and packets are visible before the bit... */
	smp_mb__before_atomic();
	set_bit(HVSOCK_F_WANT_SPACE, &hs->flags);
	/* ...and the bit before we read the host's read index. */
	smp_mb__after_atomic();
}

/*
 * SO_LINGER: wait until the host read everything we sent, or @timeo.
 * Only for a live channel: a reset or rescinded connection has nothing
 * left to deliver, and its rings may be gone.
 */
static void hvsock_linger(struct hvsock_sock *hs, long timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = &hs->sk;
	struct vmbus_channel *chan;

	/* sk_wait_event() drops and retakes it. */
	sock_owned_by_me(sk);
	chan = hvsock_live_chan(hs);
	if (!chan || hvsock_linger_done(hs))
		return;
	/* The host signals once the ring is completely free. */
	WRITE_ONCE(hs->tx_pending, hv_ringbuffer_data_size(&chan->outbound) - 1);
	set_channel_pending_send_size(chan, hs->tx_pending);

	add_wait_queue(sk_sleep(sk), &wait);
	while (timeo && !signal_pending(current)) {
		hvsock_want_space(hs);
		if (hvsock_linger_done(hs))
			break;
		sk_wait_event(sk, &timeo, hvsock_linger_done(hs), &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
}

/*
 * Take the children off a listener, locked; the caller closes them after
 * releasing it, since hvsock_close_sk() takes each child's lock.
 */
static void hvsock_listen_stop(struct hvsock_sock *hs, struct list_head *q)
{
	sock_owned_by_me(&hs->sk);
	list_splice_init(&hs->accept_q, q);
	WRITE_ONCE(hs->sk.sk_ack_backlog, 0);
	hvsock_set_state(&hs->sk, TCP_CLOSE);
}

static void hvsock_close_sk(struct hvsock_sock *hs, bool abort);

static void hvsock_close_children(struct list_head *q)
{
	struct hvsock_sock *child, *tmp;

	/* Like TCP, connections nobody accepted are reset. */
	list_for_each_entry_safe(child, tmp, q, accept_node) {
		list_del_init(&child->accept_node);
		hvsock_close_sk(child, true);
		sock_put(&child->sk);
	}
}

/**
 * hvsock_connect_cancel() - stop the connect timer
 * @hs: the socket, locked
 *
 * A hvsock_connect_work() already running sees the new state and drops
 * its own reference.
 */
void hvsock_connect_cancel(struct hvsock_sock *hs)
{
	sock_owned_by_me(&hs->sk);
	if (cancel_delayed_work(&hs->connect_work))
		sock_put(&hs->sk);
}

/* Data the host sent that nobody read, or a malformed packet. */
static bool hvsock_unread_data(struct hvsock_sock *hs)
{
	struct vmbus_channel *chan;
	u32 bytes;
	bool fin;

	sock_owned_by_me(&hs->sk);
	chan = hvsock_live_chan(hs);
	if (!chan || test_bit(HVSOCK_F_PEER_FIN, &hs->flags))
		return false;
	return hvsock_rx_scan(&chan->inbound, &hs->rx, &bytes, &fin) ||
	       bytes > 0;
}

/*
 * Close @hs for good: its user released it, or nobody accepted it. With
 * @abort, SO_LINGER 0 or unread data (as tcp_close() does) the channel is
 * closed at once without a FIN, the way TCP sends a reset; otherwise the
 * FIN goes out and the host gets HVSOCK_CLOSE_TIMEOUT to rescind the
 * channel before we close it.
 */
static void hvsock_close_sk(struct hvsock_sock *hs, bool abort)
{
	struct sock *sk = &hs->sk;
	LIST_HEAD(orphans);

	lock_sock(sk);
	switch (sk->sk_state) {
	case TCP_LISTEN:
		hvsock_listen_stop(hs, &orphans);
		break;
	case TCP_SYN_SENT:
		hvsock_connect_cancel(hs);
		break;
	}
	hvsock_unbind(hs);

	if ((sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime) ||
	    hvsock_unread_data(hs))
		abort = true;
	if (!abort) {
		hvsock_send_fin(hs);
		/* As inet_release(): an exiting task never lingers. */
		if (sock_flag(sk, SOCK_LINGER) &&
		    !(current->flags & PF_EXITING))
			hvsock_linger(hs, sk->sk_lingertime);
	}

	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	hvsock_set_state(sk, TCP_CLOSE);
	sock_orphan(sk);

	/* Tested only now: lingering let go of the lock. */
	if (test_bit(HVSOCK_F_OPEN, &hs->flags)) {
		if (abort || test_bit(HVSOCK_F_RESCINDED, &hs->flags) ||
		    test_bit(HVSOCK_F_RESET, &hs->flags))
			hvsock_queue_close(hs, 0);
		else
			hvsock_queue_close(hs, HVSOCK_CLOSE_TIMEOUT);
	}
	release_sock(sk);

	hvsock_close_children(&orphans);
}

static int hvsock_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;
	hvsock_close_sk(hvsock_sk(sk), false);
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

/* ---- addresses ------------------------------------------------------- */

static int hvsock_bind(struct socket *sock, struct sockaddr *uaddr,
		       int addr_len)
{
	struct sockaddr_hv *addr = (struct sockaddr_hv *)uaddr;
	struct sock *sk = sock->sk;
	struct hvsock_sock *hs = hvsock_sk(sk);
	guid_t vm, srv;
	int err;

	err = hvsock_addr_validate(addr, addr_len);
	if (err)
		return err;
	import_guid(&vm, addr->shv_vm_id);
	import_guid(&srv, addr->shv_service_id);
	if (!hvsock_vm_is_local(&vm))
		return -EADDRNOTAVAIL;

	lock_sock(sk);
	if (test_bit(HVSOCK_F_BOUND, &hs->flags) ||
	    !guid_is_null(&hs->local_srv) || sk->sk_state != TCP_CLOSE)
		err = -EINVAL;
	/* As vsock_bind(), in the one service space of the whole guest. */
	else if (hvsock_srv_is_reserved(&srv) &&
		 !capable(CAP_NET_BIND_SERVICE))
		err = -EACCES;
	else
		err = hvsock_bind_service(hs, &srv);
	release_sock(sk);
	return err;
}

static int hvsock_getname(struct socket *sock, struct sockaddr *uaddr,
			  int peer)
{
	struct sockaddr_hv *addr = (struct sockaddr_hv *)uaddr;
	struct sock *sk = sock->sk;
	struct hvsock_sock *hs = hvsock_sk(sk);
	int err = sizeof(*addr);

	memset(addr, 0, sizeof(*addr));
	addr->shv_family = AF_HYPERV;

	lock_sock(sk);
	if (peer) {
		/*
		 * As inet_getname(): the peer stays known after the host's
		 * FIN (CLOSE_WAIT), not once the connection is gone (a
		 * rescind or reset). The host is always the parent partition.
		 */
		if (!test_bit(HVSOCK_F_CONNECTED, &hs->flags) ||
		    sk->sk_state == TCP_CLOSE) {
			err = -ENOTCONN;
			goto out;
		}
		export_guid(addr->shv_vm_id, &hvsock_guid_parent);
		export_guid(addr->shv_service_id, &hs->remote_srv);
	} else {
		export_guid(addr->shv_service_id, &hs->local_srv);
	}
out:
	release_sock(sk);
	return err;
}

/* ---- connect, listen, accept ------------------------------------------ */

/**
 * hvsock_connect_work() - fail a connect the host did not answer in time
 * @work: hvsock_sock::connect_work
 *
 * Holds a socket reference while queued.
 */
void hvsock_connect_work(struct work_struct *work)
{
	struct hvsock_sock *hs = container_of(to_delayed_work(work),
					      struct hvsock_sock, connect_work);
	struct sock *sk = &hs->sk;

	lock_sock(sk);
	if (sk->sk_state == TCP_SYN_SENT) {
		long left = (long)(hs->connect_deadline - jiffies);

		if (left > 0) {
			/* Re-armed by a later connect() with a new deadline. */
			sock_hold(sk);
			if (!queue_delayed_work(hvsock_wq, &hs->connect_work,
						left))
				sock_put(sk);
		} else {
			hvsock_connect_failed(hs, ETIMEDOUT);
		}
	}
	release_sock(sk);
	sock_put(sk);
}

/*
 * As TCP gives back an ephemeral port, give back a service GUID that
 * connect() picked by itself.
 */
static void hvsock_drop_autobind(struct hvsock_sock *hs)
{
	sock_owned_by_me(&hs->sk);
	if (test_and_clear_bit(HVSOCK_F_AUTOBIND, &hs->flags)) {
		hvsock_unbind(hs);
		hs->local_srv = guid_null;
	}
}

/**
 * hvsock_connect_failed() - a connect attempt ends without a connection
 * @hs: the socket, locked, in SYN_SENT
 * @err: the positive errno connect() reports
 *
 * A retry then binds a fresh service GUID: the host may still hold the
 * refused or late offer of this attempt, named after the old one, and
 * must not find the new attempt with it.
 */
void hvsock_connect_failed(struct hvsock_sock *hs, int err)
{
	struct sock *sk = &hs->sk;

	sock_owned_by_me(sk);
	hvsock_drop_autobind(hs);
	WRITE_ONCE(sk->sk_err, err);
	/* As tcp_done(): poll() then reports EPOLLIN | EPOLLRDHUP too. */
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	hvsock_set_state(sk, TCP_CLOSE);
	sk_error_report(sk);
}

static int hvsock_start_connect(struct hvsock_sock *hs,
				const struct sockaddr_hv *addr)
{
	struct sock *sk = &hs->sk;
	unsigned long timeout;
	guid_t vm, srv;
	int err;

	sock_owned_by_me(sk);
	import_guid(&vm, addr->shv_vm_id);
	import_guid(&srv, addr->shv_service_id);
	if (!hvsock_vm_is_host(&vm))
		return -ENETUNREACH;
	if (guid_is_null(&srv))
		return -EINVAL;

	if (!test_bit(HVSOCK_F_BOUND, &hs->flags)) {
		err = hvsock_bind_service(hs, &guid_null);
		if (err)
			return err;
		set_bit(HVSOCK_F_AUTOBIND, &hs->flags);
	}

	hs->remote_srv = srv;
	WRITE_ONCE(sk->sk_err, 0);
	WRITE_ONCE(sk->sk_shutdown, 0);
	err = vmbus_send_tl_connect_request(&hs->local_srv, &hs->remote_srv);
	if (err) {
		hvsock_drop_autobind(hs);
		return err;
	}

	hvsock_set_state(sk, TCP_SYN_SENT);
	timeout = msecs_to_jiffies(READ_ONCE(hs->connect_timeout));
	hs->connect_deadline = jiffies + timeout;
	sock_hold(sk);
	if (!queue_delayed_work(hvsock_wq, &hs->connect_work, timeout))
		sock_put(sk);
	return 0;
}

/*
 * Wait while a connect is in progress; returns the time left. Called
 * locked: sk_wait_event() lets go of the lock while it sleeps.
 */
static long hvsock_wait_connect(struct sock *sk, long timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	sock_owned_by_me(sk);
	add_wait_queue(sk_sleep(sk), &wait);
	while (sk->sk_state == TCP_SYN_SENT) {
		if (!timeo || signal_pending(current))
			break;
		sk_wait_event(sk, &timeo,
			      hvsock_state(sk) != TCP_SYN_SENT, &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return timeo;
}

/*
 * The connection was made and the host has closed it already. As TCP
 * after a FIN it still counts for connect() if the host's FIN came
 * before its rescind (a graceful close, with what the host sent still
 * readable); a rescind without the FIN is an abort, as a TCP reset.
 */
static bool hvsock_closed_after_fin(struct hvsock_sock *hs)
{
	struct vmbus_channel *chan;
	u32 bytes;
	bool fin;

	sock_owned_by_me(&hs->sk);
	chan = hvsock_live_chan(hs);
	if (!test_bit(HVSOCK_F_CONNECTED, &hs->flags) || hs->sk.sk_err)
		return false;
	if (test_bit(HVSOCK_F_PEER_FIN, &hs->flags))
		return true;
	return chan && !hvsock_rx_scan(&chan->inbound, &hs->rx, &bytes, &fin) &&
	       fin;
}

/*
 * connect() follows inet_stream_connect(): a blocking connect waits until
 * the host answers, HVSOCKET_CONNECT_TIMEOUT expires (ETIMEDOUT), a signal
 * arrives or SO_SNDTIMEO expires (EINPROGRESS), and the attempt goes on in
 * the background in the last two cases.
 */
static int hvsock_connect(struct socket *sock, struct sockaddr *uaddr,
			  int addr_len, int flags)
{
	struct sockaddr_hv *addr = (struct sockaddr_hv *)uaddr;
	struct sock *sk = sock->sk;
	long timeo;
	int err;

	err = hvsock_addr_validate(addr, addr_len);
	if (err)
		return err;

	lock_sock(sk);
	switch (sock->state) {
	default:
		err = -EINVAL;
		goto out;
	case SS_CONNECTED:
		err = -EISCONN;
		goto out;
	case SS_CONNECTING:
		err = -EALREADY;
		break;
	case SS_UNCONNECTED:
		/*
		 * A socket that had a connection keeps its channel until it
		 * is released, so it cannot start another one.
		 */
		err = -EISCONN;
		if (sk->sk_state != TCP_CLOSE ||
		    test_bit(HVSOCK_F_CONNECTED, &hvsock_sk(sk)->flags))
			goto out;
		err = hvsock_start_connect(hvsock_sk(sk), addr);
		if (err)
			goto out;
		sock->state = SS_CONNECTING;
		err = -EINPROGRESS;
		break;
	}

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	if (sk->sk_state == TCP_SYN_SENT) {
		if (!timeo)
			goto out;
		timeo = hvsock_wait_connect(sk, timeo);
		if (sk->sk_state == TCP_SYN_SENT) {
			if (signal_pending(current))
				err = sock_intr_errno(timeo);
			goto out;
		}
	}

	/*
	 * Refused, timed out, aborted, or connected and already aborted
	 * again: as inet_stream_connect(), the error or ECONNABORTED.
	 */
	if (sk->sk_state == TCP_CLOSE &&
	    !hvsock_closed_after_fin(hvsock_sk(sk))) {
		err = sock_error(sk) ? : -ECONNABORTED;
		sock->state = SS_UNCONNECTED;
		goto out;
	}
	sock->state = SS_CONNECTED;
	err = 0;
out:
	release_sock(sk);
	return err;
}

static int hvsock_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct hvsock_sock *hs = hvsock_sk(sk);
	int somaxconn, err = -EINVAL;

	lock_sock(sk);
	/*
	 * A socket that had a connection keeps its channel, and the host's
	 * rescind of it, until it is released: it cannot become a listener.
	 */
	if (sock->state != SS_UNCONNECTED ||
	    !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)) ||
	    test_bit(HVSOCK_F_CONNECTED, &hs->flags))
		goto out;

	somaxconn = READ_ONCE(sock_net(sk)->core.sysctl_somaxconn);
	if ((unsigned int)backlog > somaxconn)
		backlog = somaxconn;
	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);

	if (sk->sk_state != TCP_LISTEN) {
		/* Like TCP, listening on an unbound socket binds it. */
		if (!test_bit(HVSOCK_F_BOUND, &hs->flags)) {
			err = hvsock_bind_service(hs, &guid_null);
			if (err)
				goto out;
		}
		WRITE_ONCE(sk->sk_shutdown, 0);
		hvsock_set_state(sk, TCP_LISTEN);
	}
	err = 0;
out:
	release_sock(sk);
	return err;
}

static int hvsock_accept(struct socket *sock, struct socket *newsock,
			 struct proto_accept_arg *arg)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk, *csk;
	struct hvsock_sock *hs = hvsock_sk(sk), *child = NULL;
	long timeo;
	int err;

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != TCP_LISTEN)
		goto out;

	timeo = sock_rcvtimeo(sk, arg->flags & O_NONBLOCK);
	add_wait_queue_exclusive(sk_sleep(sk), &wait);
	for (;;) {
		err = -EINVAL;
		if (sk->sk_state != TCP_LISTEN)
			break;
		child = list_first_entry_or_null(&hs->accept_q,
						 struct hvsock_sock,
						 accept_node);
		if (child)
			break;
		err = -EAGAIN;
		if (!timeo)
			break;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			break;
		sk_wait_event(sk, &timeo,
			      !list_empty(&hs->accept_q) ||
			      hvsock_state(sk) != TCP_LISTEN, &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (!child)
		goto out;

	list_del_init(&child->accept_node);
	sk_acceptq_removed(sk);
	arg->is_empty = list_empty(&hs->accept_q);
	release_sock(sk);

	/* The queue's reference now belongs to @newsock. */
	csk = &child->sk;
	lock_sock(csk);
	sock_graft(csk, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(csk);
	return 0;
out:
	release_sock(sk);
	return err;
}

/* ---- data ------------------------------------------------------------ */

/*
 * The ring has room for a packet worth sending @want bytes, or sending
 * fails at once. Also called without the socket lock: see
 * hvsock_rx_ready().
 */
static bool hvsock_tx_ready(struct hvsock_sock *hs, size_t want)
{
	struct vmbus_channel *chan;
	bool ready = true;
	int room;

	rcu_read_lock();
	chan = hvsock_live_chan(hs);
	if (chan) {
		room = hvsock_tx_room(&chan->outbound, READ_ONCE(hs->tx_wr),
				      hs->send_mtu);
		ready = room < 0 ||
			room >= min3(want, (size_t)HVSOCK_TX_MIN,
				     (size_t)hs->send_mtu);
	}
	rcu_read_unlock();
	return ready;
}

static bool hvsock_tx_wait_done(struct hvsock_sock *hs, size_t want)
{
	struct sock *sk = &hs->sk;

	return READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) ||
	       hvsock_tx_ready(hs, want);
}

/*
 * Wait for ring space. The host signals when its reads free more than
 * tx_pending bytes; WANT_SPACE tells the channel callback to wake us.
 */
static int hvsock_tx_wait(struct hvsock_sock *hs, size_t want, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = &hs->sk;
	int err = 0;

	sock_owned_by_me(sk);
	add_wait_queue(sk_sleep(sk), &wait);
	/* As sk_stream_wait_memory(): SIGIO when space returns. */
	sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
	hvsock_want_space(hs);
	if (hvsock_tx_wait_done(hs, want))
		goto out;
	err = -EAGAIN;
	if (!*timeo)
		goto out;
	err = sock_intr_errno(*timeo);
	if (signal_pending(current))
		goto out;

	err = 0;
	sk_wait_event(sk, timeo, hvsock_tx_wait_done(hs, want), &wait);
out:
	remove_wait_queue(sk_sleep(sk), &wait);
	return err;
}

static int hvsock_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct hvsock_sock *hs = hvsock_sk(sk);
	struct vmbus_channel *chan;
	size_t sent = 0;
	long timeo;
	int err, n;
	bool kick;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;

	lock_sock(sk);
	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);

	/* As TCP: a send during a connect waits for it. */
	if (sk->sk_state == TCP_SYN_SENT) {
		err = -EAGAIN;
		if (!timeo)
			goto out_err;
		timeo = hvsock_wait_connect(sk, timeo);
		if (sk->sk_state == TCP_SYN_SENT) {
			err = timeo ? sock_intr_errno(timeo) : -EAGAIN;
			goto out_err;
		}
	}

	for (;;) {
		err = -EPIPE;
		chan = hvsock_live_chan(hs);
		if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN) ||
		    !((1 << sk->sk_state) & HVSOCK_CONNECTED_STATES) ||
		    !chan || hvsock_chan_rescinded(chan))
			goto out_err;
		if (sent == len)
			break;

		n = hvsock_tx_room(&chan->outbound, hs->tx_wr, hs->send_mtu);
		if (n < 0) {
			hvsock_reset(hs, "bad ring index");
			continue;
		}
		if (n < min3(len - sent, (size_t)HVSOCK_TX_MIN,
			     (size_t)hs->send_mtu)) {
			err = hvsock_tx_wait(hs, len - sent, &timeo);
			if (err)
				goto out_err;
			continue;
		}

		n = hvsock_pkt_write(&chan->outbound, &hs->tx_wr,
				     &msg->msg_iter, min_t(size_t, n, len - sent),
				     &kick);
		if (kick)
			hvsock_kick(chan);
		if (n == -EFAULT) {
			err = n;
			goto out_err;
		}
		if (n < 0) {
			hvsock_reset(hs, "bad ring index");
			continue;
		}
		sent += n;
	}
	release_sock(sk);
	return sent;

out_err:
	release_sock(sk);
	if (sent)
		return sent;
	/* sk_stream_error(), which is not exported */
	if (err == -EPIPE)
		err = sock_error(sk) ? : -EPIPE;
	if (err == -EPIPE && !(msg->msg_flags & MSG_NOSIGNAL))
		send_sig(SIGPIPE, current, 0);
	return err;
}

/* Record the host's FIN once a reader consumed it. */
static void hvsock_got_fin(struct hvsock_sock *hs)
{
	struct sock *sk = &hs->sk;

	sock_owned_by_me(sk);
	set_bit(HVSOCK_F_PEER_FIN, &hs->flags);
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
	sock_set_flag(sk, SOCK_DONE);
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
		hvsock_set_state(sk, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT1:
		hvsock_set_state(sk, TCP_CLOSING);
		break;
	}
	sk->sk_state_change(sk);
}

/*
 * Payload or the FIN is waiting, or a malformed packet that recvmsg()
 * turns into a reset. sk_wait_event() also calls this without the socket
 * lock, hence the RCU read section (see hvsock_chan_close()).
 */
static bool hvsock_rx_ready(struct hvsock_sock *hs)
{
	struct vmbus_channel *chan;
	bool ready = false, fin;
	u32 bytes;

	rcu_read_lock();
	chan = hvsock_live_chan(hs);
	if (chan && !test_bit(HVSOCK_F_PEER_FIN, &hs->flags))
		ready = hvsock_rx_scan(&chan->inbound, &hs->rx, &bytes,
				       &fin) || bytes || fin;
	rcu_read_unlock();
	return ready;
}

static bool hvsock_rx_wait_done(struct hvsock_sock *hs)
{
	struct sock *sk = &hs->sk;

	return READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
	       hvsock_state(sk) == TCP_CLOSE ||
	       hvsock_rx_ready(hs);
}

/*
 * One pass of recvmsg() over the inbound ring: copy what is there (or,
 * with MSG_TRUNC, discard it, as TCP does), give consumed packets back to
 * the host, and turn a malformed packet into a reset. @done bytes were
 * copied by earlier passes. Sets @fin when the pass reached the FIN.
 *
 * Return: bytes copied or discarded, or -EFAULT.
 */
static int hvsock_recv_pass(struct hvsock_sock *hs, struct msghdr *msg,
			    size_t len, size_t done, int flags, bool *fin)
{
	struct iov_iter *to = flags & MSG_TRUNC ? NULL : &msg->msg_iter;
	bool peek = flags & MSG_PEEK;
	struct hvsock_rx tmp, *rx = &hs->rx;
	struct vmbus_channel *chan;
	int n;

	/* The only mover of the receive cursor; lockless readers scan it. */
	sock_owned_by_me(&hs->sk);
	chan = hvsock_live_chan(hs);
	*fin = false;
	if (!chan || test_bit(HVSOCK_F_PEER_FIN, &hs->flags))
		return 0;
	if (peek) {
		tmp = hs->rx;
		rx = &tmp;
	}
	n = hvsock_rx_pull(&chan->inbound, rx, to, len, peek ? done : 0, fin);
	if (!peek && hvsock_rx_publish(&chan->inbound, rx))
		hvsock_kick(chan);
	if (n == -EBADMSG) {
		hvsock_reset(hs, "malformed packet");
		return 0;
	}
	if (n >= 0 && *fin && !peek)
		hvsock_got_fin(hs);
	return n;
}

/*
 * The host signals nothing it writes while the ring holds packets we have
 * not given back, so a poller or second reader that looked while we were
 * reading may have seen an empty ring and must be woken by us now.
 */
static void hvsock_rx_wake_others(struct hvsock_sock *hs)
{
	struct sock *sk = &hs->sk;
	struct vmbus_channel *chan;
	struct socket_wq *wq;

	sock_owned_by_me(sk);
	chan = hvsock_live_chan(hs);
	if (!chan || test_bit(HVSOCK_F_PEER_FIN, &hs->flags) ||
	    !hvsock_rx_pending(&chan->inbound, &hs->rx))
		return;
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLIN | EPOLLRDNORM);
	rcu_read_unlock();
}

/*
 * recvmsg() follows tcp_recvmsg(): data first, then EOF or the error;
 * it blocks until SO_RCVLOWAT (or, with MSG_WAITALL, all) bytes arrived.
 * It only ever sleeps on an inbound ring it emptied, so the host signals
 * the next packet. MSG_PEEK cannot empty the ring and therefore returns
 * as soon as it copied anything, whatever SO_RCVLOWAT or MSG_WAITALL say.
 */
static int hvsock_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
			  int flags)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	struct hvsock_sock *hs = hvsock_sk(sk);
	bool peek = flags & MSG_PEEK;
	int copied = 0, target, n;
	bool fin = false;
	long timeo;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	/* Nothing is ever queued on the error queue. */
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		copied = -ENOTCONN;
		goto out;
	}
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = peek ? 1 : sock_rcvlowat(sk, flags & MSG_WAITALL, len);

	for (;;) {
		n = hvsock_recv_pass(hs, msg, len - copied, copied, flags, &fin);
		if (n < 0) {
			if (!copied)
				copied = n;
			break;
		}
		copied += n;

		if (copied >= target)
			break;
		/* A zero-length read returns as soon as data is there. */
		if (!len && hvsock_rx_ready(hs))
			break;
		if (copied) {
			if (sk->sk_err || sk->sk_state == TCP_CLOSE ||
			    (sk->sk_shutdown & RCV_SHUTDOWN) || fin ||
			    !timeo || signal_pending(current))
				break;
		} else {
			if (fin || test_bit(HVSOCK_F_PEER_FIN, &hs->flags))
				break;
			if (sk->sk_err) {
				copied = sock_error(sk);
				break;
			}
			if (sk->sk_shutdown & RCV_SHUTDOWN)
				break;
			if (sk->sk_state == TCP_CLOSE) {
				if (!sock_flag(sk, SOCK_DONE))
					copied = -ENOTCONN;
				break;
			}
			if (!timeo) {
				copied = -EAGAIN;
				break;
			}
			if (signal_pending(current)) {
				copied = sock_intr_errno(timeo);
				break;
			}
		}

		add_wait_queue(sk_sleep(sk), &wait);
		sk_wait_event(sk, &timeo, hvsock_rx_wait_done(hs), &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
	}
	if (!peek)
		hvsock_rx_wake_others(hs);
out:
	release_sock(sk);
	return copied;
}

/* ---- poll, ioctl, shutdown, options ------------------------------------ */

/*
 * The inbound side of poll(), under rcu_read_lock(). Readable as soon as
 * one byte is: a poller waiting for SO_RCVLOWAT bytes while fewer sit on
 * the ring would never be woken, since the host signals only an empty
 * ring. A malformed packet is readable too: the next recvmsg() turns it
 * into the reset and its ECONNRESET, as TCP reports EPOLLERR only with
 * the error that SO_ERROR reads.
 */
static __poll_t hvsock_poll_rx(struct hvsock_sock *hs, u8 shutdown)
{
	struct vmbus_channel *chan;
	u32 bytes;
	bool fin;

	lockdep_assert_in_rcu_read_lock();
	chan = hvsock_live_chan(hs);
	if (!chan || test_bit(HVSOCK_F_PEER_FIN, &hs->flags))
		return 0;
	switch (hvsock_rx_scan(&chan->inbound, &hs->rx, &bytes, &fin)) {
	case 0:
		break;
	default:	/* a reader is at work, or a malformed packet */
		return EPOLLIN | EPOLLRDNORM;
	}
	/* The FIN is on the ring: TCP would have seen it. */
	if (fin)
		return EPOLLIN | EPOLLRDNORM | EPOLLRDHUP |
		       (shutdown & SEND_SHUTDOWN ? EPOLLHUP : 0);
	return bytes ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The outbound side of poll(), under rcu_read_lock(); as tcp_poll(). */
static __poll_t hvsock_poll_tx(struct hvsock_sock *hs, u8 shutdown)
{
	lockdep_assert_in_rcu_read_lock();
	if ((shutdown & SEND_SHUTDOWN) || hvsock_tx_ready(hs, SIZE_MAX))
		return EPOLLOUT | EPOLLWRNORM;

	sk_set_bit(SOCKWQ_ASYNC_NOSPACE, &hs->sk);
	/* sock_poll_wait() queued us already. */
	hvsock_want_space(hs);
	if (hvsock_tx_ready(hs, SIZE_MAX))
		return EPOLLOUT | EPOLLWRNORM;
	return 0;
}

static __poll_t hvsock_poll(struct file *file, struct socket *sock,
			    poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct hvsock_sock *hs = hvsock_sk(sk);
	__poll_t mask = 0;
	u8 shutdown;
	int state;

	sock_poll_wait(file, sock, wait);

	state = hvsock_state(sk);
	if (state == TCP_LISTEN)
		return READ_ONCE(sk->sk_ack_backlog) ? EPOLLIN | EPOLLRDNORM : 0;

	/* As tcp_poll(); see the notes there on EPOLLHUP. */
	shutdown = READ_ONCE(sk->sk_shutdown);
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;

	if (state != TCP_SYN_SENT) {
		rcu_read_lock();
		mask |= hvsock_poll_rx(hs, shutdown);
		mask |= hvsock_poll_tx(hs, shutdown);
		rcu_read_unlock();
	}

	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

static int hvsock_ioctl(struct socket *sock, unsigned int cmd,
			unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct hvsock_sock *hs = hvsock_sk(sk);
	struct vmbus_channel *chan;
	u32 bytes = 0;
	int answ = 0;
	bool fin;

	switch (cmd) {
	case SIOCINQ:
	case SIOCOUTQ:
		break;
	default:
		return -ENOIOCTLCMD;
	}

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		release_sock(sk);
		return -EINVAL;
	}
	chan = hvsock_live_chan(hs);
	if (chan) {
		if (cmd == SIOCINQ) {
			if (!test_bit(HVSOCK_F_PEER_FIN, &hs->flags)) {
				hvsock_rx_scan(&chan->inbound, &hs->rx,
					       &bytes, &fin);
				answ = min_t(u32, bytes, INT_MAX);
			}
		} else {
			answ = hvsock_tx_queued(&chan->outbound, hs->tx_wr);
		}
	}
	release_sock(sk);
	return put_user(answ, (int __user *)arg);
}

static int hvsock_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct hvsock_sock *hs = hvsock_sk(sk);
	LIST_HEAD(orphans);
	int err = 0;

	/* SHUT_RD, SHUT_WR, SHUT_RDWR -> RCV_SHUTDOWN, SEND_SHUTDOWN, both */
	how++;
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;

	lock_sock(sk);
	if (sock->state == SS_CONNECTING) {
		if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_CLOSE))
			sock->state = SS_DISCONNECTING;
		else
			sock->state = SS_CONNECTED;
	}

	switch (sk->sk_state) {
	case TCP_CLOSE:
		err = -ENOTCONN;
		fallthrough;
	default:
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | how);
		if (how & SEND_SHUTDOWN && sk->sk_state != TCP_CLOSE) {
			hvsock_send_fin(hs);
			if (sk->sk_state == TCP_ESTABLISHED)
				hvsock_set_state(sk, TCP_FIN_WAIT1);
			else if (sk->sk_state == TCP_CLOSE_WAIT)
				hvsock_set_state(sk, TCP_LAST_ACK);
		}
		break;
	case TCP_LISTEN:
		if (!(how & RCV_SHUTDOWN))
			break;
		/* Stop listening; the service stays bound, as in TCP. */
		hvsock_listen_stop(hs, &orphans);
		sock->state = SS_UNCONNECTED;
		break;
	case TCP_SYN_SENT:
		/* As tcp_disconnect(): a connect() in progress fails. */
		hvsock_connect_cancel(hs);
		hvsock_connect_failed(hs, ECONNRESET);
		sock->state = SS_UNCONNECTED;
		break;
	}
	sk->sk_state_change(sk);
	release_sock(sk);

	hvsock_close_children(&orphans);
	return err;
}

static int hvsock_setsockopt(struct socket *sock, int level, int optname,
			     sockptr_t optval, unsigned int optlen)
{
	struct hvsock_sock *hs = hvsock_sk(sock->sk);
	u32 val;

	if (level != SOL_HYPERV)
		return -ENOPROTOOPT;

	switch (optname) {
	case HVSOCKET_CONNECT_TIMEOUT:
		if (optlen < sizeof(val))
			return -EINVAL;
		if (copy_from_sockptr(&val, optval, sizeof(val)))
			return -EFAULT;
		if (!val || val > HVSOCKET_CONNECT_TIMEOUT_MAX)
			return -EINVAL;
		/* Read by the next connect(), and locklessly by getsockopt(). */
		WRITE_ONCE(hs->connect_timeout, val);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int hvsock_getsockopt(struct socket *sock, int level, int optname,
			     char __user *optval, int __user *optlen)
{
	struct hvsock_sock *hs = hvsock_sk(sock->sk);
	u32 val;
	int len;

	if (level != SOL_HYPERV)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;

	switch (optname) {
	case HVSOCKET_CONNECT_TIMEOUT:
		val = READ_ONCE(hs->connect_timeout);
		break;
	default:
		return -ENOPROTOOPT;
	}

	if (len < (int)sizeof(val))
		return -EINVAL;
	len = sizeof(val);
	if (copy_to_user(optval, &val, len) || put_user(len, optlen))
		return -EFAULT;
	return 0;
}

/*
 * SO_RCVLOWAT. As tcp_set_rcvlowat(): readers (and SIGIO) are told only
 * if what is there meets the new mark. Usually under the socket lock, but
 * a BPF program at socket creation may set it without the lock
 * (bpf_unlocked_sk_setsockopt()), so the ring is looked at as poll() does.
 */
static int hvsock_set_rcvlowat(struct sock *sk, int val)
{
	struct hvsock_sock *hs = hvsock_sk(sk);
	struct vmbus_channel *chan;
	bool fin, ready = false;
	u32 bytes;

	val = val ? : 1;
	WRITE_ONCE(sk->sk_rcvlowat, val);
	rcu_read_lock();
	chan = hvsock_live_chan(hs);
	if (chan && !test_bit(HVSOCK_F_PEER_FIN, &hs->flags) &&
	    !hvsock_rx_scan(&chan->inbound, &hs->rx, &bytes, &fin))
		ready = bytes >= val || fin;
	rcu_read_unlock();
	if (ready)
		sk->sk_data_ready(sk);
	return 0;
}

static const struct proto_ops hvsock_stream_ops = {
	.family		= PF_HYPERV,
	.owner		= THIS_MODULE,
	.release	= hvsock_release,
	.bind		= hvsock_bind,
	.connect	= hvsock_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= hvsock_accept,
	.getname	= hvsock_getname,
	.poll		= hvsock_poll,
	.ioctl		= hvsock_ioctl,
	.listen		= hvsock_listen,
	.shutdown	= hvsock_shutdown,
	.setsockopt	= hvsock_setsockopt,
	.getsockopt	= hvsock_getsockopt,
	.sendmsg	= hvsock_sendmsg,
	.recvmsg	= hvsock_recvmsg,
	.mmap		= sock_no_mmap,
	.set_rcvlowat	= hvsock_set_rcvlowat,
};

static struct proto hvsock_proto = {
	.name		= "HYPERV",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct hvsock_sock),
};

/* ---- monitoring ------------------------------------------------------ */

/**
 * hvsock_get_queues() - the bytes on a socket's rings and their sizes
 * @hs: the socket; no lock needed, but its memory must stay valid
 * @q: filled in; all zero when the socket has no usable channel
 *
 * A lockless snapshot for monitoring: the queues may change at once.
 */
void hvsock_get_queues(struct hvsock_sock *hs, struct hvsock_queues *q)
{
	struct vmbus_channel *chan;
	bool fin;

	memset(q, 0, sizeof(*q));
	/* hvsock_chan_close() waits for us before it frees the rings. */
	rcu_read_lock();
	chan = hvsock_live_chan(hs);
	if (chan) {
		if (!test_bit(HVSOCK_F_PEER_FIN, &hs->flags))
			hvsock_rx_scan(&chan->inbound, &hs->rx, &q->rxq, &fin);
		q->txq = hvsock_tx_queued(&chan->outbound,
					  READ_ONCE(hs->tx_wr));
		q->rx_ring = hv_ringbuffer_data_size(&chan->inbound);
		q->tx_ring = hv_ringbuffer_data_size(&chan->outbound);
	}
	rcu_read_unlock();
}
EXPORT_SYMBOL_GPL(hvsock_get_queues);

static int hvsock_create(struct net *net, struct socket *sock, int protocol,
			 int kern)
{
	struct sock *sk;

	/* Outside the initial namespace, only where an administrator said. */
	if (!hvsock_net_enabled(net))
		return -EAFNOSUPPORT;
	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != 0 && protocol != HV_PROTOCOL_RAW)
		return -EPROTONOSUPPORT;

	sk = sk_alloc(net, PF_HYPERV, GFP_KERNEL, &hvsock_proto, kern);
	if (!sk)
		return -ENOMEM;

	sock->ops = &hvsock_stream_ops;
	sock->state = SS_UNCONNECTED;
	sock_init_data(sock, sk);
	/* As inet: 0 picks the only protocol, and SO_PROTOCOL names it. */
	sk->sk_protocol = HV_PROTOCOL_RAW;
	hvsock_init_sk(hvsock_sk(sk));
	hvsock_link(hvsock_sk(sk));
	return 0;
}

static const struct net_proto_family hvsock_family_ops = {
	.family	= PF_HYPERV,
	.create	= hvsock_create,
	.owner	= THIS_MODULE,
};

static int __init hvsock_init(void)
{
	int err;

	err = proto_register(&hvsock_proto, 0);
	if (err)
		return err;

	err = -ENOMEM;
	/*
	 * Freezable: a close or rescind left over when VMBus rescinds every
	 * hvsock channel for hibernation runs after the resume, as the
	 * applications' own closes of those sockets do.
	 */
	hvsock_wq = alloc_workqueue("hv_sock", WQ_FREEZABLE, 0);
	if (!hvsock_wq)
		goto err_proto;

	err = hvsock_net_register();
	if (err)
		goto err_wq;

	err = hvsock_vmbus_init();
	if (err)
		goto err_net;

	err = sock_register(&hvsock_family_ops);
	if (err)
		goto err_vmbus;
	return 0;

err_vmbus:
	hvsock_vmbus_exit();
err_net:
	hvsock_net_unregister();
err_wq:
	destroy_workqueue(hvsock_wq);
err_proto:
	proto_unregister(&hvsock_proto);
	return err;
}

/*
 * Every socket holds a reference on this module (through hvsock_proto),
 * and a released socket keeps its until its channel is gone, so by the
 * time we get here only refused, never-opened offers remain.
 */
static void __exit hvsock_exit(void)
{
	sock_unregister(PF_HYPERV);
	hvsock_vmbus_exit();
	/* The work that dropped the last socket may still be returning. */
	destroy_workqueue(hvsock_wq);
	hvsock_net_unregister();
	proto_unregister(&hvsock_proto);
}

module_init(hvsock_init);
module_exit(hvsock_exit);

MODULE_DESCRIPTION("Hyper-V sockets (AF_HYPERV)");
MODULE_LICENSE("GPL");
MODULE_ALIAS_NETPROTO(PF_HYPERV);
/*
 * The module's name before it had to share a kernel with the AF_VSOCK
 * transport, whose module is hv_sock: "modprobe hv_sock" loads that one
 * where it is built (a module name goes before an alias), this one where
 * it is not.
 */
MODULE_ALIAS("hv_sock");
