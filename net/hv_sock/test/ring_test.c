// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for AF_HYPERV framing: packet length arithmetic, writing and
 * parsing packets on a ring in plain memory, wrap-around, flow-control
 * thresholds and the rejection of malformed host input.
 *
 * One ring plays both ends: hvsock_pkt_write() is the sender and moves the
 * write index, hvsock_rx_pull()/hvsock_rx_publish() the receiver and move
 * the read index, exactly as the two sides of a VMBus ring do.
 */

#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <net/af_hvsock.h>

struct ring_ctx {
	struct hv_ring_buffer_info rbi;
	struct hvsock_rx rx;
	u32 wr;
};

static struct ring_ctx *ring_new(struct kunit *test, u32 datasize, u32 start)
{
	struct ring_ctx *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->rbi.ring_buffer = kunit_kzalloc(test, sizeof(struct hv_ring_buffer) +
					   datasize, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r->rbi.ring_buffer);
	r->rbi.ring_datasize = datasize;
	r->rbi.ring_size = datasize + sizeof(struct hv_ring_buffer);
	r->rbi.ring_buffer->read_index = start;
	r->rbi.ring_buffer->write_index = start;
	/* As hv_ringbuffer_init(): we honour pending_send_sz. */
	r->rbi.ring_buffer->feature_bits.feat_pending_send_sz = 1;
	r->wr = start;
	KUNIT_ASSERT_EQ(test, 0, hvsock_rx_init(&r->rbi, &r->rx));
	return r;
}

static int ring_send(struct ring_ctx *r, const void *buf, u32 len)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter it;
	bool kick;

	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, len);
	return hvsock_pkt_write(&r->rbi, &r->wr, &it, len, &kick);
}

static int ring_recv(struct ring_ctx *r, void *buf, u32 len, bool *fin)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter it;
	int n;

	iov_iter_kvec(&it, ITER_DEST, &kv, 1, len);
	n = hvsock_rx_pull(&r->rbi, &r->rx, &it, len, 0, fin);
	hvsock_rx_publish(&r->rbi, &r->rx);
	return n;
}

/* Raw bytes at the write index, as a misbehaving host would put them. */
static void ring_put_raw(struct ring_ctx *r, const void *buf, u32 len)
{
	u8 *base = r->rbi.ring_buffer->buffer;
	u32 i;

	for (i = 0; i < len; i++)
		base[(r->wr + i) % r->rbi.ring_datasize] = ((const u8 *)buf)[i];
	r->wr = (r->wr + len) % r->rbi.ring_datasize;
	r->rbi.ring_buffer->write_index = r->wr;
}

struct raw_pkt {
	struct vmpacket_descriptor desc;
	struct hvsock_pipe_hdr hdr;
	u8 data[16];
	u64 trailer;
} __packed;

static void raw_pkt_init(struct raw_pkt *p, u32 n)
{
	memset(p, 0, sizeof(*p));
	p->desc.type = VM_PKT_DATA_INBAND;
	p->desc.offset8 = 2;
	p->desc.len8 = (HVSOCK_HDR_LEN + ALIGN(n, 8)) >> 3;
	p->hdr.pkt_type = HVSOCK_PIPE_DATA;
	p->hdr.data_size = n;
}

static void framing_lengths(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 24, (int)HVSOCK_HDR_LEN);
	KUNIT_EXPECT_EQ(test, 32, (int)HVSOCK_PKT_LEN(0));
	KUNIT_EXPECT_EQ(test, 40, (int)HVSOCK_PKT_LEN(1));
	KUNIT_EXPECT_EQ(test, 40, (int)HVSOCK_PKT_LEN(8));
	KUNIT_EXPECT_EQ(test, 48, (int)HVSOCK_PKT_LEN(9));
	KUNIT_EXPECT_EQ(test, 16384 + 32, (int)HVSOCK_PKT_LEN(HVSOCK_MTU));
}

/*
 * Ring sizes: the default, and only it, before VMBus 5.0; from 5.0 on the
 * socket's buffer size in whole pages within the limits, with the header
 * page added below 8 pages only, as VMBUS_RING_SIZE() does.
 */
