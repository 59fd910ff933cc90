// SPDX-License-Identifier: GPL-2.0
/*
 * sock_diag for AF_HYPERV (af_hvsock_diag.ko, <linux/hv_sock_diag.h>), in
 * the manner of tools/testing/vsock/vsock_diag_test.c: no sockets, a
 * listener, connections both ways, a socket in each state it can be
 * caught in, the queue and ring figures, owner and inode, the state
 * filter, a dump of 1024 sockets and one racing with sockets coming and
 * going, malformed requests, an unprivileged dump, the module's autoload
 * and the hvss tool.
 */

#include "hvs_test.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/hv_sock_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "../kselftest_harness.h"

#ifndef SO_COOKIE
#define SO_COOKIE	57
#endif

/* TCP's state numbers, as sk_state holds them. */
enum {
	ST_ESTABLISHED = 1, ST_SYN_SENT, ST_SYN_RECV, ST_FIN_WAIT1,
	ST_FIN_WAIT2, ST_TIME_WAIT, ST_CLOSE, ST_CLOSE_WAIT, ST_LAST_ACK,
	ST_LISTEN, ST_CLOSING,
};

#define ALL_STATES	0xffffffffU
#define SHOW_ALL	(HVSOCK_DIAG_SHOW_QUEUES | HVSOCK_DIAG_SHOW_RINGS | \
			 HVSOCK_DIAG_SHOW_UID)

/* One socket of a dump, with the attributes that came with it. */
struct diag_ent {
	struct hvsock_diag_msg m;
	bool has_q, has_r, has_uid;
	struct hvsock_diag_queues q;
	struct hvsock_diag_rings r;
	__u32 uid;
	int unknown_attrs;
};

struct diag_res {
	struct diag_ent *e;
	int n, cap;
	int parts;		/* recv()s that brought sockets */
	int bad_msgs;		/* replies too short or of the wrong family */
};

static void diag_res_free(struct diag_res *r)
{
	free(r->e);
	memset(r, 0, sizeof(*r));
}

static int diag_add(struct diag_res *r, const struct nlmsghdr *h)
{
	const struct hvsock_diag_msg *m = NLMSG_DATA(h);
	const struct nlattr *a;
	struct diag_ent *e;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) ||
	    m->hdiag_family != AF_HYPERV) {
		r->bad_msgs++;
		return 0;
	}
	if (r->n == r->cap) {
		int cap = r->cap ? 2 * r->cap : 64;
		void *p = realloc(r->e, cap * sizeof(*r->e));

		if (!p)
			return -ENOMEM;
		r->e = p;
		r->cap = cap;
	}
	e = &r->e[r->n++];
	memset(e, 0, sizeof(*e));
	e->m = *m;
	len = h->nlmsg_len - NLMSG_LENGTH(NLA_ALIGN(sizeof(*m)));
	a = (const void *)((const char *)m + NLA_ALIGN(sizeof(*m)));
	while (len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= len) {
		const void *d = (const char *)a + NLA_HDRLEN;
		int dlen = a->nla_len - NLA_HDRLEN;

		switch (a->nla_type) {
		case HVSOCK_DIAG_QUEUES:
			e->has_q = dlen == sizeof(e->q);
			memcpy(&e->q, d, e->has_q ? sizeof(e->q) : 0);
			break;
		case HVSOCK_DIAG_RINGS:
			e->has_r = dlen == sizeof(e->r);
			memcpy(&e->r, d, e->has_r ? sizeof(e->r) : 0);
			break;
		case HVSOCK_DIAG_UID:
			e->has_uid = dlen == sizeof(e->uid);
			memcpy(&e->uid, d, e->has_uid ? sizeof(e->uid) : 0);
			break;
		default:
			e->unknown_attrs++;
		}
		len -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
	return 0;
}

static int diag_socket(int rcvbuf)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);

	if (fd >= 0 && rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return hvs_err(fd);
}

/*
 * Send @len bytes of @payload as a SOCK_DIAG_BY_FAMILY request with
 * @flags on @fd and collect the answer into @r. Returns 0, or the -errno
 * of an NLMSG_ERROR or of a dump that ended in an error. @r is to be freed
 * either way.
 */
static int diag_raw(int fd, const void *payload, size_t len, __u16 flags,
		    struct diag_res *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static char buf[256 * 1024];
	struct nlmsghdr *h = (void *)buf;

	memset(r, 0, sizeof(*r));
	memset(buf, 0, NLMSG_LENGTH(len));
	h->nlmsg_len = NLMSG_LENGTH(len);
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = 1;
	memcpy(NLMSG_DATA(h), payload, len);
	if (sendto(fd, buf, h->nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		bool data = false;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				int err = *(int *)NLMSG_DATA(h);

				r->parts += data;
				return err < 0 ? err : 0;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error;
			}
			if (diag_add(r, h))
				return -ENOMEM;
			data = true;
		}
		r->parts += data;
	}
}

