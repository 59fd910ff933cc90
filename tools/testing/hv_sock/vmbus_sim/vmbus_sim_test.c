// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite for the simulated Hyper-V host. A small hvsock driver in
 * this module plays the guest through the real VMBus client API (and so
 * through drivers/hv/ring_buffer.c); the host is driven with
 * hvsim_host.h. Checked: the ring format both ways including
 * wrap-around, the signalling rules (interrupt_mask, pending_send_sz),
 * both personalities' ring-size checks, offers, rescinds and faults.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/hyperv.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "hvsim_host.h"

#define KT_RING		(6 * HV_HYP_PAGE_SIZE)	/* what ws2016 accepts */
#define KT_WAIT		(5 * HZ)
#define KT_PKT_LEN(n)	(sizeof(struct vmpacket_descriptor) + 8 + \
			 ALIGN((n), 8) + 8)

struct kt_pipe_hdr {
	u32 pkt_type;
	u32 data_size;
};

/* State of the test driver: one channel at a time. */
static struct {
	struct completion probed;
	struct completion removed;
	struct completion rescinded;
	struct completion callback;
	struct vmbus_channel *chan;
	guid_t want;		/* the guest side's GUID of the awaited offer */
	atomic_t callbacks;
	bool rescind_seen;
	struct hvsim_config saved;
} kt;

static int kt_probe(struct hv_device *hdev,
		    const struct hv_vmbus_device_id *id)
{
	const struct vmbus_channel_offer *o = &hdev->channel->offermsg.offer;

	/* As every hvsock driver: decline offers nobody here waits for. */
	if (!guid_equal(o->u.pipe.user_def[0] ? &o->if_type : &o->if_instance,
			&kt.want))
		return -ENODEV;
	kt.chan = hdev->channel;
	complete(&kt.probed);
	return 0;
}

static void kt_remove(struct hv_device *hdev)
{
	vmbus_close(hdev->channel);
	complete(&kt.removed);
}

static const struct hv_vmbus_device_id kt_ids[] = {
	{},
};

static struct hv_driver kt_driver = {
	.name = "vmbus_sim_test",
	.hvsock = true,
	.id_table = kt_ids,
	.probe = kt_probe,
	.remove = kt_remove,
};

static void kt_callback(void *context)
{
	atomic_inc(&kt.callbacks);
	complete(&kt.callback);
}

static void kt_rescind_cb(struct vmbus_channel *chan)
{
	kt.rescind_seen = READ_ONCE(chan->rescind);
	complete(&kt.rescinded);
}

static void kt_reset(void)
{
	reinit_completion(&kt.probed);
	reinit_completion(&kt.removed);
	reinit_completion(&kt.rescinded);
	reinit_completion(&kt.callback);
	atomic_set(&kt.callbacks, 0);
	kt.chan = NULL;
	kt.rescind_seen = false;
}

static void kt_set_config(struct kunit *test, u32 personality, u32 delay_ms,
			  u32 ignore, u32 fail)
{
	struct hvsim_config cfg = kt.saved;

	cfg.personality = personality;
	cfg.offer_delay_ms = delay_ms;
	cfg.ignore_connects = ignore;
	cfg.fail_opens = fail;
	KUNIT_ASSERT_EQ(test, hvsim_host_set_config(&cfg), 0);
}

/* The host offers a channel to this module's driver; wait for the probe. */
static struct vmbus_channel *kt_offer(struct kunit *test, u32 timeout_ms,
				      struct hvsim_conn **cp)
{
	guid_t svc, ep = {};
	int ret;

	kt_reset();
	guid_gen(&svc);
	kt.want = svc;
	ret = hvsim_host_connect(&svc, &ep, timeout_ms, HVSIM_CONNECT_NOWAIT,
				 cp);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&kt.probed, KT_WAIT),
			0);
	return kt.chan;
}

static int kt_open(struct vmbus_channel *chan, u32 send, u32 recv)
{
	set_channel_read_mode(chan, HV_CALL_DIRECT);
	chan->max_pkt_size = KT_PKT_LEN(HVSIM_MTU_MAX);
	return vmbus_open(chan, send, recv, NULL, 0, kt_callback, NULL);
}

/* Offer and open with ws2016 rings; the host sees the connection open. */
static struct vmbus_channel *kt_connect(struct kunit *test,
					struct hvsim_conn **cp)
{
	struct vmbus_channel *chan = kt_offer(test, 0, cp);

	KUNIT_ASSERT_EQ(test, kt_open(chan, KT_RING, KT_RING), 0);
	KUNIT_ASSERT_EQ(test, hvsim_host_wait_open(*cp), 0);
	return chan;
}

