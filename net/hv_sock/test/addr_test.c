// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for AF_HYPERV address validation.
 */

#include <kunit/test.h>
#include <linux/unaligned.h>
#include <net/af_hvsock.h>

static const struct sockaddr_hv good_addr = {
	.shv_family	= AF_HYPERV,
	.shv_vm_id	= HV_GUID_WILDCARD_INIT,
	.shv_service_id	= HV_GUID_VSOCK_TEMPLATE_INIT,
};

/* The AF_VSOCK template GUID of @port: the port in the first 4 bytes, LE. */
static void vsock_guid(u8 guid[16], u32 port)
{
	static const u8 tmpl[16] = HV_GUID_VSOCK_TEMPLATE_INIT;

	memcpy(guid, tmpl, sizeof(tmpl));
	put_unaligned_le32(port, guid);
}

static void addr_accepts_well_formed(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 0,
			hvsock_addr_validate(&good_addr, sizeof(good_addr)));
}

static void addr_accepts_longer_buffer(struct kunit *test)
{
	struct sockaddr_storage ss = {};

	memcpy(&ss, &good_addr, sizeof(good_addr));
	KUNIT_EXPECT_EQ(test, 0,
			hvsock_addr_validate((struct sockaddr_hv *)&ss,
					     sizeof(ss)));
}

static void addr_rejects_short_length(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, -EINVAL,
			hvsock_addr_validate(&good_addr, sizeof(good_addr) - 1));
	KUNIT_EXPECT_EQ(test, -EINVAL, hvsock_addr_validate(&good_addr, 0));
	KUNIT_EXPECT_EQ(test, -EINVAL, hvsock_addr_validate(&good_addr, -1));
}

static void addr_rejects_other_family(struct kunit *test)
{
	struct sockaddr_hv addr = good_addr;

	addr.shv_family = AF_VSOCK;
	KUNIT_EXPECT_EQ(test, -EAFNOSUPPORT,
			hvsock_addr_validate(&addr, sizeof(addr)));
}

static void addr_rejects_reserved(struct kunit *test)
{
	struct sockaddr_hv addr = good_addr;

	addr.shv_reserved = 1;
	KUNIT_EXPECT_EQ(test, -EINVAL,
			hvsock_addr_validate(&addr, sizeof(addr)));
}

static void addr_layout_matches_windows(struct kunit *test)
{
	static const u8 parent[16] = HV_GUID_PARENT_INIT;
	guid_t expect = GUID_INIT(0xa42e7cda, 0xd03f, 0x480c, 0x9c, 0xc2,
				  0xa4, 0xde, 0x20, 0xab, 0xb8, 0x78);

	KUNIT_EXPECT_EQ(test, 36, (int)sizeof(struct sockaddr_hv));
	KUNIT_EXPECT_EQ(test, 4,
			(int)offsetof(struct sockaddr_hv, shv_vm_id));
	KUNIT_EXPECT_EQ(test, 20,
			(int)offsetof(struct sockaddr_hv, shv_service_id));
	KUNIT_EXPECT_MEMEQ(test, parent, expect.b, sizeof(parent));
}

static void addr_vsock_port_guid(struct kunit *test)
{
	guid_t expect = GUID_INIT(0x000004d2, 0xfacb, 0x11e6, 0xbd, 0x58,
				  0x64, 0x00, 0x6a, 0x79, 0x86, 0xd3);
	u8 guid[16];

	memset(guid, 0x5a, sizeof(guid));
	vsock_guid(guid, 1234);
	KUNIT_EXPECT_MEMEQ(test, guid, expect.b, sizeof(guid));
}

/* Template GUIDs of vsock ports 0 to 1023 are CAP_NET_BIND_SERVICE's. */
static void addr_reserved_services(struct kunit *test)
{
	static const u32 reserved[] = { 0, 1, 22, 1023 };
	static const u32 free[] = { 1024, 5000, 0x80000000, 0xffffffff };
	guid_t srv;
	int i;

	for (i = 0; i < ARRAY_SIZE(reserved); i++) {
		vsock_guid(srv.b, reserved[i]);
		KUNIT_EXPECT_TRUE_MSG(test, hvsock_srv_is_reserved(&srv),
				      "port %u", reserved[i]);
	}
	for (i = 0; i < ARRAY_SIZE(free); i++) {
		vsock_guid(srv.b, free[i]);
		KUNIT_EXPECT_FALSE_MSG(test, hvsock_srv_is_reserved(&srv),
				       "port %u", free[i]);
	}
	/* Port 22 with one bit of the template's tail changed. */
	vsock_guid(srv.b, 22);
	srv.b[15] ^= 1;
	KUNIT_EXPECT_FALSE(test, hvsock_srv_is_reserved(&srv));
	srv.b[15] ^= 1;
	srv.b[4] ^= 1;
	KUNIT_EXPECT_FALSE(test, hvsock_srv_is_reserved(&srv));
	/* Random GUIDs, which autobind uses, are never reserved. */
	for (i = 0; i < 1000; i++) {
		guid_gen(&srv);
		memset(srv.b, 0, 4);
		KUNIT_EXPECT_FALSE(test, hvsock_srv_is_reserved(&srv));
	}
}

/* Every port's template GUID is AF_VSOCK's; nothing else is. */
static void addr_vsock_services(struct kunit *test)
{
	static const u32 ports[] = { 0, 22, 1024, 0x80000000, 0xffffffff };
	guid_t srv;
	int i;

	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		vsock_guid(srv.b, ports[i]);
		KUNIT_EXPECT_TRUE_MSG(test, hvsock_srv_is_vsock(&srv),
				      "port %u", ports[i]);
	}
	srv.b[15] ^= 1;
	KUNIT_EXPECT_FALSE(test, hvsock_srv_is_vsock(&srv));
	srv.b[15] ^= 1;
	srv.b[4] ^= 1;
	KUNIT_EXPECT_FALSE(test, hvsock_srv_is_vsock(&srv));
	for (i = 0; i < 1000; i++) {
		guid_gen(&srv);
		KUNIT_EXPECT_FALSE(test, hvsock_srv_is_vsock(&srv));
	}
}

static struct kunit_case hvsock_addr_cases[] = {
	KUNIT_CASE(addr_accepts_well_formed),
	KUNIT_CASE(addr_accepts_longer_buffer),
	KUNIT_CASE(addr_rejects_short_length),
	KUNIT_CASE(addr_rejects_other_family),
	KUNIT_CASE(addr_rejects_reserved),
	KUNIT_CASE(addr_layout_matches_windows),
	KUNIT_CASE(addr_vsock_port_guid),
	KUNIT_CASE(addr_reserved_services),
	KUNIT_CASE(addr_vsock_services),
	{}
};

static struct kunit_suite hvsock_addr_suite = {
	.name = "hv_sock_addr",
	.test_cases = hvsock_addr_cases,
};

kunit_test_suite(hvsock_addr_suite);

MODULE_DESCRIPTION("KUnit tests for AF_HYPERV addresses");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
