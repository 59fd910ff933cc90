// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV regression tests for defects found from outside, written the
 * way an application (or a hostile host) meets them: a guest oops from one
 * malformed packet, a lost wakeup on receive, reserved services open to
 * any user, exits that linger, missing SIGIO and differences from TCP.
 *
 * Where the expected behaviour is TCP's, a tcp_ref_* test measures TCP on
 * loopback in the same kernel and asserts what the AF_HYPERV test expects,
 * so the reference cannot drift from the kernel the tests run on.
 */

#include "hvs_test.h"

#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include "../kselftest_harness.h"

#define VM_PKT_DATA_INBAND	6

/* Every event poll() can report for a stream socket. */
#define ALL_EV		(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | \
			 POLLRDHUP | POLLPRI)
/*
 * What TCP reports for a connect that failed (refused or timed out: both
 * end in tcp_done()), measured by tcp_ref_failed_connect_poll_mask: the
 * socket is closed both ways, so it is readable (EOF) and writable (the
 * write fails at once), hung up, and in error until SO_ERROR is read.
 */
#define FAILED_CONNECT_EV	(POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP | \
				 POLLOUT | POLLWRNORM)

/* A decoded poll mask for the log, in one of a few rotating buffers. */
static const char *ev_str(int ev)
{
	static char bufs[4][96];
	static unsigned int next;
	char *buf = bufs[next++ % 4];
	size_t len = sizeof(bufs[0]);
	static const struct { int bit; const char *name; } names[] = {
		{ POLLIN, "IN" }, { POLLRDNORM, "RDNORM" }, { POLLPRI, "PRI" },
		{ POLLOUT, "OUT" }, { POLLWRNORM, "WRNORM" },
		{ POLLRDHUP, "RDHUP" }, { POLLHUP, "HUP" }, { POLLERR, "ERR" },
		{ POLLNVAL, "NVAL" },
	};
	size_t i, n = 0;

	buf[0] = 0;
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (ev & names[i].bit)
			n += snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
				      names[i].name);
	if (!n)
		snprintf(buf, len, "0");
	return buf;
}

#define EV(ev)	ev_str(ev)

/* Wait up to HVS_WAIT_MS until @fd reports one of @want; the events then. */
static int wait_events(int fd, int want)
{
	long long end = hvs_now_ms() + HVS_WAIT_MS;
	int ev;

	do {
		ev = hvs_poll(fd, ALL_EV, 50);
		if (ev < 0 || (ev & want))
			return ev;
	} while (hvs_now_ms() < end);
	return ev;
}

static int set_linger(int fd, int on, int secs)
{
	struct linger lg = { on, secs };

	return hvs_err(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
				  sizeof(lg)));
}

/* One malformed packet from the host: a pipe header of an unknown type. */
static int inject_bad_packet(int h)
{
	static const char junk[32];
	struct hvsim_inject in;

	memset(&in, 0, sizeof(in));
	in.data = (__u64)(unsigned long)junk;
	in.len = sizeof(junk);
	in.kind = HVSIM_INJECT_PIPE;
	in.pkt_type = VM_PKT_DATA_INBAND;
	in.pipe_type = 7;
	return hvs_err(ioctl(h, HVSIM_IOC_INJECT, &in));
}

/* The guest socket has seen the host's rescind (a hang-up). */
static bool wait_hangup(int g)
{
	return wait_events(g, POLLHUP) & POLLHUP;
}

FIXTURE(pair)
{
	int g, h;
	struct hvsim_stats before;
};

