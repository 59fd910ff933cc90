// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_syscalls: random system calls on AF_HYPERV sockets and on the
 * simulated host's endpoints, from several threads sharing one pool of
 * descriptors.
 *
 *   fuzz_syscalls [-s SEED] [-t SECONDS] [-j THREADS] [-w SECONDS] [-v]
 *                 [-S] [-G] [-X stuck|oracle|leak]
 *
 * -s  the seed (default: random, printed); each thread draws its choices
 *     from a PRNG seeded from it and the thread's number, so a seed replays
 *     the same stream of choices; which calls they become also depends on
 *     what the other threads did meanwhile (a slot found empty is filled
 *     first), so a replay is the same run only as far as timing allows.
 * -t  how long to run (default 60 s); -j threads (default 4);
 * -w  the watchdog's deadline for one call (default 10 s); -v counts the
 *     operations, -vv logs every call; -S: the simulator is shared with
 *     another program, so leave the end checks (channels, unloading
 *     hv_sock) to the caller; -G: leave the host's global fault knobs alone.
 * -X  checks the checker: "stuck" blocks one call past the deadline (the
 *     watchdog must report a hang), "oracle" declares EAGAIN wrong (the
 *     oracle must report violations), "leak" keeps a connection open at
 *     the end (the channel and unload checks must fail).
 *
 * The threads share 32 guest slots (AF_HYPERV sockets) and 24 host slots
 * (/dev/hvsim listeners and connections), and services out of a small
 * fixed set, so that guest listeners meet host connects and host listeners
 * meet guest connects. Descriptors are closed and dup2()ed over while other
 * threads use them. Every call that may block is bounded by a timeout of
 * tens of milliseconds (SO_RCVTIMEO, SO_SNDTIMEO, HVSOCKET_CONNECT_TIMEOUT,
 * O_NONBLOCK), so any call the watchdog sees stuck for -w seconds is
 * reported, with its arguments and the kernel stacks, as a hang; the run
 * goes on and the hang fails it.
 *
 * The oracle: a call must not fail with EFAULT unless it was given a bad
 * pointer; on a descriptor whose identity and known state did not change
 * during the call, it must fail only with an errno that call may return,
 * fail with the one errno its arguments or the socket's state dictate
 * (MSG_OOB, MSG_ERRQUEUE, a listener's recv(), a short address, ...), and
 * not succeed where it must fail. Each violation is printed with the seed.
 *
 * At the end every descriptor is closed, the host must get back to the
 * channels it had at the start and hv_sock must unload: a socket or channel
 * reference leaked would keep it loaded. The last line is
 * "fuzz_syscalls: seed=S threads=J seconds=T ops=N violations=V hangs=H";
 * the exit status is 0 if V and H are 0.
 */

#include "hvs_test.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/sockios.h>

#define NR_GSLOTS	32
#define NR_HSLOTS	24
#define NR_SVC		6
#define MAX_THREADS	32
#define BUF_SIZE	(1024 * 1024)
#define MAX_IOV		1024	/* UIO_MAXIOV */
#define ADDR_MAX	128	/* sizeof(struct sockaddr_storage) */
#define SOCK_TYPE_MASK	0xf
#define NR_SOCK_TYPES	11	/* SOCK_MAX */
#define TMP_SIZE	65536

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* A kernel address: every copy from or to it fails. */
#define KERNEL_PTR	((void *)0xffff888000000000UL)

static unsigned long long seed;
static int nthreads = 4, seconds = 60, deadline_s = 10;
static int verbose;
static bool shared, no_knobs, dbg_stuck, dbg_oracle, dbg_leak;
static int stop, watchdog_stop;
static long long t_start, t_end;
static unsigned long long violations, hangs;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t knob_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * A descriptor number seen by one thread may be closed and reused by
 * another at any time: that race is the point. It must not make a host
 * endpoint or a pipe blocking, though, or a later read() on it would wait
 * forever. So descriptors that are not sockets are only created with
 * fd_lock held for writing, and O_NONBLOCK is only ever cleared with it
 * held for reading, on a descriptor just checked to be an AF_HYPERV
 * socket (which all have short timeouts).
 */
static pthread_rwlock_t fd_lock = PTHREAD_RWLOCK_INITIALIZER;

/* The services guest and host operations meet on. */
static __u8 svc[NR_SVC][16];

static const __u8 guid_parent[16] = HV_GUID_PARENT_INIT;
static const __u8 guid_loopback[16] = HV_GUID_LOOPBACK_INIT;
static const __u8 guid_broadcast[16] = HV_GUID_BROADCAST_INIT;
static const __u8 guid_children[16] = HV_GUID_CHILDREN_INIT;

/* ---------------------------------------------------------------- slots */

enum { K_NONE, K_SOCK, K_HOST };

/* What is known of the file in a slot. */
#define SF_LISTEN_TRIED		0x01	/* listen() was called on it */
#define SF_LISTENER		0x02	/* listen() succeeded, no shutdown since */
#define SF_CONNECT_TRIED	0x04	/* connect() was called on it */
#define SF_CHILD		0x08	/* it came from accept() */
#define SF_ALIAS		0x10	/* another descriptor shares the file */
#define SF_HLISTEN		0x20	/* host listener */
#define SF_HCONN		0x40	/* host connection */

/*
 * A descriptor shared by the threads. @lock serialises the changes of the
 * descriptor and of what is known of its state: creating, closing,
 * dup2(), and the calls that change a socket's role (bind, listen,
 * connect, shutdown), which therefore never use a stale number. Other
 * calls use the number without the lock and judge their result only if
 * @gen did not change meanwhile. Every change bumps @gen before the
 * system call that makes it (see slot_begin_change()): a call that saw
 * the new state must not be judged by the old one.
 */
struct slot {
	pthread_mutex_t lock;
	int fd;
	int kind;
	unsigned int flags;
	int svc;		/* index of the service bound, or -1 */
	unsigned int gen;
};

struct snap {
	struct slot *s;
	int fd;
	int kind;
	unsigned int flags;
	int svc;
	unsigned int gen;
};

static struct slot gslots[NR_GSLOTS], hslots[NR_HSLOTS];

/* ---------------------------------------------------------------- workers */

/* Events counted to show how deep the run got. */
enum {
	EV_CONNECTED, EV_ACCEPTED, EV_HACCEPTED, EV_HCONNECTED, EV_SENT,
	EV_RECEIVED, EV_HREAD, EV_HWRITTEN, EV_INJECTED, EV_RESET, NR_EV
};

static const char * const ev_names[NR_EV] = {
	"connected", "accepted", "host-accepted", "host-connected",
	"bytes-sent", "bytes-received", "host-bytes-read",
	"host-bytes-written", "injected", "ECONNRESET",
};

struct worker {
	pthread_t thread;
	int idx;
	pid_t tid;
	__u64 rng;
	/* the call in progress, for the watchdog */
	const char *op;
	long arg[4];
	unsigned long seq;
	int in_call;
	int err;		/* errno of the last call */
	unsigned long long ops;
	unsigned long long races;
	unsigned int *op_count;
	unsigned long long ev[NR_EV];
	/* private descriptors, open for the whole run */
	int pipe[2];
	int tmpfd;
	int epfd;
	char *buf;		/* BUF_SIZE bytes, then a PROT_NONE page */
	struct iovec iov[MAX_IOV + 1];
	char addr[ADDR_MAX + 8];
	char ctl[256];
	char small[256];
};

static struct worker workers[MAX_THREADS];

static __u64 rnd(struct worker *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dULL;
}

static unsigned int rn(struct worker *w, unsigned int n)
{
	return (rnd(w) >> 32) % n;
}

static bool one_in(struct worker *w, unsigned int n)
{
	return !rn(w, n);
}

static const char *ename(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "E?";
}

/* ---------------------------------------------------------------- calls */

static void log_call(struct worker *w, long ret)
{
	pthread_mutex_lock(&out_lock);
	printf("T%d #%lu %s(%#lx, %#lx, %#lx, %#lx) = %ld %s\n", w->idx,
	       w->seq, w->op, w->arg[0], w->arg[1], w->arg[2], w->arg[3], ret,
	       ret < 0 ? ename(w->err) : "");
	pthread_mutex_unlock(&out_lock);
}

static void call_begin(struct worker *w, const char *op, long a0, long a1,
		       long a2, long a3)
{
	w->arg[0] = a0;
	w->arg[1] = a1;
	w->arg[2] = a2;
	w->arg[3] = a3;
	__atomic_store_n(&w->op, op, __ATOMIC_RELAXED);
	__atomic_store_n(&w->in_call, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->seq, 1, __ATOMIC_RELEASE);
}

static long call_end(struct worker *w, long ret)
{
	w->err = ret < 0 ? errno : 0;
	__atomic_store_n(&w->in_call, 0, __ATOMIC_RELEASE);
	__atomic_add_fetch(&w->ops, 1, __ATOMIC_RELAXED);
	if (verbose > 1)
		log_call(w, ret);
	return ret;
}

/* Run @expr as the call @name of @w, visible to the watchdog. */
#define CALL(w, name, a0, a1, a2, a3, expr)				\
({									\
	struct worker *__w = (w);					\
									\
	call_begin(__w, name, (long)(a0), (long)(a1), (long)(a2),	\
		   (long)(a3));						\
	call_end(__w, (long)(expr));					\
})

/* ---------------------------------------------------------------- oracle */

/**
 * struct expect - what the last call may return
 * @ok: errnos it may fail with, 0-terminated (NULL: none)
 * @exact: it must fail with this errno
 * @fail: it must not succeed
 * @bad: a bad pointer was passed: EFAULT is fine
 * @badlen: a bad count or length was passed: EINVAL, EMSGSIZE and ENOBUFS
 *	are fine and @exact does not apply
 * @any: any errno but an unexplained EFAULT is fine
 * @max: a success returns at most this (0: no limit)
 */
struct expect {
	const int *ok;
	int exact;
	bool fail;
	bool bad;
	bool badlen;
	bool any;
	long max;
};

static const int e_none[] = { 0 };
static const int e_socket[] = { EMFILE, ENFILE, ENOBUFS, 0 };
static const int e_bind[] = { EINVAL, EADDRINUSE, EADDRNOTAVAIL, EACCES, 0 };
static const int e_connect[] = {
	EINPROGRESS, EALREADY, EISCONN, EINVAL, ETIMEDOUT, ECONNREFUSED,
	ECONNRESET, ECONNABORTED, EAGAIN, ENOBUFS, EINTR, EADDRNOTAVAIL, 0
};

static const int e_connect_vm[] = {
	ENETUNREACH, EINPROGRESS, EALREADY, EISCONN, EINVAL, ETIMEDOUT,
	ECONNREFUSED, ECONNRESET, ECONNABORTED, EAGAIN, ENOBUFS, EINTR,
	EADDRNOTAVAIL, 0
};

static const int e_listen[] = { EINVAL, EADDRNOTAVAIL, 0 };
static const int e_accept[] = {
	EINVAL, EAGAIN, EINTR, EMFILE, ENFILE, ECONNABORTED, 0
};

static const int e_send[] = {
	EPIPE, ECONNRESET, EAGAIN, EINTR, ENOTCONN, ETIMEDOUT, ECONNREFUSED,
	ECONNABORTED, ENOBUFS, 0
};

static const int e_recv[] = {
	EAGAIN, ENOTCONN, ECONNRESET, EINTR, ETIMEDOUT, ECONNREFUSED,
	ECONNABORTED, 0
};

static const int e_shutdown[] = { ENOTCONN, 0 };
static const int e_sol_socket[] = {
	ENOPROTOOPT, EINVAL, EOPNOTSUPP, EPERM, ENODEV, EBADF, EDOM, ERANGE,
	EACCES, ENOTCONN, ENODATA, EBUSY, ENOENT, E2BIG, ENOTSOCK, 0
};

static const int e_timeo[] = { EINVAL, EDOM, 0 };
static const int e_einval[] = { EINVAL, 0 };
static const int e_notconn[] = { ENOTCONN, 0 };
static const int e_notconn_inval[] = { ENOTCONN, EINVAL, 0 };
static const int e_intr[] = { EINTR, 0 };
static const int e_epoll[] = {
	EEXIST, ENOENT, EINVAL, ENOMEM, ENOSPC, ELOOP, 0
};

static const int e_splice[] = {
	EAGAIN, EINVAL, EPIPE, ECONNRESET, ENOTCONN, EINTR, ETIMEDOUT,
	ECONNREFUSED, ECONNABORTED, ENOBUFS, EOPNOTSUPP, 0
};

/* The console is slow: the first ones tell the story. */
#define MAX_PRINTED	100

static void bad_result(struct worker *w, long ret, const char *fmt, ...)
{
	unsigned long long nr;
	va_list ap;

	nr = __atomic_add_fetch(&violations, 1, __ATOMIC_RELAXED);
	if (nr > MAX_PRINTED)
		return;
	pthread_mutex_lock(&out_lock);
	if (nr == MAX_PRINTED)
		printf("fuzz_syscalls: (further violations are only counted)\n");
	printf("fuzz_syscalls: violation: seed=%llu thread=%d call=%lu ",
	       seed, w->idx, w->seq);
	printf("%s(%#lx, %#lx, %#lx, %#lx) = %ld %s: ", w->op, w->arg[0],
	       w->arg[1], w->arg[2], w->arg[3], ret,
	       ret < 0 ? ename(w->err) : "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	pthread_mutex_unlock(&out_lock);
}

static bool in_list(int e, const int *l)
{
	for (; l && *l; l++)
		if (*l == e)
			return true;
	return false;
}

static void snap_locked(struct slot *s, struct snap *n)
{
	n->s = s;
	n->fd = s->fd;
	n->kind = s->kind;
	n->flags = s->flags;
	n->svc = s->svc;
	n->gen = s->gen;
}

static void snap_take(struct slot *s, struct snap *n)
{
	pthread_mutex_lock(&s->lock);
	snap_locked(s, n);
	pthread_mutex_unlock(&s->lock);
}

static bool stable(const struct snap *n)
{
	return __atomic_load_n(&n->s->gen, __ATOMIC_ACQUIRE) == n->gen;
}

/* The file in @n's slot is a socket of ours that nobody else can change. */
static bool known(const struct snap *n, unsigned int flag)
{
	return (n->flags & flag) && !(n->flags & SF_ALIAS);
}

/*
 * Judge the last call of @w, made on the descriptor of @n (NULL: one only
 * this thread holds) expected to be of @kind.
 */
static void judge(struct worker *w, const struct snap *n, int kind, long ret,
		  const struct expect *x)
{
	int e = w->err;

	if (ret < 0 && e == ECONNRESET && kind == K_SOCK)
		w->ev[EV_RESET]++;
	if (ret < 0 && e == EFAULT && !x->bad) {
		bad_result(w, ret, "EFAULT without a bad pointer");
		return;
	}
	if (n && !stable(n)) {
		w->races++;
		return;
	}
	if ((n && n->kind != kind) || x->any)
		return;
	if (ret < 0 && (e == ENOMEM || (e == EFAULT && x->bad)))
		return;
	if (ret < 0 && x->badlen &&
	    (e == EINVAL || e == EMSGSIZE || e == ENOBUFS))
		return;
	if (x->exact && !x->badlen) {
		if (ret >= 0)
			bad_result(w, ret, "succeeded; must fail with %s",
				   ename(x->exact));
		else if (e != x->exact)
			bad_result(w, ret, "must fail with %s",
				   ename(x->exact));
		return;
	}
	if (ret >= 0) {
		if (x->fail)
			bad_result(w, ret, "succeeded; must fail");
		else if (x->max > 0 && ret > x->max)
			bad_result(w, ret, "returned more than %ld", x->max);
		return;
	}
	if (dbg_oracle && e == EAGAIN) {
		bad_result(w, ret, "EAGAIN (-X oracle declares it wrong)");
		return;
	}
	if (!in_list(e, x->ok))
		bad_result(w, ret, "errno not expected from this call");
}

/* ---------------------------------------------------------------- helpers */

static void slot_set(struct slot *s, int fd, int kind, unsigned int flags,
		     int svc_idx)
{
	s->fd = fd;
	s->kind = kind;
	s->flags = flags;
	s->svc = svc_idx;
	__atomic_store_n(&s->gen, s->gen + 1, __ATOMIC_RELEASE);
}

static void slot_touch(struct slot *s)
{
	__atomic_store_n(&s->gen, s->gen + 1, __ATOMIC_RELEASE);
}

/*
 * @s, locked, is about to change: its file is replaced (dup2) or its
 * socket's role changes (listen, shutdown, ...). A thread that took its
 * snapshot before may make its call once the kernel made the change but
 * judge it before we update the flags and bump @gen afterwards: it would
 * judge, say, accept() on a socket that listens now as on one that never
 * listened. Bumping @gen before the call, and making that visible before
 * the call's effects, turns every such call into a race, whatever the
 * interleaving; snapshots wait for the lock, so none is taken meanwhile.
 */
static void slot_begin_change(struct slot *s)
{
	slot_touch(s);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void do_close(struct worker *w, int fd)
{
	long r = CALL(w, "close", fd, 0, 0, 0, close(fd));

	if (r)
		bad_result(w, r, "close() of a descriptor of ours failed");
}

/* Put @fd in a free slot of @pool, or close it if there is none. */
static void install(struct worker *w, struct slot *pool, int n, int fd,
		    int kind, unsigned int flags, int svc_idx)
{
	int i, start = rn(w, n);

	for (i = 0; i < n; i++) {
		struct slot *s = &pool[(start + i) % n];

		pthread_mutex_lock(&s->lock);
		if (s->fd < 0) {
			slot_set(s, fd, kind, flags, svc_idx);
			pthread_mutex_unlock(&s->lock);
			return;
		}
		pthread_mutex_unlock(&s->lock);
	}
	do_close(w, fd);
}

static struct slot *gslot(struct worker *w)
{
	return &gslots[rn(w, NR_GSLOTS)];
}

static struct slot *hslot(struct worker *w)
{
	return &hslots[rn(w, NR_HSLOTS)];
}

static struct slot *any_slot(struct worker *w)
{
	return one_in(w, 3) ? hslot(w) : gslot(w);
}

static void *bad_ptr(struct worker *w)
{
	switch (rn(w, 4)) {
	case 0:
		return NULL;
	case 1:
		return KERNEL_PTR;
	case 2:
		return w->buf + BUF_SIZE;	/* the guard page */
	default:
		return (void *)(uintptr_t)(1 + rn(w, 4095));
	}
}

static void random_guid(struct worker *w, __u8 *g)
{
	__u64 a = rnd(w), b = rnd(w);

	memcpy(g, &a, 8);
	memcpy(g + 8, &b, 8);
}

static void fill_random(struct worker *w, char *p, size_t len)
{
	while (len >= 8) {
		__u64 v = rnd(w);

		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	while (len--)
		*p++ = rnd(w);
}

struct ubuf {
	char *p;
	size_t len;
	bool bad;
};

static const size_t odd_lens[] = {
	1, 2, 7, 8, 9, 4095, 4096, 4097, 8192, 16383, 16384, 16385, 20479,
	20480, 20481, 65536
};

/* A buffer for one transfer: mostly good, sometimes bad or huge. */
static void pick_buf(struct worker *w, struct ubuf *b)
{
	size_t k, off = rn(w, 4096);

	b->bad = false;
	switch (rn(w, 32)) {
	case 0:
		b->len = 0;
		b->p = one_in(w, 2) ? NULL : w->buf;
		return;
	case 1:
		b->len = 1 + rn(w, 65536);
		b->p = bad_ptr(w);
		b->bad = true;
		return;
	case 2:	/* runs into the guard page */
		k = 1 + rn(w, 4096);
		b->p = w->buf + BUF_SIZE - k;
		b->len = k + 1 + rn(w, 8192);
		b->bad = true;
		return;
	case 3:	/* huge: the kernel copies until it faults */
		b->p = w->buf + off;
		b->len = one_in(w, 2) ? SSIZE_MAX : (1UL << 30) + rn(w, 4096);
		b->bad = true;
		return;
	case 4:
		b->len = 16384 + rn(w, BUF_SIZE - 16384 - 4096);
		break;
	case 5: case 6: case 7: case 8:
		b->len = odd_lens[rn(w, ARRAY_SIZE(odd_lens))];
		break;
	default:
		b->len = 1 + rn(w, 3000);
		break;
	}
	b->p = w->buf + off;
}

/*
 * An iovec array for readv/writev/sendmsg/recvmsg: the count, each element
 * and the array itself can be bad. Returns the count; *@total is the sum of
 * the lengths (saturated).
 */
static int pick_iov(struct worker *w, struct iovec **iovp, bool *bad,
		    bool *badlen, size_t *total)
{
	int i, cnt;

	switch (rn(w, 40)) {
	case 0: case 1: case 2: case 3:
		cnt = 0;
		break;
	case 4: case 5: case 6:
		cnt = 5 + rn(w, 60);
		break;
	case 7:
		cnt = MAX_IOV;
		break;
	case 8:
		cnt = MAX_IOV + 1;
		*badlen = true;
		break;
	default:
		cnt = 1 + rn(w, 4);
		break;
	}
	*total = 0;
	for (i = 0; i < cnt; i++) {
		struct ubuf b;

		if (cnt > 8) {
			b.p = w->buf + rn(w, BUF_SIZE / 2);
			b.len = rn(w, 64);
			b.bad = false;
		} else {
			pick_buf(w, &b);
		}
		w->iov[i].iov_base = b.p;
		w->iov[i].iov_len = b.len;
		*bad |= b.bad;
		*total = b.len > SSIZE_MAX - *total ? SSIZE_MAX : *total + b.len;
	}
	*iovp = w->iov;
	if (one_in(w, 50)) {
		*iovp = bad_ptr(w);
		*bad = true;
	}
	return cnt;
}

/* The descriptor's file is an AF_HYPERV socket (see fd_lock). */
static bool is_hvsock(struct worker *w, int fd)
{
	socklen_t len = sizeof(int);
	int v = 0;
	long r;

	r = CALL(w, "getsockopt", fd, SOL_SOCKET, SO_DOMAIN, 0,
		 getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len));
	return !r && v == AF_HYPERV;
}

static long timeo_set(struct worker *w, int fd, int opt, long usec)
{
	struct timeval tv = { 0, usec };

	return CALL(w, "setsockopt", fd, SOL_SOCKET, opt, usec,
		    setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)));
}

/* The timeouts every guest socket gets before anyone can see it. */
static bool sock_setup(struct worker *w, int fd)
{
	static const struct expect ok = { .ok = e_none };
	unsigned int ms = 5 + rn(w, 95);
	long r;

	r = timeo_set(w, fd, SO_RCVTIMEO, 1000 + rn(w, 24000));
	judge(w, NULL, K_SOCK, r, &ok);
	if (r)
		return false;
	r = timeo_set(w, fd, SO_SNDTIMEO, 1000 + rn(w, 24000));
	judge(w, NULL, K_SOCK, r, &ok);
	if (r)
		return false;
	r = CALL(w, "setsockopt", fd, SOL_HYPERV, HVSOCKET_CONNECT_TIMEOUT, ms,
		 setsockopt(fd, SOL_HYPERV, HVSOCKET_CONNECT_TIMEOUT, &ms,
			    sizeof(ms)));
	judge(w, NULL, K_SOCK, r, &ok);
	return !r;
}

/* ---------------------------------------------------------------- guest */

struct addr_case {
	void *p;
	int len;
	int exact;	/* errno the address alone dictates */
	bool bad;
	bool vm_bad;
	bool svc_null;
	int svc;	/* index in svc[], or -1 */
};

/* An address for bind() or connect(): mostly good, sometimes wrong. */
static void make_addr(struct worker *w, struct addr_case *a, bool conn)
{
	struct sockaddr_hv *sa = (struct sockaddr_hv *)w->addr;
	static const int families[] = {
		AF_UNSPEC, AF_INET, AF_UNIX, AF_VSOCK, AF_HYPERV + 1, 0xffff
	};
	int i;

	memset(w->addr, 0, sizeof(w->addr));
	sa->shv_family = AF_HYPERV;
	memset(a, 0, sizeof(*a));
	a->p = sa;
	a->len = sizeof(*sa);
	a->svc = -1;
	if (conn && one_in(w, 2))
		memcpy(sa->shv_vm_id, guid_parent, 16);
	switch (rn(w, 10)) {
	case 0:
		random_guid(w, sa->shv_service_id);
		break;
	case 1:
		a->svc_null = conn;	/* bind(): pick a random one */
		break;
	default:
		i = rn(w, NR_SVC);
		memcpy(sa->shv_service_id, svc[i], 16);
		a->svc = i;
		break;
	}
	if (one_in(w, 4))
		a->len = sizeof(*sa) + rn(w, ADDR_MAX - sizeof(*sa) + 1);

	switch (rn(w, 20)) {
	case 0:
		a->len = rn(w, sizeof(*sa));
		break;
	case 1:
		sa->shv_family = families[rn(w, ARRAY_SIZE(families))];
		break;
	case 2:
		sa->shv_reserved = 1 + rn(w, 0xfffe);
		break;
	case 3:
		switch (rn(w, 4)) {
		case 0:
			memcpy(sa->shv_vm_id, conn ? guid_loopback : guid_parent, 16);
			break;
		case 1:
			memcpy(sa->shv_vm_id, guid_broadcast, 16);
			break;
		case 2:
			memcpy(sa->shv_vm_id, guid_children, 16);
			break;
		default:
			random_guid(w, sa->shv_vm_id);
			sa->shv_vm_id[0] |= 1;
			break;
		}
		a->vm_bad = true;
		break;
	case 4:
		a->p = bad_ptr(w);
		a->bad = true;
		break;
	case 5:
		a->len = one_in(w, 2) ? -1 - (int)rn(w, 1000) :
			 ADDR_MAX + 1 + rn(w, 1000);
		break;
	}

	/* What the kernel must answer, in the order it checks. */
	if (a->len < 0 || a->len > ADDR_MAX)
		a->exact = EINVAL;
	else if (a->bad)
		a->exact = a->len ? EFAULT : EINVAL;
	else if (a->len < (int)sizeof(*sa))
		a->exact = EINVAL;
	else if (sa->shv_family != AF_HYPERV)
		a->exact = EAFNOSUPPORT;
	else if (sa->shv_reserved)
		a->exact = EINVAL;
	else if (a->vm_bad && !conn)
		a->exact = EADDRNOTAVAIL;
}

/* bind() on @fd, whose known state is @flags; returns the result. */
static long g_bind(struct worker *w, const struct snap *n, int fd,
		   unsigned int flags, int *svc_idx)
{
	struct expect x = { .ok = e_bind };
	struct addr_case a;
	long r;

	make_addr(w, &a, false);
	x.exact = a.exact;
	x.bad = a.bad;
	/* A child is bound to its listener's service. */
	if ((flags & SF_CHILD) && !(flags & SF_ALIAS))
		x.fail = true;
	r = CALL(w, "bind", fd, a.len, a.svc, 0, bind(fd, a.p, a.len));
	judge(w, n, K_SOCK, r, &x);
	if (!r)
		*svc_idx = a.svc;
	return r;
}

static long g_listen(struct worker *w, const struct snap *n, int fd,
		     unsigned int flags)
{
	static const int backlogs[] = {
		-1, 0, 1, 2, 3, 5, 16, 128, 4096, INT_MAX, INT_MIN
	};
	struct expect x = { .ok = e_listen };
	int b = backlogs[rn(w, ARRAY_SIZE(backlogs))];
	long r;

	if ((flags & SF_CHILD) && !(flags & SF_ALIAS))
		x.exact = EINVAL;
	r = CALL(w, "listen", fd, b, 0, 0, listen(fd, b));
	judge(w, n, K_SOCK, r, &x);
	return r;
}

static long g_connect(struct worker *w, const struct snap *n, int fd,
		      unsigned int flags)
{
	static const int e_never_vm[] = { ENETUNREACH, EISCONN, 0 };
	static const int e_never_svc[] = { EINVAL, EISCONN, 0 };
	struct expect x = { .ok = e_connect };
	struct addr_case a;
	bool alias = flags & SF_ALIAS;
	long r;

	make_addr(w, &a, true);
	x.exact = a.exact;
	x.bad = a.bad;
	if (!x.exact && !alias && (flags & (SF_CHILD | SF_LISTENER))) {
		/* Connected already, or listening. */
		x.exact = EISCONN;
	} else if (!x.exact && (a.vm_bad || a.svc_null)) {
		x.ok = a.vm_bad ? e_connect_vm : e_connect;
		if (!alias && !(flags & SF_CONNECT_TRIED)) {
			x.ok = a.vm_bad ? e_never_vm : e_never_svc;
			x.fail = true;
		}
	}
	r = CALL(w, "connect", fd, a.len, a.svc, a.vm_bad,
		 connect(fd, a.p, a.len));
	judge(w, n, K_SOCK, r, &x);
	w->ev[EV_CONNECTED] += !r;
	return r;
}

static int socket_errno(int type, int proto)
{
	if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	type &= SOCK_TYPE_MASK;
	if (type >= NR_SOCK_TYPES)
		return -EINVAL;
	if (type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (proto != 0 && proto != HV_PROTOCOL_RAW)
		return -EPROTONOSUPPORT;
	return 0;
}

static void op_socket(struct worker *w)
{
	static const int types[] = {
		SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW, SOCK_RDM, SOCK_DCCP,
		SOCK_PACKET, 0, 7, 11, 15, -1, INT_MAX, SOCK_STREAM | 0x100
	};
	static const int protos[] = { 2, 3, -1, 255, 6, INT_MIN };
	int type = SOCK_STREAM | SOCK_NONBLOCK, proto = rn(w, 2);
	struct expect x = { .ok = e_socket };
	unsigned int flags = 0;
	int fd, svc_idx = -1;
	long r;

	if (one_in(w, 10))
		type = types[rn(w, ARRAY_SIZE(types))] |
		       (one_in(w, 2) ? SOCK_NONBLOCK : 0);
	else if (one_in(w, 10))
		proto = protos[rn(w, ARRAY_SIZE(protos))];
	if (one_in(w, 2))
		type |= SOCK_CLOEXEC;
	x.exact = -socket_errno(type, proto);
	r = CALL(w, "socket", AF_HYPERV, type, proto, 0,
		 socket(AF_HYPERV, type, proto));
	judge(w, NULL, K_SOCK, r, &x);
	if (r < 0)
		return;
	fd = r;
	if (x.exact || !sock_setup(w, fd)) {
		do_close(w, fd);
		return;
	}
	/* Nobody else can see it yet: O_NONBLOCK may go without fd_lock. */
	if (one_in(w, 2))
		CALL(w, "fcntl", fd, F_SETFL, O_RDWR, 0,
		     fcntl(fd, F_SETFL, O_RDWR));

	switch (rn(w, 3)) {
	case 0:	/* a server */
		if (!one_in(w, 8))
			g_bind(w, NULL, fd, 0, &svc_idx);
		flags |= SF_LISTEN_TRIED;
		if (!g_listen(w, NULL, fd, flags))
			flags |= SF_LISTENER;
		break;
	case 1:	/* a client */
		flags |= SF_CONNECT_TRIED;
		g_connect(w, NULL, fd, 0);
		break;
	}
	install(w, gslots, NR_GSLOTS, fd, K_SOCK, flags, svc_idx);
}

/* Lock a guest slot for a change of role; false if it is empty. */
static bool lock_role(struct worker *w, struct slot **sp, struct snap *n)
{
	struct slot *s = gslot(w);

	pthread_mutex_lock(&s->lock);
	if (s->fd < 0) {
		pthread_mutex_unlock(&s->lock);
		op_socket(w);
		return false;
	}
	/* Before the snapshot: the caller judges its own call by it. */
	slot_begin_change(s);
	snap_locked(s, n);
	*sp = s;
	return true;
}

static void op_bind(struct worker *w)
{
	struct slot *s;
	struct snap n;
	int svc_idx = -1;

	if (!lock_role(w, &s, &n))
		return;
	if (!g_bind(w, &n, n.fd, n.flags, &svc_idx)) {
		s->svc = svc_idx;
		slot_touch(s);
	}
	pthread_mutex_unlock(&s->lock);
}

static void op_listen(struct worker *w)
{
	struct slot *s;
	struct snap n;

	if (!lock_role(w, &s, &n))
		return;
	s->flags |= SF_LISTEN_TRIED;
	if (!g_listen(w, &n, n.fd, n.flags) && s->kind == K_SOCK)
		s->flags |= SF_LISTENER;
	slot_touch(s);
	pthread_mutex_unlock(&s->lock);
}

static void op_connect(struct worker *w)
{
	struct slot *s;
	struct snap n;

	if (!lock_role(w, &s, &n))
		return;
	g_connect(w, &n, n.fd, n.flags);
	s->flags |= SF_CONNECT_TRIED;
	slot_touch(s);
	pthread_mutex_unlock(&s->lock);
}

static void op_shutdown(struct worker *w)
{
	static const int hows[] = { -1, 3, 4, 7, INT_MAX, INT_MIN };
	struct expect x = { .ok = e_shutdown };
	int how = rn(w, 3);
	struct slot *s;
	struct snap n;
	long r;

	if (!lock_role(w, &s, &n))
		return;
	if (one_in(w, 8)) {
		how = hows[rn(w, ARRAY_SIZE(hows))];
		x.exact = EINVAL;
	}
	r = CALL(w, "shutdown", n.fd, how, 0, 0, shutdown(n.fd, how));
	judge(w, &n, K_SOCK, r, &x);
	s->flags &= ~SF_LISTENER;
	slot_touch(s);
	pthread_mutex_unlock(&s->lock);
}

/* Empty a slot and close its descriptor, racing with its users. */
static void op_close(struct worker *w, struct slot *s)
{
	int fd;

	pthread_mutex_lock(&s->lock);
	fd = s->fd;
	if (fd >= 0)
		slot_set(s, -1, K_NONE, 0, -1);
	pthread_mutex_unlock(&s->lock);
	if (fd >= 0)
		do_close(w, fd);
}

static void op_gclose(struct worker *w)
{
	op_close(w, gslot(w));
}

/* dup() into an empty slot or dup2()/dup3() over a used one. */
static void op_dup(struct worker *w)
{
	struct slot *a = any_slot(w), *b = any_slot(w), *lo, *hi;
	struct stat st;
	int flags = 0;
	long r;

	if (a == b)
		return;
	lo = a < b ? a : b;
	hi = a < b ? b : a;
	pthread_rwlock_wrlock(&fd_lock);
	pthread_mutex_lock(&lo->lock);
	pthread_mutex_lock(&hi->lock);
	if (a->fd < 0) {
		r = -1;
	} else if (b->fd < 0) {
		r = CALL(w, "dup", a->fd, 0, 0, 0, dup(a->fd));
		judge(w, NULL, K_SOCK, r, &(struct expect){ .ok = e_socket });
	} else {
		if (one_in(w, 2))
			flags = one_in(w, 8) ? O_APPEND : O_CLOEXEC;
		/* b->fd names a's file as soon as dup3() made it so. */
		slot_begin_change(b);
		r = CALL(w, "dup3", a->fd, b->fd, flags, 0,
			 dup3(a->fd, b->fd, flags));
		judge(w, NULL, K_SOCK, r, &(struct expect){
			.ok = e_socket, .exact = flags == O_APPEND ? EINVAL : 0,
		});
	}
	if (r >= 0) {
		int kind = K_HOST;

		if (!CALL(w, "fstat", r, 0, 0, 0, fstat(r, &st)) &&
		    S_ISSOCK(st.st_mode))
			kind = K_SOCK;
		a->flags |= SF_ALIAS;
		slot_touch(a);
		slot_set(b, r, kind, a->flags, a->svc);
	}
	pthread_mutex_unlock(&hi->lock);
	pthread_mutex_unlock(&lo->lock);
	pthread_rwlock_unlock(&fd_lock);
}

/* A guest slot for a call that does not change its role. */
static bool use_gslot(struct worker *w, struct snap *n)
{
	snap_take(gslot(w), n);
	if (n->fd < 0 && !one_in(w, 10)) {
		op_socket(w);
		return false;
	}
	return true;
}

static void check_addr(struct worker *w, long r, const struct sockaddr_hv *a,
		       socklen_t len, const __u8 *vm, const __u8 *srv)
{
	if (len != sizeof(*a)) {
		bad_result(w, r, "address length %u", len);
		return;
	}
	if (a->shv_family != AF_HYPERV || a->shv_reserved)
		bad_result(w, r, "address family %u reserved %u",
			   a->shv_family, a->shv_reserved);
	else if (!hvs_guid_eq(a->shv_vm_id, vm))
		bad_result(w, r, "wrong VM GUID in the address");
	else if (srv && !hvs_guid_eq(a->shv_service_id, srv))
		bad_result(w, r, "wrong service GUID in the address");
}

static void op_accept(struct worker *w)
{
	static const int garbage[] = { O_APPEND, 1, -1, O_DIRECT, 0x10 };
	struct expect x = { .ok = e_accept };
	struct sockaddr_hv *sa = (struct sockaddr_hv *)w->addr;
	socklen_t alen = sizeof(*sa), req, *lenp = NULL;
	struct sockaddr_hv peer;
	void *addr = NULL;
	int flags = 0, fd;
	struct snap n;
	long r;

	if (!use_gslot(w, &n))
		return;
	switch (rn(w, 10)) {
	case 0:
		flags = garbage[rn(w, ARRAY_SIZE(garbage))];
		x.exact = EINVAL;
		break;
	case 1: case 2: case 3:
		break;
	default:
		flags = (one_in(w, 2) ? SOCK_NONBLOCK : 0) |
			(one_in(w, 2) ? SOCK_CLOEXEC : 0);
		break;
	}
	if (one_in(w, 2)) {
		static const int lens[] = { 0, 1, 10, 35, 64, ADDR_MAX };

		addr = sa;
		lenp = &alen;
		memset(w->addr, 0xa5, sizeof(w->addr));
		if (one_in(w, 3))
			alen = lens[rn(w, ARRAY_SIZE(lens))];
		if (one_in(w, 20)) {
			addr = bad_ptr(w);
			x.bad = true;
		} else if (one_in(w, 30)) {
			lenp = bad_ptr(w);
			x.bad = true;
		}
	}
	/* Only a socket that listens can accept. */
	if (!x.exact && !(n.flags & (SF_LISTEN_TRIED | SF_ALIAS)))
		x.exact = EINVAL;
	req = alen;
	r = CALL(w, "accept4", n.fd, flags, alen, addr,
		 accept4(n.fd, addr, lenp, flags));
	judge(w, &n, K_SOCK, r, &x);
	if (r < 0)
		return;
	fd = r;
	w->ev[EV_ACCEPTED]++;
	if (!stable(&n) || n.kind != K_SOCK) {
		install(w, gslots, NR_GSLOTS, fd, K_SOCK, SF_CHILD, -1);
		return;
	}
	if (addr == sa && lenp == &alen && req >= sizeof(*sa))
		check_addr(w, r, sa, alen, guid_parent, NULL);
	/* The peer is the host, unless the connection is gone already. */
	alen = sizeof(peer);
	r = CALL(w, "getpeername", fd, 0, 0, 0,
		 getpeername(fd, (struct sockaddr *)&peer, &alen));
	if (r && w->err != ENOTCONN)
		bad_result(w, r, "getpeername() of an accepted socket");
	else if (!r)
		check_addr(w, r, &peer, alen, guid_parent, NULL);
	alen = sizeof(peer);
	r = CALL(w, "getsockname", fd, 0, 0, 0,
		 getsockname(fd, (struct sockaddr *)&peer, &alen));
	if (r)
		bad_result(w, r, "getsockname() of an accepted socket");
	else if (stable(&n))
		check_addr(w, r, &peer, alen, hvs_guid_wildcard,
			   n.svc >= 0 ? svc[n.svc] : NULL);
	install(w, gslots, NR_GSLOTS, fd, K_SOCK, SF_CHILD, n.svc);
}

static void op_getname(struct worker *w)
{
	static const int lens[] = { 0, 1, 2, 35, 37, ADDR_MAX, 1000, -1 };
	struct sockaddr_hv *sa = (struct sockaddr_hv *)w->addr;
	struct expect x = { .ok = e_none };
	bool peer = one_in(w, 2);
	socklen_t len = sizeof(*sa), *lenp = &len;
	void *addr = sa;
	struct snap n;
	int req;
	long r;

	if (!use_gslot(w, &n))
		return;
	if (one_in(w, 4))
		len = lens[rn(w, ARRAY_SIZE(lens))];
	if (one_in(w, 30)) {
		addr = bad_ptr(w);
		x.bad = true;
	} else if (one_in(w, 50)) {
		lenp = bad_ptr(w);
		x.bad = true;
	}
	req = len;
	memset(w->addr, 0xa5, sizeof(w->addr));
	if (peer) {
		/* A listener has no peer, as in TCP. */
		if (known(&n, SF_LISTENER))
			x.exact = ENOTCONN;
		else
			x.ok = req < 0 ? e_notconn_inval : e_notconn;
		x.fail = !x.exact && req < 0;
		r = CALL(w, "getpeername", n.fd, req, 0, 0,
			 getpeername(n.fd, addr, lenp));
	} else {
		if (req < 0)
			x.exact = EINVAL;
		r = CALL(w, "getsockname", n.fd, req, 0, 0,
			 getsockname(n.fd, addr, lenp));
	}
	judge(w, &n, K_SOCK, r, &x);
	if (r || x.bad || !stable(&n) || n.kind != K_SOCK)
		return;
	if (len != sizeof(*sa))
		bad_result(w, r, "address length %u", len);
	else if (req >= (int)sizeof(*sa))
		check_addr(w, r, sa, len, peer ? guid_parent : hvs_guid_wildcard,
			   !peer && n.svc >= 0 ? svc[n.svc] : NULL);
}

static int recv_flags(struct worker *w)
{
	int f = 0;

	if (one_in(w, 2))
		f |= MSG_DONTWAIT;
	if (one_in(w, 6))
		f |= MSG_PEEK;
	if (one_in(w, 8))
		f |= MSG_WAITALL;
	if (one_in(w, 8))
		f |= MSG_TRUNC;
	if (one_in(w, 32))
		f |= MSG_OOB;
	if (one_in(w, 32))
		f |= MSG_ERRQUEUE;
	if (one_in(w, 16))
		f |= MSG_CMSG_CLOEXEC;
	if (one_in(w, 16))
		f |= MSG_NOSIGNAL | MSG_EOR;
	if (one_in(w, 32))
		f |= 0x100000 | 0x2000000;
	return f;
}

static int send_flags(struct worker *w)
{
	int f = 0;

	if (!one_in(w, 4))
		f |= MSG_NOSIGNAL;
	if (one_in(w, 2))
		f |= MSG_DONTWAIT;
	if (one_in(w, 32))
		f |= MSG_OOB;
	if (one_in(w, 8))
		f |= MSG_MORE;
	if (one_in(w, 16))
		f |= MSG_EOR | MSG_CONFIRM;
	if (one_in(w, 16))
		f |= MSG_WAITALL | MSG_PEEK | MSG_TRUNC;
	if (one_in(w, 32))
		f |= MSG_ERRQUEUE;
	if (one_in(w, 32))
		f |= 0x100000 | MSG_ZEROCOPY | MSG_FASTOPEN;
	return f;
}

/* A msghdr for sendmsg()/recvmsg(); returns it (maybe bad). */
static struct msghdr *make_msg(struct worker *w, struct msghdr *m,
			       struct expect *x, size_t *total)
{
	struct iovec *iov;
	int cnt;

	memset(m, 0, sizeof(*m));
	cnt = pick_iov(w, &iov, &x->bad, &x->badlen, total);
	m->msg_iov = iov;
	m->msg_iovlen = cnt;
	if (one_in(w, 4)) {
		m->msg_name = w->addr;
		m->msg_namelen = rn(w, ADDR_MAX + 1);
		memset(w->addr, 0, sizeof(w->addr));
		((struct sockaddr_hv *)w->addr)->shv_family = AF_HYPERV;
	}
	if (one_in(w, 4)) {
		m->msg_control = w->ctl;
		m->msg_controllen = rn(w, sizeof(w->ctl) + 1);
		memset(w->ctl, 0, sizeof(w->ctl));
		if (one_in(w, 4))
			fill_random(w, w->ctl, sizeof(w->ctl));
	}
	if (one_in(w, 50)) {
		x->bad = true;
		return bad_ptr(w);
	}
	return m;
}

static void op_recv(struct worker *w)
{
	struct expect x = { .ok = e_recv };
	int flags = recv_flags(w), variant = rn(w, 5);
	bool uses_flags = variant <= 2;
	socklen_t alen = ADDR_MAX;
	struct snap n;
	struct ubuf b;
	struct msghdr m, *mp;
	struct iovec *iov;
	size_t total = 0;
	int cnt;
	long r;

	if (!use_gslot(w, &n))
		return;
	switch (variant) {
	case 0:
		pick_buf(w, &b);
		x.bad = b.bad;
		total = b.len;
		r = CALL(w, "recv", n.fd, b.p, b.len, flags,
			 recv(n.fd, b.p, b.len, flags));
		break;
	case 1:
		pick_buf(w, &b);
		x.bad = b.bad;
		total = b.len;
		r = CALL(w, "recvfrom", n.fd, b.p, b.len, flags,
			 recvfrom(n.fd, b.p, b.len, flags,
				  (struct sockaddr *)w->addr, &alen));
		break;
	case 2:
		mp = make_msg(w, &m, &x, &total);
		r = CALL(w, "recvmsg", n.fd, mp, m.msg_iovlen, flags,
			 recvmsg(n.fd, mp, flags));
		break;
	case 3:
		pick_buf(w, &b);
		x.bad = b.bad;
		total = b.len;
		r = CALL(w, "read", n.fd, b.p, b.len, 0,
			 read(n.fd, b.p, b.len));
		break;
	default:
		cnt = pick_iov(w, &iov, &x.bad, &x.badlen, &total);
		if (one_in(w, 50)) {
			cnt = -1 - rn(w, 5);
			x.badlen = true;
		}
		r = CALL(w, "readv", n.fd, iov, cnt, 0, readv(n.fd, iov, cnt));
		break;
	}
	if (uses_flags && (flags & MSG_OOB))
		x.exact = EOPNOTSUPP;
	else if (uses_flags && (flags & MSG_ERRQUEUE))
		x.exact = EAGAIN;
	else if (known(&n, SF_LISTENER) && (uses_flags || total))
		x.exact = ENOTCONN;
	x.max = total;
	judge(w, &n, K_SOCK, r, &x);
	if (r > 0)
		w->ev[EV_RECEIVED] += r;
}

static void op_send(struct worker *w)
{
	struct expect x = { .ok = e_send };
	int flags = send_flags(w), variant = rn(w, 5);
	bool uses_flags = variant <= 2;
	struct snap n;
	struct ubuf b;
	struct msghdr m, *mp;
	struct iovec *iov;
	size_t total = 0;
	int alen, cnt;
	long r;

	if (!use_gslot(w, &n))
		return;
	switch (variant) {
	case 0:
		pick_buf(w, &b);
		x.bad = b.bad;
		total = b.len;
		r = CALL(w, "send", n.fd, b.p, b.len, flags,
			 send(n.fd, b.p, b.len, flags));
		break;
	case 1:
		pick_buf(w, &b);
		x.bad = b.bad;
		total = b.len;
		alen = rn(w, ADDR_MAX + 1);
		if (one_in(w, 20)) {
			alen = ADDR_MAX + 1;
			x.badlen = true;
		}
		r = CALL(w, "sendto", n.fd, b.p, b.len, flags,
			 sendto(n.fd, b.p, b.len, flags,
				(struct sockaddr *)w->addr, alen));
		break;
	case 2:
		mp = make_msg(w, &m, &x, &total);
		r = CALL(w, "sendmsg", n.fd, mp, m.msg_iovlen, flags,
			 sendmsg(n.fd, mp, flags));
		break;
	case 3:
		pick_buf(w, &b);
		x.bad = b.bad;
		total = b.len;
		r = CALL(w, "write", n.fd, b.p, b.len, 0,
			 write(n.fd, b.p, b.len));
		break;
	default:
		cnt = pick_iov(w, &iov, &x.bad, &x.badlen, &total);
		r = CALL(w, "writev", n.fd, iov, cnt, 0, writev(n.fd, iov, cnt));
		break;
	}
	if (uses_flags && (flags & MSG_OOB))
		x.exact = EOPNOTSUPP;
	else if (known(&n, SF_LISTENER) && (uses_flags || total))
		x.fail = true;
	x.max = total;
	judge(w, &n, K_SOCK, r, &x);
	if (r > 0)
		w->ev[EV_SENT] += r;
}

/* SOL_SOCKET options with their own operations, or that may block. */
static bool dedicated_opt(int name)
{
	return name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD ||
	       name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW ||
	       name == SO_LINGER;
}

static const int so_names[] = {
	SO_DEBUG, SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_DONTROUTE, SO_BROADCAST,
	SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE, SO_KEEPALIVE,
	SO_OOBINLINE, SO_NO_CHECK, SO_PRIORITY, SO_PASSCRED, SO_PEERCRED,
	SO_RCVLOWAT, SO_SNDLOWAT, SO_BINDTODEVICE, SO_ATTACH_FILTER,
	SO_DETACH_FILTER, SO_PEERNAME, SO_TIMESTAMP_OLD, SO_ACCEPTCONN,
	SO_PEERSEC, SO_PASSSEC, SO_MARK, SO_PROTOCOL, SO_DOMAIN, SO_RXQ_OVFL,
	SO_PEEK_OFF, SO_BUSY_POLL, SO_INCOMING_CPU, SO_COOKIE, SO_ZEROCOPY,
	SO_TXTIME, SO_BINDTOIFINDEX, SO_PREFER_BUSY_POLL, SO_NETNS_COOKIE,
	SO_BUF_LOCK, SO_RESERVE_MEM, SO_TXREHASH, SO_RCVMARK, SO_PASSPIDFD,
	SO_PEERPIDFD, SO_MEMINFO, SO_PEERGROUPS, SO_ATTACH_BPF,
	SO_LOCK_FILTER, SO_SELECT_ERR_QUEUE, SO_MAX_PACING_RATE,
};

static int pick_level(struct worker *w, bool *garbage)
{
	static const int levels[] = {
		0, 6, 17, 41, 263, 287, SOL_HYPERV + 1, -1, INT_MAX, 1000
	};

	*garbage = false;
	switch (rn(w, 8)) {
	case 0: case 1: case 2: case 3:
		return SOL_SOCKET;
	case 4: case 5: case 6:
		return SOL_HYPERV;
	default:
		*garbage = true;
		return levels[rn(w, ARRAY_SIZE(levels))];
	}
}

static void op_setsockopt(struct worker *w)
{
	static const unsigned int vals[] = {
		0, 1, 2, 5, 50, 100, 1000, HVSOCKET_CONNECT_TIMEOUT_MAX,
		HVSOCKET_CONNECT_TIMEOUT_MAX + 1, UINT_MAX, INT_MAX, 65536
	};
	static const int lens[] = { 0, 1, 2, 3, 8, 16, 64, 256, -1, INT_MIN };
	struct expect x = { .any = true };
	int level, name, len = 4;
	bool garbage;
	void *val = w->small;
	unsigned int v;
	struct snap n;
	long r;

	if (!use_gslot(w, &n))
		return;
	level = pick_level(w, &garbage);
	if (level == SOL_SOCKET) {
		do {
			name = one_in(w, 4) ? (int)rn(w, 90) :
			       so_names[rn(w, ARRAY_SIZE(so_names))];
		} while (dedicated_opt(name));
		v = vals[rn(w, ARRAY_SIZE(vals))];
		if (one_in(w, 8))
			fill_random(w, w->small, sizeof(w->small));
		if (name == SO_BINDTODEVICE && one_in(w, 2))
			memcpy(w->small, "lo", 3);
		else
			memcpy(w->small, &v, sizeof(v));
		x.ok = e_sol_socket;
		x.any = false;
		/* struct sock_fprog holds a pointer: random bytes fault. */
		x.bad = name == SO_ATTACH_FILTER ||
			name == SO_ATTACH_REUSEPORT_CBPF;
	} else if (level == SOL_HYPERV) {
		name = one_in(w, 5) ? (int)rnd(w) : HVSOCKET_CONNECT_TIMEOUT;
		v = one_in(w, 2) ? 5 + rn(w, 95) : vals[rn(w, ARRAY_SIZE(vals))];
		memcpy(w->small, &v, sizeof(v));
		x.any = false;
		if (name != HVSOCKET_CONNECT_TIMEOUT)
			x.exact = ENOPROTOOPT;
	} else {
		name = rn(w, 100);
		x.any = false;
		x.exact = ENOPROTOOPT;
	}
	if (one_in(w, 6))
		len = lens[rn(w, ARRAY_SIZE(lens))];
	if (one_in(w, 30)) {
		val = bad_ptr(w);
		x.bad = true;
	}
	if (level == SOL_HYPERV && name == HVSOCKET_CONNECT_TIMEOUT) {
		if (len < (int)sizeof(v))
			x.exact = EINVAL;
		else if (x.bad)
			x.exact = EFAULT;
		else if (!v || v > HVSOCKET_CONNECT_TIMEOUT_MAX)
			x.exact = EINVAL;
		else
			x.ok = e_none;	/* must succeed */
	}
	if (len < 0 && x.exact)
		x.exact = EINVAL;
	r = CALL(w, "setsockopt", n.fd, level, name, len,
		 setsockopt(n.fd, level, name, val, len));
	judge(w, &n, K_SOCK, r, &x);
}

static void op_getsockopt(struct worker *w)
{
	static const int lens[] = { 0, 1, 2, 3, 8, 16, 64, 256, -1 };
	struct expect x = { .ok = e_sol_socket };
	socklen_t len = 4, *lenp = &len;
	int level, name, v;
	void *val = w->small;
	bool garbage;
	struct snap n;
	long r;

	if (!use_gslot(w, &n))
		return;
	level = pick_level(w, &garbage);
	if (level == SOL_SOCKET) {
		name = one_in(w, 4) ? (int)rn(w, 90) :
		       so_names[rn(w, ARRAY_SIZE(so_names))];
		if (one_in(w, 4))
			len = sizeof(w->small);
	} else if (level == SOL_HYPERV) {
		name = one_in(w, 5) ? (int)rnd(w) : HVSOCKET_CONNECT_TIMEOUT;
		x.exact = name == HVSOCKET_CONNECT_TIMEOUT ? 0 : ENOPROTOOPT;
		x.ok = e_none;
	} else {
		name = rn(w, 100);
		x.exact = ENOPROTOOPT;
	}
	if (one_in(w, 6))
		len = lens[rn(w, ARRAY_SIZE(lens))];
	if (one_in(w, 30)) {
		val = bad_ptr(w);
		x.bad = true;
	} else if (one_in(w, 50)) {
		lenp = bad_ptr(w);
		x.bad = true;
	}
	if (level == SOL_HYPERV && !x.exact && (int)len < 4)
		x.exact = EINVAL;
	memset(w->small, 0xa5, sizeof(w->small));
	r = CALL(w, "getsockopt", n.fd, level, name, len,
		 getsockopt(n.fd, level, name, val, lenp));
	judge(w, &n, K_SOCK, r, &x);
	if (r || x.bad || len < 4 || !stable(&n) || n.kind != K_SOCK)
		return;
	memcpy(&v, w->small, sizeof(v));
	if (level == SOL_HYPERV) {
		if (len != 4 || !v || v > HVSOCKET_CONNECT_TIMEOUT_MAX)
			bad_result(w, r, "connect timeout %d, length %u", v, len);
		return;
	}
	if (level != SOL_SOCKET)
		return;
	if ((name == SO_TYPE && v != SOCK_STREAM) ||
	    (name == SO_DOMAIN && v != AF_HYPERV) ||
	    (name == SO_PROTOCOL && v != HV_PROTOCOL_RAW) ||
	    (name == SO_ACCEPTCONN && known(&n, SF_LISTENER) && v != 1) ||
	    (name == SO_ACCEPTCONN && !(n.flags & (SF_LISTEN_TRIED | SF_ALIAS)) &&
	     v != 0))
		bad_result(w, r, "option %d is %d", name, v);
}

static void op_linger(struct worker *w)
{
	struct linger l = { rn(w, 2), 0 };
	struct expect x = { .ok = e_timeo };
	socklen_t len = sizeof(l);
	struct snap n;
	long r;

	if (!use_gslot(w, &n))
		return;
	/* Never long: close() may wait that long for the host. */
	if (one_in(w, 20))
		l.l_linger = 1;
	if (one_in(w, 10)) {
		len = rn(w, sizeof(l));
		x.exact = EINVAL;
	}
	r = CALL(w, "setsockopt", n.fd, SOL_SOCKET, SO_LINGER, l.l_onoff,
		 setsockopt(n.fd, SOL_SOCKET, SO_LINGER, &l, len));
	judge(w, &n, K_SOCK, r, &x);
}

static void op_rcvlowat(struct worker *w)
{
	static const int vals[] = {
		0, 1, 2, 100, 4095, 4096, 20480, 65536, INT_MAX, -1
	};
	int v = vals[rn(w, ARRAY_SIZE(vals))];
	struct snap n;
	long r;

	if (!use_gslot(w, &n))
		return;
	r = CALL(w, "setsockopt", n.fd, SOL_SOCKET, SO_RCVLOWAT, v,
		 setsockopt(n.fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)));
	judge(w, &n, K_SOCK, r, &(struct expect){ .ok = e_none });
}

static void op_timeo(struct worker *w)
{
	static const int opts[] = {
		SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD, SO_RCVTIMEO_NEW,
		SO_SNDTIMEO_NEW
	};
	struct expect x = { .ok = e_none };
	struct timeval tv = { 0, 1000 + rn(w, 24000) };
	int opt = opts[rn(w, ARRAY_SIZE(opts))], len = sizeof(tv);
	void *p = &tv;
	struct snap n;
	long r;

	if (!use_gslot(w, &n))
		return;
	/* Never zero: that is "forever". */
	switch (rn(w, 16)) {
	case 0:
		tv.tv_usec = 1000000 + rn(w, 1000);
		x.exact = EDOM;
		break;
	case 1:
		tv.tv_sec = -1 - (long)rn(w, 100);	/* means 0 wait */
		break;
	case 2:
		len = rn(w, sizeof(tv));
		x.exact = EINVAL;
		break;
	case 3:
		p = bad_ptr(w);
		x.bad = true;
		x.exact = EFAULT;
		break;
	}
	r = CALL(w, "setsockopt", n.fd, SOL_SOCKET, opt, tv.tv_usec,
		 setsockopt(n.fd, SOL_SOCKET, opt, p, len));
	judge(w, &n, K_SOCK, r, &x);
}

static void op_fcntl(struct worker *w)
{
	static const int setfl[] = {
		O_NONBLOCK, O_ASYNC, O_NONBLOCK | O_ASYNC, 0, O_APPEND,
		O_NOATIME, O_DIRECT | O_NONBLOCK
	};
	struct f_owner_ex own;
	int fd, v, on = rn(w, 2);
	struct snap n;
	long r;

	if (!use_gslot(w, &n))
		return;
	fd = n.fd;
	switch (rn(w, 9)) {
	case 0:
		CALL(w, "fcntl", fd, F_GETFL, 0, 0, fcntl(fd, F_GETFL));
		break;
	case 1: case 2:
		v = setfl[rn(w, ARRAY_SIZE(setfl))];
		pthread_rwlock_rdlock(&fd_lock);
		if (is_hvsock(w, fd))
			CALL(w, "fcntl", fd, F_SETFL, v, 0,
			     fcntl(fd, F_SETFL, v));
		pthread_rwlock_unlock(&fd_lock);
		break;
	case 3:
		pthread_rwlock_rdlock(&fd_lock);
		if (is_hvsock(w, fd))
			CALL(w, "ioctl", fd, FIONBIO, on, 0,
			     ioctl(fd, FIONBIO, &on));
		pthread_rwlock_unlock(&fd_lock);
		break;
	case 4:
		CALL(w, "ioctl", fd, FIOASYNC, on, 0, ioctl(fd, FIOASYNC, &on));
		break;
	case 5:
		v = one_in(w, 4) ? 0 : getpid();
		r = CALL(w, "fcntl", fd, F_SETOWN, v, 0, fcntl(fd, F_SETOWN, v));
		judge(w, &n, K_SOCK, r, &(struct expect){ .ok = e_none });
		break;
	case 6:
		own.type = F_OWNER_TID;
		own.pid = w->tid;
		r = CALL(w, "fcntl", fd, F_SETOWN_EX, own.pid, 0,
			 fcntl(fd, F_SETOWN_EX, &own));
		judge(w, &n, K_SOCK, r, &(struct expect){ .ok = e_none });
		break;
	case 7:
		v = one_in(w, 2) ? 0 : (one_in(w, 2) ? SIGIO : SIGRTMIN + 1);
		CALL(w, "fcntl", fd, F_SETSIG, v, 0, fcntl(fd, F_SETSIG, v));
		break;
	default:
		CALL(w, "fcntl", fd, F_GETOWN, 0, 0, fcntl(fd, F_GETOWN));
		break;
	}
}

/* An ioctl no socket and no /dev/hvsim file knows. */
static unsigned long garbage_ioctl(struct worker *w)
{
	static const unsigned char types[] = {
		HVSIM_IOC_MAGIC, 0x56, 0x42, 0xae, 0x12, 0x99, 0xff, 0x01
	};
	unsigned long type = types[rn(w, ARRAY_SIZE(types))];
	unsigned long nr = rn(w, 256), size = rn(w, 1 << 14), dir = rn(w, 4);

	if (type == HVSIM_IOC_MAGIC && nr < 0x20)
		nr += 0x20;
	return (dir << 30) | (size << 16) | (type << 8) | nr;
}

static void op_ioctl(struct worker *w)
{
	struct expect x = { .ok = e_none };
	unsigned long cmd = one_in(w, 2) ? SIOCINQ : SIOCOUTQ;
	void *arg = w->small;
	struct snap n;
	int v;
	long r;

	if (!use_gslot(w, &n))
		return;
	if (one_in(w, 5)) {
		cmd = garbage_ioctl(w);
		x.exact = ENOTTY;
	} else if (one_in(w, 30)) {
		arg = bad_ptr(w);
		x.bad = true;
	}
	/* Only a listener fails; shutdown() may leave one listening. */
	if (!x.exact) {
		if (known(&n, SF_LISTENER))
			x.exact = EINVAL;
		else if (n.flags & (SF_ALIAS | SF_LISTEN_TRIED))
			x.ok = e_einval;
	}
	memset(w->small, 0xa5, sizeof(int));
	r = CALL(w, "ioctl", n.fd, cmd, arg, 0, ioctl(n.fd, cmd, arg));
	judge(w, &n, K_SOCK, r, &x);
	memcpy(&v, w->small, sizeof(v));
	if (!r && !x.exact && !x.bad && stable(&n) && n.kind == K_SOCK &&
	    (v < 0 || v > 64 << 20))
		bad_result(w, r, "queue size %d", v);
}

static void op_poll(struct worker *w)
{
	struct pollfd p[4];
	struct snap n[4];
	int i, k = 1 + rn(w, 4), timeout = one_in(w, 3) ? 1 + rn(w, 5) : 0;
	struct expect x = { .ok = e_intr };
	void *pp = p;
	long r;

	for (i = 0; i < k; i++) {
		snap_take(any_slot(w), &n[i]);
		p[i].fd = n[i].fd;
		p[i].events = rnd(w) & (POLLIN | POLLOUT | POLLPRI | POLLRDHUP |
					POLLRDNORM | POLLWRNORM | POLLRDBAND);
		p[i].revents = 0;
	}
	if (one_in(w, 50)) {
		pp = bad_ptr(w);
		x.bad = true;
	}
	if (one_in(w, 5)) {
		fd_set rs, ws;
		struct timeval tv = { 0, timeout * 1000 };
		int max = -1;

		FD_ZERO(&rs);
		FD_ZERO(&ws);
		for (i = 0; i < k; i++) {
			if (p[i].fd < 0 || p[i].fd >= FD_SETSIZE)
				continue;
			FD_SET(p[i].fd, one_in(w, 2) ? &rs : &ws);
			max = p[i].fd > max ? p[i].fd : max;
		}
		r = CALL(w, "select", max + 1, 0, 0, 0,
			 select(max + 1, &rs, &ws, NULL, &tv));
		judge(w, NULL, K_SOCK, r, &(struct expect){ .any = true });
		return;
	}
	r = CALL(w, "poll", k, timeout, p[0].fd, p[0].events,
		 poll(pp, k, timeout));
	judge(w, NULL, K_SOCK, r, &x);
	if (r <= 0 || x.bad)
		return;
	for (i = 0; i < k; i++) {
		if (p[i].fd < 0 || !stable(&n[i]))
			continue;
		if (p[i].revents & POLLNVAL)
			bad_result(w, r, "POLLNVAL on open descriptor %d",
				   p[i].fd);
		else if (n[i].kind == K_SOCK && known(&n[i], SF_LISTENER) &&
			 (p[i].revents & ~(POLLIN | POLLRDNORM)))
			bad_result(w, r, "listener %d polls %#x", p[i].fd,
				   p[i].revents);
	}
}

static void op_epoll(struct worker *w)
{
	static const int ops[] = { EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL };
	struct epoll_event ev = { 0 }, evs[16];
	int op = ops[rn(w, 3)];
	struct snap n;
	long r;

	snap_take(any_slot(w), &n);
	ev.events = rnd(w) & (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI |
			      EPOLLET | EPOLLONESHOT | EPOLLWAKEUP);
	if (op == EPOLL_CTL_ADD && one_in(w, 8))
		ev.events |= EPOLLEXCLUSIVE;
	ev.data.u64 = n.fd;
	if (n.fd >= 0) {
		r = CALL(w, "epoll_ctl", w->epfd, op, n.fd, ev.events,
			 epoll_ctl(w->epfd, op, n.fd, &ev));
		judge(w, &n, n.kind, r, &(struct expect){ .ok = e_epoll });
	}
	r = CALL(w, "epoll_wait", w->epfd, 16, 0, 0,
		 epoll_wait(w->epfd, evs, 16, one_in(w, 4) ? 1 + rn(w, 3) : 0));
	judge(w, NULL, K_SOCK, r, &(struct expect){ .ok = e_intr, .max = 16 });
}

static void op_splice(struct worker *w)
{
	struct expect x = { .ok = e_splice };
	size_t len = 1 + rn(w, one_in(w, 4) ? 65536 : 4096);
	unsigned int fl = SPLICE_F_NONBLOCK | (one_in(w, 4) ? SPLICE_F_MORE : 0);
	off_t off;
	struct snap n;
	long r;

	if (!use_gslot(w, &n))
		return;
	switch (rn(w, 4)) {
	case 0:
		r = CALL(w, "splice", n.fd, w->pipe[1], len, fl,
			 splice(n.fd, NULL, w->pipe[1], NULL, len, fl));
		break;
	case 1:
		CALL(w, "write", w->pipe[1], len, 0, 0,
		     write(w->pipe[1], w->buf, len));
		r = CALL(w, "splice", w->pipe[0], n.fd, len, fl,
			 splice(w->pipe[0], NULL, n.fd, NULL, len, fl));
		break;
	case 2:
		off = rn(w, TMP_SIZE);
		if (one_in(w, 4))
			CALL(w, "lseek", w->tmpfd, 0, 0, 0,
			     lseek(w->tmpfd, 0, SEEK_SET));
		r = CALL(w, "sendfile", n.fd, w->tmpfd, off, len,
			 sendfile(n.fd, w->tmpfd, one_in(w, 2) ? &off : NULL,
				  len));
		x.max = len;
		break;
	default:
		r = CALL(w, "read", w->pipe[0], 0, 0, 0,
			 read(w->pipe[0], w->buf, BUF_SIZE / 4));
		return;
	}
	judge(w, &n, K_SOCK, r, &x);
}

static void op_procnet(struct worker *w)
{
	int fd;
	long r;

	pthread_rwlock_wrlock(&fd_lock);
	fd = CALL(w, "open", 0, 0, 0, 0,
		  open("/proc/net/hv_sock", O_RDONLY | O_CLOEXEC));
	pthread_rwlock_unlock(&fd_lock);
	if (fd < 0) {
		bad_result(w, fd, "cannot open /proc/net/hv_sock");
		return;
	}
	do {
		r = CALL(w, "read", fd, 0, 0, 0,
			 read(fd, w->buf, 1 + rn(w, 8192)));
	} while (r > 0);
	judge(w, NULL, K_HOST, r, &(struct expect){ .ok = e_none });
	do_close(w, fd);
}

/* ---------------------------------------------------------------- host */

static const struct expect host_any = { .any = true };
static const struct expect host_bad = { .any = true, .bad = true };

static int host_open(struct worker *w)
{
	long r;

	pthread_rwlock_wrlock(&fd_lock);
	r = CALL(w, "open", 0, 0, 0, 0,
		 open(HVSIM_DEVICE_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC));
	pthread_rwlock_unlock(&fd_lock);
	judge(w, NULL, K_HOST, r, &(struct expect){ .ok = e_socket });
	return r;
}

static bool h_listen(struct worker *w, int fd, int *svc_idx)
{
	struct hvsim_listen l = { 0 };
	bool bad = one_in(w, 30);
	int i = rn(w, NR_SVC);
	long r;

	memcpy(l.service_id, svc[i], 16);
	l.backlog = rn(w, 5);
	l.flags = one_in(w, 4) ? HVSIM_LISTEN_EARLY_ACCEPT : 0;
	r = CALL(w, "HVSIM_IOC_LISTEN", fd, i, l.backlog, l.flags,
		 ioctl(fd, HVSIM_IOC_LISTEN, bad ? bad_ptr(w) : (void *)&l));
	judge(w, NULL, K_HOST, r, bad ? &host_bad : &host_any);
	*svc_idx = i;
	return !r;
}

static bool h_connect(struct worker *w, int fd, int *svc_idx)
{
	struct hvsim_connect c = { 0 };
	bool bad = one_in(w, 30);
	int i = rn(w, NR_SVC);
	long r;

	if (one_in(w, 10))
		random_guid(w, c.service_id);
	else
		memcpy(c.service_id, svc[i], 16);
	c.timeout_ms = 10 + rn(w, 90);
	c.flags = one_in(w, 4) ? 0 : HVSIM_CONNECT_NOWAIT;
	r = CALL(w, "HVSIM_IOC_CONNECT", fd, i, c.timeout_ms, c.flags,
		 ioctl(fd, HVSIM_IOC_CONNECT, bad ? bad_ptr(w) : (void *)&c));
	judge(w, NULL, K_HOST, r, bad ? &host_bad : &host_any);
	*svc_idx = i;
	w->ev[EV_HCONNECTED] += !r && !(c.flags & HVSIM_CONNECT_NOWAIT);
	return !r || w->err == ETIMEDOUT || w->err == ECONNREFUSED ||
	       w->err == ECONNRESET;
}

static void op_hcreate(struct worker *w)
{
	unsigned int flags = 0;
	int fd = host_open(w), svc_idx = -1;

	if (fd < 0)
		return;
	switch (rn(w, 10)) {
	case 0: case 1: case 2: case 3:
		if (h_listen(w, fd, &svc_idx))
			flags = SF_HLISTEN;
		break;
	case 4:
		break;
	default:
		if (h_connect(w, fd, &svc_idx))
			flags = SF_HCONN;
		break;
	}
	install(w, hslots, NR_HSLOTS, fd, K_HOST, flags, svc_idx);
}

/* A host slot for one call; false if it was empty (and got filled). */
static bool use_hslot(struct worker *w, struct snap *n)
{
	snap_take(hslot(w), n);
	if (n->fd < 0 && !one_in(w, 10)) {
		op_hcreate(w);
		return false;
	}
	return true;
}

static void op_haccept(struct worker *w)
{
	struct hvsim_accept a = { 0 };
	struct snap n;
	long r;

	if (!use_hslot(w, &n))
		return;
	/* Always non-blocking (see fd_lock); rarely with bad flags. */
	a.flags = HVSIM_FD_NONBLOCK | HVSIM_FD_CLOEXEC;
	if (one_in(w, 20))
		a.flags |= 1U << (2 + rn(w, 30));
	a.fd = -1;
	pthread_rwlock_wrlock(&fd_lock);
	r = CALL(w, "HVSIM_IOC_ACCEPT", n.fd, a.flags, 0, 0,
		 ioctl(n.fd, HVSIM_IOC_ACCEPT, &a));
	pthread_rwlock_unlock(&fd_lock);
	judge(w, &n, K_HOST, r, &host_any);
	w->ev[EV_HACCEPTED] += !r;
	if (!r && a.fd >= 0)
		install(w, hslots, NR_HSLOTS, a.fd, K_HOST, SF_HCONN, n.svc);
	else if (!r)
		bad_result(w, r, "HVSIM_IOC_ACCEPT returned fd %d", a.fd);
}

static void op_hread(struct worker *w)
{
	struct snap n;
	struct ubuf b;
	long r;

	if (!use_hslot(w, &n))
		return;
	pick_buf(w, &b);
	r = CALL(w, "read", n.fd, b.p, b.len, 0, read(n.fd, b.p, b.len));
	judge(w, &n, K_HOST, r, b.bad ? &host_bad : &host_any);
	if (r > 0)
		w->ev[EV_HREAD] += r;
}

static void op_hwrite(struct worker *w)
{
	struct snap n;
	struct ubuf b;
	long r;

	if (!use_hslot(w, &n))
		return;
	pick_buf(w, &b);
	r = CALL(w, "write", n.fd, b.p, b.len, 0, write(n.fd, b.p, b.len));
	judge(w, &n, K_HOST, r, b.bad ? &host_bad : &host_any);
	if (r > 0)
		w->ev[EV_HWRITTEN] += r;
}

static void op_hctl(struct worker *w)
{
	static const unsigned long cmds[] = {
		HVSIM_IOC_SHUTDOWN, HVSIM_IOC_SHUTDOWN, HVSIM_IOC_SHUTDOWN,
		HVSIM_IOC_RESCIND, HVSIM_IOC_RESCIND, HVSIM_IOC_CONN_INFO,
		HVSIM_IOC_CONN_INFO, HVSIM_IOC_STOP_DRAIN, HVSIM_IOC_STOP_DRAIN,
		HVSIM_IOC_GET_STATS, 0
	};
	unsigned long cmd = cmds[rn(w, ARRAY_SIZE(cmds))];
	const char *name = "ioctl";
	void *arg = w->small;
	bool bad = false;
	struct snap n;
	__u32 v;
	long r;

	if (!use_hslot(w, &n))
		return;
	if (!cmd)
		cmd = garbage_ioctl(w);
	if (cmd == HVSIM_IOC_STOP_DRAIN) {
		v = one_in(w, 3);
		memcpy(w->small, &v, sizeof(v));
	}
	if (one_in(w, 30)) {
		arg = bad_ptr(w);
		bad = true;
	}
	if (cmd == HVSIM_IOC_SHUTDOWN)
		name = "HVSIM_IOC_SHUTDOWN";
	else if (cmd == HVSIM_IOC_RESCIND)
		name = "HVSIM_IOC_RESCIND";
	else if (cmd == HVSIM_IOC_STOP_DRAIN)
		name = "HVSIM_IOC_STOP_DRAIN";
	r = CALL(w, name, n.fd, cmd, arg, 0, ioctl(n.fd, cmd, arg));
	judge(w, &n, K_HOST, r, bad ? &host_bad : &host_any);
}

static void op_hinject(struct worker *w)
{
	struct hvsim_inject in = { 0 };
	bool bad = false;
	struct snap n;
	long r;

	if (!use_hslot(w, &n))
		return;
	switch (rn(w, 10)) {
	case 0:
		in.len = rn(w, 20000);
		break;
	case 1: case 2:
		in.len = rn(w, 4097);
		break;
	default:
		in.len = rn(w, 65);
		break;
	}
	fill_random(w, w->buf, in.len < 256 ? in.len : 256);
	in.data = (uintptr_t)w->buf;
	if (one_in(w, 30)) {
		in.data = (uintptr_t)bad_ptr(w);
		bad = true;
	}
	in.kind = rn(w, 4);
	in.flags = rn(w, 0x20) | (one_in(w, 20) ? 0x20 : 0);
	in.pkt_type = one_in(w, 3) ? rnd(w) : 6;
	in.pkt_flags = one_in(w, 4) ? rnd(w) : 0;
	in.offset8 = rnd(w);
	in.len8 = rnd(w);
	in.pipe_type = one_in(w, 3) ? rnd(w) : 1;
	in.pipe_data_size = one_in(w, 2) ? in.len + rn(w, 16) - 8 : rnd(w);
	in.trans_id = rnd(w);
	r = CALL(w, "HVSIM_IOC_INJECT", n.fd, in.kind, in.len, in.flags,
		 ioctl(n.fd, HVSIM_IOC_INJECT, &in));
	judge(w, &n, K_HOST, r, bad ? &host_bad : &host_any);
	w->ev[EV_INJECTED] += r >= 0;
}

static void op_hclose(struct worker *w)
{
	op_close(w, hslot(w));
}

/* The host's global fault knobs, briefly. */
static void op_hknob(struct worker *w)
{
	struct hvsim_config c;
	int fd;
	long r;

	if (no_knobs)
		return;
	fd = host_open(w);
	if (fd < 0)
		return;
	pthread_mutex_lock(&knob_lock);
	r = CALL(w, "HVSIM_IOC_GET_CONFIG", fd, 0, 0, 0,
		 ioctl(fd, HVSIM_IOC_GET_CONFIG, &c));
	judge(w, NULL, K_HOST, r, &(struct expect){ .ok = e_none });
	if (!r) {
		switch (rn(w, 6)) {
		case 0:
			c.ignore_connects = 1 + rn(w, 3);
			break;
		case 1:
			c.fail_opens = 1 + rn(w, 3);
			break;
		case 2:
			c.offer_delay_ms = 1 + rn(w, 20);
			break;
		default:	/* faults off most of the time */
			c.ignore_connects = 0;
			c.fail_opens = 0;
			c.offer_delay_ms = 0;
			break;
		}
		r = CALL(w, "HVSIM_IOC_SET_CONFIG", fd, c.ignore_connects,
			 c.fail_opens, c.offer_delay_ms,
			 ioctl(fd, HVSIM_IOC_SET_CONFIG, &c));
		judge(w, NULL, K_HOST, r, &(struct expect){ .ok = e_none });
	}
	pthread_mutex_unlock(&knob_lock);
	do_close(w, fd);
}

/* -X stuck: one call that outlives the watchdog's deadline. */
static void op_stuck(struct worker *w)
{
	CALL(w, "debug-stuck-poll", 0, 0, (deadline_s + 2) * 1000, 0,
	     poll(NULL, 0, (deadline_s + 2) * 1000));
}

/* ---------------------------------------------------------------- main loop */

struct op {
	const char *name;
	void (*fn)(struct worker *w);
	unsigned int weight;
};

static const struct op ops[] = {
	{ "socket", op_socket, 50 },
	{ "close", op_gclose, 45 },
	{ "dup", op_dup, 10 },
	{ "bind", op_bind, 20 },
	{ "listen", op_listen, 20 },
	{ "connect", op_connect, 35 },
	{ "accept", op_accept, 50 },
	{ "getname", op_getname, 35 },
	{ "send", op_send, 110 },
	{ "recv", op_recv, 130 },
	{ "shutdown", op_shutdown, 25 },
	{ "setsockopt", op_setsockopt, 40 },
	{ "getsockopt", op_getsockopt, 40 },
	{ "linger", op_linger, 6 },
	{ "rcvlowat", op_rcvlowat, 10 },
	{ "timeo", op_timeo, 10 },
	{ "fcntl", op_fcntl, 25 },
	{ "ioctl", op_ioctl, 30 },
	{ "poll", op_poll, 40 },
	{ "epoll", op_epoll, 30 },
	{ "splice", op_splice, 20 },
	{ "procnet", op_procnet, 2 },
	{ "hcreate", op_hcreate, 45 },
	{ "haccept", op_haccept, 40 },
	{ "hread", op_hread, 60 },
	{ "hwrite", op_hwrite, 60 },
	{ "hctl", op_hctl, 35 },
	{ "hinject", op_hinject, 15 },
	{ "hclose", op_hclose, 35 },
	{ "hknob", op_hknob, 1 },
};

#define NR_OPS	ARRAY_SIZE(ops)

static unsigned int op_total;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned long n = 0;
	bool stuck = dbg_stuck && !w->idx;

	w->tid = gettid();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned int i, pick = rn(w, op_total);

		for (i = 0; pick >= ops[i].weight; i++)
			pick -= ops[i].weight;
		w->op_count[i]++;
		ops[i].fn(w);
		if (!(++n & 31) && hvs_now_ms() >= t_end)
			break;
		if (stuck && hvs_now_ms() - t_start > 1000) {
			op_stuck(w);
			stuck = false;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- watchdog */

static void report_hang(struct worker *w, long long ms)
{
	__atomic_add_fetch(&hangs, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&out_lock);
	printf("fuzz_syscalls: hang: seed=%llu thread=%d (tid %d) call=%lu ",
	       seed, w->idx, w->tid, __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE));
	printf("%s(%#lx, %#lx, %#lx, %#lx) has not returned for %lld ms;",
	       __atomic_load_n(&w->op, __ATOMIC_RELAXED), w->arg[0], w->arg[1],
	       w->arg[2], w->arg[3], ms);
	printf(" the stacks of all threads:\n");
	hvs_dump_stacks(stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void *watchdog_main(void *arg)
{
	unsigned long last[MAX_THREADS] = { 0 };
	long long since[MAX_THREADS];
	bool reported[MAX_THREADS] = { false };
	int i;

	for (i = 0; i < nthreads; i++)
		since[i] = hvs_now_ms();
	while (!__atomic_load_n(&watchdog_stop, __ATOMIC_ACQUIRE)) {
		long long now;

		hvs_msleep(200);
		now = hvs_now_ms();
		for (i = 0; i < nthreads; i++) {
			struct worker *w = &workers[i];
			unsigned long seq = __atomic_load_n(&w->seq,
							    __ATOMIC_ACQUIRE);

			if (!__atomic_load_n(&w->in_call, __ATOMIC_ACQUIRE) ||
			    seq != last[i]) {
				last[i] = seq;
				since[i] = now;
				reported[i] = false;
				continue;
			}
			if (!reported[i] && now - since[i] >= deadline_s * 1000LL) {
				reported[i] = true;
				report_hang(w, now - since[i]);
			}
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- setup */

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: fuzz_syscalls [-s SEED] [-t SECONDS] [-j THREADS] [-w SECONDS] [-v] [-S] [-G] [-X stuck|oracle|leak]\n");
	exit(2);
}

static void worker_init(struct worker *w, int idx)
{
	__u64 x = seed + 0x9e3779b97f4a7c15ULL * (idx + 1);
	char path[] = "/tmp/fuzz_syscalls.XXXXXX";
	char *m;

	w->idx = idx;
	w->rng = hvs_mix64(x) | 1;
	w->op_count = calloc(NR_OPS, sizeof(*w->op_count));
	m = mmap(NULL, BUF_SIZE + 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || !w->op_count ||
	    mprotect(m + BUF_SIZE, 4096, PROT_NONE)) {
		perror("fuzz_syscalls: buffers");
		exit(1);
	}
	w->buf = m;
	memset(w->buf, 0x5a, BUF_SIZE);
	w->tmpfd = mkstemp(path);
	if (pipe2(w->pipe, O_NONBLOCK | O_CLOEXEC) || w->tmpfd < 0) {
		perror("fuzz_syscalls: pipe or temporary file");
		exit(1);
	}
	unlink(path);
	if (write(w->tmpfd, w->buf, TMP_SIZE) != TMP_SIZE) {
		perror("fuzz_syscalls: temporary file");
		exit(1);
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		perror("fuzz_syscalls: epoll");
		exit(1);
	}
}

/* Close everything the threads left; they are all done. */
static void close_all(void)
{
	int i;

	for (i = 0; i < NR_GSLOTS; i++)
		if (gslots[i].fd >= 0)
			close(gslots[i].fd);
	for (i = 0; i < NR_HSLOTS; i++)
		if (hslots[i].fd >= 0)
			close(hslots[i].fd);
	for (i = 0; i < nthreads; i++) {
		close(workers[i].pipe[0]);
		close(workers[i].pipe[1]);
		close(workers[i].tmpfd);
		close(workers[i].epfd);
	}
}

static int knobs_off(void)
{
	struct hvsim_config c;
	int ret;

	pthread_mutex_lock(&knob_lock);
	ret = hvs_host_get_config(&c);
	if (!ret) {
		c.ignore_connects = 0;
		c.fail_opens = 0;
		c.offer_delay_ms = 0;
		ret = hvs_host_set_config(&c);
	}
	pthread_mutex_unlock(&knob_lock);
	return ret;
}

static void end_violation(const char *fmt, ...)
{
	va_list ap;

	violations++;
	printf("fuzz_syscalls: violation: seed=%llu at the end: ", seed);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* af_hvsock must unload once every socket is gone: retry while it closes. */
static int unload_af_hvsock(int timeout_ms)
{
	long long end = hvs_now_ms() + timeout_ms;

	for (;;) {
		if (!syscall(SYS_delete_module, "af_hvsock", O_NONBLOCK))
			return 0;
		if ((errno != EWOULDBLOCK && errno != EBUSY) ||
		    hvs_now_ms() > end)
			return -errno;
		hvs_msleep(100);
	}
}

static void summary(unsigned long long ops, unsigned long long h)
{
	printf("fuzz_syscalls: seed=%llu threads=%d seconds=%d ops=%llu",
	       seed, nthreads, seconds, ops);
	printf(" violations=%llu hangs=%llu\n", violations, h);
}

int main(int argc, char **argv)
{
	unsigned long long total = 0, races = 0;
	struct hvsim_stats st;
	__u64 base_channels;
	pthread_t wd;
	int i, c, stuck = 0;
	long long next, now;
	bool have_seed = false;

	while ((c = getopt(argc, argv, "s:t:j:w:vSGX:")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			have_seed = true;
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		case 'j':
			nthreads = atoi(optarg);
			break;
		case 'w':
			deadline_s = atoi(optarg);
			break;
		case 'v':
			verbose++;
			break;
		case 'S':
			shared = true;
			break;
		case 'G':
			no_knobs = true;
			break;
		case 'X':
			if (!strcmp(optarg, "stuck"))
				dbg_stuck = true;
			else if (!strcmp(optarg, "oracle"))
				dbg_oracle = true;
			else if (!strcmp(optarg, "leak"))
				dbg_leak = true;
			else
				bad_usage();
			break;
		default:
			bad_usage();
		}
	}
	if (optind != argc || seconds < 1 || nthreads < 1 ||
	    nthreads > MAX_THREADS || deadline_s < 1)
		bad_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!have_seed) {
		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
			seed = time(NULL);
		seed &= 0xffffffff;
	}
	printf("fuzz_syscalls: seed=%llu threads=%d seconds=%d watchdog=%ds%s%s\n",
	       seed, nthreads, seconds, deadline_s, shared ? " shared" : "",
	       no_knobs ? " no-knobs" : "");

	hvs_load_modules();
	if (hvs_host_stats(&st)) {
		printf("fuzz_syscalls: no simulated host (%s)\n", strerror(errno));
		return 1;
	}
	i = hvs_socket(0);
	if (i < 0) {
		printf("fuzz_syscalls: no AF_HYPERV (%s)\n", strerror(-i));
		return 1;
	}
	close(i);
	base_channels = st.channels;

	for (c = 0; c < NR_SVC; c++) {
		static const __u8 base[16] = {
			0x3c, 0x5e, 0xa1, 0x7f, 0x2b, 0x91, 0x4e, 0x4d,
			0xb0, 0x6a, 0x11, 0xf2, 0x55, 0xc8, 0x9d, 0x00
		};

		memcpy(svc[c], base, 16);
		svc[c][15] = c;
	}
	for (i = 0; i < NR_GSLOTS; i++) {
		pthread_mutex_init(&gslots[i].lock, NULL);
		gslots[i].fd = -1;
		gslots[i].svc = -1;
	}
	for (i = 0; i < NR_HSLOTS; i++) {
		pthread_mutex_init(&hslots[i].lock, NULL);
		hslots[i].fd = -1;
		hslots[i].svc = -1;
	}
	for (i = 0; i < (int)NR_OPS; i++)
		op_total += ops[i].weight;
	/* Signals from O_ASYNC, SIGPIPE, F_SETSIG: counted, no SA_RESTART. */
	hvs_catch(SIGPIPE, false);
	hvs_catch(SIGIO, false);
	hvs_catch(SIGURG, false);
	hvs_catch(SIGRTMIN + 1, false);
	for (i = 0; i < nthreads; i++)
		worker_init(&workers[i], i);

	t_start = hvs_now_ms();
	t_end = t_start + seconds * 1000LL;
	if (pthread_create(&wd, NULL, watchdog_main, NULL))
		return 1;
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main,
				   &workers[i]))
			return 1;

	next = t_start + 30000;
	while ((now = hvs_now_ms()) < t_end) {
		hvs_msleep(t_end - now < 500 ? t_end - now : 500);
		if (hvs_now_ms() < next)
			continue;
		next += 30000;
		total = 0;
		for (i = 0; i < nthreads; i++)
			total += __atomic_load_n(&workers[i].ops,
						 __ATOMIC_RELAXED);
		printf("fuzz_syscalls: %llds ops=%llu (%llu/s) violations=%llu hangs=%llu\n",
		       (hvs_now_ms() - t_start) / 1000, total,
		       total * 1000 / (hvs_now_ms() - t_start),
		       __atomic_load_n(&violations, __ATOMIC_RELAXED),
		       __atomic_load_n(&hangs, __ATOMIC_RELAXED));
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nthreads; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += deadline_s + 5;
		if (pthread_timedjoin_np(workers[i].thread, NULL, &ts))
			stuck++;
	}
	now = hvs_now_ms();
	total = 0;
	for (i = 0; i < nthreads; i++) {
		total += workers[i].ops;
		races += workers[i].races;
	}
	if (stuck) {
		/* The watchdog reported them; their descriptors are busy. */
		printf("fuzz_syscalls: %d thread(s) still stuck at the end\n",
		       stuck);
		summary(total, hangs ? hangs : stuck);
		fflush(stdout);
		_exit(1);
	}
	__atomic_store_n(&watchdog_stop, 1, __ATOMIC_RELEASE);
	pthread_join(wd, NULL);

	printf("fuzz_syscalls: %llu calls in %lld ms, %llu/s;", total,
	       now - t_start, total * 1000 / (now - t_start));
	printf(" %llu raced a close or dup2; %d signals\n", races,
	       (int)hvs_signals);
	printf("fuzz_syscalls:");
	for (c = 0; c < NR_EV; c++) {
		unsigned long long k = 0;

		for (i = 0; i < nthreads; i++)
			k += workers[i].ev[c];
		printf(" %s=%llu", ev_names[c], k);
	}
	printf("\n");
	if (verbose) {
		for (c = 0; c < (int)NR_OPS; c++) {
			unsigned long long k = 0;

			for (i = 0; i < nthreads; i++)
				k += workers[i].op_count[c];
			printf("fuzz_syscalls:   %-12s %llu\n", ops[c].name, k);
		}
	}

	close_all();
	if (!no_knobs && knobs_off())
		end_violation("cannot reset the host's fault knobs");
	if (dbg_leak) {
		int g, h;

		if (hvs_pair(&g, &h))
			printf("fuzz_syscalls: -X leak: no connection\n");
		else
			printf("fuzz_syscalls: -X leak: keeping a connection open\n");
	}
	if (!shared) {
		long long left = hvs_host_wait_channels(base_channels, 30000);

		if (left > (long long)base_channels)
			end_violation("%lld channels left on the host, %llu before",
				      left, (unsigned long long)base_channels);
		i = unload_af_hvsock(30000);
		if (i)
			end_violation("rmmod af_hvsock: %s", strerror(-i));
		else
			printf("fuzz_syscalls: af_hvsock unloaded\n");
	}
	summary(total, hangs);
	return violations || hangs ? 1 : 0;
}
