/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hvperf's host side of the hyperv and vsock-hv families.
 *
 * The other end of those families is the Hyper-V host, which a guest
 * program cannot play. A build for a Hyper-V guest (tools/hv_sock/Makefile)
 * gets the stubs below, and hvperf reports the two families unavailable.
 * The test build (tools/testing/hv_sock/hvperf/) defines HVPERF_SIM_HOST
 * and links an implementation that plays the host through the simulated
 * Hyper-V host, so this directory needs none of the simulator's headers.
 */
#ifndef HVPERF_H
#define HVPERF_H

#include <errno.h>
#include <linux/types.h>

#ifdef HVPERF_SIM_HOST

/*
 * Listen on @service_id as the host: a listener for hvperf_host_accept(),
 * or -errno. *@what names the step, for the error message.
 */
int hvperf_host_listen(const __u8 service_id[16], const char **what);

/* The next connection of listener @lfd, close-on-exec; or -errno. */
int hvperf_host_accept(int lfd);

/* Send the host's end of stream on connection @fd; 0 or -errno. */
int hvperf_host_shutdown(int fd);

/*
 * Print the host's view of connection @fd on stdout, on a '#' line.
 * Called from a signal handler: async-signal-safe calls only.
 */
void hvperf_host_dump(int fd);

/* Channels between the host and this guest, or -1 if unknown. */
long long hvperf_host_channels(void);

/* Pages of the guest's outbound and inbound ring of @fd; 0 or -errno. */
int hvperf_host_rings(int fd, unsigned int *out_pages,
		      unsigned int *in_pages);

#else /* !HVPERF_SIM_HOST */

static inline int hvperf_host_listen(const __u8 service_id[16],
				     const char **what)
{
	(void)service_id;
	*what = "host side (only in the build for the simulated host)";
	return -EOPNOTSUPP;
}

static inline int hvperf_host_accept(int lfd)
{
	(void)lfd;
	return -EOPNOTSUPP;
}

static inline int hvperf_host_shutdown(int fd)
{
	(void)fd;
	return -EOPNOTSUPP;
}

static inline void hvperf_host_dump(int fd)
{
	(void)fd;
}

static inline long long hvperf_host_channels(void)
{
	return -1;
}

static inline int hvperf_host_rings(int fd, unsigned int *out_pages,
				    unsigned int *in_pages)
{
	(void)fd;
	(void)out_pages;
	(void)in_pages;
	return -EOPNOTSUPP;
}

#endif /* HVPERF_SIM_HOST */

#endif /* HVPERF_H */
