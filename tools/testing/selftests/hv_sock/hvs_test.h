/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the AF_HYPERV kselftests: the simulated host's side
 * (/dev/hvsim), GUIDs, addresses, checked data streams and timing.
 *
 * Every helper returns a non-negative value or -errno; none of them asserts,
 * so tests decide what a failure means.
 */
#ifndef _HVS_TEST_H
#define _HVS_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/hv_sock.h>

#include "hv_guid_text.h"
#include "hvsim.h"

/* AF_HYPERV is the kernel's 46; a C library may not define it yet. */
#ifndef AF_HYPERV
#define AF_HYPERV	46
#endif

#ifndef KSFT_SKIP
#define KSFT_SKIP 4	/* as in kselftest.h */
#endif

/* Connect timeout of the guest socket in tests that expect no answer. */
#define HVS_SHORT_TIMEOUT_MS	500
/* How long a test waits for something that should happen "at once". */
#define HVS_WAIT_MS		5000
/* Size of each ring's data area (5 pages): what fits before writers block. */
#define HVS_RING_DATA		(5 * 4096)

static const __u8 hvs_guid_wildcard[16] = HV_GUID_WILDCARD_INIT;
static const __u8 hvs_guid_parent[16] = HV_GUID_PARENT_INIT;

static inline long long hvs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline void hvs_msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A random version-4 GUID, so tests never collide on a service. */
static inline void hvs_random_guid(__u8 g[16])
{
	size_t done = 0;

	while (done < 16) {
		ssize_t n = getrandom(g + done, 16 - done, 0);

		if (n > 0)
			done += n;
	}
	g[7] = (g[7] & 0x0f) | 0x40;
	g[8] = (g[8] & 0x3f) | 0x80;
}

static inline bool hvs_guid_eq(const __u8 *a, const __u8 *b)
{
	return !memcmp(a, b, 16);
}

static inline bool hvs_guid_is_zero(const __u8 *g)
{
	return hvs_guid_eq(g, hvs_guid_wildcard);
}

static inline void hvs_addr(struct sockaddr_hv *a, const __u8 *vm,
			    const __u8 *svc)
{
	memset(a, 0, sizeof(*a));
	a->shv_family = AF_HYPERV;
	memcpy(a->shv_vm_id, vm, 16);
	memcpy(a->shv_service_id, svc, 16);
}

static inline int hvs_err(int ret)
{
	return ret < 0 ? -errno : ret;
}

/* ------------------------------------------------------------ modules */

static inline bool hvs_module_loaded(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) == 0;
}

/* Load the simulator and the socket family if they are not there yet. */
static inline void hvs_load_modules(void)
{
	struct stat st;

	if (stat(HVSIM_DEVICE_PATH, &st))
		(void)!system("modprobe vmbus_sim");
	if (!hvs_module_loaded("af_hvsock"))
		(void)!system("modprobe af_hvsock");
}

/*
 * The tests play the host through the simulator's /dev/hvsim. Where there
 * is none (a real Hyper-V guest, or a kernel built without the simulator)
 * they have nothing to run against: skip, as kselftests do for a missing
 * feature, instead of failing.
 */
__attribute__((constructor)) static void hvs_need_simulator(void)
{
	struct stat st;

	if (stat(HVSIM_DEVICE_PATH, &st))
		(void)!system("modprobe -q vmbus_sim");
	if (!stat(HVSIM_DEVICE_PATH, &st))
		return;
	printf("TAP version 13\n1..0 # SKIP no simulated Hyper-V host (%s)\n",
	       HVSIM_DEVICE_PATH);
	exit(KSFT_SKIP);
}

/* ------------------------------------------------------------ host side */

