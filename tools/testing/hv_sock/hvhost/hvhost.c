// SPDX-License-Identifier: GPL-2.0-only
/*
 * hvhost: the Windows host's end of hvsock connections, played through the
 * simulated Hyper-V host (/dev/hvsim, see vmbus_sim/hvsim.h).
 *
 *   hvhost [options] listen  SERVICE [MODE]   accept guest connections
 *   hvhost [options] connect SERVICE [MODE]   connect to a guest service
 *
 * and, for the guest side of tests, the same modes over AF_VSOCK:
 *
 *   hvhost [options] vsock-listen  PORT [MODE]
 *   hvhost [options] vsock-connect PORT [MODE]   (to the host, CID 2)
 *
 * SERVICE is a GUID (8-4-4-4-12) or a decimal vsock port N, meaning
 * N-facb-11e6-bd58-64006a7986d3 (hv_guid_from_vsock_port()).
 *
 * MODE is one of
 *   pipe        stdin to the peer, the peer to stdout; EOF on stdin sends
 *               the FIN (half-close); ends when both directions ended
 *   echo        send back what arrives; FIN after the peer's FIN
 *   sink        read until the peer's FIN, then send the FIN
 *   source N    send N bytes of deterministic pseudo-random data, then the
 *               FIN, and read until the peer's FIN
 *   duplex N    source and sink at the same time
 * (default pipe). N takes the suffixes k, M, G (powers of 1024).
 *
 * After each connection one line goes to stdout (stderr in pipe mode):
 *   HVHOST conn=1 guest=<guid> host=<guid> sent=<bytes> sent_fnv=0x<16 hex>
 *          recv=<bytes> recv_fnv=0x<16 hex> status=ok|<error>
 * (one line), where *_fnv is FNV-1a 64 of the bytes in that direction.
 * The data of "source N" is xorshift64* seeded with -s SEED (default 1),
 * the low byte of each output: the same N and SEED always give the same
 * bytes and checksum, in hvhost and in any reimplementation.
 *
 *   hvhost config [KEY=VALUE...]
 *
 * changes the given settings of the simulated host (struct hvsim_config:
 * personality=ws2016|modern, mtu, offer_delay_ms, open_timeout_ms,
 * ignore_connects, fail_opens; counts take "forever"), then prints them and
 * the global counters as two lines, "HVSIM key=value..." and
 * "HVSIM_STATS key=value...".
 *
 * Options:
 *   -n COUNT  listen: serve COUNT connections, one after the other
 *             (default 1, 0 = forever)
 *   -t MS     connect: how long the guest may take to open (default: the
 *             simulator's open timeout)
 *   -s SEED   seed of the source data (default 1)
 *   -q        no per-connection line
 *
 * Exit status: 0 if every connection ended cleanly, 1 otherwise, 2 on
 * usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "hv_guid_text.h"
#include "hvsim.h"

#ifndef fallthrough
#define fallthrough	__attribute__((__fallthrough__))
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define BUF_SIZE	65536
#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

enum mode { MODE_PIPE, MODE_ECHO, MODE_SINK, MODE_SOURCE, MODE_DUPLEX };

struct opts {
	enum mode mode;
	__u64 count_bytes;
	unsigned int conns;
	unsigned int timeout_ms;
	__u64 seed;
	bool quiet;
};

/* One connection being served. */
struct xfer {
	int fd;
	bool hvsim;
	const struct opts *o;
	/* transmit side */
	unsigned char tx[BUF_SIZE];
	size_t tx_len, tx_off;
	__u64 gen_left, rng;
	bool tx_done;		/* nothing more to send */
	bool fin_sent;
	bool stdin_eof;
	/* receive side */
	bool rx_eof;
	/* results */
	__u64 sent, recvd, sent_fnv, recv_fnv;
	int err;
};

static void fnv1a(__u64 *h, const unsigned char *p, size_t n)
{
	while (n--) {
		*h ^= *p++;
		*h *= FNV_PRIME;
	}
}

static unsigned char rng_byte(__u64 *s)
{
	__u64 x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (unsigned char)(x * 0x2545f4914f6cdd1dULL);
}