/* The host closes: rescind, device unregistered, vmbus_close(). */
static void kt_close(struct kunit *test, struct hvsim_conn *c)
{
	hvsim_host_close(c);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&kt.removed, KT_WAIT),
			0);
}

static noinline struct hvsim_conn_info kt_info(struct hvsim_conn *c)
{
	struct hvsim_conn_info info;

	hvsim_host_conn_info(c, &info);
	return info;
}

static noinline u64 kt_sig_to_guest(struct hvsim_conn *c)
{
	return kt_info(c).signals_to_guest;
}

static noinline u64 kt_sig_from_guest(struct hvsim_conn *c)
{
	return kt_info(c).signals_from_guest;
}

/* Host: send one byte; the guest must have had @signals interrupts. */
static noinline void kt_host_byte(struct kunit *test, struct hvsim_conn *c,
				  u64 signals)
{
	u8 b = 0x5a;

	KUNIT_ASSERT_EQ(test, hvsim_host_send(c, &b, 1, true), 1);
	KUNIT_EXPECT_EQ(test, kt_sig_to_guest(c), signals);
}

static void kt_fill(u8 *buf, u32 len, u32 seed)
{
	u32 i;

	for (i = 0; i < len; i++)
		buf[i] = seed * 31 + i;
}

/* Guest: send one hvsock packet as hyperv_transport does. */
static int kt_guest_send(struct vmbus_channel *chan, const u8 *data, u32 len)
{
	struct kt_pipe_hdr *hdr;
	u8 *pkt;
	int ret;

	pkt = kmalloc(sizeof(*hdr) + len + 1, GFP_KERNEL);
	if (!pkt)
		return -ENOMEM;
	hdr = (struct kt_pipe_hdr *)pkt;
	hdr->pkt_type = 1;
	hdr->data_size = len;
	memcpy(pkt + sizeof(*hdr), data, len);
	ret = vmbus_sendpacket(chan, pkt, sizeof(*hdr) + len, 0,
			       VM_PKT_DATA_INBAND, 0);
	kfree(pkt);
	return ret;
}

/* Guest: check the next inbound packet, consume it, close the iterator. */
static void kt_guest_expect(struct kunit *test, struct vmbus_channel *chan,
			    const u8 *data, u32 len)
{
	const struct vmpacket_descriptor *desc = hv_pkt_iter_first(chan);
	const struct kt_pipe_hdr *hdr;

	KUNIT_ASSERT_NOT_NULL(test, desc);
	KUNIT_EXPECT_EQ(test, desc->type, VM_PKT_DATA_INBAND);
	KUNIT_EXPECT_EQ(test, desc->offset8, 2);
	KUNIT_EXPECT_EQ(test, hv_pkt_len(desc), sizeof(*desc) + 8 + ALIGN(len, 8));
	hdr = hv_pkt_data(desc);
	KUNIT_EXPECT_EQ(test, hdr->pkt_type, 1);
	KUNIT_EXPECT_EQ(test, hdr->data_size, len);
	KUNIT_EXPECT_MEMEQ(test, (const u8 *)(hdr + 1), data, len);
	__hv_pkt_iter_next(chan, desc);
	hv_pkt_iter_close(chan);
}

static const u32 kt_sizes[] = { 1, 7, 8, 100, 4000, 16384, 9, 12345 };

static void kt_ring_guest_to_host(struct kunit *test)
{
	u8 *out = kunit_kzalloc(test, 16384, GFP_KERNEL);
	u8 *in = kunit_kzalloc(test, 16384, GFP_KERNEL);
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	u32 i, len, prev = 0, wraps = 0, idx;

	KUNIT_ASSERT_NOT_NULL(test, out);
	KUNIT_ASSERT_NOT_NULL(test, in);
	chan = kt_connect(test, &c);

	for (i = 0; wraps < 3 && i < 200; i++) {
		len = kt_sizes[i % ARRAY_SIZE(kt_sizes)];
		kt_fill(out, len, i);
		KUNIT_ASSERT_EQ(test, kt_guest_send(chan, out, len), 0);
		idx = READ_ONCE(chan->outbound.ring_buffer->write_index);
		wraps += idx < prev;
		prev = idx;
		KUNIT_ASSERT_EQ(test, hvsim_host_recv(c, in, 16384, true), len);
		KUNIT_EXPECT_MEMEQ(test, in, out, len);
	}
	KUNIT_EXPECT_GE(test, wraps, 3);

	/* The zero-length packet is the FIN: end of stream for the host. */
	KUNIT_ASSERT_EQ(test, kt_guest_send(chan, out, 0), 0);
	KUNIT_EXPECT_EQ(test, hvsim_host_recv(c, in, 16, true), 0);
	KUNIT_EXPECT_TRUE(test, kt_info(c).flags & HVSIM_INFO_FIN_RECEIVED);
	KUNIT_EXPECT_EQ(test, kt_info(c).proto_errors, 0);
	kt_close(test, c);
}

