// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV ring sizes: on a VMBus 5.0+ host each ring follows SO_SNDBUF or
 * SO_RCVBUF (5 to 64 data pages), an accepted socket takes its listener's
 * values, and getsockopt() reports the sizes the rings got; a WS2016 host
 * gets exactly 5 pages whatever is set. Every geometry carries checked
 * data both ways, past the end of its rings several times.
 */

#include <limits.h>
#include <sys/param.h>

#include "hvs_test.h"
#include "../kselftest_harness.h"

#define PAGE		4096
/* Enough to wrap the largest ring (64 pages) eight times each way. */
#define XFER_LEN	(2ULL << 20)

/* Two connections per geometry: one the guest made, one it accepted. */
FIXTURE(ring)
{
	int g[2];	/* guest sockets: [0] connected, [1] accepted */
	int h[2];	/* their host ends */
};

/*
 * @snd, @rcv: what the application sets (0: nothing); the kernel stores
 * twice the value, as for every socket. @snd_pages, @rcv_pages: the pages
 * of the outbound and inbound ring, header page included; the data are
 * one page less.
 */
FIXTURE_VARIANT(ring)
{
	bool modern;
	bool force;	/* SO_SNDBUFFORCE and SO_RCVBUFFORCE */
	int snd, rcv;
	int snd_pages, rcv_pages;
};

/* WS2016: the default, and nothing else. */
FIXTURE_VARIANT_ADD(ring, ws2016_default) {
	.snd_pages = 6, .rcv_pages = 6,
};

FIXTURE_VARIANT_ADD(ring, ws2016_large_set) {
	.snd = 131072, .rcv = 131072, .snd_pages = 6, .rcv_pages = 6,
};

/*
 * Newer hosts: the socket's sizes in whole pages, from 5 to 64, plus the
 * header page below 8 pages only (VMBUS_RING_SIZE()).
 */
FIXTURE_VARIANT_ADD(ring, modern_default) {
	.modern = true, .snd_pages = 6, .rcv_pages = 6,
};

FIXTURE_VARIANT_ADD(ring, modern_below_min) {
	.modern = true, .snd = 4096, .rcv = 1, .snd_pages = 6, .rcv_pages = 6,
};

FIXTURE_VARIANT_ADD(ring, modern_one_byte_over) {
	.modern = true, .snd = 10241, .rcv = 10241,
	.snd_pages = 7, .rcv_pages = 7,
};

/* 32768 stored: 8 pages, which hold their header page. */
FIXTURE_VARIANT_ADD(ring, modern_eight_pages) {
	.modern = true, .snd = 16384, .rcv = 16384,
	.snd_pages = 8, .rcv_pages = 8,
};

FIXTURE_VARIANT_ADD(ring, modern_uneven) {
	.modern = true, .snd = 100000, .rcv = 8192,
	.snd_pages = 49, .rcv_pages = 6,
};

FIXTURE_VARIANT_ADD(ring, modern_rcv_only) {
	.modern = true, .rcv = 65536, .snd_pages = 6, .rcv_pages = 32,
};

FIXTURE_VARIANT_ADD(ring, modern_max) {
	.modern = true, .snd = 131072, .rcv = 131072,
	.snd_pages = 64, .rcv_pages = 64,
};

/* SO_SNDBUF is capped at wmem_max (212992 by default), then doubled. */
FIXTURE_VARIANT_ADD(ring, modern_above_max) {
	.modern = true, .snd = 1 << 20, .rcv = 1 << 20,
	.snd_pages = 64, .rcv_pages = 64,
};

/* The FORCE options skip the cap: the largest int, and a negative one. */
FIXTURE_VARIANT_ADD(ring, modern_force_int_max) {
	.modern = true, .force = true, .snd = INT_MAX, .rcv = INT_MAX,
	.snd_pages = 64, .rcv_pages = 64,
};

FIXTURE_VARIANT_ADD(ring, modern_force_negative) {
	.modern = true, .force = true, .snd = -1, .rcv = -1,
	.snd_pages = 6, .rcv_pages = 6,
};

static int set_bufs(int s, int snd, int rcv, bool force)
{
	if (snd && setsockopt(s, SOL_SOCKET,
			      force ? SO_SNDBUFFORCE : SO_SNDBUF,
			      &snd, sizeof(snd)))
		return -errno;
	if (rcv && setsockopt(s, SOL_SOCKET,
			      force ? SO_RCVBUFFORCE : SO_RCVBUF,
			      &rcv, sizeof(rcv)))
		return -errno;
	return 0;
}

