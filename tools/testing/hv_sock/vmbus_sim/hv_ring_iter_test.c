// SPDX-License-Identifier: GPL-2.0-only
/*
 * The KUnit suite of drivers/hv/ring_iter.c, unchanged, run against the
 * copy of the helpers compiled into vmbus_sim.ko.
 */
#include "ring_iter_test.c"