static void kt_ring_host_to_guest(struct kunit *test)
{
	u8 *out = kunit_kzalloc(test, 16384, GFP_KERNEL);
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	u32 i, len, prev = 0, wraps = 0, idx;

	KUNIT_ASSERT_NOT_NULL(test, out);
	chan = kt_connect(test, &c);

	for (i = 0; wraps < 3 && i < 200; i++) {
		len = kt_sizes[i % ARRAY_SIZE(kt_sizes)];
		kt_fill(out, len, i);
		KUNIT_ASSERT_EQ(test, hvsim_host_send(c, out, len, true), len);
		idx = READ_ONCE(chan->inbound.ring_buffer->write_index);
		wraps += idx < prev;
		prev = idx;
		kt_guest_expect(test, chan, out, len);
	}
	KUNIT_EXPECT_GE(test, wraps, 3);

	KUNIT_ASSERT_EQ(test, hvsim_host_shutdown(c, true), 0);
	kt_guest_expect(test, chan, out, 0);
	KUNIT_EXPECT_EQ(test, hvsim_host_send(c, out, 1, true), -EPIPE);
	kt_close(test, c);
}

/* A host write larger than the MTU is cut into MTU-sized packets. */
static void kt_ring_mtu(struct kunit *test)
{
	u8 *out = kunit_kzalloc(test, 3000, GFP_KERNEL);
	struct hvsim_config cfg = kt.saved;
	struct vmbus_channel *chan;
	struct hvsim_conn *c;

	KUNIT_ASSERT_NOT_NULL(test, out);
	cfg.mtu = 1000;
	KUNIT_ASSERT_EQ(test, hvsim_host_set_config(&cfg), 0);
	chan = kt_connect(test, &c);
	kt_fill(out, 3000, 5);
	KUNIT_EXPECT_EQ(test, hvsim_host_send(c, out, 2500, true), 2500);
	kt_guest_expect(test, chan, out, 1000);
	kt_guest_expect(test, chan, out + 1000, 1000);
	kt_guest_expect(test, chan, out + 2000, 500);
	KUNIT_EXPECT_EQ(test, kt_info(c).pkts_to_guest, 3);
	kt_close(test, c);
	KUNIT_EXPECT_EQ(test, hvsim_host_set_config(&kt.saved), 0);
}

static void kt_drain_guest(struct vmbus_channel *chan)
{
	const struct vmpacket_descriptor *desc;

	foreach_vmbus_pkt(desc, chan)
		;
}

static void kt_signal_host_to_guest(struct kunit *test)
{
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	u64 base;

	chan = kt_connect(test, &c);
	base = kt_sig_to_guest(c);

	/* Empty -> non-empty: one interrupt, the callback runs. */
	kt_host_byte(test, c, base + 1);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&kt.callback,
							  KT_WAIT), 0);
	/* Not empty: no interrupt. */
	kt_host_byte(test, c, base + 1);
	kt_drain_guest(chan);
	kt_host_byte(test, c, base + 2);

	/* The guest masked interrupts: none even on empty -> non-empty. */
	kt_drain_guest(chan);
	WRITE_ONCE(chan->inbound.ring_buffer->interrupt_mask, 1);
	kt_host_byte(test, c, base + 2);

	kt_drain_guest(chan);
	WRITE_ONCE(chan->inbound.ring_buffer->interrupt_mask, 0);
	kt_host_byte(test, c, base + 3);
	kt_close(test, c);
}

