// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host's data path on a connection: read what the guest sent, write
 * to the guest, send the FIN, poll. A blocked host waits for a guest
 * signal (or a state change) and for nothing else: before sleeping it
 * unmasks interrupts or sets pending_send_sz and looks at the ring once
 * more, exactly like a VMBus endpoint must.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>

#include "hvsim_internal.h"
#include "hvsim_host.h"

/* A consistent copy of the state a host operation looks at. */
struct hvsim_snap {
	enum hvsim_state state;
	enum hvsim_close_reason reason;
	u32 flags;
	bool stopped;
};

static void hvsim_snap(struct hvsim_conn *c, struct hvsim_snap *s)
{
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	s->state = c->state;
	s->reason = c->reason;
	s->flags = c->flags;
	s->stopped = c->drain_stopped;
	spin_unlock_irqrestore(&c->lock, flags);
}

static void hvsim_set_flag(struct hvsim_conn *c, u32 flag)
{
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	c->flags |= flag;
	spin_unlock_irqrestore(&c->lock, flags);
}

static bool hvsim_reset_by_guest(const struct hvsim_snap *s)
{
	return s->reason == HVSIM_CLOSE_GUEST ||
	       s->reason == HVSIM_CLOSE_PROTOCOL;
}

/* The guest broke the format: count, log and reset the connection. */
static void hvsim_conn_proto_error(struct hvsim_conn *c)
{
	unsigned long flags;
	u32 relid;

	spin_lock_irqsave(&c->lock, flags);
	WRITE_ONCE(c->stats.proto_errors, c->stats.proto_errors + 1);
	relid = c->relid;
	spin_unlock_irqrestore(&c->lock, flags);

	pr_warn_ratelimited("relid %u: guest broke the hvsock ring protocol, resetting the connection\n",
			    relid);
	hvsim_conn_rescind(c, HVSIM_CLOSE_PROTOCOL);
}

/* ---------------------------------------------------------------- read */

static int hvsim_rx_check(struct hvsim_conn *c, const struct hvsim_snap *s)
{
	if (s->state == HVSIM_STATE_OFFERED)
		return -ENOTCONN;
	if (s->state == HVSIM_STATE_CLOSED)
		return hvsim_reset_by_guest(s) ? -ECONNRESET : -ECONNABORTED;
	if (!hvsim_ring_attached(&c->rx_ring))
		return -ECONNRESET;
	if (s->stopped)
		return -EAGAIN;
	return 0;
}

/*
 * Hand a packet back to the guest, then interrupt it if that freed the
 * space it waits for. The decision is taken for every packet, right after
 * its read_index store: the guest may refill the space at once, so a read
 * that drains the ring while the guest keeps writing can consume more than
 * a ring's worth of bytes, and "how much was free before" can only be
 * reconstructed from the current indices over a span shorter than the ring.
 */
static void hvsim_rx_consume(struct hvsim_conn *c, u32 next)
{
	struct hvsim_ring *r = &c->rx_ring;
	u32 old = r->pos;

	hvsim_ring_consume(r, next);
	if (hvsim_ring_reader_should_signal(r, old))
		hvsim_conn_interrupt_guest(c);
}

/*
 * Start on the next packet. If the ring is empty, unmask the interrupt
 * and look once more, so a packet published meanwhile is not missed.
 * Return: 0, 1 for a FIN (consumed), -EAGAIN if empty, -EPROTO.
 */
static int hvsim_rx_next(struct hvsim_conn *c)
{
	struct hvsim_ring *r = &c->rx_ring;
	struct hvsim_pkt pkt;
	int ret;

	ret = hvsim_ring_parse(r, &pkt);
	if (ret == -EAGAIN) {
		hvsim_ring_set_mask(r, false);
		ret = hvsim_ring_parse(r, &pkt);
		if (!ret)
			hvsim_ring_set_mask(r, true);
	}
	if (ret)
		return ret;

	WRITE_ONCE(c->stats.pkts_from_guest, c->stats.pkts_from_guest + 1);
	if (!pkt.data_size) {
		hvsim_rx_consume(c, pkt.next);
		hvsim_set_flag(c, HVSIM_INFO_FIN_RECEIVED);
		return 1;
	}
	c->rx_pkt = pkt;
	c->rx_left = pkt.data_size;
	c->rx_pos = pkt.data;
	return 0;
}

