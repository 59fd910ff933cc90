// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_failnth: allocation failure injection for AF_HYPERV.
 *
 *	fuzz_failnth -s SEED [-v] [-V] [-c CASE] [-p ws2016|modern]
 *		     [-t caller|worker|sim] [-n NTH] [-T SECONDS] [-B CHECK]
 *
 * Every operation of the socket family is run with its N-th allocation
 * failing, for N = 1, 2, ... until the operation runs through without
 * reaching an N-th allocation (or a cap). Two targets:
 *
 *  caller  /proc/thread-self/fail-nth of the thread making the system call
 *	    (socket, bind, listen, connect, accept, send, recv, shutdown,
 *	    close);
 *  worker  /proc/PID/fail-nth of every kworker thread, armed while a
 *	    connection is set up or torn down. The offer of a channel, the
 *	    driver's probe, the child socket of a listener and vmbus_open()
 *	    run in the simulated host's offer work, the teardown in work items
 *	    of the socket family and of the simulator: never in the thread
 *	    that called connect() or close(), so its fail-nth does not reach
 *	    them. Every kworker counts its own allocations; the system is
 *	    quiet (no connection left) before each arming, so the N-th
 *	    allocation of the work that runs is the one that fails, the same
 *	    one for the same N on every run.
 *
 * plus the simulated host's own knob for refused opens,
 * hvsim_config.fail_opens (target "sim").
 *
 * The cases: socket, bind, listen; connect (a guest connect to a host
 * listener, the offer and the channel open); accept (the host connects to
 * a guest listener, the guest accepts); send and recv, with one and with
 * 16 iovecs; shutdown (SHUT_WR, SHUT_RDWR); close plain, with SO_LINGER
 * (the host reading, or not reading for the 1 s linger), with SO_LINGER 0,
 * with unread data, of a listener with connections nobody accepted;
 * rescind (the host closes first); fail_opens. The connection cases run
 * under both host personalities, ws2016 and modern. The seed picks the
 * service GUIDs, data and lengths; each iteration reseeds from (seed,
 * case, personality, target, N), so -c -p -t -n repeat one exactly.
 *
 * failslab and fail_page_alloc are set to count sleeping allocations too
 * (ignore-gfp-wait off, min-order 0) and to stay quiet (verbose 0); their
 * probability stays 0, so nothing fails in a thread that is not armed.
 * With kmemleak and debugobjects on, many N land on their bookkeeping
 * (which copes silently): such iterations count as injected, harmlessly.
 *
 * After each iteration, injected failure or not:
 *  - the call succeeded or failed with an error an allocation failure may
 *    give (the lists below are what TCP gives; a connect also ETIMEDOUT
 *    or ECONNREFUSED, since a failed offer is a host that never answers),
 *    and failed only if a failure was injected (a call that fails without
 *    one is run once more before it counts, for a loaded machine);
 *  - a success is real: a connection moves checked data both ways, a
 *    bound or listening socket takes connections, a sent or received
 *    buffer arrives intact and exactly once, a shutdown reaches the host;
 *  - a failure leaves nothing half done: a failed bind leaves the service
 *    free, a failed accept leaves the connection queued, a failed send
 *    sends nothing, a failed recv consumes nothing, and the same socket
 *    or a new one connects to the same service at once;
 *  - no call outlives its deadline (a supervising process kills a stuck
 *    worker process and dumps its kernel stacks);
 *  - the simulator's channel count is back to its baseline within 10 s
 *    of closing both ends;
 *  - nothing new in the kernel log matches the console scan's patterns.
 * At the end hv_sock must unload and a kmemleak scan must find nothing
 * that a scan before the run had not found.
 *
 * Output: one line per case and target, then
 *	fuzz_failnth: seed=S cases=C injected=I violations=V hangs=H leaks=L
 * where C counts iterations and I those in which a failure was injected.
 * Exit status 0 iff V, H and L are 0. A violation prints the command that
 * repeats exactly that iteration.
 *
 * -V makes failslab and fail_page_alloc print the kernel stack of every
 * injected failure (which the console scan then reports as traces): for
 * finding the allocation behind a reproducer.
 *
 * -B CHECK breaks one expectation on purpose, to show the check fires:
 * "errors" (no error counts as clean), "data" (every received byte counts
 * as wrong), "channels" (the guest end of each connection stays open),
 * "hang" (a recv that nobody answers, without a timeout) or "unload" (a
 * socket stays open at the end).
 */

#include "hvs_test.h"

#include <getopt.h>
#include <regex.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define DEBUGFS			"/sys/kernel/debug"
#define KMEMLEAK		DEBUGFS "/kmemleak"

/* An offer the guest does not open is rescinded this long after it. */
#define OPEN_TIMEOUT_MS		2000
/*
 * HVSOCKET_CONNECT_TIMEOUT of a connect() under test, and how long the
 * host's connect under test waits for the guest: an injected failure
 * often means an offer nobody answers, so these are short (a connection
 * takes about 0.1 s in the test VM). A call that fails without an
 * injected failure is run once more before it counts as a violation.
 */
#define CONNECT_TIMEOUT_MS	800
#define HOST_CONNECT_MS		1000
/* The same for the connections that set up and verify. */
#define SETUP_CONNECT_MS	5000
/* SO_RCVTIMEO, SO_SNDTIMEO, and every wait for data. */
#define IO_TIMEOUT_MS		5000
/* Channels must be back to the baseline within this. */
#define SETTLE_MS		10000
/* Longest an iteration may take before it counts as hung. */
#define ITER_DEADLINE_MS	60000
/* Work items still finishing after a call returned. */
#define WORKER_QUIET_MS		100
/* Linger time of the SO_LINGER cases, seconds. */
#define LINGER_S		5

#define CAP_CALLER		100
#define CAP_WORKER		600
#define MAX_WORKERS		1024
#define BUDGET_S		300

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

enum target { T_CALLER, T_WORKER, T_SIM, T_NR };

#define TGT(t)		(1U << (t))

static const char * const target_names[T_NR] = { "caller", "worker", "sim" };
static const char * const pers_names[] = { "ws2016", "modern" };

/* The errors an allocation failure may give, 0-terminated. */
static const int errs_socket[] = { ENOMEM, ENFILE, ENOBUFS, 0 };
static const int errs_nomem[] = { ENOMEM, ENOBUFS, 0 };
static const int errs_connect[] = { ENOMEM, ENOBUFS, ETIMEDOUT, ECONNREFUSED,
				    0 };
static const int errs_accept[] = { ENOMEM, ENFILE, ENOBUFS, 0 };
static const int errs_host_connect[] = { ETIMEDOUT, ECONNREFUSED, ECONNRESET,
					 0 };

enum close_how {
	CLOSE_PLAIN,		/* FIN, the host reads everything */
	CLOSE_LINGER,		/* SO_LINGER, the host reads at once */
	CLOSE_LINGER_STALL,	/* SO_LINGER 1 s, the host reads nothing */
	CLOSE_LINGER0,		/* SO_LINGER 0: reset */
	CLOSE_UNREAD,		/* data from the host left unread: reset */
};

struct fcase {
	const char *name;
	void (*fn)(int arg);
	int arg;
	unsigned int targets;
	int both;		/* also under the modern personality */
};

