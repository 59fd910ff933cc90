// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV beside the AF_VSOCK Hyper-V transport: the host's answers to
 * two connects made from the same local endpoint, the vsock port P and
 * the AF_HYPERV socket bound to the vsock-template GUID of P, to two
 * different host services. Each answer has if_instance = template(P), so
 * only its host service (if_type) tells them apart: each family must
 * claim its own and decline the other's, whichever driver VMBus asks
 * first. coexist_test.sh covers the rest of the coexistence.
 */

#include "hvs_test.h"

#include <linux/vm_sockets.h>
#include "../kselftest_harness.h"

#define PORT_LOCAL	23101	/* the vsock port P both connect from */
#define PORT_VSOCK_SVC	23102	/* the host service vsock connects to */

FIXTURE(answer)
{
	int lv, lh;	/* host listeners: vsock's service, AF_HYPERV's */
	int v, s;	/* guest: the vsock and the AF_HYPERV socket */
	__u8 svc[16];
};

/* Both load orders: the first driver VMBus asks differs. */
FIXTURE_VARIANT(answer)
{
	const char *first, *second;
};

FIXTURE_VARIANT_ADD(answer, af_hvsock_first)
{
	.first = "af_hvsock", .second = "hv_vsock_peer",
};

FIXTURE_VARIANT_ADD(answer, vsock_first)
{
	.first = "hv_vsock_peer", .second = "af_hvsock",
};

static void unload(const char *m)
{
	char cmd[64];
	int i;

	snprintf(cmd, sizeof(cmd), "rmmod %s 2>/dev/null", m);
	/* Closing connections hold the module for a moment. */
	for (i = 0; i < 100 && hvs_module_loaded(m); i++) {
		if (system(cmd))
			hvs_msleep(100);
	}
}

static int load(const char *m)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "modprobe %s", m);
	return system(cmd) ? -EIO : 0;
}

FIXTURE_SETUP(answer)
{
	__u8 vsvc[16];

	self->lv = -1;
	self->lh = -1;
	self->v = -1;
	self->s = -1;
	ASSERT_EQ(0, hvs_host_reset_config());
	(void)!system("modprobe vsock");
	unload("hv_vsock_peer");
	unload("af_hvsock");
	ASSERT_FALSE(hvs_module_loaded("af_hvsock"));
	ASSERT_EQ(0, load(variant->first));
	ASSERT_EQ(0, load(variant->second));
	hv_guid_from_vsock_port(vsvc, PORT_VSOCK_SVC);
	hvs_random_guid(self->svc);
	self->lv = hvs_host_listen(vsvc, 0, 0);
	ASSERT_LE(0, self->lv);
	self->lh = hvs_host_listen(self->svc, 0, 0);
	ASSERT_LE(0, self->lh);
}

FIXTURE_TEARDOWN(answer)
{
	close(self->v);
	close(self->s);
	close(self->lv);
	close(self->lh);
	hvs_host_reset_config();
}

static int connected(int fd)
{
	int r = hvs_poll(fd, POLLOUT, HVS_WAIT_MS);
	socklen_t len = sizeof(int);
	int err = 0;

	if (!(r & POLLOUT))
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

/* Each family gets the answer to its own connect, and its data. */
TEST_F(answer, same_local_endpoint)
{
	struct sockaddr_vm vl = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
		.svm_port = PORT_LOCAL,
	};
	struct sockaddr_vm vr = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
		.svm_port = PORT_VSOCK_SVC,
	};
	__u8 local[16];
	int hv, hh;
	char buf[8];

	/* Both requests are out before the host offers either answer. */
	ASSERT_EQ(0, hvs_host_config_set(offer_delay_ms, 300));
	self->v = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, self->v);
	ASSERT_EQ(0, bind(self->v, (struct sockaddr *)&vl, sizeof(vl)));
	self->s = hvs_socket(SOCK_NONBLOCK);
	ASSERT_LE(0, self->s);
	hv_guid_from_vsock_port(local, PORT_LOCAL);
	ASSERT_EQ(0, hvs_bind(self->s, local));
	ASSERT_EQ(-1, connect(self->v, (struct sockaddr *)&vr, sizeof(vr)));
	ASSERT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(-EINPROGRESS, hvs_connect(self->s, hvs_guid_parent,
					    self->svc));

	hv = hvs_host_accept(self->lv, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, hv);
	hh = hvs_host_accept(self->lh, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, hh);
	EXPECT_EQ(0, connected(self->v));
	EXPECT_EQ(0, connected(self->s));
	ASSERT_EQ(5, write(hv, "vsock", 5));
	ASSERT_EQ(6, write(hh, "hyperv", 6));
	memset(buf, 0, sizeof(buf));
	EXPECT_TRUE(hvs_poll(self->v, POLLIN, HVS_WAIT_MS) & POLLIN);
	EXPECT_EQ(5, recv(self->v, buf, sizeof(buf), 0));
	EXPECT_STREQ("vsock", buf);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(6, hvs_read_full(self->s, buf, 6, HVS_WAIT_MS));
	EXPECT_STREQ("hyperv", buf);
	close(hv);
	close(hh);
}

TEST_HARNESS_MAIN
