// SPDX-License-Identifier: GPL-2.0-only
/*
 * The simulated VMBus: a bus_type named "vmbus" carrying struct hv_device
 * and struct hv_driver, with match, probe and remove behaving as
 * drivers/hv/vmbus_drv.c does for hvsock channels: every hvsock offer
 * matches every driver registered with hvsock = true, and the driver core
 * tries them in registration order, moving on to the next one when a
 * probe declines with -ENODEV or -ENXIO.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "hvsim_internal.h"

#define HVSIM_MS_VENDOR_ID	0x1414

static struct device *hvsim_root;

static const struct hv_vmbus_device_id *
hvsim_get_id(const struct hv_driver *drv, const struct hv_device *dev)
{
	const struct hv_vmbus_device_id *id = drv->id_table;

	for (; id && !guid_is_null(&id->guid); id++)
		if (guid_equal(&id->guid, &dev->dev_type))
			return id;
	return NULL;
}

static int hvsim_bus_match(struct device *dev, const struct device_driver *drv)
{
	const struct hv_driver *hdrv = drv_to_hv_drv(drv);
	struct hv_device *hdev = device_to_hv_device(dev);

	/* Only hvsock channels exist on this bus. */
	if (!is_hvsock_channel(hdev->channel))
		return !!hvsim_get_id(hdrv, hdev);

	return hdrv->hvsock;
}

static int hvsim_bus_probe(struct device *dev)
{
	struct hv_driver *drv = drv_to_hv_drv(dev->driver);
	struct hv_device *hdev = device_to_hv_device(dev);
	int ret;

	if (!drv->probe)
		return -ENODEV;

	ret = drv->probe(hdev, hvsim_get_id(drv, hdev));
	/* As vmbus_probe(), no log: the driver core logs real failures. */
	if (ret == -ENODEV || ret == -ENXIO)
		atomic64_inc(&hvsim_counters.probes_declined);
	return ret;
}

static void hvsim_bus_remove(struct device *dev)
{
	struct hv_device *hdev = device_to_hv_device(dev);
	struct hv_driver *drv;

	if (!dev->driver)
		return;

	drv = drv_to_hv_drv(dev->driver);
	if (drv->remove)
		drv->remove(hdev);

	/*
	 * The rescind callback is driver code: do not call it after the
	 * driver let go of the device (it may be unloaded by then).
	 */
	WRITE_ONCE(hdev->channel->chn_rescind_callback, NULL);
}

static void hvsim_bus_shutdown(struct device *dev)
{
	struct hv_device *hdev = device_to_hv_device(dev);
	struct hv_driver *drv;

	if (!dev->driver)
		return;

	drv = drv_to_hv_drv(dev->driver);
	if (drv->shutdown)
		drv->shutdown(hdev);
}

static int hvsim_bus_uevent(const struct device *dev,
			    struct kobj_uevent_env *env)
{
	const struct hv_device *hdev = device_to_hv_device(dev);

	return add_uevent_var(env, "MODALIAS=vmbus:%*phN", UUID_SIZE,
			      &hdev->dev_type);
}

const struct bus_type hvsim_bus = {
	.name		= "vmbus",
	.match		= hvsim_bus_match,
	.probe		= hvsim_bus_probe,
	.remove		= hvsim_bus_remove,
	.shutdown	= hvsim_bus_shutdown,
	.uevent		= hvsim_bus_uevent,
};

/**
 * __vmbus_driver_register() - register a VMBus driver
 * @hv_driver: the driver
 * @owner: module owning it
 * @mod_name: module name
 *
 * Use the vmbus_driver_register() macro.
 *
 * Return: 0 or the error of driver_register().
 */
int __vmbus_driver_register(struct hv_driver *hv_driver, struct module *owner,
			    const char *mod_name)
{
	pr_debug("registering driver %s\n", hv_driver->name);

	hv_driver->driver.name = hv_driver->name;
	hv_driver->driver.owner = owner;
	hv_driver->driver.mod_name = mod_name;
	hv_driver->driver.bus = &hvsim_bus;

	spin_lock_init(&hv_driver->dynids.lock);
	INIT_LIST_HEAD(&hv_driver->dynids.list);

	return driver_register(&hv_driver->driver);
}
EXPORT_SYMBOL_GPL(__vmbus_driver_register);

