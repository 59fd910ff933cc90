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

static struct hv_ring_buffer_info *ring_new(struct kunit *test, u32 start)
{
	struct hv_ring_buffer_info *rbi;

	rbi = kunit_kzalloc(test, sizeof(*rbi), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rbi);
	rbi->ring_buffer = kunit_kzalloc(test, sizeof(struct hv_ring_buffer) +
					 TEST_RING_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rbi->ring_buffer);
	rbi->ring_datasize = TEST_RING_SIZE;
	rbi->ring_size = TEST_RING_SIZE + sizeof(struct hv_ring_buffer);
	rbi->ring_buffer->read_index = start;
	rbi->ring_buffer->write_index = start;
	return rbi;
}

/* Write one in-band packet of @len bytes of @c; returns the payload written. */
static int ring_put(struct hv_ring_buffer_info *rbi, u32 *wr, u8 c, u32 len,
		    bool *kick)
{
	u64 hdr = 0x1122334455667788ULL;
	static u8 buf[TEST_RING_SIZE];
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter it;
	int n;

	memset(buf, c, len);
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, len);
	n = hv_ring_write_payload(rbi, *wr, TEST_HDR, &it, len);
	if (n >= 0)
		hv_ring_commit_inband(rbi, wr, &hdr, TEST_HDR, n, kick);
	return n;
}

static void ring_iter_offsets(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);

	KUNIT_EXPECT_EQ(test, 0u, hv_ring_offset_dist(rbi, 100, 100));
	KUNIT_EXPECT_EQ(test, 8u, hv_ring_offset_dist(rbi, 4088, 0));
	KUNIT_EXPECT_EQ(test, 4095u, hv_ring_offset_dist(rbi, 1, 0));
	KUNIT_EXPECT_EQ(test, 8u, hv_ring_offset_add(rbi, 4088, 16));
	KUNIT_EXPECT_EQ(test, 0u, hv_ring_offset_add(rbi, 4088, 8));
	KUNIT_EXPECT_EQ(test, 4088u, hv_ring_offset_add(rbi, 4080, 8));
	KUNIT_EXPECT_EQ(test, 48, (int)HV_RING_INBAND_LEN(TEST_HDR, 9));
	KUNIT_EXPECT_EQ(test, 32, (int)HV_RING_INBAND_LEN(TEST_HDR, 0));
}

/* Written by the writer helpers, read back by the reader helpers, wrapping. */
static void ring_iter_roundtrip_wraps(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 4000);
	struct hv_ring_pkt pkt;
	u32 wr, rd = 4000, avail;
	u8 out[100];
	struct kvec kv = { .iov_base = out, .iov_len = sizeof(out) };
	struct iov_iter it;
	u64 hdr, trailer;
	bool kick;

	KUNIT_ASSERT_EQ(test, 0, hv_ring_get_write_index(rbi, &wr));
	KUNIT_EXPECT_EQ(test, 100, ring_put(rbi, &wr, 0x5a, 100, &kick));
	KUNIT_EXPECT_TRUE(test, kick);	/* the host saw an empty ring */
	KUNIT_EXPECT_EQ(test, wr, rbi->ring_buffer->write_index);
	KUNIT_EXPECT_EQ(test, hv_ring_offset_add(rbi, 4000,
						 HV_RING_INBAND_LEN(8, 100)), wr);

	KUNIT_ASSERT_EQ(test, 0, hv_ring_readable(rbi, rd, rd, &avail));
	KUNIT_EXPECT_EQ(test, HV_RING_INBAND_LEN(8, 100), avail);
	KUNIT_ASSERT_EQ(test, 0, hv_ring_peek_pkt(rbi, rd, avail, &pkt));
	KUNIT_EXPECT_EQ(test, VM_PKT_DATA_INBAND, pkt.type);
	KUNIT_EXPECT_EQ(test, wr, pkt.next);
	KUNIT_EXPECT_EQ(test, 8u + 104u, pkt.data_len);	/* header + padded */
	hv_ring_copy_out(rbi, pkt.data, &hdr, sizeof(hdr));
	KUNIT_EXPECT_EQ(test, 0x1122334455667788ULL, hdr);

	iov_iter_kvec(&it, ITER_DEST, &kv, 1, sizeof(out));
	KUNIT_EXPECT_EQ(test, 100u,
			hv_ring_copy_to_iter(rbi, hv_ring_offset_add(rbi,
								     pkt.data, 8),
					     100, &it));
	KUNIT_EXPECT_TRUE(test, !memchr_inv(out, 0x5a, sizeof(out)));
	/* The trailer names the packet's start. */
	hv_ring_copy_out(rbi, hv_ring_offset_add(rbi, pkt.next, TEST_RING_SIZE -
						 VMBUS_PKT_TRAILER),
			 &trailer, sizeof(trailer));
	KUNIT_EXPECT_EQ(test, (u64)4000 << 32, trailer);

	KUNIT_EXPECT_FALSE(test, hv_ring_commit_read(rbi, rd, pkt.next));
	KUNIT_EXPECT_EQ(test, pkt.next, rbi->ring_buffer->read_index);
	KUNIT_EXPECT_FALSE(test, hv_ring_unread_after(rbi, pkt.next));
	KUNIT_EXPECT_EQ(test, TEST_RING_SIZE, hv_ring_free_bytes(rbi, wr));
}