static void kt_signal_guest_to_host(struct kunit *test)
{
	struct hv_ring_buffer *ring;
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	u8 buf[64] = { 1 };
	u64 base;

	chan = kt_connect(test, &c);
	ring = chan->outbound.ring_buffer;
	base = kt_sig_from_guest(c);

	/* Empty ring, host not masked: the guest signals once. */
	KUNIT_ASSERT_EQ(test, kt_guest_send(chan, buf, 8), 0);
	KUNIT_EXPECT_EQ(test, kt_sig_from_guest(c), base + 1);
	KUNIT_ASSERT_EQ(test, kt_guest_send(chan, buf, 8), 0);
	KUNIT_EXPECT_EQ(test, kt_sig_from_guest(c), base + 1);

	/* The host drains, finds the ring empty and unmasks. */
	KUNIT_EXPECT_EQ(test, hvsim_host_recv(c, buf, sizeof(buf), true), 16);
	KUNIT_EXPECT_EQ(test, READ_ONCE(ring->interrupt_mask), 0);
	KUNIT_ASSERT_EQ(test, kt_guest_send(chan, buf, 8), 0);
	KUNIT_EXPECT_EQ(test, kt_sig_from_guest(c), base + 2);

	/*
	 * A read that fills its buffer exactly stops without looking for
	 * more: the host is still "draining" (masked) with an empty ring,
	 * and the guest does not signal.
	 */
	KUNIT_EXPECT_EQ(test, hvsim_host_recv(c, buf, 8, true), 8);
	KUNIT_EXPECT_EQ(test, READ_ONCE(ring->interrupt_mask), 1);
	KUNIT_ASSERT_EQ(test, kt_guest_send(chan, buf, 8), 0);
	KUNIT_EXPECT_EQ(test, kt_sig_from_guest(c), base + 2);
	KUNIT_EXPECT_EQ(test, hvsim_host_recv(c, buf, sizeof(buf), true), 8);
	KUNIT_EXPECT_EQ(test, hvsim_host_recv(c, buf, sizeof(buf), true),
			-EAGAIN);
	kt_close(test, c);
}

/* Guest writer blocked on a full ring: the host signals at the crossing. */
static void kt_pending_guest_writer(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, 1000, GFP_KERNEL);
	u32 pending = KT_PKT_LEN(4000), free_before, free_after;
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	int n = 0, crossings = 0;
	u64 base;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	chan = kt_connect(test, &c);
	while (kt_guest_send(chan, buf, 1000) == 0)
		n++;
	KUNIT_ASSERT_GT(test, n, 5);

	/* Without pending_send_sz the host never signals a writer. */
	base = kt_sig_to_guest(c);
	KUNIT_EXPECT_EQ(test, hvsim_host_recv(c, buf, 1000, true), 1000);
	KUNIT_EXPECT_EQ(test, kt_sig_to_guest(c), base);

	set_channel_pending_send_size(chan, pending);
	while (n-- > 1) {
		free_before = hv_get_bytes_to_write(&chan->outbound);
		KUNIT_ASSERT_EQ(test, hvsim_host_recv(c, buf, 1000, true),
				1000);
		free_after = hv_get_bytes_to_write(&chan->outbound);
		crossings += free_before <= pending && free_after > pending;
		KUNIT_EXPECT_EQ(test, kt_sig_to_guest(c),
				base + crossings);
	}
	KUNIT_EXPECT_EQ(test, crossings, 1);
	set_channel_pending_send_size(chan, 0);
	kt_close(test, c);
}

/* Host writer blocked on a full ring: the guest signals at the crossing. */
static void kt_pending_host_writer(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, 65536, GFP_KERNEL);
	const struct vmpacket_descriptor *desc;
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	ssize_t sent;
	u64 base;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	chan = kt_connect(test, &c);
	sent = hvsim_host_send(c, buf, 65536, true);
	KUNIT_EXPECT_GT(test, sent, 0);
	KUNIT_EXPECT_LT(test, sent, 65536);
	KUNIT_EXPECT_GT(test, kt_info(c).guest_ring_full, 0);
	KUNIT_EXPECT_NE(test, READ_ONCE(chan->inbound.ring_buffer->pending_send_sz), 0);

	/* The first packet consumed frees enough: exactly one signal. */
	base = kt_sig_from_guest(c);
	while ((desc = hv_pkt_iter_first(chan))) {
		__hv_pkt_iter_next(chan, desc);
		hv_pkt_iter_close(chan);
		KUNIT_EXPECT_EQ(test, kt_sig_from_guest(c), base + 1);
	}
	KUNIT_EXPECT_EQ(test, kt_sig_from_guest(c), base + 1);

	/* The host writes again and clears pending_send_sz. */
	KUNIT_EXPECT_EQ(test, hvsim_host_send(c, buf, 100, true), 100);
	KUNIT_EXPECT_EQ(test, READ_ONCE(chan->inbound.ring_buffer->pending_send_sz), 0);
	kt_close(test, c);
}

