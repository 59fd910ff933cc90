/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The in-kernel host side of the simulated Hyper-V host
 *
 * The same operations as the /dev/hvsim ioctls (see hvsim.h for the
 * semantics), for KUnit suites that drive the host from the kernel. All
 * functions may sleep; none may be called from atomic context. Errors are
 * negative errnos. Every connection or listener a function hands out must
 * be given back with hvsim_host_close() or hvsim_host_unlisten().
 */
#ifndef _HVSIM_HOST_H
#define _HVSIM_HOST_H

#include <linux/types.h>
#include <linux/uuid.h>
#include <linux/uio.h>

#include "hvsim.h"

struct hvsim_conn;
struct hvsim_listener;
struct vmbus_channel;

int hvsim_host_listen(const guid_t *service, u32 backlog, u32 flags,
		      struct hvsim_listener **lp);
void hvsim_host_unlisten(struct hvsim_listener *l);
int hvsim_host_accept(struct hvsim_listener *l, bool nonblock,
		      struct hvsim_conn **cp);
int hvsim_host_connect(const guid_t *guest_service, guid_t *host_endpoint,
		       u32 timeout_ms, u32 flags, struct hvsim_conn **cp);
int hvsim_host_wait_open(struct hvsim_conn *c);
ssize_t hvsim_host_read(struct hvsim_conn *c, struct iov_iter *to,
			bool nonblock);
ssize_t hvsim_host_write(struct hvsim_conn *c, struct iov_iter *from,
			 bool nonblock);
ssize_t hvsim_host_recv(struct hvsim_conn *c, void *buf, size_t len,
			bool nonblock);
ssize_t hvsim_host_send(struct hvsim_conn *c, const void *buf, size_t len,
			bool nonblock);
int hvsim_host_shutdown(struct hvsim_conn *c, bool nonblock);
void hvsim_host_rescind(struct hvsim_conn *c);
void hvsim_host_close(struct hvsim_conn *c);
int hvsim_host_set_drain(struct hvsim_conn *c, bool drain);
int hvsim_host_inject(struct hvsim_conn *c, const struct hvsim_inject *inj,
		      const void *data);
int hvsim_host_poke(struct hvsim_conn *c, struct hvsim_poke *poke);
void hvsim_host_conn_info(struct hvsim_conn *c, struct hvsim_conn_info *info);
void hvsim_host_get_config(struct hvsim_config *cfg);
int hvsim_host_set_config(const struct hvsim_config *cfg);
void hvsim_host_get_stats(struct hvsim_stats *st);

#endif /* _HVSIM_HOST_H */
