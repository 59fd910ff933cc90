// SPDX-License-Identifier: GPL-2.0-only
/*
 * hvperf: throughput and latency of AF_HYPERV next to its peers.
 *
 *   hvperf [-F FAMILIES] [-m MEASURES] [-s SIZES] [-b BYTES] [-i ITERS]
 *          [-c CONNS] [-n IDLE] [-T SECS] [-P GCPU,HCPU] [-Q] [-q]
 *
 * For each family, in the manner of tools/testing/vsock/vsock_perf.c:
 *
 *   tx     guest -> host throughput: the guest writes BYTES in writes of
 *          each SIZE, shuts down its sending side and waits for the
 *          host's end of stream, so every byte was consumed by the host
 *   rx     host -> guest throughput: the host writes BYTES in writes of
 *          SIZE and sends its end of stream; the guest reads with a SIZE
 *          buffer
 *   rtt    1-byte ping-pong round trips, median and 99th percentile
 *   conn   connections per second: connect, shutdown, wait for the
 *          host's end of stream, close
 *   mem    memory per idle connection (only when asked for with -m): open
 *          IDLE connections and keep them all open; the growth of the
 *          kernel's memory (free pages, per-CPU lists included, from
 *          /proc/zoneinfo; Slab and VmallocUsed from /proc/meminfo) over
 *          IDLE, in KiB. Both ends are counted where both live in this VM:
 *          the two sockets of unix, tcp and vsock-lo; the guest socket, its
 *          rings and the simulated host's endpoint for hyperv and vsock-hv
 *
 * Families (the guest side is always a socket of this VM):
 *
 *   hyperv    AF_HYPERV to the host (parent partition)
 *   vsock-hv  AF_VSOCK to CID 2 over the mainline Hyper-V transport; the
 *             host listens on the vsock template GUID of the port
 *   vsock-lo  AF_VSOCK loopback, CID 1, both ends in this VM
 *   unix      AF_UNIX stream sockets (abstract address)
 *   tcp       TCP over 127.0.0.1 (the loopback interface must be up)
 *
 * A child process plays the host side of every family. For hyperv and
 * vsock-hv that takes the simulated Hyper-V host: only the test build
 * (tools/testing/hv_sock/hvperf/, hvperf.h) has that side; built here, for
 * a Hyper-V guest, hvperf reports those two families unavailable.
 *
 * For repeatable figures (make bench):
 *
 *   -P GCPU,HCPU  pin the guest side (this process) to CPU GCPU and the
 *                 host side (the child serving the family) to CPU HCPU,
 *                 so both placements, same CPU and different CPUs, can be
 *                 measured on their own
 *   -Q            before every measurement, wait until the last one's
 *                 connections are gone: the simulated host knows no
 *                 channel, /proc/net/hv_sock lists no socket and no TCP
 *                 connection is open but listeners and TIME_WAIT, then
 *                 let deferred work run for 100 ms
 *
 * Output: one CSV line per figure, "family,measure,size,value,unit" after a
 * header line, then a table for humans on lines starting with '#'.
 * Exit status: 0 if every requested figure was measured, 1 if any failed
 * or a family was unavailable, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/hv_sock.h>
#include <linux/vm_sockets.h>

#include "hv_guid_text.h"
#include "hvperf.h"

/* AF_HYPERV is the kernel's 46; a C library may not define it yet. */
#ifndef AF_HYPERV
#define AF_HYPERV	46
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_SIZES	8
#define MAX_BUF		(4U << 20)
#define MAX_BYTES	(64ULL << 30)
#define HDR_MAGIC	0x48565046U	/* "HVPF" */

#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* Request at the start of every connection but the conn test's. */
enum op { OP_SINK = 1, OP_SOURCE = 2, OP_ECHO = 3 };

struct req {
	__u32 magic;
	__u32 op;
	__u32 size;	/* write size of OP_SOURCE */
	__u32 reserved;
	__u64 count;	/* bytes (SINK, SOURCE) or round trips (ECHO) */
};

enum fam_id { FAM_HYPERV, FAM_VSOCK_HV, FAM_VSOCK_LO, FAM_UNIX, FAM_TCP,
	      NR_FAMS };

static const char * const fam_names[NR_FAMS] = {
	"hyperv", "vsock-hv", "vsock-lo", "unix", "tcp",
};

enum measure { M_TX, M_RX, M_RTT, M_CONN, M_MEM, NR_MEASURES };

static const char * const measure_names[NR_MEASURES] = {
	"tx", "rx", "rtt", "conn", "mem",
};

struct opts {
	bool fam[NR_FAMS];
	bool fams_given;
	bool measure[NR_MEASURES];
	unsigned int sizes[MAX_SIZES];
	unsigned int nr_sizes;
	__u64 bytes;
	unsigned int iters;
	unsigned int conns;
	unsigned int idle;
	unsigned int limit_s;
	int pin_guest;		/* CPU or -1 */
	int pin_host;
	bool quiesce;
	bool quiet;
};

/* A running host side: its listener and the address guests connect to. */
struct server {
	enum fam_id fam;
	pid_t pid;
	bool hv_host;	/* host side through hvperf_host_*(), not a socket */
	union {
		struct sockaddr_hv hv;
		struct sockaddr_vm vm;
		struct sockaddr_un un;
		struct sockaddr_in in;
	} addr;
	socklen_t addr_len;
	int domain;
};

