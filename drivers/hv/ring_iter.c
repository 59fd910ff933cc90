// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-place packet access to a VMBus ring, with iov_iter.
 *
 * hv_pkt_iter_first() copies every inbound packet into a bounce buffer so
 * the host cannot change it under the driver. A driver that moves a byte
 * stream to and from user memory pays for that twice per byte. These
 * helpers let it copy payload straight between the ring and an iov_iter
 * instead, while the host still never gets a second look: the caller
 * copies each header once to its stack (hv_ringbuffer_copy_out()) and
 * validates it there, and every index and length read from the ring is
 * checked here before use.
 *
 * The caller keeps its own cursor: the reader a private read offset ahead
 * of the read index it last published, the writer its private copy of the
 * write index (the copy in shared memory is never read back). One reader
 * and one writer per ring, each serialised by the caller. Offsets are
 * relative to the ring's data area; none of this depends on the ring pages
 * being mapped twice.
 *
 * A ring driven with these helpers must not also be driven with
 * vmbus_sendpacket() or hv_pkt_iter_*(), which keep their own cursors in
 * the shared write index and priv_read_index. The caller keeps the ring
 * mapped (the channel open) while it calls them, and signals the host
 * when they say so; none of them sleeps.
 */

#include <linux/hyperv.h>
#include <linux/uio.h>

static bool hv_ringbuffer_offset_ok(const struct hv_ring_buffer_info *rbi,
				    u32 off)
{
	return off < rbi->ring_datasize && IS_ALIGNED(off, 8);
}

/**
 * hv_ringbuffer_get_read_index() - validated snapshot of the read index
 * @rbi: the ring
 * @rd: set to the read index
 *
 * Context: any.
 * Return: 0, or -EBADMSG if the index is out of range or misaligned.
 */
int hv_ringbuffer_get_read_index(const struct hv_ring_buffer_info *rbi,
				 u32 *rd)
{
	u32 idx = READ_ONCE(rbi->ring_buffer->read_index);

	if (!hv_ringbuffer_offset_ok(rbi, idx))
		return -EBADMSG;
	*rd = idx;
	return 0;
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_get_read_index);

/**
 * hv_ringbuffer_get_write_index() - validated snapshot of the write index
 * @rbi: the ring
 * @wr: set to the write index
 *
 * A writer calls this once, when the channel opens, and from then on
 * uses only its private copy.
 *
 * Context: any.
 * Return: 0, or -EBADMSG if either index is out of range or misaligned.
 */
int hv_ringbuffer_get_write_index(const struct hv_ring_buffer_info *rbi,
				  u32 *wr)
{
	u32 idx = READ_ONCE(rbi->ring_buffer->write_index);

	if (!hv_ringbuffer_offset_ok(rbi, idx) ||
	    hv_ringbuffer_free_bytes(rbi, idx) < 0)
		return -EBADMSG;
	*wr = idx;
	return 0;
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_get_write_index);

/**
 * hv_ringbuffer_readable() - bytes the host published past a private offset
 * @rbi: the inbound ring
 * @rd: the read index as the reader last published it
 * @pos: the reader's private offset, at or after @rd
 * @avail: set to the bytes between @pos and the host's write index
 *
 * Context: any; the caller serialises the ring's reader side.
 * Return: 0, or -EBADMSG if the write index is out of range or behind
 * @pos (the host took back packets it had published).
 */
int hv_ringbuffer_readable(const struct hv_ring_buffer_info *rbi, u32 rd,
			   u32 pos, u32 *avail)
{
	u32 wr, total, done;

	/* Pairs with the host's release of the write index. */
	wr = virt_load_acquire(&rbi->ring_buffer->write_index);
	if (!hv_ringbuffer_offset_ok(rbi, wr))
		return -EBADMSG;
	total = hv_ringbuffer_offset_dist(rbi, rd, wr);
	done = hv_ringbuffer_offset_dist(rbi, rd, pos);
	if (done > total)
		return -EBADMSG;
	*avail = total - done;
	return 0;
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_readable);

