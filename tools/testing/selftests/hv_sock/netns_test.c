// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV in network namespaces: refused until net.hv_sock.enabled is
 * set by someone privileged over the whole guest, then usable both ways;
 * one service GUID space for the guest; each namespace lists only its own
 * sockets; a namespace that dies with live connections closes them all.
 *
 * Sockets are made in a namespace by entering it with setns() and leaving
 * again: a socket keeps the namespace it was created in.
 */

#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "hvs_test.h"
#include "../kselftest_harness.h"

#define SYSCTL_PATH	"/proc/sys/net/hv_sock/enabled"
#define MODULE_REFCNT	"/sys/module/af_hvsock/refcnt"

struct netns {
	int init;	/* the namespace we started in */
	int ns;		/* a new one */
};

/* A new namespace, kept by its fd; the caller is back in its own. */
static int netns_new(struct netns *n)
{
	n->init = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (n->init < 0)
		return -errno;
	if (unshare(CLONE_NEWNET))
		return -errno;
	n->ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (n->ns < 0)
		return -errno;
	return hvs_err(setns(n->init, CLONE_NEWNET));
}

static int netns_enter(int fd)
{
	return hvs_err(setns(fd, CLONE_NEWNET));
}

/* The switch of the namespace we are in: its value, or -errno. */
static int sysctl_read(void)
{
	char buf[16] = "";
	int fd = open(SYSCTL_PATH, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -EIO;
}

static int sysctl_write(const char *val)
{
	int fd = open(SYSCTL_PATH, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* Set the switch of namespace @fd from outside it. */
static int netns_enable(struct netns *n, const char *val)
{
	int ret = netns_enter(n->ns);

	if (!ret)
		ret = sysctl_write(val);
	if (netns_enter(n->init))
		return -EIO;
	return ret;
}

/* A socket of namespace @fd. */
static int socket_in(struct netns *n, int fd)
{
	int s, ret = netns_enter(fd);

	if (ret)
		return ret;
	s = socket(AF_HYPERV, SOCK_STREAM | SOCK_CLOEXEC, 0);
	s = hvs_err(s);
	if (netns_enter(n->init)) {
		if (s >= 0)
			close(s);
		return -EIO;
	}
	return s;
}

static ino_t inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/*
 * Whether /proc/net/hv_sock of namespace @fd lists inode @ino: 1, 0 or
 * -errno. /proc/self/net is the net of the reading thread.
 */
static int proc_lists(struct netns *n, int fd, ino_t ino)
{
	char line[512], path[64];
	int ret = netns_enter(fd), found = 0;
	FILE *f;

	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/proc/%ld/net/hv_sock",
		 (long)syscall(SYS_gettid));
	f = fopen(path, "r");
	if (netns_enter(n->init)) {
		if (f)
			fclose(f);
		return -EIO;
	}
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *last = strrchr(line, ' ');

		if (last && strtoul(last + 1, NULL, 10) == ino)
			found = 1;
	}
	fclose(f);
	return found;
}

static int module_refcnt(void)
{
	char buf[16] = "";
	int fd = open(MODULE_REFCNT, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -EIO;
}

/* Wait until the module's reference count is at most @max. */
static int module_refcnt_wait(int max, int timeout_ms)
{
	long long end = hvs_now_ms() + timeout_ms;
	int n;

	for (;;) {
		n = module_refcnt();
		if (n <= max || hvs_now_ms() > end)
			return n;
		hvs_msleep(50);
	}
}

/* Send @len checked bytes on @a and read them on @b: @len fits a ring. */
static int check_stream(int a, int b, size_t len, __u64 seed)
{
	char *buf = malloc(len);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	hvs_fill(seed, 0, buf, len);
	n = hvs_write_full(a, buf, len);
	if (n == (ssize_t)len) {
		memset(buf, 0, len);
		n = hvs_read_full(b, buf, len, HVS_WAIT_MS);
	}
	if (n == (ssize_t)len && hvs_check(seed, 0, buf, len) >= 0)
		n = -EBADMSG;
	free(buf);
	return n == (ssize_t)len ? 0 : (n < 0 ? (int)n : -EIO);
}

/* Drop one effective capability of this process. */
static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[cap / 32].effective &= ~(1U << (cap % 32));
	return hvs_err(syscall(SYS_capset, &h, d));
}

FIXTURE(netns) {
	struct netns n;
};

FIXTURE_SETUP(netns)
{
	int s, ret;

	/* Load the module in the initial namespace. */
	s = hvs_socket(0);
	ASSERT_LE(0, s);
	close(s);
	ASSERT_EQ(0, hvs_host_reset_config());
	ret = netns_new(&self->n);
	if (ret == -EINVAL || ret == -EPERM)
		SKIP(return, "no network namespaces");
	ASSERT_EQ(0, ret) TH_LOG("new namespace: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(netns)
{
	close(self->n.ns);
	close(self->n.init);
}

TEST_F(netns, netns_refused_by_default)
{
	int s;

	EXPECT_EQ(1, sysctl_read()) TH_LOG("the initial namespace is on");
	ASSERT_EQ(0, netns_enter(self->n.ns));
	EXPECT_EQ(0, sysctl_read()) TH_LOG("a new namespace is off");
	s = socket(AF_HYPERV, SOCK_STREAM, 0);
	EXPECT_EQ(-1, s);
	EXPECT_EQ(EAFNOSUPPORT, errno);
	ASSERT_EQ(0, netns_enter(self->n.init));
}

TEST_F(netns, netns_enabled_then_disabled)
{
	int s, t;

	ASSERT_EQ(0, netns_enable(&self->n, "1"));
	s = socket_in(&self->n, self->n.ns);
	ASSERT_LE(0, s) TH_LOG("socket after enabling: %s", strerror(-s));
	EXPECT_EQ(0, hvs_bind(s, hvs_guid_wildcard));
	EXPECT_EQ(-EINVAL, netns_enable(&self->n, "2"));
	ASSERT_EQ(0, netns_enable(&self->n, "0"));
	t = socket_in(&self->n, self->n.ns);
	EXPECT_EQ(-EAFNOSUPPORT, t);
	/* Switching it off refuses new sockets; it does not close old ones. */
	EXPECT_EQ(0, listen(s, 1));
	close(s);
}

/* A container's own root cannot grant itself the host. */
TEST(netns_userns_root_cannot_enable)
{
	int status, s;
	pid_t pid;

	s = hvs_socket(0);
	ASSERT_LE(0, s);
	close(s);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (unshare(CLONE_NEWUSER))
			_exit(KSFT_SKIP);
		fd = open("/proc/self/uid_map", O_WRONLY);
		if (fd < 0 || write(fd, "0 0 1", 5) != 5)
			_exit(10);
		close(fd);
		if (unshare(CLONE_NEWNET))
			_exit(11);
		/* Root of the namespace's owner: the mode lets us open it. */
		fd = open(SYSCTL_PATH, O_WRONLY);
		if (fd < 0)
			_exit(12);
		if (write(fd, "1", 1) != -1 || errno != EPERM)
			_exit(13);
		close(fd);
		if (sysctl_read() != 0)
			_exit(14);
		s = socket(AF_HYPERV, SOCK_STREAM, 0);
		_exit(s < 0 && errno == EAFNOSUPPORT ? 0 : 15);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == KSFT_SKIP)
		SKIP(return, "no user namespaces");
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10-11: setup, 12: open, 13: write not EPERM, 14: changed, 15: socket");
}

/* Nor can root without CAP_NET_ADMIN, nor another user. */
TEST_F(netns, netns_switch_needs_cap_net_admin)
{
	int status, i;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (netns_enter(self->n.ns))
			_exit(10);
		if (drop_cap(CAP_NET_ADMIN))
			_exit(11);
		if (sysctl_write("1") != -EPERM)
			_exit(12);
		i = sysctl_read();
		if (i)
			_exit(20 + i);
		if (setresuid(65534, 65534, 65534))
			_exit(13);
		_exit(sysctl_write("1") == -EACCES ? 0 : 14);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("12: without CAP_NET_ADMIN, 14: as nobody, 20+: read -20");
	ASSERT_EQ(0, netns_enter(self->n.ns));
	EXPECT_EQ(0, sysctl_read());
	ASSERT_EQ(0, netns_enter(self->n.init));
}

/* A guest socket in the namespace connects to a host service. */
TEST_F(netns, netns_guest_connects_to_host)
{
	int l, g, h;
	__u8 svc[16];

	ASSERT_EQ(0, netns_enable(&self->n, "1"));
	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	g = socket_in(&self->n, self->n.ns);
	ASSERT_LE(0, g);
	ASSERT_EQ(0, hvs_connect(g, hvs_guid_parent, svc));
	h = hvs_host_accept(l, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, h);
	EXPECT_EQ(0, check_stream(g, h, 8192, 1));
	EXPECT_EQ(0, check_stream(h, g, 8192, 2));
	EXPECT_EQ(1, proc_lists(&self->n, self->n.ns, inode_of(g)));
	EXPECT_EQ(0, proc_lists(&self->n, self->n.init, inode_of(g)));
	close(g);
	close(h);
	close(l);
}

/* The host connects to a listener in the namespace; the child is there. */
TEST_F(netns, netns_host_connects_to_guest)
{
	int s, g, h;
	__u8 svc[16];

	ASSERT_EQ(0, netns_enable(&self->n, "1"));
	hvs_random_guid(svc);
	s = socket_in(&self->n, self->n.ns);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 1));
	h = hvs_host_connect(svc, HVS_WAIT_MS, 0, NULL);
	ASSERT_LE(0, h);
	ASSERT_TRUE(hvs_poll(s, POLLIN, HVS_WAIT_MS) & POLLIN);
	g = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, g);
	EXPECT_EQ(0, check_stream(g, h, 8192, 3));
	EXPECT_EQ(0, check_stream(h, g, 8192, 4));
	EXPECT_EQ(1, proc_lists(&self->n, self->n.ns, inode_of(g)));
	EXPECT_EQ(0, proc_lists(&self->n, self->n.init, inode_of(g)));
	close(g);
	close(h);
	close(s);
}

