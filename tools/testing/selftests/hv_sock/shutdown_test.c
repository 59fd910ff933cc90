// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV shutdown() and close(): the FIN both ways, half-closed
 * connections, graceful close, SO_LINGER.
 */

#include "hvs_test.h"
#include "../kselftest_harness.h"

FIXTURE(shut)
{
	int g;		/* guest socket */
	int h;		/* host end */
};

FIXTURE_SETUP(shut)
{
	HVS_PAIR_SETUP(hvs_pair);
}

FIXTURE_TEARDOWN(shut)
{
	HVS_PAIR_TEARDOWN();
}

/* Wait until the host has consumed the guest's FIN. */
static bool host_got_fin(int h, struct hvsim_conn_info *ci)
{
	long long end = hvs_now_ms() + HVS_WAIT_MS;

	do {
		if (hvs_host_info(h, ci))
			return false;
		if (ci->flags & HVSIM_INFO_FIN_RECEIVED)
			return true;
		hvs_msleep(20);
	} while (hvs_now_ms() < end);
	return false;
}

TEST_F(shut, shut_wr_sends_fin_once)
{
	struct hvsim_conn_info ci, ci2;
	char buf[16];

	ASSERT_EQ(3, send(self->g, "abc", 3, 0));
	ASSERT_EQ(0, shutdown(self->g, SHUT_WR));
	ASSERT_EQ(3, hvs_read_full(self->h, buf, 3, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	/* EOF, and it stays EOF. */
	EXPECT_EQ(0, read(self->h, buf, sizeof(buf)));
	EXPECT_EQ(0, read(self->h, buf, sizeof(buf)));
	ASSERT_TRUE(host_got_fin(self->h, &ci));

	/* Neither a second SHUT_WR nor SHUT_RDWR sends another packet. */
	EXPECT_EQ(0, shutdown(self->g, SHUT_WR));
	EXPECT_EQ(0, shutdown(self->g, SHUT_RDWR));
	hvs_msleep(200);
	ASSERT_EQ(0, hvs_host_info(self->h, &ci2));
	EXPECT_EQ(ci.pkts_from_guest, ci2.pkts_from_guest);
	EXPECT_EQ(3, ci2.bytes_from_guest);
	EXPECT_EQ(HVSIM_STATE_OPEN, ci2.state);
}

/* Half-closed: the guest still receives after its SHUT_WR. */
TEST_F(shut, shut_wr_still_receives)
{
	char buf[8];

	ASSERT_EQ(0, shutdown(self->g, SHUT_WR));
	EXPECT_EQ(-1, send(self->g, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	ASSERT_EQ(4, write(self->h, "more", 4));
	ASSERT_EQ(4, hvs_read_full(self->g, buf, 4, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "more", 4));
}

/* The host's FIN: the remaining data first, then 0, again and again. */
TEST_F(shut, host_fin_after_data)
{
	static char buf[8000], in[8000];

	hvs_fill(51, 0, buf, sizeof(buf));
	ASSERT_EQ(sizeof(buf), hvs_write_full(self->h, buf, sizeof(buf)));
	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	hvs_msleep(100);
	ASSERT_EQ(sizeof(in), recv(self->g, in, sizeof(in), MSG_WAITALL));
	EXPECT_EQ(-1, hvs_check(51, 0, in, sizeof(in)));
	EXPECT_EQ(0, recv(self->g, in, sizeof(in), 0));
	EXPECT_EQ(0, recv(self->g, in, sizeof(in), MSG_DONTWAIT));
	EXPECT_EQ(0, read(self->g, in, sizeof(in)));
	/* Half-closed the other way: the guest still sends. */
	ASSERT_EQ(5, send(self->g, "after", 5, 0));
	ASSERT_EQ(5, hvs_read_full(self->h, in, 5, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(in, "after", 5));
}

/* A reader blocked in recv() wakes up with 0 on the host's FIN. */
static int host_fin(void *arg)
{
	return hvs_host_shutdown(*(int *)arg);
}

TEST_F(shut, host_fin_wakes_reader)
{
	struct hvs_delayed d;
	char buf[8];

	ASSERT_EQ(0, hvs_delayed_start(&d, 300, host_fin, &self->h));
	EXPECT_EQ(0, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_EQ(0, hvs_delayed_join(&d));
}

TEST_F(shut, shut_rd)
{
	struct hvsim_conn_info ci, ci2;
	char buf[8];
	int ev;

	ASSERT_EQ(0, hvs_host_info(self->h, &ci));
	ASSERT_EQ(0, shutdown(self->g, SHUT_RD));
	/* Reads do not block any more. */
	EXPECT_EQ(0, recv(self->g, buf, sizeof(buf), 0));
	ev = hvs_poll(self->g, POLLIN | POLLRDHUP | POLLOUT, 0);
	EXPECT_EQ(POLLIN | POLLRDHUP | POLLOUT, ev & (POLLIN | POLLRDHUP |
						      POLLOUT));
	EXPECT_FALSE(ev & POLLHUP);
	/* No packet for the host; the guest still sends. */
	hvs_msleep(100);
	ASSERT_EQ(0, hvs_host_info(self->h, &ci2));
	EXPECT_EQ(ci.pkts_from_guest, ci2.pkts_from_guest);
	ASSERT_EQ(2, send(self->g, "ok", 2, MSG_NOSIGNAL));
	ASSERT_EQ(2, hvs_read_full(self->h, buf, 2, HVS_WAIT_MS));
}

TEST_F(shut, shut_rdwr)
{
	struct hvsim_conn_info ci;
	char buf[8];

	ASSERT_EQ(0, shutdown(self->g, SHUT_RDWR));
	EXPECT_EQ(0, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_EQ(-1, send(self->g, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, read(self->h, buf, sizeof(buf)));
	EXPECT_TRUE(host_got_fin(self->h, &ci));
}

TEST_F(shut, invalid_how)
{
	EXPECT_EQ(-1, shutdown(self->g, 3));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, shutdown(self->g, -1));
	EXPECT_EQ(EINVAL, errno);
}

TEST(shutdown_unconnected_enotconn)
{
	__u8 svc[16];
	int s = hvs_socket(0);

	ASSERT_LE(0, s);
	EXPECT_EQ(-1, shutdown(s, SHUT_WR));
	EXPECT_EQ(ENOTCONN, errno);
	EXPECT_EQ(-1, shutdown(s, SHUT_RDWR));
	EXPECT_EQ(ENOTCONN, errno);
	hvs_random_guid(svc);
	ASSERT_EQ(0, hvs_bind(s, svc));
	EXPECT_EQ(-1, shutdown(s, SHUT_RD));
	EXPECT_EQ(ENOTCONN, errno);
	close(s);
}

/*
 * close(): data, then the FIN, then the guest closes the channel. The host
 * has HVSOCK_CLOSE_TIMEOUT (8 s) to rescind it first; this host does not.
 */
TEST_F(shut, close_graceful)
{
	static char buf[12000], in[12000];
	struct hvsim_conn_info ci;
	long long t0;

	hvs_fill(52, 0, buf, sizeof(buf));
	ASSERT_EQ(sizeof(buf), send(self->g, buf, sizeof(buf), 0));
	t0 = hvs_now_ms();
	close(self->g);
	self->g = -1;
	EXPECT_GE(1000, hvs_now_ms() - t0) TH_LOG("close() blocked");
	ASSERT_EQ(sizeof(in), hvs_read_full(self->h, in, sizeof(in),
					    HVS_WAIT_MS));
	EXPECT_EQ(-1, hvs_check(52, 0, in, sizeof(in)));
	EXPECT_EQ(0, read(self->h, in, sizeof(in)));
	t0 = hvs_now_ms();
	EXPECT_EQ(HVSIM_STATE_CLOSED,
		  hvs_host_wait_state(self->h, HVSIM_STATE_CLOSED, 12000, &ci));
	TH_LOG("the guest closed the channel after %lld ms", hvs_now_ms() - t0);
	EXPECT_TRUE(ci.flags & HVSIM_INFO_FIN_RECEIVED);
	EXPECT_EQ(HVSIM_CLOSE_GUEST, ci.close_reason);
}

/* The usual Hyper-V close: the host closes on EOF; nothing is left. */
TEST_F(shut, close_then_host_closes)
{
	struct hvsim_stats st;
	char buf[16];

	ASSERT_EQ(0, hvs_host_stats(&st));
	ASSERT_EQ(5, send(self->g, "hello", 5, 0));
	close(self->g);
	self->g = -1;
	ASSERT_EQ(5, hvs_read_full(self->h, buf, sizeof(buf), HVS_WAIT_MS));
	close(self->h);
	self->h = -1;
	EXPECT_GE(st.channels - 1,
		  hvs_host_wait_channels(st.channels - 1, 2000));
}

/* The host never drains: close() still returns at once without linger. */
TEST_F(shut, close_does_not_block)
{
	static char buf[HVS_RING_DATA * 2];
	long long t0;

	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	EXPECT_LT(0, send(self->g, buf, sizeof(buf), MSG_DONTWAIT));
	t0 = hvs_now_ms();
	close(self->g);
	self->g = -1;
	EXPECT_GE(1000, hvs_now_ms() - t0) TH_LOG("close() blocked");
}

TEST_F(shut, linger_option)
{
	struct linger lg = { 1, 7 }, out;
	socklen_t len = sizeof(out);

	ASSERT_EQ(0, setsockopt(self->g, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, getsockopt(self->g, SOL_SOCKET, SO_LINGER, &out, &len));
	EXPECT_EQ(1, out.l_onoff);
	EXPECT_EQ(7, out.l_linger);
}

/* With SO_LINGER, close() waits no longer than the linger time. */
TEST_F(shut, close_linger_bounded)
{
	static char buf[HVS_RING_DATA * 2];
	struct linger lg = { 1, 1 };
	long long t0, dt;

	ASSERT_EQ(0, setsockopt(self->g, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	EXPECT_LT(0, send(self->g, buf, sizeof(buf), MSG_DONTWAIT));
	t0 = hvs_now_ms();
	close(self->g);
	self->g = -1;
	dt = hvs_now_ms() - t0;
	TH_LOG("close() with linger 1 s and a full ring: %lld ms", dt);
	EXPECT_GE(2500, dt);
}

struct reader {
	int fd;
	char buf[16000];
	ssize_t got;
};

/* Read until EOF, as a host application does. */
static int host_read_to_eof(void *arg)
{
	struct reader *r = arg;

	r->got = hvs_read_full(r->fd, r->buf, sizeof(r->buf), HVS_WAIT_MS);
	return 0;
}

/*
 * With SO_LINGER and a host that reads everything, the FIN included,
 * close() returns as soon as that happened (TCP: once the FIN is acked).
 */
TEST_F(shut, close_linger_drained)
{
	static char buf[8000];
	static struct reader r;
	struct linger lg = { 1, 5 };
	struct hvs_delayed d;
	long long t0;

	r.fd = self->h;
	ASSERT_EQ(0, setsockopt(self->g, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	hvs_fill(53, 0, buf, sizeof(buf));
	ASSERT_EQ(sizeof(buf), send(self->g, buf, sizeof(buf), 0));
	ASSERT_EQ(0, hvs_delayed_start(&d, 200, host_read_to_eof, &r));
	t0 = hvs_now_ms();
	close(self->g);
	self->g = -1;
	EXPECT_GE(2000, hvs_now_ms() - t0);
	EXPECT_LE(150, hvs_now_ms() - t0) TH_LOG("did not linger");
	hvs_delayed_join(&d);
	EXPECT_EQ(sizeof(buf), r.got);
	EXPECT_EQ(-1, hvs_check(53, 0, r.buf, sizeof(buf)));
}

/* SO_LINGER 0: an abortive close, no FIN: the host sees a reset. */
TEST_F(shut, close_linger_zero_resets)
{
	struct linger lg = { 1, 0 };
	struct hvsim_conn_info ci;
	char buf[8];
	long long t0;
	int ret;

	ASSERT_EQ(0, setsockopt(self->g, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	t0 = hvs_now_ms();
	close(self->g);
	self->g = -1;
	EXPECT_GE(500, hvs_now_ms() - t0);
	EXPECT_EQ(HVSIM_STATE_CLOSED,
		  hvs_host_wait_state(self->h, HVSIM_STATE_CLOSED,
				      HVS_WAIT_MS, &ci));
	EXPECT_FALSE(ci.flags & HVSIM_INFO_FIN_RECEIVED);
	ret = hvs_err(read(self->h, buf, sizeof(buf)));
	EXPECT_EQ(-ECONNRESET, ret);
}

/* Both FINs, then both close: a clean close, nothing left behind. */
TEST_F(shut, both_fins_then_close)
{
	struct hvsim_stats st;
	char buf[4];

	ASSERT_EQ(0, hvs_host_stats(&st));
	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	EXPECT_EQ(0, recv(self->g, buf, sizeof(buf), 0));
	ASSERT_EQ(0, shutdown(self->g, SHUT_WR));
	EXPECT_EQ(0, read(self->h, buf, sizeof(buf)));
	EXPECT_EQ(0, hvs_so_error(self->g));
	close(self->g);
	self->g = -1;
	close(self->h);
	self->h = -1;
	EXPECT_GE(st.channels - 1,
		  hvs_host_wait_channels(st.channels - 1, 2000));
}

struct guest_send {
	int fd;
	const char *buf;
	size_t len;
	ssize_t ret;
};

static int guest_send_fn(void *arg)
{
	struct guest_send *gs = arg;

	gs->ret = send(gs->fd, gs->buf, gs->len, MSG_NOSIGNAL);
	if (gs->ret < 0)
		gs->ret = -errno;
	return 0;
}

/* Half-closed by the host: the guest still sends a lot, blocking. */
TEST_F(shut, half_closed_bulk_send)
{
	static char buf[2 << 20];
	struct hvs_host_sink hs = {
		.fd = self->h, .len = sizeof(buf), .seed = 54,
	};
	struct hvs_delayed d;
	char c;

	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	ASSERT_EQ(0, recv(self->g, &c, 1, 0));
	hvs_fill(54, 0, buf, sizeof(buf));
	ASSERT_EQ(0, hvs_set_timeo(self->g, SO_SNDTIMEO, 15000));
	ASSERT_EQ(0, hvs_delayed_start(&d, 0, hvs_host_sink, &hs));
	EXPECT_EQ(sizeof(buf), send(self->g, buf, sizeof(buf), MSG_NOSIGNAL))
		TH_LOG("send: %s", strerror(errno));
	hvs_delayed_join(&d);
	EXPECT_EQ(sizeof(buf), hs.got);
	EXPECT_EQ(-1, hs.bad);
}

/* The host's FIN arrives while a writer waits for room. */
TEST_F(shut, host_fin_while_writer_blocked)
{
	static char buf[256 * 1024];
	struct guest_send gs = { self->g, buf, sizeof(buf), 0 };
	struct hvs_host_sink hs = {
		.fd = self->h, .len = sizeof(buf), .seed = 55,
	};
	struct hvs_delayed dw, dr;
	char c;

	hvs_fill(55, 0, buf, sizeof(buf));
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	ASSERT_EQ(0, hvs_set_timeo(self->g, SO_SNDTIMEO, 15000));
	ASSERT_EQ(0, hvs_delayed_start(&dw, 0, guest_send_fn, &gs));
	hvs_msleep(300);
	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	ASSERT_EQ(0, recv(self->g, &c, 1, 0));
	ASSERT_EQ(0, hvs_delayed_start(&dr, 100, hvs_host_sink, &hs));
	hvs_delayed_join(&dw);
	hvs_delayed_join(&dr);
	EXPECT_EQ(sizeof(buf), gs.ret) TH_LOG("send: %zd", gs.ret);
	EXPECT_EQ(sizeof(buf), hs.got);
	EXPECT_EQ(-1, hs.bad);
}

TEST_HARNESS_MAIN
