// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV addresses: bind(), getsockname(), getpeername().
 */

#define _GNU_SOURCE

#include "hvs_test.h"
#include "../kselftest_harness.h"

FIXTURE(bind)
{
	int s;
	__u8 svc[16];
};

FIXTURE_SETUP(bind)
{
	self->s = hvs_socket(0);
	ASSERT_LE(0, self->s) TH_LOG("socket: %s", strerror(-self->s));
	hvs_random_guid(self->svc);
}

FIXTURE_TEARDOWN(bind)
{
	close(self->s);
}

static int bind_raw(int s, const struct sockaddr_hv *a, socklen_t len)
{
	return hvs_err(bind(s, (const struct sockaddr *)a, len));
}

TEST_F(bind, specific_service)
{
	struct sockaddr_hv a;

	ASSERT_EQ(0, hvs_bind(self->s, self->svc));
	ASSERT_EQ(0, hvs_getsockname(self->s, &a));
	EXPECT_EQ(AF_HYPERV, a.shv_family);
	EXPECT_EQ(0, a.shv_reserved);
	EXPECT_TRUE(hvs_guid_is_zero(a.shv_vm_id));
	EXPECT_TRUE(hvs_guid_eq(self->svc, a.shv_service_id));
}

TEST_F(bind, short_length_einval)
{
	struct sockaddr_hv a;
	static const socklen_t lens[] = {
		0, sizeof(sa_family_t), sizeof(struct sockaddr_hv) - 16,
		sizeof(struct sockaddr_hv) - 1,
	};
	unsigned int i;

	hvs_addr(&a, hvs_guid_wildcard, self->svc);
	for (i = 0; i < ARRAY_SIZE(lens); i++)
		EXPECT_EQ(-EINVAL, bind_raw(self->s, &a, lens[i]))
			TH_LOG("addrlen %u", lens[i]);
	/* None of them bound the socket. */
	EXPECT_EQ(0, hvs_bind(self->s, self->svc));
}

/* Like TCP: a longer buffer (a sockaddr_storage) is fine. */
TEST_F(bind, long_length_accepted)
{
	struct sockaddr_storage ss;
	struct sockaddr_hv a;

	memset(&ss, 0, sizeof(ss));
	hvs_addr(&a, hvs_guid_wildcard, self->svc);
	memcpy(&ss, &a, sizeof(a));
	EXPECT_EQ(0, bind_raw(self->s, (struct sockaddr_hv *)&ss, sizeof(ss)));
}

TEST_F(bind, wrong_family_eafnosupport)
{
	struct sockaddr_hv a;

	hvs_addr(&a, hvs_guid_wildcard, self->svc);
	a.shv_family = AF_INET;
	EXPECT_EQ(-EAFNOSUPPORT, bind_raw(self->s, &a, sizeof(a)));
	a.shv_family = AF_UNSPEC;
	EXPECT_EQ(-EAFNOSUPPORT, bind_raw(self->s, &a, sizeof(a)));
	a.shv_family = AF_VSOCK;
	EXPECT_EQ(-EAFNOSUPPORT, bind_raw(self->s, &a, sizeof(a)));
}

TEST_F(bind, reserved_nonzero_einval)
{
	struct sockaddr_hv a;

	hvs_addr(&a, hvs_guid_wildcard, self->svc);
	a.shv_reserved = 1;
	EXPECT_EQ(-EINVAL, bind_raw(self->s, &a, sizeof(a)));
	a.shv_reserved = 0x8000;
	EXPECT_EQ(-EINVAL, bind_raw(self->s, &a, sizeof(a)));
}

/* A guest binds only to the wildcard VM: anything else is EINVAL. */
/* A guest owns no VM GUID but the wildcard: as TCP's non-local address. */
TEST_F(bind, foreign_vm_eaddrnotavail)
{
	static const __u8 vms[][16] = {
		HV_GUID_PARENT_INIT, HV_GUID_BROADCAST_INIT,
		HV_GUID_CHILDREN_INIT, HV_GUID_LOOPBACK_INIT,
		HV_GUID_SILOHOST_INIT,
	};
	struct sockaddr_hv a;
	__u8 rnd[16];
	unsigned int i;
	char str[HV_GUID_TEXT_LEN];

	for (i = 0; i < ARRAY_SIZE(vms); i++) {
		hvs_addr(&a, vms[i], self->svc);
		EXPECT_EQ(-EADDRNOTAVAIL, bind_raw(self->s, &a, sizeof(a)))
			TH_LOG("vm %s", hv_guid_format(vms[i], str));
	}
	hvs_random_guid(rnd);
	hvs_addr(&a, rnd, self->svc);
	EXPECT_EQ(-EADDRNOTAVAIL, bind_raw(self->s, &a, sizeof(a)));
	EXPECT_EQ(0, hvs_bind(self->s, self->svc));
}