static void kt_ring_sizes_ws2016(struct kunit *test)
{
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	u32 v;

	kt_set_config(test, HVSIM_PERSONALITY_WS2016, 0, 0, 0);
	v = READ_ONCE(vmbus_proto_version);
	KUNIT_EXPECT_EQ(test, v, VERSION_WIN10);

	chan = kt_offer(test, 0, &c);
	KUNIT_EXPECT_EQ(test, kt_open(chan, KT_RING, KT_RING + PAGE_SIZE),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, hvsim_host_wait_open(c), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, kt_info(c).close_reason, HVSIM_CLOSE_REFUSED);
	kt_close(test, c);

	chan = kt_offer(test, 0, &c);
	KUNIT_EXPECT_EQ(test, kt_open(chan, KT_RING - 100, KT_RING), -EINVAL);
	KUNIT_EXPECT_EQ(test, kt_open(chan, 5 * PAGE_SIZE, 5 * PAGE_SIZE),
			-EAGAIN);
	kt_close(test, c);

	chan = kt_offer(test, 0, &c);
	KUNIT_EXPECT_EQ(test, kt_open(chan, KT_RING, KT_RING), 0);
	KUNIT_EXPECT_EQ(test, hvsim_host_wait_open(c), 0);
	KUNIT_EXPECT_EQ(test, kt_info(c).send_ring_size, KT_RING);
	KUNIT_EXPECT_EQ(test, kt_info(c).recv_ring_size, KT_RING);
	kt_close(test, c);
}

static void kt_ring_sizes_modern(struct kunit *test)
{
	static const u32 ok[] = { 2, 7, 16, 65 };
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	u32 i, v;

	kt_set_config(test, HVSIM_PERSONALITY_MODERN, 0, 0, 0);
	v = READ_ONCE(vmbus_proto_version);
	KUNIT_EXPECT_GE(test, v, VERSION_WIN10_V5);

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		chan = kt_offer(test, 0, &c);
		KUNIT_EXPECT_EQ(test, kt_open(chan, ok[i] * PAGE_SIZE,
					      ok[i] * PAGE_SIZE), 0);
		kt_close(test, c);
	}

	chan = kt_offer(test, 0, &c);
	KUNIT_EXPECT_EQ(test, kt_open(chan, 66 * PAGE_SIZE, KT_RING), -EAGAIN);
	kt_close(test, c);

	kt_set_config(test, HVSIM_PERSONALITY_WS2016, 0, 0, 0);
}

static void kt_offer_fields(struct kunit *test)
{
	struct hvsim_conn_info info;
	struct hvsim_listener *l;
	struct vmbus_channel *chan;
	struct hvsim_conn *c, *a;
	guid_t svc, ep;
	int ret;

	/* Host-initiated: if_type = guest service, user_def[0] = 1. */
	chan = kt_offer(test, 0, &c);
	KUNIT_EXPECT_TRUE(test, is_hvsock_channel(chan));
	KUNIT_EXPECT_EQ(test, chan->offermsg.offer.u.pipe.user_def[0], 1);
	KUNIT_EXPECT_TRUE(test, kt_info(c).flags & HVSIM_INFO_FROM_HOST);
	kt_close(test, c);

	/* Guest-initiated: if_type = host service, if_instance = guest's. */
	guid_gen(&svc);
	guid_gen(&ep);
	KUNIT_ASSERT_EQ(test, hvsim_host_listen(&svc, 0, 0, &l), 0);
	kt_reset();
	kt.want = ep;
	KUNIT_ASSERT_EQ(test, vmbus_send_tl_connect_request(&ep, &svc), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&kt.probed, KT_WAIT),
			0);
	chan = kt.chan;
	KUNIT_EXPECT_TRUE(test, guid_equal(&chan->offermsg.offer.if_type, &svc));
	KUNIT_EXPECT_TRUE(test, guid_equal(&chan->offermsg.offer.if_instance,
					   &ep));
	KUNIT_EXPECT_EQ(test, chan->offermsg.offer.u.pipe.user_def[0], 0);
	KUNIT_EXPECT_EQ(test, hvsim_host_accept(l, true, &a), -EAGAIN);
	KUNIT_ASSERT_EQ(test, kt_open(chan, KT_RING, KT_RING), 0);
	ret = hvsim_host_accept(l, true, &a);
	KUNIT_ASSERT_EQ(test, ret, 0);
	info = kt_info(a);
	KUNIT_EXPECT_MEMEQ(test, info.guest_service_id, &ep, 16);
	KUNIT_EXPECT_MEMEQ(test, info.host_service_id, &svc, 16);
	kt_close(test, a);
	hvsim_host_unlisten(l);
}

