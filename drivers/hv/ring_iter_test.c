// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the in-place VMBus ring helpers (ring_iter.c), on a ring
 * in plain memory. The test plays the host: it writes the shared indices
 * and fields as a host would, including wrong ones.
 */

#include <kunit/test.h>
#include <linux/hyperv.h>
#include <linux/slab.h>
#include <linux/uio.h>

#define TEST_RING_SIZE	4096
#define TEST_HDR	8	/* a driver header of 8 bytes */
#define TEST_HDR_VALUE	0x1122334455667788ULL

static struct hv_ring_buffer_info *ring_new(struct kunit *test, u32 start)
{
	struct hv_ring_buffer_info *rbi;

	rbi = kunit_kzalloc(test, sizeof(*rbi), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rbi);
	rbi->ring_buffer = kunit_kzalloc(test, sizeof(struct hv_ring_buffer) +
					 TEST_RING_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rbi->ring_buffer);
	/* Stale bytes everywhere: padding must be written, not inherited. */
	memset(rbi->ring_buffer->buffer, 0xff, TEST_RING_SIZE);
	rbi->ring_datasize = TEST_RING_SIZE;
	rbi->ring_size = TEST_RING_SIZE + sizeof(struct hv_ring_buffer);
	rbi->ring_buffer->read_index = start;
	rbi->ring_buffer->write_index = start;
	rbi->ring_buffer->feature_bits.feat_pending_send_sz = 1;
	return rbi;
}

/*
 * Write one in-band packet of @len bytes of @c, @src bytes of which are
 * readable (the rest "faults"); returns the payload written.
 */
static int ring_put_short(struct hv_ring_buffer_info *rbi, u32 *wr, u8 c,
			  u32 len, u32 src, bool *kick)
{
	u64 hdr = TEST_HDR_VALUE;
	static u8 buf[TEST_RING_SIZE];
	struct kvec kv = { .iov_base = buf, .iov_len = src };
	struct iov_iter it;
	int n;

	src = min(src, TEST_RING_SIZE);
	memset(buf, c, src);
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, src);
	n = hv_ringbuffer_write_payload(rbi, *wr, TEST_HDR, &it, len);
	if (n >= 0)
		*kick = hv_ringbuffer_commit_inband(rbi, wr, &hdr, TEST_HDR, n);
	return n;
}

static int ring_put(struct hv_ring_buffer_info *rbi, u32 *wr, u8 c, u32 len,
		    bool *kick)
{
	return ring_put_short(rbi, wr, c, len, len, kick);
}

/* Peek at the packet at @rd, as a reader that published @rd. */
static void ring_peek(struct kunit *test, struct hv_ring_buffer_info *rbi,
		      u32 rd, struct hv_ringbuffer_pkt *pkt)
{
	u32 avail;

	KUNIT_ASSERT_EQ(test, 0, hv_ringbuffer_readable(rbi, rd, rd, &avail));
	KUNIT_ASSERT_EQ(test, 0, hv_ringbuffer_peek_pkt(rbi, rd, avail, pkt));
}

/* Consume the packet at *@rd; returns whether the host must be signalled. */
static bool ring_consume(struct kunit *test, struct hv_ring_buffer_info *rbi,
			 u32 *rd)
{
	struct hv_ringbuffer_pkt pkt;
	u32 old = *rd;

	ring_peek(test, rbi, old, &pkt);
	hv_ringbuffer_publish_read(rbi, pkt.next);
	*rd = pkt.next;
	return hv_ringbuffer_read_signal(rbi, old, pkt.next);
}

static void ring_iter_offsets(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);

	KUNIT_EXPECT_EQ(test, 0u, hv_ringbuffer_offset_dist(rbi, 100, 100));
	KUNIT_EXPECT_EQ(test, 8u, hv_ringbuffer_offset_dist(rbi, 4088, 0));
	KUNIT_EXPECT_EQ(test, 4095u, hv_ringbuffer_offset_dist(rbi, 1, 0));
	KUNIT_EXPECT_EQ(test, 8u, hv_ringbuffer_offset_add(rbi, 4088, 16));
	KUNIT_EXPECT_EQ(test, 0u, hv_ringbuffer_offset_add(rbi, 4088, 8));
	KUNIT_EXPECT_EQ(test, 4088u, hv_ringbuffer_offset_add(rbi, 4080, 8));
	KUNIT_EXPECT_EQ(test, 48, (int)HV_RINGBUFFER_INBAND_LEN(TEST_HDR, 9));
	KUNIT_EXPECT_EQ(test, 32, (int)HV_RINGBUFFER_INBAND_LEN(TEST_HDR, 0));
}

/*
 * Written by the writer helpers, read back by the reader helpers: a packet
 * starting at @start, so the wrap falls in the payload, or (4088) in the
 * descriptor.
 */