/* Results, for the table. */
#define ROW_MEM		(2 * MAX_SIZES + 3)
#define NR_ROWS		(ROW_MEM + 3)
struct result {
	bool done;
	double value;
};

static struct result results[NR_FAMS][NR_ROWS];
/* -P: the host side's CPU, for the children server_start() forks; or -1 */
static int pin_host_cpu = -1;
/* -B: SO_SNDBUF and SO_RCVBUF of the guest's Hyper-V sockets, or 0. */
static int hv_sockbuf;
static char row_names[NR_ROWS][32];
static const char *row_units[NR_ROWS];
static unsigned char *buf;
/*
 * Set by SIGALRM, checked before every blocking call and after EINTR. A
 * signal landing between the check and the call would be lost, so the
 * handler fires again every second until the limit is disarmed. Accessed
 * with atomic builtins: it changes under the program's feet.
 */
static sig_atomic_t timed_out_flag;

static bool timed_out(void)
{
	return __atomic_load_n(&timed_out_flag, __ATOMIC_RELAXED);
}

static void set_timed_out(bool v)
{
	__atomic_store_n(&timed_out_flag, v, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- helpers */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * One read() (or write() if @wr), again when a signal other than the time
 * limit's interrupts it. Returns its result, -ETIMEDOUT once the time
 * limit passed, or -errno.
 */
static ssize_t io_once(int fd, void *p, size_t n, bool wr)
{
	ssize_t r;

	do {
		if (timed_out())
			return -ETIMEDOUT;
		r = wr ? write(fd, p, n) : read(fd, p, n);
	} while (r < 0 && errno == EINTR && !timed_out());
	return r < 0 ? -errno : r;
}

static int read_full(int fd, void *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = io_once(fd, (char *)p + done, n - done, false);

		if (r < 0)
			return r;
		if (r == 0)
			return done ? -EPIPE : 0;
		done += r;
	}
	return 1;
}

static int write_full(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = io_once(fd, (void *)p, n, true);

		if (w < 0)
			return w;
		p = (const char *)p + w;
		n -= w;
	}
	return 0;
}

