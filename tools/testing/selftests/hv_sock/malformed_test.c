// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV and an untrusted host: malformed packets in the guest's inbound
 * ring reset that connection (ECONNRESET) and nothing else.
 */

#include "hvs_test.h"
#include "../kselftest_harness.h"

#define VM_PKT_DATA_INBAND		6
#define VM_PKT_DATA_USING_XFER_PAGES	7
#define PIPE_DATA			1

FIXTURE(bad)
{
	int g, h;	/* the victim */
	int g2, h2;	/* a bystander */
	struct hvsim_stats before;
};

struct bad_pkt {
	__u32 kind;
	__u32 flags;
	__u16 pkt_type;
	__u16 len8;
	__u32 pipe_type;
	__u32 data_size;
	__u32 len;
	bool fill;	/* fill the data with 0xff rather than a pattern */
	bool valid;	/* the control: a well-formed packet */
};

FIXTURE_VARIANT(bad)
{
	struct bad_pkt p;
};

/* The control: the injection path itself delivers a good packet. */
FIXTURE_VARIANT_ADD(bad, valid_pipe_packet)
{
	.p = {
		.kind = HVSIM_INJECT_PIPE, .pkt_type = VM_PKT_DATA_INBAND,
		.pipe_type = PIPE_DATA, .len = 100, .valid = true,
	},
};

FIXTURE_VARIANT_ADD(bad, unknown_packet_type)
{
	.p = {
		.kind = HVSIM_INJECT_PIPE, .pkt_type = 0x42,
		.pipe_type = PIPE_DATA, .len = 32,
	},
};

FIXTURE_VARIANT_ADD(bad, xfer_pages_packet)
{
	.p = {
		.kind = HVSIM_INJECT_PIPE, .pkt_type = VM_PKT_DATA_USING_XFER_PAGES,
		.pipe_type = PIPE_DATA, .len = 32,
	},
};

FIXTURE_VARIANT_ADD(bad, unknown_pipe_type)
{
	.p = {
		.kind = HVSIM_INJECT_PIPE, .pkt_type = VM_PKT_DATA_INBAND,
		.pipe_type = 7, .len = 32,
	},
};

FIXTURE_VARIANT_ADD(bad, data_size_beyond_packet)
{
	.p = {
		.kind = HVSIM_INJECT_PIPE, .pkt_type = VM_PKT_DATA_INBAND,
		.pipe_type = PIPE_DATA, .len = 16,
		.flags = HVSIM_INJECT_F_DATA_SIZE, .data_size = 200,
	},
};

FIXTURE_VARIANT_ADD(bad, data_size_huge)
{
	.p = {
		.kind = HVSIM_INJECT_PIPE, .pkt_type = VM_PKT_DATA_INBAND,
		.pipe_type = PIPE_DATA, .len = 16,
		.flags = HVSIM_INJECT_F_DATA_SIZE, .data_size = 0xffffffffU,
	},
};

FIXTURE_VARIANT_ADD(bad, oversize_packet)
{
	.p = {
		.kind = HVSIM_INJECT_PIPE, .pkt_type = VM_PKT_DATA_INBAND,
		.pipe_type = PIPE_DATA, .len = HVSIM_MTU_MAX + 1,
	},
};

FIXTURE_VARIANT_ADD(bad, truncated_pipe_header)
{
	.p = {
		.kind = HVSIM_INJECT_PACKET, .pkt_type = VM_PKT_DATA_INBAND,
		.len = 4,
	},
};

FIXTURE_VARIANT_ADD(bad, empty_inband_packet)
{
	.p = {
		.kind = HVSIM_INJECT_PACKET, .pkt_type = VM_PKT_DATA_INBAND,
		.len = 0,
	},
};

FIXTURE_VARIANT_ADD(bad, len8_descriptor_only)
{
	.p = {
		.kind = HVSIM_INJECT_PIPE, .pkt_type = VM_PKT_DATA_INBAND,
		.pipe_type = PIPE_DATA, .len = 64,
		.flags = HVSIM_INJECT_F_LEN8, .len8 = 2,
	},
};

FIXTURE_VARIANT_ADD(bad, raw_garbage)
{
	.p = {
		.kind = HVSIM_INJECT_RAW, .len = 64, .fill = true,
	},
};