static void ring_iter_roundtrip_at(struct kunit *test, u32 start)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, start);
	struct hv_ringbuffer_pkt pkt;
	u8 out[100], pad[4];
	struct kvec kv = { .iov_base = out, .iov_len = sizeof(out) };
	struct iov_iter it;
	u32 wr, rd = start, off;
	u64 hdr, trailer;
	bool kick;

	KUNIT_ASSERT_EQ(test, 0, hv_ringbuffer_get_write_index(rbi, &wr));
	KUNIT_EXPECT_EQ(test, 100, ring_put(rbi, &wr, 0x5a, 100, &kick));
	KUNIT_EXPECT_TRUE(test, kick);	/* the host saw an empty ring */
	KUNIT_EXPECT_EQ(test, wr, rbi->ring_buffer->write_index);
	off = hv_ringbuffer_offset_add(rbi, start,
				       HV_RINGBUFFER_INBAND_LEN(TEST_HDR, 100));
	KUNIT_EXPECT_EQ(test, off, wr);

	ring_peek(test, rbi, rd, &pkt);
	KUNIT_EXPECT_EQ(test, VM_PKT_DATA_INBAND, pkt.type);
	KUNIT_EXPECT_EQ(test, wr, pkt.next);
	KUNIT_EXPECT_EQ(test, 8u + 104u, pkt.data_len);	/* header + padded */
	hv_ringbuffer_copy_out(rbi, pkt.data_off, &hdr, sizeof(hdr));
	KUNIT_EXPECT_EQ(test, TEST_HDR_VALUE, hdr);

	iov_iter_kvec(&it, ITER_DEST, &kv, 1, sizeof(out));
	off = hv_ringbuffer_offset_add(rbi, pkt.data_off, TEST_HDR);
	KUNIT_EXPECT_EQ(test, 100u,
			hv_ringbuffer_copy_to_iter(rbi, off, 100, &it));
	KUNIT_EXPECT_TRUE(test, !memchr_inv(out, 0x5a, sizeof(out)));
	off = hv_ringbuffer_offset_add(rbi, off, 100);
	hv_ringbuffer_copy_out(rbi, off, pad, sizeof(pad));
	KUNIT_EXPECT_TRUE(test, !memchr_inv(pad, 0, sizeof(pad)));
	/* The trailer names the packet's start. */
	off = hv_ringbuffer_offset_add(rbi, pkt.next,
				       TEST_RING_SIZE - VMBUS_PKT_TRAILER);
	hv_ringbuffer_copy_out(rbi, off, &trailer, sizeof(trailer));
	KUNIT_EXPECT_EQ(test, (u64)start << 32, trailer);

	KUNIT_EXPECT_FALSE(test, ring_consume(test, rbi, &rd));
	KUNIT_EXPECT_EQ(test, pkt.next, rbi->ring_buffer->read_index);
	KUNIT_EXPECT_FALSE(test, hv_ringbuffer_unread_after(rbi, pkt.next));
	KUNIT_EXPECT_EQ(test, TEST_RING_SIZE, hv_ringbuffer_free_bytes(rbi, wr));
}

static void ring_iter_roundtrip_wraps_payload(struct kunit *test)
{
	ring_iter_roundtrip_at(test, 4000);
}

static void ring_iter_roundtrip_wraps_descriptor(struct kunit *test)
{
	ring_iter_roundtrip_at(test, 4088);
}

/* A source that faults part way makes a shorter packet; at once, none. */
static void ring_iter_short_copy(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	struct hv_ringbuffer_pkt pkt;
	u32 wr = 0, hdr[2];
	bool kick;

	KUNIT_EXPECT_EQ(test, -EFAULT,
			ring_put_short(rbi, &wr, 1, 64, 0, &kick));
	KUNIT_EXPECT_EQ(test, 0u, wr);
	KUNIT_EXPECT_EQ(test, 20, ring_put_short(rbi, &wr, 1, 64, 20, &kick));
	ring_peek(test, rbi, 0, &pkt);
	KUNIT_EXPECT_EQ(test, (u32)TEST_HDR + 24, pkt.data_len);
	KUNIT_EXPECT_EQ(test, HV_RINGBUFFER_INBAND_LEN(TEST_HDR, 20), pkt.next);
	hv_ringbuffer_copy_out(rbi, pkt.data_off, hdr, sizeof(hdr));
	KUNIT_EXPECT_EQ(test, TEST_HDR_VALUE, *(u64 *)hdr);
}

