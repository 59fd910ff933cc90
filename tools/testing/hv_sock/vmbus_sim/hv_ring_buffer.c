// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest side of every ring is the kernel's own VMBus ring buffer code,
 * compiled unchanged into vmbus_sim.ko (the include path points at
 * drivers/hv/ of the kernel tree).
 */
#include "ring_buffer.c"