/* A source that faults at once writes nothing. */
static void ring_iter_short_copy(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	struct iov_iter it;
	u32 wr = 0;

	iov_iter_kvec(&it, ITER_SOURCE, NULL, 0, 0);
	KUNIT_EXPECT_EQ(test, -EFAULT,
			hv_ring_write_payload(rbi, wr, TEST_HDR, &it, 64));
	KUNIT_EXPECT_EQ(test, 0u, rbi->ring_buffer->write_index);
}

/* Never fills the ring completely: full would read as empty. */
static void ring_iter_full(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	u32 wr = 0, len = TEST_RING_SIZE - HV_RING_INBAND_LEN(TEST_HDR, 0);
	bool kick;

	KUNIT_EXPECT_EQ(test, -EAGAIN, ring_put(rbi, &wr, 1, len, &kick));
	KUNIT_EXPECT_EQ(test, (int)len - 8, ring_put(rbi, &wr, 1, len - 8,
						     &kick));
	KUNIT_EXPECT_EQ(test, 8, hv_ring_free_bytes(rbi, wr));
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

/* Signal a waiting host once, when the free space crosses its mark. */
static void ring_iter_read_signal_rule(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	u32 wr = 0, first, rd = 0, avail;
	struct hv_ring_pkt pkt;
	bool kick;
	int i;

	for (i = 0; i < 4; i++)
		ring_put(rbi, &wr, 1, 800, &kick);
	first = HV_RING_INBAND_LEN(TEST_HDR, 800);
	/* Free now: 4096 - 4 * 832 = 768. The host waits for 1000. */
	rbi->ring_buffer->pending_send_sz = 1000;
	KUNIT_ASSERT_EQ(test, 0, hv_ring_readable(rbi, rd, rd, &avail));
	KUNIT_ASSERT_EQ(test, 0, hv_ring_peek_pkt(rbi, rd, avail, &pkt));
	KUNIT_EXPECT_EQ(test, first, pkt.next);
	KUNIT_EXPECT_TRUE(test, hv_ring_commit_read(rbi, rd, pkt.next));
	rd = pkt.next;
	/* Already above the mark before this read: no second signal. */
	KUNIT_ASSERT_EQ(test, 0, hv_ring_readable(rbi, rd, rd, &avail));
	KUNIT_ASSERT_EQ(test, 0, hv_ring_peek_pkt(rbi, rd, avail, &pkt));
	KUNIT_EXPECT_FALSE(test, hv_ring_commit_read(rbi, rd, pkt.next));
	KUNIT_EXPECT_TRUE(test, hv_ring_unread_after(rbi, pkt.next));
	/* No one waiting: no signal. */
	rd = pkt.next;
	rbi->ring_buffer->pending_send_sz = 0;
	KUNIT_ASSERT_EQ(test, 0, hv_ring_readable(rbi, rd, rd, &avail));
	KUNIT_ASSERT_EQ(test, 0, hv_ring_peek_pkt(rbi, rd, avail, &pkt));
	KUNIT_EXPECT_FALSE(test, hv_ring_commit_read(rbi, rd, pkt.next));
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
	{ "shorter than its offset", 2, 1, 64 },
	{ "length past the ring", 2, 0xffff, 0 },
};

static void bad_desc_name(const struct bad_desc_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bad_desc, bad_desc_cases, bad_desc_name);

/* Malformed descriptors from the host are refused, never followed. */
static void ring_iter_rejects_bad_desc(struct kunit *test)
{
	const struct bad_desc_case *c = test->param_value;
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	struct vmpacket_descriptor desc = {
		.type = VM_PKT_DATA_INBAND,
		.offset8 = c->offset8,
		.len8 = c->len8,
	};
	struct hv_ring_pkt pkt;
	u32 avail = c->avail;

	if (!avail)
		avail = min_t(u32, ((u32)c->len8 << 3) + VMBUS_PKT_TRAILER,
			      TEST_RING_SIZE - 8);
	memcpy(rbi->ring_buffer->buffer, &desc, sizeof(desc));
	KUNIT_EXPECT_EQ(test, -EBADMSG, hv_ring_peek_pkt(rbi, 0, avail, &pkt));
}

static void ring_iter_empty(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 64);
	struct hv_ring_pkt pkt;

	KUNIT_EXPECT_EQ(test, -EAGAIN, hv_ring_peek_pkt(rbi, 64, 0, &pkt));
}

