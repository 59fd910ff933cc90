// SPDX-License-Identifier: GPL-2.0
/*
 * AF_HYPERV socket creation: module autoload, types, protocols, users.
 */

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/hv_sock.h>

/* AF_HYPERV is the kernel's 46; a C library may not define it yet. */
#ifndef AF_HYPERV
#define AF_HYPERV	46
#endif

#include "../kselftest_harness.h"

static int module_loaded(void)
{
	struct stat st;

	return stat("/sys/module/af_hvsock", &st) == 0;
}

/*
 * Unload af_hvsock; sockets of earlier tests may hold it for a while (a
 * closed connection waits up to 8 s for the host), so retry for 15 s.
 */
static bool unload(void)
{
	int i;

	for (i = 0; i < 150 && module_loaded(); i++) {
		if (!system("modprobe -r hv_sock_kunit af_hvsock_diag af_hvsock 2>/dev/null"))
			break;
		usleep(100000);
	}
	return !module_loaded();
}

/* socket() alone must load af_hvsock through its net-pf-46 alias. */
TEST(autoload_on_socket)
{
	int fd;

	if (!unload())
		SKIP(return, "af_hvsock is loaded and in use");
	ASSERT_FALSE(module_loaded());

	fd = socket(AF_HYPERV, SOCK_STREAM, 0);
	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	EXPECT_TRUE(module_loaded());
	close(fd);
}

TEST(modprobe_loads)
{
	ASSERT_EQ(0, system("modprobe af_hvsock"));
	EXPECT_TRUE(module_loaded());
}

/*
 * The old name is an alias: "modprobe hv_sock" gives AF_HYPERV where the
 * AF_VSOCK transport of that name is not built (as in the test kernel,
 * whose copy of it is hv_vsock_peer.ko).
 */
TEST(modprobe_old_name_loads)
{
	if (!unload())
		SKIP(return, "af_hvsock is loaded and in use");
	ASSERT_EQ(0, system("modprobe hv_sock"));
	EXPECT_TRUE(module_loaded());
}

/* 0 selects HV_PROTOCOL_RAW, and SO_PROTOCOL reports it either way. */
TEST(stream_protocols_accepted)
{
	static const int protocols[] = { 0, HV_PROTOCOL_RAW };
	socklen_t len;
	unsigned int i;
	int fd, val;

	for (i = 0; i < ARRAY_SIZE(protocols); i++) {
		fd = socket(AF_HYPERV, SOCK_STREAM | SOCK_CLOEXEC, protocols[i]);
		ASSERT_LE(0, fd);
		len = sizeof(val);
		ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &val,
					&len));
		EXPECT_EQ(HV_PROTOCOL_RAW, val);
		close(fd);
	}
	fd = socket(AF_HYPERV, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    HV_PROTOCOL_RAW);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST(other_types_refused)
{
	static const int types[] = { SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW,
				     SOCK_RDM };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		errno = 0;
		EXPECT_EQ(-1, socket(AF_HYPERV, types[i], 0));
		EXPECT_EQ(ESOCKTNOSUPPORT, errno) TH_LOG("type %d", types[i]);
	}
}

TEST(other_protocols_refused)
{
	static const int protos[] = { 2, 6, 17, 255, -1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		errno = 0;
		EXPECT_EQ(-1, socket(AF_HYPERV, SOCK_STREAM, protos[i]));
		EXPECT_EQ(EPROTONOSUPPORT, errno) TH_LOG("proto %d", protos[i]);
	}
}

TEST(unprivileged_user_creates)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = socket(AF_HYPERV, SOCK_STREAM, 0);
		_exit(fd >= 0 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
