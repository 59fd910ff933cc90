// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV connect() from the guest to a host listener: autobind, blocking
 * and non-blocking connects, timeouts, signals and host-side failures.
 */

#include "hvs_test.h"
#include "../kselftest_harness.h"

FIXTURE(conn)
{
	int s;		/* guest socket */
	int l;		/* host listener on svc */
	__u8 svc[16];
	__u8 nobody[16];	/* a service nobody listens on */
};

FIXTURE_SETUP(conn)
{
	self->l = -1;
	ASSERT_EQ(0, hvs_host_reset_config());
	self->s = hvs_socket(0);
	ASSERT_LE(0, self->s) TH_LOG("socket: %s", strerror(-self->s));
	hvs_random_guid(self->svc);
	hvs_random_guid(self->nobody);
	self->l = hvs_host_listen(self->svc, 0, 0);
	ASSERT_LE(0, self->l) TH_LOG("host listen: %s", strerror(-self->l));
}

FIXTURE_TEARDOWN(conn)
{
	close(self->s);
	close(self->l);
	hvs_host_reset_config();
}

TEST_F(conn, to_parent)
{
	struct sockaddr_hv a;
	struct hvsim_accept ha;
	int h;

	ASSERT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
	h = hvs_host_accept(self->l, HVS_WAIT_MS, &ha);
	ASSERT_LE(0, h) TH_LOG("host accept: %s", strerror(-h));
	EXPECT_TRUE(hvs_guid_eq(self->svc, ha.host_service_id));
	/* Autobind: the guest end got a service, the one the host sees. */
	ASSERT_EQ(0, hvs_getsockname(self->s, &a));
	EXPECT_FALSE(hvs_guid_is_zero(a.shv_service_id));
	EXPECT_TRUE(hvs_guid_eq(ha.guest_service_id, a.shv_service_id));
	close(h);
}