/* ---------------------------------------------------------------- GUIDs */

/* "N" or a GUID text (hv_guid_parse()) into the Windows in-memory layout. */
static int parse_service(const char *s, __u8 g[16])
{
	char why[128];

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		unsigned long port = strtoul(s, NULL, 10);

		if (port > 0xffffffffUL)
			return -1;
		hv_guid_from_vsock_port(g, port);
		return 0;
	}
	return hv_guid_parse(s, g, why, sizeof(why));
}

static int parse_size(const char *s, __u64 *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'G':
		n <<= 10;
		fallthrough;
	case 'M':
		n <<= 10;
		fallthrough;
	case 'k':
	case 'K':
		n <<= 10;
		end++;
		break;
	}
	if (*end)
		return -1;
	*v = n;
	return 0;
}

/* ---------------------------------------------------------------- transfer */

static bool wants_source(const struct opts *o)
{
	return o->mode == MODE_SOURCE || o->mode == MODE_DUPLEX;
}

static void xfer_init(struct xfer *x, int fd, bool hvsim, const struct opts *o)
{
	memset(x, 0, sizeof(*x));
	x->fd = fd;
	x->hvsim = hvsim;
	x->o = o;
	x->rng = o->seed ? o->seed : 1;
	x->gen_left = wants_source(o) ? o->count_bytes : 0;
	x->sent_fnv = FNV_OFFSET;
	x->recv_fnv = FNV_OFFSET;
	/* source 0 has nothing to send; sink and echo end at the peer's FIN */
	x->tx_done = wants_source(o) && !o->count_bytes;
}

static void xfer_generate(struct xfer *x)
{
	size_t n = x->gen_left < BUF_SIZE ? x->gen_left : BUF_SIZE;

	for (size_t i = 0; i < n; i++)
		x->tx[i] = rng_byte(&x->rng);
	x->tx_len = n;
	x->tx_off = 0;
	x->gen_left -= n;
	if (!x->gen_left)
		x->tx_done = true;
}

static int send_fin(struct xfer *x)
{
	int ret;

	if (x->hvsim)
		ret = ioctl(x->fd, HVSIM_IOC_SHUTDOWN);
	else
		ret = shutdown(x->fd, SHUT_WR);
	if (ret && errno == EAGAIN)
		return 0;
	if (ret)
		return -errno;
	x->fin_sent = true;
	return 0;
}

static int do_send(struct xfer *x)
{
	ssize_t n = write(x->fd, x->tx + x->tx_off, x->tx_len - x->tx_off);

	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	fnv1a(&x->sent_fnv, x->tx + x->tx_off, n);
	x->sent += n;
	x->tx_off += n;
	if (x->tx_off == x->tx_len) {
		x->tx_len = 0;
		x->tx_off = 0;
	}
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= w;
	}
	return 0;
}

static int do_recv(struct xfer *x)
{
	static unsigned char buf[BUF_SIZE];
	unsigned char *dst = x->o->mode == MODE_ECHO ? x->tx : buf;
	ssize_t n = read(x->fd, dst, BUF_SIZE);

	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n == 0) {
		x->rx_eof = true;
		if (x->o->mode == MODE_ECHO || x->o->mode == MODE_SINK)
			x->tx_done = true;
		return 0;
	}
	fnv1a(&x->recv_fnv, dst, n);
	x->recvd += n;
	if (x->o->mode == MODE_ECHO) {
		x->tx_len = n;
		x->tx_off = 0;
	} else if (x->o->mode == MODE_PIPE) {
		return write_all(STDOUT_FILENO, dst, n);
	}
	return 0;
}

static int do_stdin(struct xfer *x)
{
	ssize_t n = read(STDIN_FILENO, x->tx, BUF_SIZE);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0) {
		x->stdin_eof = true;
		x->tx_done = true;
		return 0;
	}
	x->tx_len = n;
	x->tx_off = 0;
	return 0;
}

