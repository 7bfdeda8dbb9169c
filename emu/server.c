// SPDX-License-Identifier: MIT
/* Emulator event loop, shared-memory transport and HAL glue; see server.h. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cmdset/cmdset.h"
#include "device.h"
#include "log.h"
#include "tcp.h"

#define MAX_CONNS 64
/*
 * Hosts that have connected but not yet sent their hello.  Each gets
 * HANDSHAKE_MS; when MAX_PENDING are waiting, the oldest is dropped for a new
 * one, so idle connections can neither stall the device nor lock hosts out.
 */
#define MAX_PENDING 16
#define HANDSHAKE_MS 2000

struct conn {
	int sock;
	int bar_fd;
	int irq_fd;
	uint8_t *mem;
	size_t mem_size;
	uint32_t *bar;
	size_t bar_size;
	struct kvc_shm_tp *tp;
	struct fw_host_if hif;
	struct fw_ctrl *ctrl;
	uint16_t cntlid;
	bool attached;	      /* false: waiting for the hello */
	uint64_t hs_deadline; /* emu_now_ns() by which the hello must be in */
	char name[48];
};

struct emu {
	const struct emu_config *cfg;
	struct emu_device dev;
	struct fw_subsys *sub;
	int lsock, epfd, wake_fd, sig_fd;
	struct conn *conns[MAX_CONNS];
	unsigned int nconns;
	struct conn *pend[MAX_PENDING]; /* oldest first */
	unsigned int npend;
	uint64_t refusal_window; /* rate limit of "refused" log lines */
	unsigned int refusals;
	uint16_t next_cntlid;
	struct emu_tcp *tcp; /* NVMe/TCP target (--tcp), or NULL */
	/* Held around every firmware call: the NVMe/TCP event threads enter it too. */
	pthread_mutex_t fw_lock;
	dev_t sock_dev; /* the socket this process created */
	ino_t sock_ino;
	bool stop;
};

/* ---- host interface of one connection --------------------------------------- */

static int conn_dma_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct conn *c = ctx;

	if (addr > c->mem_size || len > c->mem_size - addr)
		return -EFAULT;
	memcpy(buf, c->mem + addr, len);
	return 0;
}

static int conn_dma_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	struct conn *c = ctx;

	if (addr > c->mem_size || len > c->mem_size - addr)
		return -EFAULT;
	memcpy(c->mem + addr, buf, len);
	return 0;
}

static void conn_dma_prefetch(void *ctx, uint64_t addr, size_t len)
{
	struct conn *c = ctx;

	if (addr <= c->mem_size && len <= c->mem_size - addr)
		emu_prefetch_lines(c->mem + addr, len, true);
}