/* Between the supervising process and the worker process of a case. */
struct shared {
	long long deadline;
	long long budget_end;
	unsigned long cases;
	unsigned long injected;
	unsigned long violations;
	unsigned long hangs;
	unsigned long leaks;
	unsigned long capped;
	unsigned long cut;
	char where[160];
};

static struct shared *sh;

static struct {
	unsigned long long seed;
	int verbose;
	int trace;
	const char *only_case;
	int only_pers;
	int only_target;
	unsigned int only_nth;
	const char *brk;
	int budget_s;
} opt = { .only_pers = -1, .only_target = -1, .budget_s = BUDGET_S };

/* The iteration being run. */
static struct {
	const struct fcase *c;
	int pers;
	int target;
	unsigned int nth;
	int armed;
	int injected;
	int retry;		/* failed without an injected failure */
	int retried;		/* this is the second run of this N */
	unsigned long long baseline;
	__u8 hsvc[16];		/* host service of the case */
	__u8 gsvc[16];		/* guest service of the case */
} it;

static int breaks(const char *what)
{
	return opt.brk && !strcmp(opt.brk, what);
}

/* ------------------------------------------------------------ reporting */

static void violation(const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	__atomic_add_fetch(&sh->violations, 1, __ATOMIC_RELAXED);
	printf("fuzz_failnth: VIOLATION case=%s pers=%s target=%s nth=%u%s: %s\n",
	       it.c->name, pers_names[it.pers], target_names[it.target],
	       it.nth, it.injected ? " (injected)" : "", msg);
	printf("fuzz_failnth:   reproduce: fuzz_failnth -s %llu -c %s -p %s -t %s -n %u\n",
	       opt.seed, it.c->name, pers_names[it.pers],
	       target_names[it.target], it.nth);
	fflush(stdout);
}

