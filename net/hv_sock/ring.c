// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_HYPERV: hvsock packet framing on the VMBus rings.
 *
 * A connection's rings are shared with the host, which we do not trust:
 * the in-place ring helpers of drivers/hv (hv_ringbuffer_*()) check every index
 * and length read from them, and the pipe header is copied to the stack
 * once and validated there, so the host cannot change it between the
 * check and the use. Payload moves straight between the ring and the
 * caller's iov_iter, with no bounce buffer and no allocation. This file
 * knows the hvsock framing only; the ring layout is drivers/hv's.
 *
 * The functions here work on a struct hv_ring_buffer_info only, so the
 * KUnit tests can run them on a ring in plain memory; deciding to signal
 * the host is left to the caller, which owns the channel.
 *
 * Callers serialise with the socket lock, except hvsock_rx_scan(), which
 * poll() and /proc call locklessly. It reads the receive cursor through
 * its seqcount, so it never mistakes a cursor caught half way through a
 * move for "nothing to read": poll() would then sleep with a partly read
 * packet on the ring, and the host, which signals only a ring going from
 * empty to non-empty, would never wake it.
 */

#include <linux/hyperv.h>
#include <linux/uio.h>
#include <net/af_hvsock.h>
#include <kunit/visibility.h>

/**
 * hvsock_ring_size() - size of one ring of a new channel, for vmbus_open()
 * @vmbus_version: the VMBus protocol version the host negotiated
 * @buf: the socket's SO_SNDBUF (outbound ring) or SO_RCVBUF (inbound ring)
 *
 * WS2016 hosts (VMBus 4.x) refuse any ring but the default. Later hosts
 * take the socket's buffer size, kept between the default (5 data pages;
 * the AF_VSOCK Hyper-V transport's is 6) and HVSOCK_RING_BUF_MAX; a larger
 * ring lets the sender run further ahead of the reader between signals.
 * VMBUS_RING_SIZE() adds a header page to rings below 8 pages only, so
 * that a power-of-two buffer size gives a power-of-two ring. Rounding up
 * to whole pages first keeps the result growing with @buf: a size just
 * below 8 pages would otherwise get 9.
 *
 * Return: the ring's size in bytes, header page included.
 */
u32 hvsock_ring_size(u32 vmbus_version, int buf)
{
	if (vmbus_version < VERSION_WIN10_V5)
		return HVSOCK_RING_SIZE;
	return VMBUS_RING_SIZE(round_up(clamp_t(int, buf,
						HVSOCK_RING_DATA_SIZE,
						HVSOCK_RING_BUF_MAX),
					HV_HYP_PAGE_SIZE));
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_ring_size);

/**
 * hvsock_rx_init() - start receiving on a freshly opened inbound ring
 * @rbi: the inbound ring
 * @rx: the cursor to set up
 *
 * Return: 0, or -EBADMSG if the read index is out of range.
 */
int hvsock_rx_init(const struct hv_ring_buffer_info *rbi, struct hvsock_rx *rx)
{
	u32 rd;

	if (hv_ringbuffer_get_read_index(rbi, &rd))
		return -EBADMSG;
	seqcount_init(&rx->seq);
	rx->pub = rd;
	rx->cur = rd;
	rx->next = rd;
	rx->off = rd;
	rx->left = 0;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_rx_init);

/*
 * Move the fields lockless readers look at. The seqcount's writers are
 * serialised by the socket lock; the section is a few stores, so readers
 * never spin for long.
 */
static void rx_move(struct hvsock_rx *rx, u32 next, u32 left)
{
	preempt_disable();
	write_seqcount_begin(&rx->seq);
	rx->next = next;
	rx->left = left;
	write_seqcount_end(&rx->seq);
	preempt_enable();
}

/**
 * hvsock_rx_avail() - published bytes not parsed yet
 * @rbi: the inbound ring
 * @rx: the cursor
 * @avail: set to the bytes between @rx->next and the host's write index
 *
 * Return: 0, or -EBADMSG if the host's write index is out of range or
 * behind packets it already published.
 */