/**
 * hv_ringbuffer_peek_pkt() - validate the descriptor of the packet at @pos
 * @rbi: the inbound ring
 * @pos: ring offset of the packet, the reader's private offset
 * @avail: bytes the host published from @pos on (hv_ringbuffer_readable())
 * @pkt: filled in on success
 *
 * The descriptor is copied once and checked on the stack: the packet and
 * its trailer must fit in @avail, and the data offset must lie between
 * the end of the descriptor and the end of the packet. The type and the
 * data are the caller's to check.
 *
 * Context: any; the caller serialises the ring's reader side.
 * Return: 0, -EAGAIN if @avail is 0, or -EBADMSG for a malformed packet.
 */
int hv_ringbuffer_peek_pkt(const struct hv_ring_buffer_info *rbi, u32 pos,
			   u32 avail, struct hv_ringbuffer_pkt *pkt)
{
	struct vmpacket_descriptor desc;
	u32 len, doff;

	if (!avail)
		return -EAGAIN;
	if (avail < sizeof(desc) + VMBUS_PKT_TRAILER ||
	    avail >= rbi->ring_datasize)
		return -EBADMSG;
	hv_ringbuffer_copy_out(rbi, pos, &desc, sizeof(desc));
	len = (u32)desc.len8 << 3;
	doff = (u32)desc.offset8 << 3;
	if (len > avail - VMBUS_PKT_TRAILER)
		return -EBADMSG;
	if (doff < sizeof(desc) || doff > len)
		return -EBADMSG;

	pkt->type = desc.type;
	pkt->flags = desc.flags;
	pkt->data_off = hv_ringbuffer_offset_add(rbi, pos, doff);
	pkt->data_len = len - doff;
	pkt->next = hv_ringbuffer_offset_add(rbi, pos, len + VMBUS_PKT_TRAILER);
	return 0;
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_peek_pkt);

/**
 * hv_ringbuffer_copy_out() - copy bytes out of a ring, handling the wrap
 * @rbi: the ring
 * @pos: ring offset, inside the ring
 * @dst: destination
 * @len: bytes, at most the ring's data size
 *
 * For headers, which the caller validates in @dst and never reads from
 * the ring again.
 *
 * Context: any.
 */
void hv_ringbuffer_copy_out(const struct hv_ring_buffer_info *rbi, u32 pos,
			    void *dst, u32 len)
{
	const u8 *base = rbi->ring_buffer->buffer;
	u32 first;

	if (WARN_ON_ONCE(pos >= rbi->ring_datasize ||
			 len > rbi->ring_datasize))
		return;
	first = min(len, rbi->ring_datasize - pos);
	memcpy(dst, base + pos, first);
	if (len > first)
		memcpy(dst + first, base, len - first);
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_copy_out);

/**
 * hv_ringbuffer_copy_to_iter() - copy payload from a ring to an iov_iter
 * @rbi: the inbound ring
 * @pos: ring offset of the payload, inside a validated packet
 * @len: bytes, inside the same packet
 * @to: destination
 *
 * Context: process context if @to is a user iov_iter (it may fault).
 * Return: bytes copied; fewer than @len if @to faulted.
 */
size_t hv_ringbuffer_copy_to_iter(const struct hv_ring_buffer_info *rbi,
				  u32 pos, u32 len, struct iov_iter *to)
{
	const u8 *base = rbi->ring_buffer->buffer;
	u32 first;
	size_t n;

	if (WARN_ON_ONCE(pos >= rbi->ring_datasize ||
			 len > rbi->ring_datasize))
		return 0;
	first = min(len, rbi->ring_datasize - pos);
	n = copy_to_iter(base + pos, first, to);
	if (n < first || len == first)
		return n;
	return n + copy_to_iter(base, len - first, to);
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_copy_to_iter);

/**
 * hv_ringbuffer_publish_read() - give consumed packets back to the host
 * @rbi: the inbound ring
 * @pos: the new read index, the end of the last packet fully consumed
 *
 * Call hv_ringbuffer_read_signal() next to learn whether the host waits
 * for a signal.
 *
 * Context: any; the caller serialises the ring's reader side.
 */
void hv_ringbuffer_publish_read(struct hv_ring_buffer_info *rbi, u32 pos)
{
	/* Our reads of the packets complete before the host reuses them. */
	virt_mb();
	WRITE_ONCE(rbi->ring_buffer->read_index, pos);
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_publish_read);

