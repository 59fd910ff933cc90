// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_HYPERV: hvsock packet framing on the VMBus rings.
 *
 * A connection's rings are shared with the host, which we do not trust:
 * every index and length read from them is checked before use, and
 * headers are copied to the stack once and validated there so the host
 * cannot change them between the check and the use. Payload moves
 * straight between the ring and the caller's iov_iter, with no bounce
 * buffer and no allocation.
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
 * hvsock_ring_used() - bytes from ring offset @from up to @to
 * @from: start offset
 * @to: end offset
 * @size: ring data size
 *
 * Return: the distance, in [0, @size).
 */
u32 hvsock_ring_used(u32 from, u32 to, u32 size)
{
	return to >= from ? to - from : size - from + to;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_ring_used);

static u32 ring_add(u32 pos, u32 n, u32 size)
{
	pos += n;
	if (pos >= size)
		pos -= size;
	return pos;
}

static bool ring_index_ok(const struct hv_ring_buffer_info *rbi, u32 idx)
{
	return idx < rbi->ring_datasize && IS_ALIGNED(idx, 8);
}

/*
 * The ring pages are mapped twice in a row by the real VMBus driver, but
 * the copies below handle the wrap themselves so nothing depends on that.
 */
static void ring_read(const struct hv_ring_buffer_info *rbi, u32 pos,
		      void *dst, u32 len)
{
	const u8 *base = rbi->ring_buffer->buffer;
	u32 first = min(len, rbi->ring_datasize - pos);

	memcpy(dst, base + pos, first);
	if (len > first)
		memcpy(dst + first, base, len - first);
}

static void ring_write(struct hv_ring_buffer_info *rbi, u32 pos,
		       const void *src, u32 len)
{
	u8 *base = rbi->ring_buffer->buffer;
	u32 first = min(len, rbi->ring_datasize - pos);

	memcpy(base + pos, src, first);
	if (len > first)
		memcpy(base, src + first, len - first);
}

/* A NULL @to discards the bytes (MSG_TRUNC). */
static size_t ring_copy_to_iter(const struct hv_ring_buffer_info *rbi,
				u32 pos, u32 len, struct iov_iter *to)
{
	const u8 *base = rbi->ring_buffer->buffer;
	u32 first = min(len, rbi->ring_datasize - pos);
	size_t n;

	if (!to)
		return len;
	n = copy_to_iter(base + pos, first, to);
	if (n < first || len == first)
		return n;
	return n + copy_to_iter(base, len - first, to);
}

static size_t ring_copy_from_iter(struct hv_ring_buffer_info *rbi, u32 pos,
				  u32 len, struct iov_iter *from)
{
	u8 *base = rbi->ring_buffer->buffer;
	u32 first = min(len, rbi->ring_datasize - pos);
	size_t n;

	n = copy_from_iter(base + pos, first, from);
	if (n < first || len == first)
		return n;
	return n + copy_from_iter(base, len - first, from);
}

/**
 * hvsock_rx_init() - start receiving on a freshly opened inbound ring
 * @rbi: the inbound ring
 * @rx: the cursor to set up
 *
 * Return: 0, or -EBADMSG if the read index is out of range.
 */
