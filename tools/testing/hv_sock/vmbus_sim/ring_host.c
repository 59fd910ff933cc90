// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host side of a VMBus ring, written from the ring layout in
 * <linux/hyperv.h> and nothing else: the host reads the guest's outbound
 * ring and writes the guest's inbound ring through its own linear mapping
 * of the pages, keeps its own copy of the index it owns, and treats every
 * value the guest can write (the other index, interrupt_mask,
 * pending_send_sz, packet contents) as untrusted.
 *
 * Signalling follows the rules Hyper-V applies:
 *  - as a writer, the host interrupts the guest only when the ring goes
 *    from empty to non-empty and the guest has not set interrupt_mask;
 *  - as a reader, the host interrupts the guest only when it frees enough
 *    space to cross the guest's pending_send_sz (if the guest advertised
 *    the feature), and keeps interrupt_mask set while it is draining.
 */
#include <linux/mm.h>
#include <linux/uio.h>

#include "hvsim_internal.h"

/**
 * hvsim_ring_advance() - ring offset @n bytes after @pos
 * @r: host view
 * @pos: ring offset
 * @n: bytes, at most the ring size
 *
 * Return: the offset, wrapped.
 */
u32 hvsim_ring_advance(const struct hvsim_ring *r, u32 pos, u32 n)
{
	pos += n;
	if (pos >= r->size)
		pos -= r->size;
	return pos;
}

static u32 ring_dist(const struct hvsim_ring *r, u32 from, u32 to)
{
	return to >= from ? to - from : r->size - from + to;
}

static void ring_get(const struct hvsim_ring *r, u32 pos, void *dst, u32 len)
{
	u32 first = min(len, r->size - pos);

	memcpy(dst, r->data + pos, first);
	memcpy(dst + first, r->data, len - first);
}

/**
 * hvsim_ring_attach() - map one ring of a channel for the host
 * @r: host view to fill
 * @first: header page of the ring
 * @bytes: ring size including the header page
 *
 * The pages come from vmbus_open() as one physically contiguous block, so
 * the linear map covers them; the guest uses its own double mapping.
 */
void hvsim_ring_attach(struct hvsim_ring *r, struct page *first, u32 bytes)
{
	r->hdr = page_address(first);
	r->data = r->hdr->buffer;
	r->size = bytes - sizeof(struct hv_ring_buffer);
	r->pos = 0;
}

/**
 * hvsim_ring_detach() - forget the mapping before the guest frees the pages
 * @r: host view
 */
void hvsim_ring_detach(struct hvsim_ring *r)
{
	r->hdr = NULL;
	r->data = NULL;
	r->size = 0;
	r->pos = 0;
}

/**
 * hvsim_ring_attached() - whether the host may touch the ring
 * @r: host view
 *
 * Return: true between attach and detach.
 */
bool hvsim_ring_attached(const struct hvsim_ring *r)
{
	return r->hdr;
}

static bool ring_index_ok(const struct hvsim_ring *r, u32 idx)
{
	return idx < r->size && IS_ALIGNED(idx, 8);
}

/**
 * hvsim_ring_readable() - bytes the guest has published in its outbound ring
 * @r: host view of the guest's outbound ring
 * @bytes: out: bytes between the host's read position and the write index
 *
 * The write index is loaded with acquire semantics: packet bytes read
 * afterwards are at least as new as the index.
 *
 * Return: 0, or -EPROTO if the guest's write index is out of range.
 */
int hvsim_ring_readable(const struct hvsim_ring *r, u32 *bytes)
{
	/* Pairs with the guest's barrier before it moves write_index. */
	u32 w = smp_load_acquire(&r->hdr->write_index);

	if (!ring_index_ok(r, w))
		return -EPROTO;
	*bytes = ring_dist(r, r->pos, w);
	return 0;
}