/* Set up the poll set for the next round; false when the transfer is over. */
static bool xfer_plan(struct xfer *x, struct pollfd *p, int *np)
{
	bool pipe = x->o->mode == MODE_PIPE;

	if (!x->tx_len && !x->tx_done && wants_source(x->o))
		xfer_generate(x);

	p[0].fd = x->fd;
	p[0].events = 0;
	*np = 1;
	/* echo reads only when what it read before went out */
	if (!x->rx_eof && !(x->o->mode == MODE_ECHO && x->tx_len))
		p[0].events |= POLLIN;
	if (x->tx_len || (x->tx_done && !x->fin_sent))
		p[0].events |= POLLOUT;
	if (pipe && !x->tx_len && !x->stdin_eof) {
		p[1].fd = STDIN_FILENO;
		p[1].events = POLLIN;
		*np = 2;
	}
	return !(x->rx_eof && x->fin_sent);
}

static int xfer_step(struct xfer *x, struct pollfd *p, int np)
{
	int ret = 0;

	if (poll(p, np, -1) < 0)
		return errno == EINTR ? 0 : -errno;

	if (np > 1 && p[1].revents)
		ret = do_stdin(x);
	if (!ret && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
	    (p[0].events & POLLIN))
		ret = do_recv(x);
	if (!ret && (p[0].revents & (POLLOUT | POLLHUP | POLLERR)) &&
	    (p[0].events & POLLOUT)) {
		if (x->tx_len)
			ret = do_send(x);
		else if (x->tx_done && !x->fin_sent)
			ret = send_fin(x);
	}
	return ret;
}

static void xfer_run(struct xfer *x)
{
	struct pollfd p[2];
	int np;

	fcntl(x->fd, F_SETFL, fcntl(x->fd, F_GETFL) | O_NONBLOCK);
	while (!x->err && xfer_plan(x, p, &np))
		x->err = xfer_step(x, p, np);
}

static void report(const struct xfer *x, unsigned int n, const __u8 *guest,
		   const __u8 *host)
{
	FILE *out = x->o->mode == MODE_PIPE ? stderr : stdout;
	char g[HV_GUID_TEXT_LEN] = "-", h[HV_GUID_TEXT_LEN] = "-";

	if (x->o->quiet)
		return;
	if (guest)
		hv_guid_format(guest, g);
	if (host)
		hv_guid_format(host, h);
	fprintf(out,
		"HVHOST conn=%u guest=%s host=%s sent=%llu sent_fnv=0x%016llx recv=%llu recv_fnv=0x%016llx status=%s\n",
		n, g, h, (unsigned long long)x->sent,
		(unsigned long long)x->sent_fnv,
		(unsigned long long)x->recvd,
		(unsigned long long)x->recv_fnv,
		x->err ? strerror(-x->err) : "ok");
	fflush(out);
}

/* ---------------------------------------------------------------- hvsim */

static int open_hvsim(void)
{
	int fd = open(HVSIM_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "hvhost: %s: %s\n", HVSIM_DEVICE_PATH,
			strerror(errno));
	return fd;
}

static int serve(int fd, bool hvsim, const struct opts *o, unsigned int n,
		 const __u8 *guest, const __u8 *host)
{
	static struct xfer x;

	xfer_init(&x, fd, hvsim, o);
	xfer_run(&x);
	report(&x, n, guest, host);
	close(fd);
	return x.err ? 1 : 0;
}

static int hv_listen(const __u8 service[16], const struct opts *o)
{
	struct hvsim_listen l = { .backlog = 16 };
	int lfd, rc = 0;
	unsigned int n;

	lfd = open_hvsim();
	if (lfd < 0)
		return 1;
	memcpy(l.service_id, service, 16);
	if (ioctl(lfd, HVSIM_IOC_LISTEN, &l)) {
		perror("hvhost: listen");
		return 1;
	}
	for (n = 1; !o->conns || n <= o->conns; n++) {
		struct hvsim_accept a = { .flags = HVSIM_FD_CLOEXEC };

		if (ioctl(lfd, HVSIM_IOC_ACCEPT, &a)) {
			perror("hvhost: accept");
			rc = 1;
			break;
		}
		rc |= serve(a.fd, true, o, n, a.guest_service_id,
			    a.host_service_id);
	}
	close(lfd);
	return rc;
}