static void framing_ring_sizes(struct kunit *test)
{
	static const struct {
		u32 version;
		int buf;
		u32 pages;	/* header page included */
	} c[] = {
		{ VERSION_WIN10, 1 << 20, 6 },
		{ VERSION_WIN10, 4096, 6 },
		{ VERSION_WIN10_V4_1, INT_MAX, 6 },
		{ VERSION_WIN10_V5, 0, 6 },
		{ VERSION_WIN10_V5, -1, 6 },
		{ VERSION_WIN10_V5, 4608, 6 },
		{ VERSION_WIN10_V5, 5 * 4096, 6 },
		{ VERSION_WIN10_V5, 5 * 4096 + 1, 7 },
		{ VERSION_WIN10_V5_1, 7 * 4096, 8 },
		{ VERSION_WIN10_V5_1, 7 * 4096 + 1, 8 },
		{ VERSION_WIN10_V5_1, 8 * 4096 - 1, 8 },
		{ VERSION_WIN10_V5_1, 8 * 4096, 8 },
		{ VERSION_WIN10_V5_1, 8 * 4096 + 1, 9 },
		{ VERSION_WIN10_V5_2, 131072, 32 },
		{ VERSION_WIN10_V5_3, 64 * 4096 - 1, 64 },
		{ VERSION_WIN10_V5_3, 64 * 4096, 64 },
		{ VERSION_WIN10_V5_3, 64 * 4096 + 1, 64 },
		{ VERSION_WIN10_V5_3, INT_MAX, 64 },
		{ VERSION_WIN10_V5_3, INT_MIN, 6 },
	};
	int i;

	if (PAGE_SIZE != HV_HYP_PAGE_SIZE)
		kunit_skip(test, "the cases assume 4 KiB pages");
	for (i = 0; i < ARRAY_SIZE(c); i++)
		KUNIT_EXPECT_EQ_MSG(test, c[i].pages * 4096,
				    hvsock_ring_size(c[i].version, c[i].buf),
				    "version %#x buf %d", c[i].version,
				    c[i].buf);
}

/* The host's signal at pending_send_sz matches "HVSOCK_TX_MIN fits". */
static void framing_pending_threshold(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, HVSOCK_RING_DATA_SIZE, 0);
	u32 used, size = HVSOCK_RING_DATA_SIZE;

	for (used = 0; used < size; used += 8) {
		int room, free;

		r->rbi.ring_buffer->read_index = 0;
		r->wr = used;
		free = hv_ringbuffer_free_bytes(&r->rbi, r->wr);
		room = hvsock_tx_room(&r->rbi, r->wr, HVSOCK_MTU);
		KUNIT_EXPECT_EQ(test, (int)(size - used), free);
		KUNIT_EXPECT_EQ(test, free > HVSOCK_TX_PENDING,
				room >= HVSOCK_TX_MIN);
		/* Whatever room says fits, and leaves room for the FIN. */
		if (room > 0)
			KUNIT_EXPECT_GT(test, free - (int)HVSOCK_PKT_LEN(room),
					(int)HVSOCK_PKT_LEN(0));
	}
}

static void framing_roundtrip(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	char buf[32] = {};
	bool fin;

	KUNIT_EXPECT_EQ(test, 5, ring_send(r, "hello", 5));
	KUNIT_EXPECT_EQ(test, 6, ring_send(r, " world", 6));
	KUNIT_EXPECT_EQ(test, 0, ring_send(r, NULL, 0));
	KUNIT_EXPECT_EQ(test, 11, hvsock_tx_queued(&r->rbi, r->wr));

	KUNIT_EXPECT_EQ(test, 11, ring_recv(r, buf, sizeof(buf), &fin));
	KUNIT_EXPECT_TRUE(test, fin);
	KUNIT_EXPECT_STREQ(test, "hello world", buf);
	/* Everything consumed, FIN included, and handed back. */
	KUNIT_EXPECT_EQ(test, r->wr, r->rbi.ring_buffer->read_index);
	KUNIT_EXPECT_EQ(test, 0, hvsock_tx_queued(&r->rbi, r->wr));
}

