#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# make shell: an interactive shell in the test VM; "exit" powers it off.
modprobe af_hvsock
echo "AF_HYPERV test VM: hvcat, hvperf, hvhost are on the PATH; exit to leave."
setsid cttyhack sh -l