FIXTURE_SETUP(pair)
{
	int ret;

	self->g = -1;
	self->h = -1;
	ASSERT_EQ(0, hvs_host_reset_config());
	ASSERT_EQ(0, hvs_host_stats(&self->before));
	ret = hvs_pair(&self->g, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("connected pair: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(pair)
{
	close(self->g);
	close(self->h);
	hvs_host_reset_config();
}

/* ------------------------------------------------ 1. linger after reset */

/*
 * The host resets the connection with a malformed packet while the guest
 * has unread data on the ring for the host and SO_LINGER {1, 2} set. The
 * connection is dead: close() has nothing to wait for (TCP's close() after
 * an RST returns at once) and must not touch the channel the reset closed.
 */
TEST_F(pair, linger_set_before_reset)
{
	char buf[1000];
	long long t0, dt;
	int ret;

	ASSERT_EQ(0, set_linger(self->g, 1, 2));
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(sizeof(buf), send(self->g, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_LT(0, inject_bad_packet(self->h));
	EXPECT_TRUE(wait_events(self->g, POLLIN | POLLERR) & (POLLIN | POLLERR));
	ret = hvs_err(recv(self->g, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(-ECONNRESET, ret) TH_LOG("recv: %s", strerror(-ret));

	t0 = hvs_now_ms();
	hvs_close(&self->g);
	dt = hvs_now_ms() - t0;
	TH_LOG("close() of a reset socket with SO_LINGER {1, 2}: %lld ms", dt);
	EXPECT_GT(1000, dt);
	hvs_close(&self->h);
	EXPECT_HOST_CHANNELS(self->before.channels);
}

/*
 * The same with SO_LINGER set only after the reset, and every other call
 * that could reach the channel of a reset socket made first.
 */
TEST_F(pair, linger_set_after_reset)
{
	char buf[256], line[512];
	long long t0, dt;
	int ret, val;
	FILE *f;

	ASSERT_LT(0, inject_bad_packet(self->h));
	EXPECT_TRUE(wait_events(self->g, POLLIN | POLLERR) & (POLLIN | POLLERR));
	ret = hvs_err(recv(self->g, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(-ECONNRESET, ret) TH_LOG("recv: %s", strerror(-ret));

	/* None of these may touch the closed channel. */
	EXPECT_GT(0, send(self->g, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	EXPECT_LE(0, recv(self->g, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK));
	ioctl(self->g, SIOCINQ, &val);
	ioctl(self->g, SIOCOUTQ, &val);
	hvs_poll(self->g, ALL_EV, 0);
	shutdown(self->g, SHUT_WR);
	f = fopen("/proc/net/hv_sock", "r");
	while (f && fgets(line, sizeof(line), f))
		;
	if (f)
		fclose(f);

	ASSERT_EQ(0, set_linger(self->g, 1, 2));
	t0 = hvs_now_ms();
	hvs_close(&self->g);
	dt = hvs_now_ms() - t0;
	TH_LOG("close() with SO_LINGER {1, 2} set after the reset: %lld ms",
	       dt);
	EXPECT_GT(1000, dt);
	hvs_close(&self->h);
	EXPECT_HOST_CHANNELS(self->before.channels);
}

static int rescind_host(void *arg)
{
	return hvs_host_rescind(*(int *)arg);
}

/*
 * The host closes the channel while close() lingers on data it never
 * read: the wait ends there, and the channel the rescind took away is
 * not touched again.
 */
TEST_F(pair, linger_ends_on_rescind)
{
	struct hvs_delayed d;
	char buf[4000];
	long long t0, dt;

	ASSERT_EQ(0, set_linger(self->g, 1, 4));
	memset(buf, 'r', sizeof(buf));
	ASSERT_EQ(sizeof(buf), send(self->g, buf, sizeof(buf), 0));
	ASSERT_EQ(0, hvs_delayed_start(&d, 500, rescind_host, &self->h));
	t0 = hvs_now_ms();
	hvs_close(&self->g);
	dt = hvs_now_ms() - t0;
	EXPECT_EQ(0, hvs_delayed_join(&d));
	TH_LOG("close() with SO_LINGER {1, 4}, rescind after 500 ms: %lld ms",
	       dt);
	EXPECT_LE(400, dt);
	EXPECT_GE(2500, dt);
	hvs_close(&self->h);
	EXPECT_HOST_CHANNELS(self->before.channels);
}

/* --------------------------------------------- 2. lost wakeup on receive */

/*
 * One thread plays the host and the reader, and never lets the inbound
 * ring run empty: it writes a 2-byte packet, then recv(2) takes the last
 * byte of the previous packet and the first of the new one. Each recv()
 * thus starts on a packet that is the last on the ring, and leaves a byte
 * behind. Meanwhile a poller on the other vCPU polls the socket through
 * many descriptors at once. With data on the ring at every instant, every
 * descriptor must be readable every time: one that is not was looked at
 * while the reader was moving to the new packet. A poll() whose every
 * descriptor missed sleeps, and in an application would sleep for ever:
 * the host signals only when the ring goes from empty to non-empty.
 */
#define RX_RACE_MS		20000
#define RX_RACE_POLL_MS		100
#define RX_RACE_FDS		32

struct rx_race {
	int fds[RX_RACE_FDS];	/* dups of the guest socket */
	int stop;
	unsigned long polls;
	unsigned long misses;	/* descriptors reported not readable */
	unsigned long sleeps;	/* poll() calls that timed out: the end */
};

/* Run the calling thread on CPU @cpu only (if there is one). */
static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *rx_race_poller(void *arg)
{
	struct rx_race *r = arg;
	struct pollfd p[RX_RACE_FDS];
	int i, n;

	pin_cpu(0);
	for (i = 0; i < RX_RACE_FDS; i++)
		p[i].fd = r->fds[i];
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		/* Every other call, one descriptor: a miss then sleeps. */
		int nfds = r->polls++ % 2 ? RX_RACE_FDS : 1;

		for (i = 0; i < nfds; i++)
			p[i].events = POLLIN;
		n = poll(p, nfds, RX_RACE_POLL_MS);
		if (n == 0)
			__atomic_add_fetch(&r->sleeps, 1, __ATOMIC_RELEASE);
		if (n >= 0 && n < nfds)
			__atomic_add_fetch(&r->misses, nfds - n,
					   __ATOMIC_RELEASE);
	}
	return NULL;
}

TEST_F_TIMEOUT(pair, poll_sees_partly_read_packet, 60)
{
	static struct rx_race r;
	unsigned long pkts = 0;
	long long t0, end;
	unsigned char b[2];
	pthread_t poller;
	ssize_t n;
	int i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < RX_RACE_FDS; i++) {
		r.fds[i] = dup(self->g);
		ASSERT_LE(0, r.fds[i]);
	}
	/* One byte on the ring before the poller starts. */
	ASSERT_EQ(1, write(self->h, "\0", 1));
	ASSERT_TRUE(wait_events(self->g, POLLIN) & POLLIN);
	pin_cpu(1);
	ASSERT_EQ(0, pthread_create(&poller, NULL, rx_race_poller, &r));
	t0 = hvs_now_ms();
	end = t0 + RX_RACE_MS;
	while (hvs_now_ms() < end &&
	       !__atomic_load_n(&r.sleeps, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < 64; i++) {
			b[0] = ++pkts;
			b[1] = pkts;
			n = write(self->h, b, 2);
			if (n != 2)
				break;
			/* The old packet's last byte, the new one's first. */
			n = recv(self->g, b, 2, MSG_DONTWAIT);
			if (n != 2 || b[1] != (unsigned char)pkts)
				break;
		}
		ASSERT_EQ(64, i) TH_LOG("packet %lu: %zd: %s", pkts, n,
					strerror(errno));
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(poller, NULL);
	TH_LOG("%lu packets, %lu polls of 1 or %d descriptors in %lld ms",
	       pkts, r.polls, RX_RACE_FDS, hvs_now_ms() - t0);
	TH_LOG("%lu descriptors not readable with data on the ring, %lu poll() slept %d ms",
	       r.misses, r.sleeps, RX_RACE_POLL_MS);
	EXPECT_EQ(0, r.misses);
	EXPECT_EQ(0, r.sleeps);
	EXPECT_LT(10000, pkts) TH_LOG("too few packets to mean anything");
	for (i = 0; i < RX_RACE_FDS; i++)
		close(r.fds[i]);
}

/* ------------------------------------------------ 3. reserved services */

/*
 * As AF_VSOCK reserves ports below 1024 for CAP_NET_BIND_SERVICE, the
 * AF_VSOCK-template service GUIDs of those ports (the same host services)
 * need it too; other GUIDs stay open to everybody.
 */
enum who {
	AS_ROOT,		/* full capabilities */
	AS_ROOT_NO_BIND_CAP,	/* uid 0 without CAP_NET_BIND_SERVICE */
	AS_NOBODY,		/* uid/gid 65534, no capabilities */
	AS_NOBODY_BIND_CAP,	/* uid 65534 with CAP_NET_BIND_SERVICE only */
};

#define NOBODY		65534
#define SETUP_FAILED	250

static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return hvs_err(syscall(SYS_capget, &hdr, d));
}

static int caps_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return hvs_err(syscall(SYS_capset, &hdr, d));
}

/* Become @who, in a child. Returns 0 or -errno. */
static int become(enum who who)
{
	struct __user_cap_data_struct d[2];
	const __u32 bind_bit = 1U << CAP_NET_BIND_SERVICE;	/* in d[0] */

	if (who == AS_ROOT)
		return 0;
	if (who == AS_ROOT_NO_BIND_CAP) {
		if (caps_get(d))
			return -errno;
		d[0].effective &= ~bind_bit;
		d[0].permitted &= ~bind_bit;
		d[0].inheritable &= ~bind_bit;
		if (caps_set(d))
			return -errno;
		if (caps_get(d) || (d[0].effective & bind_bit))
			return -EPERM;
		return 0;
	}

	if (who == AS_NOBODY_BIND_CAP && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return -errno;
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -errno;
	memset(d, 0, sizeof(struct __user_cap_data_struct) * 2);
	if (who == AS_NOBODY_BIND_CAP) {
		d[0].effective = bind_bit;
		d[0].permitted = bind_bit;
	}
	if (caps_set(d))
		return -errno;
	/* Check what we got, rather than trust it. */
	if (caps_get(d) || getuid() != NOBODY || geteuid() != NOBODY ||
	    d[1].effective || d[1].permitted ||
	    d[0].effective != (who == AS_NOBODY_BIND_CAP ? bind_bit : 0))
		return -EPERM;
	return 0;
}

enum bind_op {
	OP_BIND,		/* bind() to the given service */
	OP_LISTEN,		/* listen() on an unbound socket */
	OP_CONNECT,		/* connect() an unbound socket to the service */
};

/*
 * Do @op as @who in a child. Returns 0 or -errno of the operation; with
 * @local, the service the socket ended up with.
 */
static int op_as(enum who who, enum bind_op op, const __u8 *svc,
		 __u8 *local)
{
	int p[2], status, s, ret;
	struct sockaddr_hv a;
	pid_t pid;

	if (pipe(p))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		close(p[0]);
		if (become(who))
			_exit(SETUP_FAILED);
		s = socket(AF_HYPERV, SOCK_STREAM, 0);
		if (s < 0)
			_exit(SETUP_FAILED);
		if (op == OP_BIND)
			ret = hvs_bind(s, svc);
		else if (op == OP_LISTEN)
			ret = hvs_err(listen(s, 1));
		else
			ret = hvs_connect(s, hvs_guid_parent, svc);
		memset(&a, 0, sizeof(a));
		if (!ret)
			hvs_getsockname(s, &a);
		(void)!write(p[1], a.shv_service_id, 16);
		_exit(-ret);
	}
	close(p[1]);
	/* Always read: the child must not die of SIGPIPE. */
	if (read(p[0], &a.shv_service_id, 16) != 16)
		memset(&a, 0, sizeof(a));
	if (local)
		memcpy(local, a.shv_service_id, 16);
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) == SETUP_FAILED)
		return -ECHILD;
	return -WEXITSTATUS(status);
}

static int bind_as(enum who who, const __u8 *svc)
{
	return op_as(who, OP_BIND, svc, NULL);
}

/* An AF_VSOCK-template GUID of a port below 1024. */
static bool guid_reserved(const __u8 g[16])
{
	__u8 t[16];
	__u32 port = g[0] | g[1] << 8 | g[2] << 16 | (__u32)g[3] << 24;

	hv_guid_from_vsock_port(t, port);
	return !memcmp(t, g, 16) && port < 1024;
}

static const __u32 reserved_ports[] = { 0, 1, 22, 80, 443, 1023 };

TEST(reserved_service_bind_unprivileged)
{
	unsigned int i;
	__u8 g[16];
	int ret;

	hvs_load_modules();
	for (i = 0; i < ARRAY_SIZE(reserved_ports); i++) {
		hv_guid_from_vsock_port(g, reserved_ports[i]);
		ret = bind_as(AS_NOBODY, g);
		ASSERT_NE(-ECHILD, ret) TH_LOG("could not become uid 65534");
		EXPECT_EQ(-EACCES, ret)
			TH_LOG("uid 65534 bound the vsock port %u service: %s",
			       reserved_ports[i], ret ? strerror(-ret) : "ok");
	}
}

/* The capability decides, not the uid. */
TEST(reserved_service_bind_needs_capability)
{
	__u8 g[16];
	int ret;

	hvs_load_modules();
	hv_guid_from_vsock_port(g, 22);
	ret = bind_as(AS_ROOT_NO_BIND_CAP, g);
	ASSERT_NE(-ECHILD, ret);
	EXPECT_EQ(-EACCES, ret) TH_LOG("root without CAP_NET_BIND_SERVICE: %s",
				       ret ? strerror(-ret) : "bound");
	ret = bind_as(AS_NOBODY_BIND_CAP, g);
	ASSERT_NE(-ECHILD, ret);
	EXPECT_EQ(0, ret) TH_LOG("uid 65534 with CAP_NET_BIND_SERVICE: %s",
				 strerror(-ret));
	EXPECT_EQ(0, bind_as(AS_ROOT, g));
	hv_guid_from_vsock_port(g, 1023);
	EXPECT_EQ(0, bind_as(AS_ROOT, g));
	hv_guid_from_vsock_port(g, 0);
	EXPECT_EQ(0, bind_as(AS_ROOT, g));
}

/* Everything else stays open to an unprivileged user. */
TEST(unreserved_service_bind_unprivileged)
{
	static const __u32 ports[] = { 1024, 5000, 65535, 0x80000000U,
				       0xfffffffeU, 0xffffffffU };
	unsigned int i;
	__u8 g[16];
	int ret;

	hvs_load_modules();
	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		hv_guid_from_vsock_port(g, ports[i]);
		ret = bind_as(AS_NOBODY, g);
		EXPECT_EQ(0, ret) TH_LOG("vsock port %u: %s", ports[i],
					 strerror(-ret));
	}
	/* Not the template: one byte of its tail differs. */
	hv_guid_from_vsock_port(g, 22);
	g[15] ^= 1;
	EXPECT_EQ(0, bind_as(AS_NOBODY, g));
	hv_guid_from_vsock_port(g, 22);
	g[4] ^= 0x80;
	EXPECT_EQ(0, bind_as(AS_NOBODY, g));
	hvs_random_guid(g);
	EXPECT_EQ(0, bind_as(AS_NOBODY, g));
	/* The wildcard picks a service. */
	memset(g, 0, sizeof(g));
	EXPECT_EQ(0, bind_as(AS_NOBODY, g));
}

/*
 * The services listen() and connect() pick by themselves are never
 * reserved ones, and an unprivileged user gets them.
 */
TEST(autobind_never_reserved)
{
	__u8 svc[16], zero[16] = { 0 }, got[16];
	int i, l, h, ret;

	/* The oracle itself. */
	hv_guid_from_vsock_port(got, 1023);
	ASSERT_TRUE(guid_reserved(got));
	hv_guid_from_vsock_port(got, 1024);
	ASSERT_FALSE(guid_reserved(got));
	got[0] = 22;
	got[1] = 0;
	ASSERT_TRUE(guid_reserved(got));
	got[8] ^= 1;
	ASSERT_FALSE(guid_reserved(got));

	hvs_load_modules();
	for (i = 0; i < 100; i++) {
		ret = op_as(AS_NOBODY, OP_LISTEN, NULL, got);
		ASSERT_EQ(0, ret) TH_LOG("listen: %s", strerror(-ret));
		EXPECT_FALSE(guid_reserved(got));
		ret = op_as(AS_NOBODY, OP_BIND, zero, got);
		ASSERT_EQ(0, ret) TH_LOG("bind to the wildcard: %s",
					 strerror(-ret));
		EXPECT_FALSE(guid_reserved(got));
	}
	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	for (i = 0; i < 10; i++) {
		ret = op_as(AS_NOBODY, OP_CONNECT, svc, got);
		EXPECT_EQ(0, ret) TH_LOG("connect: %s", strerror(-ret));
		EXPECT_FALSE(guid_reserved(got));
		h = hvs_host_accept(l, HVS_WAIT_MS, NULL);
		EXPECT_LE(0, h);
		close(h);
	}
	/* Connecting to a reserved host service needs nothing. */
	close(l);
	hv_guid_from_vsock_port(svc, 22);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	EXPECT_EQ(0, op_as(AS_NOBODY, OP_CONNECT, svc, got));
	EXPECT_FALSE(guid_reserved(got));
	h = hvs_host_accept(l, HVS_WAIT_MS, NULL);
	EXPECT_LE(0, h);
	close(h);
	close(l);
}

/* --------------------------------------------- 4. exits do not linger */

/*
 * A child connects with SO_LINGER {1, 4}, sends what the host never
 * reads, then dies (by exit or by SIGKILL) without close(). TCP does not
 * linger when the close comes from an exiting task (inet_release() checks
 * PF_EXITING): the parent reaps it at once (tcp_ref_linger). SIGKILL
 * already ends the wait, as any pending signal does.
 * The data is not lost: the host still reads all of it, then EOF.
 */
static void exit_linger(struct __test_metadata *_metadata, bool kill_it)
{
	char buf[4000], in[4000];
	int p[2], l, h, status;
	long long t0, dt;
	char c;
	__u8 svc[16];
	pid_t pid;

	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int s = hvs_socket(0);

		close(p[0]);
		if (s < 0 || hvs_connect(s, hvs_guid_parent, svc) ||
		    set_linger(s, 1, 4))
			_exit(2);
		hvs_fill(81, 0, buf, sizeof(buf));
		if (send(s, buf, sizeof(buf), MSG_DONTWAIT) != sizeof(buf))
			_exit(3);
		(void)!write(p[1], "x", 1);
		if (kill_it)
			pause();
		_exit(0);	/* no close(): the exit closes it */
	}
	close(p[1]);
	h = hvs_host_accept(l, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(1, read(p[0], &c, 1)) TH_LOG("the child failed to set up");
	t0 = hvs_now_ms();
	if (kill_it)
		kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	dt = hvs_now_ms() - t0;
	TH_LOG("%s with SO_LINGER {1, 4} and unread data: reaped after %lld ms",
	       kill_it ? "SIGKILL" : "exit", dt);
	EXPECT_GT(1000, dt);
	EXPECT_TRUE(kill_it ? WIFSIGNALED(status) :
		    WIFEXITED(status) && !WEXITSTATUS(status));

	/* A graceful close: all the data, then the end of the stream. */
	EXPECT_EQ(sizeof(in), hvs_read_full(h, in, sizeof(in), HVS_WAIT_MS));
	EXPECT_EQ(-1, hvs_check(81, 0, in, sizeof(in)));
	EXPECT_EQ(0, hvs_read_full(h, in, 1, HVS_WAIT_MS));
	close(h);
	close(l);
	close(p[0]);
}

TEST(exit_does_not_linger)
{
	exit_linger(_metadata, false);
}

TEST(sigkill_does_not_linger)
{
	exit_linger(_metadata, true);
}

/* A living process's close() still lingers for the linger time... */
TEST_F(pair, close_lingers_while_host_does_not_read)
{
	char buf[4000];
	long long t0, dt;

	ASSERT_EQ(0, set_linger(self->g, 1, 4));
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	memset(buf, 'y', sizeof(buf));
	ASSERT_EQ(sizeof(buf), send(self->g, buf, sizeof(buf), 0));
	t0 = hvs_now_ms();
	hvs_close(&self->g);
	dt = hvs_now_ms() - t0;
	TH_LOG("close() with SO_LINGER {1, 4}, host not reading: %lld ms", dt);
	EXPECT_LE(3800, dt);
	EXPECT_GE(6000, dt);
}

/* ...and no longer than it takes the host to read everything. */
struct drain {
	int h;
	ssize_t got;
	ssize_t eof;
};

static int drain_host(void *arg)
{
	struct drain *d = arg;
	char buf[4000];

	hvs_host_stop_drain(d->h, 0);
	d->got = hvs_read_full(d->h, buf, sizeof(buf), HVS_WAIT_MS);
	d->eof = hvs_read_full(d->h, buf, 1, HVS_WAIT_MS);
	return 0;
}

TEST_F(pair, close_lingers_until_host_reads)
{
	struct drain d = { .h = self->h };
	struct hvs_delayed dl;
	char buf[4000];
	long long t0, dt;

	ASSERT_EQ(0, set_linger(self->g, 1, 4));
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	memset(buf, 'z', sizeof(buf));
	ASSERT_EQ(sizeof(buf), send(self->g, buf, sizeof(buf), 0));
	ASSERT_EQ(0, hvs_delayed_start(&dl, 1000, drain_host, &d));
	t0 = hvs_now_ms();
	hvs_close(&self->g);
	dt = hvs_now_ms() - t0;
	hvs_delayed_join(&dl);
	TH_LOG("close() with SO_LINGER {1, 4}, host reads after 1 s: %lld ms",
	       dt);
	EXPECT_LE(900, dt);
	EXPECT_GE(3000, dt);
	EXPECT_EQ(sizeof(buf), d.got);
	EXPECT_EQ(0, d.eof);
}

/* ------------------------------------------------------------- 5. SIGIO */

/*
 * O_ASYNC with F_SETSIG(SIGIO), SIGIO blocked and collected with
 * sigtimedwait(): bounded, and si_band says why it came.
 */
static void sigio_block(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGIO);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

static int sigio_arm(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	sigio_block();
	if (fl < 0 || fcntl(fd, F_SETOWN, getpid()) ||
	    fcntl(fd, F_SETSIG, SIGIO) ||
	    fcntl(fd, F_SETFL, fl | O_ASYNC | O_NONBLOCK))
		return -errno;
	return 0;
}

/* Wait up to @ms for SIGIO; its si_band, or -1 if none came. */
static long sigio_wait(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	siginfo_t si;
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGIO);
	if (sigtimedwait(&s, &si, &ts) != SIGIO)
		return -1;
	return si.si_band;
}

static void sigio_flush(void)
{
	while (sigio_wait(0) >= 0)
		;
}

/* Works: the control that the machinery does deliver SIGIO. */
TEST_F(pair, sigio_on_data)
{
	long band;

	ASSERT_EQ(0, sigio_arm(self->g));
	sigio_flush();
	ASSERT_EQ(3, write(self->h, "abc", 3));
	band = sigio_wait(HVS_WAIT_MS);
	EXPECT_LE(0, band) TH_LOG("no SIGIO for arriving data");
	EXPECT_TRUE(band & POLLIN) TH_LOG("band %s", EV(band));
}

/*
 * TCP: a write that failed with EAGAIN arms SIGIO for the space coming
 * back (sk_stream_wait_memory() sets SOCKWQ_ASYNC_NOSPACE), without any
 * poll() in between.
 */
TEST_F(pair, sigio_on_write_space)
{
	static char buf[4096], in[HVS_RING_DATA];
	ssize_t n, sent = 0;
	long band;

	ASSERT_EQ(0, sigio_arm(self->g));
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 1));
	for (;;) {
		n = send(self->g, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n < 0)
			break;
		sent += n;
	}
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_LT(0, sent);
	sigio_flush();
	ASSERT_EQ(0, hvs_host_stop_drain(self->h, 0));
	ASSERT_EQ(sent, hvs_read_full(self->h, in, sent, HVS_WAIT_MS));
	band = sigio_wait(HVS_WAIT_MS);
	EXPECT_LE(0, band) TH_LOG("no SIGIO when write space came back");
	if (band >= 0)
		EXPECT_TRUE(band & POLLOUT) TH_LOG("band %s", EV(band));
	EXPECT_EQ(sizeof(buf), send(self->g, buf, sizeof(buf), MSG_NOSIGNAL));
}

/* TCP: the peer's FIN and its RST each raise SIGIO. */
TEST_F(pair, sigio_on_rescind)
{
	long band;

	ASSERT_EQ(0, sigio_arm(self->g));
	sigio_flush();
	ASSERT_EQ(0, hvs_host_rescind(self->h));
	band = sigio_wait(HVS_WAIT_MS);
	EXPECT_LE(0, band) TH_LOG("no SIGIO when the host closed");
	if (band >= 0)
		TH_LOG("band %s", EV(band));
}

/* Works: the host's FIN arrives as data. */
TEST_F(pair, sigio_on_host_fin)
{
	long band;

	ASSERT_EQ(0, sigio_arm(self->g));
	sigio_flush();
	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	band = sigio_wait(HVS_WAIT_MS);
	EXPECT_LE(0, band) TH_LOG("no SIGIO for the host's FIN");
}

/* TCP: tcp_finish_connect() raises SIGIO (POLL_OUT). */
TEST(sigio_on_connect_complete)
{
	__u8 svc[16];
	int l, s, h, ret;
	long band;

	ASSERT_EQ(0, hvs_host_reset_config());
	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	s = hvs_socket(0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, sigio_arm(s));
	sigio_flush();
	ret = hvs_connect(s, hvs_guid_parent, svc);
	ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("%s", strerror(-ret));
	band = sigio_wait(HVS_WAIT_MS);
	EXPECT_LE(0, band) TH_LOG("no SIGIO when the connect completed");
	if (band >= 0)
		EXPECT_TRUE(band & POLLOUT) TH_LOG("band %s", EV(band));
	EXPECT_TRUE(wait_events(s, POLLOUT) & POLLOUT);
	EXPECT_EQ(0, hvs_so_error(s));
	h = hvs_host_accept(l, HVS_WAIT_MS, NULL);
	EXPECT_LE(0, h);
	close(h);
	close(s);
	close(l);
}

/* Works: a failed connect reports an error, which raises SIGIO. */
TEST(sigio_on_connect_refused)
{
	__u8 svc[16];
	int l, s, ret;
	long band;

	ASSERT_EQ(0, hvs_host_reset_config());
	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, hvs_host_config_set(fail_opens, 1));
	s = hvs_socket(0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, sigio_arm(s));
	sigio_flush();
	ret = hvs_connect(s, hvs_guid_parent, svc);
	ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("%s", strerror(-ret));
	band = sigio_wait(HVS_WAIT_MS);
	EXPECT_LE(0, band) TH_LOG("no SIGIO when the connect failed");
	EXPECT_EQ(ECONNREFUSED, hvs_so_error(s));
	close(s);
	close(l);
	hvs_host_reset_config();
}

/* ------------------------------------------- 6. differences from TCP */

/*
 * (a) EPOLLERR goes with a pending error. TCP after an RST
 * (tcp_ref_rst_so_error): poll() reports ERR, SO_ERROR reads ECONNRESET
 * once and then 0, ERR is gone, and recv() returns 0. A socket may also
 * find the malformed packet only when it reads it, as TCP finds an RST
 * behind data: readable without ERR, SO_ERROR 0, and the read fails with
 * ECONNRESET. What it may not do is report ERR with nothing in SO_ERROR.
 */
TEST_F(pair, so_error_after_malformed_packet)
{
	char buf[64];
	int ev, err, ret;

	ASSERT_LT(0, inject_bad_packet(self->h));
	ev = wait_events(self->g, POLLIN | POLLERR);
	ASSERT_TRUE(ev & (POLLIN | POLLERR)) TH_LOG("events %s", EV(ev));
	err = hvs_so_error(self->g);
	if (ev & POLLERR) {
		EXPECT_EQ(ECONNRESET, err)
			TH_LOG("poll() said %s but SO_ERROR %d", EV(ev), err);
	} else {
		EXPECT_EQ(0, err) TH_LOG("SO_ERROR %d, events %s", err, EV(ev));
		ret = hvs_err(recv(self->g, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_EQ(-ECONNRESET, ret) TH_LOG("recv: %d", ret);
	}
	EXPECT_EQ(0, hvs_so_error(self->g));
	ev = hvs_poll(self->g, ALL_EV, 0);
	EXPECT_FALSE(ev & POLLERR) TH_LOG("ERR without an error: %s", EV(ev));
	EXPECT_EQ(POLLIN | POLLHUP, ev & (POLLIN | POLLHUP))
		TH_LOG("events %s", EV(ev));
	EXPECT_EQ(0, recv(self->g, buf, sizeof(buf), MSG_DONTWAIT));
}

/*
 * (b) The events of a socket whose connect failed, mask for mask what
 * TCP reports for a refused connect (tcp_ref_failed_connect_poll_mask).
 */
enum fail_how { FAIL_REFUSED, FAIL_TIMEOUT };

/*
 * A socket whose connect() to a host listener fails @how, with @l the
 * listener; returns connect()'s result in *@ret.
 */
static int failing_connect(struct __test_metadata *_metadata,
			   enum fail_how how, bool nonblock, int *l, int *ret)
{
	__u8 svc[16];
	int s;

	ASSERT_EQ(0, hvs_host_reset_config());
	hvs_random_guid(svc);
	*l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, *l);
	ASSERT_EQ(0, how == FAIL_REFUSED ?
		  hvs_host_config_set(fail_opens, 1) :
		  hvs_host_config_set(ignore_connects, 1));
	s = hvs_socket(nonblock ? SOCK_NONBLOCK : 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, hvs_set_connect_timeout(s, HVS_SHORT_TIMEOUT_MS));
	*ret = hvs_connect(s, hvs_guid_parent, svc);
	return s;
}

static void failed_connect_events(struct __test_metadata *_metadata,
				  enum fail_how how)
{
	int err = how == FAIL_REFUSED ? ECONNREFUSED : ETIMEDOUT;
	int l, s, ret, ev;

	/* Non-blocking: the error is pending until SO_ERROR reads it. */
	s = failing_connect(_metadata, how, true, &l, &ret);
	ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("%s", strerror(-ret));
	ev = wait_events(s, POLLERR | POLLHUP);
	EXPECT_EQ(FAILED_CONNECT_EV | POLLERR, ev)
		TH_LOG("events %s, TCP: %s", EV(ev),
		       EV(FAILED_CONNECT_EV | POLLERR));
	EXPECT_EQ(err, hvs_so_error(s));
	ev = hvs_poll(s, ALL_EV, 0);
	EXPECT_EQ(FAILED_CONNECT_EV, ev)
		TH_LOG("after SO_ERROR: %s, TCP: %s", EV(ev),
		       EV(FAILED_CONNECT_EV));
	close(s);
	close(l);

	/* Blocking: connect() returned the error. */
	s = failing_connect(_metadata, how, false, &l, &ret);
	ASSERT_EQ(-err, ret) TH_LOG("%s", strerror(-ret));
	ev = hvs_poll(s, ALL_EV, 0);
	EXPECT_EQ(FAILED_CONNECT_EV, ev)
		TH_LOG("events %s, TCP: %s", EV(ev), EV(FAILED_CONNECT_EV));
	close(s);
	close(l);
	hvs_host_reset_config();
}

TEST(poll_after_connect_refused)
{
	failed_connect_events(_metadata, FAIL_REFUSED);
}

TEST(poll_after_connect_timeout)
{
	failed_connect_events(_metadata, FAIL_TIMEOUT);
}

/*
 * (c) A non-blocking connect that completed and was then closed by the
 * host before the application looked. TCP (tcp_ref_reconnect_after_rst):
 * the next connect() finds the socket closed and returns the error, or
 * ECONNABORTED when there is none (__inet_stream_connect()).
 */
TEST(reconnect_after_async_connect_rescinded)
{
	__u8 svc[16];
	int l, s, h, ret;

	ASSERT_EQ(0, hvs_host_reset_config());
	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	s = hvs_socket(SOCK_NONBLOCK);
	ASSERT_LE(0, s);
	ret = hvs_connect(s, hvs_guid_parent, svc);
	ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("%s", strerror(-ret));
	h = hvs_host_accept(l, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, h);
	ASSERT_EQ(0, hvs_host_rescind(h));
	ASSERT_TRUE(wait_hangup(s));
	ret = hvs_connect(s, hvs_guid_parent, svc);
	EXPECT_TRUE(ret == -ECONNABORTED || ret == -ECONNRESET)
		TH_LOG("second connect(): %s", ret ? strerror(-ret) : "0");
	close(h);
	close(s);
	close(l);
}

/*
 * (d) getpeername() follows the state, as inet_getname(): the peer is
 * known while the connection lives, also half-closed by the peer (TCP's
 * CLOSE_WAIT after a FIN), and ENOTCONN once it is closed both ways (TCP
 * after an RST; a rescind leaves nothing to send on either). Measured in
 * tcp_ref_getpeername.
 */
TEST_F(pair, getpeername_after_host_fin)
{
	struct sockaddr_hv a;

	ASSERT_EQ(0, hvs_host_shutdown(self->h));
	ASSERT_TRUE(wait_events(self->g, POLLRDHUP) & POLLRDHUP);
	EXPECT_EQ(0, hvs_getpeername(self->g, &a));
}

TEST_F(pair, getpeername_after_rescind)
{
	struct sockaddr_hv a;
	int ret;

	ASSERT_EQ(0, hvs_host_rescind(self->h));
	ASSERT_TRUE(wait_hangup(self->g));
	ret = hvs_getpeername(self->g, &a);
	EXPECT_EQ(-ENOTCONN, ret) TH_LOG("getpeername: %s",
					 ret ? strerror(-ret) : "answered");
}

TEST_F(pair, getpeername_after_reset)
{
	struct sockaddr_hv a;
	char buf[16];
	int ret;

	ASSERT_LT(0, inject_bad_packet(self->h));
	ASSERT_TRUE(wait_events(self->g, POLLIN | POLLERR) &
		    (POLLIN | POLLERR));
	ASSERT_EQ(-ECONNRESET, hvs_err(recv(self->g, buf, sizeof(buf),
					    MSG_DONTWAIT)));
	ret = hvs_getpeername(self->g, &a);
	EXPECT_EQ(-ENOTCONN, ret) TH_LOG("getpeername: %s",
					 ret ? strerror(-ret) : "answered");
}

/*
 * (e) MSG_TRUNC on a stream discards the bytes and returns their count,
 * without a buffer; with MSG_PEEK it only counts (tcp_ref_msg_trunc).
 */
TEST_F(pair, recv_msg_trunc_discards)
{
	char out[100], in[100];
	int n;

	hvs_fill(91, 0, out, sizeof(out));
	ASSERT_EQ(sizeof(out), write(self->h, out, sizeof(out)));
	ASSERT_TRUE(wait_events(self->g, POLLIN) & POLLIN);
	n = recv(self->g, NULL, 40, MSG_TRUNC | MSG_DONTWAIT);
	EXPECT_EQ(40, n) TH_LOG("recv(MSG_TRUNC): %s",
				n < 0 ? strerror(errno) : "short");
	memset(in, 0, sizeof(in));
	n = recv(self->g, in, 10, MSG_TRUNC | MSG_DONTWAIT);
	EXPECT_EQ(10, n);
	EXPECT_EQ(0, in[0]) TH_LOG("MSG_TRUNC copied the data");
	ASSERT_EQ(0, ioctl(self->g, SIOCINQ, &n));
	EXPECT_EQ(50, n);
	n = recv(self->g, in, sizeof(in), MSG_DONTWAIT);
	ASSERT_EQ(50, n);
	EXPECT_EQ(-1, hvs_check(91, 50, in, 50));
}

TEST_F(pair, recv_msg_trunc_peek_counts)
{
	char out[100], in[100];
	int n;

	hvs_fill(92, 0, out, sizeof(out));
	ASSERT_EQ(sizeof(out), write(self->h, out, sizeof(out)));
	ASSERT_TRUE(wait_events(self->g, POLLIN) & POLLIN);
	n = recv(self->g, NULL, 30, MSG_TRUNC | MSG_PEEK | MSG_DONTWAIT);
	EXPECT_EQ(30, n) TH_LOG("recv(MSG_TRUNC | MSG_PEEK): %s",
				n < 0 ? strerror(errno) : "short");
	n = recv(self->g, in, sizeof(in), MSG_DONTWAIT);
	ASSERT_EQ(100, n);
	EXPECT_EQ(-1, hvs_check(92, 0, in, 100));
}

/* ------------------------------------------- TCP on loopback, the reference */

static int lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ret = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			ret = -errno;
	}
	close(s);
	return ret;
}