static void kt_connect_unanswered(struct kunit *test)
{
	struct hvsim_listener *l;
	struct hvsim_stats before, after;
	guid_t svc, other, ep;

	guid_gen(&svc);
	guid_gen(&other);
	guid_gen(&ep);
	KUNIT_ASSERT_EQ(test, hvsim_host_listen(&svc, 0, 0, &l), 0);
	hvsim_host_get_stats(&before);

	/* Nobody listens: no offer, ever. */
	kt_reset();
	KUNIT_ASSERT_EQ(test, vmbus_send_tl_connect_request(&ep, &other), 0);
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&kt.probed, HZ / 2),
			0);

	/* The ignore_connects fault drops a request for a listener. */
	kt_set_config(test, HVSIM_PERSONALITY_WS2016, 0, 1, 0);
	KUNIT_ASSERT_EQ(test, vmbus_send_tl_connect_request(&ep, &svc), 0);
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&kt.probed, HZ / 2),
			0);

	hvsim_host_get_stats(&after);
	KUNIT_EXPECT_EQ(test, after.connect_requests,
			before.connect_requests + 2);
	KUNIT_EXPECT_EQ(test, after.connects_unanswered,
			before.connects_unanswered + 1);
	KUNIT_EXPECT_EQ(test, after.connects_ignored,
			before.connects_ignored + 1);
	KUNIT_EXPECT_EQ(test, after.offers, before.offers);
	hvsim_host_unlisten(l);
	KUNIT_EXPECT_EQ(test, hvsim_host_set_config(&kt.saved), 0);
}

static void kt_fail_open(struct kunit *test)
{
	struct vmbus_channel *chan;
	struct hvsim_conn *c;

	kt_set_config(test, HVSIM_PERSONALITY_WS2016, 0, 0, 1);
	chan = kt_offer(test, 0, &c);
	KUNIT_EXPECT_EQ(test, kt_open(chan, KT_RING, KT_RING), -EAGAIN);
	KUNIT_EXPECT_EQ(test, hvsim_host_wait_open(c), -ECONNREFUSED);
	kt_close(test, c);
	KUNIT_EXPECT_EQ(test, hvsim_host_set_config(&kt.saved), 0);
}

static void kt_rescind_open(struct kunit *test)
{
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	u8 b = 1;

	chan = kt_connect(test, &c);
	vmbus_set_chn_rescind_callback(chan, kt_rescind_cb);
	hvsim_host_rescind(c);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&kt.rescinded,
							  KT_WAIT), 0);
	KUNIT_EXPECT_TRUE(test, kt.rescind_seen);
	KUNIT_EXPECT_EQ(test, kt_guest_send(chan, &b, 1), -ENODEV);
	KUNIT_EXPECT_EQ(test, kt_info(c).close_reason, HVSIM_CLOSE_HOST);
	KUNIT_EXPECT_EQ(test, hvsim_host_send(c, &b, 1, true), -ECONNABORTED);

	/* As hyperv_transport: the driver lets the device go after it. */
	vmbus_hvsock_device_unregister(chan);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&kt.removed, KT_WAIT),
			0);
	hvsim_host_close(c);
}

static void kt_rescind_before_open(struct kunit *test)
{
	struct hvsim_conn *c;

	kt_offer(test, 0, &c);
	hvsim_host_rescind(c);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&kt.removed, KT_WAIT),
			0);
	KUNIT_EXPECT_EQ(test, hvsim_host_wait_open(c), -ECONNRESET);
	hvsim_host_close(c);
}

static void kt_rescind_before_offer(struct kunit *test)
{
	struct hvsim_stats before, after;
	struct hvsim_conn *c;
	guid_t svc, ep = {};

	kt_set_config(test, HVSIM_PERSONALITY_WS2016, 300, 0, 0);
	hvsim_host_get_stats(&before);
	kt_reset();
	guid_gen(&svc);
	kt.want = svc;
	KUNIT_ASSERT_EQ(test, hvsim_host_connect(&svc, &ep, 0,
						 HVSIM_CONNECT_NOWAIT, &c), 0);
	hvsim_host_rescind(c);
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&kt.probed, HZ), 0);
	KUNIT_EXPECT_FALSE(test, kt_info(c).flags & HVSIM_INFO_OFFER_DELIVERED);
	hvsim_host_get_stats(&after);
	KUNIT_EXPECT_EQ(test, after.offers, before.offers);
	hvsim_host_close(c);
	KUNIT_EXPECT_EQ(test, hvsim_host_set_config(&kt.saved), 0);
}

