// SPDX-License-Identifier: GPL-2.0-only
/*
 * The simulator provides the VMBus client API itself (vmbus_driver_register(),
 * vmbus_open(), ...): built against a kernel whose real VMBus driver exports
 * the same symbols, the two would clash. Refuse to build there.
 */
#include <linux/build_bug.h>
#include <linux/kconfig.h>

static_assert(!IS_ENABLED(CONFIG_HYPERV),
	      "vmbus_sim replaces VMBus: build it against CONFIG_HYPERV=n");