/* Each namespace lists its own sockets and no other's. */
TEST_F(netns, netns_proc_lists_own_sockets)
{
	int a, b;

	ASSERT_EQ(0, netns_enable(&self->n, "1"));
	a = socket_in(&self->n, self->n.ns);
	ASSERT_LE(0, a);
	b = hvs_socket(0);
	ASSERT_LE(0, b);
	EXPECT_EQ(1, proc_lists(&self->n, self->n.ns, inode_of(a)));
	EXPECT_EQ(0, proc_lists(&self->n, self->n.ns, inode_of(b)));
	EXPECT_EQ(1, proc_lists(&self->n, self->n.init, inode_of(b)));
	EXPECT_EQ(0, proc_lists(&self->n, self->n.init, inode_of(a)));
	close(a);
	close(b);
}

/* One GUID space: a service bound in one namespace is taken in all. */
TEST_F(netns, netns_one_guid_space)
{
	int a, b;
	__u8 svc[16];

	ASSERT_EQ(0, netns_enable(&self->n, "1"));
	hvs_random_guid(svc);
	a = hvs_socket(0);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, hvs_bind(a, svc));
	b = socket_in(&self->n, self->n.ns);
	ASSERT_LE(0, b);
	EXPECT_EQ(-EADDRINUSE, hvs_bind(b, svc)) TH_LOG("init, then netns");
	close(a);
	close(b);

	hvs_random_guid(svc);
	b = socket_in(&self->n, self->n.ns);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, hvs_bind(b, svc));
	a = hvs_socket(0);
	ASSERT_LE(0, a);
	EXPECT_EQ(-EADDRINUSE, hvs_bind(a, svc)) TH_LOG("netns, then init");
	close(a);
	close(b);
}