/**
 * hv_ringbuffer_read_signal() - must the read just published be signalled?
 * @rbi: the inbound ring
 * @rd: the read index published before
 * @pos: the read index hv_ringbuffer_publish_read() just published
 *
 * A host that ran out of room has set pending_send_sz and waits for a
 * signal. As in hv_pkt_iter_close(), signal only when this read moved
 * the free space from "not enough" to "enough": the host takes any other
 * interrupt for a misbehaving guest.
 *
 * Context: any; right after hv_ringbuffer_publish_read().
 * Return: true if the caller must signal the host.
 */
bool hv_ringbuffer_read_signal(const struct hv_ring_buffer_info *rbi, u32 rd,
			       u32 pos)
{
	u32 freed = hv_ringbuffer_offset_dist(rbi, rd, pos);
	u32 pending, wr, space;

	/*
	 * The index is visible before we sample pending_send_sz, or a host
	 * setting it in between would wait for a signal that never comes.
	 */
	virt_mb();
	if (!rbi->ring_buffer->feature_bits.feat_pending_send_sz)
		return false;
	pending = READ_ONCE(rbi->ring_buffer->pending_send_sz);
	if (!pending)
		return false;
	/* As hv_pkt_iter_close(): pending_send_sz before the write index. */
	virt_rmb();
	wr = READ_ONCE(rbi->ring_buffer->write_index);
	if (!hv_ringbuffer_offset_ok(rbi, wr))
		return false;
	space = rbi->ring_datasize - hv_ringbuffer_offset_dist(rbi, pos, wr);
	if ((s64)space - freed > pending)
		return false;
	return space > pending;
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_read_signal);

/**
 * hv_ringbuffer_unread_after() - has the host written past an offset?
 * @rbi: the inbound ring
 * @pos: the reader's private offset
 *
 * The host signals only a ring going from empty to non-empty as it sees
 * it, that is against the published read index. A reader that published
 * less than it parsed, or that other waiters depend on, uses this after
 * hv_ringbuffer_publish_read() to learn whether the host wrote something
 * it will not signal.
 *
 * Context: any.
 * Return: true if the write index is not @pos.
 */
bool hv_ringbuffer_unread_after(const struct hv_ring_buffer_info *rbi,
				u32 pos)
{
	/*
	 * Our read index store before the load of the write index; pairs
	 * with the host's barrier between storing the write index and
	 * loading the read index.
	 */
	virt_mb();
	return READ_ONCE(rbi->ring_buffer->write_index) != pos;
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_unread_after);

/**
 * hv_ringbuffer_free_bytes() - free bytes on an outbound ring
 * @rbi: the outbound ring
 * @wr: the writer's private write index
 *
 * A ring is never filled completely, which would read as empty: a packet
 * fits only if it is strictly shorter than this. Unlike
 * hv_get_bytes_to_write(), the host's read index is validated.
 *
 * Context: any.
 * Return: free bytes, or -EBADMSG if the host's read index is out of range.
 */
int hv_ringbuffer_free_bytes(const struct hv_ring_buffer_info *rbi, u32 wr)
{
	u32 rd;

	if (hv_ringbuffer_get_read_index(rbi, &rd))
		return -EBADMSG;
	return rbi->ring_datasize - hv_ringbuffer_offset_dist(rbi, rd, wr);
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_free_bytes);

static bool hv_ringbuffer_inband_ok(const struct hv_ring_buffer_info *rbi,
				    u32 hdr_len, u32 len)
{
	return IS_ALIGNED(hdr_len, 8) && hdr_len < rbi->ring_datasize &&
	       len < rbi->ring_datasize &&
	       HV_RINGBUFFER_INBAND_LEN(hdr_len, len) - VMBUS_PKT_TRAILER <=
	       (u32)U16_MAX << 3;
}

/**
 * hv_ringbuffer_write_payload() - copy the next packet's payload into place
 * @rbi: the outbound ring
 * @wr: the writer's private write index
 * @hdr_len: bytes of the driver's header that will precede the payload,
 *           a multiple of 8
 * @from: the payload
 * @len: payload bytes
 *
 * First half of writing a VM_PKT_DATA_INBAND packet: the payload goes
 * straight from @from to where the packet will carry it. Nothing is
 * visible to the host until hv_ringbuffer_commit_inband(), so a fault
 * half way just makes the packet shorter.
 *
 * Context: process context if @from is a user iov_iter (it may fault).
 * Return: payload bytes copied, -EAGAIN if the packet does not fit,
 * -EFAULT if nothing could be copied, -EINVAL for lengths no packet can
 * have, or -EBADMSG if the host's read index is out of range.
 */