static void kt_open_timeout(struct kunit *test)
{
	struct hvsim_conn *c;

	kt_offer(test, 200, &c);
	KUNIT_EXPECT_EQ(test, hvsim_host_wait_open(c), -ETIMEDOUT);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&kt.removed, KT_WAIT),
			0);
	hvsim_host_close(c);
}

static void kt_inject(struct kunit *test)
{
	static const u8 raw[16] = { 0xde, 0xad, 0xbe, 0xef };
	struct hvsim_inject inj = {};
	const struct vmpacket_descriptor *desc;
	const struct kt_pipe_hdr *hdr;
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	u8 *data;

	chan = kt_connect(test, &c);
	data = chan->inbound.ring_buffer->buffer;

	/* A vmpipe header lying about its size reaches the guest as is. */
	inj.kind = HVSIM_INJECT_PIPE;
	inj.flags = HVSIM_INJECT_F_DATA_SIZE;
	inj.pkt_type = VM_PKT_DATA_INBAND;
	inj.pipe_type = 1;
	inj.pipe_data_size = 99999;
	inj.len = 5;
	KUNIT_EXPECT_EQ(test, hvsim_host_inject(c, &inj, "hello"),
			KT_PKT_LEN(5));
	desc = hv_pkt_iter_first(chan);
	KUNIT_ASSERT_NOT_NULL(test, desc);
	hdr = hv_pkt_data(desc);
	KUNIT_EXPECT_EQ(test, hdr->data_size, 99999);
	KUNIT_EXPECT_MEMEQ(test, (const u8 *)(hdr + 1), "hello", 5);
	__hv_pkt_iter_next(chan, desc);
	hv_pkt_iter_close(chan);

	/* Any descriptor: unknown type, len8 shorter than the packet. */
	memset(&inj, 0, sizeof(inj));
	inj.kind = HVSIM_INJECT_PACKET;
	inj.flags = HVSIM_INJECT_F_LEN8 | HVSIM_INJECT_F_NO_SIGNAL;
	inj.pkt_type = 0x77;
	inj.len8 = 1;
	inj.len = 8;
	KUNIT_EXPECT_EQ(test, hvsim_host_inject(c, &inj, raw), KT_PKT_LEN(0));
	desc = (const void *)(data + READ_ONCE(chan->inbound.ring_buffer->read_index));
	KUNIT_EXPECT_EQ(test, desc->type, 0x77);
	KUNIT_EXPECT_EQ(test, desc->len8, 1);

	/* Raw bytes move the write index by exactly their length. */
	memset(&inj, 0, sizeof(inj));
	inj.kind = HVSIM_INJECT_RAW;
	inj.len = 12;
	KUNIT_EXPECT_EQ(test, hvsim_host_inject(c, &inj, raw), 12);
	KUNIT_EXPECT_EQ(test, READ_ONCE(chan->inbound.ring_buffer->write_index),
			KT_PKT_LEN(5) + KT_PKT_LEN(0) + 12);

	/* Too big for the ring. */
	inj.len = KT_RING;
	KUNIT_EXPECT_EQ(test, hvsim_host_inject(c, &inj, data), -EAGAIN);
	kt_close(test, c);
}

static void kt_poke(struct kunit *test)
{
	struct hvsim_poke pk = {};
	struct vmbus_channel *chan;
	struct hv_ring_buffer *in;
	struct hvsim_conn *c;

	chan = kt_connect(test, &c);
	in = chan->inbound.ring_buffer;

	/* The guest sees the value; the host keeps its own write index. */
	pk.ring = HVSIM_RING_IN;
	pk.field = HVSIM_POKE_WRITE_INDEX;
	pk.value = 12345;
	KUNIT_EXPECT_EQ(test, hvsim_host_poke(c, &pk), 0);
	KUNIT_EXPECT_EQ(test, pk.old, 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(in->write_index), 12345);
	KUNIT_EXPECT_EQ(test, kt_info(c).in_ring[1], 12345);
	KUNIT_EXPECT_EQ(test, hvsim_host_send(c, "hi", 2, true), 2);
	KUNIT_EXPECT_EQ(test, READ_ONCE(in->write_index), KT_PKT_LEN(2));

	/* Any field of either ring, guest-owned ones too. */
	pk.ring = HVSIM_RING_OUT;
	pk.field = HVSIM_POKE_PENDING_SEND_SZ;
	pk.value = 7;
	KUNIT_EXPECT_EQ(test, hvsim_host_poke(c, &pk), 0);
	KUNIT_EXPECT_EQ(test,
			READ_ONCE(chan->outbound.ring_buffer->pending_send_sz),
			7);
	pk.ring = HVSIM_RING_IN;
	pk.field = HVSIM_POKE_INTERRUPT_MASK;
	pk.value = 1;
	pk.flags = HVSIM_POKE_F_SIGNAL;
	KUNIT_EXPECT_EQ(test, hvsim_host_poke(c, &pk), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(in->interrupt_mask), 1);

	/* Bad arguments. */
	pk.field = HVSIM_POKE_PENDING_SEND_SZ + 1;
	KUNIT_EXPECT_EQ(test, hvsim_host_poke(c, &pk), -EINVAL);
	pk.field = HVSIM_POKE_READ_INDEX;
	pk.ring = HVSIM_RING_OUT + 1;
	KUNIT_EXPECT_EQ(test, hvsim_host_poke(c, &pk), -EINVAL);
	pk.ring = HVSIM_RING_IN;
	pk.flags = 2;
	KUNIT_EXPECT_EQ(test, hvsim_host_poke(c, &pk), -EINVAL);
	pk.flags = 0;
	pk.reserved[2] = 1;
	KUNIT_EXPECT_EQ(test, hvsim_host_poke(c, &pk), -EINVAL);

	/* Not once the connection is closed. */
	pk.reserved[2] = 0;
	hvsim_host_rescind(c);
	KUNIT_EXPECT_EQ(test, hvsim_host_poke(c, &pk), -ENOTCONN);
	kt_close(test, c);
}

