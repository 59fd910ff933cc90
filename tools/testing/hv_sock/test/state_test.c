// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the AF_HYPERV state machine, driven through the
 * simulated Hyper-V host (tools/testing/hv_sock/vmbus_sim, hvsim_host.h).
 *
 * The guest side is a kernel socket using the ordinary socket calls; the
 * host side connects, listens, writes, shuts down and rescinds with the
 * simulator's in-kernel API. Each case checks the TCP state the socket
 * goes through and the error codes the calls return on the way. Built
 * only in the test kernel's external module build, where the simulator
 * provides the VMBus API.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/net.h>
#include <linux/unaligned.h>
#include <linux/uio.h>
#include <net/af_hvsock.h>
#include <net/tcp_states.h>

#include "hvsim_host.h"

#define ST_WAIT_MS	5000
#define ST_STEP_MS	20
#define ST_PORT_BASE	0x5e000

static const u8 st_parent[16] = HV_GUID_PARENT_INIT;

KUNIT_DEFINE_ACTION_WRAPPER(st_sock_release, sock_release, struct socket *);
KUNIT_DEFINE_ACTION_WRAPPER(st_host_close, hvsim_host_close,
			    struct hvsim_conn *);
KUNIT_DEFINE_ACTION_WRAPPER(st_host_unlisten, hvsim_host_unlisten,
			    struct hvsim_listener *);

/* The AF_VSOCK template GUID of @port: the port in the first 4 bytes, LE. */
static void st_vsock_guid(u8 guid[16], u32 port)
{
	static const u8 tmpl[16] = HV_GUID_VSOCK_TEMPLATE_INIT;

	memcpy(guid, tmpl, sizeof(tmpl));
	put_unaligned_le32(port, guid);
}

static void st_addr(struct sockaddr_hv *addr, const u8 *vm, u32 port)
{
	memset(addr, 0, sizeof(*addr));
	addr->shv_family = AF_HYPERV;
	if (vm)
		memcpy(addr->shv_vm_id, vm, sizeof(addr->shv_vm_id));
	st_vsock_guid(addr->shv_service_id, ST_PORT_BASE + port);
}

static void st_guid(guid_t *g, u32 port)
{
	u8 b[16];

	st_vsock_guid(b, ST_PORT_BASE + port);
	import_guid(g, b);
}

static struct socket *st_socket(struct kunit *test)
{
	struct socket *sock;

	KUNIT_ASSERT_EQ(test, 0, sock_create_kern(&init_net, AF_HYPERV,
						  SOCK_STREAM, 0, &sock));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test,
							   st_sock_release,
							   sock));
	return sock;
}

static void st_release(struct kunit *test, struct socket *sock)
{
	kunit_release_action(test, st_sock_release, sock);
}

/* Wait for an asynchronous transition (host events, work items). */
static int st_wait_state(struct socket *sock, int state)
{
	int ms;

	for (ms = 0; ms < ST_WAIT_MS; ms += ST_STEP_MS) {
		if (READ_ONCE(sock->sk->sk_state) == state)
			break;
		msleep(ST_STEP_MS);
	}
	return READ_ONCE(sock->sk->sk_state);
}

/* Wait for the host to see the channel closed; returns its info. */
static void st_wait_host_closed(struct hvsim_conn *c,
				struct hvsim_conn_info *info)
{
	int ms;

	for (ms = 0; ms < ST_WAIT_MS; ms += ST_STEP_MS) {
		hvsim_host_conn_info(c, info);
		if (info->state == HVSIM_STATE_CLOSED)
			break;
		msleep(ST_STEP_MS);
	}
}

static struct socket *st_listener(struct kunit *test, u32 port, int backlog)
{
	struct socket *sock = st_socket(test);
	struct sockaddr_hv addr;

	st_addr(&addr, NULL, port);
	KUNIT_ASSERT_EQ(test, 0, kernel_bind(sock, (struct sockaddr *)&addr,
					     sizeof(addr)));
	KUNIT_ASSERT_EQ(test, 0, kernel_listen(sock, backlog));
	KUNIT_EXPECT_EQ(test, TCP_LISTEN, sock->sk->sk_state);
	return sock;
}

/* The host connects to the guest service @port; the offer is opened. */
static struct hvsim_conn *st_host_connect(struct kunit *test, u32 port)
{
	struct hvsim_conn *c;
	guid_t svc, ep = {};

	st_guid(&svc, port);
	KUNIT_ASSERT_EQ(test, 0, hvsim_host_connect(&svc, &ep, 0, 0, &c));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, st_host_close,
							   c));
	return c;
}

static void st_host_close_now(struct kunit *test, struct hvsim_conn *c)
{
	kunit_release_action(test, st_host_close, c);
}

