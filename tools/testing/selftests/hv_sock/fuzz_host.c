// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_host: a malicious Hyper-V host against AF_HYPERV, with an exact
 * oracle of what the guest must deliver.
 *
 *   fuzz_host -t SECONDS -s SEED [-v] [-c CONNS] [-S STALL_MS]
 *
 * Live connections, made both ways (guest connect() to a host listener,
 * host HVSIM_IOC_CONNECT to a guest listener), each with guest reader(s)
 * and a guest writer on the socket and a host reader and a host writer on
 * /dev/hvsim. In bursts the host writes a known byte stream, by write()
 * and by injected packets (single ones and batches laid out by hand in
 * RAW injections, with every variation the packet format allows: flags,
 * transaction ids, padding before the pipe header or after the payload,
 * missing and spurious interrupts), and on some connections a fault:
 * mutated, truncated, oversize or misaligned packets, garbage, FINs in odd
 * places, a rescind mid-stream, ring indices and signalling fields of the
 * shared ring headers overwritten (HVSIM_IOC_POKE).
 *
 * What the guest must make of the bytes is decided by a reference parser
 * written from the packet format (a VM_PKT_DATA_INBAND descriptor whose
 * offset8/len8 leave room for the pipe header and fit the published bytes
 * with the trailer, a pipe header of type data whose data_size fits the
 * packet and the MTU; data_size 0 is the FIN), and faults are laid out so
 * that timing cannot change the verdict: a packet that may be bad is
 * published in one injection, and nothing is published after it. The
 * oracle, checked byte by byte as the guest reads:
 *
 *  - the guest delivers exactly the payload of the valid packets before
 *    the first bad packet, FIN or index fault, never a wrong byte, never a
 *    byte beyond them; then EOF at a FIN, ECONNRESET at a bad packet, EOF
 *    or ECONNRESET after a rescind (and then 0 on every further read);
 *  - an overwritten index may hide data but never changes a byte before
 *    it; after it anything may come, but every thread must finish once the
 *    host rescinds; a misaligned write index (a RAW injection of odd
 *    length) ends the stream with ECONNRESET after a prefix;
 *  - guest -> host: the host reads exactly what the guest sent (a prefix
 *    if the connection was reset or rescinded);
 *  - no reader, writer or poller sleeps for ever: a thread that makes no
 *    progress for the stall time is a hang, reported with the socket's
 *    line of /proc/net/hv_sock, the host's HVSIM_IOC_CONN_INFO and the
 *    thread's kernel stack;
 *  - poll() agrees with recv(): a reader that polls before each recv()
 *    must not time out while data published before its poll() is unread
 *    (it is the only consumer, so this is exact), and SIOCINQ counts
 *    what was published and not read;
 *  - no lost wakeup: a reader blocked in recv() or a poller blocked in
 *    poll() must not sleep through data that has been published and
 *    unread for a fifth of the stall time. Sockets are read four ways
 *    (one blocking reader; poll() then recv() in one thread; two blocking
 *    readers; a reader and a poller in two threads), the last two with
 *    small reads that leave parts of packets on the ring; a reader that
 *    leaves data while the other thread sleeps holds off, so that the
 *    sleeper has to be woken by the guest itself;
 *  - a bystander connection without injections moves checksummed data
 *    both ways in every burst, and every new connection works.
 *
 * Some sockets get SO_LINGER before close(), reset ones included. -c sets
 * the number of live connections (6), -S the stall time (15000 ms).
 *
 * Decisions come from the seed (per connection and per burst), so a seed
 * replays the same inputs; timing decides only interleavings. The summary
 * line counts injected packets: one per HVSIM_IOC_INJECT of kind PACKET or
 * PIPE, one per packet laid out in a RAW injection (garbage counts one);
 * bytes are the payload bytes checked, both ways. Exit status 0 iff no
 * violation and no hang.
 */

#include "hvs_test.h"

#include <stdarg.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/sockios.h>

#define VM_PKT_DATA_INBAND	6
#define PIPE_DATA		1
#define DESC_LEN		16
#define PIPE_LEN		8
#define TRAILER_LEN		8
#define HDR_LEN			(DESC_LEN + PIPE_LEN)
#define ALIGN8(n)		(((n) + 7U) & ~7U)
#define PKT_LEN(n)		(HDR_LEN + ALIGN8(n) + TRAILER_LEN)
#define MTU			16384
#define RING_DATA		(5 * 4096)

#define MAX_CONNS		32
#define RAW_MAX			2048
#define PKTBUF_MAX		(RING_DATA + 64)
#define MAX_RECS		(PKTBUF_MAX / PKT_LEN(0) + 1)
#define IO_BUF			65536
#define LOG_MAX			(8 << 20)
/* Samples of what the host published, one per 100 ms: LOST_MS must fit. */
#define HIST			256
#define MAX_VIOLATIONS		50

/* ------------------------------------------------------------ options */

static unsigned int opt_seconds = 60;
static __u64 opt_seed = 1;
static int opt_verbose;
static int opt_conns = 6;
static int opt_stall_ms = 15000;

/* Longest a reader may sleep through readable data: see monitor_conn(). */
#define LOST_MS			(opt_stall_ms / 5)

static long long t_start;
static long long t_end;
static int cur_burst;

/* Counters of the summary line. */
static __u64 n_conns, n_bursts, n_packets, n_bytes;
/* For -v: hold-offs of a reader and how many ended by the sleeper waking. */
static __u64 n_holdoffs, n_holdoffs_woken;
static int n_violations, n_hangs;

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

#define ld(p)		__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define st(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define add(p, v)	__atomic_add_fetch(p, v, __ATOMIC_RELAXED)