static void conn_irq(void *ctx, uint16_t vector)
{
	struct conn *c = ctx;
	uint64_t one = 1;

	(void)vector;
	/* This thread is irq_count's only writer: no locked read-modify-write on
	 * the line the host reads at every doorbell.  The sequentially consistent
	 * store and load order the CQEs just posted before the host_waiting load
	 * (the host arms, then looks at its CQ once more: one of the two sides
	 * sees the other); a full fence (mfence) on x86 either way, and unlike
	 * atomic_thread_fence() something ThreadSanitizer understands. */
	__atomic_store_n(&c->tp->irq_count,
			 __atomic_load_n(&c->tp->irq_count, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->tp->host_waiting, __ATOMIC_SEQ_CST) &&
	    write(c->irq_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		emu_log(1, "%s: interrupt eventfd: %s", c->name, strerror(errno));
}

/* ---- connections ---------------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	if (c->ctrl)
		fw_ctrl_destroy(c->ctrl);
	if (c->bar)
		munmap(c->bar, c->bar_size);
	if (c->mem)
		munmap(c->mem, c->mem_size);
	if (c->bar_fd >= 0)
		close(c->bar_fd);
	if (c->irq_fd >= 0)
		close(c->irq_fd);
	if (c->sock >= 0)
		close(c->sock);
	free(c);
}

static void send_welcome(int sock, const struct kvc_shm_welcome *w, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { (void *)w, sizeof(*w) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (nfds) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		emu_log(1, "welcome: %s", strerror(errno));
}

/* At most REFUSALS_LOGGED log lines a second: connecting costs a host nothing. */
#define REFUSALS_LOGGED 5

static void refuse(struct emu *e, int sock, int status, const char *why)
{
	struct kvc_shm_welcome w = { .magic = KVC_SHM_MAGIC, .version = KVC_SHM_VERSION };
	uint64_t now = emu_now_ns();

	w.status = status;
	snprintf(w.message, sizeof(w.message), "%s", why);
	send_welcome(sock, &w, NULL, 0);
	if (now - e->refusal_window > 1000000000ull) {
		if (e->refusals > REFUSALS_LOGGED)
			emu_log(1, "%u more refusals not logged", e->refusals - REFUSALS_LOGGED);
		e->refusal_window = now;
		e->refusals = 0;
	}
	if (e->refusals++ < REFUSALS_LOGGED)
		emu_log(1, "refused a host: %s", why);
}

/*
 * Receive the hello and the host-memory fd without blocking.  -EAGAIN: not
 * there yet; -ECONNRESET: the host left; -EPROTO: not a hello (no fd kept).
 */
static int recv_hello(int sock, struct kvc_shm_hello *h, int *memfd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { h, sizeof(*h) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	*memfd = -1;
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0)
		return -ECONNRESET;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(memfd, CMSG_DATA(cm), sizeof(int));
	if (n != sizeof(*h) || *memfd < 0) {
		if (*memfd >= 0)
			close(*memfd);
		*memfd = -1;
		return -EPROTO;
	}
	return 0;
}

static size_t page_up(size_t v)
{
	return (v + 4095) & ~(size_t)4095;
}

static int conn_setup(struct emu *e, struct conn *c, int memfd, const struct kvc_shm_hello *h)
{
	uint32_t regs = (uint32_t)page_up(fw_bar_size(&e->cfg->fw));
	struct kvc_shm_welcome w = { .magic = KVC_SHM_MAGIC, .version = KVC_SHM_VERSION };
	int fds[3], seals;
	struct stat st;

	if (h->magic != KVC_SHM_MAGIC || h->version != KVC_SHM_VERSION) {
		refuse(e, c->sock, -EPROTO, "bad hello (magic or version)");
		return -EPROTO;
	}
	if (e->nconns == MAX_CONNS) {
		refuse(e, c->sock, -EBUSY, "too many hosts attached");
		return -EBUSY;
	}
	/*
	 * A mapping whose file shrinks underneath raises SIGBUS on access: only
	 * memory the host can no longer shrink is mapped (seals first, then the
	 * size, which from then on can only stay or grow).
	 */
	seals = fcntl(memfd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		refuse(e, c->sock, -EPERM,
		       "host memory must be a memfd sealed with F_SEAL_SHRINK (see cmdset/shm.h)");
		return -EPERM;
	}
	if (fstat(memfd, &st) || h->mem_size < KVC_SHM_MIN_MEM ||
	    (uint64_t)st.st_size < h->mem_size) {
		refuse(e, c->sock, -EINVAL, "host memory smaller than announced or below 1 MiB");
		return -EINVAL;
	}
	memcpy(c->name, h->name, sizeof(c->name) - 1);
	c->mem_size = h->mem_size;
	c->mem = mmap(NULL, c->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (c->mem == MAP_FAILED) {
		c->mem = NULL;
		refuse(e, c->sock, -errno, "cannot map host memory");
		return -ENOMEM;
	}
	c->bar_size = regs + sizeof(struct kvc_shm_tp);
	c->bar_fd = memfd_create("nvkv-bar", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	c->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* The host gets this fd: sealed so that it cannot shrink our mapping. */
	if (c->bar_fd < 0 || c->irq_fd < 0 || ftruncate(c->bar_fd, (off_t)c->bar_size) ||
	    fcntl(c->bar_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		refuse(e, c->sock, -errno, "cannot create the BAR");
		return -ENOMEM;
	}
	c->bar = mmap(NULL, c->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->bar_fd, 0);
	if (c->bar == MAP_FAILED) {
		c->bar = NULL;
		refuse(e, c->sock, -ENOMEM, "cannot map the BAR");
		return -ENOMEM;
	}
	c->tp = (struct kvc_shm_tp *)((uint8_t *)c->bar + regs);
	c->tp->dev_state = KVC_SHM_STATE_RUNNING;
	c->hif = (struct fw_host_if){ .ctx = c,
				      .dma_read = conn_dma_read,
				      .dma_write = conn_dma_write,
				      .dma_prefetch = conn_dma_prefetch,
				      .irq_raise = conn_irq,
				      .bar = c->bar,
				      .bar_size = regs };
	do /* controller ids are the subsystem's: fabric controllers have some */
		c->cntlid = ++e->next_cntlid;
	while (!c->cntlid || fw_subsys_cntlid_used(e->sub, c->cntlid));
	if (fw_ctrl_create(e->sub, &c->hif, c->cntlid, &c->ctrl)) {
		refuse(e, c->sock, -ENOMEM, "cannot create a controller");
		return -ENOMEM;
	}
	w.bar_size = (uint32_t)c->bar_size;
	w.tp_offset = regs;
	w.cntlid = c->cntlid;
	fds[0] = c->bar_fd;
	fds[1] = e->wake_fd;
	fds[2] = c->irq_fd;
	send_welcome(c->sock, &w, fds, 3);
	return 0;
}

/* Take @c out of the pending list. */
static void pend_unlink(struct emu *e, struct conn *c)
{
	unsigned int i;

	for (i = 0; i < e->npend; i++) {
		if (e->pend[i] == c) {
			memmove(&e->pend[i], &e->pend[i + 1],
				(e->npend - i - 1) * sizeof(e->pend[0]));
			e->npend--;
			return;
		}
	}
}

/* Forget a connection that never attached (refused, timed out or gone). */
static void pend_drop(struct emu *e, struct conn *c)
{
	pend_unlink(e, c);
	epoll_ctl(e->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	conn_free(c);
}

static void handshake(struct emu *e, struct conn *c);

/*
 * The pending list is full: the oldest connection goes, unless its hello has
 * arrived (a host that connected before a burst of idle connections, its
 * readiness event not handled yet): then it attaches and makes the room.
 */
static void make_room(struct emu *e)
{
	while (e->npend == MAX_PENDING) {
		struct conn *old = e->pend[0];

		handshake(e, old);
		if (e->npend == MAX_PENDING && e->pend[0] == old) {
			refuse(e, old->sock, -EBUSY,
			       "no hello yet and too many hosts connecting; dropped");
			pend_drop(e, old);
		}
	}
}

/*
 * Take new connections without waiting for anything they send: each waits
 * in the pending list for its hello (see handshake()).
 */
static void accept_hosts(struct emu *e)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	unsigned int n;
	struct conn *c;
	int sock;

	for (n = 0; n < 2 * MAX_PENDING; n++) {
		sock = accept4(e->lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (sock < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(sock);
			continue;
		}
		c->sock = sock;
		c->bar_fd = c->irq_fd = -1;
		c->hs_deadline = emu_now_ns() + HANDSHAKE_MS * 1000000ull;
		ev.data.ptr = c;
		if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, sock, &ev)) {
			emu_log(1, "cannot watch a new connection: %s", strerror(errno));
			conn_free(c);
			continue;
		}
		make_room(e);
		e->pend[e->npend++] = c;
	}
}

/* A pending connection is readable: its hello, or its end. */
static void handshake(struct emu *e, struct conn *c)
{
	struct kvc_shm_hello h;
	int memfd, rc;

	rc = recv_hello(c->sock, &h, &memfd);
	if (rc == -EAGAIN)
		return;
	if (rc == -ECONNRESET) {
		emu_log(3, "a connection closed before its hello");
	} else if (rc) {
		refuse(e, c->sock, rc, "expected a hello message with the host memory fd");
	} else {
		rc = conn_setup(e, c, memfd, &h);
		close(memfd);
	}
	if (rc) {
		pend_drop(e, c);
		return;
	}
	pend_unlink(e, c);
	c->attached = true;
	e->conns[e->nconns++] = c;
	emu_log(2, "host '%s' attached as controller %u (%zu MiB host memory)", c->name, c->cntlid,
		c->mem_size >> 20);
}

/* Drop connections that did not say hello in time (oldest first). */
static void expire_pending(struct emu *e)
{
	uint64_t now = emu_now_ns();

	while (e->npend && now > e->pend[0]->hs_deadline) {
		refuse(e, e->pend[0]->sock, -ETIMEDOUT, "no hello within the handshake time");
		pend_drop(e, e->pend[0]);
	}
}

static void drop_host(struct emu *e, struct conn *c)
{
	unsigned int i;

	for (i = 0; i < e->nconns; i++) {
		if (e->conns[i] == c) {
			e->conns[i] = e->conns[--e->nconns];
			break;
		}
	}
	epoll_ctl(e->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	emu_log(2, "host '%s' (controller %u) detached", c->name, c->cntlid);
	conn_free(c);
}

/* ---- statistics ------------------------------------------------------------------ */

static void dump_stats(struct emu *e)
{
	struct kvc_stats_log *l = malloc(sizeof(*l));
	FILE *f;

	if (!l)
		return;
	fw_subsys_stats(e->sub, l);
	fprintf(stderr, "---- nvkv-emu statistics ----\n");
	kvc_stats_print(stderr, l, 0);
	if (*e->cfg->stats_json) {
		f = fopen(e->cfg->stats_json, "w");
		if (f) {
			kvc_stats_print(f, l, 1);
			fclose(f);
		} else {
			emu_log(0, "%s: %s", e->cfg->stats_json, strerror(errno));
		}
	}
	free(l);
}

/* ---- setup and loop ---------------------------------------------------------------- */

/*
 * Whether @path is a socket someone still listens on.  0: nothing there or a
 * stale socket (safe to replace), 1: live, <0: not ours to touch (logged).
 */
static int socket_in_use(const struct sockaddr_un *a)
{
	struct stat st;
	int s, rc;

	if (lstat(a->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		emu_log(0, "%s exists and is not a socket; not replacing it", a->sun_path);
		return -EEXIST;
	}
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	rc = connect(s, (const struct sockaddr *)a, sizeof(*a)) ? -errno : 1;
	close(s);
	/* ECONNREFUSED: nobody listens, a stale socket of a process that died. */
	return rc == -ECONNREFUSED ? 0 : rc == -EPROTOTYPE ? 1 : rc;
}

static int listen_on(struct emu *e, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int s, rc;

	if (strlen(path) >= sizeof(a.sun_path)) {
		emu_log(0, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	rc = socket_in_use(&a);
	if (rc == 1) {
		emu_log(0,
			"%s: another process is listening on this socket (another nvkv-emu?); "
			"not taking it over",
			path);
		return -EADDRINUSE;
	}
	if (rc < 0) {
		if (rc != -EEXIST)
			emu_log(0, "%s: %s", path, strerror(-rc));
		return rc;
	}
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	/*
	 * Bind a private name, listen, then rename it into place: the socket
	 * appears at @path only once it accepts (no ECONNREFUSED window for a
	 * host that saw it appear), and replaces a stale one (checked above).
	 */
	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s.%d", path, (int)getpid()) >=
	    (int)sizeof(a.sun_path))
		strcpy(a.sun_path, path); /* no room for a private name: bind in place */
	unlink(a.sun_path);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 64) ||
	    (strcmp(a.sun_path, path) && rename(a.sun_path, path)) || stat(path, &st)) {
		rc = -errno;
		emu_log(0, "%s: %s", path, strerror(errno));
		if (strcmp(a.sun_path, path))
			unlink(a.sun_path);
		close(s);
		return rc;
	}
	e->sock_dev = st.st_dev;
	e->sock_ino = st.st_ino;
	return s;
}

/* Remove the socket at exit, unless another process has put its own there. */
static void unlink_own_socket(struct emu *e)
{
	struct stat st;

	if (!lstat(e->cfg->socket, &st) && st.st_dev == e->sock_dev && st.st_ino == e->sock_ino)
		unlink(e->cfg->socket);
}

static void handle_events(struct emu *e, int timeout_ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(e->epfd, ev, 16, timeout_ms), i;
	bool incoming = false;

	pthread_mutex_lock(&e->fw_lock);
	for (i = 0; i < n; i++) {
		void *p = ev[i].data.ptr;

		if (p == &e->lsock) {
			incoming = true; /* after the batch: accepting may drop a pending one */
		} else if (p == &e->wake_fd) {
			uint64_t v;

			while (read(e->wake_fd, &v, sizeof(v)) > 0)
				;
		} else if (p == &e->sig_fd) {
			struct signalfd_siginfo si;

			if (read(e->sig_fd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGUSR1)
				dump_stats(e);
			else
				e->stop = true;
		} else if (!((struct conn *)p)->attached) {
			handshake(e, p);
		} else {
			drop_host(e, p); /* the only event on a host socket is its end */
		}
	}
	if (incoming)
		accept_hosts(e);
	expire_pending(e);
	pthread_mutex_unlock(&e->fw_lock);
}

/*
 * The firmware is entered by this thread alone unless the NVMe/TCP target
 * runs (its threads are started before the loop and stopped after it): no
 * lock then, which was a twentieth of an idle pass.
 */
static void fw_enter(struct emu *e)
{
	if (e->tcp)
		pthread_mutex_lock(&e->fw_lock);
}

static void fw_exit(struct emu *e)
{
	if (e->tcp)
		pthread_mutex_unlock(&e->fw_lock);
}

static void set_sleeping(struct emu *e, uint32_t v)
{
	unsigned int i;

	for (i = 0; i < e->nconns; i++)
		__atomic_store_n(&e->conns[i]->tp->dev_sleeping, v, __ATOMIC_SEQ_CST);
}

static int poll_all(struct emu *e, bool *busy)
{
	unsigned int i;
	int work = 0;

	*busy = false;
	if (!e->nconns)
		return 0;
	fw_enter(e);
	for (i = 0; i < e->nconns; i++) {
		work += fw_ctrl_poll(e->conns[i]->ctrl);
		*busy |= fw_ctrl_busy(e->conns[i]->ctrl);
	}
	fw_exit(e);
	return work;
}

/*
 * Idle passes between two clock reads while the device spins before sleeping:
 * a pass without work costs tens of ns, a clock read as much again (on a VM
 * more), so reading it every pass doubled the cost of spinning and showed as
 * a sixth of the emulator's CPU under load.  The spin still ends within
 * IDLE_CLOCK_EVERY passes of idle_spin_us.
 */
#define IDLE_CLOCK_EVERY 32
/*
 * Passes between two looks at the sockets and signals (an epoll_wait system
 * call, about as costly as 10 idle passes): once every 64 idle passes made
 * it a tenth of the spin's cost; 1024 passes are still well under a
 * millisecond for a new host or a signal.
 */
#define EVENTS_EVERY 1024

/*
 * Poll every controller; sleep on the wake eventfd after idle_spin_us without
 * work.  The clock is read once when work stops and every IDLE_CLOCK_EVERY
 * passes after, never on a pass that found work.
 */
static void loop(struct emu *e)
{
	uint64_t idle_since = 0, spin = (uint64_t)e->cfg->idle_spin_us * 1000;
	unsigned long iter = 0, idle = 0;
	unsigned int i;
	bool busy;

	while (!e->stop) {
		if (++iter % EVENTS_EVERY == 0)
			handle_events(e, 0);
		if (poll_all(e, &busy)) {
			idle = 0;
			continue;
		}
		if (busy) {
			idle = 0;
			continue;
		}
		if (idle++ == 0)
			idle_since = emu_now_ns();
		if (spin && (idle % IDLE_CLOCK_EVERY || emu_now_ns() - idle_since < spin))
			continue;
		/* Idle: announce sleep, look once more, then wait for a wake-up. */
		set_sleeping(e, 1);
		if (poll_all(e, &busy) || busy) {
			set_sleeping(e, 0);
			idle = 0;
			continue;
		}
		for (i = 0; i < e->nconns; i++)
			__atomic_fetch_add(&e->conns[i]->tp->heartbeat, 1, __ATOMIC_RELAXED);
		handle_events(e, 100);
		set_sleeping(e, 0);
		idle = 0;
	}
}

static int open_loop_fds(struct emu *e)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	e->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	e->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->lsock = listen_on(e, e->cfg->socket);
	if (e->sig_fd < 0 || e->wake_fd < 0 || e->epfd < 0 || e->lsock < 0)
		return e->lsock < 0 ? e->lsock : -errno;
	ev.data.ptr = &e->lsock;
	epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->lsock, &ev);
	ev.data.ptr = &e->wake_fd;
	epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->wake_fd, &ev);
	ev.data.ptr = &e->sig_fd;
	epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->sig_fd, &ev);
	return 0;
}

/* The NVMe/TCP target: event threads of its own, entering the firmware under
 * fw_lock as this loop does. */
static int open_tcp(struct emu *e)
{
	const struct emu_config *cfg = e->cfg;
	struct emu_tcp_opts o = { .ioccsz = cfg->tcp_ioccsz,
				  .maxh2c = cfg->tcp_maxh2cdata,
				  .max_xfer = fw_subsys_mdts_bytes(e->sub),
				  .ic_ms = 10000,
				  .allow_digests = cfg->tcp_digests,
				  .threads = cfg->tcp_threads,
				  .fw_lock = &e->fw_lock };
	char nqn[256];
	int rc;

	if (!cfg->tcp[0])
		return 0;
	e->tcp = emu_tcp_create(e->sub, &o);
	if (!e->tcp)
		return -ENOMEM;
	rc = emu_tcp_listen(e->tcp, cfg->tcp);
	if (rc) {
		emu_log(0, "--tcp %s: cannot listen: %s", cfg->tcp, strerror(-rc));
		return rc;
	}
	fw_subsys_nqn(e->sub, nqn, sizeof(nqn));
	emu_log(2, "NVMe/TCP on %s (port %u, %u threads), subsystem %s", cfg->tcp,
		emu_tcp_port(e->tcp), cfg->tcp_threads, nqn);
	return 0;
}

/*
 * The --store files are sparse (the NAND image has the array's full size,
 * LMDB's file the whole map): say what they take on disk beside what ls shows.
 */
static void store_sizes(const char *dir, char *out, size_t len)
{
	static const char *const files[] = { "nand.img", "data.mdb" };
	char path[4096];
	struct stat st;
	size_t i, n = 0;

	out[0] = 0;
	for (i = 0; i < sizeof(files) / sizeof(files[0]) && n < len; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &st))
			continue;
		n += (size_t)snprintf(out + n, len - n,
				      "%s %s %llu MiB allocated of %llu MiB apparent",
				      n ? "," : "; sparse files:", files[i],
				      (unsigned long long)st.st_blocks * 512 >> 20,
				      (unsigned long long)st.st_size >> 20);
	}
}

