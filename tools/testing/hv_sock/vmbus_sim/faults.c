// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault injection into the guest's rings: raw bytes, packets with any
 * descriptor, hvsock packets with any vmpipe header, any value in any
 * field of a ring header. What a broken or hostile host could write, so
 * guest drivers can prove they survive it.
 */
#include <linux/uio.h>

#include "hvsim_internal.h"
#include "hvsim_host.h"

#define HVSIM_INJECT_F_ALL	(HVSIM_INJECT_F_OFFSET8 | HVSIM_INJECT_F_LEN8 | \
				 HVSIM_INJECT_F_DATA_SIZE | \
				 HVSIM_INJECT_F_NO_SIGNAL | HVSIM_INJECT_F_SIGNAL)

static int hvsim_inject_check(const struct hvsim_inject *inj)
{
	if (inj->kind > HVSIM_INJECT_PIPE || inj->len > HVSIM_MAX_INJECT)
		return -EINVAL;
	if (inj->flags & ~HVSIM_INJECT_F_ALL)
		return -EINVAL;
	if ((inj->flags & HVSIM_INJECT_F_NO_SIGNAL) &&
	    (inj->flags & HVSIM_INJECT_F_SIGNAL))
		return -EINVAL;
	if (inj->reserved0 || inj->reserved[0] || inj->reserved[1])
		return -EINVAL;
	return 0;
}

static u32 hvsim_inject_body(const struct hvsim_inject *inj)
{
	if (inj->kind == HVSIM_INJECT_PIPE)
		return sizeof(struct hvsim_pipe_hdr) + inj->len;
	return inj->len;
}

/* Ring bytes the injection takes. */
static u32 hvsim_inject_bytes(const struct hvsim_inject *inj)
{
	if (inj->kind == HVSIM_INJECT_RAW)
		return inj->len;
	return HVSIM_DESC_LEN + ALIGN(hvsim_inject_body(inj), 8) +
	       HVSIM_TRAILER_LEN;
}

static void hvsim_inject_desc(const struct hvsim_inject *inj,
			      struct vmpacket_descriptor *desc)
{
	u32 len8 = (HVSIM_DESC_LEN + ALIGN(hvsim_inject_body(inj), 8)) >> 3;

	desc->type = inj->pkt_type;
	desc->flags = inj->pkt_flags;
	desc->offset8 = inj->flags & HVSIM_INJECT_F_OFFSET8 ?
			inj->offset8 : HVSIM_DESC_LEN >> 3;
	desc->len8 = inj->flags & HVSIM_INJECT_F_LEN8 ? inj->len8 : len8;
	desc->trans_id = inj->trans_id;
}

/* Write the injection at the host's write position; return the new one. */
static u32 hvsim_inject_write(struct hvsim_ring *r,
			      const struct hvsim_inject *inj, const void *data)
{
	struct kvec kv = { .iov_base = (void *)data, .iov_len = inj->len };
	struct vmpacket_descriptor desc;
	struct hvsim_pipe_hdr ph;
	struct iov_iter it;
	u32 pos = r->pos;
	bool fault;

	if (inj->kind == HVSIM_INJECT_RAW) {
		hvsim_ring_put(r, &pos, data, inj->len);
		return pos;
	}

	hvsim_inject_desc(inj, &desc);
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, inj->len);
	if (inj->kind == HVSIM_INJECT_PACKET)
		return hvsim_ring_write_packet(r, pos, &desc, NULL, 0, inj->len,
					       &it, &fault);

	ph.pkt_type = inj->pipe_type;
	ph.data_size = inj->flags & HVSIM_INJECT_F_DATA_SIZE ?
		       inj->pipe_data_size : inj->len;
	return hvsim_ring_write_packet(r, pos, &desc, &ph, sizeof(ph),
				       inj->len, &it, &fault);
}

static bool hvsim_inject_signal(const struct hvsim_inject *inj,
				const struct hvsim_ring *r, u32 old)
{
	if (inj->flags & HVSIM_INJECT_F_SIGNAL)
		return true;
	if (inj->flags & HVSIM_INJECT_F_NO_SIGNAL)
		return false;
	return hvsim_ring_writer_should_signal(r, old);
}

