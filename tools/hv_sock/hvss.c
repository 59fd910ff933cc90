// SPDX-License-Identifier: GPL-2.0-only
/*
 * hvss: list AF_HYPERV (Hyper-V) sockets, as ss lists TCP sockets.
 *
 *   hvss [-l | -a] [-e] [-H]
 *
 * Without options it shows the connected sockets (every state but
 * listening and closed), as ss does; -l shows only listeners, -a all
 * sockets. Columns: State, Recv-Q, Send-Q, the local and the peer service
 * GUID ("*" when there is none yet). For a listener Recv-Q is the number
 * of connections waiting for accept() and Send-Q the backlog. -e adds the
 * inode, the owner's uid, the data bytes of the receive and send rings
 * and the socket cookie. -H leaves out the header line.
 *
 * It asks the kernel through sock_diag (NETLINK_SOCK_DIAG, the
 * <linux/hv_sock_diag.h> request), which loads af_hvsock_diag on demand
 * once af_hvsock is loaded; without af_hvsock there is no socket to list.
 * /proc/net/hv_sock shows the same sockets.
 *
 * Exit status: 0 on success; 1 when the sockets could not be listed, with
 * a message (a kernel without AF_HYPERV sock_diag support among others);
 * 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/hv_sock.h>
#include <linux/hv_sock_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "hv_guid_text.h"

/* AF_HYPERV is the kernel's 46; a C library may not define it yet. */
#ifndef AF_HYPERV
#define AF_HYPERV	46
#endif

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

/* The kernel's socket states (include/net/tcp_states.h). */
enum {
	ST_ESTABLISHED = 1, ST_SYN_SENT, ST_SYN_RECV, ST_FIN_WAIT1,
	ST_FIN_WAIT2, ST_TIME_WAIT, ST_CLOSE, ST_CLOSE_WAIT, ST_LAST_ACK,
	ST_LISTEN, ST_CLOSING, ST_NEW_SYN_RECV, ST_BOUND_INACTIVE, ST_MAX
};

/* ss's names for them. */
static const char * const state_names[ST_MAX] = {
	[ST_ESTABLISHED]	= "ESTAB",
	[ST_SYN_SENT]		= "SYN-SENT",
	[ST_SYN_RECV]		= "SYN-RECV",
	[ST_FIN_WAIT1]		= "FIN-WAIT-1",
	[ST_FIN_WAIT2]		= "FIN-WAIT-2",
	[ST_TIME_WAIT]		= "TIME-WAIT",
	[ST_CLOSE]		= "UNCONN",
	[ST_CLOSE_WAIT]		= "CLOSE-WAIT",
	[ST_LAST_ACK]		= "LAST-ACK",
	[ST_LISTEN]		= "LISTEN",
	[ST_CLOSING]		= "CLOSING",
	[ST_NEW_SYN_RECV]	= "NEW-SYN-RECV",
	[ST_BOUND_INACTIVE]	= "BOUND-INACTIVE",
};

#define ALL_STATES	((1U << ST_MAX) - 1)
/* ss's default: what is connected or on its way to or from it. */
#define CONN_STATES	(ALL_STATES & ~((1U << ST_LISTEN) | (1U << ST_CLOSE)))

static const char *prog = "hvss";

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-l | -a] [-e] [-H]\n"
		"List AF_HYPERV sockets (default: connected ones).\n"
		"  -l  listening sockets only\n"
		"  -a  all sockets\n"
		"  -e  extended: inode, uid, ring sizes, cookie\n"
		"  -H  no header line\n"
		"  -h  this help\n"
		"Exit status: 0 ok, 1 the sockets could not be listed, 2 usage error.\n",
		prog);
}

static const char *state_name(unsigned int st, char *buf, size_t len)
{
	if (st < ST_MAX && state_names[st])
		return state_names[st];
	snprintf(buf, len, "STATE-%u", st);
	return buf;
}

static const char *srv_text(const __u8 g[16], char out[HV_GUID_TEXT_LEN])
{
	static const __u8 zero[16];

	if (!memcmp(g, zero, 16))
		return "*";
	return hv_guid_format(g, out);
}

struct row_opts {
	bool extended;
};

/* One reply: 0, or -1 if it is malformed. */
static int print_socket(const struct nlmsghdr *nlh, const struct row_opts *o)
{
	const struct hvsock_diag_msg *m = NLMSG_DATA(nlh);
	char st[16], l[HV_GUID_TEXT_LEN], p[HV_GUID_TEXT_LEN];
	struct hvsock_diag_queues q = { 0, 0 };
	struct hvsock_diag_rings r = { 0, 0 };
	bool have_uid = false, have_rings = false;
	__u32 uid = 0;
	const struct nlattr *a;
	int len;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) ||
	    m->hdiag_family != AF_HYPERV)
		return -1;
	len = nlh->nlmsg_len - NLMSG_LENGTH(NLA_ALIGN(sizeof(*m)));
	a = (const void *)((const char *)m + NLA_ALIGN(sizeof(*m)));
	while (len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= len) {
		const void *data = (const char *)a + NLA_HDRLEN;
		int dlen = a->nla_len - NLA_HDRLEN;

		switch (a->nla_type & NLA_TYPE_MASK) {
		case HVSOCK_DIAG_QUEUES:
			if (dlen >= (int)sizeof(q))
				memcpy(&q, data, sizeof(q));
			break;
		case HVSOCK_DIAG_RINGS:
			if (dlen >= (int)sizeof(r)) {
				memcpy(&r, data, sizeof(r));
				have_rings = true;
			}
			break;
		case HVSOCK_DIAG_UID:
			if (dlen >= (int)sizeof(uid)) {
				memcpy(&uid, data, sizeof(uid));
				have_uid = true;
			}
			break;
		}
		len -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}

	printf("%-11s %6u %6u %-36s %-*s",
	       state_name(m->hdiag_state, st, sizeof(st)), q.hdiag_rqueue,
	       q.hdiag_wqueue, srv_text(m->hdiag_local_srv, l),
	       o->extended ? 36 : 0, srv_text(m->hdiag_remote_srv, p));
	if (o->extended) {
		printf(" ino:%u", m->hdiag_ino);
		if (have_uid)
			printf(" uid:%u", uid);
		if (have_rings)
			printf(" rings:%u/%u", r.hdiag_rx_ring, r.hdiag_tx_ring);
		printf(" sk:%08x%08x", m->hdiag_cookie[1], m->hdiag_cookie[0]);
	}
	putchar('\n');
	return 0;
}