static void framing_partial_reads(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	u32 start = r->rbi.ring_buffer->read_index;
	char buf[8];
	bool fin;

	KUNIT_EXPECT_EQ(test, 10, ring_send(r, "0123456789", 10));
	KUNIT_EXPECT_EQ(test, 4, ring_recv(r, buf, 4, &fin));
	KUNIT_EXPECT_MEMEQ(test, buf, "0123", 4);
	/* A partly read packet stays on the ring. */
	KUNIT_EXPECT_EQ(test, start, r->rbi.ring_buffer->read_index);
	KUNIT_EXPECT_EQ(test, 4, ring_recv(r, buf, 4, &fin));
	KUNIT_EXPECT_MEMEQ(test, buf, "4567", 4);
	KUNIT_EXPECT_EQ(test, 2, ring_recv(r, buf, 8, &fin));
	KUNIT_EXPECT_MEMEQ(test, buf, "89", 2);
	KUNIT_EXPECT_FALSE(test, fin);
	KUNIT_EXPECT_EQ(test, r->wr, r->rbi.ring_buffer->read_index);
	KUNIT_EXPECT_EQ(test, 0, ring_recv(r, buf, 8, &fin));
	KUNIT_EXPECT_FALSE(test, fin);
}

/* MSG_TRUNC: a NULL destination discards payload, packets stay whole. */
static void framing_discard(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	char buf[8];
	bool fin;

	KUNIT_EXPECT_EQ(test, 10, ring_send(r, "0123456789", 10));
	KUNIT_EXPECT_EQ(test, 3, ring_send(r, "abc", 3));
	KUNIT_EXPECT_EQ(test, 12, hvsock_rx_pull(&r->rbi, &r->rx, NULL, 12, 0,
						 &fin));
	hvsock_rx_publish(&r->rbi, &r->rx);
	KUNIT_EXPECT_EQ(test, 1, ring_recv(r, buf, 8, &fin));
	KUNIT_EXPECT_MEMEQ(test, buf, "c", 1);
	KUNIT_EXPECT_EQ(test, r->wr, r->rbi.ring_buffer->read_index);
}

/*
 * What a reader leaves behind: a partly read packet, or packets the host
 * wrote while the ring still held unpublished ones (no signal for those).
 */
static void framing_rx_pending(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	char buf[8];
	bool fin;

	KUNIT_EXPECT_FALSE(test, hvsock_rx_pending(&r->rbi, &r->rx));
	KUNIT_EXPECT_EQ(test, 6, ring_send(r, "012345", 6));
	KUNIT_EXPECT_TRUE(test, hvsock_rx_pending(&r->rbi, &r->rx));
	KUNIT_EXPECT_EQ(test, 2, ring_recv(r, buf, 2, &fin));
	KUNIT_EXPECT_TRUE(test, hvsock_rx_pending(&r->rbi, &r->rx));
	KUNIT_EXPECT_EQ(test, 4, ring_recv(r, buf, 8, &fin));
	KUNIT_EXPECT_FALSE(test, hvsock_rx_pending(&r->rbi, &r->rx));

	/* Consumed, not yet published, when the host adds a packet. */
	KUNIT_EXPECT_EQ(test, 2, ring_send(r, "ab", 2));
	KUNIT_EXPECT_EQ(test, 2, hvsock_rx_pull(&r->rbi, &r->rx, NULL, 8, 0,
						&fin));
	KUNIT_EXPECT_EQ(test, 2, ring_send(r, "cd", 2));
	hvsock_rx_publish(&r->rbi, &r->rx);
	KUNIT_EXPECT_TRUE(test, hvsock_rx_pending(&r->rbi, &r->rx));
}