static int diag_dump(__u32 states, __u32 show, struct diag_res *r)
{
	struct hvsock_diag_req req = {
		.sdiag_family = AF_HYPERV,
		.hdiag_states = states,
		.hdiag_show = show,
	};
	int fd = diag_socket(0), ret;

	memset(r, 0, sizeof(*r));
	if (fd < 0)
		return fd;
	ret = diag_raw(fd, &req, sizeof(req), NLM_F_DUMP, r);
	close(fd);
	return ret;
}

static ino_t inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

static __u64 cookie_of(int fd)
{
	socklen_t len = sizeof(__u64);
	__u64 c = 0;

	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len);
	return c;
}

static __u64 ent_cookie(const struct diag_ent *e)
{
	return (__u64)e->m.hdiag_cookie[1] << 32 | e->m.hdiag_cookie[0];
}

/* How many entries of @r have inode @ino; *@out gets the last one. */
static int diag_count_ino(const struct diag_res *r, ino_t ino,
			  struct diag_ent *out)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++) {
		if (r->e[i].m.hdiag_ino != ino)
			continue;
		n++;
		if (out)
			*out = r->e[i];
	}
	return n;
}

/* Dump everything and find the socket of @fd: 0, -ENOENT or -errno. */
static int diag_find_fd(int fd, struct diag_ent *out)
{
	struct diag_res r;
	int ret = diag_dump(ALL_STATES, SHOW_ALL, &r);

	if (!ret && diag_count_ino(&r, inode_of(fd), out) != 1)
		ret = -ENOENT;
	diag_res_free(&r);
	return ret;
}

/* The same by cookie, for a closed socket (inode 0). */
static int diag_find_cookie(__u64 cookie, struct diag_ent *out)
{
	struct diag_res r;
	int ret = diag_dump(ALL_STATES, SHOW_ALL, &r), i;

	if (ret) {
		diag_res_free(&r);
		return ret;
	}
	ret = -ENOENT;
	for (i = 0; i < r.n; i++)
		if (ent_cookie(&r.e[i]) == cookie) {
			*out = r.e[i];
			ret = 0;
		}
	diag_res_free(&r);
	return ret;
}

/* Poll until the socket of @fd is in @state: the last state seen. */
static int diag_wait_state(int fd, int state, struct diag_ent *e)
{
	long long end = hvs_now_ms() + HVS_WAIT_MS;

	for (;;) {
		if (diag_find_fd(fd, e))
			return -1;
		if (e->m.hdiag_state == state || hvs_now_ms() > end)
			return e->m.hdiag_state;
		hvs_msleep(20);
	}
}

static int get_int_opt(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int v = -1;

	getsockopt(fd, SOL_SOCKET, opt, &v, &len);
	return v;
}

/* Unload @name, retrying for 20 s while something holds it. */
static int unload_module(const char *name)
{
	long long end = hvs_now_ms() + 20000;
	int ret;

	do {
		ret = hvs_err(syscall(SYS_delete_module, name, O_NONBLOCK));
		if (!ret || ret == -ENOENT)
			return 0;
		hvs_msleep(50);
	} while (hvs_now_ms() < end);
	return ret;
}

/* ------------------------------------------------------------ tests */

/*
 * With no AF_HYPERV socket in the namespace the dump is empty. Earlier
 * tests' sockets may still be closing in the initial namespace, so wait
 * for them; a new network namespace has none from the start, whatever
 * the initial one holds (the dump is per namespace).
 */
TEST(diag_no_sockets)
{
	long long end = hvs_now_ms() + 20000;
	struct diag_res r;
	int ret;

	/* sock_diag loads a family's diag module once the family is there. */
	hvs_load_modules();
	do {
		ret = diag_dump(ALL_STATES, SHOW_ALL, &r);
		ASSERT_EQ(0, ret) TH_LOG("dump: %s", strerror(-ret));
		if (!r.n)
			break;
		diag_res_free(&r);
		hvs_msleep(100);
	} while (hvs_now_ms() < end);
	EXPECT_EQ(0, r.n) TH_LOG("%d sockets left, first in state %d", r.n,
				 r.e[0].m.hdiag_state);
	EXPECT_EQ(0, r.bad_msgs);
	diag_res_free(&r);
}

TEST(diag_other_netns_sees_none)
{
	int s = hvs_socket(0), status;
	pid_t pid;

	ASSERT_LE(0, s);
	ASSERT_EQ(0, diag_find_fd(s, &(struct diag_ent){}));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct diag_res r;

		if (unshare(CLONE_NEWNET))
			_exit(2);
		if (diag_dump(ALL_STATES, SHOW_ALL, &r))
			_exit(3);
		_exit(r.n ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("1: sockets of the initial namespace listed, 2: unshare, 3: dump");
	close(s);
}

/*
 * A namespace allowed AF_HYPERV lists its own sockets and the initial
 * namespace's dump leaves them out, and the other way round.
 */
TEST(diag_netns_lists_own_sockets)
{
	int init_ns, ns, a, b, fd;
	struct diag_ent e;

	b = hvs_socket(0);
	ASSERT_LE(0, b);
	init_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, init_ns);
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ns);
	fd = open("/proc/sys/net/hv_sock/enabled", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "1", 1));
	close(fd);
	a = socket(AF_HYPERV, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, a);
	EXPECT_EQ(0, diag_find_fd(a, &e)) TH_LOG("own socket in the namespace");
	EXPECT_EQ(-ENOENT, diag_find_fd(b, &e)) TH_LOG("initial one's listed");
	ASSERT_EQ(0, setns(init_ns, CLONE_NEWNET));
	EXPECT_EQ(0, diag_find_fd(b, &e)) TH_LOG("own socket in init");
	EXPECT_EQ(-ENOENT, diag_find_fd(a, &e)) TH_LOG("namespace's listed");
	close(a);
	close(b);
	close(ns);
	close(init_ns);
}

