// SPDX-License-Identifier: GPL-2.0-only
/*
 * hv_vsock_peer.ko: the mainline AF_VSOCK transport for Hyper-V,
 * net/vmw_vsock/hyperv_transport.c, compiled unchanged against the
 * simulated VMBus. It is the fidelity reference for the simulator and the
 * side-by-side reference for hv_sock.ko.
 */
#include "hyperv_transport.c"