static void lo_addr(struct sockaddr_in *a, int port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A TCP listener on loopback; its port in *@port. */
static int tcp_listener(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s;

	if (lo_up())
		return -ENETDOWN;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	lo_addr(&a, 0);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 8) ||
	    getsockname(s, (struct sockaddr *)&a, &len)) {
		close(s);
		return -errno;
	}
	*port = ntohs(a.sin_port);
	return s;
}

/* A port nobody listens on. */
static int tcp_closed_port(void)
{
	int port, l = tcp_listener(&port);

	if (l < 0)
		return l;
	close(l);
	return port;
}

static int tcp_connect(int port, bool nonblock)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
		       (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (s < 0)
		return -errno;
	lo_addr(&a, port);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) &&
	    errno != EINPROGRESS) {
		int err = -errno;

		close(s);
		return err;
	}
	return s;
}

/* A connected TCP pair on loopback: @c the client, @s the server's end. */
static int tcp_pair(int *c, int *s)
{
	int port, l = tcp_listener(&port);

	if (l < 0)
		return l;
	*c = tcp_connect(port, false);
	*s = *c < 0 ? *c : accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	if (*s < 0) {
		if (*c >= 0)
			close(*c);
		return -EIO;
	}
	return 0;
}

/* Close @fd with an RST. */
static void tcp_reset(int fd)
{
	set_linger(fd, 1, 0);
	close(fd);
}