TEST_F(bind, wildcard_service_random)
{
	struct sockaddr_hv a, b;
	int s2;

	ASSERT_EQ(0, hvs_bind(self->s, hvs_guid_wildcard));
	ASSERT_EQ(0, hvs_getsockname(self->s, &a));
	EXPECT_EQ(AF_HYPERV, a.shv_family);
	EXPECT_FALSE(hvs_guid_is_zero(a.shv_service_id));

	s2 = hvs_socket(0);
	ASSERT_LE(0, s2);
	ASSERT_EQ(0, hvs_bind(s2, hvs_guid_wildcard));
	ASSERT_EQ(0, hvs_getsockname(s2, &b));
	EXPECT_FALSE(hvs_guid_is_zero(b.shv_service_id));
	EXPECT_FALSE(hvs_guid_eq(a.shv_service_id, b.shv_service_id));

	/* The picked service is really taken. */
	close(s2);
	s2 = hvs_socket(0);
	ASSERT_LE(0, s2);
	EXPECT_EQ(-EADDRINUSE, hvs_bind(s2, a.shv_service_id));
	close(s2);
}

TEST_F(bind, many_wildcards_distinct)
{
	struct sockaddr_hv a[64];
	int s[64], i, j;

	for (i = 0; i < 64; i++) {
		s[i] = hvs_socket(0);
		ASSERT_LE(0, s[i]);
		ASSERT_EQ(0, hvs_bind(s[i], hvs_guid_wildcard));
		ASSERT_EQ(0, hvs_getsockname(s[i], &a[i]));
		for (j = 0; j < i; j++)
			ASSERT_FALSE(hvs_guid_eq(a[i].shv_service_id,
						 a[j].shv_service_id));
	}
	for (i = 0; i < 64; i++)
		close(s[i]);
}

TEST_F(bind, addrinuse)
{
	int s2;

	ASSERT_EQ(0, hvs_bind(self->s, self->svc));
	s2 = hvs_socket(0);
	ASSERT_LE(0, s2);
	EXPECT_EQ(-EADDRINUSE, hvs_bind(s2, self->svc));
	/* Also while the first one listens. */
	ASSERT_EQ(0, listen(self->s, 1));
	EXPECT_EQ(-EADDRINUSE, hvs_bind(s2, self->svc));
	/* Free again once the owner is closed. */
	close(self->s);
	self->s = -1;
	EXPECT_EQ(0, hvs_bind(s2, self->svc));
	close(s2);
}

TEST_F(bind, rebind_einval)
{
	__u8 other[16];

	ASSERT_EQ(0, hvs_bind(self->s, self->svc));
	hvs_random_guid(other);
	EXPECT_EQ(-EINVAL, hvs_bind(self->s, other));
	EXPECT_EQ(-EINVAL, hvs_bind(self->s, self->svc));
	EXPECT_EQ(-EINVAL, hvs_bind(self->s, hvs_guid_wildcard));
}

TEST_F(bind, getsockname_unbound)
{
	struct sockaddr_hv a;

	ASSERT_EQ(0, hvs_getsockname(self->s, &a));
	EXPECT_EQ(AF_HYPERV, a.shv_family);
	EXPECT_EQ(0, a.shv_reserved);
	EXPECT_TRUE(hvs_guid_is_zero(a.shv_vm_id));
	EXPECT_TRUE(hvs_guid_is_zero(a.shv_service_id));
}

TEST_F(bind, getsockname_short_buffer_truncates)
{
	struct sockaddr_hv a;
	socklen_t len = 4;

	ASSERT_EQ(0, hvs_bind(self->s, self->svc));
	memset(&a, 0xa5, sizeof(a));
	ASSERT_EQ(0, getsockname(self->s, (struct sockaddr *)&a, &len));
	/* The full length is reported, only 4 bytes written. */
	EXPECT_EQ(sizeof(a), len);
	EXPECT_EQ(AF_HYPERV, a.shv_family);
	EXPECT_EQ(0xa5, a.shv_vm_id[0]);
}