/* Once the kernel answered, so that an error comes alone. */
static void print_header(const struct row_opts *o, bool *header)
{
	if (!*header)
		return;
	*header = false;
	if (o->extended)
		printf("%-11s %6s %6s %-36s %-36s %s\n", "State", "Recv-Q",
		       "Send-Q", "Local", "Peer", "Details");
	else
		printf("%-11s %6s %6s %-36s %s\n", "State", "Recv-Q",
		       "Send-Q", "Local", "Peer");
}

/*
 * sock_diag answers ENOENT both when the family is not registered and
 * when it has no diag module: only the second is an error, the first
 * means there is no AF_HYPERV socket (af_hvsock is not loaded).
 */
static bool family_loaded(void)
{
	return !access("/sys/module/af_hvsock", F_OK) ||
	       !access("/proc/net/hv_sock", F_OK);
}

static int list_error(int err, const struct row_opts *o, bool *header)
{
	if (err == ENOENT && !family_loaded()) {
		print_header(o, header);
		return 0;
	}
	/* sock_diag refuses families past AF_MAX with EINVAL. */
	if (err == EINVAL && access("/proc/net/hv_sock", F_OK))
		fprintf(stderr, "%s: this kernel has no AF_HYPERV\n", prog);
	else if (err == ENOENT || err == EINVAL || err == EAFNOSUPPORT ||
		 err == EOPNOTSUPP)
		fprintf(stderr,
			"%s: this kernel cannot list AF_HYPERV sockets through sock_diag (%s): is af_hvsock_diag (CONFIG_HYPERV_SOCK_DIAG) available?\n",
			prog, strerror(err));
	else
		fprintf(stderr, "%s: listing AF_HYPERV sockets: %s\n", prog,
			strerror(err));
	return EXIT_RUNTIME;
}

static int dump(__u32 states, const struct row_opts *o, bool header)
{
	struct {
		struct nlmsghdr nlh;
		struct hvsock_diag_req req;
	} rq;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static char buf[65536];
	int fd, ret = EXIT_RUNTIME;
	bool done = false;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		fprintf(stderr, "%s: netlink socket: %s\n", prog,
			strerror(errno));
		return EXIT_RUNTIME;
	}

	memset(&rq, 0, sizeof(rq));
	rq.nlh.nlmsg_len = sizeof(rq);
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rq.nlh.nlmsg_seq = 1;
	rq.req.sdiag_family = AF_HYPERV;
	rq.req.hdiag_states = states;
	rq.req.hdiag_show = HVSOCK_DIAG_SHOW_QUEUES;
	if (o->extended)
		rq.req.hdiag_show |= HVSOCK_DIAG_SHOW_RINGS |
				     HVSOCK_DIAG_SHOW_UID;
	if (sendto(fd, &rq, sizeof(rq), 0, (struct sockaddr *)&sa,
		   sizeof(sa)) != sizeof(rq)) {
		fprintf(stderr, "%s: netlink send: %s\n", prog,
			strerror(errno));
		goto out;
	}

	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = list_error(errno, o, &header);
			goto out;
		}
		if (n == 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&err, NLMSG_DATA(h), sizeof(err));
				if (err < 0) {
					ret = list_error(-err, o, &header);
					goto out;
				}
				print_header(o, &header);
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ||
				    !e->error) {
					fprintf(stderr, "%s: bad netlink reply\n",
						prog);
					goto out;
				}
				ret = list_error(-e->error, o, &header);
				goto out;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			print_header(o, &header);
			if (print_socket(h, o)) {
				fprintf(stderr, "%s: short or foreign sock_diag reply\n",
					prog);
				goto out;
			}
		}
	}
	ret = 0;
out:
	close(fd);
	if (fflush(stdout) && !ret) {
		fprintf(stderr, "%s: stdout: %s\n", prog, strerror(errno));
		ret = EXIT_RUNTIME;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct row_opts o = { .extended = false };
	__u32 states = CONN_STATES;
	bool header = true;
	int c;

	while ((c = getopt(argc, argv, "laeHh")) != -1) {
		switch (c) {
		case 'l':
			states = 1U << ST_LISTEN;
			break;
		case 'a':
			states = ALL_STATES;
			break;
		case 'e':
			o.extended = true;
			break;
		case 'H':
			header = false;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
			argv[optind]);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	return dump(states, &o, header);
}
