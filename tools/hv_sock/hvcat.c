// SPDX-License-Identifier: GPL-2.0-only
/*
 * hvcat: netcat for AF_HYPERV (Hyper-V sockets).
 *
 *   hvcat [-V VM] [-t SECS] [-e CMD] [-S] [-v] SERVICE     connect
 *   hvcat -l [-k] [-V VM] [-e CMD] [-S] [-v] SERVICE       listen
 *
 * Copies stdin to the socket and the socket to stdout. When stdin ends,
 * the sending side is shut down (shutdown(SHUT_WR), the hvsock FIN); hvcat
 * exits once the peer's end of stream arrived and stdin is done. With -e,
 * "sh -c CMD" is run with the socket as its stdin and stdout instead.
 *
 * SERVICE is a GUID in the 8-4-4-4-12 form (braces allowed) or a decimal
 * number N, meaning the AF_VSOCK template GUID for port N,
 * N-facb-11e6-bd58-64006a7986d3 (hv_guid_from_vsock_port()).
 *
 * VM is a GUID or one of the names wildcard (any), parent (host),
 * loopback, children, broadcast, silohost. Connect defaults to parent,
 * listen to wildcard.
 *
 * Exit status: 0 on success; 1 on a runtime error (connection refused or
 * timed out, reset, broken pipe, ...), with a message naming the error;
 * 2 on a usage error or a bad GUID.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/hv_sock.h>

#include "hv_guid_text.h"

/* AF_HYPERV is the kernel's 46; a C library may not define it yet. */
#ifndef AF_HYPERV
#define AF_HYPERV	46
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define BUF_SIZE	65536
#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

struct opts {
	bool listen;
	bool keep;
	bool stats;
	bool verbose;
	bool vm_given;
	const char *cmd;
	unsigned int timeout_ms;	/* 0: the socket's default */
	__u8 vm[16];
	__u8 service[16];
	const char *service_arg;
	const char *vm_arg;
};

/* One direction of the copy loop. */
struct pipe_buf {
	unsigned char data[BUF_SIZE];
	size_t len, off;
	bool eof;		/* the source ended */
	__u64 bytes, fnv;
};

static const char *prog = "hvcat";

static void fnv1a(__u64 *h, const unsigned char *p, size_t n)
{
	while (n--) {
		*h ^= *p++;
		*h *= FNV_PRIME;
	}
}

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: %s [-V VM] [-t SECS] [-e CMD] [-S] [-v] SERVICE\n"
		"       %s -l [-k] [-V VM] [-e CMD] [-S] [-v] SERVICE\n"
		"\n"
		"netcat for AF_HYPERV: stdin to the socket, the socket to stdout.\n"
		"\n"
		"  -l        listen for a connection from the host (bind to VM,\n"
		"            default wildcard) instead of connecting to it\n"
		"  -k        with -l: keep accepting connections, one after the\n"
		"            other (concurrently with -e)\n"
		"  -V VM     VM GUID: a GUID or wildcard, any, parent, host,\n"
		"            loopback, children, broadcast, silohost\n"
		"            (default: parent to connect, wildcard to listen)\n"
		"  -t SECS   connect timeout in seconds (decimals allowed, at\n"
		"            most 300); SOL_HYPERV HVSOCKET_CONNECT_TIMEOUT\n"
		"  -e CMD    run sh -c CMD with the socket as stdin and stdout\n"
		"  -S        print byte counts and FNV-1a 64 checksums of both\n"
		"            directions to stderr at the end of each connection\n"
		"            (not with -e: the command has the socket)\n"
		"  -v        report connections on stderr\n"
		"  -h        this help\n"
		"\n"
		"SERVICE: a GUID xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, or a\n"
		"decimal N for the vsock port template N-facb-11e6-bd58-64006a7986d3.\n"
		"\n"
		"Exit status: 0 ok, 1 connection or I/O error (with -e and\n"
		"without -k: also the command failing), 2 usage error.\n",
		prog, prog);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s -h' for help.\n", prog);
	return EXIT_USAGE;
}

/* ---------------------------------------------------------------- GUIDs */