static void verbose(const char *fmt, ...)
{
	va_list ap;

	if (!opt.verbose)
		return;
	va_start(ap, fmt);
	printf("fuzz_failnth: [%s/%s/%s n=%u] ", it.c->name,
	       pers_names[it.pers], target_names[it.target], it.nth);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

static int err_in(int err, const int *list)
{
	if (breaks("errors"))
		return 0;
	for (; *list; list++)
		if (*list == err)
			return 1;
	return 0;
}

/*
 * @op failed with @err: clean only if a failure was injected and @err is
 * one an allocation failure may give.
 */
static void expect_err(const char *op, int err, const int *list)
{
	if (!it.injected && !it.retried) {
		/* A loaded machine may time out a connection: once more. */
		verbose("%s failed with %s without an injected failure", op,
			strerror(err));
		it.retry = 1;
	} else if (!it.injected) {
		violation("%s failed with %s although no failure was injected",
			  op, strerror(err));
	} else if (!err_in(err, list)) {
		violation("%s: %s is not an error an allocation failure gives",
			  op, strerror(err));
	} else {
		verbose("%s: %s", op, strerror(err));
	}
}

/* ------------------------------------------------------------ random */

static __u64 rng;

static __u64 rnd(void)
{
	rng = hvs_mix64(rng);
	return rng;
}

static __u64 hash_str(const char *s)
{
	__u64 h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void rnd_guid(__u8 g[16])
{
	__u64 a = rnd(), b = rnd();

	memcpy(g, &a, 8);
	memcpy(g + 8, &b, 8);
	g[7] = (g[7] & 0x0f) | 0x40;
	g[8] = (g[8] & 0x3f) | 0x80;
}

/* ------------------------------------------------------------ files */

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* failslab and fail_page_alloc: count every allocation, print nothing. */
static struct knob {
	const char *path;
	const char *val;
	char old[32];
	int saved;
} knobs[] = {
	{ .path = DEBUGFS "/failslab/probability", .val = "0" },
	{ .path = DEBUGFS "/failslab/ignore-gfp-wait", .val = "N" },
	{ .path = DEBUGFS "/failslab/verbose", .val = "0" },
	{ .path = DEBUGFS "/fail_page_alloc/probability", .val = "0" },
	{ .path = DEBUGFS "/fail_page_alloc/ignore-gfp-wait", .val = "N" },
	{ .path = DEBUGFS "/fail_page_alloc/min-order", .val = "0" },
	{ .path = DEBUGFS "/fail_page_alloc/verbose", .val = "0" },
};

static int knobs_set(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		if (read_file(knobs[i].path, knobs[i].old,
			      sizeof(knobs[i].old)) == 0)
			knobs[i].saved = 1;
		ret = write_file(knobs[i].path, knobs[i].val);
		if (ret) {
			printf("fuzz_failnth: cannot set %s: %s\n",
			       knobs[i].path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void knobs_restore(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (knobs[i].saved)
			write_file(knobs[i].path, knobs[i].old);
}

/* ------------------------------------------------------------ arming */

static int self_fd = -1;

static void fd_write_num(int fd, unsigned int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%u", n);

	if (pwrite(fd, b, len, 0) != len)
		printf("fuzz_failnth: cannot write fail-nth: %s\n",
		       strerror(errno));
}

static long fd_read_num(int fd)
{
	char b[24];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);

	if (n <= 0)
		return -1;
	b[n] = 0;
	return strtol(b, NULL, 10);
}

static struct {
	int n;
	int fd[MAX_WORKERS];
} wk;

static int is_kworker(const char *pid)
{
	char path[300], comm[32];

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	return !read_file(path, comm, sizeof(comm)) &&
	       !strncmp(comm, "kworker/", 8);
}

/* Write @nth to the fail-nth of every kworker; keep them open if @keep. */
static void workers_set(unsigned int nth, int keep)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[300];
	int fd;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
		    !is_kworker(de->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fail-nth", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		fd_write_num(fd, nth);
		if (keep && wk.n < MAX_WORKERS)
			wk.fd[wk.n++] = fd;
		else
			close(fd);
	}
	if (d)
		closedir(d);
}

/* Disarm the kworkers; how many of them reached their N-th allocation. */
static int workers_disarm(void)
{
	int i, hit = 0;

	for (i = 0; i < wk.n; i++) {
		if (fd_read_num(wk.fd[i]) == 0)
			hit++;
		fd_write_num(wk.fd[i], 0);
		close(wk.fd[i]);
	}
	wk.n = 0;
	return hit;
}

/* Arm the target for the current N, right before the call under test. */
static void arm(void)
{
	if (it.target == T_CALLER)
		fd_write_num(self_fd, it.nth);
	else if (it.target == T_WORKER)
		workers_set(it.nth, 1);
	it.armed = 1;
}

/* Disarm; returns whether a failure was injected since arm(). */
static int disarm(void)
{
	if (!it.armed)
		return it.injected;
	it.armed = 0;
	if (it.target == T_CALLER) {
		if (fd_read_num(self_fd) == 0)
			it.injected = 1;
		fd_write_num(self_fd, 0);
	} else if (it.target == T_WORKER) {
		hvs_msleep(WORKER_QUIET_MS);
		if (workers_disarm())
			it.injected = 1;
	}
	return it.injected;
}

/* ------------------------------------------------------------ kernel log */

static int kmsg_fd = -1;
static regex_t report_re;

/* The patterns of tools/testing/hv_sock/vm/scan-console.sh. */
static const char * const report_patterns[] = {
	"BUG:", "WARNING:", "Oops", "Kernel panic", "KASAN", "UBSAN",
	"kmemleak: [0-9]+ new suspected", "unreferenced object",
	"possible recursive locking", "possible circular locking",
	"inconsistent lock state", "suspicious RCU usage",
	"bad unlock balance", "INFO: task .* blocked", "soft lockup",
	"hard LOCKUP", "RCU stall", "rcu_sched self-detected",
	"general protection fault", "refcount_t:", "list_add corruption",
	"list_del corruption", "ODEBUG:", "Call Trace:",
};

static void kmsg_open(void)
{
	char re[1024] = "";
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(report_patterns); i++) {
		if (i)
			strcat(re, "|");
		strcat(re, report_patterns[i]);
	}
	if (regcomp(&report_re, re, REG_EXTENDED | REG_NOSUB))
		abort();
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

/* Kernel reports since the last call; lines are echoed, reports counted. */
static int kmsg_check(int report)
{
	char rec[4096], *msg;
	int found = 0, shown = 0;
	ssize_t n;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (regexec(&report_re, msg, 0, NULL, 0) ||
		    strstr(msg, "HVT-") ||
		    strstr(msg, "kmemleak: Kernel memory leak detector") ||
		    strstr(msg, "kmemleak: Automatic memory scanning"))
			continue;
		if (!found++ && report)
			violation("kernel report during this iteration (or just before it)");
		if (shown++ < 8)
			printf("fuzz_failnth:   kernel: %s\n", msg);
	}
	return found;
}

/* ------------------------------------------------------------ helpers */

/* A guest socket with the timeouts every case uses. */
static int gsock(void)
{
	int s = hvs_socket(0);

	if (s < 0)
		return s;
	if (hvs_set_timeo(s, SO_RCVTIMEO, IO_TIMEOUT_MS) ||
	    hvs_set_timeo(s, SO_SNDTIMEO, IO_TIMEOUT_MS) ||
	    hvs_set_connect_timeout(s, SETUP_CONNECT_MS)) {
		close(s);
		return -EIO;
	}
	return s;
}

static void xclose(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A guest socket, closed unless -B channels keeps it open. */
static void guest_close(int *fd)
{
	if (breaks("channels"))
		*fd = -1;
	else
		xclose(fd);
}

static char *buf_a, *buf_b;
#define BUF_LEN		65536

/* @len bytes of stream @seed from @from, checked at @to (any fds). */
static int send_checked(int from, int to, int from_sock, size_t len,
			const char *what)
{
	__u64 seed = rnd();
	long long bad;
	ssize_t n;

	hvs_fill(seed, 0, buf_a, len);
	n = from_sock ? hvs_send_full(from, buf_a, len) :
			hvs_write_full(from, buf_a, len);
	if (n != (ssize_t)len) {
		violation("%s: sending %zu bytes: %s", what, len,
			  n < 0 ? strerror(-n) : "short");
		return -1;
	}
	n = hvs_read_full(to, buf_b, len, IO_TIMEOUT_MS);
	if (n != (ssize_t)len) {
		violation("%s: %zd of %zu bytes arrived (%s)", what,
			  n < 0 ? 0 : n, len, n < 0 ? strerror(-n) : "eof");
		return -1;
	}
	bad = hvs_check(breaks("data") ? ~seed : seed, 0, buf_b, len);
	if (bad >= 0) {
		violation("%s: byte %lld of %zu is wrong", what, bad, len);
		return -1;
	}
	return 0;
}

/* Checked data both ways between guest socket @g and host end @h. */
static int round_trip(int g, int h, const char *what)
{
	char w[96];

	snprintf(w, sizeof(w), "%s, guest to host", what);
	if (send_checked(g, h, 1, 1 + rnd() % 6000, w))
		return -1;
	snprintf(w, sizeof(w), "%s, host to guest", what);
	return send_checked(h, g, 0, 1 + rnd() % 6000, w);
}

/* Nothing arrives at @fd within @ms; @what names what must not arrive. */
static void expect_silence(int fd, int ms, const char *what)
{
	int ev = hvs_poll(fd, POLLIN, ms);

	if (ev > 0)
		violation("%s (poll 0x%x)", what, ev);
}

/* Host end @h of a failed connection: closed within SETTLE_MS, or stuck. */
static void expect_host_closed(int h, const char *what)
{
	struct hvsim_conn_info ci;

	if (hvs_host_wait_state(h, HVSIM_STATE_CLOSED, SETTLE_MS, &ci) !=
	    HVSIM_STATE_CLOSED)
		violation("%s: the host's connection stays in state %u", what,
			  ci.state);
}

/*
 * A guest connection to host listener @l on the case's host service from
 * socket @g, then a round trip.
 */
static int connect_and_check(int *g, int l, const char *what)
{
	int h, ret;

	ret = hvs_connect(*g, hvs_guid_parent, it.hsvc);
	if (ret) {
		violation("%s: connect: %s", what, strerror(-ret));
		return -1;
	}
	h = hvs_host_accept(l, IO_TIMEOUT_MS, NULL);
	if (h < 0) {
		violation("%s: connect succeeded, but the host has no connection (%s)",
			  what, strerror(-h));
		return -1;
	}
	ret = round_trip(*g, h, what);
	xclose(&h);
	return ret;
}

/* The host connects to guest listener @s, which accepts; round trip. */
static int accept_and_check(int s, const char *what)
{
	int h, c, ret;

	h = hvs_host_connect(it.gsvc, IO_TIMEOUT_MS, 0, NULL);
	if (h < 0) {
		violation("%s: the host cannot connect: %s", what,
			  strerror(-h));
		return -1;
	}
	c = hvs_poll(s, POLLIN, IO_TIMEOUT_MS) & POLLIN ?
	    hvs_err(accept4(s, NULL, NULL, SOCK_CLOEXEC)) : -ETIMEDOUT;
	if (c < 0) {
		violation("%s: the host connected, the guest accepts nothing (%s)",
			  what, strerror(-c));
		xclose(&h);
		return -1;
	}
	ret = round_trip(c, h, what);
	close(c);
	xclose(&h);
	return ret;
}

/* A connected pair for the data cases; a violation if it fails. */
static int pair(int *g, int *h)
{
	int l, ret;

	*g = gsock();
	*h = -1;
	if (*g < 0) {
		violation("setup: socket: %s", strerror(-*g));
		return -1;
	}
	l = hvs_host_listen(it.hsvc, 0, 0);
	if (l < 0) {
		violation("setup: host listen: %s", strerror(-l));
		xclose(g);
		return -1;
	}
	ret = hvs_connect(*g, hvs_guid_parent, it.hsvc);
	if (!ret)
		*h = hvs_host_accept(l, IO_TIMEOUT_MS, NULL);
	close(l);
	if (ret || *h < 0) {
		violation("setup: connection: %s",
			  strerror(ret ? -ret : -*h));
		xclose(g);
		*h = -1;
		return -1;
	}
	return 0;
}

static int host_config(__u32 fail_opens)
{
	struct hvsim_config c;

	memset(&c, 0, sizeof(c));
	c.personality = it.pers ? HVSIM_PERSONALITY_MODERN :
				  HVSIM_PERSONALITY_WS2016;
	c.open_timeout_ms = OPEN_TIMEOUT_MS;
	c.fail_opens = fail_opens;
	return hvs_host_set_config(&c);
}

/* ------------------------------------------------------------ the cases */

static void c_socket(int arg)
{
	int s, err, l;

	arm();
	s = socket(AF_HYPERV, SOCK_STREAM | SOCK_CLOEXEC, 0);
	err = errno;
	disarm();
	if (s < 0) {
		expect_err("socket", err, errs_socket);
		return;
	}
	l = hvs_host_listen(it.hsvc, 0, 0);
	if (!hvs_set_connect_timeout(s, SETUP_CONNECT_MS) && l >= 0)
		connect_and_check(&s, l, "new socket");
	xclose(&l);
	close(s);
}

static void c_bind(int arg)
{
	struct sockaddr_hv a;
	int s = gsock(), r, err;

	if (s < 0) {
		violation("setup: socket: %s", strerror(-s));
		return;
	}
	hvs_addr(&a, hvs_guid_wildcard, it.gsvc);
	arm();
	r = bind(s, (struct sockaddr *)&a, sizeof(a));
	err = errno;
	disarm();
	if (r) {
		expect_err("bind", err, errs_nomem);
		r = hvs_bind(s, it.gsvc);
		if (r) {
			violation("bind again after the failed bind: %s",
				  strerror(-r));
			close(s);
			return;
		}
	}
	r = hvs_err(listen(s, 4));
	if (r)
		violation("listen on the bound socket: %s", strerror(-r));
	else
		accept_and_check(s, "bound socket");
	close(s);
}

static void c_listen(int arg)
{
	int s = gsock(), r, err;

	if (s < 0 || hvs_bind(s, it.gsvc)) {
		violation("setup: bound socket");
		xclose(&s);
		return;
	}
	arm();
	r = listen(s, 4);
	err = errno;
	disarm();
	if (r) {
		expect_err("listen", err, errs_nomem);
		r = hvs_err(listen(s, 4));
		if (r) {
			violation("listen again after the failed listen: %s",
				  strerror(-r));
			close(s);
			return;
		}
	}
	accept_and_check(s, "listener");
	close(s);
}

/* A guest connect to a host listener, the offer, the channel open. */
static void c_connect(int arg)
{
	int l, g, h, r, err;
	long long t0, dt;

	l = hvs_host_listen(it.hsvc, 0, 0);
	g = gsock();
	if (l < 0 || g < 0) {
		violation("setup: listener %d, socket %d", l, g);
		goto out;
	}
	hvs_set_connect_timeout(g, CONNECT_TIMEOUT_MS);
	t0 = hvs_now_ms();
	arm();
	r = hvs_connect(g, hvs_guid_parent, it.hsvc);
	err = -r;
	dt = hvs_now_ms() - t0;
	disarm();
	hvs_set_connect_timeout(g, SETUP_CONNECT_MS);
	if (!r) {
		verbose("connect: ok in %lld ms", dt);
		h = hvs_host_accept(l, IO_TIMEOUT_MS, NULL);
		if (h < 0) {
			violation("connect succeeded, but the host has no connection (%s)",
				  strerror(-h));
			goto out;
		}
		round_trip(g, h, "connect succeeded");
		xclose(&h);
		goto out;
	}
	expect_err("connect", err, errs_connect);
	/* The host may have seen the guest open the channel: not for long. */
	h = hvs_host_accept(l, 100, NULL);
	if (h >= 0) {
		expect_host_closed(h, "connect failed");
		xclose(&h);
	}
	/* The same socket, then a new one, to the same service. */
	connect_and_check(&g, l, "connect again on the same socket");
	xclose(&g);
	g = gsock();
	if (g >= 0)
		connect_and_check(&g, l, "connect from a new socket");
out:
	guest_close(&g);
	xclose(&l);
}

/*
 * The host connects to a guest listener: the offer, the child socket, the
 * channel open (worker), then the guest's accept() (caller).
 */
static void c_accept(int arg)
{
	int s, h = -1, c = -1, err, ev;

	s = gsock();
	if (s < 0 || hvs_bind(s, it.gsvc) || listen(s, 4)) {
		violation("setup: guest listener");
		goto out;
	}
	if (it.target == T_WORKER) {
		arm();
		h = hvs_host_connect(it.gsvc, HOST_CONNECT_MS, 0, NULL);
		disarm();
		if (h < 0) {
			expect_err("host connect", -h, errs_host_connect);
			ev = hvs_poll(s, POLLIN, 200);
			if (ev & POLLIN) {
				c = hvs_err(accept4(s, NULL, NULL, SOCK_CLOEXEC));
				/* Opened, then refused by the host: reset. */
				if (c >= 0 && hvs_poll(c, POLLIN, SETTLE_MS) <= 0)
					violation("host connect failed, guest connection stays");
				xclose(&c);
			}
			accept_and_check(s, "host connects again");
			goto out;
		}
		verbose("host connect: ok");
		ev = hvs_poll(s, POLLIN, IO_TIMEOUT_MS);
		if (!(ev & POLLIN)) {
			violation("the host connected, the guest listener has nothing (poll 0x%x)",
				  ev);
			goto out;
		}
		c = hvs_err(accept4(s, NULL, NULL, SOCK_CLOEXEC));
		if (c < 0) {
			violation("accept after the host connected: %s",
				  strerror(-c));
			goto out;
		}
		round_trip(c, h, "accepted connection");
		goto out;
	}

	h = hvs_host_connect(it.gsvc, IO_TIMEOUT_MS, 0, NULL);
	if (h < 0 || !(hvs_poll(s, POLLIN, IO_TIMEOUT_MS) & POLLIN)) {
		violation("setup: host connect: %s", strerror(h < 0 ? -h : 0));
		goto out;
	}
	arm();
	c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	err = errno;
	disarm();
	if (c < 0) {
		expect_err("accept", err, errs_accept);
		/* The connection stays queued, as with TCP. */
		if (!(hvs_poll(s, POLLIN, 0) & POLLIN)) {
			violation("the failed accept lost the queued connection");
			goto out;
		}
		c = hvs_err(accept4(s, NULL, NULL, SOCK_CLOEXEC));
		if (c < 0) {
			violation("accept again after the failed accept: %s",
				  strerror(-c));
			goto out;
		}
	}
	round_trip(c, h, "accepted connection");
out:
	xclose(&c);
	xclose(&h);
	xclose(&s);
}

/* Split @len bytes of @buf over @n iovecs. */
static void make_iov(struct iovec *iov, int n, char *buf, size_t len)
{
	size_t off = 0, part;
	int i;

	for (i = 0; i < n; i++) {
		part = i == n - 1 ? len - off : (len - off) / (n - i);
		iov[i].iov_base = buf + off;
		iov[i].iov_len = part;
		off += part;
	}
}

static void c_send(int niov)
{
	struct iovec iov[16];
	struct msghdr m;
	size_t len = 16 + rnd() % 8000;
	__u64 seed = rnd();
	int g, h, err;
	ssize_t r, n;

	if (pair(&g, &h))
		return;
	hvs_fill(seed, 0, buf_a, len);
	make_iov(iov, niov, buf_a, len);
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = niov;
	arm();
	r = sendmsg(g, &m, MSG_NOSIGNAL);
	err = errno;
	disarm();
	if (r < 0) {
		expect_err("sendmsg", err, errs_nomem);
		expect_silence(h, 200, "the failed send sent data");
	} else if (r != (ssize_t)len) {
		violation("sendmsg sent %zd of %zu bytes on an empty ring", r,
			  len);
	} else {
		n = hvs_read_full(h, buf_b, len, IO_TIMEOUT_MS);
		if (n != (ssize_t)len ||
		    hvs_check(breaks("data") ? ~seed : seed, 0, buf_b, len) >= 0)
			violation("sendmsg sent %zu bytes, the host got %zd or other ones",
				  len, n);
	}
	round_trip(g, h, "after sendmsg");
	close(g);
	xclose(&h);
}

static void c_recv(int niov)
{
	struct iovec iov[16];
	struct msghdr m;
	size_t len = 16 + rnd() % 8000;
	__u64 seed = rnd();
	int g, h, err;
	ssize_t r, n;

	if (pair(&g, &h))
		return;
	hvs_fill(seed, 0, buf_a, len);
	if (hvs_write_full(h, buf_a, len) != (ssize_t)len ||
	    !(hvs_poll(g, POLLIN, IO_TIMEOUT_MS) & POLLIN)) {
		violation("setup: host write");
		goto out;
	}
	memset(buf_b, 0, len);
	make_iov(iov, niov, buf_b, len);
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = niov;
	arm();
	r = recvmsg(g, &m, 0);
	err = errno;
	disarm();
	if (r < 0) {
		expect_err("recvmsg", err, errs_nomem);
		r = 0;
	} else if (r == 0 || r > (ssize_t)len) {
		violation("recvmsg returned %zd with %zu bytes waiting", r, len);
		goto out;
	}
	/* What recvmsg did not take is still there, in order. */
	n = hvs_read_full(g, buf_b + r, len - r, IO_TIMEOUT_MS);
	if (n != (ssize_t)(len - r))
		violation("after recvmsg of %zd, %zd of the remaining %zu bytes arrived",
			  r, n, len - r);
	else if (hvs_check(breaks("data") ? ~seed : seed, 0, buf_b, len) >= 0)
		violation("the received bytes are wrong (recvmsg took %zd)", r);
	round_trip(g, h, "after recvmsg");
out:
	close(g);
	xclose(&h);
}

static void c_shutdown(int how)
{
	int g, h, r, err;
	ssize_t n;

	if (pair(&g, &h))
		return;
	arm();
	r = shutdown(g, how);
	err = errno;
	disarm();
	if (r) {
		expect_err("shutdown", err, errs_nomem);
		/* Nothing was shut down: data still flows, then again. */
		round_trip(g, h, "after the failed shutdown");
		if (shutdown(g, how))
			violation("shutdown again: %s", strerror(errno));
	}
	n = hvs_read_full(h, buf_b, 1, IO_TIMEOUT_MS);
	if (n != 0)
		violation("after shutdown the host reads %s instead of the end of stream",
			  n < 0 ? strerror(-n) : "data");
	if (how == SHUT_WR)
		send_checked(h, g, 0, 1 + rnd() % 4000, "half-closed, host to guest");
	close(g);
	xclose(&h);
}

struct reader {
	int fd;
	int keep_open;
	ssize_t got;
	int err;
	__u64 seed;
	pthread_t thread;
};

/* The host reads its end until the end of stream or an error. */
static void *reader_main(void *p)
{
	struct reader *rd = p;
	long long end = hvs_now_ms() + SETTLE_MS;
	char *buf = malloc(BUF_LEN);
	ssize_t n;

	rd->err = ETIMEDOUT;
	while (buf && hvs_now_ms() < end) {
		if (hvs_poll(rd->fd, POLLIN, 100) <= 0)
			continue;
		n = read(rd->fd, buf, BUF_LEN);
		if (n < 0 && errno == EAGAIN) {
			/* Draining is stopped: poll() may not wait. */
			hvs_msleep(10);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rd->err = n ? errno : 0;
			break;
		}
		if (hvs_check(breaks("data") ? ~rd->seed : rd->seed, rd->got,
			      buf, n) >= 0)
			rd->err = EBADMSG;
		rd->got += n;
	}
	free(buf);
	return NULL;
}

/* close() of a connected socket; the host end reads what was sent. */
static void c_close(int how)
{
	struct linger lg = { 1, how == CLOSE_LINGER ? LINGER_S :
				how == CLOSE_LINGER_STALL ? 1 : 0 };
	size_t len = rnd() % 8000;
	long long t0, dt, limit;
	struct hvsim_conn_info ci;
	long long j0, dj;
	pthread_attr_t attr;
	char diag[128];
	struct reader rd;
	struct tms tms;
	int g, h, r, err;

	if (pair(&g, &h))
		return;
	memset(&rd, 0, sizeof(rd));
	rd.seed = rnd();
	if (how != CLOSE_PLAIN && how != CLOSE_UNREAD &&
	    setsockopt(g, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg))) {
		violation("setup: SO_LINGER: %s", strerror(errno));
		goto out;
	}
	if (how == CLOSE_LINGER_STALL && hvs_host_stop_drain(h, 1)) {
		violation("setup: stop draining");
		goto out;
	}
	hvs_fill(rd.seed, 0, buf_a, len);
	if (hvs_send_full(g, buf_a, len) != (ssize_t)len) {
		violation("setup: send");
		goto out;
	}
	if (how == CLOSE_UNREAD) {
		/* Unread data at close: the connection is reset, as TCP. */
		if (hvs_write_full(h, buf_b, 100) != 100 ||
		    !(hvs_poll(g, POLLIN, IO_TIMEOUT_MS) & POLLIN)) {
			violation("setup: host write");
			goto out;
		}
	}
	rd.fd = h;
	/* A small stack: everything is locked in memory. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	r = pthread_create(&rd.thread, &attr, reader_main, &rd);
	pthread_attr_destroy(&attr);
	if (r) {
		violation("setup: thread");
		goto out;
	}
	arm();
	j0 = times(&tms);
	t0 = hvs_now_ms();
	r = close(g);
	err = errno;
	dt = hvs_now_ms() - t0;
	dj = (times(&tms) - j0) * 1000 / sysconf(_SC_CLK_TCK);
	g = -1;
	if (it.target == T_CALLER)
		disarm();
	if (how == CLOSE_LINGER_STALL) {
		hvs_host_info(h, &ci);
		hvs_host_stop_drain(h, 0);
	}
	pthread_join(rd.thread, NULL);
	if (r)
		violation("close returned %s", strerror(err));
	/* Lingering ends once the host read everything, or after 1 s. */
	limit = how == CLOSE_LINGER_STALL ? 3000 : 2000;
	if (dt > limit)
		violation("close took %lld ms", dt);
	/*
	 * The kernel times the linger in jiffies, which times() counts; on
	 * a loaded emulator they may drift from CLOCK_MONOTONIC.
	 */
	if (how == CLOSE_LINGER_STALL && dt < 900 && dj < 900) {
		snprintf(diag, sizeof(diag),
			 "host: state %u reason %u flags 0x%x, read %llu bytes",
			 ci.state, ci.close_reason, ci.flags,
			 ci.bytes_from_guest);
		violation("linger 1 s, nothing read: close %lld ms (jiffies %lld; %s, ring %u/%u)",
			  dt, dj, diag, ci.out_ring[0], ci.out_ring[1]);
	} else if (how == CLOSE_LINGER_STALL && dt < 900)
		printf("fuzz_failnth: note: the 1 s linger took %lld ms, %lld ms in jiffies\n",
		       dt, dj);
	switch (how) {
	case CLOSE_PLAIN:
	case CLOSE_LINGER:
	case CLOSE_LINGER_STALL:
		if (rd.err || rd.got != (ssize_t)len)
			violation("graceful close: the host got %zd of %zu bytes, then %s",
				  rd.got, len, rd.err ? strerror(rd.err) :
				  "the end of stream");
		break;
	default:
		/* A reset: what arrived is right, then EOF or ECONNRESET. */
		if ((rd.err && rd.err != ECONNRESET) || rd.got > (ssize_t)len)
			violation("aborting close: the host got %zd of %zu bytes, then %s",
				  rd.got, len, rd.err ? strerror(rd.err) :
				  "the end of stream");
		break;
	}
	xclose(&h);
	if (it.target == T_WORKER) {
		/* The teardown runs once the host closed its end. */
		hvs_host_wait_channels(it.baseline, SETTLE_MS);
		disarm();
	}
out:
	xclose(&g);
	xclose(&h);
}

/*
 * close() of a listener with connections nobody accepted: they are reset,
 * as TCP resets them, and the service is free again.
 */
static void c_close_listener(int arg)
{
	int s, h[2] = { -1, -1 }, i, r;

	s = gsock();
	if (s < 0 || hvs_bind(s, it.gsvc) || listen(s, 4)) {
		violation("setup: guest listener");
		goto out;
	}
	for (i = 0; i < 2; i++) {
		h[i] = hvs_host_connect(it.gsvc, SETUP_CONNECT_MS, 0, NULL);
		if (h[i] < 0) {
			violation("setup: host connect: %s", strerror(-h[i]));
			goto out;
		}
	}
	arm();
	r = close(s);
	s = -1;
	if (it.target == T_CALLER)
		disarm();
	if (r)
		violation("close of the listener: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		expect_host_closed(h[i], "a connection nobody accepted");
		xclose(&h[i]);
	}
	if (it.target == T_WORKER) {
		hvs_host_wait_channels(it.baseline, SETTLE_MS);
		disarm();
	}
	s = gsock();
	if (s < 0 || hvs_bind(s, it.gsvc) || listen(s, 4))
		violation("the service is not free after its listener closed");
	else
		accept_and_check(s, "new listener on the service");
out:
	xclose(&s);
	xclose(&h[0]);
	xclose(&h[1]);
}

/*
 * The host closes first: its rescind, data sent before it still readable
 * and then the end of stream, then the guest's close() and the teardown.
 */
static void c_rescind(int arg)
{
	size_t len = rnd() % 8000;
	__u64 seed = rnd();
	long long t0, dt;
	int g, h, r;
	ssize_t n;

	if (pair(&g, &h))
		return;
	hvs_fill(seed, 0, buf_a, len);
	if (hvs_write_full(h, buf_a, len) != (ssize_t)len) {
		violation("setup: host write");
		goto out;
	}
	if (it.target == T_WORKER)
		arm();
	xclose(&h);
	n = hvs_read_full(g, buf_b, len + 1, IO_TIMEOUT_MS);
	if (n != (ssize_t)len)
		violation("after the host closed, the guest read %s of %zu bytes",
			  n < 0 ? strerror(-n) : n > (ssize_t)len ? "more" : "fewer", len);
	else if (hvs_check(breaks("data") ? ~seed : seed, 0, buf_b, len) >= 0)
		violation("the bytes sent before the rescind are wrong");
	if (it.target == T_CALLER)
		arm();
	t0 = hvs_now_ms();
	r = close(g);
	dt = hvs_now_ms() - t0;
	g = -1;
	if (it.target == T_CALLER)
		disarm();
	if (r || dt > 2000)
		violation("close after the rescind: %d, %lld ms", r, dt);
	if (it.target == T_WORKER) {
		hvs_host_wait_channels(it.baseline, SETTLE_MS);
		disarm();
	}
out:
	xclose(&g);
	xclose(&h);
}

/*
 * The simulated host refuses the next N opens (hvsim_config.fail_opens):
 * N connects fail with ECONNREFUSED, the next one works, in both
 * directions.
 */
static void c_fail_opens(int arg)
{
	struct hvsim_stats before, after;
	struct hvsim_config cfg;
	unsigned int i, k = it.nth;
	int l, g = -1, s = -1, h, r;

	it.injected = 1;
	l = hvs_host_listen(it.hsvc, 0, 0);
	g = gsock();
	if (l < 0 || g < 0 || hvs_host_stats(&before) || host_config(k)) {
		violation("setup");
		goto out;
	}
	for (i = 0; i < k; i++) {
		r = hvs_connect(g, hvs_guid_parent, it.hsvc);
		if (r != -ECONNREFUSED)
			violation("connect %u of %u with fail_opens: %s, not ECONNREFUSED",
				  i + 1, k, r ? strerror(-r) : "success");
		if (!r)
			goto out;
	}
	if (connect_and_check(&g, l, "connect after the refused opens"))
		goto out;
	xclose(&g);

	if (host_config(k))
		goto out;
	s = gsock();
	if (s < 0 || hvs_bind(s, it.gsvc) || listen(s, 4)) {
		violation("setup: guest listener");
		goto out;
	}
	for (i = 0; i < k; i++) {
		h = hvs_host_connect(it.gsvc, HOST_CONNECT_MS, 0, NULL);
		if (h != -ECONNREFUSED)
			violation("host connect %u of %u with fail_opens: %s, not ECONNREFUSED",
				  i + 1, k, h < 0 ? strerror(-h) : "success");
		if (h >= 0) {
			close(h);
			goto out;
		}
		if (hvs_poll(s, POLLIN, 0) & POLLIN)
			violation("the refused host connect left a connection to accept");
	}
	if (accept_and_check(s, "host connect after the refused opens"))
		goto out;
	if (hvs_host_stats(&after) || hvs_host_get_config(&cfg))
		goto out;
	if (cfg.fail_opens)
		violation("fail_opens is %u after %u refused opens",
			  cfg.fail_opens, 2 * k);
	if (after.opens_refused - before.opens_refused != 2 * k)
		violation("the host refused %llu opens, not %u",
			  after.opens_refused - before.opens_refused, 2 * k);
out:
	host_config(0);
	xclose(&s);
	xclose(&g);
	xclose(&l);
}

static const struct fcase cases[] = {
	{ "socket", c_socket, 0, TGT(T_CALLER), 0 },
	{ "bind", c_bind, 0, TGT(T_CALLER), 0 },
	{ "listen", c_listen, 0, TGT(T_CALLER), 0 },
	{ "connect", c_connect, 0, TGT(T_CALLER) | TGT(T_WORKER), 1 },
	{ "accept", c_accept, 0, TGT(T_CALLER) | TGT(T_WORKER), 1 },
	{ "send", c_send, 1, TGT(T_CALLER), 0 },
	{ "sendmsg16", c_send, 16, TGT(T_CALLER), 0 },
	{ "recv", c_recv, 1, TGT(T_CALLER), 0 },
	{ "recvmsg16", c_recv, 16, TGT(T_CALLER), 0 },
	{ "shutdown_wr", c_shutdown, SHUT_WR, TGT(T_CALLER), 0 },
	{ "shutdown_rdwr", c_shutdown, SHUT_RDWR, TGT(T_CALLER), 0 },
	{ "close", c_close, CLOSE_PLAIN, TGT(T_CALLER) | TGT(T_WORKER), 1 },
	{ "close_linger", c_close, CLOSE_LINGER,
	  TGT(T_CALLER) | TGT(T_WORKER), 0 },
	{ "close_linger_stall", c_close, CLOSE_LINGER_STALL,
	  TGT(T_CALLER) | TGT(T_WORKER), 0 },
	{ "close_linger0", c_close, CLOSE_LINGER0,
	  TGT(T_CALLER) | TGT(T_WORKER), 0 },
	{ "close_unread", c_close, CLOSE_UNREAD,
	  TGT(T_CALLER) | TGT(T_WORKER), 0 },
	{ "close_listener", c_close_listener, 0,
	  TGT(T_CALLER) | TGT(T_WORKER), 0 },
	{ "rescind", c_rescind, 0, TGT(T_CALLER) | TGT(T_WORKER), 0 },
	{ "fail_opens", c_fail_opens, 0, TGT(T_SIM), 1 },
};

#define NCASES	ARRAY_SIZE(cases)

/* ------------------------------------------------------------ driver */

/* The channels are back to the baseline, or a violation. */
static void check_channels(void)
{
	long long n = hvs_host_wait_channels(it.baseline, SETTLE_MS);

	if (n < 0) {
		violation("cannot read the host's statistics");
	} else if ((unsigned long long)n > it.baseline) {
		violation("%lld channels still known %d s after both ends closed, baseline %llu",
			  n, SETTLE_MS / 1000, it.baseline);
		it.baseline = n;
	}
}

/* Touch the stack and lock everything: no page faults while armed. */
static void prefault(void)
{
	char stack[256 * 1024];

	memset(stack, 0, sizeof(stack));
	/* Keep the compiler from dropping the memset(). */
	__asm__ __volatile__("" : : "r"(stack) : "memory");
	mlockall(MCL_CURRENT | MCL_FUTURE);
}

/* Runs in the worker process of one case, personality and target. */
static void run_case(const struct fcase *c, int pers, int target)
{
	unsigned int n, first = 1, last, done = 0, inj = 0;
	unsigned long long base = opt.seed ^ hash_str(c->name) ^
				  ((__u64)pers << 32);
	long long t0 = hvs_now_ms(), base_ch;
	int stop = 0, capped = 0;

	memset(&it, 0, sizeof(it));
	it.c = c;
	it.pers = pers;
	it.target = target;
	rng = base;
	rnd_guid(it.hsvc);
	rnd_guid(it.gsvc);

	self_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	buf_a = malloc(BUF_LEN);
	buf_b = malloc(BUF_LEN);
	if (self_fd < 0 || !buf_a || !buf_b || host_config(0)) {
		violation("cannot set up: %s", strerror(errno));
		return;
	}
	memset(buf_a, 0, BUF_LEN);
	memset(buf_b, 0, BUF_LEN);
	hvs_fill(0, 0, buf_a, 1);
	prefault();

	base_ch = hvs_host_wait_channels(0, SETTLE_MS);
	if (base_ch < 0) {
		violation("cannot read the host's statistics");
		return;
	}
	it.baseline = base_ch;
	if (target == T_SIM)
		last = 3;
	else
		last = target == T_WORKER ? CAP_WORKER : CAP_CALLER;
	if (opt.only_nth) {
		first = opt.only_nth;
		last = first;
	}
	for (n = first; n <= last; n++) {
		if (hvs_now_ms() > sh->budget_end) {
			__atomic_add_fetch(&sh->cut, 1, __ATOMIC_RELAXED);
			stop = 1;
			break;
		}
		if (n != it.nth)
			it.retried = 0;
		it.nth = n;
		it.injected = 0;
		it.retry = 0;
		rng = hvs_mix64(base ^ ((__u64)target << 40) ^ n);
		snprintf(sh->where, sizeof(sh->where), "-c %s -p %s -t %s -n %u",
			 c->name, pers_names[pers], target_names[target], n);
		__atomic_store_n(&sh->deadline, hvs_now_ms() + ITER_DEADLINE_MS,
				 __ATOMIC_RELEASE);

		c->fn(c->arg);
		disarm();
		check_channels();
		kmsg_check(1);

		done++;
		inj += it.injected;
		__atomic_add_fetch(&sh->cases, 1, __ATOMIC_RELAXED);
		if (it.injected)
			__atomic_add_fetch(&sh->injected, 1, __ATOMIC_RELAXED);
		verbose("%s", it.injected ? "injected" : "ran through");
		if (it.retry && !it.retried) {
			it.retried = 1;
			n--;
			continue;
		}
		if (!it.injected && target != T_SIM)
			break;
	}
	if (n > last && target != T_SIM && !opt.only_nth) {
		__atomic_add_fetch(&sh->capped, 1, __ATOMIC_RELAXED);
		capped = 1;
	}
	printf("fuzz_failnth: case=%s pers=%s target=%s iterations=%u injected=%u %s (%lld ms)\n",
	       c->name, pers_names[pers], target_names[target], done, inj,
	       stop ? "stopped: time budget" :
	       capped ? "stopped: cap reached" : "complete",
	       hvs_now_ms() - t0);
	fflush(stdout);
}

/* -B hang: a recv nobody answers, with no timeout. */
static void run_hang(void)
{
	static const struct fcase hc = { "hang", NULL, 0, 0, 0 };
	int g, h;
	char b;

	memset(&it, 0, sizeof(it));
	it.c = &hc;
	rnd_guid(it.hsvc);
	snprintf(sh->where, sizeof(sh->where), "-c none -B hang");
	__atomic_store_n(&sh->deadline, hvs_now_ms() + 2000, __ATOMIC_RELEASE);
	if (pair(&g, &h))
		return;
	hvs_set_timeo(g, SO_RCVTIMEO, 0);
	if (recv(g, &b, 1, 0) < 0)
		violation("recv: %s", strerror(errno));
}

static void dump_stacks(pid_t pid)
{
	char path[300], line[256];
	struct dirent *de;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stack", pid,
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		printf("fuzz_failnth:   thread %s:\n", de->d_name);
		while (fgets(line, sizeof(line), f))
			printf("fuzz_failnth:     %s", line);
		fclose(f);
	}
	if (d)
		closedir(d);
}

/*
 * Wait for the worker process; one past its deadline is hung: report it,
 * dump where it sleeps, kill it. Returns -1 if it cannot be reaped.
 */
static int supervise(pid_t pid)
{
	long long end;
	int st;

	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		if (hvs_now_ms() > __atomic_load_n(&sh->deadline,
						   __ATOMIC_ACQUIRE) + 5000) {
			sh->hangs++;
			printf("fuzz_failnth: HANG: no progress by the deadline\n");
			printf("fuzz_failnth:   reproduce: fuzz_failnth -s %llu %s\n",
			       opt.seed, sh->where);
			dump_stacks(pid);
			workers_set(0, 0);
			kill(pid, SIGKILL);
			end = hvs_now_ms() + 10000;
			while (waitpid(pid, &st, WNOHANG) != pid) {
				if (hvs_now_ms() > end) {
					printf("fuzz_failnth: cannot kill it; stopping\n");
					return -1;
				}
				hvs_msleep(100);
			}
			return 0;
		}
		hvs_msleep(50);
	}
	if (WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st))) {
		sh->violations++;
		printf("fuzz_failnth: VIOLATION: fuzz_failnth -s %llu %s died (%s %d)\n",
		       opt.seed, sh->where, WIFSIGNALED(st) ? "signal" : "status",
		       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
	return 0;
}

static int spawn(void (*fn)(const struct fcase *, int, int),
		 const struct fcase *c, int pers, int target)
{
	pid_t pid;

	fflush(stdout);
	__atomic_store_n(&sh->deadline, hvs_now_ms() + ITER_DEADLINE_MS,
			 __ATOMIC_RELEASE);
	pid = fork();
	if (pid < 0) {
		printf("fuzz_failnth: fork: %s\n", strerror(errno));
		return -1;
	}
	if (!pid) {
		fn(c, pers, target);
		fflush(stdout);
		_exit(0);
	}
	return supervise(pid);
}

static void hang_main(const struct fcase *c, int pers, int target)
{
	run_hang();
}

/* Unload af_hvsock, retrying while released sockets finish closing. */
static int unload(void)
{
	long long end = hvs_now_ms() + 20000;
	int ret;

	do {
		ret = hvs_err(syscall(SYS_delete_module, "af_hvsock", O_NONBLOCK));
		if (ret != -EWOULDBLOCK && ret != -EBUSY)
			break;
		hvs_msleep(100);
	} while (hvs_now_ms() < end);
	return ret;
}

/* Suspected leaks found before the run: not ours. */
#define MAX_OLD_LEAKS	4096
static unsigned long long old_leaks[MAX_OLD_LEAKS];
static int n_old_leaks;

static int is_old_leak(unsigned long long addr)
{
	int i;

	for (i = 0; i < n_old_leaks; i++)
		if (old_leaks[i] == addr)
			return 1;
	return 0;
}

/*
 * A kmemleak scan. With @before, remember the suspects; else print and
 * count the new ones. Returns their number, -1 without kmemleak.
 */
static int kmemleak_scan(int before)
{
	unsigned long long addr;
	int leaks = 0, shown = 0, mine = 0;
	char line[512];
	FILE *f;

	if (write_file(KMEMLEAK, "scan"))
		return -1;
	f = fopen(KMEMLEAK, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " unreferenced object 0x%llx", &addr) == 1) {
			if (before && n_old_leaks < MAX_OLD_LEAKS)
				old_leaks[n_old_leaks++] = addr;
			mine = !before && !is_old_leak(addr);
			leaks += mine;
		}
		if (mine && shown++ < 400)
			printf("fuzz_failnth:   kmemleak: %s", line);
	}
	fclose(f);
	return before ? n_old_leaks : leaks;
}