/**
 * hvsim_ring_writable() - free bytes in the guest's inbound ring
 * @r: host view of the guest's inbound ring
 * @bytes: out: free bytes; a writer must leave at least one byte free so
 *	that a full ring is not mistaken for an empty one
 *
 * Return: 0, or -EPROTO if the guest's read index is out of range.
 */
int hvsim_ring_writable(const struct hvsim_ring *r, u32 *bytes)
{
	u32 rd = READ_ONCE(r->hdr->read_index);

	if (!ring_index_ok(r, rd))
		return -EPROTO;
	*bytes = r->size - ring_dist(r, rd, r->pos);
	return 0;
}

static int ring_check_desc(const struct vmpacket_descriptor *desc, u32 avail,
			   u32 *len, u32 *off)
{
	*len = (u32)desc->len8 << 3;
	*off = (u32)desc->offset8 << 3;

	if (desc->type != VM_PKT_DATA_INBAND)
		return -EPROTO;
	if (*off < HVSIM_DESC_LEN || *off > *len)
		return -EPROTO;
	if (*len + HVSIM_TRAILER_LEN > avail)
		return -EPROTO;
	if (*len - *off < sizeof(struct hvsim_pipe_hdr))
		return -EPROTO;
	return 0;
}

/**
 * hvsim_ring_parse() - validate the next hvsock packet of the guest
 * @r: host view of the guest's outbound ring
 * @pkt: out: where the packet and its payload are
 *
 * A packet is a vmpacket_descriptor of type VM_PKT_DATA_INBAND with sane
 * offset8/len8, a vmpipe header {pkt_type 1, data_size <= what the packet
 * holds and <= the MTU}, padding to 8 bytes and the 64-bit trailer whose
 * upper half is the packet's own start offset. The guest publishes whole
 * packets only, so a partial one is a protocol error too.
 *
 * Return: 0, -EAGAIN if the ring is empty, -EPROTO if the guest broke the
 * format.
 */
int hvsim_ring_parse(const struct hvsim_ring *r, struct hvsim_pkt *pkt)
{
	struct vmpacket_descriptor desc;
	struct hvsim_pipe_hdr ph;
	u32 avail, len, off;
	u64 trailer;
	int ret;

	ret = hvsim_ring_readable(r, &avail);
	if (ret)
		return ret;
	if (!avail)
		return -EAGAIN;
	if (avail < HVSIM_DESC_LEN + HVSIM_TRAILER_LEN)
		return -EPROTO;

	ring_get(r, r->pos, &desc, sizeof(desc));
	ret = ring_check_desc(&desc, avail, &len, &off);
	if (ret)
		return ret;

	ring_get(r, hvsim_ring_advance(r, r->pos, off), &ph, sizeof(ph));
	if (ph.pkt_type != HVSIM_PIPE_DATA ||
	    ph.data_size > len - off - sizeof(ph) ||
	    ph.data_size > HVSIM_MTU_MAX)
		return -EPROTO;

	ring_get(r, hvsim_ring_advance(r, r->pos, len), &trailer, sizeof(trailer));
	if (upper_32_bits(trailer) != r->pos)
		return -EPROTO;

	pkt->start = r->pos;
	pkt->data = hvsim_ring_advance(r, r->pos, off + sizeof(ph));
	pkt->data_size = ph.data_size;
	pkt->next = hvsim_ring_advance(r, r->pos, len + HVSIM_TRAILER_LEN);
	return 0;
}

/**
 * hvsim_ring_copy_to_iter() - copy payload bytes out of the ring
 * @r: host view
 * @pos: ring offset of the first byte
 * @len: bytes to copy, less than the ring size
 * @to: destination
 *
 * Return: bytes copied; fewer than @len on a fault.
 */
size_t hvsim_ring_copy_to_iter(const struct hvsim_ring *r, u32 pos, u32 len,
			       struct iov_iter *to)
{
	u32 first = min(len, r->size - pos);
	size_t n;

	n = copy_to_iter(r->data + pos, first, to);
	if (n < first || first == len)
		return n;
	return n + copy_to_iter(r->data, len - first, to);
}