static const struct {
	const char *name;
	__u8 guid[16];
} vm_names[] = {
	{ "wildcard", HV_GUID_WILDCARD_INIT },
	{ "any", HV_GUID_WILDCARD_INIT },
	{ "parent", HV_GUID_PARENT_INIT },
	{ "host", HV_GUID_PARENT_INIT },
	{ "loopback", HV_GUID_LOOPBACK_INIT },
	{ "children", HV_GUID_CHILDREN_INIT },
	{ "broadcast", HV_GUID_BROADCAST_INIT },
	{ "silohost", HV_GUID_SILOHOST_INIT },
};

static int parse_service(const char *s, __u8 g[16], char *why, size_t wlen)
{
	if (*s && strspn(s, "0123456789") == strlen(s)) {
		unsigned long long port;

		errno = 0;
		port = strtoull(s, NULL, 10);
		if (errno || port > 0xffffffffULL) {
			snprintf(why, wlen, "vsock port out of range (0 to 4294967295)");
			return -1;
		}
		hv_guid_from_vsock_port(g, port);
		return 0;
	}
	return hv_guid_parse(s, g, why, wlen);
}

static int parse_vm(const char *s, __u8 g[16], char *why, size_t wlen)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vm_names); i++) {
		if (!strcasecmp(s, vm_names[i].name)) {
			memcpy(g, vm_names[i].guid, 16);
			return 0;
		}
	}
	if (hv_guid_parse(s, g, why, wlen)) {
		size_t n = strlen(why);

		snprintf(why + n, wlen - n,
			 "; or a name: wildcard, any, parent, host, loopback, children, broadcast, silohost");
		return -1;
	}
	return 0;
}

static void format_addr(const struct sockaddr_hv *a, char out[80])
{
	char vm[HV_GUID_TEXT_LEN], svc[HV_GUID_TEXT_LEN];

	hv_guid_format(a->shv_vm_id, vm);
	hv_guid_format(a->shv_service_id, svc);
	snprintf(out, 80, "%s/%s", vm, svc);
}

/* "1", "2.5", ".25" seconds to milliseconds; 0 on a bad value. */
static unsigned int parse_timeout(const char *s)
{
	unsigned long long ms = 0;
	unsigned int frac = 0, scale = 100;
	const char *p = s;

	if (!*p)
		return 0;
	while (*p >= '0' && *p <= '9') {
		ms = ms * 10 + (*p++ - '0') * 1000;
		if (ms > HVSOCKET_CONNECT_TIMEOUT_MAX)
			return 0;
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9') && p - 1 == s)
			return 0;
		while (*p >= '0' && *p <= '9') {
			frac += (*p++ - '0') * scale;
			scale /= 10;
		}
	}
	if (*p)
		return 0;
	ms += frac;
	if (!ms || ms > HVSOCKET_CONNECT_TIMEOUT_MAX)
		return 0;
	return ms;
}

/* ---------------------------------------------------------------- I/O */

static int die_errno(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
	return EXIT_RUNTIME;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* stdout may be a shared non-blocking descriptor */
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, -1);
			continue;
		}
		if (w < 0)
			return -errno;
		p += w;
		n -= w;
	}
	return 0;
}

/* The pending error of socket @fd, reported; 0 if there is none. */
static int socket_error(int fd)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	return err ? die_errno("connection", err) : 0;
}

static void print_stats(const struct pipe_buf *out, const struct pipe_buf *in)
{
	fprintf(stderr,
		"HVCAT sent=%llu sent_fnv=0x%016llx recv=%llu recv_fnv=0x%016llx\n",
		(unsigned long long)out->bytes, (unsigned long long)out->fnv,
		(unsigned long long)in->bytes, (unsigned long long)in->fnv);
}

/*
 * Copy stdin to @fd and @fd to stdout until the peer's end of stream has
 * arrived and stdin has ended and been sent. The socket is non-blocking;
 * stdin and stdout are left as they are (they may be shared), so stdin is
 * read only when poll() says it is readable and stdout is written blocking.
 */
