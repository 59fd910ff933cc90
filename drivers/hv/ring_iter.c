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
 *
 * The helpers a driver calls per packet without copying payload
 * (hv_ringbuffer_readable(), hv_ringbuffer_peek_pkt(),
 * hv_ringbuffer_copy_out(), the read index publication and its signal
 * rule, hv_ringbuffer_commit_inband()) are inline in <linux/hyperv.h>;
 * this file has the payload copies and the rest.
 */

#include <linux/hyperv.h>
#include <linux/uio.h>

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
