// SPDX-License-Identifier: GPL-2.0-only
/*
 * hvperf's host side of the hyperv and vsock-hv families, played through
 * the simulated Hyper-V host (/dev/hvsim, ../vmbus_sim/hvsim.h). Linked
 * into the test VM's hvperf; tools/hv_sock/hvperf.h is the interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hvperf.h"
#include "hvsim.h"

int hvperf_host_listen(const __u8 service_id[16], const char **what)
{
	struct hvsim_listen l = { .backlog = 16 };
	int fd, err;

	*what = HVSIM_DEVICE_PATH " listen";
	fd = open(HVSIM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memcpy(l.service_id, service_id, 16);
	if (ioctl(fd, HVSIM_IOC_LISTEN, &l)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int hvperf_host_accept(int lfd)
{
	struct hvsim_accept a = { .flags = HVSIM_FD_CLOEXEC };

	if (ioctl(lfd, HVSIM_IOC_ACCEPT, &a))
		return -errno;
	return a.fd;
}

int hvperf_host_shutdown(int fd)
{
	return ioctl(fd, HVSIM_IOC_SHUTDOWN) ? -errno : 0;
}

/*
 * The simulator's counters of the connection tell a guest that stopped
 * sending or signalling from a host that stopped reading.
 */
void hvperf_host_dump(int fd)
{
	struct hvsim_conn_info ci;
	char line[400];
	int n;

	if (ioctl(fd, HVSIM_IOC_CONN_INFO, &ci))
		return;
	n = snprintf(line, sizeof(line),
		     "# host side: state=%u close_reason=%u flags=0x%x bytes_from_guest=%llu bytes_to_guest=%llu pkts_from_guest=%llu pkts_to_guest=%llu signals_from_guest=%llu signals_to_guest=%llu guest_ring_full=%llu\n",
		     ci.state, ci.close_reason, ci.flags,
		     (unsigned long long)ci.bytes_from_guest,
		     (unsigned long long)ci.bytes_to_guest,
		     (unsigned long long)ci.pkts_from_guest,
		     (unsigned long long)ci.pkts_to_guest,
		     (unsigned long long)ci.signals_from_guest,
		     (unsigned long long)ci.signals_to_guest,
		     (unsigned long long)ci.guest_ring_full);
	if (n > 0 && write(STDOUT_FILENO, line, n) < 0)
		return;
}

long long hvperf_host_channels(void)
{
	struct hvsim_stats st;
	int fd = open(HVSIM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, HVSIM_IOC_GET_STATS, &st);
	close(fd);
	return ret ? -1 : (long long)st.channels;
}

int hvperf_host_rings(int fd, unsigned int *out_pages, unsigned int *in_pages)
{
	struct hvsim_conn_info ci;

	if (ioctl(fd, HVSIM_IOC_CONN_INFO, &ci))
		return -errno;
	*out_pages = ci.send_ring_size / 4096;
	*in_pages = ci.recv_ring_size / 4096;
	return 0;
}