static int hv_connect(const __u8 service[16], const struct opts *o)
{
	struct hvsim_connect c = { .timeout_ms = o->timeout_ms };
	int fd;

	fd = open_hvsim();
	if (fd < 0)
		return 1;
	memcpy(c.service_id, service, 16);
	if (ioctl(fd, HVSIM_IOC_CONNECT, &c)) {
		fprintf(stderr, "hvhost: connect: %s\n", strerror(errno));
		return 1;
	}
	return serve(fd, true, o, 1, c.service_id, c.host_service_id);
}

/* ---------------------------------------------------------------- vsock */

static int vs_listen(unsigned int port, const struct opts *o)
{
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	int lfd, fd, rc = 0;
	unsigned int n;

	lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 16)) {
		perror("hvhost: vsock listen");
		return 1;
	}
	/* For scripts that wait until the listener is there. */
	fprintf(stderr, "hvhost: vsock listening on port %u\n", port);
	for (n = 1; !o->conns || n <= o->conns; n++) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			perror("hvhost: vsock accept");
			rc = 1;
			break;
		}
		rc |= serve(fd, false, o, n, NULL, NULL);
	}
	close(lfd);
	return rc;
}

static int vs_connect(unsigned int port, const struct opts *o)
{
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_HOST,
		.svm_port = port,
	};
	int fd;

	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "hvhost: vsock connect: %s\n", strerror(errno));
		return 1;
	}
	return serve(fd, false, o, 1, NULL, NULL);
}

/* ---------------------------------------------------------------- config */

static const char * const personalities[] = { "ws2016", "modern" };

static int parse_count(const char *v, __u32 *out)
{
	__u64 n;

	if (!strcmp(v, "forever")) {
		*out = HVSIM_FOREVER;
		return 0;
	}
	if (parse_size(v, &n) || n > 0xffffffffULL)
		return -1;
	*out = n;
	return 0;
}

/* The numeric settings of struct hvsim_config, by name. */
static const struct {
	const char *name;
	size_t off;
} cfg_keys[] = {
	{ "mtu", offsetof(struct hvsim_config, mtu) },
	{ "offer_delay_ms", offsetof(struct hvsim_config, offer_delay_ms) },
	{ "open_timeout_ms", offsetof(struct hvsim_config, open_timeout_ms) },
	{ "ignore_connects", offsetof(struct hvsim_config, ignore_connects) },
	{ "fail_opens", offsetof(struct hvsim_config, fail_opens) },
};

static __u32 *cfg_field(struct hvsim_config *cfg, size_t i)
{
	return (__u32 *)((char *)cfg + cfg_keys[i].off);
}

static int set_key(struct hvsim_config *cfg, const char *kv)
{
	const char *v = strchr(kv, '=');
	size_t klen, i;

	if (!v)
		return -1;
	klen = v++ - kv;
	if (klen == strlen("personality") && !strncmp(kv, "personality", klen)) {
		for (i = 0; i < 2; i++) {
			if (!strcmp(v, personalities[i])) {
				cfg->personality = i;
				return 0;
			}
		}
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(cfg_keys); i++) {
		if (klen == strlen(cfg_keys[i].name) &&
		    !strncmp(kv, cfg_keys[i].name, klen))
			return parse_count(v, cfg_field(cfg, i));
	}
	return -1;
}

