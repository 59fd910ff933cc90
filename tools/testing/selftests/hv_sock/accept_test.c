// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV listen() and accept(): host-initiated connections to a guest
 * service, blocking and non-blocking accepts, accept4() flags, timeouts,
 * signals, backlog overflow and rescinds before accept().
 */

#include "hvs_test.h"
#include "../kselftest_harness.h"

FIXTURE(acc)
{
	int s;		/* guest listener on svc */
	__u8 svc[16];
	struct hvsim_stats before;
};

FIXTURE_SETUP(acc)
{
	ASSERT_EQ(0, hvs_host_reset_config());
	self->s = hvs_socket(0);
	ASSERT_LE(0, self->s) TH_LOG("socket: %s", strerror(-self->s));
	hvs_random_guid(self->svc);
	ASSERT_EQ(0, hvs_bind(self->s, self->svc));
	ASSERT_EQ(0, listen(self->s, 16));
	ASSERT_EQ(0, hvs_host_stats(&self->before));
}

FIXTURE_TEARDOWN(acc)
{
	close(self->s);
	hvs_host_reset_config();
}

struct host_conn {
	const __u8 *svc;
	int fd;
};

static int host_conn_fn(void *arg)
{
	struct host_conn *hc = arg;

	hc->fd = hvs_host_connect(hc->svc, 5000, 0, NULL);
	return hc->fd < 0 ? hc->fd : 0;
}