TEST(tcp_ref_failed_connect_poll_mask)
{
	int port = tcp_closed_port(), s, ev, ret;
	struct sockaddr_in a;

	ASSERT_LT(0, port);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, s);
	lo_addr(&a, port);
	ret = hvs_err(connect(s, (struct sockaddr *)&a, sizeof(a)));
	TH_LOG("TCP non-blocking connect to a closed port: %s",
	       strerror(-ret));
	if (ret == -EINPROGRESS) {
		ev = wait_events(s, POLLERR | POLLHUP);
		TH_LOG("TCP refused, error pending: %s", EV(ev));
		EXPECT_EQ(FAILED_CONNECT_EV | POLLERR, ev);
		EXPECT_EQ(ECONNREFUSED, hvs_so_error(s));
	} else {
		EXPECT_EQ(-ECONNREFUSED, ret);
	}
	ev = hvs_poll(s, ALL_EV, 0);
	TH_LOG("TCP refused, error read: %s", EV(ev));
	EXPECT_EQ(FAILED_CONNECT_EV, ev);
	close(s);

	s = tcp_connect(port, false);
	EXPECT_EQ(-ECONNREFUSED, s);
	if (s >= 0)
		close(s);
}

TEST(tcp_ref_rst_so_error)
{
	int c, s, ev;
	char buf[16];
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	ASSERT_EQ(0, tcp_pair(&c, &s));
	tcp_reset(s);
	ev = wait_events(c, POLLERR);
	TH_LOG("TCP after an RST: %s", EV(ev));
	EXPECT_TRUE(ev & POLLERR);
	EXPECT_EQ(ECONNRESET, hvs_so_error(c));
	EXPECT_EQ(0, hvs_so_error(c));
	ev = hvs_poll(c, ALL_EV, 0);
	TH_LOG("TCP after an RST and SO_ERROR: %s", EV(ev));
	EXPECT_FALSE(ev & POLLERR);
	EXPECT_EQ(POLLIN | POLLHUP, ev & (POLLIN | POLLHUP));
	EXPECT_EQ(0, recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(-1, getpeername(c, (struct sockaddr *)&a, &len));
	EXPECT_EQ(ENOTCONN, errno);
	close(c);
}

TEST(tcp_ref_getpeername)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int c, s;

	/* After the peer's FIN (CLOSE_WAIT): the peer is still known. */
	ASSERT_EQ(0, tcp_pair(&c, &s));
	close(s);
	ASSERT_TRUE(wait_events(c, POLLRDHUP) & POLLRDHUP);
	EXPECT_EQ(0, getpeername(c, (struct sockaddr *)&a, &len));
	close(c);

	/* After the peer's RST (CLOSE): ENOTCONN. */
	ASSERT_EQ(0, tcp_pair(&c, &s));
	tcp_reset(s);
	ASSERT_TRUE(wait_events(c, POLLHUP) & POLLHUP);
	EXPECT_EQ(-1, getpeername(c, (struct sockaddr *)&a, &len));
	EXPECT_EQ(ENOTCONN, errno);
	close(c);
}

