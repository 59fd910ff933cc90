// SPDX-License-Identifier: GPL-2.0-only
/*
 * hv_vsock_peer.ko: the mainline AF_VSOCK transport for Hyper-V,
 * net/vmw_vsock/hyperv_transport.c as the kernel tree has it (its probe
 * declines the offers no vsock socket waits for), compiled against the
 * simulated VMBus. It is the fidelity reference for the
 * simulator and the side-by-side reference for af_hvsock.ko.
 */
#include "hyperv_transport.c"