int hvsock_rx_avail(const struct hv_ring_buffer_info *rbi,
		    const struct hvsock_rx *rx, u32 *avail)
{
	return hv_ringbuffer_readable(rbi, rx->pub, rx->next, avail);
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_rx_avail);

/**
 * hvsock_pkt_parse() - validate the packet at a ring offset
 * @rbi: the ring
 * @pos: ring offset of the packet (8-byte aligned, inside the ring)
 * @avail: bytes the host published from @pos on
 * @pkt: filled in on success
 *
 * The host publishes whole packets, so a packet must fit in @avail with
 * its trailer; it must be a VM_PKT_DATA_INBAND packet whose descriptor
 * leaves room for the pipe header, the pipe header must say
 * HVSOCK_PIPE_DATA, and the payload must fit both the packet and the MTU.
 *
 * Return: 0, -EAGAIN if @avail is 0, or -EBADMSG for a malformed packet.
 */
int hvsock_pkt_parse(const struct hv_ring_buffer_info *rbi, u32 pos,
		     u32 avail, struct hvsock_pkt *pkt)
{
	struct hvsock_pipe_hdr hdr;
	struct hv_ringbuffer_pkt rp;
	int err;

	err = hv_ringbuffer_peek_pkt(rbi, pos, avail, &rp);
	if (err)
		return err;
	if (rp.type != VM_PKT_DATA_INBAND || rp.data_len < sizeof(hdr))
		return -EBADMSG;

	hv_ringbuffer_copy_out(rbi, rp.data_off, &hdr, sizeof(hdr));
	if (hdr.pkt_type != HVSOCK_PIPE_DATA)
		return -EBADMSG;
	if (hdr.data_size > rp.data_len - sizeof(hdr) ||
	    hdr.data_size > HVSOCK_MTU)
		return -EBADMSG;

	pkt->data_off = hv_ringbuffer_offset_add(rbi, rp.data_off, sizeof(hdr));
	pkt->data_len = hdr.data_size;
	pkt->next = rp.next;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_pkt_parse);

/**
 * hvsock_rx_pull() - copy received payload out of the inbound ring
 * @rbi: the inbound ring
 * @rx: the cursor; advanced past what was copied or skipped
 * @to: destination, or NULL to discard the bytes (MSG_TRUNC)
 * @len: at most this many bytes are copied
 * @skip: payload bytes to pass over first (MSG_PEEK at an offset)
 * @fin: set when the host's FIN was reached; @rx is then past it
 *
 * Stops when @len bytes were copied, when the ring has no more complete
 * packets, or at the FIN. Packets are not published to the host here:
 * see hvsock_rx_publish(). A MSG_PEEK caller passes a copy of its cursor.
 *
 * Return: bytes copied, -EFAULT if nothing could be copied to @to, or
 * -EBADMSG if the host wrote a malformed packet or index before any data.
 */
int hvsock_rx_pull(const struct hv_ring_buffer_info *rbi,
		   struct hvsock_rx *rx, struct iov_iter *to, size_t len,
		   size_t skip, bool *fin)
{
	struct hvsock_pkt pkt;
	size_t copied = 0;
	u32 avail, n, c;
	int err;

	*fin = false;
	while (copied < len || skip) {
		if (!rx->left) {
			err = hvsock_rx_avail(rbi, rx, &avail);
			if (!err)
				err = hvsock_pkt_parse(rbi, rx->next, avail,
						       &pkt);
			if (err == -EAGAIN)
				break;
			/* Deliver what came before; the next call fails. */
			if (err)
				return copied ? copied : err;
			rx->cur = rx->next;
			rx->off = pkt.data_off;
			rx_move(rx, pkt.next, pkt.data_len);
			if (!pkt.data_len) {
				*fin = true;
				break;
			}
		}
		if (skip) {
			n = min_t(size_t, skip, rx->left);
			skip -= n;
		} else {
			n = min_t(size_t, len - copied, rx->left);
			c = to ? hv_ringbuffer_copy_to_iter(rbi, rx->off, n, to) : n;
			copied += c;
			if (c < n) {
				rx->off = hv_ringbuffer_offset_add(rbi, rx->off, c);
				rx_move(rx, rx->next, rx->left - c);
				return copied ? copied : -EFAULT;
			}
		}
		rx->off = hv_ringbuffer_offset_add(rbi, rx->off, n);
		rx_move(rx, rx->next, rx->left - n);
	}
	return copied;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_rx_pull);

