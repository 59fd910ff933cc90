/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hyper-V GUIDs as text, and the AF_VSOCK service GUID of a vsock port,
 * for the hvsock tools and tests.
 *
 * A GUID in struct sockaddr_hv is in the Windows in-memory layout: the
 * first three fields little-endian, the last eight bytes in order. The
 * text form is the canonical 8-4-4-4-12 one, as the kernel's %pUl prints
 * that layout and as Windows shows it.
 *
 * Plain C, the C library and <linux/hv_sock.h> only: hvcat includes this
 * on a real Hyper-V guest, where the simulator's headers do not exist; the
 * simulator's host tool and the kselftests include it too.
 */
#ifndef HV_GUID_TEXT_H
#define HV_GUID_TEXT_H

#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <linux/hv_sock.h>

/* Characters of the text form, with the terminating NUL. */
#define HV_GUID_TEXT_LEN	37

static inline int hv_guid_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse the 8-4-4-4-12 form, braces allowed, into the Windows layout. On
 * error return -1 with a description of the problem in @why (@wlen bytes).
 */
static inline int hv_guid_parse(const char *s, __u8 g[16], char *why,
				size_t wlen)
{
	static const int groups[5] = { 8, 4, 4, 4, 12 };
	unsigned char b[16];
	size_t len = strlen(s);
	int i, j, k = 0;

	if (len >= 2 && s[0] == '{' && s[len - 1] == '}') {
		s++;
		len -= 2;
	}
	if (len != 36) {
		snprintf(why, wlen, "%zu characters, a GUID has 36 (8-4-4-4-12 hex digits)",
			 len);
		return -1;
	}
	for (i = 0; i < 5; i++) {
		for (j = 0; j < groups[i]; j += 2) {
			int hi = hv_guid_hexval(s[0]), lo = hv_guid_hexval(s[1]);

			if (hi < 0 || lo < 0) {
				snprintf(why, wlen, "'%c' in group %d is not a hex digit",
					 hi < 0 ? s[0] : s[1], i + 1);
				return -1;
			}
			b[k++] = hi << 4 | lo;
			s += 2;
		}
		if (i < 4 && *s++ != '-') {
			snprintf(why, wlen, "group %d must be %d hex digits followed by '-'",
				 i + 1, groups[i]);
			return -1;
		}
	}
	/* The first three fields are little-endian in memory. */
	g[0] = b[3];
	g[1] = b[2];
	g[2] = b[1];
	g[3] = b[0];
	g[4] = b[5];
	g[5] = b[4];
	g[6] = b[7];
	g[7] = b[6];
	memcpy(g + 8, b + 8, 8);
	return 0;
}

/* The text form of @g into @out; returns @out. */
static inline char *hv_guid_format(const __u8 g[16], char out[HV_GUID_TEXT_LEN])
{
	snprintf(out, HV_GUID_TEXT_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9],
		 g[10], g[11], g[12], g[13], g[14], g[15]);
	return out;
}

/*
 * The service GUID AF_VSOCK uses on Hyper-V for vsock port @port: the
 * uapi template, PPPPPPPP-facb-11e6-bd58-64006a7986d3, with the port in
 * its first 4 bytes, little-endian.
 */
static inline void hv_guid_from_vsock_port(__u8 g[16], __u32 port)
{
	static const __u8 tmpl[16] = HV_GUID_VSOCK_TEMPLATE_INIT;

	memcpy(g, tmpl, sizeof(tmpl));
	g[0] = port & 0xff;
	g[1] = (port >> 8) & 0xff;
	g[2] = (port >> 16) & 0xff;
	g[3] = port >> 24;
}

#endif /* HV_GUID_TEXT_H */