FIXTURE_SETUP(bad)
{
	int ret;

	self->g = -1;
	self->h = -1;
	self->g2 = -1;
	self->h2 = -1;
	ASSERT_EQ(0, hvs_host_reset_config());
	ASSERT_EQ(0, hvs_host_stats(&self->before));
	ret = hvs_pair(&self->g, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("connected pair: %s", strerror(-ret));
	ret = hvs_pair(&self->g2, &self->h2);
	ASSERT_EQ(0, ret) TH_LOG("connected pair: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(bad)
{
	close(self->g);
	close(self->h);
	close(self->g2);
	close(self->h2);
	hvs_host_reset_config();
}

static int inject(int h, const struct bad_pkt *v, __u64 seed)
{
	struct hvsim_inject in;
	void *buf = malloc(v->len ? v->len : 1);
	int ret;

	if (!buf)
		return -ENOMEM;
	if (v->fill)
		memset(buf, 0xff, v->len);
	else
		hvs_fill(seed, 0, buf, v->len);
	memset(&in, 0, sizeof(in));
	in.data = (__u64)(unsigned long)buf;
	in.len = v->len;
	in.kind = v->kind;
	in.flags = v->flags;
	in.pkt_type = v->pkt_type;
	in.len8 = v->len8;
	in.pipe_type = v->pipe_type;
	in.pipe_data_size = v->data_size;
	ret = hvs_err(ioctl(h, HVSIM_IOC_INJECT, &in));
	free(buf);
	return ret;
}

/* Both ways on the bystander. */
static bool still_works(int g, int h, __u64 seed)
{
	char out[3000], in[3000];

	hvs_fill(seed, 0, out, sizeof(out));
	if (hvs_send_full(g, out, sizeof(out)) != sizeof(out) ||
	    hvs_read_full(h, in, sizeof(in), HVS_WAIT_MS) != sizeof(in) ||
	    hvs_check(seed, 0, in, sizeof(in)) != -1)
		return false;
	if (hvs_write_full(h, out, sizeof(out)) != sizeof(out) ||
	    hvs_read_full(g, in, sizeof(in), HVS_WAIT_MS) != sizeof(in))
		return false;
	return hvs_check(seed, 0, in, sizeof(in)) == -1;
}

TEST_F(bad, reset_only_this_connection)
{
	char buf[256];
	int ret, ev;

	ret = inject(self->h, &variant->p, 71);
	ASSERT_LT(0, ret) TH_LOG("inject: %s", strerror(-ret));
	ev = hvs_poll(self->g, POLLIN, HVS_WAIT_MS);

	if (variant->p.valid) {
		__u32 len = variant->p.len;

		EXPECT_EQ(POLLIN, ev & (POLLIN | POLLERR | POLLHUP));
		EXPECT_EQ(len, hvs_read_full(self->g, buf, len, HVS_WAIT_MS));
		EXPECT_EQ(-1, hvs_check(71, 0, buf, len));
		EXPECT_TRUE(still_works(self->g, self->h, 72));
	} else {
		int err = -1;
		socklen_t elen = sizeof(err);

		/*
		 * As TCP: readable, and no EPOLLERR until an error is
		 * pending; the recv() that meets the packet reports it.
		 */
		EXPECT_EQ(POLLIN, ev & (POLLIN | POLLERR | POLLHUP))
			TH_LOG("revents %#x", ev);
		EXPECT_EQ(0, getsockopt(self->g, SOL_SOCKET, SO_ERROR, &err,
					&elen));
		EXPECT_EQ(0, err);
		ret = hvs_err(recv(self->g, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_EQ(-ECONNRESET, ret) TH_LOG("recv: %d", ret);
		ev = hvs_poll(self->g, POLLIN, 0);
		EXPECT_EQ(POLLIN | POLLHUP, ev & (POLLIN | POLLERR | POLLHUP))
			TH_LOG("revents after the reset %#x", ev);
		/* Afterwards the socket is dead, not stuck. */
		ret = hvs_err(send(self->g, "x", 1,
				   MSG_DONTWAIT | MSG_NOSIGNAL));
		EXPECT_GT(0, ret);
		ret = hvs_err(recv(self->g, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_TRUE(ret == 0 || ret == -ECONNRESET) TH_LOG("%d", ret);
	}

	/* The bystander does not notice. */
	EXPECT_TRUE(still_works(self->g2, self->h2, 73));
	EXPECT_EQ(POLLOUT, hvs_poll(self->g2, POLLIN | POLLOUT | POLLRDHUP,
				    0));

	/* Closing the victim releases its channel. */
	hvs_close(&self->g);
	hvs_close(&self->h);
	EXPECT_HOST_CHANNELS(self->before.channels + 1);
}

/* A bad packet after good data: the good data may be read, then the reset. */
TEST_F(bad, after_good_data)
{
	char buf[256];
	ssize_t n;
	int ret;

	if (variant->p.valid)
		SKIP(return, "control variant");
	ASSERT_EQ(10, write(self->h, "0123456789", 10));
	ret = inject(self->h, &variant->p, 74);
	ASSERT_LT(0, ret) TH_LOG("inject: %s", strerror(-ret));
	hvs_poll(self->g, POLLIN, HVS_WAIT_MS);
	hvs_msleep(100);
	n = recv(self->g, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0) {
		EXPECT_EQ(10, n);
		EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
		n = recv(self->g, buf, sizeof(buf), MSG_DONTWAIT);
	}
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_TRUE(still_works(self->g2, self->h2, 75));
}

TEST_HARNESS_MAIN