/* Copy from the current packet; consume it once it is fully read. */
static int hvsim_rx_payload(struct hvsim_conn *c, struct iov_iter *to,
			    size_t *copied)
{
	u32 n = min_t(size_t, iov_iter_count(to), c->rx_left);
	size_t done;

	done = hvsim_ring_copy_to_iter(&c->rx_ring, c->rx_pos, n, to);
	*copied += done;
	c->rx_left -= done;
	c->rx_pos = hvsim_ring_advance(&c->rx_ring, c->rx_pos, done);
	WRITE_ONCE(c->stats.bytes_from_guest,
		   c->stats.bytes_from_guest + done);
	if (!c->rx_left)
		hvsim_rx_consume(c, c->rx_pkt.next);
	return done < n ? -EFAULT : 0;
}

static ssize_t hvsim_rx_copy(struct hvsim_conn *c, struct iov_iter *to)
{
	size_t copied = 0;
	int ret = 0;

	/* The read cursor is the reader's; the ring stays mapped. */
	lockdep_assert_held(&c->rx_lock);
	lockdep_assert_held_read(&c->ring_sem);
	/* Draining: the guest need not interrupt us for new packets. */
	hvsim_ring_set_mask(&c->rx_ring, true);
	while (iov_iter_count(to)) {
		if (!c->rx_left) {
			ret = hvsim_rx_next(c);
			if (ret)
				break;
		}
		ret = hvsim_rx_payload(c, to, &copied);
		if (ret)
			break;
	}

	if (copied)
		return copied;
	return ret == 1 ? 0 : ret;
}

/* One try of a host read, write or FIN on a snapshot of the connection. */
typedef ssize_t (*hvsim_io_step)(struct hvsim_conn *c,
				 const struct hvsim_snap *s, void *arg);

/*
 * Run @step(@c, snapshot, @arg) under @c->ring_sem until it stops failing
 * with -EAGAIN, or just once if @nonblock, sleeping for the next event of
 * @c in between. A protocol error on the way resets the connection and is
 * returned as @proto_err. The caller holds the lock of the direction:
 * @c->rx_lock for reads, @c->tx_lock for writes and the FIN.
 */
static ssize_t hvsim_io_retry(struct hvsim_conn *c, hvsim_io_step step,
			      void *arg, int proto_err, bool nonblock)
{
	struct hvsim_snap s;
	ssize_t ret;
	long seq;

	lockdep_assert(lockdep_is_held(&c->rx_lock) ||
		       lockdep_is_held(&c->tx_lock));
	for (;;) {
		seq = atomic_long_read(&c->events);
		down_read(&c->ring_sem);
		hvsim_snap(c, &s);
		ret = step(c, &s, arg);
		up_read(&c->ring_sem);

		if (ret == -EPROTO) {
			hvsim_conn_proto_error(c);
			ret = proto_err;
		}
		if (ret != -EAGAIN || nonblock)
			return ret;
		if (wait_event_interruptible(c->wq,
					     atomic_long_read(&c->events) != seq))
			return -ERESTARTSYS;
	}
}

static ssize_t hvsim_rx_step(struct hvsim_conn *c, const struct hvsim_snap *s,
			     void *to)
{
	if (s->flags & HVSIM_INFO_FIN_RECEIVED)
		return 0;
	return hvsim_rx_check(c, s) ?: hvsim_rx_copy(c, to);
}

/**
 * hvsim_host_read() - read guest payload bytes
 * @c: connection
 * @to: destination
 * @nonblock: fail with -EAGAIN instead of waiting
 *
 * Return: bytes read, 0 at end of stream, or a negative errno as
 * documented for read() in hvsim.h.
 */