/* A connected pair: the host connected to a guest listener. */
static struct socket *st_accepted(struct kunit *test, u32 port,
				  struct hvsim_conn **cp)
{
	struct socket *l = st_listener(test, port, 4), *g;

	*cp = st_host_connect(test, port);
	KUNIT_ASSERT_EQ(test, 0, kernel_accept(l, &g, 0));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test,
							   st_sock_release,
							   g));
	st_release(test, l);
	KUNIT_EXPECT_EQ(test, TCP_ESTABLISHED, g->sk->sk_state);
	return g;
}

static int st_send(struct socket *sock, const void *buf, size_t len)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };

	return kernel_sendmsg(sock, &msg, &kv, 1, len);
}

static int st_recv(struct socket *sock, void *buf, size_t len, int flags)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {};

	return kernel_recvmsg(sock, &msg, &kv, 1, len, flags);
}

/* ESTABLISHED -> host FIN -> CLOSE_WAIT -> our FIN -> LAST_ACK -> CLOSE */
static void st_passive_close(struct kunit *test)
{
	struct hvsim_conn *c;
	struct socket *g = st_accepted(test, 1, &c);
	char buf[8];

	KUNIT_ASSERT_EQ(test, 3, hvsim_host_send(c, "abc", 3, false));
	KUNIT_ASSERT_EQ(test, 0, hvsim_host_shutdown(c, false));
	KUNIT_EXPECT_EQ(test, 3, st_recv(g, buf, sizeof(buf), 0));
	KUNIT_EXPECT_EQ(test, 0, st_recv(g, buf, sizeof(buf), 0));
	KUNIT_EXPECT_EQ(test, TCP_CLOSE_WAIT, g->sk->sk_state);

	/* Half-closed: we may still send. */
	KUNIT_EXPECT_EQ(test, 2, st_send(g, "de", 2));
	KUNIT_EXPECT_EQ(test, 2, hvsim_host_recv(c, buf, sizeof(buf), false));

	KUNIT_EXPECT_EQ(test, 0, kernel_sock_shutdown(g, SHUT_WR));
	KUNIT_EXPECT_EQ(test, TCP_LAST_ACK, g->sk->sk_state);
	KUNIT_EXPECT_EQ(test, 0, hvsim_host_recv(c, buf, sizeof(buf), false));
	KUNIT_EXPECT_EQ(test, -EPIPE, st_send(g, "x", 1));

	hvsim_host_rescind(c);
	KUNIT_EXPECT_EQ(test, TCP_CLOSE, st_wait_state(g, TCP_CLOSE));
	KUNIT_EXPECT_EQ(test, 0, st_recv(g, buf, sizeof(buf), MSG_DONTWAIT));
}

/* ESTABLISHED -> our FIN -> FIN_WAIT1 -> host FIN -> CLOSING -> CLOSE */
static void st_active_close(struct kunit *test)
{
	struct hvsim_listener *l;
	struct hvsim_conn *c;
	struct sockaddr_hv addr;
	struct socket *g = st_socket(test);
	guid_t svc;
	char buf[8];

	st_guid(&svc, 2);
	KUNIT_ASSERT_EQ(test, 0, hvsim_host_listen(&svc, 0, 0, &l));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test,
							   st_host_unlisten,
							   l));
	st_addr(&addr, st_parent, 2);
	KUNIT_ASSERT_EQ(test, 0, kernel_connect(g, (struct sockaddr *)&addr,
						sizeof(addr), 0));
	KUNIT_EXPECT_EQ(test, TCP_ESTABLISHED, g->sk->sk_state);
	KUNIT_EXPECT_EQ(test, SS_CONNECTED, g->state);
	KUNIT_ASSERT_EQ(test, 0, hvsim_host_accept(l, false, &c));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, st_host_close,
							   c));

	/* connect() again: already connected. */
	KUNIT_EXPECT_EQ(test, -EISCONN,
			kernel_connect(g, (struct sockaddr *)&addr,
				       sizeof(addr), 0));

	KUNIT_EXPECT_EQ(test, 0, kernel_sock_shutdown(g, SHUT_WR));
	KUNIT_EXPECT_EQ(test, TCP_FIN_WAIT1, g->sk->sk_state);
	KUNIT_EXPECT_EQ(test, 0, hvsim_host_recv(c, buf, sizeof(buf), false));

	KUNIT_ASSERT_EQ(test, 0, hvsim_host_shutdown(c, false));
	KUNIT_EXPECT_EQ(test, 0, st_recv(g, buf, sizeof(buf), 0));
	KUNIT_EXPECT_EQ(test, TCP_CLOSING, g->sk->sk_state);

	hvsim_host_rescind(c);
	KUNIT_EXPECT_EQ(test, TCP_CLOSE, st_wait_state(g, TCP_CLOSE));
}