TEST_F(bind, getpeername_enotconn)
{
	struct sockaddr_hv a;

	EXPECT_EQ(-ENOTCONN, hvs_getpeername(self->s, &a));
	ASSERT_EQ(0, hvs_bind(self->s, self->svc));
	EXPECT_EQ(-ENOTCONN, hvs_getpeername(self->s, &a));
	ASSERT_EQ(0, listen(self->s, 4));
	EXPECT_EQ(-ENOTCONN, hvs_getpeername(self->s, &a));
}

TEST_F(bind, names_when_listening)
{
	struct sockaddr_hv a;

	ASSERT_EQ(0, hvs_bind(self->s, self->svc));
	ASSERT_EQ(0, listen(self->s, 4));
	ASSERT_EQ(0, hvs_getsockname(self->s, &a));
	EXPECT_TRUE(hvs_guid_eq(self->svc, a.shv_service_id));
}

/* Guest -> host connection: both names, also after the peer went away. */
TEST_F(bind, names_when_connected)
{
	struct sockaddr_hv a, p;
	struct hvsim_accept ha;
	int l, h;

	l = hvs_host_listen(self->svc, 0, 0);
	ASSERT_LE(0, l) TH_LOG("host listen: %s", strerror(-l));
	ASSERT_EQ(0, hvs_connect(self->s, hvs_guid_parent, self->svc));
	h = hvs_host_accept(l, HVS_WAIT_MS, &ha);
	ASSERT_LE(0, h);

	ASSERT_EQ(0, hvs_getsockname(self->s, &a));
	EXPECT_EQ(AF_HYPERV, a.shv_family);
	EXPECT_FALSE(hvs_guid_is_zero(a.shv_service_id));
	EXPECT_TRUE(hvs_guid_eq(ha.guest_service_id, a.shv_service_id));
	ASSERT_EQ(0, hvs_getpeername(self->s, &p));
	EXPECT_EQ(AF_HYPERV, p.shv_family);
	EXPECT_EQ(0, p.shv_reserved);
	EXPECT_TRUE(hvs_guid_eq(hvs_guid_parent, p.shv_vm_id));
	EXPECT_TRUE(hvs_guid_eq(self->svc, p.shv_service_id));

	/* A connected socket cannot be bound. */
	EXPECT_EQ(-EINVAL, hvs_bind(self->s, hvs_guid_wildcard));

	/* The host closes: the names stay readable (no crash, no garbage). */
	close(h);
	close(l);
	hvs_poll(self->s, POLLIN, HVS_WAIT_MS);
	ASSERT_EQ(0, hvs_getsockname(self->s, &a));
	EXPECT_TRUE(hvs_guid_eq(ha.guest_service_id, a.shv_service_id));
}

TEST_F(bind, names_when_accepted)
{
	struct sockaddr_hv a, p, acc;
	socklen_t len = sizeof(acc);
	__u8 host_id[16];
	int h, c;

	ASSERT_EQ(0, hvs_bind(self->s, self->svc));
	ASSERT_EQ(0, listen(self->s, 4));
	h = hvs_host_connect(self->svc, 3000, 0, host_id);
	ASSERT_LE(0, h) TH_LOG("host connect: %s", strerror(-h));
	ASSERT_TRUE(hvs_poll(self->s, POLLIN, HVS_WAIT_MS) & POLLIN);
	c = accept(self->s, (struct sockaddr *)&acc, &len);
	ASSERT_LE(0, c) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(sizeof(acc), len);
	EXPECT_EQ(AF_HYPERV, acc.shv_family);
	EXPECT_TRUE(hvs_guid_eq(host_id, acc.shv_service_id));

	ASSERT_EQ(0, hvs_getsockname(c, &a));
	EXPECT_TRUE(hvs_guid_eq(self->svc, a.shv_service_id));
	ASSERT_EQ(0, hvs_getpeername(c, &p));
	EXPECT_TRUE(hvs_guid_eq(host_id, p.shv_service_id));
	EXPECT_TRUE(hvs_guid_eq(acc.shv_vm_id, p.shv_vm_id));
	EXPECT_TRUE(hvs_guid_eq(hvs_guid_parent, p.shv_vm_id));
	close(c);
	close(h);
}

TEST_HARNESS_MAIN
