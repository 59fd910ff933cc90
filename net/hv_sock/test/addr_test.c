// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for AF_HYPERV address validation.
 */

#include <kunit/test.h>
#include <net/af_hvsock.h>

static const struct sockaddr_hv good_addr = {
	.shv_family	= AF_HYPERV,
	.shv_vm_id	= HV_GUID_WILDCARD_INIT,
	.shv_service_id	= HV_GUID_VSOCK_TEMPLATE_INIT,
};

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
	hv_guid_set_vsock_port(guid, 1234);
	KUNIT_EXPECT_MEMEQ(test, guid, expect.b, sizeof(guid));
}

static struct kunit_case hvsock_addr_cases[] = {
	KUNIT_CASE(addr_accepts_well_formed),
	KUNIT_CASE(addr_accepts_longer_buffer),
	KUNIT_CASE(addr_rejects_short_length),
	KUNIT_CASE(addr_rejects_other_family),
	KUNIT_CASE(addr_rejects_reserved),
	KUNIT_CASE(addr_layout_matches_windows),
	KUNIT_CASE(addr_vsock_port_guid),
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
