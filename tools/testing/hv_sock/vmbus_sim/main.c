// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbus_sim: a simulated Hyper-V host for hvsock drivers.
 *
 * In a kernel built without CONFIG_HYPERV this module provides the VMBus
 * client API of <linux/hyperv.h> that hvsock drivers use, and plays the
 * Windows host behind it: offers, rescinds, ring buffers, interrupts. The
 * host side is driven from userspace through /dev/hvsim (hvsim.h) or from
 * the kernel through hvsim_host.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/workqueue.h>

#include "hvsim_internal.h"

struct hvsim_counters hvsim_counters;

/* Offers are delivered one at a time and in order, as VMBus does. */
struct workqueue_struct *hvsim_offer_wq;
/* Rescinds, on their own queue so that they never wait behind an offer. */
struct workqueue_struct *hvsim_rescind_wq;
/* Open timeouts and channel frees. */
struct workqueue_struct *hvsim_wq;

static void hvsim_destroy_wqs(void)
{
	if (hvsim_offer_wq)
		destroy_workqueue(hvsim_offer_wq);
	if (hvsim_rescind_wq)
		destroy_workqueue(hvsim_rescind_wq);
	if (hvsim_wq)
		destroy_workqueue(hvsim_wq);
}

static int hvsim_create_wqs(void)
{
	hvsim_offer_wq = alloc_ordered_workqueue("hvsim_offer", 0);
	hvsim_rescind_wq = alloc_ordered_workqueue("hvsim_rescind", 0);
	hvsim_wq = alloc_workqueue("hvsim", WQ_UNBOUND, 0);
	if (hvsim_offer_wq && hvsim_rescind_wq && hvsim_wq)
		return 0;
	hvsim_destroy_wqs();
	return -ENOMEM;
}

/* Wait until no offer, rescind or free is in flight. */
static void hvsim_quiesce(void)
{
	int i;

	/* A rescind unregisters a device, whose release queues a free. */
	for (i = 0; i < 3; i++) {
		flush_workqueue(hvsim_offer_wq);
		flush_workqueue(hvsim_rescind_wq);
		flush_workqueue(hvsim_wq);
	}
}

static int __init hvsim_init(void)
{
	int ret;

	ret = hvsim_create_wqs();
	if (ret)
		return ret;

	ret = hvsim_channels_init();
	if (ret)
		goto err_wq;

	ret = hvsim_bus_init();
	if (ret)
		goto err_channels;

	ret = hvsim_chardev_init();
	if (ret)
		goto err_bus;

	pr_info("simulated Hyper-V host ready, VMBus version %u.%u\n",
		vmbus_proto_version >> 16, vmbus_proto_version & 0xffff);
	return 0;

err_bus:
	hvsim_bus_exit();
err_channels:
	hvsim_channels_exit();
err_wq:
	hvsim_destroy_wqs();
	return ret;
}

static void __exit hvsim_exit(void)
{
	hvsim_chardev_exit();
	hvsim_conns_shutdown();
	hvsim_quiesce();
	hvsim_bus_exit();
	hvsim_channels_exit();
	hvsim_destroy_wqs();
}

module_init(hvsim_init);
module_exit(hvsim_exit);

MODULE_DESCRIPTION("Simulated Hyper-V host and VMBus client API for hvsock testing");
MODULE_LICENSE("GPL");
