// SPDX-License-Identifier: GPL-2.0
/*
 * af_hvsock.ko life cycle: unloading is refused while sockets exist, and
 * load/unload cycles leave a working family behind.
 */

#include "hvs_test.h"

#include <sys/syscall.h>

#include "../kselftest_harness.h"

/* The modules that use af_hvsock's symbols, and hold it, go first. */
static void unload_users(void)
{
	syscall(SYS_delete_module, "hv_sock_kunit", O_NONBLOCK);
	syscall(SYS_delete_module, "af_hvsock_diag", O_NONBLOCK);
}

static int unload_af_hvsock(void)
{
	return hvs_err(syscall(SYS_delete_module, "af_hvsock", O_NONBLOCK));
}

/*
 * Unload, retrying while something still holds the module: sockets of
 * earlier tests may take a moment to go. Users of af_hvsock's symbols (the
 * KUnit module, af_hvsock_diag) go first.
 */
static int unload_af_hvsock_wait(int timeout_ms)
{
	long long end = hvs_now_ms() + timeout_ms;
	int ret;

	unload_users();
	do {
		ret = unload_af_hvsock();
		if (ret != -EWOULDBLOCK && ret != -EBUSY)
			return ret;
		hvs_msleep(50);
	} while (hvs_now_ms() < end);
	return ret;
}

/* Only for TEST_F_TIMEOUT. */
FIXTURE(mod)
{
	int unused;
};

FIXTURE_SETUP(mod)
{
}

FIXTURE_TEARDOWN(mod)
{
}

static int load_af_hvsock(void)
{
	return system("modprobe af_hvsock") ? -EIO : 0;
}

/* One connection with a little data both ways. */
static int smoke(void)
{
	char buf[4];
	int g, h, ret;

	ret = hvs_pair(&g, &h);
	if (ret)
		return ret;
	if (send(g, "ping", 4, 0) != 4 ||
	    hvs_read_full(h, buf, 4, HVS_WAIT_MS) != 4 ||
	    write(h, "pong", 4) != 4 ||
	    hvs_read_full(g, buf, 4, HVS_WAIT_MS) != 4 ||
	    memcmp(buf, "pong", 4))
		ret = -EIO;
	close(g);
	close(h);
	return ret;
}

TEST(unload_refused_with_socket)
{
	int s, ret;

	ASSERT_EQ(0, load_af_hvsock());
	s = hvs_socket(0);
	ASSERT_LE(0, s);
	unload_users();
	ret = unload_af_hvsock();
	if (!ret) {
		/* Allowed only if the socket stays safe to use and close. */
		TH_LOG("af_hvsock unloaded under an open socket");
		EXPECT_EQ(-1, listen(s, 1));
		close(s);
		ASSERT_EQ(0, load_af_hvsock());
		return;
	}
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) TH_LOG("%d", ret);
	EXPECT_TRUE(hvs_module_loaded("af_hvsock"));
	close(s);
	EXPECT_EQ(0, unload_af_hvsock_wait(10000));
	EXPECT_EQ(0, load_af_hvsock());
}

TEST_F_TIMEOUT(mod, unload_refused_with_connection, 60)
{
	int g, h, ret;

	ASSERT_EQ(0, load_af_hvsock());
	ASSERT_EQ(0, hvs_pair(&g, &h));
	unload_users();
	ret = unload_af_hvsock();
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) TH_LOG("%d", ret);
	ASSERT_EQ(2, send(g, "ok", 2, 0));
	close(g);
	close(h);
	EXPECT_EQ(0, unload_af_hvsock_wait(10000));
	EXPECT_EQ(0, load_af_hvsock());
}

TEST_F_TIMEOUT(mod, load_unload_cycles, 120)
{
	int i, ret;

	for (i = 0; i < 5; i++) {
		ret = unload_af_hvsock_wait(10000);
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: unload: %s", i,
					 strerror(-ret));
		EXPECT_FALSE(hvs_module_loaded("af_hvsock"));
		ASSERT_EQ(0, load_af_hvsock());
		ret = smoke();
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: %s", i, strerror(-ret));
	}
	/* Nothing of the cycles is left in the simulator. */
	ASSERT_EQ(0, unload_af_hvsock_wait(10000));
	EXPECT_EQ(0, hvs_host_wait_channels(0, HVS_WAIT_MS));
	ASSERT_EQ(0, load_af_hvsock());
}

/* Unloaded: the first socket() loads it again. */
TEST_F_TIMEOUT(mod, autoload_after_unload, 60)
{
	int s;

	ASSERT_EQ(0, unload_af_hvsock_wait(10000));
	s = socket(AF_HYPERV, SOCK_STREAM, 0);
	ASSERT_LE(0, s) TH_LOG("socket: %s", strerror(errno));
	EXPECT_TRUE(hvs_module_loaded("af_hvsock"));
	close(s);
}

/* A guest listener exists while the module is unloaded and reloaded. */
TEST_F_TIMEOUT(mod, listener_blocks_unload, 60)
{
	__u8 svc[16];
	int s, h, c, ret;

	ASSERT_EQ(0, load_af_hvsock());
	s = hvs_socket(0);
	ASSERT_LE(0, s);
	hvs_random_guid(svc);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 4));
	ret = unload_af_hvsock();
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) TH_LOG("%d", ret);
	h = hvs_host_connect(svc, 5000, 0, NULL);
	ASSERT_LE(0, h);
	c = accept(s, NULL, NULL);
	EXPECT_LE(0, c);
	close(c);
	close(h);
	close(s);
}

TEST_HARNESS_MAIN