TEST(diag_listener)
{
	struct diag_ent e;
	__u8 svc[16];
	int s = hvs_socket(0), h, ret;

	ASSERT_LE(0, s);
	hvs_random_guid(svc);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 7));
	ret = diag_find_fd(s, &e);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	EXPECT_EQ(AF_HYPERV, e.m.hdiag_family);
	EXPECT_EQ(SOCK_STREAM, e.m.hdiag_type);
	EXPECT_EQ(ST_LISTEN, e.m.hdiag_state);
	EXPECT_EQ(0, e.m.hdiag_shutdown);
	EXPECT_TRUE(hvs_guid_eq(svc, e.m.hdiag_local_srv));
	EXPECT_TRUE(hvs_guid_is_zero(e.m.hdiag_remote_srv));
	EXPECT_EQ(cookie_of(s), ent_cookie(&e));
	EXPECT_EQ(0, e.unknown_attrs);
	/* A listener's queues: waiting connections and the backlog. */
	ASSERT_TRUE(e.has_q);
	EXPECT_EQ(0, e.q.hdiag_rqueue);
	EXPECT_EQ(7, e.q.hdiag_wqueue);
	ASSERT_TRUE(e.has_r);
	EXPECT_EQ(0, e.r.hdiag_rx_ring);
	EXPECT_EQ(0, e.r.hdiag_tx_ring);

	/* One connection waiting for accept(). */
	h = hvs_host_connect(svc, HVS_WAIT_MS, 0, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(POLLIN, hvs_poll(s, POLLIN, HVS_WAIT_MS));
	ASSERT_EQ(0, diag_find_fd(s, &e));
	EXPECT_EQ(1, e.q.hdiag_rqueue);
	close(h);
	close(s);
}

/* The guest connects to a host listener. */
TEST(diag_connected)
{
	long long end = hvs_now_ms() + HVS_WAIT_MS;
	struct hvsim_accept ha;
	struct diag_ent e;
	char buf[100];
	__u8 svc[16];
	int l, g, h, ret;

	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	g = hvs_socket(0);
	ASSERT_LE(0, g);
	ASSERT_EQ(0, hvs_connect(g, hvs_guid_parent, svc));
	h = hvs_host_accept(l, HVS_WAIT_MS, &ha);
	ASSERT_LE(0, h);

	ret = diag_find_fd(g, &e);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	EXPECT_EQ(ST_ESTABLISHED, e.m.hdiag_state);
	EXPECT_EQ(0, e.m.hdiag_shutdown);
	EXPECT_TRUE(hvs_guid_eq(ha.guest_service_id, e.m.hdiag_local_srv));
	EXPECT_TRUE(hvs_guid_eq(svc, e.m.hdiag_remote_srv));
	EXPECT_EQ(cookie_of(g), ent_cookie(&e));
	ASSERT_TRUE(e.has_q);
	EXPECT_EQ(0, e.q.hdiag_rqueue);
	EXPECT_EQ(0, e.q.hdiag_wqueue);
	/* The rings: what SO_RCVBUF and SO_SNDBUF report once open. */
	ASSERT_TRUE(e.has_r);
	EXPECT_EQ(get_int_opt(g, SO_RCVBUF), e.r.hdiag_rx_ring);
	EXPECT_EQ(get_int_opt(g, SO_SNDBUF), e.r.hdiag_tx_ring);
	EXPECT_EQ(HVS_RING_DATA, e.r.hdiag_rx_ring);

	/* 100 bytes in, 50 out that the host does not take. */
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(100, hvs_write_full(h, buf, 100));
	ASSERT_EQ(0, hvs_host_stop_drain(h, 1));
	ASSERT_EQ(50, send(g, buf, 50, 0));
	do {
		ASSERT_EQ(0, diag_find_fd(g, &e));
	} while (e.q.hdiag_rqueue != 100 && hvs_now_ms() < end &&
		 (hvs_msleep(20), 1));
	EXPECT_EQ(100, e.q.hdiag_rqueue);
	EXPECT_EQ(50, e.q.hdiag_wqueue);
	/* Reading 30 leaves 70. */
	ASSERT_EQ(30, recv(g, buf, 30, 0));
	ASSERT_EQ(0, diag_find_fd(g, &e));
	EXPECT_EQ(70, e.q.hdiag_rqueue);
	close(g);
	close(h);
	close(l);
}