/* Read until end of stream; returns the byte count or -errno. */
static long long drain(int fd, size_t bufsize)
{
	long long total = 0;

	for (;;) {
		ssize_t r = io_once(fd, buf, bufsize, false);

		if (r < 0)
			return r;
		if (r == 0)
			return total;
		total += r;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static double percentile(const double *v, unsigned int n, unsigned int pct)
{
	__u64 rank = ((__u64)n * pct + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

/* Run the calling thread on @cpu only (-P); -errno on failure. */
static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* ---------------------------------------------------------------- host side */

static int srv_fin(int fd, bool hv_host)
{
	if (hv_host)
		return hvperf_host_shutdown(fd);
	return shutdown(fd, SHUT_WR) ? -errno : 0;
}

static void srv_source(int fd, const struct req *r)
{
	__u64 left = r->count;
	size_t size = r->size && r->size <= MAX_BUF ? r->size : 65536;

	while (left) {
		size_t n = left < size ? left : size;

		if (write_full(fd, buf, n))
			return;
		left -= n;
	}
}

/* Read to the guest's end of stream, then tell it how much arrived. */
static void srv_sink(int fd)
{
	long long got = drain(fd, MAX_BUF);
	__u64 count = got;

	if (got >= 0)
		write_full(fd, &count, sizeof(count));
}

static void srv_echo(int fd, const struct req *r)
{
	unsigned char c;
	__u64 i;

	for (i = 0; i < r->count; i++) {
		if (read_full(fd, &c, 1) != 1 || write_full(fd, &c, 1))
			return;
	}
}

static void srv_conn(int fd, bool hv_host)
{
	struct req r;
	int ret = read_full(fd, &r, sizeof(r));

	if (ret == 1 && r.magic == HDR_MAGIC) {
		switch (r.op) {
		case OP_SINK:
			srv_sink(fd);
			break;
		case OP_SOURCE:
			srv_source(fd, &r);
			break;
		case OP_ECHO:
			srv_echo(fd, &r);
			break;
		}
	}
	/* the guest's end of stream (conn test: right away), then ours */
	if (ret >= 0)
		drain(fd, MAX_BUF);
	srv_fin(fd, hv_host);
	/*
	 * For hyperv and vsock-hv this rescinds the channel right after the
	 * FIN, with data possibly still unread in the guest's ring: what
	 * Hyper-V does.
	 */
	close(fd);
}

static int srv_accept(int lfd, bool hv_host)
{
	if (hv_host)
		return hvperf_host_accept(lfd);
	lfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	return lfd < 0 ? -errno : lfd;
}

/* The host side's connection, for srv_dump(). */
static int srv_fd = -1;

/*
 * SIGUSR1 in the host child, sent when a measurement exceeded its time
 * limit: print the host's view of the connection, to tell a stalled guest
 * from a stalled host.
 */
static void srv_dump(int sig)
{
	(void)sig;
	if (srv_fd >= 0)
		hvperf_host_dump(srv_fd);
}

/* With -B: the rings the guest opened, once per host side. */
static void srv_report_rings(int fd)
{
	unsigned int out, in;
	static bool done;

	if (done || !hv_sockbuf || hvperf_host_rings(fd, &out, &in))
		return;
	fprintf(stderr, "# host side: guest rings of %u (out) and %u (in) pages\n",
		out, in);
	done = true;
}

static void srv_loop(int lfd, bool hv_host)
{
	struct sigaction sa = { .sa_handler = srv_dump,
				.sa_flags = SA_RESTART };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	if (hv_host)
		sigaction(SIGUSR1, &sa, NULL);
	for (;;) {
		int fd = srv_accept(lfd, hv_host);
		int one = 1;

		if (fd == -EINTR || fd == -ECONNABORTED)
			continue;
		if (fd < 0) {
			fprintf(stderr, "hvperf: host accept: %s\n",
				strerror(-fd));
			_exit(1);
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (hv_host)
			srv_report_rings(fd);
		srv_fd = fd;
		srv_conn(fd, hv_host);
		srv_fd = -1;
	}
}

static int open_sock_listener(struct server *s, struct sockaddr *a,
			      socklen_t len)
{
	int fd = socket(s->domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (s->domain == AF_INET)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, a, len) || listen(fd, 64)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * Set up the host side's listener of @fam (a second, distinct one if
 * @idle) and fill in the address the guest side connects to. Returns the
 * listener or -errno; *what says which step failed.
 */
static int server_listen(struct server *s, enum fam_id fam, bool idle,
			 const char **what)
{
	unsigned int tag = getpid() & 0xffff;
	int lfd;

	memset(s, 0, sizeof(*s));
	s->fam = fam;
	switch (fam) {
	case FAM_HYPERV: {
		/* 68767065-7266-4000-8000-0000000pppp ("hvperf") */
		static const __u8 svc[16] = {
			0x65, 0x70, 0x76, 0x68, 0x66, 0x72, 0x00, 0x40,
			0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		};
		static const __u8 parent[16] = HV_GUID_PARENT_INIT;

		s->domain = AF_HYPERV;
		s->hv_host = true;
		s->addr.hv.shv_family = AF_HYPERV;
		memcpy(s->addr.hv.shv_vm_id, parent, 16);
		memcpy(s->addr.hv.shv_service_id, svc, 16);
		s->addr.hv.shv_service_id[13] = idle;
		s->addr.hv.shv_service_id[14] = tag >> 8;
		s->addr.hv.shv_service_id[15] = tag;
		s->addr_len = sizeof(s->addr.hv);
		lfd = hvperf_host_listen(s->addr.hv.shv_service_id, what);
		break;
	}
	case FAM_VSOCK_HV: {
		__u8 svc[16];

		s->domain = AF_VSOCK;
		s->hv_host = true;
		s->addr.vm.svm_family = AF_VSOCK;
		s->addr.vm.svm_cid = VMADDR_CID_HOST;
		s->addr.vm.svm_port = (idle ? 0x48520000U : 0x48500000U) | tag;
		s->addr_len = sizeof(s->addr.vm);
		hv_guid_from_vsock_port(svc, s->addr.vm.svm_port);
		lfd = hvperf_host_listen(svc, what);
		break;
	}
	case FAM_VSOCK_LO: {
		struct sockaddr_vm any = {
			.svm_family = AF_VSOCK,
			.svm_cid = VMADDR_CID_ANY,
			.svm_port = (idle ? 0x48530000U : 0x48510000U) | tag,
		};

		s->domain = AF_VSOCK;
		s->addr.vm = any;
		s->addr.vm.svm_cid = VMADDR_CID_LOCAL;
		s->addr_len = sizeof(s->addr.vm);
		*what = "vsock listen";
		lfd = open_sock_listener(s, (struct sockaddr *)&any,
					 sizeof(any));
		break;
	}
	case FAM_UNIX:
		s->domain = AF_UNIX;
		s->addr.un.sun_family = AF_UNIX;
		/* abstract: leading NUL */
		snprintf(s->addr.un.sun_path + 1, sizeof(s->addr.un.sun_path) - 1,
			 "hvperf.%d%s", (int)getpid(), idle ? ".idle" : "");
		s->addr_len = offsetof(struct sockaddr_un, sun_path) + 1 +
			      strlen(s->addr.un.sun_path + 1);
		*what = "unix listen";
		lfd = open_sock_listener(s, (struct sockaddr *)&s->addr.un,
					 s->addr_len);
		break;
	case FAM_TCP:
		s->domain = AF_INET;
		s->addr.in.sin_family = AF_INET;
		s->addr.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s->addr_len = sizeof(s->addr.in);
		*what = "tcp listen on 127.0.0.1";
		lfd = open_sock_listener(s, (struct sockaddr *)&s->addr.in,
					 s->addr_len);
		if (lfd >= 0 && getsockname(lfd, (struct sockaddr *)&s->addr.in,
					    &s->addr_len)) {
			close(lfd);
			lfd = -errno;
		}
		break;
	default:
		return -EINVAL;
	}
	return lfd;
}

/*
 * Set up the host side of @fam and fork the child serving it. Fills in the
 * address the guest side connects to. Returns 0 or -errno; *what says
 * which step failed.
 */
static int server_start(struct server *s, enum fam_id fam, const char **what)
{
	int lfd = server_listen(s, fam, false, what);

	if (lfd < 0)
		return lfd;

	/* the guest side must be able to create its socket too */
	if (fam == FAM_HYPERV || fam == FAM_VSOCK_HV) {
		int t = socket(s->domain, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (t < 0) {
			int err = -errno;

			*what = fam == FAM_HYPERV ? "socket(AF_HYPERV)" :
						    "socket(AF_VSOCK)";
			close(lfd);
			return err;
		}
		close(t);
	}

	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0) {
		*what = "fork";
		close(lfd);
		return -errno;
	}
	if (s->pid == 0) {
		int err = pin_host_cpu >= 0 ? pin_to(pin_host_cpu) : 0;

		if (err) {
			fprintf(stderr, "hvperf: host side on CPU %d: %s\n",
				pin_host_cpu, strerror(-err));
			_exit(1);
		}
		srv_loop(lfd, s->hv_host);
		_exit(1);
	}
	close(lfd);
	return 0;
}

static void server_stop(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

/* ---------------------------------------------------------------- guest side */

static void set_sockbuf(int fd)
{
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &hv_sockbuf, sizeof(hv_sockbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &hv_sockbuf, sizeof(hv_sockbuf));
}

/*
 * The AF_VSOCK Hyper-V transport sets the socket's buffer sizes to its
 * defaults when connect() assigns it to the socket, and reads them when
 * the host's offer comes: set them while the connect is in progress.
 */
static int cli_connect_vsock_hv(int fd, const struct server *s)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		goto fail;
	if (!connect(fd, (const struct sockaddr *)&s->addr, s->addr_len))
		goto done;
	if (errno != EINPROGRESS)
		goto fail;
	set_sockbuf(fd);
	if (poll(&p, 1, -1) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		goto fail;
	if (err) {
		errno = err;
		goto fail;
	}
done:
	if (!fcntl(fd, F_SETFL, 0))
		return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static int cli_connect(const struct server *s)
{
	int fd = socket(s->domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (hv_sockbuf && s->fam == FAM_VSOCK_HV)
		return cli_connect_vsock_hv(fd, s);
	/* Read when the channel opens: they size its rings. */
	if (hv_sockbuf && s->fam == FAM_HYPERV)
		set_sockbuf(fd);
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addr_len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (s->domain == AF_INET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void dump_proc(void)
{
	char line[256];
	FILE *f = fopen("/proc/net/hv_sock", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("# %s", line);
	fclose(f);
}

/*
 * Close the guest's socket. After a time limit, first show the stall as
 * it is: the guest's sockets, and (SIGUSR1) the host side's counters.
 */
static void cli_close(const struct server *s, int fd)
{
	if (timed_out()) {
		if (s->fam == FAM_HYPERV)
			dump_proc();
		fflush(stdout);
		if (s->hv_host && s->pid > 0) {
			kill(s->pid, SIGUSR1);
			usleep(500000);
		}
	}
	close(fd);
}

static int send_req(int fd, enum op op, unsigned int size, __u64 count)
{
	struct req r = {
		.magic = HDR_MAGIC,
		.op = op,
		.size = size,
		.count = count,
	};

	return write_full(fd, &r, sizeof(r));
}

/* Guest -> host: MiB/s, once the host confirmed every byte. */
static int run_tx(const struct server *s, const struct opts *o,
		  unsigned int size, double *value)
{
	__u64 left = o->bytes, count = 0;
	long long got;
	double t0, t1;
	int fd, err;

	fd = cli_connect(s);
	if (fd < 0)
		return fd;
	err = send_req(fd, OP_SINK, size, o->bytes);
	t0 = now();
	while (!err && left) {
		size_t n = left < size ? left : size;

		err = write_full(fd, buf, n);
		left -= n;
	}
	if (!err && shutdown(fd, SHUT_WR))
		err = -errno;
	if (!err) {
		err = read_full(fd, &count, sizeof(count));
		err = err < 0 ? err : err && count == o->bytes ? 0 : -EPROTO;
	}
	if (!err) {
		got = drain(fd, size);
		if (got < 0)
			err = got;
	}
	t1 = now();
	cli_close(s, fd);
	if (!err)
		*value = o->bytes / (t1 - t0) / (1 << 20);
	return err;
}

/* Host -> guest: MiB/s. */
static int run_rx(const struct server *s, const struct opts *o,
		  unsigned int size, double *value)
{
	long long got = 0;
	double t0, t1;
	int fd, err;

	fd = cli_connect(s);
	if (fd < 0)
		return fd;
	t0 = now();
	err = send_req(fd, OP_SOURCE, size, o->bytes);
	if (!err && shutdown(fd, SHUT_WR))
		err = -errno;
	if (!err) {
		got = drain(fd, size);
		if (got < 0)
			err = got;
		else if ((__u64)got != o->bytes)
			err = -EPROTO;
	}
	t1 = now();
	cli_close(s, fd);
	if (!err)
		*value = o->bytes / (t1 - t0) / (1 << 20);
	return err;
}

/* Send our end of stream and read the host's: a clean close. */
static int half_close_drain(int fd)
{
	long long got;

	if (shutdown(fd, SHUT_WR))
		return -errno;
	got = drain(fd, 64);
	return got < 0 ? (int)got : 0;
}

/* 1-byte round trips: p50 and p99 in microseconds. */
static int run_rtt(const struct server *s, const struct opts *o,
		   double *p50, double *p99)
{
	double *v = calloc(o->iters, sizeof(*v));
	unsigned int i;
	unsigned char c = 'x';
	int fd, err;

	if (!v)
		return -ENOMEM;
	fd = cli_connect(s);
	if (fd < 0) {
		free(v);
		return fd;
	}
	err = send_req(fd, OP_ECHO, 1, o->iters);
	for (i = 0; !err && i < o->iters; i++) {
		double t0 = now();

		err = write_full(fd, &c, 1);
		if (!err) {
			err = read_full(fd, &c, 1);
			err = err == 1 ? 0 : err ? err : -EPIPE;
		}
		v[i] = (now() - t0) * 1e6;
	}
	if (!err)
		err = half_close_drain(fd);
	cli_close(s, fd);
	if (!err) {
		qsort(v, o->iters, sizeof(*v), cmp_double);
		*p50 = percentile(v, o->iters, 50);
		*p99 = percentile(v, o->iters, 99);
	}
	free(v);
	return err;
}

/* connect + shutdown + the host's end of stream + close: conn/s. */
static int run_conn(const struct server *s, const struct opts *o,
		    double *value)
{
	double t0 = now();
	unsigned int i;
	int err = 0;

	for (i = 0; !err && i < o->conns; i++) {
		int fd = cli_connect(s);

		if (fd < 0)
			return fd;
		err = half_close_drain(fd);
		cli_close(s, fd);
	}
	if (!err)
		*value = o->conns / (now() - t0);
	return err;
}

/* The counters the mem measure compares, in KiB. */
struct meminfo {
	long long free;
	long long slab;
	long long vmalloc;
};

/*
 * Free memory: the free pages of every zone plus those parked on the
 * per-CPU free lists, which MemFree leaves out (they come and go in
 * batches and would blur a delta of a few MiB).
 */
static int read_free(long long *kib)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	long long pages = 0, v;
	char line[256];
	int found = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " nr_free_pages %lld", &v) == 1) {
			pages += v;
			found = 1;
		} else if (sscanf(line, " count: %lld", &v) == 1) {
			pages += v;
		}
	}
	fclose(f);
	*kib = pages * (sysconf(_SC_PAGESIZE) / 1024);
	return found ? 0 : -ENOENT;
}

static int read_meminfo(struct meminfo *m)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	int found = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %lld", &m->slab) == 1 ||
		    sscanf(line, "VmallocUsed: %lld", &m->vmalloc) == 1)
			found++;
	}
	fclose(f);
	if (found != 2)
		return -ENOENT;
	return read_free(&m->free);
}

/*
 * Let the teardown of earlier connections finish (channels are released
 * and memory freed asynchronously): wait until the simulator's channel
 * count is stable, at most 10 s, then a little more for deferred frees.
 */
static void settle(bool hv_host)
{
	long long last = -2, n;
	int i;

	for (i = 0; hv_host && i < 50; i++) {
		n = hvperf_host_channels();
		if (n == last)
			break;
		last = n;
		usleep(200000);
	}
	usleep(500000);
}

/*
 * Entries of a /proc/net table (one header line) whose state, the
 * hexadecimal field after the two addresses, is not one of @skip (a
 * NUL-terminated list); -1 if the table cannot be read. For
 * /proc/net/hv_sock every socket counts (@state_field 0).
 */
static long proc_net_busy(const char *path, int state_field,
			  const unsigned int *skip)
{
	FILE *f = fopen(path, "r");
	char line[512];
	long n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned int st, i;
		char *p = line;
		int field;

		if (n++ < 0 || !state_field)
			continue;
		/* tcp: "sl local rem st ...": the 4th field */
		for (field = 0; field < state_field && p; field++) {
			p += strspn(p, " ");
			p = strchr(p, ' ');
		}
		if (!p || sscanf(p, " %x", &st) != 1)
			continue;
		for (i = 0; skip[i] && skip[i] != st; i++)
			;
		if (skip[i])
			n--;
	}
	fclose(f);
	return n;
}

/*
 * -Q: wait, at most 30 s, until nothing of the previous measurement is
 * still closing: the simulated host knows no channel (each AF_HYPERV and
 * vsock-hv connection is one; listeners are none), /proc/net/hv_sock
 * lists no socket (the guest side never listens), and TCP has nothing but
 * listeners and TIME_WAIT minisockets, which cost nothing until they
 * expire. Then 100 ms for RCU callbacks and deferred frees. A teardown
 * that overlaps the next measurement is what made figures collapse after
 * the memory test. Says so on a '#' line if the system never got quiet.
 */
static void quiesce(void)
{
	/* TCP_LISTEN, TCP_TIME_WAIT */
	static const unsigned int tcp_skip[] = { 0x0a, 0x06, 0 };
	static const unsigned int none[] = { 0 };
	long long ch = 0;
	long hv = 0, tcp = 0, tcp6 = 0;
	int i;

	for (i = 0; i < 300; i++) {
		ch = hvperf_host_channels();
		hv = proc_net_busy("/proc/net/hv_sock", 0, none);
		tcp = proc_net_busy("/proc/net/tcp", 3, tcp_skip);
		tcp6 = proc_net_busy("/proc/net/tcp6", 3, tcp_skip);
		if (ch <= 0 && hv <= 0 && tcp <= 0 && tcp6 <= 0)
			break;
		usleep(100000);
	}
	if (i == 300) {
		printf("# not quiet after 30 s: channels %lld, hv_sock %ld, tcp %ld\n",
		       ch, hv, tcp + tcp6);
		fflush(stdout);
	}
	usleep(100000);
}

/*
 * Memory per idle connection: o->idle connections open at once, the
 * kernel's growth in KiB per connection (total, slab, vmalloc).
 */
static int run_mem(enum fam_id fam, const struct opts *o, double v[3])
{
	unsigned int n = o->idle, i, opened = 0;
	struct rlimit rl;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct meminfo m0, m1;
	const char *what = "";
	struct server s;
	int *g, *h;
	int lfd, err = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur < 2 * n + 64) {
		rl.rlim_cur = 2 * n + 64;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return -errno;
	}
	/* grow the fd table now, not between the two snapshots */
	if (dup2(STDERR_FILENO, rl.rlim_cur - 1) < 0)
		return -errno;
	close(rl.rlim_cur - 1);
	g = calloc(2 * n, sizeof(*g));
	if (!g)
		return -ENOMEM;
	h = g + n;
	lfd = server_listen(&s, fam, true, &what);
	if (lfd < 0) {
		free(g);
		return lfd;
	}
	settle(s.hv_host);
	err = read_meminfo(&m0);
	for (i = 0; !err && i < n; i++) {
		g[i] = cli_connect(&s);
		if (g[i] < 0) {
			err = g[i];
			break;
		}
		h[i] = srv_accept(lfd, s.hv_host);
		if (h[i] < 0) {
			err = h[i];
			close(g[i]);
			break;
		}
		opened++;
	}
	if (!err) {
		/* offers, opens and their work items complete */
		usleep(500000);
		err = read_meminfo(&m1);
	}
	if (!err) {
		v[0] = (double)(m0.free - m1.free) / n;
		v[1] = (double)(m1.slab - m0.slab) / n;
		v[2] = (double)(m1.vmalloc - m0.vmalloc) / n;
	}
	for (i = 0; i < opened; i++) {
		/* no TIME_WAIT left behind for the next measurement */
		if (s.domain == AF_INET)
			setsockopt(g[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(g[i]);
	}
	for (i = 0; i < opened; i++)
		close(h[i]);
	close(lfd);
	free(g);
	settle(s.hv_host);
	return err;
}

/* ---------------------------------------------------------------- driver */

static void on_alarm(int sig)
{
	(void)sig;
	set_timed_out(true);
	alarm(1);
}

static void report(enum fam_id f, unsigned int row, const char *measure,
		   unsigned int size, double value, const char *unit)
{
	printf("%s,%s,%u,%.3f,%s\n", fam_names[f], measure, size, value, unit);
	fflush(stdout);
	results[f][row].done = true;
	results[f][row].value = value;
	if (!row_names[row][0]) {
		if (size > 1)
			snprintf(row_names[row], sizeof(row_names[row]),
				 "%s %u%s", measure,
				 size >= (1 << 20) ? size >> 20 :
				 size >= 1024 ? size >> 10 : size,
				 size >= (1 << 20) ? "M" : size >= 1024 ? "K" : "");
		else
			snprintf(row_names[row], sizeof(row_names[row]), "%s",
				 measure);
		row_units[row] = unit;
	}
}

/*
 * Report a failed measurement. The host side may be stuck in it: start it
 * afresh, or every later measurement would wait for the time limit too.
 */
static int failed(struct server *s, const char *measure, unsigned int size,
		  int err)
{
	const char *what = "";

	printf("# %s %s %u: FAILED: %s\n", fam_names[s->fam], measure, size,
	       timed_out() ? "time limit exceeded" : strerror(-err));
	fflush(stdout);
	alarm(0);
	server_stop(s);
	err = server_start(s, s->fam, &what);
	if (err) {
		printf("# %s: host side lost: %s: %s\n", fam_names[s->fam],
		       what, strerror(-err));
		fflush(stdout);
	}
	return 1;
}

/*
 * A measurement that outlived its time limit failed, even if the signal
 * got a stuck call going again.
 */
static int check_limit(int err)
{
	return !err && timed_out() ? -ETIMEDOUT : err;
}

/* Start a measurement: quiet system first (-Q), then its time limit. */
static void arm(const struct opts *o)
{
	if (o->quiesce)
		quiesce();
	set_timed_out(false);
	alarm(o->limit_s);
}

static int run_family(enum fam_id f, const struct opts *o)
{
	const char *what = "";
	struct server s;
	double v, v2;
	unsigned int i;
	int err, rc = 0;

	err = server_start(&s, f, &what);
	if (err) {
		printf("# %s: unavailable: %s: %s\n", fam_names[f], what,
		       strerror(-err));
		fflush(stdout);
		/* a failure only for the families asked for by name */
		return o->fams_given;
	}
	/* first, while no earlier measurement's memory is being freed */
	if (o->measure[M_MEM]) {
		double m[3] = { 0 };

		/* setup and teardown of IDLE connections: more time */
		if (o->quiesce)
			quiesce();
		set_timed_out(false);
		alarm(o->limit_s + 30 + o->idle / 8);
		err = check_limit(run_mem(f, o, m));
		if (err) {
			rc |= failed(&s, "mem", o->idle, err);
		} else {
			report(f, ROW_MEM, "mem_total", 0, m[0], "KiB/conn");
			report(f, ROW_MEM + 1, "mem_slab", 0, m[1], "KiB/conn");
			report(f, ROW_MEM + 2, "mem_vmalloc", 0, m[2],
			       "KiB/conn");
		}
	}
	for (i = 0; o->measure[M_TX] && i < o->nr_sizes; i++) {
		arm(o);
		err = check_limit(run_tx(&s, o, o->sizes[i], &v));
		if (err)
			rc |= failed(&s, "tx", o->sizes[i], err);
		else
			report(f, i, "tx", o->sizes[i], v, "MiB/s");
	}
	for (i = 0; o->measure[M_RX] && i < o->nr_sizes; i++) {
		arm(o);
		err = check_limit(run_rx(&s, o, o->sizes[i], &v));
		if (err)
			rc |= failed(&s, "rx", o->sizes[i], err);
		else
			report(f, MAX_SIZES + i, "rx", o->sizes[i], v, "MiB/s");
	}
	if (o->measure[M_RTT]) {
		arm(o);
		err = check_limit(run_rtt(&s, o, &v, &v2));
		if (err) {
			rc |= failed(&s, "rtt", 1, err);
		} else {
			report(f, 2 * MAX_SIZES, "rtt_p50", 1, v, "us");
			report(f, 2 * MAX_SIZES + 1, "rtt_p99", 1, v2, "us");
		}
	}
	if (o->measure[M_CONN]) {
		arm(o);
		err = check_limit(run_conn(&s, o, &v));
		if (err)
			rc |= failed(&s, "conn", 0, err);
		else
			report(f, 2 * MAX_SIZES + 2, "conn_rate", 0, v, "conn/s");
	}
	alarm(0);
	server_stop(&s);
	return rc;
}

static void print_table(const struct opts *o)
{
	unsigned int r;
	int f;

	printf("#\n# %-12s %-7s", "measure", "unit");
	for (f = 0; f < NR_FAMS; f++)
		if (o->fam[f])
			printf(" %10s", fam_names[f]);
	printf("\n");
	for (r = 0; r < NR_ROWS; r++) {
		if (!row_names[r][0])
			continue;
		printf("# %-12s %-7s", row_names[r], row_units[r]);
		for (f = 0; f < NR_FAMS; f++) {
			if (!o->fam[f])
				continue;
			if (results[f][r].done)
				printf(" %10.1f", results[f][r].value);
			else
				printf(" %10s", "-");
		}
		printf("\n");
	}
}

/* ---------------------------------------------------------------- options */

static void print_help(void)
{
	printf("usage: hvperf [-F FAMILIES] [-m MEASURES] [-s SIZES] [-b BYTES]\n"
	       "              [-i ITERS] [-c CONNS] [-n IDLE] [-T SECS]\n"
	       "              [-B BUF] [-P GCPU,HCPU] [-Q] [-q]\n"
	       "\n"
	       "  -F  families, comma-separated (default: all that are\n"
	       "      available here):\n"
	       "      hyperv, vsock-hv, vsock-lo, unix, tcp\n"
	       "  -m  measures, comma-separated (default tx,rx,rtt,conn):\n"
	       "      tx, rx, rtt, conn, mem\n"
	       "  -s  write sizes for tx and rx (default 4K,64K,1M; at most 4M)\n"
	       "  -b  bytes per throughput figure (default 16M, at most 64G)\n"
	       "  -i  ping-pong round trips (default 1000, at most 10000000)\n"
	       "  -c  connections for the conn rate (default 100)\n"
	       "  -n  idle connections open at once for mem (default 1024)\n"
	       "  -T  time limit of each measurement in seconds (default 120;\n"
	       "      mem: 30 s more and 1 s per 8 idle connections)\n"
	       "  -B  SO_SNDBUF and SO_RCVBUF of the guest's hyperv and\n"
	       "      vsock-hv sockets before connect(): on a VMBus 5.0+ host\n"
	       "      they size the rings (the kernel doubles the value)\n"
	       "  -P  pin the guest side to CPU GCPU, the host side to HCPU\n"
	       "  -Q  before each measurement, wait until the previous one's\n"
	       "      connections and channels are gone\n"
	       "  -q  CSV only, no table\n"
	       "\n"
	       "Prints family,measure,size,value,unit lines, then a table on\n"
	       "'#' lines. Throughput in MiB/s, latency in microseconds,\n"
	       "memory in KiB per connection.\n");
}

/* A decimal number, with a K, M or G suffix (powers of 1024) if @units. */
static int parse_number(const char *s, bool units, __u64 *v)
{
	static const char suffix[] = "kmg";
	unsigned long long n;
	unsigned int shift = 0;
	const char *u;
	char *end;

	if (*s < '0' || *s > '9')	/* strtoull() takes signs and spaces */
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -1;
	u = *end ? strchr(suffix, tolower((unsigned char)*end)) : NULL;
	if (units && u) {
		shift = 10 * (u - suffix + 1);
		end++;
	}
	if (*end || n > ULLONG_MAX >> shift)
		return -1;
	*v = n << shift;
	return 0;
}

/* Comma-separated names into flags; -1 on an unknown name. */
static int parse_names(char *list, const char * const *names, unsigned int nr,
		       bool *flags)
{
	char *tok, *save = NULL;
	unsigned int i;

	memset(flags, 0, nr * sizeof(*flags));
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < nr; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == nr) {
			fprintf(stderr, "hvperf: unknown name '%s'; one of", tok);
			for (i = 0; i < nr; i++)
				fprintf(stderr, "%s %s", i ? "," : "", names[i]);
			fprintf(stderr, "\n");
			return -1;
		}
		flags[i] = true;
	}
	for (i = 0; i < nr; i++)
		if (flags[i])
			return 0;
	fprintf(stderr, "hvperf: empty list\n");
	return -1;
}

static int parse_sizes(char *list, struct opts *o)
{
	char *tok, *save = NULL;
	__u64 v;

	o->nr_sizes = 0;
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->nr_sizes == MAX_SIZES || parse_number(tok, true, &v) || !v ||
		    v > MAX_BUF) {
			fprintf(stderr, "hvperf: bad size '%s' (1 to 4M, at most %d)\n",
				tok, MAX_SIZES);
			return -1;
		}
		o->sizes[o->nr_sizes++] = v;
	}
	return o->nr_sizes ? 0 : -1;
}

