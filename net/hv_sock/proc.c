// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_HYPERV: /proc/net/hv_sock, one line per socket of the reader's network
 * namespace, like /proc/net/unix.
 *
 *   Num: the socket (hashed pointer), RefCount, St: TCP state number,
 *   Local and Remote service GUIDs, RxQueue and TxQueue: payload bytes
 *   waiting on the inbound and outbound rings, Inode: the socket inode
 *   (0 once released).
 */

#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/af_hvsock.h>
#include <net/net_namespace.h>

static void *hvsock_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(&hvsock_table_lock)
{
	spin_lock(&hvsock_table_lock);
	return seq_list_start_head(&hvsock_all, *pos);
}

static void *hvsock_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	return seq_list_next(v, &hvsock_all, pos);
}

static void hvsock_seq_stop(struct seq_file *seq, void *v)
	__releases(&hvsock_table_lock)
{
	spin_unlock(&hvsock_table_lock);
}

static int hvsock_seq_show(struct seq_file *seq, void *v)
{
	struct hvsock_queues q;
	struct hvsock_sock *hs;
	struct sock *sk;

	if (v == &hvsock_all) {
		seq_puts(seq, "Num               RefCount St Local                                Remote                               RxQueue  TxQueue  Inode\n");
		return 0;
	}

	/* hvsock_seq_start() took it: @v stays on the list. */
	lockdep_assert_held(&hvsock_table_lock);
	hs = list_entry(v, struct hvsock_sock, all_node);
	sk = &hs->sk;
	/* One list for the guest; each namespace sees its own sockets. */
	if (!net_eq(sock_net(sk), seq_file_net(seq)))
		return 0;
	hvsock_get_queues(hs, &q);

	seq_printf(seq, "%pK: %08X %02X %pUl %pUl %08X %08X %5lu\n",
		   sk, refcount_read(&sk->sk_refcnt), hvsock_state(sk),
		   &hs->local_srv, &hs->remote_srv, q.rxq, q.txq,
		   sock_i_ino(sk));
	return 0;
}

static const struct seq_operations hvsock_seq_ops = {
	.start	= hvsock_seq_start,
	.next	= hvsock_seq_next,
	.stop	= hvsock_seq_stop,
	.show	= hvsock_seq_show,
};

/**
 * hvsock_proc_net_init() - create /proc/net/hv_sock in a namespace
 * @net: the namespace
 *
 * Return: 0 or -ENOMEM.
 */
int hvsock_proc_net_init(struct net *net)
{
	if (IS_ENABLED(CONFIG_PROC_FS) &&
	    !proc_create_net("hv_sock", 0444, net->proc_net, &hvsock_seq_ops,
			     sizeof(struct seq_net_private)))
		return -ENOMEM;
	return 0;
}

void hvsock_proc_net_exit(struct net *net)
{
	remove_proc_entry("hv_sock", net->proc_net);
}
