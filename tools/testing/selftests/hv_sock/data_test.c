// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV data transfer: the send/recv family, flags, flow control when
 * the ring fills, socket options and ioctls that concern data, and a long
 * checked transfer both ways.
 */

#include "hvs_test.h"

#include <sys/sendfile.h>
#include <sys/uio.h>
#include <linux/sockios.h>
#include "../kselftest_harness.h"

FIXTURE(data)
{
	int g;		/* guest socket */
	int h;		/* host end */
};

/* Every test on a socket that connected and on one that was accepted. */
FIXTURE_VARIANT(data)
{
	bool accepted;
};

FIXTURE_VARIANT_ADD(data, connected)
{
	.accepted = false,
};

FIXTURE_VARIANT_ADD(data, accepted)
{
	.accepted = true,
};

FIXTURE_SETUP(data)
{
	HVS_PAIR_SETUP(variant->accepted ? hvs_pair_accepted : hvs_pair);
}

FIXTURE_TEARDOWN(data)
{
	HVS_PAIR_TEARDOWN();
}

TEST_F(data, send_recv)
{
	char buf[64];

	ASSERT_EQ(5, send(self->g, "hello", 5, 0));
	ASSERT_EQ(5, hvs_read_full(self->h, buf, 5, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(6, write(self->h, "world!", 6));
	ASSERT_EQ(6, hvs_read_full(self->g, buf, 6, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "world!", 6));
}

TEST_F(data, read_write)
{
	char buf[64];

	ASSERT_EQ(4, write(self->g, "abcd", 4));
	ASSERT_EQ(4, hvs_read_full(self->h, buf, 4, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "abcd", 4));
	ASSERT_EQ(4, write(self->h, "efgh", 4));
	ASSERT_TRUE(hvs_poll(self->g, POLLIN, HVS_WAIT_MS) & POLLIN);
	ASSERT_EQ(4, read(self->g, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "efgh", 4));
}

TEST_F(data, sendmsg_recvmsg_iov)
{
	char a[] = "one", b[] = "three", c[] = "fifteen";
	char r1[2], r2[5], r3[8], buf[64];
	struct iovec iov[3] = {
		{ a, 3 }, { b, 5 }, { c, 7 },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3 };

	ASSERT_EQ(15, sendmsg(self->g, &m, 0));
	ASSERT_EQ(15, hvs_read_full(self->h, buf, 15, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "onethreefifteen", 15));

	ASSERT_EQ(15, write(self->h, "ABCDEFGHIJKLMNO", 15));
	iov[0].iov_base = r1;
	iov[0].iov_len = sizeof(r1);
	iov[1].iov_base = r2;
	iov[1].iov_len = sizeof(r2);
	iov[2].iov_base = r3;
	iov[2].iov_len = sizeof(r3);
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = 3;
	ASSERT_EQ(15, recvmsg(self->g, &m, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(r1, "AB", 2));
	EXPECT_EQ(0, memcmp(r2, "CDEFG", 5));
	EXPECT_EQ(0, memcmp(r3, "HIJKLMNO", 8));
	EXPECT_EQ(0, m.msg_flags & (MSG_TRUNC | MSG_CTRUNC | MSG_OOB));
}

TEST_F(data, sendmsg_with_name_ignored_or_eisconn)
{
	struct sockaddr_hv a;
	struct iovec iov = { "x", 1 };
	struct msghdr m = {
		.msg_name = &a, .msg_namelen = sizeof(a),
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	int ret;

	/* TCP ignores the name on a connected socket; AF_UNIX: EISCONN. */
	hvs_addr(&a, hvs_guid_parent, hvs_guid_wildcard);
	ret = hvs_err(sendmsg(self->g, &m, MSG_NOSIGNAL));
	EXPECT_TRUE(ret == 1 || ret == -EISCONN) TH_LOG("%d", ret);
}

TEST_F(data, recvmsg_name)
{
	struct sockaddr_hv a;
	char c;
	struct iovec iov = { &c, 1 };
	struct msghdr m = {
		.msg_name = &a, .msg_namelen = sizeof(a),
		.msg_iov = &iov, .msg_iovlen = 1,
	};

	ASSERT_EQ(1, write(self->h, "z", 1));
	ASSERT_TRUE(hvs_poll(self->g, POLLIN, HVS_WAIT_MS) & POLLIN);
	ASSERT_EQ(1, recvmsg(self->g, &m, 0));
	/* A stream socket leaves the name alone: TCP returns length 0. */
	EXPECT_EQ(0, m.msg_namelen);
}

TEST_F(data, recv_dontwait_eagain)
{
	char buf[8];

	EXPECT_EQ(-1, recv(self->g, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(self->g, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->g, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(data, msg_peek)
{
	char buf[16];

	ASSERT_EQ(10, write(self->h, "0123456789", 10));
	ASSERT_TRUE(hvs_poll(self->g, POLLIN, HVS_WAIT_MS) & POLLIN);
	hvs_msleep(100);
	ASSERT_EQ(4, recv(self->g, buf, 4, MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	ASSERT_EQ(10, recv(self->g, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	ASSERT_EQ(3, recv(self->g, buf, 3, 0));
	EXPECT_EQ(0, memcmp(buf, "012", 3));
	ASSERT_EQ(7, recv(self->g, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "3456789", 7));
	ASSERT_EQ(7, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "3456789", 7));
	EXPECT_EQ(-1, recv(self->g, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

/* MSG_PEEK across several host packets. */
TEST_F(data, msg_peek_packets)
{
	char buf[16];
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(3, write(self->h, i == 0 ? "abc" : i == 1 ? "def" :
				   "ghi", 3));
	hvs_msleep(200);
	ASSERT_EQ(9, recv(self->g, buf, 9, MSG_PEEK | MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, "abcdefghi", 9));
}

struct writer {
	int fd;
	int chunks;
	int delay_ms;
	size_t len;
	__u64 seed;
};

static int host_writer(void *arg)
{
	struct writer *w = arg;
	char buf[4096];
	int i;

	for (i = 0; i < w->chunks; i++) {
		hvs_fill(w->seed, i * w->len, buf, w->len);
		if (hvs_write_full(w->fd, buf, w->len) != w->len)
			return -1;
		hvs_msleep(w->delay_ms);
	}
	return 0;
}

TEST_F(data, msg_waitall)
{
	struct writer w = { self->h, 3, 150, 1000, 11 };
	struct hvs_delayed d;
	char buf[3000];

	ASSERT_EQ(0, hvs_delayed_start(&d, 50, host_writer, &w));
	ASSERT_EQ(3000, recv(self->g, buf, sizeof(buf), MSG_WAITALL));
	EXPECT_EQ(-1, hvs_check(11, 0, buf, sizeof(buf)));
	EXPECT_EQ(0, hvs_delayed_join(&d));
}

/* Without MSG_WAITALL, recv() returns what is there. */
TEST_F(data, recv_returns_partial)
{
	struct writer w = { self->h, 2, 500, 100, 12 };
	struct hvs_delayed d;
	char buf[3000];

	ASSERT_EQ(0, hvs_delayed_start(&d, 0, host_writer, &w));
	ASSERT_EQ(100, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_EQ(0, hvs_delayed_join(&d));
}

TEST_F(data, msg_oob_eopnotsupp)
{
	char c = 'x';

	EXPECT_EQ(-1, send(self->g, &c, 1, MSG_OOB));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, recv(self->g, &c, 1, MSG_OOB));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

/* After our own SHUT_WR: EPIPE, with SIGPIPE unless MSG_NOSIGNAL. */
TEST_F(data, epipe_after_shutdown)
{
	ASSERT_EQ(0, hvs_catch(SIGPIPE, false));
	ASSERT_EQ(0, shutdown(self->g, SHUT_WR));
	EXPECT_EQ(-1, send(self->g, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, hvs_signals);
	EXPECT_EQ(-1, send(self->g, "x", 1, 0));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, hvs_signals);
	EXPECT_EQ(-1, write(self->g, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(2, hvs_signals);
}

/* After the host closed (rescind): EPIPE or ECONNRESET, SIGPIPE on EPIPE. */
TEST_F(data, epipe_after_peer_close)
{
	int ret;

	ASSERT_EQ(0, hvs_catch(SIGPIPE, false));
	close(self->h);
	self->h = -1;
	ASSERT_TRUE(hvs_poll(self->g, POLLHUP, HVS_WAIT_MS) & POLLHUP);
	ret = hvs_err(send(self->g, "x", 1, MSG_NOSIGNAL));
	EXPECT_TRUE(ret == -EPIPE || ret == -ECONNRESET) TH_LOG("%d", ret);
	EXPECT_EQ(0, hvs_signals);
	ret = hvs_err(send(self->g, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(-EPIPE, ret);
	ret = hvs_err(send(self->g, "x", 1, 0));
	EXPECT_EQ(-EPIPE, ret);
	EXPECT_EQ(1, hvs_signals);
}

/*
 * The host stops draining: a MSG_DONTWAIT send fills the ring and returns
 * a partial count, the next one EAGAIN; the host gets exactly those bytes.
 */
TEST_F(data, partial_write_when_full)
{
	static char buf[256 * 1024], in[256 * 1024];
	ssize_t n;

	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	hvs_fill(21, 0, buf, sizeof(buf));
	n = send(self->g, buf, sizeof(buf), MSG_DONTWAIT);
	ASSERT_LT(0, n) TH_LOG("send: %s", strerror(errno));
	EXPECT_GT(sizeof(buf), n);
	EXPECT_GE(HVS_RING_DATA, n);
	TH_LOG("%zd bytes fit in the ring", n);
	EXPECT_EQ(-1, send(self->g, buf + n, sizeof(buf) - n, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_FALSE(hvs_poll(self->g, POLLOUT, 100) & POLLOUT);
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 0));
	ASSERT_EQ(n, hvs_read_full(self->h, in, n, HVS_WAIT_MS));
	EXPECT_EQ(-1, hvs_check(21, 0, in, n));
	/* Room again. */
	EXPECT_TRUE(hvs_poll(self->g, POLLOUT, HVS_WAIT_MS) & POLLOUT);
}

/* A blocking send waits for room and resumes when the host drains. */
TEST_F(data, blocking_write_resumes)
{
	static char buf[256 * 1024];
	struct hvs_host_sink hs = {
		.fd = self->h, .len = sizeof(buf), .seed = 22,
	};
	struct hvs_delayed d;
	long long t0;

	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	hvs_fill(22, 0, buf, sizeof(buf));
	ASSERT_EQ(0, hvs_delayed_start(&d, 400, hvs_host_sink, &hs));
	t0 = hvs_now_ms();
	EXPECT_EQ(sizeof(buf), send(self->g, buf, sizeof(buf), 0));
	EXPECT_LE(350, hvs_now_ms() - t0);
	EXPECT_EQ(0, hvs_delayed_join(&d));
	EXPECT_EQ(sizeof(buf), hs.got);
	EXPECT_EQ(-1, hs.bad);
}

/* A blocking send with SO_SNDTIMEO returns the partial count. */
TEST_F(data, sndtimeo_partial)
{
	static char buf[256 * 1024];
	long long t0;
	ssize_t n;

	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	ASSERT_EQ(0, hvs_set_timeo(self->g, SO_SNDTIMEO, 300));
	t0 = hvs_now_ms();
	n = send(self->g, buf, sizeof(buf), 0);
	EXPECT_LT(0, n);
	EXPECT_GT(sizeof(buf), n);
	EXPECT_LE(250, hvs_now_ms() - t0);
	t0 = hvs_now_ms();
	EXPECT_EQ(-1, send(self->g, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_LE(250, hvs_now_ms() - t0);
}

TEST_F(data, rcvtimeo)
{
	long long t0, dt;
	char buf[8];

	ASSERT_EQ(0, hvs_set_timeo(self->g, SO_RCVTIMEO, 300));
	t0 = hvs_now_ms();
	EXPECT_EQ(-1, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	dt = hvs_now_ms() - t0;
	EXPECT_LE(250, dt);
	EXPECT_GE(3000, dt);
}

TEST_F(data, recv_eintr)
{
	char buf[8];

	ASSERT_EQ(0, hvs_catch(SIGALRM, false));
	ASSERT_EQ(0, hvs_alarm_ms(300));
	EXPECT_EQ(-1, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, hvs_signals);
}

/*
 * SO_RCVLOWAT as TCP: poll() reports POLLIN from the mark on; a blocking
 * recv() waits for the mark and returns what it has when SO_RCVTIMEO
 * expires.
 */
TEST_F(data, rcvlowat)
{
	struct writer w = { self->h, 1, 0, 60, 13 };
	socklen_t len = sizeof(int);
	struct hvs_delayed d;
	char buf[256];
	long long t0;
	int v = 100, ret;

	ASSERT_EQ(0, setsockopt(self->g, SOL_SOCKET, SO_RCVLOWAT, &v,
				sizeof(v)));
	v = 0;
	ASSERT_EQ(0, getsockopt(self->g, SOL_SOCKET, SO_RCVLOWAT, &v, &len));
	EXPECT_EQ(100, v);
	ASSERT_EQ(50, write(self->h, buf, 50));
	hvs_msleep(200);
	/*
	 * Below the mark. TCP's poll() would not report POLLIN; AF_HYPERV's
	 * does, as documented: the host would not signal more data while
	 * these bytes sit on the ring, so a poller could wait forever.
	 */
	ret = hvs_poll(self->g, POLLIN, 200);
	TH_LOG("revents below SO_RCVLOWAT: %#x", ret);
	/* recv() waits, then returns what it has. */
	ASSERT_EQ(0, hvs_set_timeo(self->g, SO_RCVTIMEO, 300));
	t0 = hvs_now_ms();
	EXPECT_EQ(50, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_LE(250, hvs_now_ms() - t0);
	/* A blocked recv() returns once the mark is reached. */
	ASSERT_EQ(50, write(self->h, buf, 50));
	ASSERT_EQ(0, hvs_set_timeo(self->g, SO_RCVTIMEO, HVS_WAIT_MS));
	ASSERT_EQ(0, hvs_delayed_start(&d, 300, host_writer, &w));
	t0 = hvs_now_ms();
	EXPECT_EQ(110, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_LE(250, hvs_now_ms() - t0);
	EXPECT_EQ(0, hvs_delayed_join(&d));
	/* At the mark: readable at once. */
	ASSERT_EQ(100, write(self->h, buf, 100));
	EXPECT_TRUE(hvs_poll(self->g, POLLIN, HVS_WAIT_MS) & POLLIN);
	EXPECT_EQ(100, recv(self->g, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(data, siocinq)
{
	long long end = hvs_now_ms() + HVS_WAIT_MS;
	char buf[1000];
	int v = -1;

	ASSERT_EQ(0, ioctl(self->g, SIOCINQ, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(1000, hvs_write_full(self->h, buf, 1000));
	do {
		ASSERT_EQ(0, ioctl(self->g, SIOCINQ, &v));
	} while (v < 1000 && hvs_now_ms() < end && (hvs_msleep(20), 1));
	EXPECT_EQ(1000, v);
	ASSERT_EQ(400, recv(self->g, buf, 400, 0));
	ASSERT_EQ(0, ioctl(self->g, SIOCINQ, &v));
	EXPECT_EQ(600, v);
}

TEST_F(data, siocoutq)
{
	long long end;
	char buf[1000];
	int v = -1;

	ASSERT_EQ(0, ioctl(self->g, SIOCOUTQ, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	ASSERT_EQ(1000, send(self->g, buf, 1000, 0));
	ASSERT_EQ(0, ioctl(self->g, SIOCOUTQ, &v));
	EXPECT_EQ(1000, v) TH_LOG("payload bytes not consumed by the host");
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 0));
	ASSERT_EQ(1000, hvs_read_full(self->h, buf, 1000, HVS_WAIT_MS));
	end = hvs_now_ms() + HVS_WAIT_MS;
	do {
		ASSERT_EQ(0, ioctl(self->g, SIOCOUTQ, &v));
	} while (v && hvs_now_ms() < end && (hvs_msleep(20), 1));
	EXPECT_EQ(0, v);
}

TEST_F(data, unknown_ioctl_enotty)
{
	int v;

	EXPECT_EQ(-1, ioctl(self->g, _IO('x', 1), &v));
	EXPECT_EQ(ENOTTY, errno);
}

/*
 * Zero-length I/O is a no-op, as with TCP: above all, no zero-length
 * packet (a FIN) goes out. A zero-length recv() returns 0 when data is
 * queued; with nothing queued TCP waits (or says EAGAIN when not
 * blocking), so that case is only checked not to consume or hang.
 */
TEST_F(data, zero_length)
{
	struct hvsim_conn_info before, after;
	char buf[4];
	int ret;

	ASSERT_EQ(0, hvs_host_info(self->h, &before));
	EXPECT_EQ(0, send(self->g, buf, 0, 0));
	EXPECT_EQ(0, write(self->g, buf, 0));
	EXPECT_EQ(0, send(self->g, NULL, 0, MSG_DONTWAIT));
	ret = hvs_err(recv(self->g, buf, 0, MSG_DONTWAIT));
	EXPECT_TRUE(ret == 0 || ret == -EAGAIN) TH_LOG("%d", ret);
	hvs_msleep(200);
	ASSERT_EQ(0, hvs_host_info(self->h, &after));
	EXPECT_EQ(before.pkts_from_guest, after.pkts_from_guest);
	EXPECT_FALSE(after.flags & HVSIM_INFO_FIN_RECEIVED);

	ASSERT_EQ(2, write(self->h, "ok", 2));
	ASSERT_TRUE(hvs_poll(self->g, POLLIN, HVS_WAIT_MS) & POLLIN);
	EXPECT_EQ(0, recv(self->g, buf, 0, 0));
	EXPECT_EQ(0, read(self->g, buf, 0));
	ASSERT_EQ(2, recv(self->g, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "ok", 2));
	/* The stream goes on. */
	ASSERT_EQ(2, send(self->g, "ok", 2, 0));
	ASSERT_EQ(2, hvs_read_full(self->h, buf, 2, HVS_WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "ok", 2));
}

TEST_F(data, socket_identity)
{
	socklen_t len = sizeof(int);
	int v;

	ASSERT_EQ(0, getsockopt(self->g, SOL_SOCKET, SO_DOMAIN, &v, &len));
	EXPECT_EQ(AF_HYPERV, v);
	ASSERT_EQ(0, getsockopt(self->g, SOL_SOCKET, SO_TYPE, &v, &len));
	EXPECT_EQ(SOCK_STREAM, v);
	ASSERT_EQ(0, getsockopt(self->g, SOL_SOCKET, SO_ACCEPTCONN, &v, &len));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, getsockopt(self->g, SOL_SOCKET, SO_ERROR, &v, &len));
	EXPECT_EQ(0, v);
}

/* sendfile() and splice() go through the same paths as send/recv. */
TEST_F(data, sendfile_and_splice)
{
	static char buf[100000], in[10000];
	struct hvs_host_sink hs = {
		.fd = self->h, .len = sizeof(buf), .seed = 81,
	};
	char path[] = "/tmp/hvs_sendfile_XXXXXX";
	struct hvs_delayed d;
	int f, p[2];
	ssize_t n, got = 0;
	off_t off = 0;

	hvs_fill(81, 0, buf, sizeof(buf));
	f = mkstemp(path);
	ASSERT_LE(0, f);
	unlink(path);
	ASSERT_EQ(sizeof(buf), write(f, buf, sizeof(buf)));
	ASSERT_EQ(0, hvs_delayed_start(&d, 0, hvs_host_sink, &hs));
	while (off < sizeof(buf)) {
		n = sendfile(self->g, f, &off, sizeof(buf) - off);
		ASSERT_LT(0, n) TH_LOG("sendfile: %s", strerror(errno));
	}
	EXPECT_EQ(0, hvs_delayed_join(&d));
	EXPECT_EQ(sizeof(buf), hs.got);
	EXPECT_EQ(-1, hs.bad);
	close(f);

	/* Socket -> pipe -> memory. */
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(10000, hvs_write_full(self->h, buf, 10000));
	while (got < 10000) {
		ASSERT_TRUE(hvs_poll(self->g, POLLIN, HVS_WAIT_MS) & POLLIN);
		n = splice(self->g, NULL, p[1], NULL, 10000 - got, 0);
		ASSERT_LT(0, n) TH_LOG("splice: %s", strerror(errno));
		ASSERT_EQ(n, read(p[0], in + got, n));
		got += n;
	}
	EXPECT_EQ(-1, hvs_check(81, 0, in, 10000));
	close(p[0]);
	close(p[1]);
}

/* A host that cuts its data into small packets. */
TEST_F(data, small_host_mtu)
{
	struct writer w = { self->h, 30, 0, 1000, 82 };
	static char in[30000];
	struct hvs_delayed d;

	ASSERT_EQ(0, hvs_host_config_set(mtu, 100));
	ASSERT_EQ(0, hvs_delayed_start(&d, 0, host_writer, &w));
	ASSERT_EQ(sizeof(in), recv(self->g, in, sizeof(in), MSG_WAITALL));
	EXPECT_EQ(0, hvs_delayed_join(&d));
	EXPECT_EQ(-1, hvs_check(82, 0, in, sizeof(in)));
}

TEST_F(data, bad_buffer_efault)
{
	EXPECT_EQ(-1, send(self->g, (void *)16, 100, MSG_NOSIGNAL));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(4, write(self->h, "abcd", 4));
	ASSERT_TRUE(hvs_poll(self->g, POLLIN, HVS_WAIT_MS) & POLLIN);
	EXPECT_EQ(-1, recv(self->g, (void *)16, 100, 0));
	EXPECT_EQ(EFAULT, errno);
}

/* A large packet from the host read in small pieces, then all at once. */
TEST_F(data, host_mtu_packets_small_reads)
{
	static char buf[16384 * 2], in[16384 * 2];
	size_t got = 0;
	ssize_t n;

	hvs_fill(31, 0, buf, sizeof(buf));
	ASSERT_EQ(sizeof(buf) / 2, write(self->h, buf, sizeof(buf) / 2));
	while (got < sizeof(buf) / 2) {
		ASSERT_TRUE(hvs_poll(self->g, POLLIN, HVS_WAIT_MS) & POLLIN);
		n = recv(self->g, in + got, 7, 0);
		ASSERT_LT(0, n);
		got += n;
	}
	EXPECT_EQ(-1, hvs_check(31, 0, in, got));
}

/* ---------------------------------------------------------- bulk */

#define BULK_LEN	(64ULL << 20)

/* Everything both ends know about a connection that stopped moving. */
static void report_stall(struct __test_metadata *_metadata, int g, int h,
			 struct hvs_bulk *b)
{
	struct hvsim_conn_info ci;
	int inq = -1, outq = -1;

	TH_LOG("stalled: guest sent %llu, host got %llu, host sent %llu, guest got %llu",
	       b[0].done, b[1].done, b[2].done, b[3].done);
	TH_LOG("finished: %d %d %d %d", b[0].finished, b[1].finished,
	       b[2].finished, b[3].finished);
	ioctl(g, SIOCINQ, &inq);
	ioctl(g, SIOCOUTQ, &outq);
	TH_LOG("guest: SIOCINQ %d SIOCOUTQ %d revents %#x", inq, outq,
	       hvs_poll(g, POLLIN | POLLOUT | POLLRDHUP, 0));
	hvs_dump_stacks(TH_LOG_STREAM);
	if (hvs_host_info(h, &ci))
		return;
	TH_LOG("host: state %u reason %u flags %#x revents %#x", ci.state,
	       ci.close_reason, ci.flags, hvs_poll(h, POLLIN | POLLOUT, 0));
	TH_LOG("host: to guest %llu bytes %llu pkts, from guest %llu bytes %llu pkts",
	       ci.bytes_to_guest, ci.pkts_to_guest, ci.bytes_from_guest,
	       ci.pkts_from_guest);
	TH_LOG("host: signals to guest %llu, from guest %llu, ring full %llu, proto errors %llu",
	       ci.signals_to_guest, ci.signals_from_guest, ci.guest_ring_full,
	       ci.proto_errors);
}

/*
 * 64 MiB each way at once, in random chunk sizes on both sides, every
 * byte checked; each side ends its stream with a FIN.
 */
TEST_F_TIMEOUT(data, bulk_both_ways, 280)
{
	struct hvs_bulk b[4] = {
		{ .fd = self->g, .sock = true, .seed = 41, .len = BULK_LEN,
		  .rnd = 1 },
		{ .fd = self->h, .seed = 41, .rnd = 2 },
		{ .fd = self->h, .seed = 42, .len = BULK_LEN, .rnd = 3 },
		{ .fd = self->g, .sock = true, .seed = 42, .rnd = 4 },
	};
	struct hvs_bulk *gs = &b[0], *hr = &b[1], *hs = &b[2], *gr = &b[3];
	long long t0 = hvs_now_ms(), dt;
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&b[i].thread, NULL,
					    i & 1 ? hvs_bulk_receiver :
						    hvs_bulk_sender, &b[i]));
	if (!hvs_bulk_wait(b, 4, 20000)) {
		report_stall(_metadata, self->g, self->h, b);
		hvs_host_rescind(self->h);
		shutdown(self->g, SHUT_RDWR);
		for (i = 0; i < 4; i++)
			pthread_join(b[i].thread, NULL);
		ASSERT_TRUE(false) TH_LOG("the transfer stalled");
	}
	dt = hvs_now_ms() - t0;
	TH_LOG("%llu + %llu bytes in %lld ms", hr->done, gr->done, dt);
	EXPECT_EQ(0, gs->err) TH_LOG("guest send: %s", strerror(gs->err));
	EXPECT_EQ(0, hs->err) TH_LOG("host write: %s", strerror(hs->err));
	EXPECT_EQ(0, hr->err) TH_LOG("host read: %s", strerror(hr->err));
	EXPECT_EQ(0, gr->err) TH_LOG("guest recv: %s", strerror(gr->err));
	EXPECT_EQ(BULK_LEN, hr->done);
	EXPECT_EQ(BULK_LEN, gr->done);
	EXPECT_EQ(-1, hr->bad) TH_LOG("guest -> host corrupt at %lld", hr->bad);
	EXPECT_EQ(-1, gr->bad) TH_LOG("host -> guest corrupt at %lld", gr->bad);
}

TEST_HARNESS_MAIN
