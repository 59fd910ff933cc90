// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV poll() and epoll (level and edge triggered): the events of
 * each socket state are the ones TCP reports.
 */

#include "hvs_test.h"

#include <sys/epoll.h>
#include "../kselftest_harness.h"

#define ALL_EVENTS	(POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | \
			 POLLRDHUP)
#define IO_EVENTS	(POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP)

/* The events of @fd right now, reduced to the interesting bits. */
static int events_now(int fd)
{
	int ev = hvs_poll(fd, ALL_EVENTS, 0);

	return ev < 0 ? ev : ev & IO_EVENTS;
}

/* Wait up to HVS_WAIT_MS for all of @want; the events then. */
static int events_wait(int fd, int want)
{
	long long end = hvs_now_ms() + HVS_WAIT_MS;
	int ev;

	do {
		ev = hvs_poll(fd, ALL_EVENTS, 50);
		if (ev < 0)
			return ev;
		ev &= IO_EVENTS;
		if ((ev & want) == want)
			return ev;
		hvs_msleep(20);
	} while (hvs_now_ms() < end);
	return ev;
}

FIXTURE(pl)
{
	int g;		/* guest socket */
	int h;		/* host end */
};

FIXTURE_SETUP(pl)
{
	HVS_PAIR_SETUP(hvs_pair);
}

FIXTURE_TEARDOWN(pl)
{
	HVS_PAIR_TEARDOWN();
}

/* TCP: a socket that never connected reports POLLOUT | POLLHUP. */
TEST(fresh_socket)
{
	int s = hvs_socket(0), ev;

	ASSERT_LE(0, s);
	ev = events_now(s);
	EXPECT_TRUE(ev & POLLHUP) TH_LOG("revents %#x", ev);
	EXPECT_FALSE(ev & (POLLIN | POLLERR | POLLRDHUP)) TH_LOG("%#x", ev);
	close(s);
}

TEST(listening)
{
	__u8 svc[16];
	int s = hvs_socket(0), h, c;

	ASSERT_LE(0, s);
	hvs_random_guid(svc);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 4));
	EXPECT_EQ(0, events_now(s));
	h = hvs_host_connect(svc, 5000, 0, NULL);
	ASSERT_LE(0, h);
	EXPECT_EQ(POLLIN, events_wait(s, POLLIN));
	c = accept(s, NULL, NULL);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, events_now(s));
	close(c);
	close(h);
	close(s);
}

TEST(connecting)
{
	__u8 svc[16];
	int s, l, h;

	ASSERT_EQ(0, hvs_host_reset_config());
	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, hvs_host_config_set(offer_delay_ms, 500));
	s = hvs_socket(SOCK_NONBLOCK);
	ASSERT_LE(0, s);
	ASSERT_EQ(-EINPROGRESS, hvs_connect(s, hvs_guid_parent, svc));
	EXPECT_EQ(0, events_now(s));
	EXPECT_EQ(POLLOUT, events_wait(s, POLLOUT));
	h = hvs_host_accept(l, HVS_WAIT_MS, NULL);
	EXPECT_LE(0, h);
	hvs_host_reset_config();
	close(h);
	close(s);
	close(l);
}

TEST(connect_failed)
{
	__u8 svc[16];
	int s, ev;

	hvs_random_guid(svc);
	s = hvs_socket(SOCK_NONBLOCK);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, hvs_set_connect_timeout(s, 300));
	ASSERT_EQ(-EINPROGRESS, hvs_connect(s, hvs_guid_parent, svc));
	ev = events_wait(s, POLLERR);
	EXPECT_TRUE(ev & POLLERR) TH_LOG("revents %#x", ev);
	EXPECT_TRUE(ev & POLLHUP) TH_LOG("revents %#x", ev);
	close(s);
}

TEST_F(pl, connected_idle)
{
	EXPECT_EQ(POLLOUT, events_now(self->g));
}

TEST_F(pl, data_arrived)
{
	char buf[8];

	ASSERT_EQ(3, write(self->h, "abc", 3));
	EXPECT_EQ(POLLIN | POLLOUT, events_wait(self->g, POLLIN));
	ASSERT_EQ(3, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_EQ(POLLOUT, events_now(self->g));
}

TEST_F(pl, peer_fin)
{
	char buf[8];

	ASSERT_EQ(1, write(self->h, "x", 1));
	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP,
		  events_wait(self->g, POLLIN | POLLRDHUP));
	ASSERT_EQ(1, recv(self->g, buf, sizeof(buf), 0));
	/* Still readable: the 0 of end of stream. */
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP, events_now(self->g));
}

/* The host closes (rescinds): hang-up; ERR only if it counts as a reset. */
TEST_F(pl, peer_rescind)
{
	int ev;

	close(self->h);
	self->h = -1;
	ev = events_wait(self->g, POLLIN | POLLHUP | POLLRDHUP);
	EXPECT_EQ(POLLIN | POLLHUP | POLLRDHUP,
		  ev & (POLLIN | POLLHUP | POLLRDHUP)) TH_LOG("%#x", ev);
	TH_LOG("events after the host's close: %#x", ev);
}