static void kt_stop_drain(struct kunit *test)
{
	struct vmbus_channel *chan;
	struct hvsim_conn *c;
	u8 buf[16] = {};

	chan = kt_connect(test, &c);
	KUNIT_ASSERT_EQ(test, hvsim_host_set_drain(c, false), 0);
	KUNIT_ASSERT_EQ(test, kt_guest_send(chan, buf, 8), 0);
	KUNIT_EXPECT_EQ(test, hvsim_host_recv(c, buf, sizeof(buf), true),
			-EAGAIN);
	KUNIT_EXPECT_TRUE(test, kt_info(c).flags & HVSIM_INFO_DRAIN_STOPPED);
	KUNIT_ASSERT_EQ(test, hvsim_host_set_drain(c, true), 0);
	KUNIT_EXPECT_EQ(test, hvsim_host_recv(c, buf, sizeof(buf), true), 8);
	kt_close(test, c);
}

static int kt_suite_init(struct kunit_suite *suite)
{
	init_completion(&kt.probed);
	init_completion(&kt.removed);
	init_completion(&kt.rescinded);
	init_completion(&kt.callback);
	hvsim_host_get_config(&kt.saved);
	kt.saved.personality = HVSIM_PERSONALITY_WS2016;
	kt.saved.offer_delay_ms = 0;
	kt.saved.ignore_connects = 0;
	kt.saved.fail_opens = 0;
	kt.saved.mtu = 0;
	if (hvsim_host_set_config(&kt.saved))
		return -EINVAL;
	return vmbus_driver_register(&kt_driver);
}

static void kt_suite_exit(struct kunit_suite *suite)
{
	vmbus_driver_unregister(&kt_driver);
}

static struct kunit_case vmbus_sim_cases[] = {
	KUNIT_CASE(kt_ring_guest_to_host),
	KUNIT_CASE(kt_ring_host_to_guest),
	KUNIT_CASE(kt_ring_mtu),
	KUNIT_CASE(kt_signal_host_to_guest),
	KUNIT_CASE(kt_signal_guest_to_host),
	KUNIT_CASE(kt_pending_guest_writer),
	KUNIT_CASE(kt_pending_host_writer),
	KUNIT_CASE(kt_ring_sizes_ws2016),
	KUNIT_CASE(kt_ring_sizes_modern),
	KUNIT_CASE(kt_offer_fields),
	KUNIT_CASE(kt_connect_unanswered),
	KUNIT_CASE(kt_fail_open),
	KUNIT_CASE(kt_rescind_open),
	KUNIT_CASE(kt_rescind_before_open),
	KUNIT_CASE(kt_rescind_before_offer),
	KUNIT_CASE(kt_open_timeout),
	KUNIT_CASE(kt_inject),
	KUNIT_CASE(kt_poke),
	KUNIT_CASE(kt_stop_drain),
	{}
};

static struct kunit_suite vmbus_sim_suite = {
	.name = "vmbus_sim",
	.suite_init = kt_suite_init,
	.suite_exit = kt_suite_exit,
	.test_cases = vmbus_sim_cases,
};

kunit_test_suite(vmbus_sim_suite);

MODULE_DESCRIPTION("KUnit tests for the simulated Hyper-V host");
MODULE_LICENSE("GPL");