int emu_run(const struct emu_config *cfg)
{
	char sizes[256] = "";
	struct emu *e = calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return -ENOMEM;
	e->cfg = cfg;
	e->lsock = e->epfd = e->wake_fd = e->sig_fd = -1;
	pthread_mutex_init(&e->fw_lock, NULL);
	rc = emu_device_open(&e->dev, cfg);
	e->sub = e->dev.sub;
	if (!rc)
		rc = open_loop_fds(e);
	if (!rc)
		rc = open_tcp(e);
	if (!rc) {
		if (e->dev.persistent)
			store_sizes(cfg->store, sizes, sizeof(sizes));
		emu_log(2, "listening on %s (%s device, %llu MiB capacity%s)", cfg->socket,
			e->dev.persistent ? cfg->store : "in-memory",
			(unsigned long long)(fw_subsys_capacity(e->sub) >> 20), sizes);
		loop(e);
		emu_log(2, "shutting down");
		emu_tcp_destroy(e->tcp); /* its threads first: the rest is this thread's */
		e->tcp = NULL;
		while (e->nconns) {
			e->conns[0]->tp->dev_state = KVC_SHM_STATE_STOPPING;
			drop_host(e, e->conns[0]);
		}
		while (e->npend)
			pend_drop(e, e->pend[0]);
		if (cfg->log_level >= 2 || *cfg->stats_json)
			dump_stats(e);
	}
	emu_tcp_destroy(e->tcp);   /* when set up failed after it */
	emu_device_close(&e->dev); /* flushes */
	if (e->lsock >= 0) {
		close(e->lsock);
		unlink_own_socket(e);
	}
	if (e->epfd >= 0)
		close(e->epfd);
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	if (e->sig_fd >= 0)
		close(e->sig_fd);
	pthread_mutex_destroy(&e->fw_lock);
	free(e);
	return rc;
}