int hv_ringbuffer_write_payload(struct hv_ring_buffer_info *rbi, u32 wr,
				u32 hdr_len, struct iov_iter *from, u32 len)
{
	u8 *base = rbi->ring_buffer->buffer;
	u32 pos, first;
	int free;
	size_t n;

	if (!hv_ringbuffer_inband_ok(rbi, hdr_len, len))
		return -EINVAL;
	free = hv_ringbuffer_free_bytes(rbi, wr);
	if (free < 0)
		return free;
	if (free <= HV_RINGBUFFER_INBAND_LEN(hdr_len, len))
		return -EAGAIN;
	if (!len)
		return 0;

	pos = hv_ringbuffer_offset_add(rbi, wr,
				       sizeof(struct vmpacket_descriptor) +
				       hdr_len);
	first = min(len, rbi->ring_datasize - pos);
	n = copy_from_iter(base + pos, first, from);
	if (n == first && len > first)
		n += copy_from_iter(base, len - first, from);
	return n ? (int)n : -EFAULT;
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_write_payload);

static void hv_ringbuffer_copy_in(struct hv_ring_buffer_info *rbi, u32 pos,
				  const void *src, u32 len)
{
	u8 *base = rbi->ring_buffer->buffer;
	u32 first = min(len, rbi->ring_datasize - pos);

	memcpy(base + pos, src, first);
	if (len > first)
		memcpy(base, src + first, len - first);
}

/**
 * hv_ringbuffer_commit_inband() - complete a packet and publish it
 * @rbi: the outbound ring
 * @wr: the writer's private write index; advanced past the packet
 * @hdr: the driver's header, written in front of the payload
 * @hdr_len: its length, as given to hv_ringbuffer_write_payload()
 * @len: payload bytes hv_ringbuffer_write_payload() put in place (may be 0)
 *
 * Writes the descriptor, @hdr, the padding and the trailer around the
 * payload, then the write index. The room was checked by
 * hv_ringbuffer_write_payload() (the reader only ever frees more).
 *
 * Context: any; the caller serialises the ring's writer side.
 * Return: true if the caller must signal the host: only when the host may
 * have found the ring empty and gone idle, and has not masked interrupts.
 * The host takes other interrupts for a misbehaving guest.
 */
bool hv_ringbuffer_commit_inband(struct hv_ring_buffer_info *rbi, u32 *wr,
				 const void *hdr, u32 hdr_len, u32 len)
{
	const u32 dlen = sizeof(struct vmpacket_descriptor);
	struct vmpacket_descriptor desc = {
		.type = VM_PKT_DATA_INBAND,
		.offset8 = dlen >> 3,
	};
	static const u8 zero[8];
	u32 pos = *wr, end;
	u64 trailer;

	if (WARN_ON_ONCE(!hv_ringbuffer_inband_ok(rbi, hdr_len, len)))
		return false;
	desc.len8 = (dlen + hdr_len + ALIGN(len, 8)) >> 3;
	hv_ringbuffer_copy_in(rbi, pos, &desc, dlen);
	hv_ringbuffer_copy_in(rbi, hv_ringbuffer_offset_add(rbi, pos, dlen),
			      hdr, hdr_len);
	end = hv_ringbuffer_offset_add(rbi, pos, dlen + hdr_len + len);
	hv_ringbuffer_copy_in(rbi, end, zero, ALIGN(len, 8) - len);
	/* The trailer carries the packet's start, as every VMBus writer's. */
	trailer = (u64)pos << 32;
	end = hv_ringbuffer_offset_add(rbi, pos, (u32)desc.len8 << 3);
	hv_ringbuffer_copy_in(rbi, end, &trailer, sizeof(trailer));
	end = hv_ringbuffer_offset_add(rbi, end, sizeof(trailer));

	/* The packet is complete in memory before the host can see it. */
	virt_mb();
	WRITE_ONCE(rbi->ring_buffer->write_index, end);
	WRITE_ONCE(*wr, end);

	virt_mb();	/* the write index is visible before we sample */
	if (READ_ONCE(rbi->ring_buffer->interrupt_mask))
		return false;
	virt_rmb();	/* interrupt_mask before read_index */
	return pos == READ_ONCE(rbi->ring_buffer->read_index);
}
EXPORT_SYMBOL_GPL(hv_ringbuffer_commit_inband);