/*
 * A granted container still needs the initial namespace's privilege for
 * the reserved services: the GUID space is the guest's.
 */
TEST(netns_granted_userns_no_reserved_service)
{
	int status, sync1[2], sync2[2], nsfd, initfd, s;
	char path[64], c = 0;
	__u8 svc[16];
	pid_t pid;

	s = hvs_socket(0);
	ASSERT_LE(0, s);
	close(s);
	ASSERT_EQ(0, pipe(sync1));
	ASSERT_EQ(0, pipe(sync2));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (unshare(CLONE_NEWUSER))
			_exit(KSFT_SKIP);
		fd = open("/proc/self/uid_map", O_WRONLY);
		if (fd < 0 || write(fd, "0 0 1", 5) != 5)
			_exit(10);
		close(fd);
		if (unshare(CLONE_NEWNET))
			_exit(11);
		if (write(sync1[1], &c, 1) != 1 || read(sync2[0], &c, 1) != 1)
			_exit(12);
		s = socket(AF_HYPERV, SOCK_STREAM, 0);
		if (s < 0)
			_exit(13);
		/* vsock template, port 22 */
		if (hv_guid_parse("00000016-facb-11e6-bd58-64006a7986d3",
				  svc, NULL, 0))
			_exit(16);
		if (hvs_bind(s, svc) != -EACCES)
			_exit(14);
		hvs_random_guid(svc);
		_exit(hvs_bind(s, svc) ? 15 : 0);
	}
	if (read(sync1[0], &c, 1) == 1) {
		/* The runtime, privileged over the guest, grants it. */
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		nsfd = open(path, O_RDONLY);
		initfd = open("/proc/self/ns/net", O_RDONLY);
		EXPECT_LE(0, nsfd);
		EXPECT_EQ(0, setns(nsfd, CLONE_NEWNET));
		EXPECT_EQ(0, sysctl_write("1"));
		EXPECT_EQ(0, setns(initfd, CLONE_NEWNET));
		close(nsfd);
		close(initfd);
		EXPECT_EQ(1, write(sync2[1], &c, 1));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == KSFT_SKIP)
		SKIP(return, "no user namespaces");
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10-12: setup, 13: socket refused, 14: reserved bound, 15: bind");
}