static void framing_peek_skip(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	struct hvsock_rx peek;
	struct kvec kv;
	struct iov_iter it;
	char buf[8] = {};
	bool fin;

	ring_send(r, "abc", 3);
	ring_send(r, "defg", 4);
	peek = r->rx;
	kv.iov_base = buf;
	kv.iov_len = 4;
	iov_iter_kvec(&it, ITER_DEST, &kv, 1, 4);
	KUNIT_EXPECT_EQ(test, 4, hvsock_rx_pull(&r->rbi, &peek, &it, 4, 2,
						&fin));
	KUNIT_EXPECT_MEMEQ(test, buf, "cdef", 4);
	/* The real cursor did not move. */
	KUNIT_EXPECT_EQ(test, 7, ring_recv(r, buf, 8, &fin));
	KUNIT_EXPECT_MEMEQ(test, buf, "abcdefg", 7);
}

static void framing_wraparound(struct kunit *test)
{
	u8 out[300], in[300];
	struct ring_ctx *r;
	u32 start, i;
	bool fin;

	for (i = 0; i < sizeof(out); i++)
		out[i] = i * 7;
	/* Every 8-byte aligned start near the end: headers and data wrap. */
	for (start = 4096 - 320; start < 4096; start += 8) {
		r = ring_new(test, 4096, start);
		memset(in, 0, sizeof(in));
		KUNIT_ASSERT_EQ(test, 300, ring_send(r, out, 300));
		KUNIT_EXPECT_EQ(test, 300, hvsock_tx_queued(&r->rbi, r->wr));
		KUNIT_ASSERT_EQ(test, 300, ring_recv(r, in, sizeof(in), &fin));
		KUNIT_EXPECT_MEMEQ(test, in, out, sizeof(out));
		KUNIT_EXPECT_EQ(test, r->wr, r->rbi.ring_buffer->read_index);
	}
}

static void framing_fill_keeps_fin_room(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, HVSOCK_RING_DATA_SIZE, 0);
	static u8 chunk[HVSOCK_MTU];
	int room, sent = 0;

	while ((room = hvsock_tx_room(&r->rbi, r->wr, HVSOCK_MTU)) > 0) {
		KUNIT_ASSERT_EQ(test, room, ring_send(r, chunk, room));
		sent += room;
	}
	KUNIT_EXPECT_EQ(test, 0, room);
	KUNIT_EXPECT_EQ(test, sent, hvsock_tx_queued(&r->rbi, r->wr));
	KUNIT_EXPECT_EQ(test, 0, ring_send(r, NULL, 0));
	KUNIT_EXPECT_EQ(test, -EAGAIN, ring_send(r, chunk, 8));
}

static void framing_publish_signals_on_crossing(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	static u8 chunk[1024];
	struct kvec kv = { .iov_base = chunk, .iov_len = sizeof(chunk) };
	struct iov_iter it;
	bool fin;

	/* Three 1 KiB packets: 3168 bytes used, 928 free. */
	ring_send(r, chunk, 1024);
	ring_send(r, chunk, 1024);
	ring_send(r, chunk, 1024);
	r->rbi.ring_buffer->pending_send_sz = 2000;

	/* Reading one packet frees 1056: 1984 free, still not enough. */
	iov_iter_kvec(&it, ITER_DEST, &kv, 1, 1024);
	KUNIT_EXPECT_EQ(test, 1024, hvsock_rx_pull(&r->rbi, &r->rx, &it, 1024,
						   0, &fin));
	KUNIT_EXPECT_FALSE(test, hvsock_rx_publish(&r->rbi, &r->rx));
	/* The second crosses 2000: signal. */
	iov_iter_kvec(&it, ITER_DEST, &kv, 1, 1024);
	hvsock_rx_pull(&r->rbi, &r->rx, &it, 1024, 0, &fin);
	KUNIT_EXPECT_TRUE(test, hvsock_rx_publish(&r->rbi, &r->rx));
	/* The third does not cross again. */
	iov_iter_kvec(&it, ITER_DEST, &kv, 1, 1024);
	hvsock_rx_pull(&r->rbi, &r->rx, &it, 1024, 0, &fin);
	KUNIT_EXPECT_FALSE(test, hvsock_rx_publish(&r->rbi, &r->rx));
}