TEST(tcp_ref_reconnect_after_rst)
{
	struct sockaddr_in a;
	int port, l, c, s, ret;

	l = tcp_listener(&port);
	ASSERT_LE(0, l);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, c);
	lo_addr(&a, port);
	ret = hvs_err(connect(c, (struct sockaddr *)&a, sizeof(a)));
	TH_LOG("TCP non-blocking connect on loopback: %s",
	       ret ? strerror(-ret) : "0");
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, s);
	tcp_reset(s);
	ASSERT_TRUE(wait_events(c, POLLHUP) & POLLHUP);
	ret = hvs_err(connect(c, (struct sockaddr *)&a, sizeof(a)));
	TH_LOG("TCP second connect after the RST: %s",
	       ret ? strerror(-ret) : "0");
	if (ret != -EISCONN)
		EXPECT_EQ(-ECONNRESET, ret);
	close(c);
	close(l);
}

TEST(tcp_ref_msg_trunc)
{
	char out[100], in[100];
	int c, s, n;

	ASSERT_EQ(0, tcp_pair(&c, &s));
	hvs_fill(93, 0, out, sizeof(out));
	ASSERT_EQ(sizeof(out), send(s, out, sizeof(out), 0));
	ASSERT_TRUE(wait_events(c, POLLIN) & POLLIN);
	hvs_msleep(50);
	EXPECT_EQ(30, recv(c, NULL, 30, MSG_TRUNC | MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(40, recv(c, NULL, 40, MSG_TRUNC | MSG_DONTWAIT));
	memset(in, 0, sizeof(in));
	EXPECT_EQ(10, recv(c, in, 10, MSG_TRUNC | MSG_DONTWAIT));
	EXPECT_EQ(0, in[0]);
	n = recv(c, in, sizeof(in), MSG_DONTWAIT);
	EXPECT_EQ(50, n);
	EXPECT_EQ(-1, hvs_check(93, 50, in, 50));
	close(c);
	close(s);
}

/*
 * TCP keeps unsent data while the peer's window is closed: a client with
 * SO_LINGER {1, 4} whose server never reads lingers in close() for the
 * whole linger time, but not when it exits.
 */
static int tcp_stuck_client(int port)
{
	static char buf[65536];
	int s = tcp_connect(port, false), small = 4096;

	if (s < 0)
		return s;
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	if (set_linger(s, 1, 4)) {
		close(s);
		return -EINVAL;
	}
	/* Fill the server's window and our send queue, until they stay full. */
	while (hvs_poll(s, POLLOUT, 200) & POLLOUT)
		if (send(s, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN)
			break;
	return s;
}

TEST(tcp_ref_linger)
{
	int port, l, s, p[2], status;
	long long t0, dt;
	pid_t pid;
	char c;

	l = tcp_listener(&port);
	ASSERT_LE(0, l);
	s = tcp_stuck_client(port);
	ASSERT_LE(0, s);
	t0 = hvs_now_ms();
	close(s);
	dt = hvs_now_ms() - t0;
	TH_LOG("TCP close() with SO_LINGER {1, 4}, peer not reading: %lld ms",
	       dt);
	EXPECT_LE(3800, dt);

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		s = tcp_stuck_client(port);
		if (s < 0)
			_exit(2);
		(void)!write(p[1], "x", 1);
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	t0 = hvs_now_ms();
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	dt = hvs_now_ms() - t0;
	TH_LOG("TCP exit with SO_LINGER {1, 4}, peer not reading: %lld ms", dt);
	EXPECT_GT(1000, dt);
	close(p[0]);
	close(l);
}

TEST(tcp_ref_sigio)
{
	static char buf[65536];
	int c, s, port, l, one = 1;
	ssize_t n, sent = 0;
	long band;

	/* Write space after EAGAIN. */
	ASSERT_EQ(0, tcp_pair(&c, &s));
	ASSERT_EQ(0, sigio_arm(c));
	for (;;) {
		n = send(c, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n < 0)
			break;
		sent += n;
	}
	ASSERT_EQ(EAGAIN, errno);
	sigio_flush();
	while (sent > 0) {
		n = recv(s, buf, sizeof(buf), 0);
		ASSERT_LT(0, n);
		sent -= n;
	}
	band = sigio_wait(HVS_WAIT_MS);
	TH_LOG("TCP, write space after EAGAIN: SIGIO band %s", EV(band));
	EXPECT_TRUE(band >= 0 && (band & POLLOUT));

	/* The peer's FIN. */
	sigio_flush();
	close(s);
	band = sigio_wait(HVS_WAIT_MS);
	TH_LOG("TCP, peer's FIN: SIGIO band %s", EV(band));
	EXPECT_LE(0, band);
	close(c);

	/* The peer's RST. */
	ASSERT_EQ(0, tcp_pair(&c, &s));
	ASSERT_EQ(0, sigio_arm(c));
	sigio_flush();
	tcp_reset(s);
	band = sigio_wait(HVS_WAIT_MS);
	TH_LOG("TCP, peer's RST: SIGIO band %s", EV(band));
	EXPECT_LE(0, band);
	close(c);

	/* A non-blocking connect completes. */
	l = tcp_listener(&port);
	ASSERT_LE(0, l);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, c);
	setsockopt(c, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	ASSERT_EQ(0, sigio_arm(c));
	sigio_flush();
	{
		struct sockaddr_in a;

		lo_addr(&a, port);
		connect(c, (struct sockaddr *)&a, sizeof(a));
	}
	band = sigio_wait(HVS_WAIT_MS);
	TH_LOG("TCP, connect completed: SIGIO band %s", EV(band));
	EXPECT_LE(0, band);
	close(c);
	close(l);
}

TEST_HARNESS_MAIN