static int pump(int fd, const struct opts *o, bool use_stdin)
{
	static struct pipe_buf out, in;	/* stdin -> socket, socket -> stdout */
	bool shut = false;
	int ret = 0;

	memset(&out, 0, sizeof(out));
	memset(&in, 0, sizeof(in));
	out.fnv = FNV_OFFSET;
	in.fnv = FNV_OFFSET;
	out.eof = !use_stdin;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		return die_errno("fcntl(O_NONBLOCK)", errno);
	while (!ret && !(in.eof && shut)) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = 0 },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		int np = 1;
		ssize_t n;

		if (out.eof && !out.len && !shut) {
			if (shutdown(fd, SHUT_WR) && errno != ENOTCONN) {
				ret = die_errno("shutdown", errno);
				break;
			}
			shut = true;
			continue;
		}
		if (!in.eof)
			p[0].events |= POLLIN;
		if (out.len)
			p[0].events |= POLLOUT;
		if (!out.eof && !out.len)
			np = 2;

		if (poll(p, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = die_errno("poll", errno);
			break;
		}

		if (np == 2 && p[1].revents) {
			n = read(STDIN_FILENO, out.data, BUF_SIZE);
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				ret = die_errno("read from stdin", errno);
				break;
			}
			if (n == 0)
				out.eof = true;
			if (n > 0) {
				out.len = n;
				out.off = 0;
			}
		}

		if (!in.eof && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read(fd, in.data, BUF_SIZE);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				ret = die_errno("read from socket", errno);
				break;
			}
			if (n == 0)
				in.eof = true;
			if (n > 0) {
				int err;

				fnv1a(&in.fnv, in.data, n);
				in.bytes += n;
				err = write_all(STDOUT_FILENO, in.data, n);
				if (err) {
					ret = die_errno("write to stdout", -err);
					break;
				}
			}
		}

		/*
		 * The host's end of stream came and stdin is idle: only a
		 * hang-up (the host closed the connection) or an error can
		 * still come from the socket, and either ends the copy.
		 */
		if (in.eof && !out.len && (p[0].revents & (POLLHUP | POLLERR))) {
			ret = socket_error(fd);
			break;
		}

		if (out.len && (p[0].revents & (POLLOUT | POLLHUP | POLLERR))) {
			n = write(fd, out.data + out.off, out.len - out.off);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				ret = die_errno("write to socket", errno);
				break;
			}
			if (n > 0) {
				fnv1a(&out.fnv, out.data + out.off, n);
				out.bytes += n;
				out.off += n;
				if (out.off == out.len) {
					out.len = 0;
					out.off = 0;
				}
			}
		}
	}
	if (o->stats)
		print_stats(&out, &in);
	return ret;
}

/* Run sh -c CMD on the socket; returns the child's pid or -1. */
static pid_t spawn(int fd, const char *cmd)
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0) {
			fprintf(stderr, "%s: dup2: %s\n", prog, strerror(errno));
			_exit(127);
		}
		if (fd > STDOUT_FILENO)
			close(fd);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		fprintf(stderr, "%s: /bin/sh: %s\n", prog, strerror(errno));
		_exit(127);
	}
	return pid;
}

static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return die_errno("waitpid", errno);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "%s: command exited with status %d\n", prog,
			WEXITSTATUS(status));
	else
		fprintf(stderr, "%s: command killed by signal %d\n", prog,
			WTERMSIG(status));
	return EXIT_RUNTIME;
}

/* Serve one connection: -e command or stdin/stdout. */
static int serve(int fd, const struct opts *o, bool use_stdin)
{
	int ret;

	if (o->cmd) {
		pid_t pid = spawn(fd, o->cmd);

		close(fd);
		if (pid < 0)
			return EXIT_RUNTIME;
		return wait_child(pid);
	}
	ret = pump(fd, o, use_stdin);
	close(fd);
	return ret;
}

/* ---------------------------------------------------------------- modes */

/*
 * The address of @o in @a, its text form in @name, and a socket for it;
 * -1 after telling why there is none.
 */