/* SYN_SENT -> HVSOCKET_CONNECT_TIMEOUT -> CLOSE with ETIMEDOUT; again. */
static void st_connect_timeout(struct kunit *test)
{
	struct socket *g = st_socket(test);
	struct sockaddr_hv addr;
	u32 ms = 200;

	KUNIT_ASSERT_EQ(test, 0,
			g->ops->setsockopt(g, SOL_HYPERV,
					   HVSOCKET_CONNECT_TIMEOUT,
					   KERNEL_SOCKPTR(&ms), sizeof(ms)));
	/* Nobody listens on the host: the request goes unanswered. */
	st_addr(&addr, st_parent, 3);
	KUNIT_EXPECT_EQ(test, -ETIMEDOUT,
			kernel_connect(g, (struct sockaddr *)&addr,
				       sizeof(addr), 0));
	KUNIT_EXPECT_EQ(test, TCP_CLOSE, g->sk->sk_state);
	KUNIT_EXPECT_EQ(test, SS_UNCONNECTED, g->state);

	/* Non-blocking: EINPROGRESS, EALREADY, then the error. */
	KUNIT_EXPECT_EQ(test, -EINPROGRESS,
			kernel_connect(g, (struct sockaddr *)&addr,
				       sizeof(addr), O_NONBLOCK));
	KUNIT_EXPECT_EQ(test, TCP_SYN_SENT, g->sk->sk_state);
	KUNIT_EXPECT_EQ(test, -EALREADY,
			kernel_connect(g, (struct sockaddr *)&addr,
				       sizeof(addr), O_NONBLOCK));
	KUNIT_EXPECT_EQ(test, TCP_CLOSE, st_wait_state(g, TCP_CLOSE));
	KUNIT_EXPECT_EQ(test, ETIMEDOUT, READ_ONCE(g->sk->sk_err));
}

/* The host refuses vmbus_open(): ECONNREFUSED. */
static void st_connect_refused(struct kunit *test)
{
	struct hvsim_config cfg, saved;
	struct hvsim_listener *l;
	struct socket *g = st_socket(test);
	struct sockaddr_hv addr;
	guid_t svc;

	st_guid(&svc, 4);
	KUNIT_ASSERT_EQ(test, 0, hvsim_host_listen(&svc, 0, 0, &l));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test,
							   st_host_unlisten,
							   l));
	hvsim_host_get_config(&saved);
	cfg = saved;
	cfg.fail_opens = 1;
	KUNIT_ASSERT_EQ(test, 0, hvsim_host_set_config(&cfg));

	st_addr(&addr, st_parent, 4);
	KUNIT_EXPECT_EQ(test, -ECONNREFUSED,
			kernel_connect(g, (struct sockaddr *)&addr,
				       sizeof(addr), 0));
	KUNIT_EXPECT_EQ(test, TCP_CLOSE, g->sk->sk_state);
	hvsim_host_set_config(&saved);
}

/* shutdown() of a connecting socket: CLOSE, the connect fails. */
static void st_shutdown_connecting(struct kunit *test)
{
	struct socket *g = st_socket(test);
	struct sockaddr_hv addr;

	st_addr(&addr, st_parent, 5);
	KUNIT_EXPECT_EQ(test, -EINPROGRESS,
			kernel_connect(g, (struct sockaddr *)&addr,
				       sizeof(addr), O_NONBLOCK));
	KUNIT_EXPECT_EQ(test, 0, kernel_sock_shutdown(g, SHUT_RDWR));
	KUNIT_EXPECT_EQ(test, TCP_CLOSE, g->sk->sk_state);
	KUNIT_EXPECT_EQ(test, ECONNRESET, READ_ONCE(g->sk->sk_err));
	/* The socket may connect again. */
	KUNIT_EXPECT_EQ(test, -EINPROGRESS,
			kernel_connect(g, (struct sockaddr *)&addr,
				       sizeof(addr), O_NONBLOCK));
}

/* Rescind with data on the ring: data, then EOF; sends fail. */
static void st_rescind(struct kunit *test)
{
	struct hvsim_conn *c;
	struct socket *g = st_accepted(test, 6, &c);
	char buf[8];

	KUNIT_ASSERT_EQ(test, 4, hvsim_host_send(c, "wxyz", 4, false));
	hvsim_host_rescind(c);
	KUNIT_EXPECT_EQ(test, TCP_CLOSE, st_wait_state(g, TCP_CLOSE));
	KUNIT_EXPECT_EQ(test, 4, st_recv(g, buf, sizeof(buf), 0));
	KUNIT_EXPECT_EQ(test, 0, st_recv(g, buf, sizeof(buf), 0));
	KUNIT_EXPECT_EQ(test, -EPIPE, st_send(g, "x", 1));
}