static void framing_writer_kicks_only_empty_ring(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	struct kvec kv = { .iov_base = "x", .iov_len = 1 };
	struct iov_iter it;
	bool kick;

	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, 1);
	hvsock_pkt_write(&r->rbi, &r->wr, &it, 1, &kick);
	KUNIT_EXPECT_TRUE(test, kick);
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, 1);
	hvsock_pkt_write(&r->rbi, &r->wr, &it, 1, &kick);
	KUNIT_EXPECT_FALSE(test, kick);
	/* A host that is reading masks interrupts. */
	r->rbi.ring_buffer->read_index = r->wr;
	r->rbi.ring_buffer->interrupt_mask = 1;
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, 1);
	hvsock_pkt_write(&r->rbi, &r->wr, &it, 1, &kick);
	KUNIT_EXPECT_FALSE(test, kick);
}

static void framing_scan(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	char buf[4];
	u32 bytes;
	bool fin;

	KUNIT_EXPECT_EQ(test, 0, hvsock_rx_scan(&r->rbi, &r->rx, &bytes, &fin));
	KUNIT_EXPECT_EQ(test, 0u, bytes);
	KUNIT_EXPECT_FALSE(test, fin);
	ring_send(r, "12345", 5);
	ring_send(r, "678", 3);
	KUNIT_EXPECT_EQ(test, 0, hvsock_rx_scan(&r->rbi, &r->rx, &bytes, &fin));
	KUNIT_EXPECT_EQ(test, 8u, bytes);
	KUNIT_EXPECT_FALSE(test, fin);
	ring_recv(r, buf, 2, &fin);
	ring_send(r, NULL, 0);
	KUNIT_EXPECT_EQ(test, 0, hvsock_rx_scan(&r->rbi, &r->rx, &bytes, &fin));
	KUNIT_EXPECT_EQ(test, 6u, bytes);
	KUNIT_EXPECT_TRUE(test, fin);
}

static int bad_one(struct kunit *test, const struct raw_pkt *p, u32 len)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	char buf[64];
	u32 bytes;
	bool fin;

	ring_put_raw(r, p, len);
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			hvsock_rx_scan(&r->rbi, &r->rx, &bytes, &fin));
	return ring_recv(r, buf, sizeof(buf), &fin);
}

/*
 * One field of a valid 16-byte packet made wrong, or the packet cut short.
 * A zero field keeps the value raw_pkt_init() gives it.
 */
struct malformed_pkt {
	const char *name;
	u16 type;
	u16 offset8;
	u16 len8;
	u32 pkt_type;
	u32 data_size;
	u32 put_len;		/* ring bytes published; 0: the whole packet */
};

static const struct malformed_pkt malformed_pkts[] = {
	{ .name = "gpa_direct", .type = VM_PKT_DATA_USING_GPA_DIRECT },
	/* the pipe header inside the descriptor */
	{ .name = "offset_in_descriptor", .offset8 = 1 },
	{ .name = "offset_past_packet", .offset8 = 5 },
	/* longer than what was published */
	{ .name = "len_past_published", .len8 = 200 },
	{ .name = "len_no_pipe_header", .len8 = 2 },
	/* more than the packet holds */
	{ .name = "data_size_17", .data_size = 17 },
	{ .name = "data_size_max", .data_size = 0xffffffff },
	{ .name = "pipe_type_2", .pkt_type = 2 },
	{ .name = "shorter_than_any_packet", .put_len = 24 },
};