TEST_F(acc, accept_blocking)
{
	struct host_conn hc = { .svc = self->svc };
	struct hvs_delayed d;
	long long t0;
	char buf[8];
	int c;

	ASSERT_EQ(0, hvs_delayed_start(&d, 300, host_conn_fn, &hc));
	t0 = hvs_now_ms();
	c = accept(self->s, NULL, NULL);
	EXPECT_LE(250, hvs_now_ms() - t0);
	ASSERT_LE(0, c) TH_LOG("accept: %s", strerror(errno));
	ASSERT_EQ(0, hvs_delayed_join(&d));
	/* Data both ways on the new connection. */
	ASSERT_EQ(5, write(hc.fd, "hello", 5));
	ASSERT_EQ(5, hvs_read_full(c, buf, 5, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(3, send(c, "bye", 3, 0));
	ASSERT_EQ(3, hvs_read_full(hc.fd, buf, 3, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "bye", 3));
	close(c);
	close(hc.fd);
}

TEST_F(acc, accept_nonblocking_eagain)
{
	int c, h;

	ASSERT_EQ(0, fcntl(self->s, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, accept(self->s, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, accept4(self->s, NULL, NULL, SOCK_CLOEXEC));
	EXPECT_EQ(EAGAIN, errno);
	/* With a connection waiting it succeeds at once. */
	h = hvs_host_connect(self->svc, 5000, 0, NULL);
	ASSERT_LE(0, h) TH_LOG("host connect: %s", strerror(-h));
	ASSERT_TRUE(hvs_poll(self->s, POLLIN, HVS_WAIT_MS) & POLLIN);
	c = accept(self->s, NULL, NULL);
	ASSERT_LE(0, c) TH_LOG("accept: %s", strerror(errno));
	/* accept() does not inherit O_NONBLOCK (as TCP on Linux). */
	EXPECT_EQ(0, fcntl(c, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(-1, accept(self->s, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	close(c);
	close(h);
}

TEST_F(acc, accept4_flags)
{
	char buf[4];
	int c, h;

	h = hvs_host_connect(self->svc, 5000, 0, NULL);
	ASSERT_LE(0, h);
	c = accept4(self->s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_LE(0, c) TH_LOG("accept4: %s", strerror(errno));
	EXPECT_TRUE(fcntl(c, F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(c, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	close(c);
	close(h);

	h = hvs_host_connect(self->svc, 5000, 0, NULL);
	ASSERT_LE(0, h);
	c = accept4(self->s, NULL, NULL, 0);
	ASSERT_LE(0, c);
	EXPECT_FALSE(fcntl(c, F_GETFL) & O_NONBLOCK);
	EXPECT_FALSE(fcntl(c, F_GETFD) & FD_CLOEXEC);
	close(c);
	close(h);

	EXPECT_EQ(-1, accept4(self->s, NULL, NULL, 0x40000000));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(acc, accept_rcvtimeo)
{
	long long t0, dt;

	ASSERT_EQ(0, hvs_set_timeo(self->s, SO_RCVTIMEO, 300));
	t0 = hvs_now_ms();
	EXPECT_EQ(-1, accept(self->s, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	dt = hvs_now_ms() - t0;
	EXPECT_LE(250, dt);
	EXPECT_GE(3000, dt);
}

TEST_F(acc, accept_eintr)
{
	long long t0;

	ASSERT_EQ(0, hvs_catch(SIGALRM, false));
	ASSERT_EQ(0, hvs_alarm_ms(300));
	t0 = hvs_now_ms();
	EXPECT_EQ(-1, accept(self->s, NULL, NULL));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, hvs_signals);
	EXPECT_GE(3000, hvs_now_ms() - t0);
}

TEST_F(acc, accept_sa_restart)
{
	struct host_conn hc = { .svc = self->svc };
	struct hvs_delayed d;
	int c;

	ASSERT_EQ(0, hvs_catch(SIGALRM, true));
	ASSERT_EQ(0, hvs_alarm_ms(200));
	ASSERT_EQ(0, hvs_delayed_start(&d, 700, host_conn_fn, &hc));
	c = accept(self->s, NULL, NULL);
	EXPECT_LE(0, c) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(1, hvs_signals);
	EXPECT_EQ(0, hvs_delayed_join(&d));
	close(c);
	close(hc.fd);
}

TEST_F(acc, accept_not_listening_einval)
{
	int s2 = hvs_socket(0);

	ASSERT_LE(0, s2);
	EXPECT_EQ(-1, accept(s2, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, hvs_bind(s2, hvs_guid_wildcard));
	EXPECT_EQ(-1, accept(s2, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	close(s2);
}

TEST_F(acc, listen_backlog_values)
{
	/* Any int: clamped to somaxconn, as for every family. */
	EXPECT_EQ(0, listen(self->s, 0));
	EXPECT_EQ(0, listen(self->s, -1));
	EXPECT_EQ(0, listen(self->s, 1 << 30));
	EXPECT_EQ(0, listen(self->s, 4));
}

/* TCP binds a port on listen(); AF_VSOCK says EINVAL: either is fine. */
TEST_F(acc, listen_unbound)
{
	struct sockaddr_hv a;
	int s2 = hvs_socket(0), ret;

	ASSERT_LE(0, s2);
	ret = hvs_err(listen(s2, 1));
	EXPECT_TRUE(ret == 0 || ret == -EINVAL) TH_LOG("%d", ret);
	if (!ret) {
		ASSERT_EQ(0, hvs_getsockname(s2, &a));
		EXPECT_FALSE(hvs_guid_is_zero(a.shv_service_id));
	}
	close(s2);
}

TEST_F(acc, listen_connected_einval)
{
	int g, h;

	ASSERT_EQ(0, hvs_pair(&g, &h));
	EXPECT_EQ(-1, listen(g, 1));
	EXPECT_EQ(EINVAL, errno);
	close(g);
	close(h);
}

TEST_F(acc, recv_on_listener_enotconn)
{
	char c;

	EXPECT_EQ(-1, recv(self->s, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(ENOTCONN, errno);
	EXPECT_EQ(-1, send(self->s, &c, 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	EXPECT_TRUE(errno == ENOTCONN || errno == EPIPE) TH_LOG("%d", errno);
}

/*
 * The backlog is full: the guest refuses further offers (the host's
 * connect fails), without leaking their channels, and takes new ones again
 * once accept() made room. TCP admits backlog + 1; allow 1 to 2 here.
 */
TEST_F_TIMEOUT(acc, backlog_overflow, 60)
{
	int h[5], c[5], ok = 0, i, n = 0;
	long long chans;

	ASSERT_EQ(0, listen(self->s, 1));
	for (i = 0; i < 5; i++) {
		h[i] = hvs_host_connect(self->svc, 1000, 0, NULL);
		if (h[i] >= 0)
			ok++;
		else
			TH_LOG("host connect %d: %s", i, strerror(-h[i]));
	}
	EXPECT_LE(1, ok);
	EXPECT_GE(2, ok);
	ASSERT_EQ(0, fcntl(self->s, F_SETFL, O_NONBLOCK));
	while (n < 5 && (c[n] = accept(self->s, NULL, NULL)) >= 0)
		n++;
	EXPECT_EQ(ok, n);
	/* Refused offers are gone: only the accepted channels remain. */
	chans = hvs_host_wait_channels(self->before.channels + ok, HVS_WAIT_MS);
	EXPECT_GE(self->before.channels + ok, chans);
	for (i = 0; i < n; i++)
		close(c[i]);
	for (i = 0; i < 5; i++)
		if (h[i] >= 0)
			close(h[i]);

	/* Later connections still work. */
	h[0] = hvs_host_connect(self->svc, 5000, 0, NULL);
	ASSERT_LE(0, h[0]) TH_LOG("host connect: %s", strerror(-h[0]));
	ASSERT_TRUE(hvs_poll(self->s, POLLIN, HVS_WAIT_MS) & POLLIN);
	c[0] = accept(self->s, NULL, NULL);
	EXPECT_LE(0, c[0]);
	close(c[0]);
	close(h[0]);
}

/*
 * The host rescinds a connection the guest has opened but not accepted.
 * Both outcomes TCP has for a reset in the accept queue are accepted:
 * accept() skips it (EAGAIN), or returns it and it reads 0 or ECONNRESET.
 */
TEST_F(acc, rescind_before_accept)
{
	char buf[4];
	int h, c, ret;

	h = hvs_host_connect(self->svc, 5000, 0, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(0, hvs_host_rescind(h));
	hvs_msleep(300);
	ASSERT_EQ(0, fcntl(self->s, F_SETFL, O_NONBLOCK));
	c = accept(self->s, NULL, NULL);
	if (c < 0) {
		EXPECT_EQ(EAGAIN, errno);
		TH_LOG("the rescinded connection was dropped from the queue");
	} else {
		ASSERT_TRUE(hvs_poll(c, POLLIN, HVS_WAIT_MS) & POLLIN);
		ret = hvs_err(recv(c, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_TRUE(ret == 0 || ret == -ECONNRESET) TH_LOG("%d", ret);
		TH_LOG("the rescinded connection was accepted, recv %d", ret);
		close(c);
	}
	close(h);
	EXPECT_HOST_CHANNELS(self->before.channels);

	/* The listener still works. */
	h = hvs_host_connect(self->svc, 5000, 0, NULL);
	ASSERT_LE(0, h);
	ASSERT_TRUE(hvs_poll(self->s, POLLIN, HVS_WAIT_MS) & POLLIN);
	c = accept(self->s, NULL, NULL);
	ASSERT_LE(0, c);
	ASSERT_EQ(2, write(h, "ok", 2));
	EXPECT_EQ(2, hvs_read_full(c, buf, 2, HVS_WAIT_MS));
	close(c);
	close(h);
}

/* Rescinded before the guest even saw the offer: nothing to accept. */
TEST_F(acc, rescind_before_offer_delivered)
{
	int h, c;

	ASSERT_EQ(0, hvs_host_config_set(offer_delay_ms, 500));
	h = hvs_host_connect(self->svc, 5000, HVSIM_CONNECT_NOWAIT, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(0, hvs_host_rescind(h));
	close(h);
	hvs_msleep(800);
	ASSERT_EQ(0, fcntl(self->s, F_SETFL, O_NONBLOCK));
	c = accept(self->s, NULL, NULL);
	EXPECT_EQ(-1, c);
	EXPECT_EQ(EAGAIN, errno);
	if (c >= 0)
		close(c);
	EXPECT_HOST_CHANNELS(self->before.channels);
}

/* The guest's vmbus_open() of a host offer fails: nothing is queued. */
TEST_F(acc, open_fails)
{
	int h, c;

	ASSERT_EQ(0, hvs_host_config_set(fail_opens, 1));
	h = hvs_host_connect(self->svc, 3000, 0, NULL);
	EXPECT_EQ(-ECONNREFUSED, h);
	if (h >= 0)
		close(h);
	ASSERT_EQ(0, fcntl(self->s, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, accept(self->s, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_HOST_CHANNELS(self->before.channels);
	h = hvs_host_connect(self->svc, 5000, 0, NULL);
	ASSERT_LE(0, h);
	ASSERT_TRUE(hvs_poll(self->s, POLLIN, HVS_WAIT_MS) & POLLIN);
	c = accept(self->s, NULL, NULL);
	EXPECT_LE(0, c);
	close(c);
	close(h);
}

/* No listener on the service: the guest does not take the offer. */
TEST_F(acc, no_guest_listener)
{
	__u8 other[16];
	int h;

	hvs_random_guid(other);
	h = hvs_host_connect(other, 1000, 0, NULL);
	EXPECT_GT(0, h);
	TH_LOG("host connect to a service nobody listens on: %s",
	       strerror(-h));
	if (h >= 0)
		close(h);
	EXPECT_HOST_CHANNELS(self->before.channels);
}

/* Closing a listener with connections queued closes them towards the host. */
TEST_F(acc, close_listener_with_queue)
{
	struct hvsim_conn_info ci;
	int h1, h2;

	h1 = hvs_host_connect(self->svc, 5000, 0, NULL);
	h2 = hvs_host_connect(self->svc, 5000, 0, NULL);
	ASSERT_LE(0, h1);
	ASSERT_LE(0, h2);
	close(self->s);
	self->s = -1;
	EXPECT_EQ(HVSIM_STATE_CLOSED,
		  hvs_host_wait_state(h1, HVSIM_STATE_CLOSED, HVS_WAIT_MS, &ci));
	EXPECT_EQ(HVSIM_STATE_CLOSED,
		  hvs_host_wait_state(h2, HVSIM_STATE_CLOSED, HVS_WAIT_MS, &ci));
	close(h1);
	close(h2);
	EXPECT_HOST_CHANNELS(self->before.channels);
}

/* Many connections queued, accepted in order with distinct peers. */
TEST_F(acc, accept_queue_order)
{
	__u8 ids[8][16];
	struct sockaddr_hv p;
	int h[8], c, i;

	for (i = 0; i < 8; i++) {
		h[i] = hvs_host_connect(self->svc, 5000, 0, ids[i]);
		ASSERT_LE(0, h[i]);
	}
	for (i = 0; i < 8; i++) {
		c = accept(self->s, NULL, NULL);
		ASSERT_LE(0, c);
		ASSERT_EQ(0, hvs_getpeername(c, &p));
		EXPECT_TRUE(hvs_guid_eq(ids[i], p.shv_service_id))
			TH_LOG("connection %d out of order", i);
		close(c);
	}
	for (i = 0; i < 8; i++)
		close(h[i]);
}

TEST_HARNESS_MAIN
