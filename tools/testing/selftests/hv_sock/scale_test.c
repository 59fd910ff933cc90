// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV at scale: 1024 concurrent connections in each direction, all
 * moving data, then all closed without leaking a channel.
 */

#include "hvs_test.h"

#include <sys/resource.h>
#include "../kselftest_harness.h"

#define NCONN	1024
#define MSG_LEN	48

FIXTURE(scale)
{
	int g[NCONN];
	int h[NCONN];
	struct hvsim_stats before;
};

FIXTURE_SETUP(scale)
{
	struct rlimit rl = { NCONN * 2 + 64, NCONN * 2 + 64 };
	int i;

	for (i = 0; i < NCONN; i++) {
		self->g[i] = -1;
		self->h[i] = -1;
	}
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl))
		TH_LOG("RLIMIT_NOFILE: %s", strerror(errno));
	ASSERT_EQ(0, hvs_host_reset_config());
	ASSERT_EQ(0, hvs_host_stats(&self->before));
}

FIXTURE_TEARDOWN(scale)
{
	int i;

	for (i = 0; i < NCONN; i++) {
		close(self->g[i]);
		close(self->h[i]);
	}
}

/* Every connection: a message each way, each checked. */
static int exchange_all(int *g, int *h)
{
	char out[MSG_LEN], in[MSG_LEN];
	int i;

	for (i = 0; i < NCONN; i++) {
		hvs_fill(i, 0, out, sizeof(out));
		if (hvs_send_full(g[i], out, sizeof(out)) != sizeof(out))
			return -(i + 1);
		hvs_fill(i + NCONN, 0, out, sizeof(out));
		if (hvs_write_full(h[i], out, sizeof(out)) != sizeof(out))
			return -(i + 1);
	}
	for (i = 0; i < NCONN; i++) {
		if (hvs_read_full(h[i], in, sizeof(in), HVS_WAIT_MS) !=
		    sizeof(in) || hvs_check(i, 0, in, sizeof(in)) != -1)
			return -(i + 1);
		if (hvs_read_full(g[i], in, sizeof(in), HVS_WAIT_MS) !=
		    sizeof(in) || hvs_check(i + NCONN, 0, in, sizeof(in)) != -1)
			return -(i + 1);
	}
	return 0;
}

static void close_all(int *g, int *h)
{
	int i;

	for (i = 0; i < NCONN; i++) {
		close(g[i]);
		g[i] = -1;
	}
	for (i = 0; i < NCONN; i++) {
		close(h[i]);
		h[i] = -1;
	}
}

TEST_F_TIMEOUT(scale, guest_to_host, 200)
{
	long long t0 = hvs_now_ms();
	__u8 svc[16];
	int l, i, ret;

	hvs_random_guid(svc);
	l = hvs_host_listen(svc, NCONN, 0);
	ASSERT_LE(0, l);
	for (i = 0; i < NCONN; i++) {
		self->g[i] = hvs_socket(0);
		ASSERT_LE(0, self->g[i]) TH_LOG("socket %d: %s", i,
						strerror(-self->g[i]));
		ret = hvs_connect(self->g[i], hvs_guid_parent, svc);
		ASSERT_EQ(0, ret) TH_LOG("connect %d: %s", i, strerror(-ret));
		self->h[i] = hvs_host_accept(l, HVS_WAIT_MS, NULL);
		ASSERT_LE(0, self->h[i]) TH_LOG("host accept %d", i);
	}
	TH_LOG("%d connections in %lld ms", NCONN, hvs_now_ms() - t0);
	ret = exchange_all(self->g, self->h);
	EXPECT_EQ(0, ret) TH_LOG("connection %d failed", -ret - 1);
	close(l);
	close_all(self->g, self->h);
	EXPECT_GE(self->before.channels,
		  hvs_host_wait_channels(self->before.channels, 20000));
	TH_LOG("done in %lld ms", hvs_now_ms() - t0);
}

TEST_F_TIMEOUT(scale, host_to_guest, 200)
{
	long long t0 = hvs_now_ms();
	__u8 svc[16];
	int s, i;

	hvs_random_guid(svc);
	s = hvs_socket(0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, NCONN));
	for (i = 0; i < NCONN; i++) {
		self->h[i] = hvs_host_connect(svc, 10000, 0, NULL);
		ASSERT_LE(0, self->h[i]) TH_LOG("host connect %d: %s", i,
						strerror(-self->h[i]));
		self->g[i] = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		ASSERT_LE(0, self->g[i]) TH_LOG("accept %d: %s", i,
						strerror(errno));
	}
	TH_LOG("%d connections in %lld ms", NCONN, hvs_now_ms() - t0);
	i = exchange_all(self->g, self->h);
	EXPECT_EQ(0, i) TH_LOG("connection %d failed", -i - 1);
	close(s);
	close_all(self->g, self->h);
	EXPECT_GE(self->before.channels,
		  hvs_host_wait_channels(self->before.channels, 20000));
	TH_LOG("done in %lld ms", hvs_now_ms() - t0);
}