/* A full send ring: Send-Q counts every byte the host has not taken. */
TEST(diag_send_queue_full)
{
	size_t sent = 0;
	struct diag_ent e;
	char buf[1000];
	int g, h;
	ssize_t n;

	ASSERT_EQ(0, hvs_host_reset_config());
	ASSERT_EQ(0, hvs_pair(&g, &h));
	ASSERT_EQ(0, hvs_host_stop_drain(h, 1));
	memset(buf, 'y', sizeof(buf));
	while ((n = send(g, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		sent += n;
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_LT(HVS_RING_DATA / 2, sent);
	ASSERT_EQ(0, diag_find_fd(g, &e));
	EXPECT_EQ(sent, e.q.hdiag_wqueue);
	EXPECT_EQ(0, e.q.hdiag_rqueue);
	close(g);
	close(h);
}

/* The host connects to a guest listener: the accepted child. */
TEST(diag_accepted)
{
	struct diag_ent e;
	__u8 svc[16], host_id[16];
	int s = hvs_socket(0), h, c, ret;

	ASSERT_LE(0, s);
	hvs_random_guid(svc);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 4));
	h = hvs_host_connect(svc, HVS_WAIT_MS, 0, host_id);
	ASSERT_LE(0, h);
	c = accept(s, NULL, NULL);
	ASSERT_LE(0, c);
	ret = diag_find_fd(c, &e);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	EXPECT_EQ(ST_ESTABLISHED, e.m.hdiag_state);
	EXPECT_TRUE(hvs_guid_eq(svc, e.m.hdiag_local_srv));
	EXPECT_TRUE(hvs_guid_eq(host_id, e.m.hdiag_remote_srv));
	EXPECT_EQ(cookie_of(c), ent_cookie(&e));
	EXPECT_EQ(HVS_RING_DATA, e.r.hdiag_tx_ring);
	/* The listener is listed too, with an empty accept queue again. */
	ASSERT_EQ(0, diag_find_fd(s, &e));
	EXPECT_EQ(ST_LISTEN, e.m.hdiag_state);
	EXPECT_EQ(0, e.q.hdiag_rqueue);
	close(c);
	close(h);
	close(s);
}

/* Larger rings where the host allows them (VMBus 5.0 and later). */
TEST(diag_ring_sizes)
{
	int big = 16 * 4096, g, h, l;
	struct diag_ent e;
	__u8 svc[16];

	ASSERT_EQ(0, hvs_host_config_set(personality,
					 HVSIM_PERSONALITY_MODERN));
	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	g = hvs_socket(0);
	ASSERT_LE(0, g);
	ASSERT_EQ(0, setsockopt(g, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)));
	ASSERT_EQ(0, hvs_connect(g, hvs_guid_parent, svc));
	h = hvs_host_accept(l, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, h);
	close(l);
	hvs_host_reset_config();

	ASSERT_EQ(0, diag_find_fd(g, &e));
	ASSERT_TRUE(e.has_r);
	EXPECT_LT(HVS_RING_DATA, e.r.hdiag_rx_ring);
	EXPECT_EQ(HVS_RING_DATA, e.r.hdiag_tx_ring);
	EXPECT_EQ(get_int_opt(g, SO_RCVBUF), e.r.hdiag_rx_ring);
	EXPECT_EQ(get_int_opt(g, SO_SNDBUF), e.r.hdiag_tx_ring);
	close(g);
	close(h);
}

