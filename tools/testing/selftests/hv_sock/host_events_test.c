// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV and what the host does on its own: rescinds in every state,
 * the FIN with data queued, failing vmbus_open(), and no leaked channels.
 */

#include "hvs_test.h"
#include "../kselftest_harness.h"

FIXTURE(ev)
{
	int g;		/* guest socket */
	int h;		/* host end */
	struct hvsim_stats before;
};

FIXTURE_SETUP(ev)
{
	/* Configuring the host changes no counter. */
	ASSERT_EQ(0, hvs_host_stats(&self->before));
	HVS_PAIR_SETUP(hvs_pair);
}

FIXTURE_TEARDOWN(ev)
{
	HVS_PAIR_TEARDOWN();
}

/*
 * Wait for the hang-up a host rescind brings. The rescind is handled while
 * we poll: a poll() that runs during it may report the reset (POLLERR) a
 * moment before the hang-up. Returns the last revents or -errno.
 */
static int wait_hup(int fd)
{
	long long t0 = hvs_now_ms();
	int ev;

	do {
		ev = hvs_poll(fd, POLLHUP, HVS_WAIT_MS);
		if (ev >= 0 && !(ev & POLLHUP))
			hvs_msleep(10);
	} while (ev >= 0 && !(ev & POLLHUP) &&
		 hvs_now_ms() - t0 < HVS_WAIT_MS);
	return ev;
}

static int host_rescind(void *arg)
{
	return hvs_host_rescind(*(int *)arg);
}