static void malformed_pkt_desc(const struct malformed_pkt *m, char *desc)
{
	strscpy(desc, m->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(malformed_pkt, malformed_pkts, malformed_pkt_desc);

static void framing_rejects_malformed(struct kunit *test)
{
	const struct malformed_pkt *m = test->param_value;
	struct raw_pkt p;

	raw_pkt_init(&p, 16);
	if (m->type)
		p.desc.type = m->type;
	if (m->offset8)
		p.desc.offset8 = m->offset8;
	if (m->len8)
		p.desc.len8 = m->len8;
	if (m->pkt_type)
		p.hdr.pkt_type = m->pkt_type;
	if (m->data_size)
		p.hdr.data_size = m->data_size;
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			bad_one(test, &p, m->put_len ?: sizeof(p)));
}

static void framing_rejects_oversize(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 8 * 4096, 0);
	static u8 big[HVSOCK_MTU + 8 + VMBUS_PKT_TRAILER];
	struct hvsock_pkt pkt;
	struct raw_pkt p;

	raw_pkt_init(&p, HVSOCK_MTU + 8);
	ring_put_raw(r, &p, HVSOCK_HDR_LEN);
	ring_put_raw(r, big, HVSOCK_MTU + 8 + VMBUS_PKT_TRAILER);
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			hvsock_pkt_parse(&r->rbi, 0, r->wr, &pkt));
}

static void framing_rejects_bad_indices(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	u32 avail;

	r->rbi.ring_buffer->write_index = 4;	/* unaligned */
	KUNIT_EXPECT_EQ(test, -EBADMSG, hvsock_rx_avail(&r->rbi, &r->rx, &avail));
	r->rbi.ring_buffer->write_index = 4096;	/* out of the ring */
	KUNIT_EXPECT_EQ(test, -EBADMSG, hvsock_rx_avail(&r->rbi, &r->rx, &avail));
	r->rbi.ring_buffer->read_index = 5000;
	KUNIT_EXPECT_EQ(test, -EBADMSG, hv_ringbuffer_free_bytes(&r->rbi, 0));
	KUNIT_EXPECT_EQ(test, -EBADMSG, hvsock_tx_room(&r->rbi, 0, HVSOCK_MTU));
	KUNIT_EXPECT_EQ(test, -EBADMSG, ring_send(r, "x", 1));
}

/* A host moving its write index back behind packets it published. */
static void framing_rejects_index_rewind(struct kunit *test)
{
	struct ring_ctx *r = ring_new(test, 4096, 0);
	char buf[4];
	u32 avail;
	bool fin;

	ring_send(r, "ab", 2);
	ring_send(r, "cd", 2);
	KUNIT_EXPECT_EQ(test, 1, ring_recv(r, buf, 1, &fin));
	/* Packet 1 (40 bytes) was parsed; now claim only 8 bytes exist. */
	r->rbi.ring_buffer->write_index = 8;
	KUNIT_EXPECT_EQ(test, -EBADMSG, hvsock_rx_avail(&r->rbi, &r->rx, &avail));
	/* What was validated before is still delivered. */
	KUNIT_EXPECT_EQ(test, 1, ring_recv(r, buf, 4, &fin));
	KUNIT_EXPECT_EQ(test, 'b', buf[0]);
}

static struct kunit_case hvsock_framing_cases[] = {
	KUNIT_CASE(framing_lengths),
	KUNIT_CASE(framing_ring_sizes),
	KUNIT_CASE(framing_pending_threshold),
	KUNIT_CASE(framing_roundtrip),
	KUNIT_CASE(framing_partial_reads),
	KUNIT_CASE(framing_discard),
	KUNIT_CASE(framing_rx_pending),
	KUNIT_CASE(framing_peek_skip),
	KUNIT_CASE(framing_wraparound),
	KUNIT_CASE(framing_fill_keeps_fin_room),
	KUNIT_CASE(framing_publish_signals_on_crossing),
	KUNIT_CASE(framing_writer_kicks_only_empty_ring),
	KUNIT_CASE(framing_scan),
	KUNIT_CASE_PARAM(framing_rejects_malformed, malformed_pkt_gen_params),
	KUNIT_CASE(framing_rejects_oversize),
	KUNIT_CASE(framing_rejects_bad_indices),
	KUNIT_CASE(framing_rejects_index_rewind),
	{}
};

static struct kunit_suite hvsock_framing_suite = {
	.name = "hv_sock_framing",
	.test_cases = hvsock_framing_cases,
};

kunit_test_suite(hvsock_framing_suite);