static long read_sysctl(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * The sizes expected need caps of at least the value set, or of 131072
 * (64 pages once doubled) for larger values; the default is 212992.
 */
static bool caps_allow(int snd, int rcv)
{
	return read_sysctl("/proc/sys/net/core/wmem_max") >= MIN(snd, 131072) &&
	       read_sysctl("/proc/sys/net/core/rmem_max") >= MIN(rcv, 131072);
}

static int get_buf(int s, int opt)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(s, SOL_SOCKET, opt, &val, &len))
		return -errno;
	return val;
}

struct bufs {
	int snd, rcv;
	bool force;
};

/* Before connect(), or on the listener before bind(). */
static int prep_bufs(int s, void *arg)
{
	const struct bufs *b = arg;

	return set_bufs(s, b->snd, b->rcv, b->force);
}

FIXTURE_SETUP(ring)
{
	struct bufs b = { variant->snd, variant->rcv, variant->force };
	int i, ret;

	for (i = 0; i < 2; i++) {
		self->g[i] = -1;
		self->h[i] = -1;
	}
	if (!variant->force && !caps_allow(variant->snd, variant->rcv))
		SKIP(return, "net.core.wmem_max or rmem_max below the sizes");
	ASSERT_EQ(0, hvs_host_reset_config());
	if (variant->modern)
		ASSERT_EQ(0, hvs_host_config_set(personality,
						 HVSIM_PERSONALITY_MODERN));
	ret = hvs_pair_prep(&self->g[0], &self->h[0], prep_bufs, &b);
	ASSERT_EQ(0, ret) TH_LOG("connected pair: %s", strerror(-ret));
	ret = hvs_pair_accepted_prep(&self->g[1], &self->h[1], prep_bufs, &b);
	ASSERT_EQ(0, ret) TH_LOG("accepted pair: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(ring)
{
	int i;

	for (i = 0; i < 2; i++) {
		close(self->g[i]);
		close(self->h[i]);
	}
	hvs_host_reset_config();
}

static const char *const pair_name[2] = { "connected", "accepted" };

/* The host sees the rings the guest opened. */
TEST_F(ring, host_sees_sizes)
{
	struct hvsim_conn_info ci;
	int i;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, hvs_host_info(self->h[i], &ci));
		EXPECT_EQ(variant->snd_pages * PAGE, ci.send_ring_size)
			TH_LOG("%s", pair_name[i]);
		EXPECT_EQ(variant->rcv_pages * PAGE, ci.recv_ring_size)
			TH_LOG("%s", pair_name[i]);
	}
}

/* getsockopt() reports the data size of each ring once it is open. */
TEST_F(ring, getsockopt_reports_sizes)
{
	int i;

	for (i = 0; i < 2; i++) {
		EXPECT_EQ((variant->snd_pages - 1) * PAGE,
			  get_buf(self->g[i], SO_SNDBUF))
			TH_LOG("%s", pair_name[i]);
		EXPECT_EQ((variant->rcv_pages - 1) * PAGE,
			  get_buf(self->g[i], SO_RCVBUF))
			TH_LOG("%s", pair_name[i]);
	}
}

/*
 * Checked data both ways on both connections at once, in random chunk
 * sizes: the reader and the writer meet at every point of the rings.
 */