/**
 * hvsim_ring_consume() - hand packets back to the guest
 * @r: host view of the guest's outbound ring
 * @next: new read position
 *
 * The release store orders every read of the consumed packets before the
 * guest can see their space as free.
 */
void hvsim_ring_consume(struct hvsim_ring *r, u32 next)
{
	r->pos = next;
	/* All reads of the consumed packets happen before the guest reuses them. */
	smp_store_release(&r->hdr->read_index, next);
}

/**
 * hvsim_ring_reader_should_signal() - did the host free enough space?
 * @r: host view of the guest's outbound ring, after consuming
 * @old_pos: read position before consuming
 *
 * The free space before the consumption is reconstructed from the current
 * indices, so the bytes consumed since @old_pos must be fewer than the ring
 * size: call this after every hvsim_ring_consume(), not once after a
 * drain, because the guest refills what each consume frees and one drain
 * can consume more than a ring's worth.
 *
 * Return: true if the guest advertised pending_send_sz support, is waiting
 * for space (pending_send_sz != 0), and this consumption moved the free
 * space from "not more than pending_send_sz" to "more than it".
 */
bool hvsim_ring_reader_should_signal(const struct hvsim_ring *r, u32 old_pos)
{
	u32 pending, w, free_now, freed;

	/* Commit read_index before sampling pending_send_sz. */
	smp_mb();
	if (!(READ_ONCE(r->hdr->feature_bits.value) & 1))
		return false;
	pending = READ_ONCE(r->hdr->pending_send_sz);
	if (!pending)
		return false;
	/* Read write_index after pending_send_sz, as hv_pkt_iter_close() does. */
	smp_rmb();
	w = READ_ONCE(r->hdr->write_index);
	if (!ring_index_ok(r, w))
		return false;

	free_now = r->size - ring_dist(r, r->pos, w);
	freed = ring_dist(r, old_pos, r->pos);
	if (free_now > freed && free_now - freed > pending)
		return false;	/* the guest was not blocked */
	return free_now > pending;
}

/**
 * hvsim_ring_put() - copy bytes into the ring
 * @r: host view of the guest's inbound ring
 * @pos: in/out: ring offset
 * @src: bytes
 * @len: byte count, less than the ring size
 */
void hvsim_ring_put(struct hvsim_ring *r, u32 *pos, const void *src, u32 len)
{
	u32 first = min(len, r->size - *pos);

	memcpy(r->data + *pos, src, first);
	memcpy(r->data, src + first, len - first);
	*pos = hvsim_ring_advance(r, *pos, len);
}

/**
 * hvsim_ring_put_iter() - copy bytes from an iterator into the ring
 * @r: host view of the guest's inbound ring
 * @pos: in/out: ring offset, advanced by the bytes copied
 * @len: byte count, less than the ring size
 * @from: source
 *
 * Return: bytes copied; fewer than @len on a fault.
 */
size_t hvsim_ring_put_iter(struct hvsim_ring *r, u32 *pos, u32 len,
			   struct iov_iter *from)
{
	u32 first = min(len, r->size - *pos);
	size_t n;

	n = copy_from_iter(r->data + *pos, first, from);
	if (n == first && first < len)
		n += copy_from_iter(r->data, len - first, from);
	*pos = hvsim_ring_advance(r, *pos, n);
	return n;
}

/**
 * hvsim_ring_put_zero() - write padding
 * @r: host view of the guest's inbound ring
 * @pos: in/out: ring offset
 * @len: bytes, at most 8
 */
void hvsim_ring_put_zero(struct hvsim_ring *r, u32 *pos, u32 len)
{
	static const u8 zero[8];

	hvsim_ring_put(r, pos, zero, min_t(u32, len, sizeof(zero)));
}

/**
 * hvsim_ring_publish() - make written packets visible to the guest
 * @r: host view of the guest's inbound ring
 * @new_pos: new write index
 *
 * Pairs with the guest's load-acquire of write_index in hv_pkt_iter_avail().
 */
