// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_HYPERV: network namespaces.
 *
 * The host knows nothing of namespaces. The guest has one service GUID
 * space and an offer goes to the socket that owns its GUID, whatever
 * namespace that socket lives in; a namespace only decides who may create
 * sockets and what /proc/net/hv_sock and sock_diag show.
 *
 * net.hv_sock.enabled allows AF_HYPERV sockets in a namespace: on in the
 * initial one, off in every new one. Setting it takes CAP_NET_ADMIN in the
 * initial user namespace, so the root of a container's own user namespace
 * cannot grant its container the host and the guest-wide GUID space.
 */

#include <linux/capability.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/af_hvsock.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

struct hvsock_net {
	int			enabled;
	struct ctl_table	*table;
	struct ctl_table_header	*sysctl;
};

static unsigned int hvsock_net_id __read_mostly;

static struct hvsock_net *hvsock_pernet(const struct net *net)
{
	return net_generic(net, hvsock_net_id);
}

/**
 * hvsock_net_enabled() - whether AF_HYPERV sockets may be created in @net
 * @net: the namespace of the socket() call
 *
 * Return: true if net.hv_sock.enabled is set in @net.
 */
bool hvsock_net_enabled(const struct net *net)
{
	return READ_ONCE(hvsock_pernet(net)->enabled);
}

/*
 * The file's mode lets the root of the namespace's owner write; the
 * resource is the guest's, so the writer must be privileged over it.
 */
static int hvsock_sysctl_enabled(const struct ctl_table *table, int write,
				 void *buffer, size_t *lenp, loff_t *ppos)
{
	if (write && !capable(CAP_NET_ADMIN))
		return -EPERM;
	return proc_dointvec_minmax(table, write, buffer, lenp, ppos);
}

static const struct ctl_table hvsock_sysctl_template[] = {
	{
		.procname	= "enabled",
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= hvsock_sysctl_enabled,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
};

static int __net_init hvsock_sysctl_register(struct net *net,
					     struct hvsock_net *hn)
{
	hn->table = kmemdup(hvsock_sysctl_template,
			    sizeof(hvsock_sysctl_template), GFP_KERNEL);
	if (!hn->table)
		return -ENOMEM;
	hn->table[0].data = &hn->enabled;
	hn->sysctl = register_net_sysctl_sz(net, "net/hv_sock", hn->table,
					    ARRAY_SIZE(hvsock_sysctl_template));
	/* Without CONFIG_SYSCTL only the initial namespace has sockets. */
	if (!hn->sysctl && IS_ENABLED(CONFIG_SYSCTL)) {
		kfree(hn->table);
		return -ENOMEM;
	}
	return 0;
}

static void hvsock_sysctl_unregister(struct hvsock_net *hn)
{
	unregister_net_sysctl_table(hn->sysctl);
	kfree(hn->table);
}

static int __net_init hvsock_net_init(struct net *net)
{
	struct hvsock_net *hn = hvsock_pernet(net);
	int err;

	hn->enabled = net_eq(net, &init_net);
	err = hvsock_sysctl_register(net, hn);
	if (err)
		return err;
	err = hvsock_proc_net_init(net);
	if (err)
		hvsock_sysctl_unregister(hn);
	return err;
}

/*
 * Every user socket holds a reference on its namespace (accepted children
 * of a user listener too), so none is left here: the last one to go,
 * after its channel closed, let the namespace die. A kernel user closes
 * its sockets in its own exit, as for any family.
 */
static void __net_exit hvsock_net_exit(struct net *net)
{
	struct hvsock_net *hn = hvsock_pernet(net);

	hvsock_proc_net_exit(net);
	hvsock_sysctl_unregister(hn);
}

static struct pernet_operations hvsock_net_ops = {
	.init	= hvsock_net_init,
	.exit	= hvsock_net_exit,
	.id	= &hvsock_net_id,
	.size	= sizeof(struct hvsock_net),
};

int hvsock_net_register(void)
{
	return register_pernet_subsys(&hvsock_net_ops);
}

void hvsock_net_unregister(void)
{
	unregister_pernet_subsys(&hvsock_net_ops);
}