/**
 * vmbus_driver_unregister() - unregister a VMBus driver
 * @hv_driver: a driver registered with vmbus_driver_register()
 *
 * Devices bound to it are removed from it first (its remove callback runs).
 */
void vmbus_driver_unregister(struct hv_driver *hv_driver)
{
	pr_debug("unregistering driver %s\n", hv_driver->name);
	driver_unregister(&hv_driver->driver);
}
EXPORT_SYMBOL_GPL(vmbus_driver_unregister);

static void hvsim_device_release(struct device *dev)
{
	struct hv_device *hdev = device_to_hv_device(dev);
	struct hvsim_channel *hch = to_hvsim_channel(hdev->channel);

	/* The channel goes with the device; free it in process context. */
	if (hch->dev_registered)
		queue_work(hvsim_wq, &hch->free_work);
	else
		kfree(hdev);
}

static int hvsim_device_name(struct hv_device *hdev)
{
	const struct vmbus_channel_offer *offer =
		&hdev->channel->offermsg.offer;
	struct device *old;

	/*
	 * VMBus names the device after if_instance. A guest may re-use an
	 * endpoint GUID while the device of a previous connection from it
	 * still exists; avoid a duplicate sysfs name then.
	 */
	if (dev_set_name(&hdev->device, "%pUl", &offer->if_instance))
		return -ENOMEM;
	old = bus_find_device_by_name(&hvsim_bus, NULL, dev_name(&hdev->device));
	if (!old)
		return 0;
	put_device(old);
	return dev_set_name(&hdev->device, "%pUl-%u", &offer->if_instance,
			    hdev->channel->offermsg.child_relid);
}

/**
 * hvsim_device_add() - offer a channel to the guest as a device
 * @hch: the channel
 *
 * Runs on hvsim_offer_wq. device_register() matches and probes the
 * driver synchronously, so the driver's probe (and usually its
 * vmbus_open()) has run when this returns.
 *
 * Return: 0, or an error if the device could not be registered.
 */
int hvsim_device_add(struct hvsim_channel *hch)
{
	struct vmbus_channel *chan = &hch->chan;
	struct hv_device *hdev;
	int ret;

	hdev = kzalloc(sizeof(*hdev), GFP_KERNEL);
	if (!hdev)
		return -ENOMEM;

	hdev->channel = chan;
	guid_copy(&hdev->dev_type, &chan->offermsg.offer.if_type);
	guid_copy(&hdev->dev_instance, &chan->offermsg.offer.if_instance);
	hdev->vendor_id = HVSIM_MS_VENDOR_ID;
	hdev->device.bus = &hvsim_bus;
	hdev->device.parent = hvsim_root;
	hdev->device.release = hvsim_device_release;
	device_initialize(&hdev->device);

	ret = hvsim_device_name(hdev);
	if (ret)
		goto err_put;

	hch->hdev = hdev;
	chan->device_obj = hdev;
	ret = device_add(&hdev->device);
	if (ret) {
		pr_err("cannot register device for relid %u: %d\n",
		       chan->offermsg.child_relid, ret);
		chan->device_obj = NULL;
		hch->hdev = NULL;
		goto err_put;
	}
	hch->dev_registered = true;
	return 0;

err_put:
	put_device(&hdev->device);
	return ret;
}

/**
 * hvsim_device_remove() - unregister the device of a channel, once
 * @hch: the channel
 *
 * Both the rescind path and vmbus_hvsock_device_unregister() may get
 * here; only the first one unregisters.
 */
void hvsim_device_remove(struct hvsim_channel *hch)
{
	if (test_and_set_bit(HVSIM_BIT_UNREGISTERED, &hch->bits))
		return;
	device_unregister(&hch->hdev->device);
}

int hvsim_bus_init(void)
{
	int ret;

	ret = bus_register(&hvsim_bus);
	if (ret)
		return ret;

	hvsim_root = root_device_register("vmbus_sim");
	if (IS_ERR(hvsim_root)) {
		bus_unregister(&hvsim_bus);
		return PTR_ERR(hvsim_root);
	}
	return 0;
}

void hvsim_bus_exit(void)
{
	root_device_unregister(hvsim_root);
	bus_unregister(&hvsim_bus);
}