int hvsock_rx_init(const struct hv_ring_buffer_info *rbi, struct hvsock_rx *rx)
{
	u32 rd = READ_ONCE(rbi->ring_buffer->read_index);

	if (!ring_index_ok(rbi, rd))
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
	u32 size = rbi->ring_datasize;
	u32 wr, total, done;

	/* Pairs with the host's release store after writing the packet. */
	wr = virt_load_acquire(&rbi->ring_buffer->write_index);
	if (!ring_index_ok(rbi, wr))
		return -EBADMSG;
	total = hvsock_ring_used(rx->pub, wr, size);
	done = hvsock_ring_used(rx->pub, rx->next, size);
	if (done > total)
		return -EBADMSG;
	*avail = total - done;
	return 0;
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
	struct vmpacket_descriptor desc;
	struct hvsock_pipe_hdr hdr;
	u32 size = rbi->ring_datasize;
	u32 len, doff;

	if (!avail)
		return -EAGAIN;
	if (avail < HVSOCK_PKT_LEN(0))
		return -EBADMSG;

	ring_read(rbi, pos, &desc, sizeof(desc));
	len = (u32)desc.len8 << 3;
	doff = (u32)desc.offset8 << 3;
	if (desc.type != VM_PKT_DATA_INBAND)
		return -EBADMSG;
	if (len < HVSOCK_HDR_LEN || len > avail - HVSOCK_TRAILER_LEN)
		return -EBADMSG;
	if (doff < sizeof(desc) || doff > len - sizeof(hdr))
		return -EBADMSG;

	ring_read(rbi, ring_add(pos, doff, size), &hdr, sizeof(hdr));
	if (hdr.pkt_type != HVSOCK_PIPE_DATA)
		return -EBADMSG;
	if (hdr.data_size > len - doff - sizeof(hdr) ||
	    hdr.data_size > HVSOCK_MTU)
		return -EBADMSG;

	pkt->data_off = ring_add(pos, doff + sizeof(hdr), size);
	pkt->data_len = hdr.data_size;
	pkt->next = ring_add(pos, len + HVSOCK_TRAILER_LEN, size);
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
	u32 size = rbi->ring_datasize;
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
			c = ring_copy_to_iter(rbi, rx->off, n, to);
			copied += c;
			if (c < n) {
				rx->off = ring_add(rx->off, c, size);
				rx_move(rx, rx->next, rx->left - c);
				return copied ? copied : -EFAULT;
			}
		}
		rx->off = ring_add(rx->off, n, size);
		rx_move(rx, rx->next, rx->left - n);
	}
	return copied;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_rx_pull);

/* Count from a cursor snapshot; see hvsock_rx_scan(). */
static int rx_count(const struct hv_ring_buffer_info *rbi,
		    struct hvsock_rx *snap, u32 *bytes, bool *fin)
{
	u32 size = rbi->ring_datasize;
	u32 limit = size / HVSOCK_PKT_LEN(0);
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
		avail -= hvsock_ring_used(snap->next, pkt.next, size);
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
 * Moves the read index past every fully consumed packet. A host that ran
 * out of room has set pending_send_sz and waits for a signal; like
 * hv_pkt_iter_close(), we only signal when this read moves the free space
 * from "not enough" to "enough", which is what the host expects.
 *
 * Return: true if the caller must signal the host.
 */
bool hvsock_rx_publish(struct hv_ring_buffer_info *rbi, struct hvsock_rx *rx)
{
	u32 size = rbi->ring_datasize;
	u32 pos = rx->left ? rx->cur : rx->next;
	u32 freed, pending, wr, space;

	if (pos == rx->pub)
		return false;
	freed = hvsock_ring_used(rx->pub, pos, size);

	/*
	 * Our reads of the packets complete before the host may reuse them,
	 * and a lockless scan that could parse reused space sees the move.
	 */
	virt_mb();
	preempt_disable();
	write_seqcount_begin(&rx->seq);
	WRITE_ONCE(rbi->ring_buffer->read_index, pos);
	rx->pub = pos;
	write_seqcount_end(&rx->seq);
	preempt_enable();

	/*
	 * Publish the index before sampling pending_send_sz, or a host that
	 * sets it in between would wait for a signal that never comes.
	 */
	virt_mb();
	pending = READ_ONCE(rbi->ring_buffer->pending_send_sz);
	if (!pending)
		return false;
	/* As hv_pkt_iter_close(): pending_send_sz before the write index. */
	virt_rmb();
	wr = READ_ONCE(rbi->ring_buffer->write_index);
	if (!ring_index_ok(rbi, wr))
		return false;
	space = size - hvsock_ring_used(pos, wr, size);
	if ((s64)space - freed > pending)
		return false;
	return space > pending;
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
	/*
	 * Our read_index store in hvsock_rx_publish() before the load of
	 * write_index; pairs with the host's barrier between its store of
	 * write_index and its load of read_index.
	 */
	virt_mb();
	return rx->left ||
	       READ_ONCE(rbi->ring_buffer->write_index) != rx->next;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_rx_pending);

/**
 * hvsock_tx_init() - start sending on a freshly opened outbound ring
 * @rbi: the outbound ring
 * @wr: set to the write index to start from
 *
 * The write index is ours, but it lives in memory the host can write:
 * read it once, check it, and from then on use only our private copy.
 *
 * Return: 0, or -EBADMSG if either index is out of range.
 */
int hvsock_tx_init(const struct hv_ring_buffer_info *rbi, u32 *wr)
{
	u32 idx = READ_ONCE(rbi->ring_buffer->write_index);

	if (!ring_index_ok(rbi, idx) || hvsock_tx_free(rbi, idx) < 0)
		return -EBADMSG;
	*wr = idx;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_tx_init);

/**
 * hvsock_tx_free() - free bytes on the outbound ring
 * @rbi: the outbound ring
 * @wr: our write index
 *
 * Return: free bytes, or -EBADMSG if the host's read index is out of range.
 */
int hvsock_tx_free(const struct hv_ring_buffer_info *rbi, u32 wr)
{
	u32 rd = READ_ONCE(rbi->ring_buffer->read_index);

	if (!ring_index_ok(rbi, rd))
		return -EBADMSG;
	return rbi->ring_datasize - hvsock_ring_used(rd, wr, rbi->ring_datasize);
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_tx_free);

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
	int free = hvsock_tx_free(rbi, wr);

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
	u32 size = rbi->ring_datasize;
	u32 rd = READ_ONCE(rbi->ring_buffer->read_index);
	u32 limit = size / HVSOCK_PKT_LEN(0);
	struct hvsock_pkt pkt;
	u32 avail, bytes = 0;

