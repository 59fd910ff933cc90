// SPDX-License-Identifier: GPL-2.0-only
/*
 * The in-place ring helpers of drivers/hv, compiled unchanged into
 * vmbus_sim.ko as the rest of the guest's ring code is (hv_ring_buffer.c).
 */
#include "ring_iter.c"