static void fh_info(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

/* ------------------------------------------------------------ random */

struct rng {
	__u64 s;
};

static void rng_init(struct rng *r, __u64 a, __u64 b)
{
	r->s = hvs_mix64(hvs_mix64(a) ^ (b * 0xd1342543de82ef95ULL));
}

static __u64 rnd64(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return hvs_mix64(r->s);
}

static __u32 rnd_below(struct rng *r, __u32 n)
{
	return n ? rnd64(r) % n : 0;
}

static bool chance(struct rng *r, unsigned int pct)
{
	return rnd_below(r, 100) < pct;
}

/* 1 to @max, as likely in each octave: mostly small, sometimes large. */
static __u32 rnd_size(struct rng *r, __u32 max)
{
	__u32 b = rnd_below(r, 32 - __builtin_clz(max));
	__u32 n = (1U << b) + rnd_below(r, 1U << b);

	return n > max ? max : n;
}

static void fill_junk(struct rng *r, __u8 *p, size_t n)
{
	__u64 x;

	while (n) {
		size_t k = n < 8 ? n : 8;

		x = rnd64(r);
		memcpy(p, &x, k);
		p += k;
		n -= k;
	}
}

/* ------------------------------------------------------------ packets */

struct fh_desc {
	__u16 type;
	__u16 offset8;
	__u16 len8;
	__u16 flags;
	__u64 trans_id;
};

struct fh_pipe {
	__u32 pkt_type;
	__u32 data_size;
};

/* A packet laid out by the host: where its payload is, which stream bytes. */
struct pkt_rec {
	__u32 data_off;
	__u32 n;
	__u64 soff;
};

/* Bytes of one injection, laid out as the guest's ring will hold them. */
struct pktbuf {
	__u8 buf[PKTBUF_MAX];
	__u32 len;
	struct pkt_rec rec[MAX_RECS];
	int nrec;
	int npkts;
};

/*
 * Append a valid packet carrying @n bytes of stream @seed from @soff (0 is
 * the FIN), with the variations the format allows: descriptor flags and
 * transaction id, padding between descriptor and pipe header (offset8),
 * a descriptor longer than the payload (len8), junk in all padding, any
 * trailer.
 */
static void pkt_valid(struct rng *r, struct pktbuf *pb, __u64 seed,
		      __u64 soff, __u32 n)
{
	__u32 pre = chance(r, 15) ? 8 * (1 + rnd_below(r, 3)) : 0;
	__u32 extra = chance(r, 10) ? 8 * (1 + rnd_below(r, 2)) : 0;
	__u32 doff = DESC_LEN + pre;
	__u32 plen = doff + PIPE_LEN + ALIGN8(n) + extra;
	__u8 *p = pb->buf + pb->len;
	struct fh_desc d = {
		.type = VM_PKT_DATA_INBAND,
		.offset8 = doff / 8,
		.len8 = plen / 8,
		.flags = chance(r, 10) ? rnd64(r) : 0,
		.trans_id = chance(r, 30) ? rnd64(r) : 0,
	};
	struct fh_pipe ph = { PIPE_DATA, n };

	memcpy(p, &d, sizeof(d));
	fill_junk(r, p + DESC_LEN, pre);
	memcpy(p + doff, &ph, sizeof(ph));
	hvs_fill(seed, soff, p + doff + PIPE_LEN, n);
	if (chance(r, 50))
		fill_junk(r, p + doff + PIPE_LEN + n, ALIGN8(n) - n + extra);
	else
		memset(p + doff + PIPE_LEN + n, 0, ALIGN8(n) - n + extra);
	fill_junk(r, p + plen, TRAILER_LEN);
	if (n) {
		pb->rec[pb->nrec].data_off = pb->len + doff + PIPE_LEN;
		pb->rec[pb->nrec].n = n;
		pb->rec[pb->nrec].soff = soff;
		pb->nrec++;
	}
	pb->len += plen + TRAILER_LEN;
	pb->npkts++;
}

enum { REF_CLEAN, REF_FIN, REF_BAD };

struct ref_slice {
	__u32 off;
	__u32 len;
};

/*
 * The reference: what a guest must make of @len ring bytes that start at
 * a packet boundary and were published in one go. Fills the payloads of
 * the valid data packets in order and says how the parse ends: all bytes
 * consumed (CLEAN), at a FIN, or at a malformed or incomplete packet.
 */
static int ref_parse(const __u8 *b, __u32 len, struct ref_slice *sl,
		     int *nsl)
{
	__u32 pos = 0;

	*nsl = 0;
	for (;;) {
		__u32 avail = len - pos, plen, doff;
		struct fh_desc d;
		struct fh_pipe ph;

		if (!avail)
			return REF_CLEAN;
		if (avail < PKT_LEN(0))
			return REF_BAD;
		memcpy(&d, b + pos, sizeof(d));
		plen = (__u32)d.len8 * 8;
		doff = (__u32)d.offset8 * 8;
		if (d.type != VM_PKT_DATA_INBAND)
			return REF_BAD;
		if (plen < HDR_LEN || plen > avail - TRAILER_LEN)
			return REF_BAD;
		if (doff < DESC_LEN || doff > plen - PIPE_LEN)
			return REF_BAD;
		memcpy(&ph, b + pos + doff, sizeof(ph));
		if (ph.pkt_type != PIPE_DATA)
			return REF_BAD;
		if (ph.data_size > plen - doff - PIPE_LEN || ph.data_size > MTU)
			return REF_BAD;
		if (!ph.data_size)
			return REF_FIN;
		sl[*nsl].off = pos + doff + PIPE_LEN;
		sl[*nsl].len = ph.data_size;
		(*nsl)++;
		pos += plen + TRAILER_LEN;
	}
}

/* ------------------------------------------------------------ connections */

/* Bytes the guest must deliver, in order: a run of the stream, or literal. */
struct seg {
	__u64 start;
	__u64 len;
	__u64 soff;
	__u8 *lit;
};

/* How the inbound stream must end. */
enum {
	TERM_NONE,		/* it goes on */
	TERM_EOF,		/* a FIN */
	TERM_RESET,		/* a bad packet or index */
	TERM_EOF_OR_RESET,	/* a rescind */
	TERM_ANY,		/* an overwritten index: any end, but an end */
};

static const char * const term_names[] = {
	"open", "EOF", "ECONNRESET", "EOF or ECONNRESET", "any end",
};

/*
 * Guest readers: blocking recv(); poll() then recv() in one thread; two
 * blocking readers; a blocking reader and a poller in another thread.
 */
enum { RM_BLOCK, RM_POLL, RM_TWO, RM_POLLER };

static const char * const rmode_names[] = {
	"block", "poll", "two", "reader+poller",
};

enum {
	P_CLEAN, P_BADRAW, P_BADINJ, P_GARBAGE, P_FIN_ODD, P_FIN, P_RESCIND,
	P_UNALIGNED, P_POKE_IDX, P_POKE_SIG, P_OVERSIZE, P_NKINDS
};

static const char * const plan_names[] = {
	"clean", "bad-raw", "bad-inject", "garbage", "odd-fin", "fin",
	"rescind", "unaligned", "poke-index", "poke-signal", "oversize",
};

/* Weights of the plans of connections that are not the bystander. */
static const unsigned int plan_weight[P_NKINDS] = {
	40, 14, 10, 3, 6, 4, 6, 4, 6, 4, 3,
};

struct conn;

struct reader {
	struct conn *c;
	int idx;
	pthread_t th;
	int tid;
	struct rng rng;
	__u64 delivered;
	int done;
	int err;		/* of the end: 0 for EOF, else errno */
	int after[2];		/* reads after the end: bytes or -errno */
	int hint;		/* segment of the last check */
	/* the call in progress, for reports */
	const char *op;
	__u32 op_len;
	long long op_since;
	/* in a call that must return once data is readable, since when */
	int waiting;
	long long wait_since;
	/* RM_TWO: what arrived, chunk by chunk, checked at the end */
	__u8 *log;
	size_t loglen;
	__u32 *chunks;
	int nchunks;
	int chunkcap;
	bool logfull;
};

struct conn {
	int id;
	bool from_host;
	int g;
	int h;
	__u64 seed;
	struct rng rng;
	__u64 h2g_seed;
	__u64 g2h_seed;
	int rmode;
	int nreaders;

	/* The inbound expectation: segs[] and exp_total under mu. */
	pthread_mutex_t mu;
	struct seg *segs;
	int nseg;
	int segcap;
	__u64 exp_total;
	__u64 published;	/* of exp_total: surely on the ring */
	__u64 lenient_from;	/* bytes from here on may be anything */
	__u64 h2g_next;		/* next stream offset the host writes */
	int term_expect;
	bool prefix_ok;		/* the end may come before exp_total */
	bool poked;		/* an index was overwritten: no poll oracle */
	bool broken;		/* a violation was reported: stop checking */
	bool rescinded;
	bool out_exact;		/* the host must read all the guest sent */
	bool faulted;

	struct reader rd[2];

	/* host reader */
	pthread_t hr_th;
	int hr_tid;
	struct rng hr_rng;
	__u64 hr_read;
	__u64 hr_lenient_from;
	int hr_done;
	int hr_err;

	/* guest writer, one per burst */
	pthread_t gw_th;
	int gw_tid;
	bool gw_running;
	__u64 g_sent;
	__u64 g_queued;
	__u32 gw_quota;
	int gw_done;
	int gw_err;
	struct rng gw_rng;

	/* host writer, one per burst */
	pthread_t hw_th;
	int hw_tid;
	bool hw_running;
	int hw_done;
	int hw_err;
	int plan;
	bool drained;
	bool rescind_after;
	int ops;
	struct rng hw_rng;
	struct pktbuf *pb;
	struct ref_slice *sl;
	__u8 *wbuf;
	char note[160];

	/* published, sampled by the monitor, for the lost wakeup check */
	__u64 hist_pub[HIST];
	long long hist_t[HIST];
	int hist_i;
	bool quiet;		/* the host may have suppressed interrupts */
};

/* The controller changes conns[] under pool_lock; the monitor reads it. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns[MAX_CONNS];
static int nconns;
static int next_id;
static __u8 host_svc[16];
static __u8 guest_svc[16];
static int host_lfd = -1;
static int guest_lsock = -1;

static __u64 delivered_sum(struct conn *c)
{
	__u64 d = 0;
	int i;

	for (i = 0; i < c->nreaders; i++)
		d += ld(&c->rd[i].delivered);
	return d;
}

static bool readers_done(struct conn *c)
{
	int i;

	for (i = 0; i < c->nreaders; i++)
		if (!ld(&c->rd[i].done))
			return false;
	return true;
}

/* ------------------------------------------------------------ reports */

static void print_conn_info(struct conn *c)
{
	struct hvsim_conn_info ci;

	if (hvs_host_info(c->h, &ci)) {
		fh_info("#   host: CONN_INFO failed: %s\n", strerror(errno));
		return;
	}
	fh_info("#   host: state %u reason %u flags %#x relid %u to_guest %llu B %llu pkts from_guest %llu B %llu pkts signals to %llu from %llu ring_full %llu proto_errors %llu\n",
		ci.state, ci.close_reason, ci.flags, ci.relid,
		(unsigned long long)ci.bytes_to_guest,
		(unsigned long long)ci.pkts_to_guest,
		(unsigned long long)ci.bytes_from_guest,
		(unsigned long long)ci.pkts_from_guest,
		(unsigned long long)ci.signals_to_guest,
		(unsigned long long)ci.signals_from_guest,
		(unsigned long long)ci.guest_ring_full,
		(unsigned long long)ci.proto_errors);
	fh_info("#   guest outbound ring: read %u write %u mask %u pending %u; inbound ring: read %u write %u mask %u pending %u\n",
		ci.out_ring[0], ci.out_ring[1], ci.out_ring[2], ci.out_ring[3],
		ci.in_ring[0], ci.in_ring[1], ci.in_ring[2], ci.in_ring[3]);
}

static void print_proc(void)
{
	FILE *f = fopen("/proc/net/hv_sock", "r");
	char line[512];

	if (!f) {
		fh_info("#   /proc/net/hv_sock: %s\n", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		fh_info("#   %s", line);
	fclose(f);
}

static void print_stack(const char *who, int tid)
{
	char path[64], line[256];
	FILE *f;

	if (!tid)
		return;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", tid);
	f = fopen(path, "r");
	if (!f)
		return;
	fh_info("#   %s (thread %d):\n", who, tid);
	while (fgets(line, sizeof(line), f))
		fh_info("#     %s", line);
	fclose(f);
}

static void print_conn(struct conn *c)
{
	struct stat sb;
	int i, inq;

	if (!fstat(c->g, &sb))
		fh_info("#   guest socket inode %lu (match the Inode column below)\n",
			(unsigned long)sb.st_ino);
	fh_info("#   conn %d: %s, readers %s, plan %s%s%s, expect %s; host wrote %llu published %llu, guest delivered %llu; guest sent %llu, host read %llu; %s\n",
		c->id, c->from_host ? "host-initiated" : "guest-initiated",
		rmode_names[c->rmode], plan_names[c->plan],
		c->drained ? " (drained)" : "",
		c->rescind_after ? " + rescind" : "",
		term_names[c->term_expect], (unsigned long long)c->exp_total,
		(unsigned long long)ld(&c->published),
		(unsigned long long)delivered_sum(c),
		(unsigned long long)ld(&c->g_sent),
		(unsigned long long)ld(&c->hr_read), c->note);
	print_conn_info(c);
	print_proc();
	if (!ioctl(c->g, SIOCINQ, &inq))
		fh_info("#   guest SIOCINQ %d\n", inq);
	for (i = 0; i < c->nreaders; i++) {
		struct reader *rd = &c->rd[i];

		if (ld(&rd->done))
			continue;
		fh_info("#   guest reader %d: delivered %llu, in %s of %u bytes for %lld ms\n",
			i, (unsigned long long)ld(&rd->delivered), ld(&rd->op),
			rd->op_len, hvs_now_ms() - rd->op_since);
		print_stack("guest reader", rd->tid);
	}
	if (!ld(&c->hr_done))
		print_stack("host reader", c->hr_tid);
	if (c->gw_running && !ld(&c->gw_done))
		print_stack("guest writer", c->gw_tid);
	if (c->hw_running && !ld(&c->hw_done))
		print_stack("host writer", c->hw_tid);
}

static void summary(void)
{
	fh_info("fuzz_host: seed=%llu seconds=%u conns=%llu bursts=%llu packets=%llu bytes=%llu violations=%d hangs=%d\n",
		(unsigned long long)opt_seed, opt_seconds,
		(unsigned long long)n_conns, (unsigned long long)n_bursts,
		(unsigned long long)ld(&n_packets),
		(unsigned long long)ld(&n_bytes), ld(&n_violations),
		ld(&n_hangs));
}

static void too_many(void)
{
	if (ld(&n_violations) + ld(&n_hangs) < MAX_VIOLATIONS)
		return;
	fh_info("fuzz_host: too many failures, stopping\n");
	summary();
	fflush(stdout);
	_exit(1);
}

/* A wrong result: reported once per connection, with its state. */
static void report_err(struct conn *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c && c->broken)
		return;
	add(&n_violations, 1);
	fh_info("fuzz_host: VIOLATION seed=%llu burst=%d conn=%d: %s\n",
		(unsigned long long)opt_seed, cur_burst, c ? c->id : -1, msg);
	if (c) {
		c->broken = true;
		print_conn(c);
	}
	too_many();
}

static void hang(struct conn *c, const char *what)
{
	add(&n_hangs, 1);
	fh_info("fuzz_host: HANG seed=%llu burst=%d conn=%d: %s: no progress for %d ms\n",
		(unsigned long long)opt_seed, cur_burst, c->id, what, opt_stall_ms);
	print_conn(c);
	too_many();
}

/* ------------------------------------------------------------ expectation */

static void seg_push(struct conn *c, __u64 soff, __u64 len, __u8 *lit)
{
	struct seg *s;

	if (!len)
		return;
	if (c->nseg) {
		s = &c->segs[c->nseg - 1];
		if (!s->lit && !lit && s->soff + s->len == soff) {
			s->len += len;
			st(&c->exp_total, c->exp_total + len);
			return;
		}
	}
	if (c->nseg == c->segcap) {
		c->segcap = c->segcap ? 2 * c->segcap : 16;
		c->segs = realloc(c->segs, c->segcap * sizeof(*c->segs));
		if (!c->segs)
			abort();
	}
	s = &c->segs[c->nseg++];
	s->start = c->exp_total;
	s->len = len;
	s->soff = soff;
	s->lit = lit;
	st(&c->exp_total, c->exp_total + len);
}

static void expect_stream(struct conn *c, __u64 soff, __u64 len)
{
	pthread_mutex_lock(&c->mu);
	seg_push(c, soff, len, NULL);
	pthread_mutex_unlock(&c->mu);
}

static void expect_lit(struct conn *c, const __u8 *p, __u64 len)
{
	__u8 *copy = malloc(len);

	if (!copy)
		abort();
	memcpy(copy, p, len);
	pthread_mutex_lock(&c->mu);
	seg_push(c, 0, len, copy);
	pthread_mutex_unlock(&c->mu);
}

/* Take back the last @len expected bytes: the host did not publish them. */
static void expect_trim(struct conn *c, __u64 len)
{
	pthread_mutex_lock(&c->mu);
	while (len && c->nseg) {
		struct seg *s = &c->segs[c->nseg - 1];
		__u64 k = len < s->len ? len : s->len;

		s->len -= k;
		st(&c->exp_total, c->exp_total - k);
		len -= k;
		if (!s->len) {
			free(s->lit);
			c->nseg--;
		}
	}
	pthread_mutex_unlock(&c->mu);
}

static void publish(struct conn *c)
{
	st(&c->published, c->exp_total);
}

static int seg_find(struct conn *c, __u64 off, int hint)
{
	int lo = 0, hi = c->nseg;

	if (hint < c->nseg && c->segs[hint].start <= off &&
	    off < c->segs[hint].start + c->segs[hint].len)
		return hint;
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (c->segs[mid].start + c->segs[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Check @n bytes delivered at offset @off. Returns -1 if they are what the
 * host sent; else the offset of the first wrong byte, with *@beyond set if
 * it is past everything the host sent.
 */
static long long expect_check(struct conn *c, int *hint, __u64 off,
			      const __u8 *p, size_t n, bool *beyond)
{
	long long bad = -1;
	int i;

	*beyond = false;
	pthread_mutex_lock(&c->mu);
	i = seg_find(c, off, *hint);
	while (n && off < c->lenient_from) {
		struct seg *s;
		__u64 in, k;

		if (i >= c->nseg) {
			*beyond = true;
			bad = off;
			break;
		}
		s = &c->segs[i];
		in = off - s->start;
		k = s->len - in;
		if (k > n)
			k = n;
		if (k > c->lenient_from - off)
			k = c->lenient_from - off;
		if (s->lit) {
			if (memcmp(p, s->lit + in, k)) {
				size_t j = 0;

				while (p[j] == s->lit[in + j])
					j++;
				bad = off + j;
				break;
			}
		} else {
			long long r = hvs_check(c->h2g_seed, s->soff + in, p, k);

			if (r >= 0) {
				bad = off + (r - (long long)(s->soff + in));
				break;
			}
		}
		off += k;
		p += k;
		n -= k;
		if (off == s->start + s->len)
			i++;
	}
	*hint = i;
	pthread_mutex_unlock(&c->mu);
	return bad;
}

/* The expected byte at @off, for reports. */
static int expect_byte(struct conn *c, __u64 off)
{
	int i, b = -1;
	__u8 x;

	pthread_mutex_lock(&c->mu);
	i = seg_find(c, off, 0);
	if (i < c->nseg) {
		struct seg *s = &c->segs[i];

		if (s->lit) {
			b = s->lit[off - s->start];
		} else {
			hvs_fill(c->h2g_seed, s->soff + off - s->start, &x, 1);
			b = x;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return b;
}

/* ------------------------------------------------------------ guest readers */

static void reader_log(struct reader *rd, const __u8 *p, size_t n)
{
	if (rd->logfull)
		return;
	if (rd->loglen + n > LOG_MAX) {
		rd->logfull = true;
		return;
	}
	if (rd->nchunks == rd->chunkcap) {
		rd->chunkcap = rd->chunkcap ? 2 * rd->chunkcap : 256;
		rd->chunks = realloc(rd->chunks,
				     rd->chunkcap * sizeof(*rd->chunks));
		if (!rd->chunks)
			abort();
	}
	rd->log = realloc(rd->log, rd->loglen + n);
	if (!rd->log)
		abort();
	memcpy(rd->log + rd->loglen, p, n);
	rd->loglen += n;
	rd->chunks[rd->nchunks++] = n;
}

/* @n bytes arrived (or were peeked) at the reader's offset. */
static void reader_got(struct reader *rd, const __u8 *p, size_t n, bool peek)
{
	struct conn *c = rd->c;
	__u64 off = rd->delivered;
	long long bad;
	bool beyond;

	if (c->rmode == RM_TWO) {
		reader_log(rd, p, n);
	} else if (!c->broken) {
		bad = expect_check(c, &rd->hint, off, p, n, &beyond);
		if (bad >= 0 && beyond)
			report_err(c, "guest %s %zu bytes at offset %llu: %llu beyond the %llu bytes the host sent",
				   peek ? "peeked" : "read", n,
				   (unsigned long long)off,
				   (unsigned long long)(off + n - bad),
				   (unsigned long long)bad);
		else if (bad >= 0)
			report_err(c, "guest %s a wrong byte at offset %llu: %#x, expected %#x (%zu bytes at %llu)",
				   peek ? "peeked" : "read",
				   (unsigned long long)bad, p[bad - off],
				   expect_byte(c, bad), n,
				   (unsigned long long)off);
	}
	if (!peek)
		st(&rd->delivered, off + n);
}

static void reader_op(struct reader *rd, const char *op, __u32 len)
{
	rd->op_len = len;
	rd->op_since = hvs_now_ms();
	st(&rd->op, op);
}

/* Around a call that must return as soon as anything is readable. */
static void wait_begin(struct reader *rd)
{
	st(&rd->wait_since, hvs_now_ms());
	st(&rd->waiting, 1);
}

static void wait_end(struct reader *rd)
{
	st(&rd->waiting, 0);
}

/*
 * The poll() oracle: this reader is the only consumer, so bytes published
 * before its poll() began and not read yet were on the ring all along; a
 * poll() that times out over them missed them.
 */
static ssize_t reader_poll_recv(struct reader *rd, __u8 *buf, size_t len)
{
	struct conn *c = rd->c;
	__u64 p0 = ld(&c->published);
	int ms = opt_stall_ms / 4, ev, inq;
	ssize_t n;

	wait_begin(rd);
	ev = hvs_poll(c->g, POLLIN, ms);
	wait_end(rd);
	if (ev < 0)
		return ev;
	if (!ev) {
		if (!c->poked && !c->prefix_ok && rd->delivered < p0)
			report_err(c, "poll() slept %d ms over %llu unread bytes published before it (delivered %llu of %llu)",
				   ms, (unsigned long long)(p0 - rd->delivered),
				   (unsigned long long)rd->delivered,
				   (unsigned long long)p0);
		errno = EAGAIN;
		return -1;
	}
	/* After an index fault the guest cannot see what came before it. */
	if (chance(&rd->rng, 10) && !c->poked && !c->prefix_ok &&
	    !ioctl(c->g, SIOCINQ, &inq)) {
		/* exp_total only grows by what is not published yet. */
		__u64 sent = ld(&c->exp_total);

		if ((__u64)inq > sent - rd->delivered)
			report_err(c, "SIOCINQ %d, but the host sent only %llu more bytes",
				   inq, (unsigned long long)(sent - rd->delivered));
		else if (rd->delivered < p0 && (__u64)inq < p0 - rd->delivered)
			report_err(c, "SIOCINQ %d with %llu bytes published and unread",
				   inq, (unsigned long long)(p0 - rd->delivered));
	}
	n = recv(c->g, buf, len, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN && !c->poked && !c->prefix_ok &&
	    (ev & (POLLIN | POLLERR | POLLHUP)) == POLLIN)
		report_err(c, "poll() reported POLLIN (revents %#x) but recv() says EAGAIN",
			   ev);
	return n;
}

static ssize_t reader_recv(struct reader *rd, __u8 *buf, bool *peek)
{
	struct conn *c = rd->c;
	__u32 want = rnd_size(&rd->rng, chance(&rd->rng, 10) ? IO_BUF : 4096);
	unsigned int x = rnd_below(&rd->rng, 100);
	int flags = 0;

	*peek = false;
	if (c->rmode == RM_POLL) {
		reader_op(rd, "poll+recv", want);
		return reader_poll_recv(rd, buf, want);
	}
	/* Small reads leave the rest of a packet on the ring. */
	if (c->rmode >= RM_TWO && chance(&rd->rng, 50))
		want = 1 + rnd_below(&rd->rng, 64);
	if (c->rmode == RM_BLOCK && x < 8) {
		*peek = true;
		flags = MSG_PEEK;
	} else if (c->rmode == RM_BLOCK && x < 16) {
		/*
		 * All of it must come: ask only for what the host published
		 * (it may have published more than it has said so far).
		 */
		__u64 pub = ld(&c->published);
		__u64 left = pub > rd->delivered ? pub - rd->delivered : 0;

		if (left > IO_BUF)
			left = IO_BUF;
		if (left && !c->poked && !c->prefix_ok &&
		    c->term_expect == TERM_NONE) {
			want = 1 + rnd_below(&rd->rng, left);
			flags = MSG_WAITALL;
			wait_end(rd);
		}
	} else if (x < 30) {
		struct iovec iov[3];
		__u32 a = rnd_below(&rd->rng, want + 1);
		__u32 b = rnd_below(&rd->rng, want - a + 1);

		iov[0].iov_base = buf;
		iov[0].iov_len = a;
		iov[1].iov_base = buf + a;
		iov[1].iov_len = b;
		iov[2].iov_base = buf + a + b;
		iov[2].iov_len = want - a - b;
		reader_op(rd, "readv", want);
		return readv(c->g, iov, 3);
	}
	reader_op(rd, flags == MSG_PEEK ? "recv(MSG_PEEK)" :
		  flags == MSG_WAITALL ? "recv(MSG_WAITALL)" : "recv", want);
	return recv(c->g, buf, want, flags);
}

static ssize_t reader_call(struct reader *rd, __u8 *buf, bool *peek)
{
	ssize_t n;

	/* MSG_WAITALL keeps what it has until all came: not a waiter. */
	wait_begin(rd);
	n = reader_recv(rd, buf, peek);
	wait_end(rd);
	return n;
}

/*
 * A reader that left data on the ring while the other reader or the poller
 * sleeps holds off: the sleeper must wake by itself, since the host sends
 * no interrupt for data already on the ring. It costs nothing when it does;
 * if it does not, the monitor reports the lost wakeup.
 */
static void reader_holdoff(struct reader *rd)
{
	struct conn *c = rd->c;
	struct reader *other = &c->rd[1 - rd->idx];
	long long t0, since;
	int inq;

	if (c->rmode < RM_TWO || c->quiet || c->poked || ld(&other->done) ||
	    !ld(&other->waiting))
		return;
	since = ld(&other->wait_since);
	if (ioctl(c->g, SIOCINQ, &inq) || inq <= 0)
		return;
	reader_op(rd, "holding off", inq);
	t0 = hvs_now_ms();
	while (ld(&other->waiting) && ld(&other->wait_since) == since &&
	       !ld(&other->done) && hvs_now_ms() - t0 < LOST_MS + 1000)
		hvs_msleep(1);
	add(&n_holdoffs, 1);
	if (hvs_now_ms() - t0 < LOST_MS)
		add(&n_holdoffs_woken, 1);
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct conn *c = rd->c;
	__u8 *buf = malloc(IO_BUF);
	bool peek;
	ssize_t n;
	int i;

	if (!buf)
		abort();
	st(&rd->tid, (int)gettid());
	for (;;) {
		n = reader_call(rd, buf, &peek);
		if (n > 0) {
			reader_got(rd, buf, n, peek);
			reader_holdoff(rd);
			continue;
		}
		if (!n) {
			rd->err = 0;
			break;
		}
		if (errno == EINTR || errno == EAGAIN)
			continue;
		rd->err = errno;
		break;
	}
	/* After the end, reads keep returning 0. */
	for (i = 0; i < 2; i++) {
		n = recv(c->g, buf, IO_BUF, MSG_DONTWAIT);
		rd->after[i] = n < 0 ? -errno : (int)n;
		if (n > 0)
			reader_got(rd, buf, n, false);
	}
	free(buf);
	st(&rd->done, 1);
	return NULL;
}

/*
 * RM_POLLER: poll() in a thread of its own while the reader reads. It must
 * report POLLIN whenever data is on the ring, also the rest of a packet the
 * reader left there; the monitor checks that it does not sleep over it.
 */
static void *poller_main(void *arg)
{
	struct reader *pl = arg;
	struct conn *c = pl->c;
	struct reader *rd = &c->rd[0];

	st(&pl->tid, (int)gettid());
	while (!ld(&rd->done)) {
		__u64 seen = ld(&rd->delivered);
		long long t0;
		int ev;

		reader_op(pl, "poll", 0);
		wait_begin(pl);
		ev = hvs_poll(c->g, POLLIN, opt_stall_ms / 2);
		wait_end(pl);
		if (ev <= 0)
			continue;
		/* Readable: wait for the reader to take it before polling again. */
		reader_op(pl, "waiting for the reader", 0);
		t0 = hvs_now_ms();
		while (ld(&rd->delivered) == seen && !ld(&rd->done) &&
		       hvs_now_ms() - t0 < 200)
			hvs_msleep(1);
	}
	st(&pl->done, 1);
	return NULL;
}

/* ------------------------------------------------------------ host reader */

static void *hreader_main(void *arg)
{
	struct conn *c = arg;
	__u8 *buf = malloc(IO_BUF);
	ssize_t n;

	if (!buf)
		abort();
	st(&c->hr_tid, (int)gettid());
	for (;;) {
		__u64 off = c->hr_read;

		n = read(c->h, buf, rnd_size(&c->hr_rng, 16384));
		if (n > 0) {
			__u64 chk = n;
			long long bad;

			if (off + n > ld(&c->g_queued) && !c->broken &&
			    off + n > c->hr_lenient_from)
				report_err(c, "host read %llu bytes beyond the %llu the guest sent",
					   (unsigned long long)(off + n - c->g_queued),
					   (unsigned long long)c->g_queued);
			if (off >= c->hr_lenient_from)
				chk = 0;
			else if (off + chk > c->hr_lenient_from)
				chk = c->hr_lenient_from - off;
			bad = chk ? hvs_check(c->g2h_seed, off, buf, chk) : -1;
			if (bad >= 0 && !c->broken)
				report_err(c, "host read a wrong byte at offset %lld of the guest's stream",
					   bad);
			st(&c->hr_read, off + n);
			continue;
		}
		if (!n) {
			c->hr_err = 0;
			break;
		}
		if (errno == EINTR)
			continue;
		c->hr_err = errno;
		break;
	}
	free(buf);
	st(&c->hr_done, 1);
	return NULL;
}

/* ------------------------------------------------------------ guest writer */

static void *gwriter_main(void *arg)
{
	struct conn *c = arg;
	__u8 *buf = malloc(IO_BUF);
	__u64 end = c->g_sent + c->gw_quota;
	ssize_t n;

	if (!buf)
		abort();
	st(&c->gw_tid, (int)gettid());
	while (c->g_sent < end) {
		__u32 want = rnd_size(&c->gw_rng,
				      chance(&c->gw_rng, 10) ? IO_BUF : 8192);
		bool nb = chance(&c->gw_rng, 20);

		if (want > end - c->g_sent)
			want = end - c->g_sent;
		hvs_fill(c->g2h_seed, c->g_sent, buf, want);
		st(&c->g_queued, c->g_sent + want);
		n = send(c->g, buf, want,
			 MSG_NOSIGNAL | (nb ? MSG_DONTWAIT : 0));
		if (n > 0) {
			st(&c->g_sent, c->g_sent + n);
			continue;
		}
		if (n < 0 && errno == EAGAIN && nb) {
			hvs_poll(c->g, POLLOUT, opt_stall_ms / 4);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		c->gw_err = n < 0 ? errno : EIO;
		break;
	}
	free(buf);
	st(&c->gw_done, 1);
	return NULL;
}

/* ------------------------------------------------------------ host writer */

/*
 * The host writer's own waits (ring space, a drained reader) outlast the
 * controller's stall time, so that a stuck guest is reported as a hang
 * rather than waited out.
 */
static bool time_left(long long since)
{
	return hvs_now_ms() - since < 2LL * opt_stall_ms;
}

/* HVSIM_IOC_INJECT, waiting for ring space as long as the guest reads. */
static int hw_inject(struct conn *c, struct hvsim_inject *in)
{
	long long t0 = hvs_now_ms();
	int ret;

	for (;;) {
		ret = ioctl(c->h, HVSIM_IOC_INJECT, in);
		if (ret >= 0)
			return ret;
		if (errno != EAGAIN || !time_left(t0))
			return -errno;
		if (hvs_poll(c->h, POLLOUT, 100) & POLLOUT)
			hvs_msleep(1);
	}
}

static void do_rescind(struct conn *c)
{
	if (c->rescinded)
		return;
	c->rescinded = true;
	c->out_exact = false;
	if (c->term_expect == TERM_NONE)
		c->term_expect = TERM_EOF_OR_RESET;
	hvs_host_rescind(c->h);
}

/* A spurious interrupt, or the one owed after unsignalled packets. */
static int hw_signal(struct conn *c)
{
	struct hvsim_inject in;

	memset(&in, 0, sizeof(in));
	in.data = (__u64)(unsigned long)c->pb->buf;
	in.kind = HVSIM_INJECT_RAW;
	in.flags = HVSIM_INJECT_F_SIGNAL;
	return hw_inject(c, &in) < 0 ? -errno : 0;
}

static __u32 sig_flags(struct rng *r)
{
	unsigned int x = rnd_below(r, 100);

	if (x < 5)
		return HVSIM_INJECT_F_SIGNAL;
	if (x < 12)
		return HVSIM_INJECT_F_NO_SIGNAL;
	return 0;
}

/* After packets published without an interrupt, owe the guest one. */
static int hw_settle(struct conn *c, struct rng *r, __u32 flags)
{
	if (!(flags & HVSIM_INJECT_F_NO_SIGNAL))
		return 0;
	if (chance(r, 50))
		hvs_msleep(rnd_below(r, 4));
	return hw_signal(c);
}

static int hw_write(struct conn *c, struct rng *r)
{
	__u32 n = rnd_size(r, chance(r, 5) ? 20000 : 2048);
	__u64 soff = c->h2g_next;
	ssize_t w;

	hvs_fill(c->h2g_seed, soff, c->wbuf, n);
	expect_stream(c, soff, n);
	w = hvs_write_full(c->h, c->wbuf, n);
	if (w != n)
		expect_trim(c, n - (w > 0 ? w : 0));
	if (w > 0) {
		c->h2g_next += w;
		publish(c);
	}
	if (w == n)
		return 0;
	return w < 0 ? (int)w : -EIO;
}

static int hw_pipe(struct conn *c, struct rng *r)
{
	__u32 n = rnd_size(r, 2048);
	struct hvsim_inject in;
	int ret;

	memset(&in, 0, sizeof(in));
	hvs_fill(c->h2g_seed, c->h2g_next, c->wbuf, n);
	in.data = (__u64)(unsigned long)c->wbuf;
	in.len = n;
	in.kind = HVSIM_INJECT_PIPE;
	in.flags = sig_flags(r);
	in.pkt_type = VM_PKT_DATA_INBAND;
	in.pkt_flags = chance(r, 10) ? rnd64(r) : 0;
	in.pipe_type = PIPE_DATA;
	in.trans_id = chance(r, 30) ? rnd64(r) : 0;
	expect_stream(c, c->h2g_next, n);
	ret = hw_inject(c, &in);
	if (ret < 0) {
		expect_trim(c, n);
		return ret;
	}
	c->h2g_next += n;
	publish(c);
	add(&n_packets, 1);
	return hw_settle(c, r, in.flags);
}

static void pb_reset(struct pktbuf *pb)
{
	pb->len = 0;
	pb->nrec = 0;
	pb->npkts = 0;
}

/* Up to @k valid packets of small payloads, at most @max ring bytes. */
static __u64 pb_valid_run(struct conn *c, struct rng *r, struct pktbuf *pb,
			  int k, __u32 max, __u64 soff)
{
	__u32 small = chance(r, 70) ? 64 : 1024;

	while (k-- > 0) {
		__u32 n = rnd_size(r, small);

		if (pb->len + PKT_LEN(n) + 40 > max)
			break;
		pkt_valid(r, pb, c->h2g_seed, soff, n);
		soff += n;
	}
	return soff;
}

/* A batch of valid packets in one RAW injection. */
static int hw_raw(struct conn *c, struct rng *r)
{
	struct pktbuf *pb = c->pb;
	struct hvsim_inject in;
	__u64 end;
	int i, nsl, ret;

	pb_reset(pb);
	end = pb_valid_run(c, r, pb, 1 + rnd_below(r, 40), RAW_MAX,
			   c->h2g_next);
	/* The layout must be what the reference accepts. */
	if (ref_parse(pb->buf, pb->len, c->sl, &nsl) != REF_CLEAN ||
	    nsl != pb->nrec) {
		fh_info("fuzz_host: internal error: a valid batch does not parse\n");
		abort();
	}
	for (i = 0; i < pb->nrec; i++)
		expect_stream(c, pb->rec[i].soff, pb->rec[i].n);

	memset(&in, 0, sizeof(in));
	in.data = (__u64)(unsigned long)pb->buf;
	in.len = pb->len;
	in.kind = HVSIM_INJECT_RAW;
	in.flags = sig_flags(r);
	ret = hw_inject(c, &in);
	if (ret < 0) {
		expect_trim(c, end - c->h2g_next);
		return ret;
	}
	c->h2g_next = end;
	publish(c);
	add(&n_packets, pb->npkts);
	return hw_settle(c, r, in.flags);
}

static int hw_op(struct conn *c, struct rng *r)
{
	unsigned int x = rnd_below(r, 100);

	if (x < 30)
		return hw_write(c, r);
	if (x < 45)
		return hw_pipe(c, r);
	if (x < 93)
		return hw_raw(c, r);
	if (x < 97)
		return hw_signal(c);
	hvs_msleep(1 + rnd_below(r, 10));
	return 0;
}

/* ------------------------------------------------------------ faults */

static void wait_drained(struct conn *c)
{
	long long t0 = hvs_now_ms();

	while (delivered_sum(c) < c->exp_total && !readers_done(c) &&
	       time_left(t0))
		hvs_msleep(2);
}

/*
 * Publish @pb (the exact ring bytes of @in) after telling the readers what
 * the reference makes of it. A fault that does not fit the ring in time is
 * dropped.
 */
static int inject_ref(struct conn *c, struct hvsim_inject *in,
		      struct pktbuf *pb, __u64 soff_end)
{
	__u64 mark = c->exp_total;
	int old_term = c->term_expect;
	int res, nsl, i, j, ret;

	res = ref_parse(pb->buf, pb->len, c->sl, &nsl);
	for (i = 0; i < nsl; i++) {
		struct ref_slice *s = &c->sl[i];

		for (j = 0; j < pb->nrec; j++)
			if (pb->rec[j].data_off == s->off &&
			    pb->rec[j].n == s->len)
				break;
		if (j < pb->nrec)
			expect_stream(c, pb->rec[j].soff, s->len);
		else
			expect_lit(c, pb->buf + s->off, s->len);
	}
	if (res == REF_FIN && c->term_expect == TERM_NONE)
		c->term_expect = TERM_EOF;
	if (res == REF_BAD && c->term_expect == TERM_NONE)
		c->term_expect = TERM_RESET;

	ret = hw_inject(c, in);
	if (ret < 0) {
		expect_trim(c, c->exp_total - mark);
		c->term_expect = old_term;
		return ret == -EAGAIN ? 0 : ret;
	}
	c->h2g_next = soff_end;
	publish(c);
	add(&n_packets, pb->npkts ? pb->npkts : 1);
	snprintf(c->note, sizeof(c->note),
		 "%u ring bytes with %d packets: the reference delivers %llu more bytes, then %s",
		 pb->len, pb->npkts, (unsigned long long)(c->exp_total - mark),
		 res == REF_CLEAN ? "goes on" : res == REF_FIN ? "EOF" :
		 "ECONNRESET");
	return 0;
}

static int inject_raw_ref(struct conn *c, struct rng *r, struct pktbuf *pb,
			  __u64 soff_end)
{
	struct hvsim_inject in;

	memset(&in, 0, sizeof(in));
	in.data = (__u64)(unsigned long)pb->buf;
	in.len = pb->len;
	in.kind = HVSIM_INJECT_RAW;
	/* The last thing published: the guest must be interrupted as usual. */
	in.flags = chance(r, 20) ? HVSIM_INJECT_F_SIGNAL : 0;
	return inject_ref(c, &in, pb, soff_end);
}

static __u16 bad_type(struct rng *r)
{
	static const __u16 t[] = { 0, 1, 5, 7, 8, 9, 10, 11, 0x42, 0xffff };
	__u16 v = chance(r, 80) ? t[rnd_below(r, 10)] : rnd64(r);

	return v == VM_PKT_DATA_INBAND ? v + 1 : v;
}

/* Break the packet at @ps in @pb; true if it was cut short. */
static bool mutate(struct rng *r, struct pktbuf *pb, __u32 ps)
{
	__u8 *p = pb->buf + ps;
	struct fh_desc d;
	struct fh_pipe ph;
	__u32 doff, cap, i, k;
	int m = rnd_below(r, 9);

	memcpy(&d, p, sizeof(d));
	doff = (__u32)d.offset8 * 8;
	memcpy(&ph, p + doff, sizeof(ph));
	cap = (__u32)d.len8 * 8 - doff - PIPE_LEN;

	switch (m) {
	case 0:
		d.type = bad_type(r);
		break;
	case 1:
		d.len8 = chance(r, 50) ? rnd_below(r, 4) : rnd_below(r, d.len8);
		break;
	case 2:
		k = rnd_below(r, 3);
		d.len8 = k == 0 ? d.len8 + 1 + rnd_below(r, 4) :
			 k == 1 ? 0xffffU : d.len8 + RING_DATA / 8U;
		break;
	case 3:
		k = rnd_below(r, 5);
		d.offset8 = k == 0 ? rnd_below(r, 2) : k == 1 ? d.len8 :
			    k == 2 ? 0xffffU : k == 3 ? d.offset8 + 1U :
			    (__u32)rnd64(r);
		break;
	case 4:
		k = rnd_below(r, 4);
		ph.pkt_type = k == 0 ? 0 : k == 1 ? 2 : k == 2 ? 0xffffffff :
			      rnd64(r) | 2;
		break;
	case 5:
		k = rnd_below(r, 7);
		ph.data_size = k == 0 ? ph.data_size + 1 : k == 1 ? cap + 1 :
			       k == 2 ? MTU + 1 : k == 3 ? 0x7fffffff :
			       k == 4 ? 0xffffffff : k == 5 ? 0x80000000 :
			       (__u32)rnd64(r);
		break;
	case 6:
		for (i = 1 + rnd_below(r, 3); i; i--) {
			k = rnd_below(r, (doff + PIPE_LEN) * 8);
			p[k / 8] ^= 1U << (k % 8);
		}
		return false;
	case 7:
		pb->len = ps + 8 * rnd_below(r, (pb->len - ps) / 8);
		return true;
	default:
		memset(p, 0, PKT_LEN(0));
		return false;
	}
	memcpy(p, &d, sizeof(d));
	memcpy(p + doff, &ph, sizeof(ph));
	return false;
}

/* What may follow a bad packet in the same injection. */
static __u64 tail(struct conn *c, struct rng *r, struct pktbuf *pb,
		  __u64 soff)
{
	__u32 n;

	if (chance(r, 30)) {
		n = 8 * (1 + rnd_below(r, 32));
		fill_junk(r, pb->buf + pb->len, n);
		pb->len += n;
		pb->npkts++;
		return soff;
	}
	/* A FIN, then data that must never arrive. */
	if (chance(r, 50))
		pkt_valid(r, pb, c->h2g_seed, soff, 0);
	return pb_valid_run(c, r, pb, 1 + rnd_below(r, 5), RAW_MAX + 1024,
			    soff);
}

static int fault_badraw(struct conn *c, struct rng *r)
{
	struct pktbuf *pb = c->pb;
	__u64 soff;
	__u32 ps, n;

	pb_reset(pb);
	soff = pb_valid_run(c, r, pb, rnd_below(r, 8), RAW_MAX, c->h2g_next);
	ps = pb->len;
	n = chance(r, 10) ? 0 : rnd_size(r, 512);
	pkt_valid(r, pb, c->h2g_seed, soff, n);
	soff += n;
	if (!mutate(r, pb, ps) && chance(r, 50))
		soff = tail(c, r, pb, soff);
	return inject_raw_ref(c, r, pb, soff);
}

static int fault_garbage(struct conn *c, struct rng *r)
{
	struct pktbuf *pb = c->pb;
	__u32 n = 8 * (1 + rnd_below(r, 128));
	__u64 soff;

	pb_reset(pb);
	soff = pb_valid_run(c, r, pb, rnd_below(r, 4), RAW_MAX, c->h2g_next);
	fill_junk(r, pb->buf + pb->len, n);
	if (chance(r, 50)) {
		/* Garbage that starts like a packet. */
		struct fh_desc d = {
			.type = VM_PKT_DATA_INBAND,
			.offset8 = 2,
			.len8 = rnd_below(r, n / 8 + 4),
		};

		memcpy(pb->buf + pb->len, &d, 6);
	}
	pb->len += n;
	pb->npkts++;
	return inject_raw_ref(c, r, pb, soff);
}

/*
 * The ring bytes an HVSIM_IOC_INJECT of kind PACKET or PIPE writes, as
 * hvsim.h specifies them; the trailer holds the packet's ring offset.
 */
static int inject_layout(struct conn *c, const struct hvsim_inject *in,
			 __u64 soff, bool stream, struct pktbuf *pb)
{
	bool pipe = in->kind == HVSIM_INJECT_PIPE;
	__u32 body = (pipe ? PIPE_LEN : 0) + in->len;
	struct hvsim_conn_info ci;
	struct fh_desc d;
	struct fh_pipe ph;
	__u64 trailer;
	__u8 *p;

	if (hvs_host_info(c->h, &ci))
		return -errno;
	pb_reset(pb);
	p = pb->buf;
	d.type = in->pkt_type;
	d.flags = in->pkt_flags;
	d.offset8 = in->flags & HVSIM_INJECT_F_OFFSET8 ? in->offset8 : 2;
	d.len8 = in->flags & HVSIM_INJECT_F_LEN8 ? in->len8 :
		 (DESC_LEN + ALIGN8(body)) / 8;
	d.trans_id = in->trans_id;
	memcpy(p, &d, sizeof(d));
	if (pipe) {
		ph.pkt_type = in->pipe_type;
		ph.data_size = in->flags & HVSIM_INJECT_F_DATA_SIZE ?
			       in->pipe_data_size : in->len;
		memcpy(p + DESC_LEN, &ph, sizeof(ph));
	}
	memcpy(p + DESC_LEN + body - in->len,
	       (void *)(unsigned long)in->data, in->len);
	memset(p + DESC_LEN + body, 0, ALIGN8(body) - body);
	trailer = (__u64)ci.in_ring[1] << 32;
	memcpy(p + DESC_LEN + ALIGN8(body), &trailer, sizeof(trailer));
	pb->len = PKT_LEN(body) - PIPE_LEN;
	pb->npkts = 1;
	if (stream && in->len) {
		pb->rec[0].data_off = DESC_LEN + body - in->len;
		pb->rec[0].n = in->len;
		pb->rec[0].soff = soff;
		pb->nrec = 1;
	}
	return 0;
}

static int fault_badinj(struct conn *c, struct rng *r)
{
	static const __u16 len8s[] = { 0, 1, 2, 3, 0xffff };
	bool pipe = chance(r, 70), stream = chance(r, 80);
	__u32 n = chance(r, 15) ? 0 : rnd_size(r, 2048);
	__u32 def8 = (DESC_LEN + ALIGN8((pipe ? PIPE_LEN : 0) + n)) / 8;
	struct hvsim_inject in;
	int ret;

	memset(&in, 0, sizeof(in));
	if (stream)
		hvs_fill(c->h2g_seed, c->h2g_next, c->wbuf, n);
	else
		fill_junk(r, c->wbuf, n);
	in.data = (__u64)(unsigned long)c->wbuf;
	in.len = n;
	in.kind = pipe ? HVSIM_INJECT_PIPE : HVSIM_INJECT_PACKET;
	in.pkt_type = chance(r, 70) ? VM_PKT_DATA_INBAND : bad_type(r);
	in.pkt_flags = chance(r, 20) ? rnd64(r) : 0;
	in.trans_id = rnd64(r);
	in.pipe_type = chance(r, 75) ? PIPE_DATA : rnd_below(r, 4) * 2;
	if (chance(r, 30)) {
		in.flags |= HVSIM_INJECT_F_OFFSET8;
		in.offset8 = chance(r, 70) ? rnd_below(r, 6) : rnd64(r);
	}
	if (chance(r, 35)) {
		in.flags |= HVSIM_INJECT_F_LEN8;
		switch (rnd_below(r, 3)) {
		case 0:
			in.len8 = len8s[rnd_below(r, 5)];
			break;
		case 1:
			in.len8 = def8 - 1 + 2 * rnd_below(r, 2);
			break;
		default:
			in.len8 = def8 + rnd_below(r, 16);
		}
	}
	if (pipe && chance(r, 40)) {
		static const __u32 big[] = { MTU + 1, 0xffffffff, 0x80000000 };

		in.flags |= HVSIM_INJECT_F_DATA_SIZE;
		switch (rnd_below(r, 4)) {
		case 0:
			in.pipe_data_size = n + 1 + rnd_below(r, 8);
			break;
		case 1:
			in.pipe_data_size = n ? rnd_below(r, n) : 0;
			break;
		case 2:
			in.pipe_data_size = big[rnd_below(r, 3)];
			break;
		default:
			in.pipe_data_size = rnd64(r);
		}
	}
	if (chance(r, 20))
		in.flags |= HVSIM_INJECT_F_SIGNAL;
	ret = inject_layout(c, &in, c->h2g_next, stream, c->pb);
	if (ret)
		return ret;
	return inject_ref(c, &in, c->pb, c->h2g_next + (stream ? n : 0));
}

/* A FIN where the stream does not expect one, and data after it. */
static int fault_fin_odd(struct conn *c, struct rng *r)
{
	struct pktbuf *pb = c->pb;
	struct hvsim_inject in;
	__u64 soff = c->h2g_next;
	int ret, i;

	if (chance(r, 50)) {
		pb_reset(pb);
		if (chance(r, 70))
			soff = pb_valid_run(c, r, pb, rnd_below(r, 8), RAW_MAX,
					    soff);
		pkt_valid(r, pb, c->h2g_seed, soff, 0);
		soff = tail(c, r, pb, soff);
		return inject_raw_ref(c, r, pb, soff);
	}
	memset(&in, 0, sizeof(in));
	in.data = (__u64)(unsigned long)c->wbuf;
	in.kind = HVSIM_INJECT_PIPE;
	in.pkt_type = VM_PKT_DATA_INBAND;
	in.pkt_flags = chance(r, 20) ? rnd64(r) : 0;
	in.pipe_type = PIPE_DATA;
	in.trans_id = rnd64(r);
	ret = inject_layout(c, &in, soff, true, pb);
	if (!ret)
		ret = inject_ref(c, &in, pb, soff);
	/* Data after the FIN: the guest must never deliver it. */
	for (i = rnd_below(r, 5); !ret && i; i--) {
		__u32 n = rnd_size(r, 512);

		hvs_fill(c->h2g_seed, c->h2g_next, c->wbuf, n);
		in.len = n;
		in.flags = 0;
		if (ioctl(c->h, HVSIM_IOC_INJECT, &in) < 0)
			break;
		c->h2g_next += n;
		add(&n_packets, 1);
	}
	return ret;
}

static int fault_unaligned(struct conn *c, struct rng *r)
{
	struct pktbuf *pb = c->pb;
	struct hvsim_inject in;
	__u32 k = 1 + rnd_below(r, 7);
	int ret;

	pb_reset(pb);
	pb_valid_run(c, r, pb, 1 + rnd_below(r, 5), RAW_MAX, c->h2g_next);
	if (chance(r, 50)) {
		pb->len -= k;
	} else {
		fill_junk(r, pb->buf + pb->len, k);
		pb->len += k;
	}
	memset(&in, 0, sizeof(in));
	in.data = (__u64)(unsigned long)pb->buf;
	in.len = pb->len;
	in.kind = HVSIM_INJECT_RAW;
	/* The write index is misaligned for good: nothing after it counts. */
	if (c->term_expect == TERM_NONE)
		c->term_expect = TERM_RESET;
	c->prefix_ok = !c->drained;
	ret = hw_inject(c, &in);
	if (ret < 0) {
		c->term_expect = TERM_NONE;
		c->prefix_ok = false;
		return ret == -EAGAIN ? 0 : ret;
	}
	add(&n_packets, pb->npkts);
	snprintf(c->note, sizeof(c->note), "RAW of %u bytes: write index misaligned",
		 pb->len);
	return 0;
}

static int fault_oversize(struct conn *c, struct rng *r)
{
	struct pktbuf *pb = c->pb;
	__u32 n = MTU + 1 + rnd_below(r, 64);
	struct hvsim_inject in;
	int ret;

	hvs_fill(c->h2g_seed, c->h2g_next, c->wbuf, n);
	if (chance(r, 50)) {
		pb_reset(pb);
		pkt_valid(r, pb, c->h2g_seed, c->h2g_next, n);
		return inject_raw_ref(c, r, pb, c->h2g_next + n);
	}
	memset(&in, 0, sizeof(in));
	in.data = (__u64)(unsigned long)c->wbuf;
	in.len = n;
	in.kind = HVSIM_INJECT_PIPE;
	in.pkt_type = VM_PKT_DATA_INBAND;
	in.pipe_type = PIPE_DATA;
	ret = inject_layout(c, &in, c->h2g_next, true, pb);
	return ret ? ret : inject_ref(c, &in, pb, c->h2g_next + n);
}

static __u32 poke_value(struct rng *r, __u32 cur)
{
	switch (rnd_below(r, 8)) {
	case 0:
		return cur + 1 + rnd_below(r, 7);
	case 1:
		return RING_DATA;
	case 2:
		return RING_DATA + 8 * (1 + rnd_below(r, 64));
	case 3:
		return chance(r, 50) ? 0xfffffff8 : 0xffffffff;
	case 4:
		return 8 * rnd_below(r, RING_DATA / 8);
	case 5:
		return (cur + RING_DATA - 8 * (1 + rnd_below(r, 64))) % RING_DATA;
	case 6:
		return (cur + 8 * (1 + rnd_below(r, 64))) % RING_DATA;
	default:
		return rnd64(r);
	}
}

static const char * const field_names[] = {
	"read_index", "write_index", "interrupt_mask", "pending_send_sz",
};

static int poke(struct conn *c, struct hvsim_poke *pk)
{
	if (ioctl(c->h, HVSIM_IOC_POKE, pk))
		return errno == ENOTCONN ? 0 : -errno;
	snprintf(c->note, sizeof(c->note), "%s ring %s %#x -> %#x%s",
		 pk->ring == HVSIM_RING_IN ? "inbound" : "outbound",
		 field_names[pk->field], pk->old, pk->value,
		 pk->flags ? " + interrupt" : "");
	return 0;
}

/* Overwrite an index: bytes before it stay exact, after it anything goes. */
static int fault_poke_idx(struct conn *c, struct rng *r)
{
	unsigned int x = rnd_below(r, 100);
	struct hvsim_conn_info ci;
	struct hvsim_poke pk;
	__u32 *ring;
	int ret;

	if (hvs_host_info(c->h, &ci))
		return -errno;
	memset(&pk, 0, sizeof(pk));
	pk.ring = x < 65 ? HVSIM_RING_IN : HVSIM_RING_OUT;
	pk.field = x < 55 || x >= 90 ? HVSIM_POKE_WRITE_INDEX :
		   HVSIM_POKE_READ_INDEX;
	/* ci.in_ring and out_ring are indexed like pk.field. */
	ring = pk.ring == HVSIM_RING_IN ? ci.in_ring : ci.out_ring;
	pk.value = poke_value(r, ring[pk.field]);
	pk.flags = chance(r, 50) ? HVSIM_POKE_F_SIGNAL : 0;

	pthread_mutex_lock(&c->mu);
	c->poked = true;
	c->prefix_ok = true;
	c->out_exact = false;
	c->term_expect = TERM_ANY;
	if (pk.ring == HVSIM_RING_IN)
		c->lenient_from = c->exp_total;
	else
		c->hr_lenient_from = ld(&c->hr_read);
	pthread_mutex_unlock(&c->mu);
	ret = poke(c, &pk);
	hvs_msleep(rnd_below(r, 50));
	return ret;
}

/* Mislead the other side's signalling: stalls are allowed until a rescind. */
static int poke_signal(struct conn *c, struct rng *r)
{
	static const __u32 pend[] = { 0, 8, RING_DATA, 0xffffffff };
	struct hvsim_poke pk;

	memset(&pk, 0, sizeof(pk));
	pk.ring = chance(r, 50) ? HVSIM_RING_IN : HVSIM_RING_OUT;
	pk.field = chance(r, 50) ? HVSIM_POKE_INTERRUPT_MASK :
		   HVSIM_POKE_PENDING_SEND_SZ;
	if (pk.field == HVSIM_POKE_INTERRUPT_MASK)
		pk.value = chance(r, 80);
	else
		pk.value = chance(r, 80) ? pend[rnd_below(r, 4)] : rnd64(r);
	pk.flags = chance(r, 50) ? HVSIM_POKE_F_SIGNAL : 0;
	c->out_exact = false;
	c->quiet = true;
	return poke(c, &pk);
}

static int fault_rescind(struct conn *c, struct rng *r)
{
	/* Leave data of the guest unread: the guest sees a reset. */
	if (chance(r, 40)) {
		hvs_host_stop_drain(c->h, 1);
		hvs_msleep(10 + rnd_below(r, 40));
	}
	do_rescind(c);
	return 0;
}

static int hw_fault(struct conn *c, struct rng *r)
{
	int err = 0;

	if (c->plan == P_CLEAN || c->plan == P_POKE_SIG)
		return 0;
	c->faulted = true;
	if (c->drained || c->plan == P_OVERSIZE)
		wait_drained(c);
	switch (c->plan) {
	case P_BADRAW:
		err = fault_badraw(c, r);
		break;
	case P_BADINJ:
		err = fault_badinj(c, r);
		break;
	case P_GARBAGE:
		err = fault_garbage(c, r);
		break;
	case P_FIN_ODD:
		err = fault_fin_odd(c, r);
		break;
	case P_FIN:
		c->term_expect = TERM_EOF;
		err = hvs_host_shutdown(c->h);
		if (err)
			c->term_expect = TERM_NONE;
		break;
	case P_RESCIND:
		err = fault_rescind(c, r);
		break;
	case P_UNALIGNED:
		err = fault_unaligned(c, r);
		break;
	case P_POKE_IDX:
		err = fault_poke_idx(c, r);
		break;
	case P_OVERSIZE:
		err = fault_oversize(c, r);
		break;
	}
	if (!err && c->rescind_after) {
		hvs_msleep(rnd_below(r, 20));
		do_rescind(c);
	}
	return err;
}

static void *hwriter_main(void *arg)
{
	struct conn *c = arg;
	struct rng *r = &c->hw_rng;
	int poke_at = c->plan == P_POKE_SIG ? (int)rnd_below(r, c->ops + 1) : -1;
	int drain_on = chance(r, 10) ? (int)rnd_below(r, c->ops + 1) : -1;
	int drain_off = drain_on + (int)rnd_below(r, c->ops + 1);
	int i, err = 0;

	st(&c->hw_tid, (int)gettid());
	for (i = 0; i <= c->ops && !err; i++) {
		if (i == poke_at)
			err = poke_signal(c, r);
		if (i == drain_on)
			hvs_host_stop_drain(c->h, 1);
		if (i == drain_off)
			hvs_host_stop_drain(c->h, 0);
		if (i < c->ops && !err)
			err = hw_op(c, r);
	}
	if (drain_on >= 0 && !c->rescinded)
		hvs_host_stop_drain(c->h, 0);
	if (!err)
		err = hw_fault(c, r);
	c->hw_err = err < 0 ? -err : 0;
	st(&c->hw_done, 1);
	return NULL;
}

/* ------------------------------------------------------------ checks */

static struct rng ctl_rng;

/* The controller's blocking call, for the watchdog. */
static const char *ctl_what;
static int ctl_conn;
static long long ctl_since;

static void ctl_enter(struct conn *c, const char *what)
{
	ctl_conn = c ? c->id : -1;
	st(&ctl_since, hvs_now_ms());
	st(&ctl_what, what);
}

static void ctl_leave(void)
{
	st(&ctl_what, (const char *)NULL);
}

static __u64 progress(struct conn *c)
{
	return delivered_sum(c) + ld(&c->hr_read) + ld(&c->g_sent) +
	       ld(&c->published) + ld(&c->hw_done) + ld(&c->gw_done) +
	       ld(&c->rd[0].done) + ld(&c->rd[1].done) + ld(&c->hr_done);
}

static bool threads_done(struct conn *c)
{
	return readers_done(c) && ld(&c->hr_done) &&
	       (!c->hw_running || ld(&c->hw_done)) &&
	       (!c->gw_running || ld(&c->gw_done));
}

/*
 * After a hang: a rescind must still end every thread of the connection;
 * if it does not, nothing can be trusted any more.
 */
static void recover(struct conn *c)
{
	long long t0 = hvs_now_ms();

	do_rescind(c);
	hvs_host_stop_drain(c->h, 0);
	while (!threads_done(c)) {
		if (!time_left(t0)) {
			fh_info("fuzz_host: conn %d: its threads do not finish even after a rescind\n",
				c->id);
			print_conn(c);
			summary();
			_exit(1);
		}
		hvs_msleep(10);
	}
}

/* Wait for @done; a connection that stops moving for the stall time hangs. */
static bool wait_for(struct conn *c, bool (*done)(struct conn *),
		     const char *what)
{
	long long since = hvs_now_ms();
	__u64 last = progress(c), p;

	while (!done(c)) {
		/*
		 * An overwritten index or signalling field may stall the
		 * connection (a read index held back keeps the guest from
		 * signalling new data): that is what the rescind is for.
		 */
		bool misled = (c->quiet || c->poked) && !c->rescinded;

		p = progress(c);
		if (p != last) {
			last = p;
			since = hvs_now_ms();
		} else if (hvs_now_ms() - since >= (misled ? 2000 : opt_stall_ms)) {
			if (misled) {
				do_rescind(c);
				since = hvs_now_ms();
				continue;
			}
			hang(c, what);
			recover(c);
			return false;
		}
		hvs_msleep(5);
	}
	return true;
}

static bool writers_done(struct conn *c)
{
	return ld(&c->hw_done) && ld(&c->gw_done);
}

static bool hr_done(struct conn *c)
{
	return ld(&c->hr_done);
}

static bool out_exact(struct conn *c)
{
	return c->out_exact && !c->rescinded &&
	       c->term_expect != TERM_RESET && c->term_expect != TERM_ANY;
}

/* Everything the host sent arrived, both ways. */
static bool all_arrived(struct conn *c)
{
	bool in = c->term_expect == TERM_NONE ?
		  delivered_sum(c) >= c->exp_total : readers_done(c);

	if (readers_done(c) && c->term_expect == TERM_NONE)
		return true;	/* an early end: the verdict says so */
	if (!out_exact(c) || ld(&c->hr_done))
		return in;
	return in && ld(&c->hr_read) >= ld(&c->g_sent);
}

static int reader_err(struct conn *c)
{
	int i, err = 0;

	/* Of two readers, one sees the reset and the other EOF after it. */
	for (i = 0; i < c->nreaders; i++)
		if (c->rd[i].err && err != ECONNRESET)
			err = c->rd[i].err;
	return err;
}

static const char *err_name(int err)
{
	return err ? strerror(err) : "EOF";
}

static void expect_copy(struct conn *c, __u8 *dst, __u64 len)
{
	__u64 off = 0;
	int i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->nseg && off < len; i++) {
		struct seg *s = &c->segs[i];
		__u64 k = s->len < len - off ? s->len : len - off;

		if (s->lit)
			memcpy(dst + off, s->lit, k);
		else
			hvs_fill(c->h2g_seed, s->soff, dst + off, k);
		off += k;
	}
	pthread_mutex_unlock(&c->mu);
}

/*
 * Two readers: their chunks, each reader's in its own order, must
 * interleave into exactly the bytes the host sent (a prefix of them).
 */
static void merge_check(struct conn *c)
{
	struct reader *a = &c->rd[0], *b = &c->rd[1];
	__u64 total = a->loglen + b->loglen;
	struct choice {
		int i, j;
		__u64 ao, bo;
	} *stack;
	int i = 0, j = 0, sp = 0, spmax = a->nchunks + b->nchunks + 1;
	__u64 ao = 0, bo = 0, steps = 0;
	bool ok = false;
	__u8 *e;

	if (c->rmode != RM_TWO || c->broken || a->logfull || b->logfull)
		return;
	if (total > c->exp_total) {
		report_err(c, "two readers got %llu bytes, the host sent %llu",
			   (unsigned long long)total,
			   (unsigned long long)c->exp_total);
		return;
	}
	e = malloc(total + 1);
	stack = malloc(spmax * sizeof(*stack));
	if (!e || !stack)
		abort();
	expect_copy(c, e, total);
	while (steps++ < 4000000) {
		__u64 off = ao + bo;
		bool ma, mb;

		if (i == a->nchunks && j == b->nchunks) {
			ok = true;
			break;
		}
		ma = i < a->nchunks &&
		     !memcmp(e + off, a->log + ao, a->chunks[i]);
		mb = j < b->nchunks &&
		     !memcmp(e + off, b->log + bo, b->chunks[j]);
		if (ma && mb && sp < spmax) {
			stack[sp].i = i;
			stack[sp].j = j + 1;
			stack[sp].ao = ao;
			stack[sp].bo = bo + b->chunks[j];
			sp++;
		}
		if (ma) {
			ao += a->chunks[i++];
		} else if (mb) {
			bo += b->chunks[j++];
		} else if (sp) {
			sp--;
			i = stack[sp].i;
			j = stack[sp].j;
			ao = stack[sp].ao;
			bo = stack[sp].bo;
		} else {
			break;
		}
	}
	if (!ok && steps < 4000000)
		report_err(c, "the %d + %d chunks (%llu bytes) two readers got do not interleave into the host's stream (first disagreement near offset %llu)",
			   a->nchunks, b->nchunks, (unsigned long long)total,
			   (unsigned long long)(ao + bo));
	free(e);
	free(stack);
}

/* The end of the inbound stream against what the host did. */
static void verdict_in(struct conn *c)
{
	__u64 d = delivered_sum(c);
	int err = reader_err(c), i;

	if (c->broken)
		return;
	switch (c->term_expect) {
	case TERM_NONE:
		if (ld(&c->rd[0].done) ||
		    (c->nreaders > 1 && ld(&c->rd[1].done)))
			report_err(c, "the guest's read ended (%s) after %llu of %llu bytes on a connection the host did not end",
				   err_name(err), (unsigned long long)d,
				   (unsigned long long)c->exp_total);
		else if (d != c->exp_total)
			report_err(c, "the guest delivered %llu bytes, the host sent %llu",
				   (unsigned long long)d,
				   (unsigned long long)c->exp_total);
		return;
	case TERM_EOF:
		if (err)
			report_err(c, "the guest's read ended with %s, expected EOF after %llu bytes",
				   err_name(err), (unsigned long long)c->exp_total);
		break;
	case TERM_RESET:
		if (err != ECONNRESET)
			report_err(c, "the guest's read ended with %s, expected ECONNRESET after %llu bytes",
				   err_name(err), (unsigned long long)c->exp_total);
		break;
	case TERM_EOF_OR_RESET:
		if (err && err != ECONNRESET)
			report_err(c, "the guest's read ended with %s after the rescind",
				   err_name(err));
		break;
	default:
		return;
	}
	if (!c->prefix_ok && d != c->exp_total)
		report_err(c, "the guest delivered %llu bytes before its %s, the host sent %llu before it",
			   (unsigned long long)d, err_name(err),
			   (unsigned long long)c->exp_total);
	for (i = 0; i < c->nreaders; i++)
		if (c->rd[i].after[0] || c->rd[i].after[1])
			report_err(c, "reads after the %s returned %d, %d instead of 0",
				   err_name(c->rd[i].err), c->rd[i].after[0],
				   c->rd[i].after[1]);
}

/* After a burst: what the writers saw, and the outbound stream so far. */
static void verdict_burst(struct conn *c)
{
	bool may_fail = c->rescinded || c->term_expect == TERM_RESET ||
			c->term_expect == TERM_ANY;

	if (c->broken)
		return;
	if (c->gw_err && !(may_fail && (c->gw_err == EPIPE ||
					c->gw_err == ECONNRESET)))
		report_err(c, "the guest's send() failed: %s", strerror(c->gw_err));
	else if (c->hw_err && !may_fail)
		report_err(c, "the host's write failed: %s", strerror(c->hw_err));
	else if (out_exact(c) && ld(&c->hr_done))
		report_err(c, "the host's read ended (%s) after %llu of %llu bytes the guest sent",
			   err_name(c->hr_err), (unsigned long long)c->hr_read,
			   (unsigned long long)c->g_sent);
	else if (out_exact(c) && c->hr_read != c->g_sent)
		report_err(c, "the host read %llu bytes, the guest sent %llu",
			   (unsigned long long)c->hr_read,
			   (unsigned long long)c->g_sent);
	verdict_in(c);
}

/* ------------------------------------------------------------ lifecycle */

static void start(pthread_t *th, void *(*fn)(void *), void *arg)
{
	if (pthread_create(th, NULL, fn, arg)) {
		fh_info("fuzz_host: pthread_create: %s\n", strerror(errno));
		summary();
		_exit(1);
	}
}

static void conn_free(struct conn *c)
{
	int i;

	for (i = 0; i < c->nseg; i++)
		free(c->segs[i].lit);
	free(c->segs);
	for (i = 0; i < 2; i++) {
		free(c->rd[i].log);
		free(c->rd[i].chunks);
	}
	free(c->pb);
	free(c->sl);
	free(c->wbuf);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int conn_open(struct conn *c)
{
	int ret;

	if (!c->from_host) {
		c->g = hvs_socket(0);
		if (c->g < 0)
			return c->g;
		hvs_set_connect_timeout(c->g, 5000);
		ret = hvs_connect(c->g, hvs_guid_parent, host_svc);
		if (ret)
			return ret;
		c->h = hvs_host_accept(host_lfd, 5000, NULL);
		return c->h < 0 ? c->h : 0;
	}
	c->h = hvs_host_connect(guest_svc, 5000, 0, NULL);
	if (c->h < 0)
		return c->h;
	if (!(hvs_poll(guest_lsock, POLLIN, 5000) & POLLIN))
		return -ETIMEDOUT;
	c->g = hvs_err(accept4(guest_lsock, NULL, NULL, SOCK_CLOEXEC));
	return c->g < 0 ? c->g : 0;
}

/* A new connection moves 64 checked bytes each way before it joins. */
static int conn_ping(struct conn *c)
{
	__u8 buf[64];

	hvs_fill(c->h2g_seed, 0, c->wbuf, sizeof(buf));
	expect_stream(c, 0, sizeof(buf));
	if (hvs_write_full(c->h, c->wbuf, sizeof(buf)) != sizeof(buf))
		return -EIO;
	publish(c);
	c->h2g_next = sizeof(buf);
	if (hvs_read_full(c->g, buf, sizeof(buf), opt_stall_ms) != sizeof(buf) ||
	    hvs_check(c->h2g_seed, 0, buf, sizeof(buf)) != -1)
		return -EBADMSG;
	if (c->rmode == RM_TWO)
		reader_log(&c->rd[0], buf, sizeof(buf));
	c->rd[0].delivered = sizeof(buf);

	hvs_fill(c->g2h_seed, 0, c->wbuf, sizeof(buf));
	if (hvs_send_full(c->g, c->wbuf, sizeof(buf)) != sizeof(buf))
		return -EIO;
	if (hvs_read_full(c->h, buf, sizeof(buf), opt_stall_ms) != sizeof(buf) ||
	    hvs_check(c->g2h_seed, 0, buf, sizeof(buf)) != -1)
		return -EBADMSG;
	c->g_sent = sizeof(buf);
	c->g_queued = sizeof(buf);
	c->hr_read = sizeof(buf);
	return 0;
}

static struct conn *conn_new(void)
{
	struct conn *c = calloc(1, sizeof(*c));
	unsigned int x;
	int i;

	if (!c)
		abort();
	c->id = next_id++;
	rng_init(&c->rng, opt_seed, c->id);
	c->seed = rnd64(&c->rng);
	c->h2g_seed = rnd64(&c->rng);
	c->g2h_seed = rnd64(&c->rng);
	c->from_host = chance(&c->rng, 50);
	x = rnd_below(&c->rng, 100);
	c->rmode = x < 35 ? RM_BLOCK : x < 60 ? RM_POLL :
		   x < 80 ? RM_TWO : RM_POLLER;
	c->nreaders = c->rmode == RM_TWO ? 2 : 1;
	c->lenient_from = ~0ULL;
	c->hr_lenient_from = ~0ULL;
	c->out_exact = true;
	c->g = -1;
	c->h = -1;
	pthread_mutex_init(&c->mu, NULL);
	c->pb = malloc(sizeof(*c->pb));
	c->sl = malloc(MAX_RECS * sizeof(*c->sl));
	c->wbuf = malloc(IO_BUF);
	if (!c->pb || !c->sl || !c->wbuf)
		abort();
	for (i = 0; i < 2; i++) {
		c->rd[i].c = c;
		c->rd[i].idx = i;
		rng_init(&c->rd[i].rng, c->seed, 100 + i);
	}
	rng_init(&c->hr_rng, c->seed, 200);
	/* A reader that does not exist is done. */
	if (c->nreaders == 1 && c->rmode != RM_POLLER)
		c->rd[1].done = 1;
	return c;
}

/*
 * Add a connection to the pool. Failing to connect is a violation unless
 * another program set the simulator to refuse (the syscall fuzzer may).
 */
static void conn_add(void)
{
	struct hvsim_config cfg;
	struct conn *c;
	int tries, ret = 0, i;

	for (tries = 0; tries < 5; tries++) {
		c = conn_new();
		ctl_enter(c, "connecting");
		ret = conn_open(c);
		if (!ret)
			ret = conn_ping(c);
		ctl_leave();
		if (!ret)
			break;
		if (c->g >= 0)
			close(c->g);
		if (c->h >= 0)
			close(c->h);
		conn_free(c);
		c = NULL;
		hvs_msleep(100);
	}
	if (!c) {
		if (!hvs_host_get_config(&cfg) && !cfg.ignore_connects &&
		    !cfg.fail_opens && cfg.offer_delay_ms < 1000)
			report_err(NULL, "a new connection does not work: %s",
				   strerror(-ret));
		else
			fh_info("fuzz_host: cannot connect (%s): the simulator is set to refuse\n",
				strerror(-ret));
		return;
	}
	n_conns++;
	for (i = 0; i < c->nreaders; i++)
		start(&c->rd[i].th, reader_main, &c->rd[i]);
	if (c->rmode == RM_POLLER)
		start(&c->rd[1].th, poller_main, &c->rd[1]);
	start(&c->hr_th, hreader_main, c);
	pthread_mutex_lock(&pool_lock);
	conns[nconns++] = c;
	pthread_mutex_unlock(&pool_lock);
	if (opt_verbose)
		fh_info("# conn %d: %s, readers %s\n", c->id,
			c->from_host ? "host-initiated" : "guest-initiated",
			rmode_names[c->rmode]);
}

static void set_linger(struct conn *c, bool reset)
{
	struct linger lg = { 1, 1 };
	unsigned int x = rnd_below(&ctl_rng, 100);

	if (x < (reset ? 50 : 25)) {
		setsockopt(c->g, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else if (x < (reset ? 60 : 35)) {
		lg.l_linger = 0;
		setsockopt(c->g, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		c->out_exact = false;
	}
}

/*
 * End a connection: the host sends its FIN or rescinds, or the guest shuts
 * down, then the guest closes (with SO_LINGER or not) and the host's
 * reader must end at once: 0 after everything the guest sent if the
 * guest closed gracefully.
 */
static void retire(struct conn *c)
{
	unsigned int how = rnd_below(&ctl_rng, 4);
	long long t0;
	int i;

	if (!readers_done(c)) {
		ctl_enter(c, "ending the inbound stream");
		switch (how) {
		case 0:
		case 3:
			if (c->term_expect == TERM_NONE)
				c->term_expect = TERM_EOF;
			hvs_host_shutdown(c->h);
			break;
		case 1:
			do_rescind(c);
			break;
		default:
			if (c->term_expect == TERM_NONE) {
				c->term_expect = TERM_EOF;
				c->prefix_ok = true;
			}
			shutdown(c->g, SHUT_RD);
		}
		ctl_leave();
		if (wait_for(c, readers_done, "the guest's read after the host ended the stream"))
			verdict_in(c);
	}
	merge_check(c);
	if (how == 3)
		shutdown(c->g, SHUT_WR);

	if (how == 3 && out_exact(c) &&
	    wait_for(c, hr_done, "the host's read after the guest's shutdown(SHUT_WR)") &&
	    !c->broken && (c->hr_err || c->hr_read != c->g_sent))
		report_err(c, "after the guest's SHUT_WR the host read %llu of %llu bytes, then %s",
			   (unsigned long long)c->hr_read,
			   (unsigned long long)c->g_sent, err_name(c->hr_err));

	/* Nothing may use the descriptor once it is closed. */
	for (i = 0; i < c->nreaders; i++)
		pthread_join(c->rd[i].th, NULL);
	if (c->rmode == RM_POLLER)
		pthread_join(c->rd[1].th, NULL);

	set_linger(c, reader_err(c) == ECONNRESET);
	ctl_enter(c, "close() of the guest socket");
	t0 = hvs_now_ms();
	close(c->g);
	ctl_leave();
	if (hvs_now_ms() - t0 > 1000 + opt_stall_ms)
		report_err(c, "close() took %lld ms", hvs_now_ms() - t0);

	/* The host must see the end of the stream now. */
	if (wait_for(c, hr_done, "the host's read after the guest closed") &&
	    out_exact(c) && !c->broken &&
	    (c->hr_err || c->hr_read != c->g_sent))
		report_err(c, "after the guest's close() the host read %llu of %llu bytes, then %s",
			   (unsigned long long)c->hr_read,
			   (unsigned long long)c->g_sent, err_name(c->hr_err));
	close(c->h);
	pthread_join(c->hr_th, NULL);
	add(&n_bytes, delivered_sum(c) + c->hr_read);
	conn_free(c);
}

static int pick_plan(struct conn *c)
{
	unsigned int total = 0, x, i;

	for (i = 0; i < P_NKINDS; i++)
		total += plan_weight[i];
	x = rnd_below(&ctl_rng, total);
	for (i = 0; x >= plan_weight[i]; i++)
		x -= plan_weight[i];
	/* Two readers are checked by interleaving: no bytes may be junk. */
	if (c->rmode == RM_TWO && i == P_POKE_IDX)
		i = P_RESCIND;
	return i;
}

static void do_burst(void)
{
	int by = rnd_below(&ctl_rng, nconns), i, j, n;
	struct conn *gone[MAX_CONNS];
	long long t0 = hvs_now_ms();

	for (i = 0; i < nconns; i++) {
		struct conn *c = conns[i];

		c->plan = i == by ? P_CLEAN : pick_plan(c);
		c->drained = chance(&ctl_rng, 30);
		c->rescind_after = c->plan != P_CLEAN && c->plan != P_FIN &&
				   c->plan != P_RESCIND &&
				   c->plan < P_POKE_IDX && chance(&ctl_rng, 25);
		c->ops = rnd_below(&ctl_rng, 80);
		c->gw_quota = chance(&ctl_rng, 20) ? 0 :
			      rnd_size(&ctl_rng, 65536);
		rng_init(&c->hw_rng, c->seed, 1000 + cur_burst);
		rng_init(&c->gw_rng, c->seed, 2000 + cur_burst);
		c->note[0] = 0;
		c->hw_done = 0;
		c->gw_done = 0;
		c->hw_err = 0;
		c->gw_err = 0;
		c->hw_running = true;
		c->gw_running = true;
		start(&c->hw_th, hwriter_main, c);
		start(&c->gw_th, gwriter_main, c);
	}
	for (i = 0; i < nconns; i++) {
		struct conn *c = conns[i];

		wait_for(c, writers_done, "the burst's writers");
		pthread_join(c->hw_th, NULL);
		pthread_join(c->gw_th, NULL);
		c->hw_running = false;
		c->gw_running = false;
		if (c->plan == P_POKE_SIG || c->plan == P_POKE_IDX)
			do_rescind(c);
	}
	for (i = 0; i < nconns; i++) {
		struct conn *c = conns[i];

		if (wait_for(c, all_arrived, "the burst's data"))
			verdict_burst(c);
		if (opt_verbose)
			fh_info("# burst %d conn %d: %s%s%s ops %d, readers %s: host sent %llu, guest got %llu (%s); guest sent %llu, host got %llu; %s\n",
				cur_burst, c->id, plan_names[c->plan],
				c->drained ? " drained" : "",
				c->rescind_after ? " +rescind" : "", c->ops,
				rmode_names[c->rmode],
				(unsigned long long)c->exp_total,
				(unsigned long long)delivered_sum(c),
				readers_done(c) ? err_name(reader_err(c)) : "open",
				(unsigned long long)c->g_sent,
				(unsigned long long)c->hr_read, c->note);
	}
	/* Retire what a fault ended, and some healthy ones. */
	pthread_mutex_lock(&pool_lock);
	for (i = j = n = 0; i < nconns; i++) {
		struct conn *c = conns[i];

		if (c->faulted || c->broken || c->rescinded ||
		    c->term_expect != TERM_NONE || c->rmode == RM_TWO ||
		    chance(&ctl_rng, 15))
			gone[n++] = c;
		else
			conns[j++] = c;
	}
	nconns = j;
	pthread_mutex_unlock(&pool_lock);
	for (i = 0; i < n; i++)
		retire(gone[i]);
	while (nconns < opt_conns && hvs_now_ms() < t_end + opt_stall_ms)
		conn_add();
	if (opt_verbose)
		fh_info("# burst %d: %lld ms\n", cur_burst, hvs_now_ms() - t0);
}

/* The controller itself must not block for ever (close(), FIN, connect). */
static void *watchdog_main(void *arg)
{
	bool told = false;

	for (;;) {
		const char *what = ld(&ctl_what);
		long long since = ld(&ctl_since);

		hvs_msleep(1000);
		if (!what || what != ld(&ctl_what) || since != ld(&ctl_since)) {
			told = false;
			continue;
		}
		if (hvs_now_ms() - since > 2LL * opt_stall_ms && !told) {
			told = true;
			add(&n_hangs, 1);
			fh_info("fuzz_host: HANG seed=%llu burst=%d conn=%d: %s blocks for %lld ms\n",
				(unsigned long long)opt_seed, cur_burst, ctl_conn,
				what, hvs_now_ms() - since);
			print_proc();
			pthread_mutex_lock(&out_lock);
			hvs_dump_stacks(stdout);
			fflush(stdout);
			pthread_mutex_unlock(&out_lock);
		}
		if (hvs_now_ms() - since > 4LL * opt_stall_ms) {
			summary();
			_exit(1);
		}
	}
	return NULL;
}

/*
 * The lost wakeup check, every 100 ms: a reader blocked in recv() or a
 * poller blocked in poll() may not sleep through data that has been on the
 * ring (published, not read) for longer than LOST_MS of its wait.
 */
static void monitor_conn(struct conn *c, long long now)
{
	int k = c->hist_i % HIST, i, j;
	__u64 d = delivered_sum(c);

	c->hist_t[k] = now;
	c->hist_pub[k] = ld(&c->published);
	c->hist_i++;
	if (c->broken || c->quiet || c->poked || c->prefix_ok ||
	    c->term_expect == TERM_ANY)
		return;
	for (i = 0; i < 2; i++) {
		struct reader *w = &c->rd[i];
		long long since = ld(&w->wait_since);

		if (ld(&w->done) || !ld(&w->waiting) || now - since < LOST_MS)
			continue;
		/* The newest sample at least LOST_MS old, taken during the wait. */
		for (j = 1; j < HIST && j < c->hist_i; j++) {
			int s = (c->hist_i - 1 - j) % HIST;

			if (c->hist_t[s] < since)
				break;
			if (now - c->hist_t[s] < LOST_MS)
				continue;
			if (d < c->hist_pub[s] && d == delivered_sum(c) &&
			    ld(&w->waiting) && ld(&w->wait_since) == since)
				report_err(c, "a %s blocked for %lld ms while %llu published bytes stayed unread for %lld ms (lost wakeup)",
					   i && c->rmode == RM_POLLER ? "poll()" : "reader",
					   now - since,
					   (unsigned long long)(c->hist_pub[s] - d),
					   now - c->hist_t[s]);
			break;
		}
	}
}

static void *monitor_main(void *arg)
{
	int i;

	for (;;) {
		hvs_msleep(100);
		pthread_mutex_lock(&pool_lock);
		for (i = 0; i < nconns; i++)
			monitor_conn(conns[i], hvs_now_ms());
		pthread_mutex_unlock(&pool_lock);
	}
	return NULL;
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: fuzz_host -t SECONDS -s SEED [-v] [-c CONNS] [-S STALL_MS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long long last_report;
	pthread_t wd, mon;
	int opt, i, n;

	while ((opt = getopt(argc, argv, "t:s:vc:S:")) != -1) {
		switch (opt) {
		case 't':
			opt_seconds = strtoul(optarg, NULL, 0);
			break;
		case 's':
			opt_seed = strtoull(optarg, NULL, 0);
			break;
		case 'v':
			opt_verbose++;
			break;
		case 'c':
			opt_conns = atoi(optarg);
			break;
		case 'S':
			opt_stall_ms = atoi(optarg);
			break;
		default:
			bad_usage();
		}
	}
	if (optind != argc || opt_conns < 2 || opt_conns > MAX_CONNS ||
	    opt_stall_ms < 1000 || opt_stall_ms > 100000)
		bad_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	rng_init(&ctl_rng, opt_seed, 0x5eed);
	t_start = hvs_now_ms();
	t_end = t_start + 1000LL * opt_seconds;

	hvs_random_guid(host_svc);
	hvs_random_guid(guest_svc);
	host_lfd = hvs_host_listen(host_svc, 64, 0);
	guest_lsock = hvs_socket(0);
	if (host_lfd < 0 || guest_lsock < 0 ||
	    hvs_bind(guest_lsock, guest_svc) || listen(guest_lsock, 64)) {
		fh_info("fuzz_host: cannot set up the listeners: %s\n",
			strerror(errno));
		return 1;
	}
	start(&wd, watchdog_main, NULL);
	start(&mon, monitor_main, NULL);
	while (nconns < opt_conns)
		conn_add();

	last_report = t_start;
	while (hvs_now_ms() < t_end && nconns >= 2) {
		cur_burst++;
		n_bursts++;
		do_burst();
		if (hvs_now_ms() - last_report >= 60000) {
			last_report = hvs_now_ms();
			fh_info("# fuzz_host: %llds: conns=%llu bursts=%llu packets=%llu bytes=%llu violations=%d hangs=%d\n",
				(last_report - t_start) / 1000,
				(unsigned long long)n_conns,
				(unsigned long long)n_bursts,
				(unsigned long long)ld(&n_packets),
				(unsigned long long)ld(&n_bytes),
				ld(&n_violations), ld(&n_hangs));
		}
	}
	pthread_mutex_lock(&pool_lock);
	n = nconns;
	nconns = 0;
	pthread_mutex_unlock(&pool_lock);
	for (i = 0; i < n; i++)
		retire(conns[i]);
	close(guest_lsock);
	close(host_lfd);
	if (opt_verbose)
		fh_info("# %.1f injected packets/s; readers held off %llu times for a sleeping reader or poller, which woke by itself %llu times\n",
			ld(&n_packets) * 1000.0 / (hvs_now_ms() - t_start + 1),
			(unsigned long long)n_holdoffs,
			(unsigned long long)n_holdoffs_woken);
	summary();
	return ld(&n_violations) || ld(&n_hangs) ? 1 : 0;
}