/* Every state a socket can be caught in. */
TEST(diag_states)
{
	int s, g, h, st;
	struct diag_ent e;
	__u8 svc[16];
	char c;
	__u64 cookie;

	/* Unbound, then bound: both CLOSE, as TCP's. */
	s = hvs_socket(0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, diag_find_fd(s, &e));
	EXPECT_EQ(ST_CLOSE, e.m.hdiag_state);
	EXPECT_TRUE(hvs_guid_is_zero(e.m.hdiag_local_srv));
	hvs_random_guid(svc);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, diag_find_fd(s, &e));
	EXPECT_EQ(ST_CLOSE, e.m.hdiag_state);
	EXPECT_TRUE(hvs_guid_eq(svc, e.m.hdiag_local_srv));
	close(s);

	/* Connecting while the host has not answered: SYN_SENT. */
	ASSERT_EQ(0, hvs_host_config_set(ignore_connects, 1));
	s = hvs_socket(SOCK_NONBLOCK);
	ASSERT_LE(0, s);
	hvs_random_guid(svc);
	ASSERT_EQ(-EINPROGRESS, hvs_connect(s, hvs_guid_parent, svc));
	ASSERT_EQ(0, diag_find_fd(s, &e));
	EXPECT_EQ(ST_SYN_SENT, e.m.hdiag_state);
	EXPECT_TRUE(hvs_guid_eq(svc, e.m.hdiag_remote_srv));
	EXPECT_FALSE(hvs_guid_is_zero(e.m.hdiag_local_srv));
	close(s);
	hvs_host_reset_config();

	/* The host's FIN read: CLOSE_WAIT; our FIN after it: LAST_ACK. */
	ASSERT_EQ(0, hvs_pair(&g, &h));
	ASSERT_EQ(0, hvs_host_shutdown(h));
	ASSERT_EQ(0, hvs_read_full(g, &c, 1, HVS_WAIT_MS));
	st = diag_wait_state(g, ST_CLOSE_WAIT, &e);
	EXPECT_EQ(ST_CLOSE_WAIT, st);
	EXPECT_EQ(1, e.m.hdiag_shutdown);	/* RCV_SHUTDOWN */
	ASSERT_EQ(0, shutdown(g, SHUT_WR));
	ASSERT_EQ(0, diag_find_fd(g, &e));
	EXPECT_EQ(ST_LAST_ACK, e.m.hdiag_state);
	EXPECT_EQ(3, e.m.hdiag_shutdown);
	close(g);
	close(h);

	/* Our FIN first: FIN_WAIT1; then the host's: CLOSING. */
	ASSERT_EQ(0, hvs_pair(&g, &h));
	ASSERT_EQ(0, shutdown(g, SHUT_WR));
	ASSERT_EQ(0, diag_find_fd(g, &e));
	EXPECT_EQ(ST_FIN_WAIT1, e.m.hdiag_state);
	EXPECT_EQ(2, e.m.hdiag_shutdown);	/* SEND_SHUTDOWN */
	ASSERT_EQ(0, hvs_host_shutdown(h));
	ASSERT_EQ(0, hvs_read_full(g, &c, 1, HVS_WAIT_MS));
	EXPECT_EQ(ST_CLOSING, diag_wait_state(g, ST_CLOSING, &e));

	/*
	 * Closed while the host keeps its end: the socket waits for the
	 * host's rescind, listed as CLOSE with no inode, found by its
	 * cookie.
	 */
	cookie = cookie_of(g);
	close(g);
	ASSERT_EQ(0, diag_find_cookie(cookie, &e))
		TH_LOG("the closed socket is not listed");
	EXPECT_EQ(ST_CLOSE, e.m.hdiag_state);
	EXPECT_EQ(0, e.m.hdiag_ino);
	EXPECT_EQ(3, e.m.hdiag_shutdown);
	close(h);
}

/* The owner is the socket's creator; nobody's socket shows nobody. */
TEST(diag_uid)
{
	struct diag_res r;
	struct diag_ent e;
	int p[2], s, status;
	unsigned long ino;
	pid_t pid;

	s = hvs_socket(0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, diag_find_fd(s, &e));
	ASSERT_TRUE(e.has_uid);
	EXPECT_EQ(getuid(), e.uid);
	close(s);

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(1);
		s = hvs_socket(0);
		if (s < 0)
			_exit(2);
		ino = inode_of(s);
		if (write(p[1], &ino, sizeof(ino)) != sizeof(ino))
			_exit(3);
		/* Keep the socket until the parent kills us. */
		close(p[1]);
		pause();
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(ino), read(p[0], &ino, sizeof(ino)));
	ASSERT_EQ(0, diag_dump(ALL_STATES, HVSOCK_DIAG_SHOW_UID, &r));
	EXPECT_EQ(1, diag_count_ino(&r, ino, &e));
	EXPECT_TRUE(e.has_uid);
	EXPECT_EQ(65534, e.uid);
	/* Only what was asked for. */
	EXPECT_FALSE(e.has_q);
	EXPECT_FALSE(e.has_r);
	diag_res_free(&r);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(p[0]);
}

/* hdiag_states selects: only listeners, only connected sockets, nothing. */
TEST(diag_state_filter)
{
	struct diag_res r;
	__u8 svc[16];
	int s, g, h, i;

	s = hvs_socket(0);
	ASSERT_LE(0, s);
	hvs_random_guid(svc);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 1));
	ASSERT_EQ(0, hvs_pair(&g, &h));

	ASSERT_EQ(0, diag_dump(1U << ST_LISTEN, 0, &r));
	EXPECT_EQ(1, diag_count_ino(&r, inode_of(s), NULL));
	EXPECT_EQ(0, diag_count_ino(&r, inode_of(g), NULL));
	for (i = 0; i < r.n; i++)
		EXPECT_EQ(ST_LISTEN, r.e[i].m.hdiag_state);
	/* No show bits: no attributes. */
	for (i = 0; i < r.n; i++)
		EXPECT_FALSE(r.e[i].has_q || r.e[i].has_r || r.e[i].has_uid);
	diag_res_free(&r);

	ASSERT_EQ(0, diag_dump(1U << ST_ESTABLISHED, 0, &r));
	EXPECT_EQ(0, diag_count_ino(&r, inode_of(s), NULL));
	EXPECT_EQ(1, diag_count_ino(&r, inode_of(g), NULL));
	for (i = 0; i < r.n; i++)
		EXPECT_EQ(ST_ESTABLISHED, r.e[i].m.hdiag_state);
	diag_res_free(&r);

	ASSERT_EQ(0, diag_dump(0, SHOW_ALL, &r));
	EXPECT_EQ(0, r.n);
	diag_res_free(&r);
	close(g);
	close(h);
	close(s);
}

#define MANY	1024