static void print_config(struct hvsim_config *cfg)
{
	size_t i;

	printf("HVSIM personality=%s vmbus_version=%u.%u",
	       personalities[cfg->personality & 1], cfg->vmbus_version >> 16,
	       cfg->vmbus_version & 0xffff);
	for (i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		printf(" %s=%u", cfg_keys[i].name, *cfg_field(cfg, i));
	printf("\n");
}

static void print_stats(const struct hvsim_stats *st)
{
	static const char * const names[] = {
		"connect_requests", "connects_ignored", "connects_unanswered",
		"offers", "opens", "opens_refused", "rescinds", "guest_closes",
		"channels", "probes_declined",
	};
	const __u64 *v = &st->connect_requests;
	size_t i;

	printf("HVSIM_STATS");
	for (i = 0; i < ARRAY_SIZE(names); i++)
		printf(" %s=%llu", names[i], (unsigned long long)v[i]);
	printf("\n");
}

/* hvhost config [KEY=VALUE...]: change, then print, the host settings. */
static int hv_config(int argc, char **argv)
{
	struct hvsim_config cfg;
	struct hvsim_stats st;
	int fd, i;

	fd = open_hvsim();
	if (fd < 0)
		return 1;
	if (ioctl(fd, HVSIM_IOC_GET_CONFIG, &cfg)) {
		perror("hvhost: get config");
		return 1;
	}
	for (i = 0; i < argc; i++) {
		if (set_key(&cfg, argv[i])) {
			fprintf(stderr, "hvhost: bad setting '%s'\n", argv[i]);
			return 2;
		}
	}
	if (argc && ioctl(fd, HVSIM_IOC_SET_CONFIG, &cfg)) {
		perror("hvhost: set config");
		return 1;
	}
	if (ioctl(fd, HVSIM_IOC_GET_CONFIG, &cfg) ||
	    ioctl(fd, HVSIM_IOC_GET_STATS, &st)) {
		perror("hvhost: get config");
		return 1;
	}
	print_config(&cfg);
	print_stats(&st);
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- main */

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: hvhost [-n COUNT] [-t MS] [-s SEED] [-q]\n"
		"              listen|connect|vsock-listen|vsock-connect SERVICE\n"
		"              [pipe|echo|sink|source N|duplex N]\n"
		"       hvhost config [personality=ws2016|modern] [mtu=N]\n"
		"              [offer_delay_ms=N] [open_timeout_ms=N]\n"
		"              [ignore_connects=N|forever] [fail_opens=N|forever]\n");
	exit(2);
}

static void parse_mode(int argc, char **argv, struct opts *o)
{
	if (argc == 0)
		return;
	if (!strcmp(argv[0], "pipe"))
		o->mode = MODE_PIPE;
	else if (!strcmp(argv[0], "echo"))
		o->mode = MODE_ECHO;
	else if (!strcmp(argv[0], "sink"))
		o->mode = MODE_SINK;
	else if (!strcmp(argv[0], "source"))
		o->mode = MODE_SOURCE;
	else if (!strcmp(argv[0], "duplex"))
		o->mode = MODE_DUPLEX;
	else
		bad_usage();
	if (wants_source(o) &&
	    (argc != 2 || parse_size(argv[1], &o->count_bytes)))
		bad_usage();
	if (!wants_source(o) && argc != 1)
		bad_usage();
}

int main(int argc, char **argv)
{
	struct opts o = { .mode = MODE_PIPE, .conns = 1, .seed = 1 };
	const char *cmd, *svc;
	__u8 service[16];
	__u64 v;
	int c;

	while ((c = getopt(argc, argv, "+n:t:s:q")) != -1) {
		switch (c) {
		case 'n':
			o.conns = strtoul(optarg, NULL, 0);
			break;
		case 't':
			o.timeout_ms = strtoul(optarg, NULL, 0);
			break;
		case 's':
			if (parse_size(optarg, &v))
				bad_usage();
			o.seed = v;
			break;
		case 'q':
			o.quiet = true;
			break;
		default:
			bad_usage();
		}
	}
	if (argc - optind >= 1 && !strcmp(argv[optind], "config"))
		return hv_config(argc - optind - 1, argv + optind + 1);
	if (argc - optind < 2)
		bad_usage();
	cmd = argv[optind];
	svc = argv[optind + 1];
	parse_mode(argc - optind - 2, argv + optind + 2, &o);

	if (!strcmp(cmd, "vsock-listen") || !strcmp(cmd, "vsock-connect")) {
		if (parse_size(svc, &v) || v > 0xffffffffULL)
			bad_usage();
		return cmd[6] == 'l' ? vs_listen(v, &o) : vs_connect(v, &o);
	}
	if (parse_service(svc, service)) {
		fprintf(stderr, "hvhost: bad service '%s'\n", svc);
		return 2;
	}
	if (!strcmp(cmd, "listen"))
		return hv_listen(service, &o);
	if (!strcmp(cmd, "connect"))
		return hv_connect(service, &o);
	bad_usage();
	return 2;
}