/*
 * The last process of a namespace dies with connections in every state:
 * the host sees each closed, every channel goes, every socket is freed
 * (the module's count is back), and the GUIDs are free again.
 */
TEST(netns_teardown_closes_everything)
{
	int l, h1, h2, h3, status, sync[2], base, refs, i;
	__u8 svc_host[16], svc_guest[16], svc_none[16];
	struct hvsim_stats st;
	char c = 0, buf[64];
	pid_t pid;

	i = hvs_socket(0);
	ASSERT_LE(0, i);
	close(i);
	ASSERT_EQ(0, hvs_host_reset_config());
	/* Earlier tests' closed sockets may still wait for their channel. */
	base = module_refcnt_wait(0, HVS_WAIT_MS);
	ASSERT_LE(0, base);
	ASSERT_EQ(0, hvs_host_stats(&st));
	hvs_random_guid(svc_host);
	hvs_random_guid(svc_guest);
	hvs_random_guid(svc_none);
	l = hvs_host_listen(svc_host, 0, 0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int g, s, p;

		if (unshare(CLONE_NEWNET) || sysctl_write("1"))
			_exit(10);
		/* Connected to the host, with data the host has not read. */
		g = socket(AF_HYPERV, SOCK_STREAM, 0);
		if (g < 0 || hvs_connect(g, hvs_guid_parent, svc_host) ||
		    write(g, "guest", 5) != 5)
			_exit(11);
		/* A listener: one connection accepted, one left queued. */
		s = socket(AF_HYPERV, SOCK_STREAM, 0);
		if (s < 0 || hvs_bind(s, svc_guest) || listen(s, 4))
			_exit(12);
		/* A connect the host never answers. */
		p = socket(AF_HYPERV, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (p < 0 || (hvs_connect(p, hvs_guid_parent, svc_none) &&
			      errno != EINPROGRESS))
			_exit(13);
		if (write(sync[1], &c, 1) != 1)
			_exit(14);
		g = accept(s, NULL, NULL);
		if (g < 0)
			_exit(15);
		pause();
		_exit(16);
	}
	close(sync[1]);
	ASSERT_EQ(1, read(sync[0], &c, 1));
	h1 = hvs_host_accept(l, HVS_WAIT_MS, NULL);
	ASSERT_LE(0, h1);
	h2 = hvs_host_connect(svc_guest, HVS_WAIT_MS, 0, NULL);
	ASSERT_LE(0, h2);
	h3 = hvs_host_connect(svc_guest, HVS_WAIT_MS, 0, NULL);
	ASSERT_LE(0, h3);
	EXPECT_EQ(5, hvs_read_full(h1, buf, 5, HVS_WAIT_MS));
	EXPECT_EQ(4, write(h2, "host", 4));
	EXPECT_EQ(4, write(h3, "host", 4));
	EXPECT_LT(base, module_refcnt());

	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/*
	 * Each host end sees the end: h1 end of stream; h2 and h3 a reset,
	 * as TCP resets a connection closed with data unread.
	 */
	EXPECT_EQ(0, hvs_read_full(h1, buf, sizeof(buf), 2 * HVS_WAIT_MS));
	EXPECT_EQ(-ECONNRESET, hvs_read_full(h2, buf, sizeof(buf),
					     2 * HVS_WAIT_MS));
	EXPECT_EQ(-ECONNRESET, hvs_read_full(h3, buf, sizeof(buf),
					     2 * HVS_WAIT_MS));
	close(h1);
	close(h2);
	close(h3);
	close(l);
	EXPECT_GE((long long)st.channels,
		  hvs_host_wait_channels(st.channels, 4 * HVS_WAIT_MS));
	refs = module_refcnt_wait(base, 4 * HVS_WAIT_MS);
	EXPECT_EQ(base, refs) TH_LOG("sockets left: %d", refs - base);

	/* The namespace's GUIDs are free for the next one. */
	i = hvs_socket(0);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, hvs_bind(i, svc_guest));
	close(i);
}

TEST_HARNESS_MAIN