	if (!ring_index_ok(rbi, rd))
		return 0;
	/* These are our own packets, but the host could have rewritten them. */
	avail = hvsock_ring_used(rd, wr, size);
	while (avail && limit--) {
		if (hvsock_pkt_parse(rbi, rd, avail, &pkt))
			break;
		bytes += pkt.data_len;
		avail -= hvsock_ring_used(rd, pkt.next, size);
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
	struct vmpacket_descriptor desc = {};
	struct hvsock_pipe_hdr hdr;
	u32 size = rbi->ring_datasize;
	u32 pos = *wr, doff, alen, end;
	u64 trailer;
	int free;

	*kick = false;
	free = hvsock_tx_free(rbi, pos);
	if (free < 0)
		return free;
	if (free <= HVSOCK_PKT_LEN(len))
		return -EAGAIN;

	doff = ring_add(pos, HVSOCK_HDR_LEN, size);
	if (len) {
		len = ring_copy_from_iter(rbi, doff, len, from);
		if (!len)
			return -EFAULT;
	}
	alen = ALIGN(len, 8);
	end = ring_add(doff, len, size);
	if (alen > len) {
		static const u8 zero[8];

		ring_write(rbi, end, zero, alen - len);
	}

	desc.type = VM_PKT_DATA_INBAND;
	desc.offset8 = sizeof(desc) >> 3;
	desc.len8 = (HVSOCK_HDR_LEN + alen) >> 3;
	hdr.pkt_type = HVSOCK_PIPE_DATA;
	hdr.data_size = len;
	ring_write(rbi, pos, &desc, sizeof(desc));
	ring_write(rbi, ring_add(pos, sizeof(desc), size), &hdr, sizeof(hdr));
	/* The trailer carries the packet's start, as VMBus writers do. */
	trailer = (u64)pos << 32;
	end = ring_add(doff, alen, size);
	ring_write(rbi, end, &trailer, sizeof(trailer));
	end = ring_add(end, sizeof(trailer), size);

	/* The packet is complete in memory before the host can see it. */
	virt_mb();
	WRITE_ONCE(rbi->ring_buffer->write_index, end);
	WRITE_ONCE(*wr, end);

	/*
	 * Signal only when the host may have found the ring empty and gone
	 * idle, and has not masked interrupts because it is reading anyway:
	 * the host treats other interrupts as a misbehaving guest.
	 */
	virt_mb();	/* the write index is visible before we sample */
	if (!READ_ONCE(rbi->ring_buffer->interrupt_mask)) {
		virt_rmb();	/* interrupt_mask is read before read_index */
		*kick = pos == READ_ONCE(rbi->ring_buffer->read_index);
	}
	return len;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_pkt_write);