TEST_F(conn, to_wildcard_vm)
{
	struct sockaddr_hv p;
	int h;

	ASSERT_EQ(0, hvs_connect(self->s, hvs_guid_wildcard, self->svc));
	h = hvs_host_accept(self->l, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(0, hvs_getpeername(self->s, &p));
	EXPECT_TRUE(hvs_guid_eq(self->svc, p.shv_service_id));
	close(h);
}

TEST_F(conn, bound_service_used)
{
	struct hvsim_accept ha;
	struct sockaddr_hv a;
	__u8 mine[16];
	int h;

	hvs_random_guid(mine);
	ASSERT_EQ(0, hvs_bind(self->s, mine));
	ASSERT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
	h = hvs_host_accept(self->l, HVS_WAIT_MS, &ha);
	ASSERT_LE(0, h);
	EXPECT_TRUE(hvs_guid_eq(mine, ha.guest_service_id));
	ASSERT_EQ(0, hvs_getsockname(self->s, &a));
	EXPECT_TRUE(hvs_guid_eq(mine, a.shv_service_id));
	close(h);
}

TEST_F(conn, two_sockets_distinct_services)
{
	struct hvsim_accept h1, h2;
	int s2, a, b;

	s2 = hvs_socket(0);
	ASSERT_LE(0, s2);
	ASSERT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
	ASSERT_EQ(0, hvs_connect(s2, hvs_guid_parent, self->svc));
	a = hvs_host_accept(self->l, HVS_WAIT_MS, &h1);
	b = hvs_host_accept(self->l, HVS_WAIT_MS, &h2);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_FALSE(hvs_guid_eq(h1.guest_service_id, h2.guest_service_id));
	close(a);
	close(b);
	close(s2);
}

TEST_F(conn, bad_address)
{
	struct sockaddr_hv a;

	hvs_addr(&a, hvs_guid_parent, self->svc);
	EXPECT_EQ(-1, connect(self->s, (struct sockaddr *)&a, sizeof(a) - 1));
	EXPECT_EQ(EINVAL, errno);
	a.shv_family = AF_INET;
	EXPECT_EQ(-1, connect(self->s, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	hvs_addr(&a, hvs_guid_parent, self->svc);
	a.shv_reserved = 7;
	EXPECT_EQ(-1, connect(self->s, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINVAL, errno);
	/* Still usable. */
	EXPECT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
}

TEST_F(conn, timeout_option)
{
	socklen_t len = sizeof(__u32);
	__u32 ms = 0;

	ASSERT_EQ(0, getsockopt(self->s, SOL_HYPERV, HVSOCKET_CONNECT_TIMEOUT,
				&ms, &len));
	EXPECT_EQ(sizeof(__u32), len);
	EXPECT_EQ(30000, ms);
	ASSERT_EQ(0, hvs_set_connect_timeout(self->s, 1234));
	len = sizeof(ms);
	ASSERT_EQ(0, getsockopt(self->s, SOL_HYPERV, HVSOCKET_CONNECT_TIMEOUT,
				&ms, &len));
	EXPECT_EQ(1234, ms);
	EXPECT_EQ(0, hvs_set_connect_timeout(self->s, 1));
	EXPECT_EQ(0, hvs_set_connect_timeout(self->s,
					     HVSOCKET_CONNECT_TIMEOUT_MAX));
	len = sizeof(ms);
	ASSERT_EQ(0, getsockopt(self->s, SOL_HYPERV, HVSOCKET_CONNECT_TIMEOUT,
				&ms, &len));
	EXPECT_EQ(HVSOCKET_CONNECT_TIMEOUT_MAX, ms);
}

TEST_F(conn, timeout_option_invalid)
{
	__u16 small = 100;
	__u32 ms;

	EXPECT_EQ(-EINVAL, hvs_set_connect_timeout(self->s, 0));
	EXPECT_EQ(-EINVAL, hvs_set_connect_timeout(self->s,
						   HVSOCKET_CONNECT_TIMEOUT_MAX + 1));
	EXPECT_EQ(-EINVAL, hvs_set_connect_timeout(self->s, 0xffffffffU));
	EXPECT_EQ(-1, setsockopt(self->s, SOL_HYPERV, HVSOCKET_CONNECT_TIMEOUT,
				 &small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	/* Unknown SOL_HYPERV option. */
	ms = 1000;
	EXPECT_EQ(-1, setsockopt(self->s, SOL_HYPERV, 0x7777, &ms, sizeof(ms)));
	EXPECT_EQ(ENOPROTOOPT, errno);
}

/* Nobody listens: Hyper-V drops the request, connect() times out. */
TEST_F(conn, no_listener_etimedout)
{
	long long t0, dt;

	ASSERT_EQ(0, hvs_set_connect_timeout(self->s, HVS_SHORT_TIMEOUT_MS));
	t0 = hvs_now_ms();
	EXPECT_EQ(-ETIMEDOUT, hvs_connect(self->s, hvs_guid_parent,
					  self->nobody));
	dt = hvs_now_ms() - t0;
	EXPECT_LE(HVS_SHORT_TIMEOUT_MS - 50, dt);
	EXPECT_GE(HVS_SHORT_TIMEOUT_MS + 3000, dt);
	/* As with TCP, the socket can try again. */
	EXPECT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
}

TEST_F(conn, ignored_request_etimedout)
{
	struct hvsim_stats before, after;
	int h;

	ASSERT_EQ(0, hvs_host_config_set(ignore_connects, 1));
	ASSERT_EQ(0, hvs_host_stats(&before));
	ASSERT_EQ(0, hvs_set_connect_timeout(self->s, HVS_SHORT_TIMEOUT_MS));
	EXPECT_EQ(-ETIMEDOUT, hvs_connect(self->s, hvs_guid_parent, self->svc));
	ASSERT_EQ(0, hvs_host_stats(&after));
	EXPECT_EQ(before.connects_ignored + 1, after.connects_ignored);
	EXPECT_EQ(-ETIMEDOUT, hvs_host_accept(self->l, 100, NULL));
	/* The fault counted down: the next attempt goes through. */
	ASSERT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
	h = hvs_host_accept(self->l, HVS_WAIT_MS, NULL);
	EXPECT_LE(0, h);
	close(h);
}

/*
 * SO_SNDTIMEO bounds a blocking connect() too. AF_VSOCK and the Hyper-V
 * option answer ETIMEDOUT; TCP answers EINPROGRESS: both are accepted.
 */
TEST_F(conn, sndtimeo_bounds_connect)
{
	long long t0, dt;
	int ret;

	ASSERT_EQ(0, hvs_set_timeo(self->s, SO_SNDTIMEO, 300));
	t0 = hvs_now_ms();
	ret = hvs_connect(self->s, hvs_guid_parent, self->nobody);
	dt = hvs_now_ms() - t0;
	EXPECT_TRUE(ret == -ETIMEDOUT || ret == -EINPROGRESS)
		TH_LOG("connect: %d (%s)", ret, strerror(-ret));
	EXPECT_LE(250, dt);
	EXPECT_GE(3000, dt) TH_LOG("SO_SNDTIMEO ignored: %lld ms", dt);
}

TEST_F(conn, nonblocking)
{
	int ret, h;

	ASSERT_EQ(0, hvs_host_config_set(offer_delay_ms, 500));
	ASSERT_EQ(0, fcntl(self->s, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-EINPROGRESS, hvs_connect(self->s, hvs_guid_parent,
					    self->svc));
	EXPECT_EQ(-EALREADY, hvs_connect(self->s, hvs_guid_parent, self->svc));
	/* Nothing to report while the host has not answered. */
	EXPECT_EQ(0, hvs_poll(self->s, POLLIN | POLLOUT, 100));
	ret = hvs_poll(self->s, POLLOUT, HVS_WAIT_MS);
	ASSERT_TRUE(ret & POLLOUT) TH_LOG("revents %#x", ret);
	EXPECT_FALSE(ret & (POLLERR | POLLHUP));
	EXPECT_EQ(0, hvs_so_error(self->s));
	/* TCP reports 0 once, then EISCONN; AF_VSOCK EISCONN at once. */
	ret = hvs_connect(self->s, hvs_guid_parent, self->svc);
	EXPECT_TRUE(ret == 0 || ret == -EISCONN) TH_LOG("%d", ret);
	EXPECT_EQ(-EISCONN, hvs_connect(self->s, hvs_guid_parent, self->svc));
	h = hvs_host_accept(self->l, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(3, send(self->s, "abc", 3, 0));
	close(h);
}

TEST_F(conn, nonblocking_timeout_so_error)
{
	int ret;

	ASSERT_EQ(0, hvs_set_connect_timeout(self->s, HVS_SHORT_TIMEOUT_MS));
	ASSERT_EQ(0, fcntl(self->s, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-EINPROGRESS, hvs_connect(self->s, hvs_guid_parent,
					    self->nobody));
	ret = hvs_poll(self->s, POLLOUT, HVS_SHORT_TIMEOUT_MS + HVS_WAIT_MS);
	EXPECT_TRUE(ret & (POLLERR | POLLHUP)) TH_LOG("revents %#x", ret);
	EXPECT_EQ(ETIMEDOUT, hvs_so_error(self->s));
	/* SO_ERROR is read once. */
	EXPECT_EQ(0, hvs_so_error(self->s));
}

TEST_F(conn, eisconn_when_connected)
{
	int h;

	ASSERT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
	EXPECT_EQ(-EISCONN, hvs_connect(self->s, hvs_guid_parent, self->svc));
	EXPECT_EQ(-EISCONN, hvs_connect(self->s, hvs_guid_parent,
					self->nobody));
	h = hvs_host_accept(self->l, HVS_WAIT_MS, NULL);
	EXPECT_LE(0, h);
	close(h);
}

/* TCP says EISCONN, AF_VSOCK EINVAL: either, but never a connection. */
TEST_F(conn, on_listening_socket_fails)
{
	__u8 mine[16];
	int ret;

	hvs_random_guid(mine);
	ASSERT_EQ(0, hvs_bind(self->s, mine));
	ASSERT_EQ(0, listen(self->s, 1));
	ret = hvs_connect(self->s, hvs_guid_parent, self->svc);
	EXPECT_TRUE(ret == -EISCONN || ret == -EINVAL) TH_LOG("%d", ret);
	EXPECT_EQ(-ETIMEDOUT, hvs_host_accept(self->l, 200, NULL));
}

TEST_F(conn, signal_interrupts)
{
	long long t0, dt;

	ASSERT_EQ(0, hvs_catch(SIGALRM, false));
	ASSERT_EQ(0, hvs_set_connect_timeout(self->s, 10000));
	ASSERT_EQ(0, hvs_alarm_ms(300));
	t0 = hvs_now_ms();
	EXPECT_EQ(-EINTR, hvs_connect(self->s, hvs_guid_parent, self->nobody));
	dt = hvs_now_ms() - t0;
	EXPECT_EQ(1, hvs_signals);
	EXPECT_GE(3000, dt);
}

/* The host refuses vmbus_open(): connect() fails and nothing is left. */
TEST_F(conn, open_fails)
{
	struct hvsim_stats before, after;
	long long chans;
	int ret, h;

	ASSERT_EQ(0, hvs_host_stats(&before));
	ASSERT_EQ(0, hvs_host_config_set(fail_opens, 1));
	ASSERT_EQ(0, hvs_set_connect_timeout(self->s, 3000));
	ret = hvs_connect(self->s, hvs_guid_parent, self->svc);
	EXPECT_GT(0, ret);
	EXPECT_NE(-EINTR, ret);
	TH_LOG("connect with a failing vmbus_open: %s", strerror(-ret));
	ASSERT_EQ(0, hvs_host_stats(&after));
	EXPECT_EQ(before.opens_refused + 1, after.opens_refused);
	EXPECT_EQ(-ETIMEDOUT, hvs_host_accept(self->l, 100, NULL));
	chans = hvs_host_wait_channels(before.channels, HVS_WAIT_MS);
	EXPECT_GE(before.channels, chans) TH_LOG("channel leaked");
	/* A new socket connects. */
	close(self->s);
	self->s = hvs_socket(0);
	ASSERT_LE(0, self->s);
	ASSERT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
	h = hvs_host_accept(self->l, HVS_WAIT_MS, NULL);
	EXPECT_LE(0, h);
	close(h);
}

/* Same, retrying on the same socket as TCP allows. */
TEST_F(conn, open_fails_then_retry)
{
	int h;

	ASSERT_EQ(0, hvs_host_config_set(fail_opens, 1));
	ASSERT_EQ(0, hvs_set_connect_timeout(self->s, 3000));
	ASSERT_GT(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
	ASSERT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
	h = hvs_host_accept(self->l, HVS_WAIT_MS, NULL);
	EXPECT_LE(0, h);
	close(h);
}

/*
 * The host rescinds its offer before the guest saw it: the guest learns
 * nothing, as on Hyper-V, and its connect() ends in its own timeout.
 */
TEST_F(conn, offer_rescinded_before_delivery)
{
	struct hvsim_stats before;
	int l2, h, ret;
	__u8 svc2[16];

	ASSERT_EQ(0, hvs_host_stats(&before));
	hvs_random_guid(svc2);
	l2 = hvs_host_listen(svc2, 0, HVSIM_LISTEN_EARLY_ACCEPT);
	ASSERT_LE(0, l2);
	ASSERT_EQ(0, hvs_host_config_set(offer_delay_ms, 1000));
	ASSERT_EQ(0, hvs_set_connect_timeout(self->s, 1500));
	ASSERT_EQ(0, fcntl(self->s, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-EINPROGRESS, hvs_connect(self->s, hvs_guid_parent, svc2));
	h = hvs_host_accept(l2, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(0, hvs_host_rescind(h));
	ret = hvs_poll(self->s, POLLOUT, HVS_WAIT_MS);
	EXPECT_TRUE(ret & (POLLERR | POLLHUP)) TH_LOG("revents %#x", ret);
	EXPECT_EQ(ETIMEDOUT, hvs_so_error(self->s));
	close(h);
	close(l2);
	EXPECT_HOST_CHANNELS(before.channels);
}

/* Under the newer host personality the same connect works. */
TEST_F(conn, modern_host)
{
	char buf[4];
	int h;

	ASSERT_EQ(0, hvs_host_config_set(personality, HVSIM_PERSONALITY_MODERN));
	ASSERT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
	h = hvs_host_accept(self->l, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(4, write(h, "ping", 4));
	ASSERT_EQ(4, hvs_read_full(self->s, buf, 4, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
	close(h);
}

/* Closing a socket whose connect is pending leaves nothing behind. */
TEST_F(conn, close_while_connecting)
{
	struct hvsim_stats before;
	struct hvsim_config c;
	long long chans;

	ASSERT_EQ(0, hvs_host_stats(&before));
	ASSERT_EQ(0, hvs_host_get_config(&c));
	c.offer_delay_ms = 300;
	/* An offer nobody opens is the host's to reclaim: make it quick. */
	c.open_timeout_ms = 1000;
	ASSERT_EQ(0, hvs_host_set_config(&c));
	ASSERT_EQ(0, fcntl(self->s, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-EINPROGRESS, hvs_connect(self->s, hvs_guid_parent,
					    self->svc));
	close(self->s);
	self->s = -1;
	hvs_msleep(600);
	close(self->l);
	self->l = -1;
	chans = hvs_host_wait_channels(before.channels, HVS_WAIT_MS);
	EXPECT_GE(before.channels, chans) TH_LOG("channel leaked");
}

TEST_HARNESS_MAIN