/* Count from a cursor snapshot; see hvsock_rx_scan(). */
static int rx_count(const struct hv_ring_buffer_info *rbi,
		    struct hvsock_rx *snap, u32 *bytes, bool *fin)
{
	u32 limit = hv_ringbuffer_data_size(rbi) / HVSOCK_PKT_LEN(0);
	struct hvsock_pkt pkt;
	u32 avail;
	int err;

	*bytes = snap->left;
	*fin = false;
	err = hvsock_rx_avail(rbi, snap, &avail);
	if (err)
		return err;
	while (avail && limit--) {
		err = hvsock_pkt_parse(rbi, snap->next, avail, &pkt);
		if (err)
			return err;
		if (!pkt.data_len) {
			*fin = true;
			break;
		}
		*bytes += pkt.data_len;
		avail -= hv_ringbuffer_offset_dist(rbi, snap->next, pkt.next);
		snap->next = pkt.next;
	}
	return 0;
}

/**
 * hvsock_rx_scan() - count the payload waiting on the inbound ring
 * @rbi: the inbound ring
 * @rx: the cursor; may be moving under us (poll does not lock)
 * @bytes: set to the payload bytes not delivered yet
 * @fin: set if the host's FIN follows them
 *
 * Counts from a consistent snapshot of the cursor. A reader that moves
 * the cursor during the count may let the host reuse what we parse, so
 * such a count is retried, and after a few tries reported as -EAGAIN:
 * a reader is at work, which for poll() means "readable".
 *
 * Return: 0; -EBADMSG if a malformed packet or index was met (@bytes
 * then counts what precedes it); -EAGAIN if readers kept racing with us.
 */
int hvsock_rx_scan(const struct hv_ring_buffer_info *rbi,
		   const struct hvsock_rx *rx, u32 *bytes, bool *fin)
{
	struct hvsock_rx snap;
	int tries, err;
	unsigned int seq;

	*bytes = 0;
	*fin = false;
	for (tries = 0; tries < 3; tries++) {
		seq = read_seqcount_begin(&rx->seq);
		snap.pub = rx->pub;
		snap.next = rx->next;
		snap.left = rx->left;
		if (read_seqcount_retry(&rx->seq, seq))
			continue;
		err = rx_count(rbi, &snap, bytes, fin);
		/* Our reads of the ring before the second look at the cursor. */
		if (!read_seqcount_retry(&rx->seq, seq))
			return err;
	}
	return -EAGAIN;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_rx_scan);

/**
 * hvsock_rx_publish() - give consumed packets back to the host
 * @rbi: the inbound ring
 * @rx: the cursor
 *
 * Moves the read index past every fully consumed packet, with the
 * signalling rule of hv_ringbuffer_read_signal().
 *
 * Return: true if the caller must signal the host.
 */
bool hvsock_rx_publish(struct hv_ring_buffer_info *rbi, struct hvsock_rx *rx)
{
	u32 pos = rx->left ? rx->cur : rx->next;
	u32 old = rx->pub;

	if (pos == old)
		return false;
	/*
	 * Once the host may reuse what we parsed, a lockless scan that could
	 * parse the reused space must see the cursor move.
	 */
	preempt_disable();
	write_seqcount_begin(&rx->seq);
	hv_ringbuffer_publish_read(rbi, pos);
	rx->pub = pos;
	write_seqcount_end(&rx->seq);
	preempt_enable();
	return hv_ringbuffer_read_signal(rbi, old, pos);
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_rx_publish);