ssize_t hvsim_host_read(struct hvsim_conn *c, struct iov_iter *to,
			bool nonblock)
{
	ssize_t ret;

	if (mutex_lock_interruptible(&c->rx_lock))
		return -ERESTARTSYS;
	ret = hvsim_io_retry(c, hvsim_rx_step, to, -ECONNRESET, nonblock);
	mutex_unlock(&c->rx_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(hvsim_host_read);

/**
 * hvsim_host_recv() - hvsim_host_read() into a kernel buffer
 * @c: connection
 * @buf: destination
 * @len: size of @buf
 * @nonblock: fail with -EAGAIN instead of waiting
 *
 * Return: as hvsim_host_read().
 */
ssize_t hvsim_host_recv(struct hvsim_conn *c, void *buf, size_t len,
			bool nonblock)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter it;

	iov_iter_kvec(&it, ITER_DEST, &kv, 1, len);
	return hvsim_host_read(c, &it, nonblock);
}
EXPORT_SYMBOL_GPL(hvsim_host_recv);

/* ---------------------------------------------------------------- write */

static int hvsim_tx_check(struct hvsim_conn *c, const struct hvsim_snap *s)
{
	if (s->state == HVSIM_STATE_OFFERED)
		return -ENOTCONN;
	if (s->state == HVSIM_STATE_CLOSED)
		return hvsim_reset_by_guest(s) ? -EPIPE : -ECONNABORTED;
	if (s->flags & HVSIM_INFO_FIN_SENT)
		return -EPIPE;
	if (!hvsim_ring_attached(&c->tx_ring))
		return -EPIPE;
	return 0;
}

/* Ring bytes the host waits for before writing a packet of @want bytes. */
static u32 hvsim_tx_need(u32 want)
{
	return HVSIM_PKT_LEN(min_t(u32, want, HVSIM_TX_MIN_CHUNK));
}

/*
 * Room for a packet of up to @want payload bytes? A packet is cut to what
 * fits, but not below HVSIM_TX_MIN_CHUNK (or @want if smaller), and one
 * byte of the ring always stays free.
 */
static int hvsim_tx_room(struct hvsim_conn *c, u32 want, u32 *p)
{
	u32 space;
	int ret;

	ret = hvsim_ring_writable(&c->tx_ring, &space);
	if (ret)
		return ret;
	if (space <= hvsim_tx_need(want))
		return -EAGAIN;
	*p = min(want, round_down(space - HVSIM_PKT_LEN(0) - 1, 8));
	return 0;
}

/* Write one packet of up to @want bytes (0: the FIN). Return: payload bytes. */
static int hvsim_tx_packet(struct hvsim_conn *c, u32 want,
			   struct iov_iter *from)
{
	struct hvsim_ring *r = &c->tx_ring;
	struct vmpacket_descriptor desc = {};
	struct hvsim_pipe_hdr ph;
	u32 p, old, next;
	bool fault;
	int ret;

	/* The write position is the writer's; the ring stays mapped. */
	lockdep_assert_held(&c->tx_lock);
	lockdep_assert_held_read(&c->ring_sem);
	ret = hvsim_tx_room(c, want, &p);
	if (ret == -EAGAIN) {
		/* Ask for an interrupt once there is room, then look again. */
		WRITE_ONCE(c->stats.guest_ring_full,
			   c->stats.guest_ring_full + 1);
		hvsim_ring_set_pending(r, hvsim_tx_need(want));
		ret = hvsim_tx_room(c, want, &p);
	}
	if (ret)
		return ret;
	hvsim_ring_set_pending(r, 0);

	desc.type = VM_PKT_DATA_INBAND;
	desc.offset8 = HVSIM_DESC_LEN >> 3;
	desc.len8 = (HVSIM_DESC_LEN + sizeof(ph) + ALIGN(p, 8)) >> 3;
	ph.pkt_type = HVSIM_PIPE_DATA;
	ph.data_size = p;

	old = r->pos;
	next = hvsim_ring_write_packet(r, old, &desc, &ph, sizeof(ph), p, from,
				       &fault);
	if (fault)
		return -EFAULT;
	hvsim_ring_publish(r, next);

	WRITE_ONCE(c->stats.pkts_to_guest, c->stats.pkts_to_guest + 1);
	WRITE_ONCE(c->stats.bytes_to_guest, c->stats.bytes_to_guest + p);
	if (hvsim_ring_writer_should_signal(r, old))
		hvsim_conn_interrupt_guest(c);
	return p;
}

static ssize_t hvsim_tx_step(struct hvsim_conn *c, const struct hvsim_snap *s,
			     void *arg)
{
	struct iov_iter *from = arg;

	return hvsim_tx_check(c, s) ?:
	       hvsim_tx_packet(c, min_t(size_t, iov_iter_count(from),
					hvsim_cfg_mtu()), from);
}

/**
 * hvsim_host_write() - send payload bytes to the guest
 * @c: connection
 * @from: source
 * @nonblock: return what fits (or -EAGAIN) instead of waiting
 *
 * Return: bytes written, or a negative errno as documented for write()
 * in hvsim.h if nothing was.
 */
ssize_t hvsim_host_write(struct hvsim_conn *c, struct iov_iter *from,
			 bool nonblock)
{
	ssize_t total = 0, ret = 0;

	if (mutex_lock_interruptible(&c->tx_lock))
		return -ERESTARTSYS;
	while (iov_iter_count(from)) {
		ret = hvsim_io_retry(c, hvsim_tx_step, from, -EPIPE, nonblock);
		if (ret <= 0)
			break;
		total += ret;
	}
	mutex_unlock(&c->tx_lock);
	return total ?: ret;
}
EXPORT_SYMBOL_GPL(hvsim_host_write);

/**
 * hvsim_host_send() - hvsim_host_write() from a kernel buffer
 * @c: connection
 * @buf: source
 * @len: bytes at @buf
 * @nonblock: return what fits (or -EAGAIN) instead of waiting
 *
 * Return: as hvsim_host_write().
 */
ssize_t hvsim_host_send(struct hvsim_conn *c, const void *buf, size_t len,
			bool nonblock)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter it;

	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, len);
	return hvsim_host_write(c, &it, nonblock);
}
EXPORT_SYMBOL_GPL(hvsim_host_send);

