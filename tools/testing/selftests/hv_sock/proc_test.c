// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/hv_sock: one line per socket with its state, local and remote
 * service GUIDs and queue sizes, found here by the socket's inode.
 */

#include "hvs_test.h"
#include "../kselftest_harness.h"

#define PROC_PATH	"/proc/net/hv_sock"
#define MAX_COLS	16

/* Columns the file must have, by their header names. */
enum { COL_ST, COL_LOCAL, COL_REMOTE, COL_RXQ, COL_TXQ, COL_INODE, NCOLS };
static const char * const col_names[NCOLS] = {
	"St", "Local", "Remote", "RxQueue", "TxQueue", "Inode",
};

struct proc_entry {
	unsigned long state;
	char local[64];
	char remote[64];
	unsigned long rxq;
	unsigned long txq;
};

static int split(char *line, char **tok)
{
	int n = 0;
	char *save, *t;

	for (t = strtok_r(line, " \t\n", &save); t && n < MAX_COLS;
	     t = strtok_r(NULL, " \t\n", &save))
		tok[n++] = t;
	return n;
}

/* Find the socket with inode @ino: 0, -ENOENT, or -EPROTO (bad header). */
static int proc_find(ino_t ino, struct proc_entry *e)
{
	int idx[NCOLS], i, j, n, ret = -ENOENT;
	char line[512], *tok[MAX_COLS];
	FILE *f = fopen(PROC_PATH, "r");

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EPROTO;
	}
	n = split(line, tok);
	for (i = 0; i < NCOLS; i++) {
		idx[i] = -1;
		for (j = 0; j < n; j++)
			if (!strcasecmp(tok[j], col_names[i]))
				idx[i] = j;
		if (idx[i] < 0) {
			fclose(f);
			return -EPROTO;
		}
	}
	while (fgets(line, sizeof(line), f)) {
		if (split(line, tok) <= idx[COL_INODE])
			continue;
		if (strtoul(tok[idx[COL_INODE]], NULL, 10) != ino)
			continue;
		e->state = strtoul(tok[idx[COL_ST]], NULL, 16);
		snprintf(e->local, sizeof(e->local), "%s", tok[idx[COL_LOCAL]]);
		snprintf(e->remote, sizeof(e->remote), "%s",
			 tok[idx[COL_REMOTE]]);
		e->rxq = strtoul(tok[idx[COL_RXQ]], NULL, 16);
		e->txq = strtoul(tok[idx[COL_TXQ]], NULL, 16);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static ino_t inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* TCP's numbering, as /proc/net/tcp and AF_VSOCK's sk_state use. */
#define ST_ESTABLISHED	0x01
#define ST_LISTEN	0x0a

TEST(file_exists)
{
	char line[512];
	FILE *f;
	int s = hvs_socket(0);

	ASSERT_LE(0, s);
	f = fopen(PROC_PATH, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", PROC_PATH, strerror(errno));
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	TH_LOG("header: %s", line);
	fclose(f);
	close(s);
}

TEST(listening_socket)
{
	struct proc_entry e;
	__u8 svc[16];
	char str[HV_GUID_TEXT_LEN];
	int s = hvs_socket(0), ret;
	ino_t ino;

	ASSERT_LE(0, s);
	hvs_random_guid(svc);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 4));
	ret = proc_find(inode_of(s), &e);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	EXPECT_EQ(ST_LISTEN, e.state);
	EXPECT_EQ(0, strcasecmp(hv_guid_format(svc, str), e.local))
		TH_LOG("local %s, want %s", e.local, str);
	EXPECT_EQ(0, strcasecmp(hv_guid_format(hvs_guid_wildcard, str),
				e.remote)) TH_LOG("remote %s", e.remote);
	EXPECT_EQ(0, e.rxq);
	EXPECT_EQ(0, e.txq);
	/* Gone once closed. */
	ino = inode_of(s);
	close(s);
	EXPECT_EQ(-ENOENT, proc_find(ino, &e));
}

TEST(connected_socket)
{
	long long end = hvs_now_ms() + HVS_WAIT_MS;
	struct hvsim_accept ha;
	struct proc_entry e;
	char str[HV_GUID_TEXT_LEN], buf[100];
	__u8 svc[16];
	int l, g, h, ret;

	hvs_random_guid(svc);
	l = hvs_host_listen(svc, 0, 0);
	ASSERT_LE(0, l);
	g = hvs_socket(0);
	ASSERT_LE(0, g);
	ASSERT_EQ(0, hvs_connect(g, hvs_guid_parent, svc));
	h = hvs_host_accept(l, HVS_WAIT_MS, &ha);
	ASSERT_LE(0, h);

	ret = proc_find(inode_of(g), &e);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	EXPECT_EQ(ST_ESTABLISHED, e.state);
	EXPECT_EQ(0, strcasecmp(hv_guid_format(ha.guest_service_id, str),
				e.local)) TH_LOG("local %s, want %s", e.local,
						 str);
	EXPECT_EQ(0, strcasecmp(hv_guid_format(svc, str), e.remote))
		TH_LOG("remote %s, want %s", e.remote, str);

	/* The queues: 100 bytes in, 50 out that the host does not read. */
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(100, hvs_write_full(h, buf, 100));
	ASSERT_EQ(0, hvs_host_stop_drain(h, 1));
	ASSERT_EQ(50, send(g, buf, 50, 0));
	do {
		ASSERT_EQ(0, proc_find(inode_of(g), &e));
	} while (e.rxq != 100 && hvs_now_ms() < end && (hvs_msleep(20), 1));
	EXPECT_EQ(100, e.rxq);
	EXPECT_EQ(50, e.txq);
	close(g);
	close(h);
	close(l);
}

TEST(accepted_socket)
{
	struct proc_entry e;
	__u8 svc[16], host_id[16];
	char str[HV_GUID_TEXT_LEN];
	int s = hvs_socket(0), h, c, ret;

	ASSERT_LE(0, s);
	hvs_random_guid(svc);
	ASSERT_EQ(0, hvs_bind(s, svc));
	ASSERT_EQ(0, listen(s, 4));
	h = hvs_host_connect(svc, 5000, 0, host_id);
	ASSERT_LE(0, h);
	c = accept(s, NULL, NULL);
	ASSERT_LE(0, c);
	ret = proc_find(inode_of(c), &e);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	EXPECT_EQ(ST_ESTABLISHED, e.state);
	EXPECT_EQ(0, strcasecmp(hv_guid_format(svc, str), e.local))
		TH_LOG("local %s, want %s", e.local, str);
	EXPECT_EQ(0, strcasecmp(hv_guid_format(host_id, str), e.remote))
		TH_LOG("remote %s, want %s", e.remote, str);
	/* The listener is still listed as listening. */
	ASSERT_EQ(0, proc_find(inode_of(s), &e));
	EXPECT_EQ(ST_LISTEN, e.state);
	close(c);
	close(h);
	close(s);
}

/* Reading the file while sockets come and go: no crash, no report. */
TEST(read_while_changing)
{
	char buf[4096];
	int i, g, h;

	for (i = 0; i < 20; i++) {
		FILE *f;

		ASSERT_EQ(0, hvs_pair(&g, &h));
		f = fopen(PROC_PATH, "r");
		ASSERT_NE(NULL, f);
		/* Odd rounds: the host closes in the middle of the read. */
		while (fread(buf, 1, 7, f) > 0)
			if ((i & 1) && h >= 0) {
				close(h);
				h = -1;
			}
		fclose(f);
		close(g);
		if (h >= 0)
			close(h);
	}
}

TEST_HARNESS_MAIN