/* Only for TEST_F_TIMEOUT: the long tests take minutes under KASAN. */
FIXTURE(diag_slow)
{
	int unused;
};

FIXTURE_SETUP(diag_slow)
{
}

FIXTURE_TEARDOWN(diag_slow)
{
}

static int raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= 2 * MANY + 64)
		return 0;
	rl.rlim_cur = 2 * MANY + 64;
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur;
	return hvs_err(setrlimit(RLIMIT_NOFILE, &rl));
}

/* 1024 sockets, a quarter of them listening: each listed exactly once. */
TEST_F_TIMEOUT(diag_slow, diag_1024_sockets, 300)
{
	struct hvsock_diag_req req = {
		.sdiag_family = AF_HYPERV,
		.hdiag_states = ALL_STATES,
		.hdiag_show = SHOW_ALL,
	};
	int i, missing = 0, twice = 0, ret, fd;
	static int fds[MANY];
	struct diag_res r;

	ASSERT_EQ(0, raise_nofile());
	for (i = 0; i < MANY; i++) {
		fds[i] = hvs_socket(0);
		ASSERT_LE(0, fds[i]) TH_LOG("socket %d: %s", i,
					    strerror(-fds[i]));
		if (i % 4 == 0) {
			__u8 svc[16];

			hvs_random_guid(svc);
			ASSERT_EQ(0, hvs_bind(fds[i], svc));
			ASSERT_EQ(0, listen(fds[i], 1));
		}
	}
	/* A small receive buffer: many parts. */
	fd = diag_socket(8192);
	ASSERT_LE(0, fd);
	ret = diag_raw(fd, &req, sizeof(req), NLM_F_DUMP, &r);
	close(fd);
	ASSERT_EQ(0, ret) TH_LOG("dump: %s", strerror(-ret));
	EXPECT_LT(1, r.parts);
	TH_LOG("%d sockets in %d parts", r.n, r.parts);
	for (i = 0; i < MANY; i++) {
		int n = diag_count_ino(&r, inode_of(fds[i]), NULL);

		missing += n == 0;
		twice += n > 1;
	}
	EXPECT_EQ(0, missing);
	EXPECT_EQ(0, twice);
	EXPECT_LE(MANY, r.n);
	EXPECT_EQ(0, r.bad_msgs);
	diag_res_free(&r);
	for (i = 0; i < MANY; i++)
		close(fds[i]);
}

#define RACE_KEEP	256

struct churn {
	int stop;
	int ops;
	int err;
	int *doomed;		/* closed one by one by closer_main() */
	int closed;
};

/* Open and close sockets, some listening, as fast as we can. */
static void *churn_main(void *arg)
{
	struct churn *c = arg;
	int fds[16], i;

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < 16; i++) {
			fds[i] = hvs_socket(0);
			if (fds[i] < 0) {
				c->err = -fds[i];
				return NULL;
			}
			if (i % 2) {
				__u8 svc[16];

				hvs_random_guid(svc);
				if (!hvs_bind(fds[i], svc))
					listen(fds[i], 1);
			}
		}
		/* Close in an order unlike the creation order. */
		for (i = 0; i < 16; i += 2)
			close(fds[i]);
		for (i = 15; i > 0; i -= 2)
			close(fds[i]);
		c->ops++;
	}
	return NULL;
}

/*
 * Close the sockets created between the ones that must be listed, so
 * that sockets before the dump's position go away between its parts.
 */