/* Lengths no packet can have are refused before anything is copied. */
static void ring_iter_rejects_bad_lengths(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	bool kick;
	u32 wr = 0;

	KUNIT_EXPECT_EQ(test, -EINVAL,
			ring_put(rbi, &wr, 1, TEST_RING_SIZE, &kick));
	KUNIT_EXPECT_EQ(test, -EINVAL, ring_put(rbi, &wr, 1, U32_MAX, &kick));
	KUNIT_EXPECT_EQ(test, -EINVAL, ring_put(rbi, &wr, 1, U32_MAX - 6,
						&kick));
	KUNIT_EXPECT_EQ(test, 0u, rbi->ring_buffer->write_index);
}

/* Never fills the ring completely: full would read as empty. */
static void ring_iter_full(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	u32 wr = 0;
	u32 len = TEST_RING_SIZE - HV_RINGBUFFER_INBAND_LEN(TEST_HDR, 0);
	bool kick;

	KUNIT_EXPECT_EQ(test, -EAGAIN, ring_put(rbi, &wr, 1, len, &kick));
	KUNIT_EXPECT_EQ(test, (int)len - 8,
			ring_put(rbi, &wr, 1, len - 8, &kick));
	KUNIT_EXPECT_EQ(test, 8, hv_ringbuffer_free_bytes(rbi, wr));
	KUNIT_EXPECT_EQ(test, -EAGAIN, ring_put(rbi, &wr, 1, 0, &kick));
}

/* Kick only when the host found the ring empty and did not mask. */
static void ring_iter_writer_kick_rule(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	u32 wr = 0;
	bool kick;

	ring_put(rbi, &wr, 1, 8, &kick);
	KUNIT_EXPECT_TRUE(test, kick);
	ring_put(rbi, &wr, 1, 8, &kick);
	KUNIT_EXPECT_FALSE(test, kick);	/* not empty: host still reading */
	rbi->ring_buffer->read_index = wr;
	rbi->ring_buffer->interrupt_mask = 1;
	ring_put(rbi, &wr, 1, 8, &kick);
	KUNIT_EXPECT_FALSE(test, kick);	/* masked: host polls anyway */
}

/*
 * Four 800-byte packets of 832 ring bytes leave 768 free. Each case reads
 * them one by one with the host waiting for @pending, and names the read
 * (1-based) that must be signalled, or 0 for none.
 */
struct signal_case {
	const char *name;
	u32 pending;
	bool feature;
	u32 bad_wr;	/* non-zero: the host's write index reads as this */
	int signalled;
};

static const struct signal_case signal_cases[] = {
	{ "crossing on the first read", 1000, true, 0, 1 },
	{ "crossing on the second read", 2000, true, 0, 2 },
	{ "already enough before", 700, true, 0, 0 },
	{ "space equal to pending is not enough", 2432, true, 0, 3 },
	{ "nobody waiting", 0, true, 0, 0 },
	{ "pending_send_sz not negotiated", 1000, false, 0, 0 },
	{ "bad write index", 1000, true, 4, 0 },
};

static void signal_case_name(const struct signal_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(signal, signal_cases, signal_case_name);

/* Signal a waiting host once, when the free space crosses its mark. */
static void ring_iter_read_signal_rule(struct kunit *test)
{
	const struct signal_case *c = test->param_value;
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	u32 wr = 0, rd = 0, pos;
	struct hv_ringbuffer_pkt pkt;
	bool kick;
	int i;

	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(test, 800, ring_put(rbi, &wr, 1, 800, &kick));
	KUNIT_ASSERT_EQ(test, 768, hv_ringbuffer_free_bytes(rbi, wr));
	rbi->ring_buffer->pending_send_sz = c->pending;
	rbi->ring_buffer->feature_bits.feat_pending_send_sz = c->feature;
	for (i = 1; i <= 4; i++) {
		ring_peek(test, rbi, rd, &pkt);
		pos = pkt.next;
		hv_ringbuffer_publish_read(rbi, pos);
		if (c->bad_wr)
			rbi->ring_buffer->write_index = c->bad_wr;
		KUNIT_EXPECT_EQ_MSG(test, i == c->signalled,
				    hv_ringbuffer_read_signal(rbi, rd, pos),
				    "read %d", i);
		rbi->ring_buffer->write_index = wr;
		KUNIT_EXPECT_EQ(test, i < 4,
				hv_ringbuffer_unread_after(rbi, pos));
		rd = pos;
	}
}

struct bad_desc_case {
	const char *name;
	u16 offset8, len8;
	u32 avail;	/* 0: the packet's length plus the trailer */
};

static const struct bad_desc_case bad_desc_cases[] = {
	{ "offset inside the descriptor", 1, 4, 0 },
	{ "offset past the packet", 5, 4, 0 },
	{ "length past what was published", 2, 4, 24 },
	{ "no room for the trailer", 2, 4, 32 },
	{ "trailer cut short", 2, 4, 39 },
	{ "shorter than its offset", 2, 1, 64 },
	{ "length past the ring", 2, 0xffff, 0 },
};

static void bad_desc_name(const struct bad_desc_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bad_desc, bad_desc_cases, bad_desc_name);

static void ring_put_desc(struct hv_ring_buffer_info *rbi, u16 offset8,
			  u16 len8)
{
	struct vmpacket_descriptor desc = {
		.type = VM_PKT_DATA_INBAND,
		.offset8 = offset8,
		.len8 = len8,
	};

	memcpy(rbi->ring_buffer->buffer, &desc, sizeof(desc));
}

/* Malformed descriptors from the host are refused, never followed. */
static void ring_iter_rejects_bad_desc(struct kunit *test)
{
	const struct bad_desc_case *c = test->param_value;
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	struct hv_ringbuffer_pkt pkt;
	u32 avail = c->avail;

	if (!avail)
		avail = min_t(u32, ((u32)c->len8 << 3) + VMBUS_PKT_TRAILER,
			      TEST_RING_SIZE - 8);
	ring_put_desc(rbi, c->offset8, c->len8);
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			hv_ringbuffer_peek_pkt(rbi, 0, avail, &pkt));
}