static int parse_target(const char *s)
{
	int i;

	for (i = 0; i < T_NR; i++)
		if (!strcmp(s, target_names[i]))
			return i;
	return -2;
}

static void print_usage(void)
{
	printf("fuzz_failnth -s SEED [-v] [-V] [-c CASE] [-p ws2016|modern]\n"
	       "\t[-t caller|worker|sim] [-n NTH] [-T SECONDS]\n"
	       "\t[-B errors|data|channels|hang|unload]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long long t0 = hvs_now_ms(), t1;
	int ch, have_seed = 0, pers, t, keep = -1, leaks;
	unsigned int i;

	while ((ch = getopt(argc, argv, "s:vVc:p:t:n:T:B:")) != -1) {
		switch (ch) {
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			have_seed = 1;
			break;
		case 'v':
			opt.verbose = 1;
			break;
		case 'V':
			opt.trace = 1;
			break;
		case 'c':
			opt.only_case = optarg;
			break;
		case 'p':
			opt.only_pers = !strcmp(optarg, "modern") ? 1 :
					!strcmp(optarg, "ws2016") ? 0 : -2;
			if (opt.only_pers < 0)
				print_usage();
			break;
		case 't':
			opt.only_target = parse_target(optarg);
			if (opt.only_target < 0)
				print_usage();
			break;
		case 'n':
			opt.only_nth = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			opt.budget_s = atoi(optarg);
			break;
		case 'B':
			opt.brk = optarg;
			break;
		default:
			print_usage();
		}
	}
	if (!have_seed)
		print_usage();
	for (i = 0; opt.only_case && i < NCASES; i++)
		if (!strcmp(opt.only_case, cases[i].name))
			break;
	if (i == NCASES) {
		printf("fuzz_failnth: no case %s; the cases are:", opt.only_case);
		for (i = 0; i < NCASES; i++)
			printf(" %s", cases[i].name);
		printf("\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof(*sh));
	sh->budget_end = t0 + opt.budget_s * 1000LL;

	hvs_load_modules();
	ch = hvs_socket(0);
	if (ch < 0 || hvs_host_reset_config()) {
		printf("fuzz_failnth: no AF_HYPERV or no simulated host: %s\n",
		       strerror(ch < 0 ? -ch : errno));
		return 1;
	}
	close(ch);
	if (opt.trace) {
		knobs[2].val = "2";
		knobs[6].val = "2";
	}
	if (knobs_set()) {
		knobs_restore();
		return 1;
	}
	printf("fuzz_failnth: start: seed %llu, %zu cases, time budget %d s\n",
	       opt.seed, NCASES, opt.budget_s);
	leaks = kmemleak_scan(1);
	if (leaks > 0)
		printf("fuzz_failnth: %d suspected leaks before the run: not counted\n",
		       leaks);
	/* From here on, every report is ours. */
	kmsg_open();

	for (i = 0; i < NCASES; i++) {
		if (opt.only_case && strcmp(opt.only_case, cases[i].name))
			continue;
		for (pers = 0; pers < 2; pers++) {
			if (pers && !cases[i].both && opt.only_pers < 0)
				continue;
			if (opt.only_pers >= 0 && pers != opt.only_pers)
				continue;
			for (t = 0; t < T_NR; t++) {
				if (!(cases[i].targets & TGT(t)) ||
				    (opt.only_target >= 0 && t != opt.only_target))
					continue;
				if (spawn(run_case, &cases[i], pers, t))
					goto done;
			}
		}
	}
	if (breaks("hang"))
		spawn(hang_main, NULL, 0, 0);
done:
	workers_set(0, 0);
	hvs_host_reset_config();
	if (breaks("unload"))
		keep = hvs_socket(0);

	ch = unload();
	if (ch) {
		sh->violations++;
		printf("fuzz_failnth: VIOLATION rmmod af_hvsock: %s\n",
		       strerror(-ch));
	}
	xclose(&keep);
	if (kmsg_check(0)) {
		sh->violations++;
		printf("fuzz_failnth: VIOLATION kernel report at the end of the run\n");
	}
	/* kmemleak reports only objects older than 5 s. */
	hvs_msleep(6000);
	t1 = hvs_now_ms();
	leaks = kmemleak_scan(0);
	if (leaks < 0) {
		printf("fuzz_failnth: no kmemleak: leaks not checked\n");
	} else {
		printf("fuzz_failnth: kmemleak scan: %d suspected leaks (%lld ms)\n",
		       leaks, hvs_now_ms() - t1);
		sh->leaks += leaks;
	}
	knobs_restore();

	printf("fuzz_failnth: %lu cut by the time budget, %lu capped, %lld s\n",
	       sh->cut, sh->capped, (hvs_now_ms() - t0) / 1000);
	printf("fuzz_failnth: seed=%llu cases=%lu injected=%lu ",
	       opt.seed, sh->cases, sh->injected);
	printf("violations=%lu hangs=%lu leaks=%lu\n",
	       sh->violations, sh->hangs, sh->leaks);
	return sh->violations || sh->hangs || sh->leaks ? 1 : 0;
}