static void *closer_main(void *arg)
{
	struct churn *c = arg;
	int i, j;

	for (i = 0; i < RACE_KEEP; i++) {
		/* A stride coprime with RACE_KEEP: every one, out of order. */
		j = (i * 97) % RACE_KEEP;
		close(c->doomed[j]);
		hvs_msleep(2);
	}
	__atomic_store_n(&c->closed, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Dumps split over many parts while sockets listed before the dump's
 * position are closed and threads create and destroy others: each of
 * the sockets that live through it is listed exactly once in every dump
 * (and KASAN watches the walk meanwhile).
 */
TEST_F_TIMEOUT(diag_slow, diag_dump_races_close, 300)
{
	struct hvsock_diag_req req = {
		.sdiag_family = AF_HYPERV,
		.hdiag_states = ALL_STATES,
		.hdiag_show = SHOW_ALL,
	};
	int keep[RACE_KEEP], doomed[RACE_KEEP], i, round, bad = 0;
	struct churn c = { .doomed = doomed };
	int parts = 0, fd;
	pthread_t t[3];
	struct diag_res r;

	ASSERT_EQ(0, raise_nofile());
	for (i = 0; i < RACE_KEEP; i++) {
		doomed[i] = hvs_socket(0);
		ASSERT_LE(0, doomed[i]);
		keep[i] = hvs_socket(0);
		ASSERT_LE(0, keep[i]);
	}
	fd = diag_socket(4096);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pthread_create(&t[0], NULL, closer_main, &c));
	for (i = 1; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn_main, &c));
	for (round = 0; round < 400; round++) {
		int ret;

		if (round >= 10 && __atomic_load_n(&c.closed, __ATOMIC_ACQUIRE))
			break;
		ret = diag_raw(fd, &req, sizeof(req), NLM_F_DUMP, &r);
		if (ret) {
			TH_LOG("round %d: %s", round, strerror(-ret));
			bad++;
			diag_res_free(&r);
			continue;
		}
		parts += r.parts;
		for (i = 0; i < RACE_KEEP; i++) {
			int n = diag_count_ino(&r, inode_of(keep[i]), NULL);

			if (n != 1) {
				TH_LOG("round %d: socket %d listed %d times",
				       round, i, n);
				bad++;
				break;
			}
		}
		bad += r.bad_msgs;
		diag_res_free(&r);
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	close(fd);
	TH_LOG("%d dumps in %d parts, %d churn rounds", round, parts, c.ops);
	EXPECT_EQ(0, c.err);
	EXPECT_EQ(0, bad);
	EXPECT_LT(round, parts);
	EXPECT_LT(0, c.ops);
	for (i = 0; i < RACE_KEEP; i++)
		close(keep[i]);
}

/*
 * Malformed requests get what unix_diag and vsock_diag give: a short
 * request EINVAL, a lookup (no NLM_F_DUMP) EOPNOTSUPP; the protocol and
 * unknown show bits are ignored.
 */
TEST(diag_malformed_requests)
{
	struct hvsock_diag_req req = {
		.sdiag_family = AF_HYPERV,
		.hdiag_states = ALL_STATES,
	};
	int fd = diag_socket(0), s = hvs_socket(0), i;
	char big[sizeof(req) + 16];
	struct diag_res r;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, s);
	/* Too short for the request, but long enough for sock_diag. */
	EXPECT_EQ(-EINVAL, diag_raw(fd, &req, sizeof(req) - 1, NLM_F_DUMP,
				    &r));
	EXPECT_EQ(-EINVAL, diag_raw(fd, &req, 2, NLM_F_DUMP, &r));
	EXPECT_EQ(-EOPNOTSUPP, diag_raw(fd, &req, sizeof(req), 0, &r));

	req.sdiag_protocol = 99;
	req.pad = 0xffff;
	req.hdiag_ino = 12345;
	req.hdiag_cookie[0] = 1;
	EXPECT_EQ(0, diag_raw(fd, &req, sizeof(req), NLM_F_DUMP, &r));
	EXPECT_EQ(1, diag_count_ino(&r, inode_of(s), NULL));
	diag_res_free(&r);

	/* Unknown show bits: only the known attributes come back. */
	req.hdiag_show = ~0U;
	EXPECT_EQ(0, diag_raw(fd, &req, sizeof(req), NLM_F_DUMP, &r));
	ASSERT_LT(0, r.n);
	for (i = 0; i < r.n; i++) {
		EXPECT_EQ(0, r.e[i].unknown_attrs);
		EXPECT_TRUE(r.e[i].has_q && r.e[i].has_r && r.e[i].has_uid);
	}
	diag_res_free(&r);

	/* A longer request is fine, as for the other families. */
	memset(big, 0, sizeof(big));
	memcpy(big, &req, sizeof(req));
	EXPECT_EQ(0, diag_raw(fd, big, sizeof(big), NLM_F_DUMP, &r));
	EXPECT_EQ(1, diag_count_ino(&r, inode_of(s), NULL));
	diag_res_free(&r);
	close(s);
	close(fd);
}

/*
 * Anyone may list the sockets, as with ss and /proc/net/hv_sock, and
 * sees root's socket with its uid.
 */
TEST(diag_unprivileged_dump)
{
	int s = hvs_socket(0), status;
	unsigned long ino;
	pid_t pid;

	ASSERT_LE(0, s);
	ino = inode_of(s);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct diag_res r;
		struct diag_ent e;

		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(1);
		if (diag_dump(ALL_STATES, SHOW_ALL, &r))
			_exit(2);
		if (diag_count_ino(&r, ino, &e) != 1)
			_exit(3);
		_exit(e.has_uid && e.uid == 0 ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("1: setresuid, 2: dump refused, 3: socket missing, 4: uid");
	close(s);
}

/* Run @cmd, its first line matching @want into @line: 0, or -1. */
static int run_find(const char *cmd, const char *want, char *line, size_t len,
		    int *status)
{
	FILE *f = popen(cmd, "r");
	char buf[512];
	int found = -1;

	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		if (found && strstr(buf, want)) {
			snprintf(line, len, "%s", buf);
			found = 0;
		}
	}
	*status = pclose(f);
	return found;
}

/*
 * NETLINK_SOCK_DIAG loads af_hvsock_diag for the first AF_HYPERV request
 * once af_hvsock is loaded; without af_hvsock it answers ENOENT and hvss
 * lists nothing, successfully.
 */
