// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_HYPERV: Hyper-V sockets, socket family registration.
 */

#include <linux/module.h>
#include <linux/net.h>
#include <net/af_hvsock.h>
#include <net/net_namespace.h>
#include <kunit/visibility.h>

static struct proto hvsock_proto = {
	.name		= "HYPERV",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct sock),
};

/**
 * hvsock_addr_validate() - check a struct sockaddr_hv from userspace
 * @addr: the address
 * @addr_len: the length userspace passed
 *
 * Return: 0 if @addr is a well-formed AF_HYPERV address, -EINVAL for a
 * short buffer or a non-zero reserved field, -EAFNOSUPPORT for another
 * family.
 */
int hvsock_addr_validate(const struct sockaddr_hv *addr, int addr_len)
{
	if (addr_len < (int)sizeof(*addr))
		return -EINVAL;
	if (addr->shv_family != AF_HYPERV)
		return -EAFNOSUPPORT;
	if (addr->shv_reserved)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hvsock_addr_validate);

static int hvsock_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;
	sock_orphan(sk);
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

static const struct proto_ops hvsock_stream_ops = {
	.family		= PF_HYPERV,
	.owner		= THIS_MODULE,
	.release	= hvsock_release,
	.bind		= sock_no_bind,
	.connect	= sock_no_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= sock_no_getname,
	.poll		= datagram_poll,
	.ioctl		= sock_no_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= sock_no_shutdown,
	.sendmsg	= sock_no_sendmsg,
	.recvmsg	= sock_no_recvmsg,
	.mmap		= sock_no_mmap,
};

static int hvsock_create(struct net *net, struct socket *sock, int protocol,
			 int kern)
{
	struct sock *sk;

	if (!net_eq(net, &init_net))
		return -EAFNOSUPPORT;
	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != 0 && protocol != HV_PROTOCOL_RAW)
		return -EPROTONOSUPPORT;

	sk = sk_alloc(net, PF_HYPERV, GFP_KERNEL, &hvsock_proto, kern);
	if (!sk)
		return -ENOMEM;

	sock->ops = &hvsock_stream_ops;
	sock->state = SS_UNCONNECTED;
	sock_init_data(sock, sk);
	return 0;
}

static const struct net_proto_family hvsock_family_ops = {
	.family	= PF_HYPERV,
	.create	= hvsock_create,
	.owner	= THIS_MODULE,
};

static int __init hvsock_init(void)
{
	int err;

	err = proto_register(&hvsock_proto, 0);
	if (err)
		return err;

	err = sock_register(&hvsock_family_ops);
	if (err)
		proto_unregister(&hvsock_proto);
	return err;
}

static void __exit hvsock_exit(void)
{
	sock_unregister(PF_HYPERV);
	proto_unregister(&hvsock_proto);
}

module_init(hvsock_init);
module_exit(hvsock_exit);

MODULE_DESCRIPTION("Hyper-V sockets (AF_HYPERV)");
MODULE_LICENSE("GPL");
MODULE_ALIAS_NETPROTO(PF_HYPERV);