/* A fresh host endpoint; loads the modules when needed. */
static inline int hvs_host_open(void)
{
	int fd = open(HVSIM_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		hvs_load_modules();
		fd = open(HVSIM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	}
	return hvs_err(fd);
}

/* A global request @req of the simulator, on an endpoint of its own. */
static inline int hvs_host_ioctl(unsigned long req, const void *arg)
{
	int fd = hvs_host_open(), ret;

	if (fd < 0)
		return fd;
	ret = hvs_err(ioctl(fd, req, arg));
	close(fd);
	return ret;
}

static inline int hvs_host_get_config(struct hvsim_config *c)
{
	return hvs_host_ioctl(HVSIM_IOC_GET_CONFIG, c);
}

static inline int hvs_host_set_config(const struct hvsim_config *c)
{
	return hvs_host_ioctl(HVSIM_IOC_SET_CONFIG, c);
}

/*
 * Change one field of the host configuration, keeping the others:
 * hvs_host_config_set(mtu, 100). Returns 0 or -errno.
 */
#define hvs_host_config_set(field, value)				\
({									\
	struct hvsim_config __cfg;					\
	int __ret = hvs_host_get_config(&__cfg);			\
									\
	if (!__ret) {							\
		__cfg.field = (value);					\
		__ret = hvs_host_set_config(&__cfg);			\
	}								\
	__ret;								\
})

/* Back to the defaults: no faults, WS2016, full MTU. */
static inline int hvs_host_reset_config(void)
{
	struct hvsim_config c;

	memset(&c, 0, sizeof(c));
	c.personality = HVSIM_PERSONALITY_WS2016;
	return hvs_host_set_config(&c);
}

static inline int hvs_host_stats(struct hvsim_stats *s)
{
	return hvs_host_ioctl(HVSIM_IOC_GET_STATS, s);
}

/* Wait until the simulator knows at most @max channels; the last count. */
static inline long long hvs_host_wait_channels(unsigned long long max,
					       int timeout_ms)
{
	long long end = hvs_now_ms() + timeout_ms;
	struct hvsim_stats s;

	for (;;) {
		if (hvs_host_stats(&s))
			return -1;
		if (s.channels <= max || hvs_now_ms() > end)
			return s.channels;
		hvs_msleep(20);
	}
}

/* A fresh host endpoint turned into a listener or connection by @req. */
static inline int hvs_host_new(unsigned long req, void *arg)
{
	int fd = hvs_host_open();

	if (fd < 0)
		return fd;
	if (ioctl(fd, req, arg)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static inline int hvs_host_listen(const __u8 *svc, __u32 backlog,
				  __u32 flags)
{
	struct hvsim_listen l;

	memset(&l, 0, sizeof(l));
	memcpy(l.service_id, svc, 16);
	l.backlog = backlog;
	l.flags = flags;
	return hvs_host_new(HVSIM_IOC_LISTEN, &l);
}

/* Take a connection from a host listener, waiting at most @timeout_ms. */
static inline int hvs_host_accept(int lfd, int timeout_ms,
				  struct hvsim_accept *out)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	struct hvsim_accept a;
	int ret;

	if (out)
		memset(out, 0, sizeof(*out));
	ret = poll(&p, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	memset(&a, 0, sizeof(a));
	a.flags = HVSIM_FD_CLOEXEC;
	if (ioctl(lfd, HVSIM_IOC_ACCEPT, &a))
		return -errno;
	if (out)
		*out = a;
	return a.fd;
}

/*
 * Host-initiated connection to guest service @svc (for hv_sock). Returns
 * the fd; @host_id (may be NULL) gets the host endpoint GUID.
 */
static inline int hvs_host_connect(const __u8 *svc, __u32 timeout_ms,
				   __u32 flags, __u8 *host_id)
{
	struct hvsim_connect c;
	int fd;

	memset(&c, 0, sizeof(c));
	memcpy(c.service_id, svc, 16);
	c.timeout_ms = timeout_ms;
	c.flags = flags;
	fd = hvs_host_new(HVSIM_IOC_CONNECT, &c);
	if (fd >= 0 && host_id)
		memcpy(host_id, c.host_service_id, 16);
	return fd;
}

static inline int hvs_host_info(int fd, struct hvsim_conn_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	return hvs_err(ioctl(fd, HVSIM_IOC_CONN_INFO, ci));
}

/* Wait for a host connection to reach @state; returns the last state. */
static inline int hvs_host_wait_state(int fd, __u32 state, int timeout_ms,
				      struct hvsim_conn_info *ci)
{
	long long end = hvs_now_ms() + timeout_ms;
	struct hvsim_conn_info tmp;

	if (!ci)
		ci = &tmp;
	for (;;) {
		if (hvs_host_info(fd, ci))
			return -1;
		if (ci->state == state || hvs_now_ms() > end)
			return ci->state;
		hvs_msleep(20);
	}
}

static inline int hvs_host_stop_drain(int fd, __u32 on)
{
	return hvs_err(ioctl(fd, HVSIM_IOC_STOP_DRAIN, &on));
}

static inline int hvs_host_shutdown(int fd)
{
	return hvs_err(ioctl(fd, HVSIM_IOC_SHUTDOWN));
}

static inline int hvs_host_rescind(int fd)
{
	return hvs_err(ioctl(fd, HVSIM_IOC_RESCIND));
}

/* ------------------------------------------------------------ guest side */

/* Close @fd now rather than in a fixture's teardown. */
static inline void hvs_close(int *fd)
{
	close(*fd);
	*fd = -1;
}

static inline int hvs_socket(int flags)
{
	int fd = socket(AF_HYPERV, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

	if (fd < 0 && errno == EAFNOSUPPORT) {
		hvs_load_modules();
		fd = socket(AF_HYPERV, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	}
	return hvs_err(fd);
}

static inline int hvs_bind(int s, const __u8 *svc)
{
	struct sockaddr_hv a;

	hvs_addr(&a, hvs_guid_wildcard, svc);
	return hvs_err(bind(s, (struct sockaddr *)&a, sizeof(a)));
}

static inline int hvs_connect(int s, const __u8 *vm, const __u8 *svc)
{
	struct sockaddr_hv a;

	hvs_addr(&a, vm, svc);
	return hvs_err(connect(s, (struct sockaddr *)&a, sizeof(a)));
}

static inline int hvs_set_connect_timeout(int s, __u32 ms)
{
	return hvs_err(setsockopt(s, SOL_HYPERV, HVSOCKET_CONNECT_TIMEOUT,
				  &ms, sizeof(ms)));
}

static inline int hvs_set_timeo(int s, int opt, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return hvs_err(setsockopt(s, SOL_SOCKET, opt, &tv, sizeof(tv)));
}

static inline int hvs_getsockname(int s, struct sockaddr_hv *a)
{
	socklen_t len = sizeof(*a);

	memset(a, 0xa5, sizeof(*a));
	if (getsockname(s, (struct sockaddr *)a, &len))
		return -errno;
	return len == sizeof(*a) ? 0 : -EMSGSIZE;
}

static inline int hvs_getpeername(int s, struct sockaddr_hv *a)
{
	socklen_t len = sizeof(*a);

	memset(a, 0xa5, sizeof(*a));
	if (getpeername(s, (struct sockaddr *)a, &len))
		return -errno;
	return len == sizeof(*a) ? 0 : -EMSGSIZE;
}

static inline int hvs_so_error(int s)
{
	socklen_t len = sizeof(int);
	int err = -1;

	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return err;
}

/* poll() one fd; returns revents, 0 on timeout, -errno on error. */
static inline int hvs_poll(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret = poll(&p, 1, timeout_ms);

	if (ret < 0)
		return -errno;
	return ret ? p.revents : 0;
}

/*
 * A guest socket connected to a host listener: @out_g the guest socket,
 * @out_h the host's end of the connection. Returns 0 or -errno. @prep
 * (may be NULL) is called with the guest socket and @arg before
 * connect(); an error it returns ends the pair.
 */
static inline int hvs_pair_prep(int *out_g, int *out_h,
				int (*prep)(int s, void *arg), void *arg)
{
	__u8 svc[16];
	int l, g, h;

	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	if (l < 0)
		return l;
	g = hvs_socket(0);
	if (g < 0) {
		close(l);
		return g;
	}
	h = prep ? prep(g, arg) : 0;
	if (!h)
		h = hvs_connect(g, hvs_guid_parent, svc);
	if (!h)
		h = hvs_host_accept(l, HVS_WAIT_MS, NULL);
	close(l);
	if (h < 0) {
		close(g);
		return h;
	}
	*out_g = g;
	*out_h = h;
	return 0;
}

static inline int hvs_pair(int *out_g, int *out_h)
{
	return hvs_pair_prep(out_g, out_h, NULL, NULL);
}

/*
 * The same, the other way round: the host connects to a guest listener and
 * the guest accepts. @prep is called with the listener before bind().
 */
static inline int hvs_pair_accepted_prep(int *out_g, int *out_h,
					 int (*prep)(int s, void *arg),
					 void *arg)
{
	__u8 svc[16];
	int s, g, h;

	hvs_random_guid(svc);
	s = hvs_socket(0);
	if (s < 0)
		return s;
	h = prep ? prep(s, arg) : 0;
	if (!h)
		h = hvs_bind(s, svc);
	if (!h)
		h = hvs_err(listen(s, 1));
	if (!h)
		h = hvs_host_connect(svc, HVS_WAIT_MS, 0, NULL);
	if (h < 0) {
		close(s);
		return h;
	}
	g = hvs_poll(s, POLLIN, HVS_WAIT_MS) & POLLIN ?
	    hvs_err(accept4(s, NULL, NULL, SOCK_CLOEXEC)) : -ETIMEDOUT;
	close(s);
	if (g < 0) {
		close(h);
		return g;
	}
	*out_g = g;
	*out_h = h;
	return 0;
}

static inline int hvs_pair_accepted(int *out_g, int *out_h)
{
	return hvs_pair_accepted_prep(out_g, out_h, NULL, NULL);
}

/* ------------------------------------------------------------ I/O */

/* Read exactly @len bytes from @fd (blocking fd); bytes read or -errno. */
static inline ssize_t hvs_read_full(int fd, void *buf, size_t len,
				    int timeout_ms)
{
	long long end = hvs_now_ms() + timeout_ms;
	size_t done = 0;

	while (done < len) {
		int left = end - hvs_now_ms();
		ssize_t n;

		if (left <= 0)
			return done ? (ssize_t)done : -ETIMEDOUT;
		if (hvs_poll(fd, POLLIN, left) <= 0)
			continue;
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static inline ssize_t hvs_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		done += n;
	}
	return done;
}

/* Send on a socket without SIGPIPE. */
static inline ssize_t hvs_send_full(int s, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(s, (const char *)buf + done, len - done,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		done += n;
	}
	return done;
}

/*
 * The checked stream: byte @off of stream @seed is a pure function of both,
 * so a receiver verifies any chunking, and a mismatch names its offset. It
 * is a window into a random pattern of prime length, shifted by the seed
 * and again every pattern length, so lost, repeated or reordered bytes
 * never line up; memcpy()/memcmp() keep it fast under emulation.
 */
#define HVS_PAT_LEN	1048573U

static unsigned char *hvs_pat;
static pthread_once_t hvs_pat_once = PTHREAD_ONCE_INIT;

static inline __u64 hvs_mix64(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline void hvs_pat_init(void)
{
	size_t i;

	hvs_pat = malloc(HVS_PAT_LEN);
	if (!hvs_pat)
		abort();
	for (i = 0; i < HVS_PAT_LEN; i++)
		hvs_pat[i] = hvs_mix64(i / 8) >> (8 * (i % 8));
}

/* Pattern position of stream byte @off and how many follow contiguously. */
static inline size_t hvs_pat_pos(__u64 seed, __u64 off, size_t *run)
{
	__u64 in_block = off % HVS_PAT_LEN;
	size_t pos = (in_block + (off / HVS_PAT_LEN) * 7 + seed * 7919) %
		     HVS_PAT_LEN;
	size_t a = HVS_PAT_LEN - pos, b = HVS_PAT_LEN - in_block;

	*run = a < b ? a : b;
	return pos;
}

static inline void hvs_fill(__u64 seed, __u64 off, void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t pos, run;

	pthread_once(&hvs_pat_once, hvs_pat_init);
	while (len) {
		pos = hvs_pat_pos(seed, off, &run);
		if (run > len)
			run = len;
		memcpy(p, hvs_pat + pos, run);
		p += run;
		off += run;
		len -= run;
	}
}

/* Offset of the first wrong byte, or -1 when all @len bytes are right. */
static inline long long hvs_check(__u64 seed, __u64 off, const void *buf,
				  size_t len)
{
	const unsigned char *p = buf;
	size_t pos, run, j;

	pthread_once(&hvs_pat_once, hvs_pat_init);
	while (len) {
		pos = hvs_pat_pos(seed, off, &run);
		if (run > len)
			run = len;
		if (memcmp(p, hvs_pat + pos, run)) {
			for (j = 0; p[j] == hvs_pat[pos + j]; j++)
				;
			return off + j;
		}
		p += run;
		off += run;
		len -= run;
	}
	return -1;
}

/*
 * Bulk transfer threads: a sender writes @len bytes of stream @seed in
 * random chunk sizes then ends the stream with a FIN; a receiver reads in
 * random sizes until end of stream and checks every byte.
 */
#define HVS_BULK_CHUNK	65536

struct hvs_bulk {
	int fd;
	bool sock;		/* guest socket (else host fd) */
	__u64 seed;
	__u64 len;
	unsigned int rnd;
	__u64 done;
	long long bad;		/* first bad offset, or -1 */
	int err;
	int finished;
	pthread_t thread;
};

static inline size_t hvs_bulk_chunk(struct hvs_bulk *b)
{
	b->rnd = b->rnd * 1103515245 + 12345;
	return 1 + (b->rnd >> 8) % HVS_BULK_CHUNK;
}

static inline void *hvs_bulk_sender(void *arg)
{
	struct hvs_bulk *b = arg;
	char *buf = malloc(HVS_BULK_CHUNK);
	ssize_t n;

	while (buf && b->done < b->len) {
		size_t want = hvs_bulk_chunk(b);

		if (want > b->len - b->done)
			want = b->len - b->done;
		hvs_fill(b->seed, b->done, buf, want);
		n = b->sock ? hvs_send_full(b->fd, buf, want) :
			      hvs_write_full(b->fd, buf, want);
		if (n != want) {
			b->err = n < 0 ? -n : EIO;
			break;
		}
		b->done += want;
	}
	/* The end of the stream. */
	if (b->sock)
		shutdown(b->fd, SHUT_WR);
	else
		hvs_host_shutdown(b->fd);
	free(buf);
	__atomic_store_n(&b->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static inline void *hvs_bulk_receiver(void *arg)
{
	struct hvs_bulk *b = arg;
	char *buf = malloc(HVS_BULK_CHUNK);
	ssize_t n;

	b->bad = -1;
	while (buf) {
		size_t want = hvs_bulk_chunk(b);

		n = read(b->fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			b->err = errno;
			break;
		}
		if (n == 0)
			break;
		if (b->bad < 0)
			b->bad = hvs_check(b->seed, b->done, buf, n);
		b->done += n;
	}
	free(buf);
	__atomic_store_n(&b->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Wait for @n bulk threads to finish. Returns false, leaving them running,
 * when none of them moved a byte for @stall_ms: the caller reports the
 * state, unblocks them (rescind) and joins them.
 */
static inline bool hvs_bulk_wait(struct hvs_bulk *b, int n, int stall_ms)
{
	unsigned long long last = ~0ULL, sum;
	long long since = hvs_now_ms();
	int i, left;

	for (;;) {
		sum = 0;
		left = 0;
		for (i = 0; i < n; i++) {
			sum += __atomic_load_n(&b[i].done, __ATOMIC_RELAXED);
			left += !__atomic_load_n(&b[i].finished,
						 __ATOMIC_ACQUIRE);
		}
		if (!left)
			break;
		if (sum != last) {
			last = sum;
			since = hvs_now_ms();
		} else if (hvs_now_ms() - since > stall_ms) {
			return false;
		}
		hvs_msleep(100);
	}
	for (i = 0; i < n; i++)
		pthread_join(b[i].thread, NULL);
	return true;
}

/* Print where each thread of this process sleeps in the kernel. */
static inline void hvs_dump_stacks(FILE *out)
{
	char path[300], line[256];
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");

	while (d && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stack",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		fprintf(out, "# thread %s:\n", de->d_name);
		while (fgets(line, sizeof(line), f))
			fprintf(out, "#   %s", line);
		fclose(f);
	}
	if (d)
		closedir(d);
}

/* ------------------------------------------------------------ signals */

/* Read after the interrupted call returned: no volatile needed. */
static sig_atomic_t hvs_signals;

static inline void hvs_count_signal(int sig)
{
	hvs_signals++;
}

/* Install a counting handler for @sig, with or without SA_RESTART. */
static inline int hvs_catch(int sig, bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hvs_count_signal;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	hvs_signals = 0;
	return hvs_err(sigaction(sig, &sa, NULL));
}

/* Deliver SIGALRM to this process after @ms milliseconds, once. */
static inline int hvs_alarm_ms(int ms)
{
	timer_t t;
	struct sigevent sev;
	struct itimerspec its;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t))
		return -errno;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (ms % 1000) * 1000000L;
	return hvs_err(timer_settime(t, 0, &its, NULL));
}

/* ------------------------------------------------------------ threads */

/* Run @fn(@arg) after @delay_ms in a thread (host side of a test). */
struct hvs_delayed {
	pthread_t thread;
	int delay_ms;
	int (*fn)(void *arg);
	void *arg;
	int ret;
};

static inline void *hvs_delayed_main(void *p)
{
	struct hvs_delayed *d = p;

	hvs_msleep(d->delay_ms);
	d->ret = d->fn(d->arg);
	return NULL;
}

static inline int hvs_delayed_start(struct hvs_delayed *d, int delay_ms,
				    int (*fn)(void *), void *arg)
{
	d->delay_ms = delay_ms;
	d->fn = fn;
	d->arg = arg;
	d->ret = -EINPROGRESS;
	return -pthread_create(&d->thread, NULL, hvs_delayed_main, d);
}

static inline int hvs_delayed_join(struct hvs_delayed *d)
{
	pthread_join(d->thread, NULL);
	return d->ret;
}

/*
 * Host side of a test whose guest fills the outbound ring: let the host
 * read again (HVSIM_IOC_STOP_DRAIN off) and read @len bytes of stream
 * @seed from @fd. Run it with hvs_delayed_start(&d, ms, hvs_host_sink, &hs);
 * @got is what was read, @bad the hvs_check() of it (-1: all as sent).
 */
struct hvs_host_sink {
	int fd;
	size_t len;
	__u64 seed;
	ssize_t got;
	long long bad;
};

/* Returns 0, or -1 if draining could not be turned back on, or -ENOMEM. */
static inline int hvs_host_sink(void *arg)
{
	struct hvs_host_sink *hs = arg;
	char *buf = malloc(hs->len);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = hvs_host_stop_drain(hs->fd, 0) ? -1 : 0;
	hs->got = hvs_read_full(hs->fd, buf, hs->len, 20000);
	hs->bad = hs->got > 0 ? hvs_check(hs->seed, 0, buf, hs->got) : -1;
	free(buf);
	return ret;
}

/* ------------------------------------------------------------ fixtures */

/*
 * For kselftest_harness.h tests, so unlike the helpers above these assert.
 *
 * The setup and teardown of a fixture with a connected pair, self->g the
 * guest socket and self->h the host end, on the default configuration;
 * @pair is hvs_pair or hvs_pair_accepted.
 */
#define HVS_PAIR_SETUP(pair)						\
	do {								\
		int __ret;						\
									\
		self->g = -1;						\
		self->h = -1;						\
		ASSERT_EQ(0, hvs_host_reset_config());			\
		__ret = (pair)(&self->g, &self->h);			\
		ASSERT_EQ(0, __ret)					\
			TH_LOG("connected pair: %s", strerror(-__ret));	\
	} while (0)

#define HVS_PAIR_TEARDOWN()						\
	do {								\
		close(self->g);						\
		close(self->h);						\
		hvs_host_reset_config();				\
	} while (0)

/*
 * The simulator is back to at most @n channels within HVS_WAIT_MS. At
 * most: a channel an earlier test closed may still be counted in the
 * baseline and go away meanwhile (a closed socket waits for the host's
 * rescind in the background).
 */
#define EXPECT_HOST_CHANNELS(n)						\
	do {								\
		long long __n = (n);					\
									\
		EXPECT_GE(__n, hvs_host_wait_channels(__n, HVS_WAIT_MS)); \
	} while (0)

#endif /* _HVS_TEST_H */