/**
 * hvsim_host_inject() - write raw or malformed data into the guest's ring
 * @c: open connection
 * @inj: what to write, see struct hvsim_inject; @inj->data is ignored
 * @data: @inj->len bytes, kernel memory
 *
 * Return: ring bytes used, or -EINVAL, -ENOTCONN, -EAGAIN (no room), -EIO
 * (the guest's read index is corrupt), -ERESTARTSYS.
 */
int hvsim_host_inject(struct hvsim_conn *c, const struct hvsim_inject *inj,
		      const void *data)
{
	struct hvsim_ring *r = &c->tx_ring;
	u32 bytes, space, old;
	int ret;

	ret = hvsim_inject_check(inj);
	if (ret)
		return ret;
	bytes = hvsim_inject_bytes(inj);

	if (mutex_lock_interruptible(&c->tx_lock))
		return -ERESTARTSYS;
	down_read(&c->ring_sem);
	if (READ_ONCE(c->state) != HVSIM_STATE_OPEN || !hvsim_ring_attached(r)) {
		ret = -ENOTCONN;
	} else if (hvsim_ring_writable(r, &space)) {
		ret = -EIO;
	} else if (bytes >= space) {
		ret = -EAGAIN;
	} else {
		old = r->pos;
		hvsim_ring_publish(r, hvsim_inject_write(r, inj, data));
		WRITE_ONCE(c->stats.pkts_to_guest, c->stats.pkts_to_guest + 1);
		if (hvsim_inject_signal(inj, r, old))
			hvsim_conn_interrupt_guest(c);
		ret = bytes;
	}
	up_read(&c->ring_sem);
	mutex_unlock(&c->tx_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(hvsim_host_inject);

static u32 *hvsim_poke_field(struct hv_ring_buffer *hdr, u32 field)
{
	switch (field) {
	case HVSIM_POKE_WRITE_INDEX:
		return &hdr->write_index;
	case HVSIM_POKE_READ_INDEX:
		return &hdr->read_index;
	case HVSIM_POKE_INTERRUPT_MASK:
		return &hdr->interrupt_mask;
	case HVSIM_POKE_PENDING_SEND_SZ:
		return &hdr->pending_send_sz;
	}
	return NULL;
}

/**
 * hvsim_host_poke() - overwrite a field of a ring header shared with the guest
 * @c: open connection
 * @poke: what to store, see struct hvsim_poke; @poke->old is filled in
 *
 * The host's private positions are left alone: see hvsim.h.
 *
 * Return: 0, or -EINVAL, -ENOTCONN.
 */
int hvsim_host_poke(struct hvsim_conn *c, struct hvsim_poke *poke)
{
	struct hvsim_ring *r;
	u32 *field;
	int ret = 0;

	if (poke->ring > HVSIM_RING_OUT || poke->field > HVSIM_POKE_PENDING_SEND_SZ ||
	    (poke->flags & ~HVSIM_POKE_F_SIGNAL) || poke->reserved[0] ||
	    poke->reserved[1] || poke->reserved[2])
		return -EINVAL;
	/* HVSIM_RING_IN is the guest's inbound ring: the one the host writes. */
	r = poke->ring == HVSIM_RING_IN ? &c->tx_ring : &c->rx_ring;

	down_read(&c->ring_sem);
	if (READ_ONCE(c->state) != HVSIM_STATE_OPEN || !hvsim_ring_attached(r)) {
		ret = -ENOTCONN;
	} else {
		field = hvsim_poke_field(r->hdr, poke->field);
		poke->old = READ_ONCE(*field);
		WRITE_ONCE(*field, poke->value);
		/* The new value is visible before the guest is interrupted. */
		smp_mb();
		if (poke->flags & HVSIM_POKE_F_SIGNAL)
			hvsim_conn_interrupt_guest(c);
	}
	up_read(&c->ring_sem);
	return ret;
}
EXPORT_SYMBOL_GPL(hvsim_host_poke);