static ssize_t hvsim_fin_step(struct hvsim_conn *c, const struct hvsim_snap *s,
			      void *unused)
{
	int ret;

	if (s->flags & HVSIM_INFO_FIN_SENT)
		return 0;
	ret = hvsim_tx_check(c, s) ?: hvsim_tx_packet(c, 0, NULL);
	if (!ret)
		hvsim_set_flag(c, HVSIM_INFO_FIN_SENT);
	return ret;
}

/**
 * hvsim_host_shutdown() - send the FIN (zero-length packet), once
 * @c: connection
 * @nonblock: fail with -EAGAIN instead of waiting for ring space
 *
 * Return: 0 (also if already sent), or a negative errno.
 */
int hvsim_host_shutdown(struct hvsim_conn *c, bool nonblock)
{
	int ret;

	if (mutex_lock_interruptible(&c->tx_lock))
		return -ERESTARTSYS;
	ret = hvsim_io_retry(c, hvsim_fin_step, NULL, -EPIPE, nonblock);
	mutex_unlock(&c->tx_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(hvsim_host_shutdown);

/**
 * hvsim_host_set_drain() - fault: stop or resume reading the guest's ring
 * @c: connection
 * @drain: false to stop draining
 *
 * Return: 0.
 */
int hvsim_host_set_drain(struct hvsim_conn *c, bool drain)
{
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	c->drain_stopped = !drain;
	spin_unlock_irqrestore(&c->lock, flags);
	hvsim_conn_event(c);
	return 0;
}
EXPORT_SYMBOL_GPL(hvsim_host_set_drain);

/* ---------------------------------------------------------------- poll */

static bool hvsim_poll_readable(struct hvsim_conn *c,
				const struct hvsim_snap *s, __poll_t wanted)
{
	u32 bytes;

	if (READ_ONCE(c->rx_left))
		return true;
	if (s->stopped || !hvsim_ring_attached(&c->rx_ring))
		return false;
	if (hvsim_ring_readable(&c->rx_ring, &bytes) || bytes)
		return true;
	if (!(wanted & (EPOLLIN | EPOLLRDNORM)))
		return false;
	/* Arm the interrupt before sleeping, then look again. */
	hvsim_ring_set_mask(&c->rx_ring, false);
	return hvsim_ring_readable(&c->rx_ring, &bytes) || bytes;
}

static bool hvsim_poll_writable(struct hvsim_conn *c,
				const struct hvsim_snap *s, __poll_t wanted)
{
	u32 need = hvsim_tx_need(hvsim_cfg_mtu());
	u32 space;

	if ((s->flags & HVSIM_INFO_FIN_SENT) || !hvsim_ring_attached(&c->tx_ring))
		return true;	/* write fails at once */
	if (hvsim_ring_writable(&c->tx_ring, &space) || space > need)
		return true;
	if (!(wanted & (EPOLLOUT | EPOLLWRNORM)))
		return false;
	hvsim_ring_set_pending(&c->tx_ring, need);
	return hvsim_ring_writable(&c->tx_ring, &space) || space > need;
}

/**
 * hvsim_conn_poll() - poll mask of a connection
 * @c: connection
 * @wanted: events the poller asked for; only those arm guest interrupts
 *
 * The caller has added itself to @c->wq.
 *
 * Return: EPOLL* mask as documented in hvsim.h.
 */
__poll_t hvsim_conn_poll(struct hvsim_conn *c, __poll_t wanted)
{
	struct hvsim_snap s;
	__poll_t mask = 0;

	down_read(&c->ring_sem);
	hvsim_snap(c, &s);
	switch (s.state) {
	case HVSIM_STATE_OPEN:
		if ((s.flags & HVSIM_INFO_FIN_RECEIVED) ||
		    hvsim_poll_readable(c, &s, wanted))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (s.flags & HVSIM_INFO_FIN_RECEIVED)
			mask |= EPOLLRDHUP;
		if (hvsim_poll_writable(c, &s, wanted))
			mask |= EPOLLOUT | EPOLLWRNORM;
		break;
	case HVSIM_STATE_CLOSED:
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLHUP;
		if (!(s.flags & HVSIM_INFO_FIN_RECEIVED) &&
		    s.reason != HVSIM_CLOSE_HOST)
			mask |= EPOLLERR;
		break;
	default:
		break;
	}
	up_read(&c->ring_sem);
	return mask;
}