/* Indices the host wrote out of range or misaligned are refused. */
static void ring_iter_rejects_bad_indices(struct kunit *test)
{
	struct hv_ring_buffer_info *rbi = ring_new(test, 0);
	u32 idx, avail;

	rbi->ring_buffer->write_index = 4;
	KUNIT_EXPECT_EQ(test, -EBADMSG, hv_ring_readable(rbi, 0, 0, &avail));
	KUNIT_EXPECT_EQ(test, -EBADMSG, hv_ring_get_write_index(rbi, &idx));
	rbi->ring_buffer->write_index = TEST_RING_SIZE;
	KUNIT_EXPECT_EQ(test, -EBADMSG, hv_ring_readable(rbi, 0, 0, &avail));
	rbi->ring_buffer->write_index = 0;
	rbi->ring_buffer->read_index = 5000;
	KUNIT_EXPECT_EQ(test, -EBADMSG, hv_ring_get_read_index(rbi, &idx));
	KUNIT_EXPECT_EQ(test, -EBADMSG, hv_ring_free_bytes(rbi, 0));
	KUNIT_EXPECT_EQ(test, -EBADMSG, hv_ring_get_write_index(rbi, &idx));
	/* A write index rewound behind what the reader already parsed. */
	rbi->ring_buffer->read_index = 0;
	rbi->ring_buffer->write_index = 8;
	KUNIT_EXPECT_EQ(test, -EBADMSG, hv_ring_readable(rbi, 0, 16, &avail));
}

static struct kunit_case ring_iter_cases[] = {
	KUNIT_CASE(ring_iter_offsets),
	KUNIT_CASE(ring_iter_roundtrip_wraps),
	KUNIT_CASE(ring_iter_short_copy),
	KUNIT_CASE(ring_iter_full),
	KUNIT_CASE(ring_iter_writer_kick_rule),
	KUNIT_CASE(ring_iter_read_signal_rule),
	KUNIT_CASE_PARAM(ring_iter_rejects_bad_desc, bad_desc_gen_params),
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