TEST_F_TIMEOUT(ring, data_both_ways, 120)
{
	struct hvs_bulk b[8];
	int i;

	memset(b, 0, sizeof(b));
	for (i = 0; i < 8; i++) {
		int p = i / 4, dir = i / 2 % 2;

		/* Per pair: guest send, host read, host write, guest recv. */
		b[i].sock = (i % 4 == 0 || i % 4 == 3);
		b[i].fd = b[i].sock ? self->g[p] : self->h[p];
		b[i].seed = 51 + p * 2 + dir;
		b[i].len = i % 2 ? 0 : XFER_LEN;
		b[i].rnd = i + 1;
	}
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&b[i].thread, NULL,
					    i & 1 ? hvs_bulk_receiver :
						    hvs_bulk_sender, &b[i]));
	if (!hvs_bulk_wait(b, 8, 20000)) {
		for (i = 0; i < 2; i++) {
			hvs_host_rescind(self->h[i]);
			shutdown(self->g[i], SHUT_RDWR);
		}
		for (i = 0; i < 8; i++)
			pthread_join(b[i].thread, NULL);
		ASSERT_TRUE(false) TH_LOG("the transfers stalled");
	}
	for (i = 0; i < 8; i++) {
		const char *what = pair_name[i / 4];

		EXPECT_EQ(0, b[i].err) TH_LOG("%s, thread %d: %s", what,
					      i % 4, strerror(b[i].err));
		if (!(i % 2))
			continue;
		EXPECT_EQ(XFER_LEN, b[i].done) TH_LOG("%s, reader %d", what,
						      i % 4);
		EXPECT_EQ(-1, b[i].bad) TH_LOG("%s, reader %d: corrupt at %lld",
					       what, i % 4, b[i].bad);
	}
}

/*
 * A size set on an open connection is stored and reported, as for any
 * socket, but the rings keep theirs; data still flows.
 */
TEST_F(ring, set_after_open_keeps_rings)
{
	struct hvsim_conn_info ci;
	int i, big = 131072;
	char buf[8];

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, set_bufs(self->g[i], big, big, false));
		EXPECT_EQ(2 * big, get_buf(self->g[i], SO_SNDBUF));
		EXPECT_EQ(2 * big, get_buf(self->g[i], SO_RCVBUF));
		ASSERT_EQ(0, hvs_host_info(self->h[i], &ci));
		EXPECT_EQ(variant->snd_pages * PAGE, ci.send_ring_size)
			TH_LOG("%s", pair_name[i]);
		EXPECT_EQ(variant->rcv_pages * PAGE, ci.recv_ring_size)
			TH_LOG("%s", pair_name[i]);
		ASSERT_EQ(8, hvs_send_full(self->g[i], "ringsize", 8));
		ASSERT_EQ(8, hvs_read_full(self->h[i], buf, 8, HVS_WAIT_MS));
		EXPECT_EQ(0, memcmp(buf, "ringsize", 8));
	}
}

/* Before the channel opens, the options report the value stored. */
TEST(stored_before_open)
{
	int s = hvs_socket(0);

	ASSERT_LE(0, s);
	EXPECT_EQ(20480, get_buf(s, SO_SNDBUF));
	EXPECT_EQ(20480, get_buf(s, SO_RCVBUF));
	ASSERT_EQ(0, set_bufs(s, 50000, 60000, false));
	EXPECT_EQ(100000, get_buf(s, SO_SNDBUF));
	EXPECT_EQ(120000, get_buf(s, SO_RCVBUF));
	close(s);
}

/*
 * Each accepted socket takes the listener's sizes when its offer comes; a
 * change on the listener touches later connections only, and the listener
 * keeps reporting what was set.
 */
TEST(listener_change_between_offers)
{
	struct hvsim_conn_info ci;
	int s, g[2], h[2], i;
	__u8 svc[16];

	ASSERT_EQ(0, hvs_host_reset_config());
	ASSERT_EQ(0, hvs_host_config_set(personality,
					 HVSIM_PERSONALITY_MODERN));
	hvs_random_guid(svc);
	s = hvs_socket(0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, set_bufs(s, 0, 65536, false));
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 4));
	for (i = 0; i < 2; i++) {
		if (i)
			ASSERT_EQ(0, set_bufs(s, 0, 8192, false));
		h[i] = hvs_host_connect(svc, HVS_WAIT_MS, 0, NULL);
		ASSERT_LE(0, h[i]);
		ASSERT_TRUE(hvs_poll(s, POLLIN, HVS_WAIT_MS) & POLLIN);
		g[i] = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		ASSERT_LE(0, g[i]);
	}
	ASSERT_EQ(0, hvs_host_info(h[0], &ci));
	EXPECT_EQ(32 * PAGE, ci.recv_ring_size);
	EXPECT_EQ(31 * PAGE, get_buf(g[0], SO_RCVBUF));
	ASSERT_EQ(0, hvs_host_info(h[1], &ci));
	EXPECT_EQ(6 * PAGE, ci.recv_ring_size);
	EXPECT_EQ(5 * PAGE, get_buf(g[1], SO_RCVBUF));
	EXPECT_EQ(16384, get_buf(s, SO_RCVBUF));
	for (i = 0; i < 2; i++) {
		close(g[i]);
		close(h[i]);
	}
	close(s);
	hvs_host_reset_config();
}

