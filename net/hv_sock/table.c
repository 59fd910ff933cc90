// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_HYPERV: socket lookup.
 *
 * Bound sockets (listeners and connecting or connected guest sockets) are
 * hashed by their local service GUID, which is all a host offer carries to
 * find its socket: a connection from the host names the listener's service
 * in if_type, the answer to our connect request names our service in
 * if_instance. Accepted children share their listener's service and are
 * not hashed; a channel finds its socket through its per-channel state.
 *
 * Every socket is also on one list, in creation order, walked by
 * /proc/net/hv_sock and the sock_diag module (hvsock_walk()).
 */

#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/spinlock.h>
#include <net/af_hvsock.h>

#define HVSOCK_HASH_BITS	9

static DEFINE_HASHTABLE(hvsock_bound, HVSOCK_HASH_BITS);
/* Protects hvsock_bound and hvsock_all. Never taken in softirq. */
DEFINE_SPINLOCK(hvsock_table_lock);
LIST_HEAD(hvsock_all);
/* The list_id of the next socket linked; ids grow along hvsock_all. */
static u64 hvsock_next_id;

static u32 hvsock_srv_hash(const guid_t *srv)
{
	return jhash(srv, sizeof(*srv), 0);
}

static struct hvsock_sock *__hvsock_lookup(const guid_t *srv)
{
	struct hvsock_sock *hs;

	lockdep_assert_held(&hvsock_table_lock);
	hash_for_each_possible(hvsock_bound, hs, bind_node, hvsock_srv_hash(srv))
		if (guid_equal(&hs->local_srv, srv))
			return hs;
	return NULL;
}

/**
 * hvsock_lookup_bound() - find the socket bound to a service GUID
 * @srv: the service
 *
 * Return: the socket with a reference held, or NULL.
 */
struct hvsock_sock *hvsock_lookup_bound(const guid_t *srv)
{
	struct hvsock_sock *hs;

	spin_lock(&hvsock_table_lock);
	hs = __hvsock_lookup(srv);
	if (hs)
		sock_hold(&hs->sk);
	spin_unlock(&hvsock_table_lock);
	return hs;
}

/**
 * hvsock_bind_service() - bind a socket to a service GUID
 * @hs: an unbound socket, locked
 * @srv: the service, or the null GUID for a random unused one
 *
 * Return: 0, -EADDRINUSE if @srv is taken, or -EADDRNOTAVAIL if no free
 * random GUID was found (which takes 2^122 bound sockets in practice).
 */
int hvsock_bind_service(struct hvsock_sock *hs, const guid_t *srv)
{
	guid_t pick;
	int tries;

	sock_owned_by_me(&hs->sk);
	if (!guid_is_null(srv)) {
		spin_lock(&hvsock_table_lock);
		if (__hvsock_lookup(srv)) {
			spin_unlock(&hvsock_table_lock);
			return -EADDRINUSE;
		}
		goto insert;
	}

	for (tries = 0; tries < 8; tries++) {
		guid_gen(&pick);
		spin_lock(&hvsock_table_lock);
		if (!__hvsock_lookup(&pick)) {
			srv = &pick;
			goto insert;
		}
		spin_unlock(&hvsock_table_lock);
	}
	return -EADDRNOTAVAIL;

insert:
	hs->local_srv = *srv;
	hash_add(hvsock_bound, &hs->bind_node, hvsock_srv_hash(srv));
	set_bit(HVSOCK_F_BOUND, &hs->flags);
	spin_unlock(&hvsock_table_lock);
	return 0;
}

/**
 * hvsock_unbind() - release a socket's service GUID
 * @hs: the socket, locked
 *
 * The socket keeps reporting the GUID in getsockname(); it is only free
 * for other sockets to bind.
 */
void hvsock_unbind(struct hvsock_sock *hs)
{
	sock_owned_by_me(&hs->sk);
	if (!test_and_clear_bit(HVSOCK_F_BOUND, &hs->flags))
		return;
	spin_lock(&hvsock_table_lock);
	hash_del(&hs->bind_node);
	spin_unlock(&hvsock_table_lock);
}

/**
 * hvsock_link() - add a new socket to the list of all sockets
 * @hs: the socket
 */
void hvsock_link(struct hvsock_sock *hs)
{
	spin_lock(&hvsock_table_lock);
	hs->list_id = hvsock_next_id++;
	list_add_tail(&hs->all_node, &hvsock_all);
	spin_unlock(&hvsock_table_lock);
}

/**
 * hvsock_unlink() - remove a socket being destroyed from the list
 * @hs: the socket
 */
void hvsock_unlink(struct hvsock_sock *hs)
{
	spin_lock(&hvsock_table_lock);
	list_del(&hs->all_node);
	spin_unlock(&hvsock_table_lock);
}

/**
 * hvsock_walk() - call a function for every socket, resumably
 * @pos: where to start, 0 for the first socket; updated for the next call
 * @fn: called for each socket under hvsock_table_lock, so it must not
 *	sleep; the socket may have been released but its memory stays valid
 *	until @fn returns. A non-zero return stops the walk at that socket.
 * @arg: passed to @fn
 *
 * Sockets are visited in the order they were created. A walk split over
 * several calls (a netlink dump over several messages) visits each socket
 * that lives through all of them exactly once, whatever is created or
 * destroyed in between: @pos is a position on that order, not a count.
 *
 * Return: the non-zero value @fn returned, after which @pos names that
 * socket, or 0 once every socket was visited.
 */
int hvsock_walk(u64 *pos, int (*fn)(struct hvsock_sock *hs, void *arg),
		void *arg)
{
	struct hvsock_sock *hs;
	int ret = 0;

	spin_lock(&hvsock_table_lock);
	list_for_each_entry(hs, &hvsock_all, all_node) {
		if (hs->list_id < *pos)
			continue;
		ret = fn(hs, arg);
		if (ret) {
			*pos = hs->list_id;
			break;
		}
	}
	if (!ret)
		*pos = hvsock_next_id;
	spin_unlock(&hvsock_table_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(hvsock_walk);