/* A malformed packet resets the connection: ECONNRESET, then EOF. */
static void st_malformed_reset(struct kunit *test)
{
	struct hvsim_inject inj = {
		.kind = HVSIM_INJECT_PIPE,
		.pkt_type = VM_PKT_DATA_INBAND,
		.pipe_type = 7,		/* not HVSOCK_PIPE_DATA */
		.len = 4,
	};
	struct hvsim_conn *c;
	struct socket *g = st_accepted(test, 7, &c);
	char buf[8];

	KUNIT_ASSERT_LT(test, 0, hvsim_host_inject(c, &inj, "junk"));
	KUNIT_EXPECT_EQ(test, -ECONNRESET, st_recv(g, buf, sizeof(buf), 0));
	KUNIT_EXPECT_EQ(test, TCP_CLOSE, g->sk->sk_state);
	KUNIT_EXPECT_EQ(test, 0, st_recv(g, buf, sizeof(buf), 0));
	KUNIT_EXPECT_EQ(test, -EPIPE, st_send(g, "x", 1));
}

/* close(): FIN, then the channel goes once the host rescinds. */
static void st_release_graceful(struct kunit *test)
{
	struct hvsim_conn_info info;
	struct hvsim_conn *c;
	struct socket *g = st_accepted(test, 8, &c);
	char buf[8];

	KUNIT_EXPECT_EQ(test, 1, st_send(g, "q", 1));
	st_release(test, g);
	KUNIT_EXPECT_EQ(test, 1, hvsim_host_recv(c, buf, sizeof(buf), false));
	KUNIT_EXPECT_EQ(test, 0, hvsim_host_recv(c, buf, sizeof(buf), false));
	hvsim_host_conn_info(c, &info);
	KUNIT_EXPECT_TRUE(test, info.flags & HVSIM_INFO_FIN_RECEIVED);
	st_host_close_now(test, c);
}

/* SO_LINGER 0: no FIN, the channel is closed at once (a reset). */
static void st_release_abort(struct kunit *test)
{
	struct hvsim_conn_info info;
	struct hvsim_conn *c;
	struct socket *g = st_accepted(test, 9, &c);
	char buf[8];

	sock_no_linger(g->sk);
	st_release(test, g);
	st_wait_host_closed(c, &info);
	KUNIT_EXPECT_EQ(test, HVSIM_STATE_CLOSED, info.state);
	KUNIT_EXPECT_EQ(test, HVSIM_CLOSE_GUEST, info.close_reason);
	KUNIT_EXPECT_FALSE(test, info.flags & HVSIM_INFO_FIN_RECEIVED);
	KUNIT_EXPECT_GT(test, 0, hvsim_host_recv(c, buf, sizeof(buf), true));
}

/* Closing a listener resets the connections nobody accepted. */
static void st_listener_close(struct kunit *test)
{
	struct socket *l = st_listener(test, 10, 4);
	struct hvsim_conn_info info;
	struct hvsim_conn *c;

	c = st_host_connect(test, 10);
	st_release(test, l);
	st_wait_host_closed(c, &info);
	KUNIT_EXPECT_EQ(test, HVSIM_STATE_CLOSED, info.state);
	KUNIT_EXPECT_FALSE(test, info.flags & HVSIM_INFO_FIN_RECEIVED);
}

static struct kunit_case hvsock_state_cases[] = {
	KUNIT_CASE(st_passive_close),
	KUNIT_CASE(st_active_close),
	KUNIT_CASE(st_connect_timeout),
	KUNIT_CASE(st_connect_refused),
	KUNIT_CASE(st_shutdown_connecting),
	KUNIT_CASE(st_rescind),
	KUNIT_CASE(st_malformed_reset),
	KUNIT_CASE(st_release_graceful),
	KUNIT_CASE(st_release_abort),
	KUNIT_CASE(st_listener_close),
	{}
};

/* Also makes this module depend on hv_sock, so AF_HYPERV is registered. */
static int st_suite_init(struct kunit_suite *suite)
{
	struct sockaddr_hv addr;

	st_addr(&addr, NULL, 0);
	return hvsock_addr_validate(&addr, sizeof(addr));
}

static struct kunit_suite hvsock_state_suite = {
	.name = "hv_sock_state",
	.suite_init = st_suite_init,
	.test_cases = hvsock_state_cases,
};

kunit_test_suite(hvsock_state_suite);

MODULE_DESCRIPTION("KUnit tests for the AF_HYPERV state machine");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