/*
 * The host refuses the open: connect() fails, the options still report
 * what was set, and the next connect() gets the rings asked for.
 */
TEST(refused_open_then_retry)
{
	struct hvsim_conn_info ci;
	int l, s, h;
	__u8 svc[16];

	ASSERT_EQ(0, hvs_host_reset_config());
	ASSERT_EQ(0, hvs_host_config_set(personality,
					 HVSIM_PERSONALITY_MODERN));
	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	s = hvs_socket(0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, set_bufs(s, 131072, 65536, false));
	ASSERT_EQ(0, hvs_host_config_set(fail_opens, 1));
	ASSERT_EQ(0, hvs_set_connect_timeout(s, 3000));
	EXPECT_EQ(-ECONNREFUSED, hvs_connect(s, hvs_guid_parent, svc));
	EXPECT_EQ(262144, get_buf(s, SO_SNDBUF));
	EXPECT_EQ(131072, get_buf(s, SO_RCVBUF));
	ASSERT_EQ(0, hvs_connect(s, hvs_guid_parent, svc));
	h = hvs_host_accept(l, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(0, hvs_host_info(h, &ci));
	EXPECT_EQ(64 * PAGE, ci.send_ring_size);
	EXPECT_EQ(32 * PAGE, ci.recv_ring_size);
	EXPECT_EQ(63 * PAGE, get_buf(s, SO_SNDBUF));
	close(h);
	close(s);
	close(l);
	hvs_host_reset_config();
}

#define FAIL_PAGE_ALLOC "/sys/kernel/debug/fail_page_alloc/"

static int write_knob(const char *name, const char *val)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), FAIL_PAGE_ALLOC "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Make every page allocation of order 7 or more fail (two 64-page rings
 * are one such block; the default rings are order 4), quietly: on until
 * @on is false.
 */
static int fail_large_allocs(bool on)
{
	static const char *const knobs[][2] = {
		{ "min-order", "7" }, { "ignore-gfp-wait", "N" },
		{ "ignore-gfp-highmem", "N" }, { "interval", "1" },
		{ "verbose", "0" }, { "task-filter", "N" },
		{ "probability", "100" },
	};
	int i, ret;

	if (!on) {
		write_knob("probability", "0");
		return write_knob("times", "0");
	}
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		ret = write_knob(knobs[i][0], knobs[i][1]);
		if (ret)
			return ret;
	}
	return write_knob("times", "1000");
}

/*
 * No memory for the rings asked for: the connection opens with the
 * default rings instead of failing, whichever side connected.
 */
TEST(no_memory_for_large_rings)
{
	struct bufs b = { 131072, 131072, false };
	struct hvsim_conn_info ci;
	int g[2] = { -1, -1 }, h[2] = { -1, -1 }, ret[2], i;

	if (access(FAIL_PAGE_ALLOC "probability", W_OK))
		SKIP(return, "no fail_page_alloc in debugfs");
	ASSERT_EQ(0, hvs_host_reset_config());
	ASSERT_EQ(0, hvs_host_config_set(personality,
					 HVSIM_PERSONALITY_MODERN));
	ASSERT_EQ(0, fail_large_allocs(true));
	ret[0] = hvs_pair_prep(&g[0], &h[0], prep_bufs, &b);
	ret[1] = hvs_pair_accepted_prep(&g[1], &h[1], prep_bufs, &b);
	fail_large_allocs(false);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, ret[i]) TH_LOG("%s: %s", pair_name[i],
					    strerror(-ret[i]));
		if (ret[i])
			continue;
		ASSERT_EQ(0, hvs_host_info(h[i], &ci));
		EXPECT_EQ(6 * PAGE, ci.send_ring_size) TH_LOG("%s", pair_name[i]);
		EXPECT_EQ(6 * PAGE, ci.recv_ring_size) TH_LOG("%s", pair_name[i]);
		EXPECT_EQ(5 * PAGE, get_buf(g[i], SO_SNDBUF));
		close(g[i]);
		close(h[i]);
	}
	hvs_host_reset_config();
}

TEST_HARNESS_MAIN