static int open_socket(const struct opts *o, struct sockaddr_hv *a,
		       char name[80])
{
	int fd;

	memset(a, 0, sizeof(*a));
	a->shv_family = AF_HYPERV;
	memcpy(a->shv_vm_id, o->vm, 16);
	memcpy(a->shv_service_id, o->service, 16);
	format_addr(a, name);

	fd = socket(AF_HYPERV, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fprintf(stderr, "%s: socket(AF_HYPERV): %s%s\n", prog,
			strerror(errno), errno == EAFNOSUPPORT ?
			" (is af_hvsock.ko loaded?)" : "");
	return fd;
}

static int do_connect(const struct opts *o)
{
	struct sockaddr_hv a;
	char name[80];
	int fd;

	fd = open_socket(o, &a, name);
	if (fd < 0)
		return EXIT_RUNTIME;
	if (o->timeout_ms &&
	    setsockopt(fd, SOL_HYPERV, HVSOCKET_CONNECT_TIMEOUT,
		       &o->timeout_ms, sizeof(o->timeout_ms))) {
		int err = errno;

		close(fd);
		return die_errno("setsockopt(HVSOCKET_CONNECT_TIMEOUT)", err);
	}
	while (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = errno;

		if (err == EINTR)
			continue;
		close(fd);
		fprintf(stderr, "%s: connect to %s: %s\n", prog, name,
			strerror(err));
		return EXIT_RUNTIME;
	}
	if (o->verbose)
		fprintf(stderr, "%s: connected to %s\n", prog, name);
	return serve(fd, o, true);
}

static int do_listen(const struct opts *o)
{
	struct sockaddr_hv a;
	bool stdin_used = false;
	char name[80];
	int lfd, rc = 0;

	lfd = open_socket(o, &a, name);
	if (lfd < 0)
		return EXIT_RUNTIME;
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "%s: bind to %s: %s\n", prog, name,
			strerror(errno));
		close(lfd);
		return EXIT_RUNTIME;
	}
	if (listen(lfd, 16)) {
		rc = die_errno("listen", errno);
		close(lfd);
		return rc;
	}
	if (o->verbose)
		fprintf(stderr, "%s: listening on %s\n", prog, name);

	/* With -k and -e, commands run concurrently and are reaped here. */
	if (o->keep && o->cmd)
		signal(SIGCHLD, SIG_IGN);

	for (;;) {
		struct sockaddr_hv peer;
		socklen_t plen = sizeof(peer);
		int fd;

		fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			rc = die_errno("accept", errno);
			break;
		}
		if (o->verbose) {
			format_addr(&peer, name);
			fprintf(stderr, "%s: connection from %s\n", prog, name);
		}
		if (o->keep && o->cmd) {
			spawn(fd, o->cmd);
			close(fd);
			continue;
		}
		if (!o->keep) {
			/* As ncat: one connection, and no one else may queue. */
			close(lfd);
			return serve(fd, o, true);
		}
		/* stdin goes to the first connection only */
		serve(fd, o, !stdin_used);
		stdin_used = true;
	}
	close(lfd);
	return rc;
}

static int open_std_fds(void)
{
	int fd;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	char why[160];
	int c;

	while ((c = getopt(argc, argv, "+lkV:t:e:Svh")) != -1) {
		switch (c) {
		case 'l':
			o.listen = true;
			break;
		case 'k':
			o.keep = true;
			break;
		case 'V':
			o.vm_arg = optarg;
			o.vm_given = true;
			break;
		case 't':
			o.timeout_ms = parse_timeout(optarg);
			if (!o.timeout_ms)
				return bad_usage("bad timeout '%s': seconds, 0 < SECS <= 300",
						 optarg);
			break;
		case 'e':
			o.cmd = optarg;
			break;
		case 'S':
			o.stats = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		default:
			fprintf(stderr, "Try '%s -h' for help.\n", prog);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return bad_usage("%s", argc - optind ? "too many arguments" :
				 "missing SERVICE");
	if (o.keep && !o.listen)
		return bad_usage("%s", "-k needs -l");
	if (o.timeout_ms && o.listen)
		return bad_usage("%s", "-t applies to connect, not to -l");
	if (o.stats && o.cmd)
		return bad_usage("%s", "-S cannot count what -e's command moves");

	o.service_arg = argv[optind];
	if (parse_service(o.service_arg, o.service, why, sizeof(why))) {
		fprintf(stderr, "%s: bad service GUID '%s': %s\n", prog,
			o.service_arg, why);
		return EXIT_USAGE;
	}
	if (o.vm_given) {
		if (parse_vm(o.vm_arg, o.vm, why, sizeof(why))) {
			fprintf(stderr, "%s: bad VM GUID '%s': %s\n", prog,
				o.vm_arg, why);
			return EXIT_USAGE;
		}
	} else if (!o.listen) {
		static const __u8 parent[16] = HV_GUID_PARENT_INIT;

		memcpy(o.vm, parent, 16);
	}

	/* Broken pipes are reported as errors, not by dying silently. */
	signal(SIGPIPE, SIG_IGN);
	/* A socket must never land on a closed fd 0, 1 or 2. */
	if (open_std_fds())
		return die_errno("/dev/null", errno);
	return o.listen ? do_listen(&o) : do_connect(&o);
}
