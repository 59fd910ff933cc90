// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_HYPERV: sock_diag(7) module, so that ss-like tools list Hyper-V
 * sockets (<linux/hv_sock_diag.h>). NETLINK_SOCK_DIAG loads it by itself
 * on the first request for AF_HYPERV.
 *
 * A dump reports the same figures as /proc/net/hv_sock, for the sockets
 * of the requester's network namespace only.
 */

#include <linux/hv_sock_diag.h>
#include <linux/module.h>
#include <linux/sock_diag.h>
#include <net/af_hvsock.h>
#include <net/netlink.h>

struct hvsock_diag_ctx {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	const struct hvsock_diag_req *req;
};

/* For a listener, the accept queue and backlog, as ss shows for TCP. */
static void hvsock_diag_queues(struct hvsock_sock *hs, int state,
			       struct hvsock_queues *q)
{
	if (state == TCP_LISTEN) {
		memset(q, 0, sizeof(*q));
		q->rxq = READ_ONCE(hs->sk.sk_ack_backlog);
		q->txq = READ_ONCE(hs->sk.sk_max_ack_backlog);
		return;
	}
	hvsock_get_queues(hs, q);
}

/*
 * One socket's message. We hold hvsock_table_lock, not the socket lock
 * (which would sleep and nest the wrong way): the fields are a snapshot,
 * as /proc/net/hv_sock shows them, and the socket's memory stays valid.
 */
static int hvsock_diag_fill(struct hvsock_sock *hs, int state,
			    struct hvsock_diag_ctx *ctx)
{
	u32 show = ctx->req->hdiag_show;
	struct sk_buff *skb = ctx->skb;
	struct sock *sk = &hs->sk;
	struct hvsock_diag_msg *rep;
	struct hvsock_queues q;
	struct nlmsghdr *nlh;

	nlh = nlmsg_put(skb, NETLINK_CB(ctx->cb->skb).portid,
			ctx->cb->nlh->nlmsg_seq, SOCK_DIAG_BY_FAMILY,
			sizeof(*rep), NLM_F_MULTI);
	if (!nlh)
		return -EMSGSIZE;

	rep = nlmsg_data(nlh);
	memset(rep, 0, sizeof(*rep));
	rep->hdiag_family = AF_HYPERV;
	rep->hdiag_type = sk->sk_type;
	rep->hdiag_state = state;
	rep->hdiag_shutdown = READ_ONCE(sk->sk_shutdown);
	rep->hdiag_ino = sock_i_ino(sk);
	sock_diag_save_cookie(sk, rep->hdiag_cookie);
	memcpy(rep->hdiag_local_srv, &hs->local_srv,
	       sizeof(rep->hdiag_local_srv));
	memcpy(rep->hdiag_remote_srv, &hs->remote_srv,
	       sizeof(rep->hdiag_remote_srv));

	if (show & (HVSOCK_DIAG_SHOW_QUEUES | HVSOCK_DIAG_SHOW_RINGS))
		hvsock_diag_queues(hs, state, &q);
	if (show & HVSOCK_DIAG_SHOW_QUEUES) {
		struct hvsock_diag_queues dq = {
			.hdiag_rqueue = q.rxq,
			.hdiag_wqueue = q.txq,
		};

		if (nla_put(skb, HVSOCK_DIAG_QUEUES, sizeof(dq), &dq))
			goto cancel;
	}
	if (show & HVSOCK_DIAG_SHOW_RINGS) {
		struct hvsock_diag_rings dr = {
			.hdiag_rx_ring = q.rx_ring,
			.hdiag_tx_ring = q.tx_ring,
		};
		if (nla_put(skb, HVSOCK_DIAG_RINGS, sizeof(dr), &dr))
			goto cancel;
	}
	if ((show & HVSOCK_DIAG_SHOW_UID) &&
	    nla_put_u32(skb, HVSOCK_DIAG_UID,
			from_kuid_munged(sk_user_ns(skb->sk), sock_i_uid(sk))))
		goto cancel;

	nlmsg_end(skb, nlh);
	return 0;

cancel:
	nlmsg_cancel(skb, nlh);
	return -EMSGSIZE;
}

/* hvsock_walk() callback: under hvsock_table_lock, must not sleep. */
static int hvsock_diag_one(struct hvsock_sock *hs, void *arg)
{
	struct hvsock_diag_ctx *ctx = arg;
	int state;

	if (!net_eq(sock_net(&hs->sk), sock_net(ctx->skb->sk)))
		return 0;
	state = hvsock_state(&hs->sk);
	if (state >= 32 || !(ctx->req->hdiag_states & BIT(state)))
		return 0;
	return hvsock_diag_fill(hs, state, ctx);
}

/* Kept in cb->ctx between the parts of a dump. */
struct hvsock_diag_dump_state {
	u64 pos;
};

/*
 * One part of the dump. The state is hvsock_walk()'s position: the socket
 * that did not fit last time, so a dump over several messages reports
 * every socket that lives through it once.
 */
static int hvsock_diag_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct hvsock_diag_dump_state *st = (void *)cb->ctx;
	struct hvsock_diag_ctx ctx = {
		.skb = skb,
		.cb = cb,
		.req = nlmsg_data(cb->nlh),
	};

	NL_ASSERT_DUMP_CTX_FITS(struct hvsock_diag_dump_state);
	hvsock_walk(&st->pos, hvsock_diag_one, &ctx);
	return skb->len;
}

static int hvsock_diag_handler_dump(struct sk_buff *skb, struct nlmsghdr *h)
{
	struct netlink_dump_control c = {
		.dump = hvsock_diag_dump,
	};

	if (nlmsg_len(h) < sizeof(struct hvsock_diag_req))
		return -EINVAL;
	/* As vsock_diag: no lookup of a single socket. */
	if (!(h->nlmsg_flags & NLM_F_DUMP))
		return -EOPNOTSUPP;
	return netlink_dump_start(sock_net(skb->sk)->diag_nlsk, skb, h, &c);
}

static const struct sock_diag_handler hvsock_diag_handler = {
	.owner	= THIS_MODULE,
	.family	= AF_HYPERV,
	.dump	= hvsock_diag_handler_dump,
};

static int __init hvsock_diag_init(void)
{
	return sock_diag_register(&hvsock_diag_handler);
}

static void __exit hvsock_diag_exit(void)
{
	sock_diag_unregister(&hvsock_diag_handler);
}

module_init(hvsock_diag_init);
module_exit(hvsock_diag_exit);

MODULE_DESCRIPTION("Hyper-V sockets (AF_HYPERV) monitoring via SOCK_DIAG");
MODULE_LICENSE("GPL");
MODULE_ALIAS_NET_PF_PROTO_TYPE(PF_NETLINK, NETLINK_SOCK_DIAG, AF_HYPERV);
