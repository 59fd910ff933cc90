/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AF_HYPERV: kernel-internal definitions shared by net/hv_sock/ and its
 * KUnit tests.
 */
#ifndef __NET_AF_HVSOCK_H
#define __NET_AF_HVSOCK_H

#include <linux/uuid.h>
#include <net/sock.h>
#include <uapi/linux/hv_sock.h>

int hvsock_addr_validate(const struct sockaddr_hv *addr, int addr_len);

#endif /* __NET_AF_HVSOCK_H */