/**
 * hvsock_rx_pending() - is anything left on the inbound ring?
 * @rbi: the inbound ring
 * @rx: the cursor, after hvsock_rx_publish()
 *
 * The host does not signal packets it writes while the ring holds
 * unpublished ones, so a reader that leaves anything behind must wake
 * the other waiters itself. Any byte counts, even a malformed one: the
 * next reader turns that into a reset.
 *
 * Return: true if a partly read packet or anything after @rx->next is
 * on the ring.
 */
bool hvsock_rx_pending(const struct hv_ring_buffer_info *rbi,
		       const struct hvsock_rx *rx)
{
	return rx->left || hv_ringbuffer_unread_after(rbi, rx->next);
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_rx_pending);

/**
 * hvsock_tx_room() - payload the next outbound packet may carry
 * @rbi: the outbound ring
 * @wr: our write index
 * @mtu: the host's limit per packet
 *
 * Keeps room for a FIN after the packet, so shutdown and close never find
 * the ring full, and never fills the ring completely, which VMBus would
 * read as empty.
 *
 * Return: payload bytes (a multiple of 8 unless capped by @mtu), or
 * -EBADMSG if the host's read index is out of range.
 */
int hvsock_tx_room(const struct hv_ring_buffer_info *rbi, u32 wr, u32 mtu)
{
	int free = hv_ringbuffer_free_bytes(rbi, wr);

	if (free < 0)
		return free;
	if (free <= HVSOCK_TX_OVERHEAD)
		return 0;
	return min_t(u32, round_down(free - HVSOCK_TX_OVERHEAD, 8), mtu);
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_tx_room);

/**
 * hvsock_tx_queued() - payload written but not consumed by the host yet
 * @rbi: the outbound ring
 * @wr: our write index
 *
 * Return: payload bytes (what SIOCOUTQ reports).
 */
int hvsock_tx_queued(const struct hv_ring_buffer_info *rbi, u32 wr)
{
	u32 limit = hv_ringbuffer_data_size(rbi) / HVSOCK_PKT_LEN(0);
	struct hvsock_pkt pkt;
	u32 rd, avail, bytes = 0;

	if (hv_ringbuffer_get_read_index(rbi, &rd))
		return 0;
	/* These are our own packets, but the host could have rewritten them. */
	avail = hv_ringbuffer_offset_dist(rbi, rd, wr);
	while (avail && limit--) {
		if (hvsock_pkt_parse(rbi, rd, avail, &pkt))
			break;
		bytes += pkt.data_len;
		avail -= hv_ringbuffer_offset_dist(rbi, rd, pkt.next);
		rd = pkt.next;
	}
	return bytes;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_tx_queued);

/**
 * hvsock_pkt_write() - put one data packet, or the FIN, on the outbound ring
 * @rbi: the outbound ring
 * @wr: our write index; advanced past the packet
 * @from: the payload (unused for the FIN)
 * @len: payload bytes, at most what hvsock_tx_room() allowed; 0 for the FIN
 * @kick: set when the host must be signalled
 *
 * The payload is copied from @from straight into the ring; the write
 * index is only published once the whole packet is in place, so a fault
 * half way through just sends what was copied. Only the socket lock
 * serialises writers: nothing else writes an hvsock channel's ring.
 *
 * Return: payload bytes written, -EAGAIN if the packet does not fit,
 * -EFAULT if nothing could be copied, or -EBADMSG if the host's read
 * index is out of range.
 */
int hvsock_pkt_write(struct hv_ring_buffer_info *rbi, u32 *wr,
		     struct iov_iter *from, u32 len, bool *kick)
{
	struct hvsock_pipe_hdr hdr = { .pkt_type = HVSOCK_PIPE_DATA };
	int n;

	*kick = false;
	n = hv_ringbuffer_write_payload(rbi, *wr, sizeof(hdr), from, len);
	if (n < 0)
		return n;
	hdr.data_size = n;
	*kick = hv_ringbuffer_commit_inband(rbi, wr, &hdr, sizeof(hdr), n);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_pkt_write);