/* A reader blocked in recv() when the host rescinds: 0 or ECONNRESET. */
TEST_F(ev, rescind_wakes_reader)
{
	struct hvs_delayed d;
	char buf[8];
	int ret;

	ASSERT_EQ(0, hvs_delayed_start(&d, 300, host_rescind, &self->h));
	ret = hvs_err(recv(self->g, buf, sizeof(buf), 0));
	EXPECT_TRUE(ret == 0 || ret == -ECONNRESET) TH_LOG("%d", ret);
	EXPECT_EQ(0, hvs_delayed_join(&d));
	/* And stays at end of stream. */
	ret = hvs_err(recv(self->g, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_TRUE(ret == 0 || ret == -ECONNRESET) TH_LOG("%d", ret);
}

/* A writer blocked on a full ring when the host rescinds. */
TEST_F(ev, rescind_wakes_writer)
{
	static char buf[256 * 1024];
	struct hvs_delayed d;
	ssize_t n;
	int ret;

	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	ASSERT_EQ(0, hvs_delayed_start(&d, 400, host_rescind, &self->h));
	n = send(self->g, buf, sizeof(buf), MSG_NOSIGNAL);
	ret = n < 0 ? -errno : 0;
	EXPECT_EQ(0, hvs_delayed_join(&d));
	if (n >= 0) {
		/* Partial count, as TCP returns what it copied. */
		EXPECT_GT(sizeof(buf), n);
		ret = hvs_err(send(self->g, buf, 1, MSG_NOSIGNAL));
	}
	EXPECT_TRUE(ret == -EPIPE || ret == -ECONNRESET) TH_LOG("%d", ret);
}

/* The host's FIN with data queued: the data first, then 0. */
TEST_F(ev, fin_with_data_queued)
{
	static char buf[HVS_RING_DATA / 2], in[HVS_RING_DATA / 2];

	hvs_fill(61, 0, buf, sizeof(buf));
	ASSERT_EQ(sizeof(buf), hvs_write_full(self->h, buf, sizeof(buf)));
	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	hvs_msleep(200);
	ASSERT_EQ(sizeof(in), recv(self->g, in, sizeof(in), MSG_WAITALL));
	EXPECT_EQ(-1, hvs_check(61, 0, in, sizeof(in)));
	EXPECT_EQ(0, recv(self->g, in, sizeof(in), 0));
}

/*
 * The host writes and closes at once (a rescind): Hyper-V's way to close.
 * The data already in the ring is still delivered, then the end.
 */
TEST_F(ev, rescind_with_data_queued)
{
	static char buf[4000], in[4000];
	ssize_t n;
	int ret;

	hvs_fill(62, 0, buf, sizeof(buf));
	ASSERT_EQ(sizeof(buf), hvs_write_full(self->h, buf, sizeof(buf)));
	hvs_close(&self->h);
	hvs_msleep(300);
	n = recv(self->g, in, sizeof(in), MSG_WAITALL);
	EXPECT_EQ(sizeof(in), n)
		TH_LOG("recv: %zd %s", n, n < 0 ? strerror(errno) : "");
	if (n > 0)
		EXPECT_EQ(-1, hvs_check(62, 0, in, n));
	ret = hvs_err(recv(self->g, in, sizeof(in), 0));
	EXPECT_TRUE(ret == 0 || ret == -ECONNRESET) TH_LOG("%d", ret);
}

/* Rescind after the guest's own FIN; then close: nothing left. */
TEST_F(ev, rescind_after_guest_fin)
{
	char buf[4];

	ASSERT_EQ(0, shutdown(self->g, SHUT_WR));
	EXPECT_EQ(0, hvs_read_full(self->h, buf, 1, HVS_WAIT_MS));
	ASSERT_EQ(0, hvs_host_rescind(self->h));
	EXPECT_TRUE(wait_hup(self->g) & POLLHUP);
	hvs_close(&self->g);
	hvs_close(&self->h);
	EXPECT_HOST_CHANNELS(self->before.channels);
}

/* Rescind of a socket nobody touches, then close: no leak, no report. */
TEST_F(ev, rescind_idle_then_close)
{
	ASSERT_EQ(0, hvs_host_rescind(self->h));
	hvs_msleep(200);
	hvs_close(&self->g);
	hvs_close(&self->h);
	EXPECT_HOST_CHANNELS(self->before.channels);
}

/*
 * The guest closes with data it never read. TCP and AF_UNIX reset the
 * connection then, at once; a FIN and the close timeout are accepted too,
 * but a reset has no reason to wait.
 */
TEST_F(ev, guest_close_with_unread_data)
{
	static char buf[HVS_RING_DATA];
	struct hvsim_conn_info ci;
	long long t0;
	ssize_t n;

	n = write(self->h, buf, sizeof(buf) / 2);
	ASSERT_LT(0, n);
	hvs_msleep(100);
	hvs_close(&self->g);
	t0 = hvs_now_ms();
	EXPECT_EQ(HVSIM_STATE_CLOSED,
		  hvs_host_wait_state(self->h, HVSIM_STATE_CLOSED, 12000, &ci));
	t0 = hvs_now_ms() - t0;
	TH_LOG("closed after %lld ms, %s", t0,
	       ci.flags & HVSIM_INFO_FIN_RECEIVED ? "with a FIN" : "a reset");
	if (!(ci.flags & HVSIM_INFO_FIN_RECEIVED))
		EXPECT_GE(2000, t0) TH_LOG("a reset that waited");
	hvs_close(&self->h);
	EXPECT_HOST_CHANNELS(self->before.channels);
}

/* Rescind while a guest write is stuck and while data is unread. */
TEST_F(ev, rescind_full_rings_both_ways)
{
	static char buf[HVS_RING_DATA * 2];

	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	while (send(self->g, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	ASSERT_EQ(0, fcntl(self->h, F_SETFL, O_NONBLOCK));
	while (write(self->h, buf, sizeof(buf)) > 0)
		;
	ASSERT_EQ(0, hvs_host_rescind(self->h));
	EXPECT_TRUE(wait_hup(self->g) & POLLHUP);
	hvs_close(&self->g);
	hvs_close(&self->h);
	EXPECT_HOST_CHANNELS(self->before.channels);
}

/* A blocked poll() wakes up for the rescind. */
TEST_F(ev, rescind_wakes_poll)
{
	struct hvs_delayed d;
	int ev;

	ASSERT_EQ(0, hvs_delayed_start(&d, 300, host_rescind, &self->h));
	ev = hvs_poll(self->g, POLLIN, HVS_WAIT_MS);
	EXPECT_TRUE(ev & (POLLIN | POLLHUP)) TH_LOG("%#x", ev);
	EXPECT_EQ(0, hvs_delayed_join(&d));
}

/* Many rescinds racing with guest activity: no report on the console. */
TEST_F_TIMEOUT(ev, rescind_race_loop, 90)
{
	char buf[64];
	int i;

	for (i = 0; i < 30; i++) {
		int g, h;

		ASSERT_EQ(0, hvs_pair(&g, &h));
		if (i % 3 == 0)
			ASSERT_EQ(4, write(h, "data", 4));
		send(g, buf, i, MSG_DONTWAIT | MSG_NOSIGNAL);
		hvs_host_rescind(h);
		recv(g, buf, sizeof(buf), MSG_DONTWAIT);
		send(g, buf, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (i & 1)
			shutdown(g, SHUT_RDWR);
		close(g);
		close(h);
	}
	EXPECT_HOST_CHANNELS(self->before.channels + 1);
}

TEST_HARNESS_MAIN