TEST_F(pl, peer_fin_then_rescind)
{
	int ev;

	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	ASSERT_EQ(POLLIN | POLLOUT | POLLRDHUP,
		  events_wait(self->g, POLLIN | POLLRDHUP));
	close(self->h);
	self->h = -1;
	ev = events_wait(self->g, POLLHUP);
	EXPECT_EQ(POLLIN | POLLHUP | POLLRDHUP,
		  ev & (POLLIN | POLLHUP | POLLRDHUP)) TH_LOG("%#x", ev);
	/* A graceful end: no error. */
	EXPECT_FALSE(ev & POLLERR);
	EXPECT_EQ(0, hvs_so_error(self->g));
}

TEST_F(pl, after_shut_wr)
{
	ASSERT_EQ(0, shutdown(self->g, SHUT_WR));
	/* TCP keeps POLLOUT: a write would not block (it fails). */
	EXPECT_EQ(POLLOUT, events_now(self->g));
}

TEST_F(pl, after_shut_rdwr)
{
	EXPECT_EQ(0, shutdown(self->g, SHUT_RDWR));
	EXPECT_EQ(POLLIN | POLLOUT | POLLHUP | POLLRDHUP,
		  events_now(self->g));
}

TEST_F(pl, both_fins)
{
	ASSERT_EQ(0, shutdown(self->g, SHUT_WR));
	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	EXPECT_EQ(POLLIN | POLLOUT | POLLHUP | POLLRDHUP,
		  events_wait(self->g, POLLHUP));
}

TEST_F(pl, ring_full_not_writable)
{
	static char buf[HVS_RING_DATA * 2];
	ssize_t n, total = 0;

	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	while ((n = send(self->g, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += n;
	ASSERT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, events_now(self->g) & POLLOUT);
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 0));
	ASSERT_EQ(total, hvs_read_full(self->h, buf, total, HVS_WAIT_MS));
	EXPECT_TRUE(events_wait(self->g, POLLOUT) & POLLOUT);
}

/* A poll() already sleeping wakes up for data. */
static int host_write_abc(void *arg)
{
	return write(*(int *)arg, "abc", 3) == 3 ? 0 : -1;
}

TEST_F(pl, poll_wakes_up)
{
	struct hvs_delayed d;
	int ev;

	ASSERT_EQ(0, hvs_delayed_start(&d, 300, host_write_abc, &self->h));
	ev = hvs_poll(self->g, POLLIN, HVS_WAIT_MS);
	EXPECT_TRUE(ev & POLLIN);
	EXPECT_EQ(0, hvs_delayed_join(&d));
}

TEST_F(pl, epoll_level)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP }, out[2];
	char buf[8];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->g, &ev));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 100));
	ASSERT_EQ(3, write(self->h, "abc", 3));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, HVS_WAIT_MS));
	EXPECT_EQ(EPOLLIN, out[0].events);
	/* Level triggered: reported again while unread. */
	ASSERT_EQ(1, epoll_wait(ep, out, 2, 100));
	ASSERT_EQ(3, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 100));
	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, HVS_WAIT_MS));
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP, out[0].events);
	close(ep);
}

TEST_F(pl, epoll_edge)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
	}, out[2];
	char buf[8];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->g, &ev));
	/* The initial state is reported once. */
	ASSERT_EQ(1, epoll_wait(ep, out, 2, HVS_WAIT_MS));
	EXPECT_EQ(EPOLLOUT, out[0].events);
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 100));
	ASSERT_EQ(3, write(self->h, "abc", 3));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, HVS_WAIT_MS));
	EXPECT_TRUE(out[0].events & EPOLLIN);
	/* Nothing new: no event, though the data is still there. */
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 200));
	/*
	 * New data after the reader emptied the socket: a new edge. (Unlike
	 * TCP, data arriving while unread data remains need not make one:
	 * the host interrupts only when the ring turns non-empty.)
	 */
	ASSERT_EQ(3, recv(self->g, buf, sizeof(buf), 0));
	ASSERT_EQ(3, write(self->h, "def", 3));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, HVS_WAIT_MS));
	EXPECT_TRUE(out[0].events & EPOLLIN);
	ASSERT_EQ(3, recv(self->g, buf, 3, MSG_WAITALL));
	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, HVS_WAIT_MS));
	EXPECT_TRUE(out[0].events & EPOLLRDHUP);
	EXPECT_TRUE(out[0].events & EPOLLIN);
	close(ep);
}

/* Edge-triggered writers get a new EPOLLOUT when the host makes room. */
TEST_F(pl, epoll_edge_writable_again)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLET }, out[2];
	static char buf[HVS_RING_DATA * 2];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	ssize_t n, total = 0;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->g, &ev));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, HVS_WAIT_MS));
	while ((n = send(self->g, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += n;
	ASSERT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 200));
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 0));
	ASSERT_EQ(total, hvs_read_full(self->h, buf, total, HVS_WAIT_MS));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, HVS_WAIT_MS));
	EXPECT_TRUE(out[0].events & EPOLLOUT);
	close(ep);
}

TEST(epoll_listener)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out[2];
	int s = hvs_socket(0), ep, h;
	__u8 svc[16];

	ASSERT_LE(0, s);
	hvs_random_guid(svc);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 4));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 100));
	h = hvs_host_connect(svc, 5000, 0, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(1, epoll_wait(ep, out, 2, HVS_WAIT_MS));
	EXPECT_EQ(EPOLLIN, out[0].events);
	close(h);
	close(ep);
	close(s);
}

TEST_HARNESS_MAIN