TEST(diag_module_autoloads)
{
	char line[512];
	struct diag_res r;
	int ret, st;

	ASSERT_EQ(0, unload_module("af_hvsock_diag"));
	ASSERT_FALSE(hvs_module_loaded("af_hvsock_diag"));
	ret = diag_dump(ALL_STATES, 0, &r);
	EXPECT_EQ(0, ret) TH_LOG("dump: %s", strerror(-ret));
	EXPECT_TRUE(hvs_module_loaded("af_hvsock_diag"));
	diag_res_free(&r);

	/* Earlier tests' sockets may take a moment to go. */
	syscall(SYS_delete_module, "hv_sock_kunit", O_NONBLOCK);
	ASSERT_EQ(0, unload_module("af_hvsock_diag"));
	ret = unload_module("af_hvsock");
	ASSERT_EQ(0, ret) TH_LOG("unloading af_hvsock: %s", strerror(-ret));
	EXPECT_EQ(-ENOENT, diag_dump(ALL_STATES, 0, &r));
	diag_res_free(&r);
	EXPECT_FALSE(hvs_module_loaded("af_hvsock_diag"));
	if (!system("command -v hvss > /dev/null 2>&1")) {
		EXPECT_EQ(0, run_find("hvss -a 2>&1", "State", line,
				      sizeof(line), &st));
		EXPECT_EQ(0, st) TH_LOG("hvss without af_hvsock: %s", line);
	}

	hvs_load_modules();
	EXPECT_EQ(0, diag_dump(ALL_STATES, 0, &r));
	EXPECT_TRUE(hvs_module_loaded("af_hvsock_diag"));
	diag_res_free(&r);
}

/* hvss shows what the dump holds, ss-like, per its options. */
TEST(diag_hvss_tool)
{
	char line[512], gs[HV_GUID_TEXT_LEN], loc[HV_GUID_TEXT_LEN];
	char name[32], local[64], peer[64], want[64];
	unsigned int rq, wq;
	struct diag_ent e;
	int s, g, h, st, n;
	__u8 svc[16];

	if (system("command -v hvss > /dev/null 2>&1"))
		SKIP(return, "hvss not installed");
	s = hvs_socket(0);
	ASSERT_LE(0, s);
	hvs_random_guid(svc);
	hv_guid_format(svc, gs);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 5));
	ASSERT_EQ(0, hvs_pair(&g, &h));
	ASSERT_EQ(5, write(h, "hello", 5));
	ASSERT_EQ(POLLIN, hvs_poll(g, POLLIN, HVS_WAIT_MS));

	/* -l: the listener, Recv-Q 0, Send-Q its backlog, no peer. */
	ASSERT_EQ(0, run_find("hvss -l", gs, line, sizeof(line), &st));
	EXPECT_EQ(0, st);
	TH_LOG("hvss -l: %s", line);
	n = sscanf(line, "%31s %u %u %63s %63s", name, &rq, &wq, local, peer);
	ASSERT_EQ(5, n);
	EXPECT_STREQ("LISTEN", name);
	EXPECT_EQ(0, rq);
	EXPECT_EQ(5, wq);
	EXPECT_STREQ(gs, local);
	EXPECT_STREQ("*", peer);

	/* Default: connected sockets only, so not the listener. */
	EXPECT_NE(0, run_find("hvss", gs, line, sizeof(line), &st));
	EXPECT_EQ(0, st);

	/* -e: ours with its inode, uid and rings, 5 bytes to read. */
	ASSERT_EQ(0, diag_find_fd(g, &e));
	hv_guid_format(e.m.hdiag_local_srv, loc);
	snprintf(want, sizeof(want), " ino:%lu ", (unsigned long)inode_of(g));
	ASSERT_EQ(0, run_find("hvss -e", want, line, sizeof(line), &st));
	TH_LOG("hvss -e: %s", line);
	n = sscanf(line, "%31s %u %u", name, &rq, &wq);
	ASSERT_EQ(3, n);
	EXPECT_STREQ("ESTAB", name);
	EXPECT_EQ(5, rq);
	EXPECT_EQ(0, wq);
	EXPECT_NE(NULL, strstr(line, loc));
	EXPECT_NE(NULL, strstr(line, " uid:0 "));
	EXPECT_NE(NULL, strstr(line, " rings:20480/20480 "));

	/* -a lists both; the header names the columns. */
	EXPECT_EQ(0, run_find("hvss -a", gs, line, sizeof(line), &st));
	EXPECT_EQ(0, run_find("hvss -a", "State", line, sizeof(line), &st));
	EXPECT_NE(NULL, strstr(line, "Recv-Q"));
	EXPECT_NE(NULL, strstr(line, "Peer"));
	/* A usage error exits 2, -h 0. */
	run_find("hvss -x 2>/dev/null", "", line, sizeof(line), &st);
	EXPECT_EQ(2, WEXITSTATUS(st));
	run_find("hvss -h", "usage", line, sizeof(line), &st);
	EXPECT_EQ(0, WEXITSTATUS(st));
	close(g);
	close(h);
	close(s);
}

/*
 * Last: no dump left a reference on the module, and the tests after this
 * one find af_hvsock free to unload, as before.
 */
TEST(diag_module_unloads)
{
	ASSERT_EQ(0, unload_module("af_hvsock_diag"));
	EXPECT_FALSE(hvs_module_loaded("af_hvsock_diag"));
}

TEST_HARNESS_MAIN