static int parse_count(const char *s, unsigned int *out)
{
	__u64 v;

	if (parse_number(s, false, &v) || !v || v > 10000000ULL) {
		fprintf(stderr, "hvperf: bad count '%s'\n", s);
		return -1;
	}
	*out = v;
	return 0;
}

/* -P GCPU,HCPU */
static int parse_pin(const char *arg, struct opts *o)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int g, h;
	char end;

	if (sscanf(arg, "%u,%u%c", &g, &h, &end) != 2 || g >= ncpu ||
	    h >= ncpu || g >= CPU_SETSIZE || h >= CPU_SETSIZE) {
		fprintf(stderr, "hvperf: bad placement '%s' (GCPU,HCPU, CPUs 0 to %ld)\n",
			arg, ncpu - 1);
		return -1;
	}
	o->pin_guest = g;
	o->pin_host = h;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.sizes = { 4096, 65536, 1 << 20 },
		.nr_sizes = 3,
		.bytes = 16 << 20,
		.iters = 1000,
		.conns = 100,
		.idle = 1024,
		.limit_s = 120,
		.pin_guest = -1,
		.pin_host = -1,
	};
	struct sigaction sa = { .sa_handler = on_alarm };
	int c, f, rc = 0;

	for (f = 0; f < NR_FAMS; f++)
		o.fam[f] = true;
	for (f = 0; f < NR_MEASURES; f++)
		o.measure[f] = f != M_MEM;

	while ((c = getopt(argc, argv, "F:m:s:b:i:c:n:T:B:P:Qqh")) != -1) {
		switch (c) {
		case 'F':
			if (parse_names(optarg, fam_names, NR_FAMS, o.fam))
				return EXIT_USAGE;
			o.fams_given = true;
			break;
		case 'm':
			if (parse_names(optarg, measure_names, NR_MEASURES,
					o.measure))
				return EXIT_USAGE;
			break;
		case 's':
			if (parse_sizes(optarg, &o))
				return EXIT_USAGE;
			break;
		case 'b':
			if (parse_number(optarg, true, &o.bytes) || !o.bytes ||
			    o.bytes > MAX_BYTES) {
				fprintf(stderr, "hvperf: bad byte count '%s' (1 to 64G)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'i':
			if (parse_count(optarg, &o.iters))
				return EXIT_USAGE;
			break;
		case 'c':
			if (parse_count(optarg, &o.conns))
				return EXIT_USAGE;
			break;
		case 'n':
			if (parse_count(optarg, &o.idle) || o.idle > 65536) {
				fprintf(stderr, "hvperf: at most 65536 idle connections\n");
				return EXIT_USAGE;
			}
			break;
		case 'T':
			if (parse_count(optarg, &o.limit_s))
				return EXIT_USAGE;
			break;
		case 'B': {
			__u64 v;

			if (parse_number(optarg, true, &v) || !v ||
			    v > INT_MAX / 2) {
				fprintf(stderr, "hvperf: bad buffer size '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			hv_sockbuf = v;
			break;
		}
		case 'P':
			if (parse_pin(optarg, &o))
				return EXIT_USAGE;
			break;
		case 'Q':
			o.quiesce = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			print_help();
			return 0;
		default:
			fprintf(stderr, "Try 'hvperf -h' for help.\n");
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "hvperf: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}

	buf = malloc(MAX_BUF);
	if (!buf) {
		perror("hvperf");
		return EXIT_FAIL;
	}
	memset(buf, 0x5a, MAX_BUF);
	if (o.pin_guest >= 0) {
		int err = pin_to(o.pin_guest);

		if (err) {
			fprintf(stderr, "hvperf: guest side on CPU %d: %s\n",
				o.pin_guest, strerror(-err));
			return EXIT_FAIL;
		}
		pin_host_cpu = o.pin_host;
	}
	signal(SIGPIPE, SIG_IGN);
	/* no SA_RESTART: the time limit interrupts blocked calls */
	sigaction(SIGALRM, &sa, NULL);

	printf("family,measure,size,value,unit\n");
	for (f = 0; f < NR_FAMS; f++) {
		if (o.fam[f])
			rc |= run_family(f, &o);
	}
	if (!o.quiet)
		print_table(&o);
	return rc ? EXIT_FAIL : 0;
}