/* The smallest well-formed packet is accepted: the checks are not off by 8. */
static void ring_iter_accepts_exact_fit(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	struct hv_ringbuffer_pkt pkt;

	ring_put_desc(rbi, 2, 4);
	KUNIT_ASSERT_EQ(test, 0, hv_ringbuffer_peek_pkt(rbi, 0, 40, &pkt));
	KUNIT_EXPECT_EQ(test, 16u, pkt.data_off);
	KUNIT_EXPECT_EQ(test, 16u, pkt.data_len);
	KUNIT_EXPECT_EQ(test, 40u, pkt.next);
	ring_put_desc(rbi, 4, 4);	/* no data at all */
	KUNIT_EXPECT_EQ(test, 0, hv_ringbuffer_peek_pkt(rbi, 0, 40, &pkt));
	KUNIT_EXPECT_EQ(test, 0u, pkt.data_len);
}

static void ring_iter_empty(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 64);
	struct hv_ringbuffer_pkt pkt;

	KUNIT_EXPECT_EQ(test, -EAGAIN,
			hv_ringbuffer_peek_pkt(rbi, 64, 0, &pkt));
}

/* Indices the host wrote out of range or misaligned are refused. */
static void ring_iter_rejects_bad_indices(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	u32 idx, avail;

	rbi->ring_buffer->write_index = 4;
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			hv_ringbuffer_readable(rbi, 0, 0, &avail));
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			hv_ringbuffer_get_write_index(rbi, &idx));
	rbi->ring_buffer->write_index = TEST_RING_SIZE;
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			hv_ringbuffer_readable(rbi, 0, 0, &avail));
	rbi->ring_buffer->write_index = 0;
	rbi->ring_buffer->read_index = 5000;
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			hv_ringbuffer_get_read_index(rbi, &idx));
	KUNIT_EXPECT_EQ(test, -EBADMSG, hv_ringbuffer_free_bytes(rbi, 0));
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			hv_ringbuffer_get_write_index(rbi, &idx));
	/* A write index rewound behind what the reader already parsed. */
	rbi->ring_buffer->read_index = 0;
	rbi->ring_buffer->write_index = 8;
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			hv_ringbuffer_readable(rbi, 0, 16, &avail));
}

static struct kunit_case ring_iter_cases[] = {
	KUNIT_CASE(ring_iter_offsets),
	KUNIT_CASE(ring_iter_roundtrip_wraps_payload),
	KUNIT_CASE(ring_iter_roundtrip_wraps_descriptor),
	KUNIT_CASE(ring_iter_short_copy),
	KUNIT_CASE(ring_iter_rejects_bad_lengths),
	KUNIT_CASE(ring_iter_full),
	KUNIT_CASE(ring_iter_writer_kick_rule),
	KUNIT_CASE_PARAM(ring_iter_read_signal_rule, signal_gen_params),
	KUNIT_CASE_PARAM(ring_iter_rejects_bad_desc, bad_desc_gen_params),
	KUNIT_CASE(ring_iter_accepts_exact_fit),
	KUNIT_CASE(ring_iter_empty),
	KUNIT_CASE(ring_iter_rejects_bad_indices),
	{}
};

static struct kunit_suite ring_iter_suite = {
	.name = "hv_ring_iter",
	.test_cases = ring_iter_cases,
};

kunit_test_suite(ring_iter_suite);

MODULE_DESCRIPTION("KUnit tests for the in-place VMBus ring helpers");
MODULE_LICENSE("GPL");