void hvsim_ring_publish(struct hvsim_ring *r, u32 new_pos)
{
	r->pos = new_pos;
	/* Packet bytes are visible before the index that covers them. */
	smp_store_release(&r->hdr->write_index, new_pos);
}

/**
 * hvsim_ring_writer_should_signal() - must the host interrupt the guest?
 * @r: host view of the guest's inbound ring, after publishing
 * @old_pos: write index before the packets just published
 *
 * Return: true if the guest has not masked interrupts and the ring was
 * empty before this write (the guest's read index still equals the old
 * write index): the transition the guest waits for.
 */
bool hvsim_ring_writer_should_signal(const struct hvsim_ring *r, u32 old_pos)
{
	/* Order the write_index store before the interrupt_mask load. */
	smp_mb();
	if (READ_ONCE(r->hdr->interrupt_mask))
		return false;
	/* Check interrupt_mask before read_index. */
	smp_rmb();
	return old_pos == READ_ONCE(r->hdr->read_index);
}

/**
 * hvsim_ring_set_pending() - tell the guest how much space the host waits for
 * @r: host view of the guest's inbound ring
 * @bytes: 0 when not blocked, else the free space wanted
 *
 * The full barrier orders the store before the caller's re-check of the
 * guest's read index; the guest orders its read index update before its
 * load of pending_send_sz (hv_pkt_iter_close()).
 */
void hvsim_ring_set_pending(struct hvsim_ring *r, u32 bytes)
{
	if (!bytes && !READ_ONCE(r->hdr->pending_send_sz))
		return;
	WRITE_ONCE(r->hdr->pending_send_sz, bytes);
	/* Store pending_send_sz before re-reading read_index. */
	smp_mb();
}

/**
 * hvsim_ring_set_mask() - host reader busy (masked) or idle (wants interrupts)
 * @r: host view of the guest's outbound ring
 * @masked: true while the host drains the ring
 *
 * Unmasking is followed by a full barrier so that the caller's re-check of
 * the write index cannot miss a packet the guest published without
 * signalling.
 */
void hvsim_ring_set_mask(struct hvsim_ring *r, bool masked)
{
	if (READ_ONCE(r->hdr->interrupt_mask) == masked)
		return;
	WRITE_ONCE(r->hdr->interrupt_mask, masked);
	/* Store interrupt_mask before re-reading write_index. */
	smp_mb();
}

/**
 * hvsim_ring_write_packet() - lay out one packet in the guest's inbound ring
 * @r: host view of the guest's inbound ring
 * @pos: ring offset of the packet; the caller checked the space
 * @desc: descriptor, written as is
 * @hdr: optional bytes following the descriptor (vmpipe header)
 * @hdr_len: bytes at @hdr
 * @payload_len: bytes to take from @payload
 * @payload: payload source
 * @fault: out: set if @payload faulted
 *
 * Writes descriptor, @hdr, payload, zero padding to 8 bytes and the 64-bit
 * trailer holding the packet's start offset in its upper half. Nothing is
 * published.
 *
 * Return: ring offset after the packet.
 */
u32 hvsim_ring_write_packet(struct hvsim_ring *r, u32 pos,
			    const struct vmpacket_descriptor *desc,
			    const void *hdr, u32 hdr_len, u32 payload_len,
			    struct iov_iter *payload, bool *fault)
{
	u32 body = hdr_len + payload_len;
	u64 trailer = (u64)pos << 32;

	*fault = false;
	hvsim_ring_put(r, &pos, desc, sizeof(*desc));
	if (hdr_len)
		hvsim_ring_put(r, &pos, hdr, hdr_len);
	if (payload_len &&
	    hvsim_ring_put_iter(r, &pos, payload_len, payload) != payload_len) {
		*fault = true;
		return pos;
	}
	hvsim_ring_put_zero(r, &pos, ALIGN(body, 8) - body);
	hvsim_ring_put(r, &pos, &trailer, sizeof(trailer));
	return pos;
}