/* Many idle bound and listening sockets: lookups stay correct. */
TEST_F_TIMEOUT(scale, many_listeners, 120)
{
	__u8 svc[NCONN / 4][16];
	struct sockaddr_hv p;
	__u8 host_id[16];
	int i, h, c;

	for (i = 0; i < NCONN / 4; i++) {
		hvs_random_guid(svc[i]);
		self->g[i] = hvs_socket(0);
		ASSERT_LE(0, self->g[i]);
		ASSERT_EQ(0, hvs_bind(self->g[i], svc[i]));
		ASSERT_EQ(0, listen(self->g[i], 1));
	}
	/* Each host connection lands on the right listener. */
	for (i = 0; i < NCONN / 4; i += 37) {
		h = hvs_host_connect(svc[i], 5000, 0, host_id);
		ASSERT_LE(0, h);
		c = accept4(self->g[i], NULL, NULL, SOCK_NONBLOCK);
		ASSERT_LE(0, c) TH_LOG("listener %d: %s", i, strerror(errno));
		ASSERT_EQ(0, hvs_getpeername(c, &p));
		EXPECT_TRUE(hvs_guid_eq(host_id, p.shv_service_id));
		close(c);
		close(h);
	}
}

/* Several connections moving data both ways at once, both directions. */
#define NPAR		8
#define PAR_LEN		(4ULL << 20)

TEST_F_TIMEOUT(scale, parallel_bulk, 200)
{
	struct hvs_bulk b[NPAR][4];
	long long t0 = hvs_now_ms();
	int i, j, ret;

	memset(b, 0, sizeof(b));
	for (i = 0; i < NPAR; i++) {
		ret = i & 1 ? hvs_pair_accepted(&self->g[i], &self->h[i]) :
			      hvs_pair(&self->g[i], &self->h[i]);
		ASSERT_EQ(0, ret) TH_LOG("pair %d: %s", i, strerror(-ret));
		/* guest send, host receive, host send, guest receive */
		for (j = 0; j < 4; j++) {
			b[i][j].fd = j == 0 || j == 3 ? self->g[i] : self->h[i];
			b[i][j].sock = j == 0 || j == 3;
			b[i][j].seed = 2 * i + j / 2;
			b[i][j].len = j % 2 ? 0 : PAR_LEN;
			b[i][j].rnd = 4 * i + j;
		}
	}
	for (i = 0; i < NPAR; i++)
		for (j = 0; j < 4; j++)
			ASSERT_EQ(0, pthread_create(&b[i][j].thread, NULL,
						    j % 2 ? hvs_bulk_receiver :
							    hvs_bulk_sender,
						    &b[i][j]));
	if (!hvs_bulk_wait(&b[0][0], NPAR * 4, 20000)) {
		struct hvsim_conn_info ci;

		for (i = 0; i < NPAR; i++) {
			TH_LOG("pair %d: %llu %llu %llu %llu, ended %d%d%d%d, err %d %d %d %d",
			       i, b[i][0].done, b[i][1].done, b[i][2].done,
			       b[i][3].done, b[i][0].finished, b[i][1].finished,
			       b[i][2].finished, b[i][3].finished, b[i][0].err,
			       b[i][1].err, b[i][2].err, b[i][3].err);
			if (hvs_host_info(self->h[i], &ci))
				continue;
			TH_LOG("  host in %llu/%llu/%llu out %llu/%llu/%llu full %llu",
			       ci.bytes_from_guest, ci.pkts_from_guest,
			       ci.signals_from_guest, ci.bytes_to_guest,
			       ci.pkts_to_guest, ci.signals_to_guest,
			       ci.guest_ring_full);
			TH_LOG("  rings (rd wr mask pend): out %u %u %u %u, in %u %u %u %u",
			       ci.out_ring[0], ci.out_ring[1], ci.out_ring[2],
			       ci.out_ring[3], ci.in_ring[0], ci.in_ring[1],
			       ci.in_ring[2], ci.in_ring[3]);
		}
		/* the guest's view: queued bytes both ways */
		system("cat /proc/net/hv_sock >&2");
		for (i = 0; i < NPAR; i++) {
			hvs_host_rescind(self->h[i]);
			shutdown(self->g[i], SHUT_RDWR);
		}
		for (i = 0; i < NPAR; i++)
			for (j = 0; j < 4; j++)
				pthread_join(b[i][j].thread, NULL);
		ASSERT_TRUE(false) TH_LOG("the transfers stalled");
	}
	TH_LOG("%d x 2 x %llu bytes in %lld ms", NPAR, PAR_LEN,
	       hvs_now_ms() - t0);
	for (i = 0; i < NPAR; i++)
		for (j = 0; j < 4; j++) {
			EXPECT_EQ(0, b[i][j].err)
				TH_LOG("%d/%d: %s", i, j, strerror(b[i][j].err));
			if (j % 2) {
				EXPECT_EQ(PAR_LEN, b[i][j].done)
					TH_LOG("%d/%d", i, j);
				EXPECT_EQ(-1, b[i][j].bad)
					TH_LOG("%d/%d: bad byte at %lld", i, j,
					       b[i][j].bad);
			}
		}
}

TEST_HARNESS_MAIN
