// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target (NVMe over TCP Transport 1.0): ICReq/ICResp, CapsuleCmd
 * with in-capsule data, R2T/H2CData for larger writes (the whole data is
 * collected before the command goes to the firmware, so the firmware never
 * waits for the network), C2HData for reads (what the firmware writes
 * through xport_write is sent before the CapsuleResp), optional CRC32C
 * header and data digests, and C2HTermReq plus closing only that connection
 * on any protocol error.  The first capsule of a connection must be a
 * Fabrics Connect: on the admin queue it creates a fabric controller
 * (firmware/fabric.c) for an association, on an I/O queue it binds the
 * queue pair.  A controller whose Keep Alive expired is torn down with all
 * its connections.  A Connect to the discovery NQN gets a discovery
 * controller served here (Get Log Page 70h lists the subsystem).  The
 * connections are spread over event-loop threads that enter the firmware
 * under one lock (see "Locking" in tcp_internal.h).  See docs/tcp.md.
 * This file holds the event threads, the listener and the target's life;
 * the other parts are in tcp_*.c, listed in tcp_internal.h.
 */
#include "tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tcp_internal.h"

#define RX_PER_EVENT 4 /* reads per connection per event: fairness */
#define MAX_CONNS 1024

__thread struct tthread *emu_tcp_cur_th;

/* Read what the host sent and act on it; the socket is read outside the
 * firmware lock, the bytes are parsed (commands submitted) inside it. */
static void conn_read(struct tthread *th, struct emu_tcp_conn *c)
{
	int i;

	for (i = 0; i < RX_PER_EVENT && !is_dead(c); i++) {
		ssize_t n = recv(c->fd, th->rxbuf, sizeof(th->rxbuf), MSG_DONTWAIT);

		if (n <= 0 &&
		    (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))) {
			fw_lock(c->t);
			emu_tcp_conn_kill(c,
					  n ? "receive failed" : "the host closed the connection");
			fw_unlock(c->t);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		emu_tcp_feed(c->t, c, th->rxbuf, (size_t)n);
		if (emu_tcp_backlog(c) > OUT_HIGH)
			break; /* the host is not reading: stop taking its commands */
		if ((size_t)n < sizeof(th->rxbuf))
			break; /* drained: spare the EAGAIN recv */
	}
}

/* Spread connections over the threads in turn: a host's admin and I/O
 * queues land on different threads. */
static void accept_conns(struct emu_tcp *t)
{
	for (;;) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int fd = accept4(t->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC),
		    one = 1;
		struct tthread *th = &t->th[t->rr++ % t->nth];
		struct emu_tcp_conn *c = NULL;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };

		if (fd < 0)
			return;
		if (__atomic_load_n(&t->nconns, __ATOMIC_RELAXED) >= MAX_CONNS ||
		    !(c = emu_tcp_conn_new(t, fd, th))) {
			emu_log(1, "tcp: connection refused (%u connections)",
				__atomic_load_n(&t->nconns, __ATOMIC_RELAXED));
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		snprintf(c->name, sizeof(c->name), "%s:%u", inet_ntoa(sa.sin_addr),
			 ntohs(sa.sin_port));
		ev.data.ptr = c;
		c->ev = ev.events;
		/* On the thread's list before its first event can arrive. */
		pthread_mutex_lock(&th->inbox_lock);
		c->next = th->inbox;
		th->inbox = c;
		pthread_mutex_unlock(&th->inbox_lock);
		if (epoll_ctl(th->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			fw_lock(t);
			emu_tcp_conn_kill(c, "epoll");
			fw_unlock(t);
		}
		emu_log(3, "tcp %s: accepted (thread %u)", c->name, (unsigned int)(th - t->th));
	}
}

static void take_inbox(struct tthread *th)
{
	struct emu_tcp_conn *c, *next;

	pthread_mutex_lock(&th->inbox_lock);
	c = th->inbox;
	th->inbox = NULL;
	pthread_mutex_unlock(&th->inbox_lock);
	for (; c; c = next) {
		next = c->next;
		c->next = th->conns;
		th->conns = c;
	}
}

static void thread_events(struct tthread *th, const struct epoll_event *ev, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct emu_tcp_conn *c = ev[i].data.ptr;

		if (ev[i].data.ptr == &th->t->lfd) {
			accept_conns(th->t);
		} else if (ev[i].data.ptr == &th->evfd) {
			uint64_t v;

			if (read(th->evfd, &v, sizeof(v)) < 0)
				continue; /* already drained */
		} else if (!is_dead(c) &&
			   (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
			conn_read(th, c);
		}
	}
}

/*
 * One event loop: read and parse what arrived, run the controllers this
 * thread's connections belong to, send what they completed, free what died.
 * It sleeps in epoll_wait (100 ms at most, for the sweeps) unless a
 * controller has work in flight.
 */
static void *thread_main(void *arg)
{
	struct tthread *th = arg;
	struct emu_tcp *t = th->t;
	struct epoll_event ev[64];
	struct emu_tcp_conn *c;
	bool busy = false;

	emu_tcp_cur_th = th;
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(th->epfd, ev, 64, busy ? 0 : 100);
		uint64_t now;

		take_inbox(th);
		thread_events(th, ev, n > 0 ? n : 0);
		busy = false;
		now = now_ns();
		fw_lock(t);
		emu_tcp_poll_assocs(t, th, &busy);
		if (now - th->last_sweep > 100000000ull) {
			th->last_sweep = now;
			emu_tcp_sweep(t, th->conns, now);
		}
		fw_unlock(t);
		for (c = th->conns; c; c = c->next)
			if (!is_dead(c))
				emu_tcp_flush_out(c);
		emu_tcp_reap_conns(&th->conns, false);
	}
	return NULL;
}

struct emu_tcp *emu_tcp_create(struct fw_subsys *s, const struct emu_tcp_opts *o)
{
	struct emu_tcp *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->s = s;
	t->o = *o;
	if (t->o.ioccsz < 4)
		t->o.ioccsz = 4;
	if (t->o.maxh2c < 4096)
		t->o.maxh2c = 4096;
	t->o.maxh2c &= ~3u;
	if (t->o.threads < 1)
		t->o.threads = 1;
	if (pthread_mutex_init(&t->own_lock, NULL)) {
		free(t);
		return NULL;
	}
	t->fw = o->fw_lock ? o->fw_lock : &t->own_lock;
	t->lfd = -1;
	return t;
}

/* Its descriptors; all threads' are made before any thread runs (the
 * first one hands connections to the others from the start). */
static int thread_init(struct emu_tcp *t, struct tthread *th)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &th->evfd };

	th->t = t;
	th->epfd = epoll_create1(EPOLL_CLOEXEC);
	th->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (th->epfd < 0 || th->evfd < 0)
		return -errno;
	if (epoll_ctl(th->epfd, EPOLL_CTL_ADD, th->evfd, &ev))
		return -errno;
	if (th == t->th) { /* the first thread accepts */
		ev.data.ptr = &t->lfd;
		if (epoll_ctl(th->epfd, EPOLL_CTL_ADD, t->lfd, &ev))
			return -errno;
	}
	return 0;
}

int emu_tcp_listen(struct emu_tcp *t, const char *addrport)
{
	char host[64] = "127.0.0.1";
	const char *colon = strrchr(addrport, ':');
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	unsigned long port;
	char *end;
	unsigned int i;
	int one = 1, rc;

	if (colon) {
		if ((size_t)(colon - addrport) >= sizeof(host))
			return -EINVAL;
		memcpy(host, addrport, (size_t)(colon - addrport));
		host[colon - addrport] = 0;
		addrport = colon + 1;
	}
	port = strtoul(addrport, &end, 10);
	if (!*addrport || *end || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)port);
	t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->lfd < 0)
		return -errno;
	setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(t->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(t->lfd, 64))
		return -errno;
	getsockname(t->lfd, (struct sockaddr *)&sa, &sl);
	t->port = ntohs(sa.sin_port);
	t->th = calloc(t->o.threads, sizeof(*t->th));
	if (!t->th)
		return -ENOMEM;
	for (i = 0; i < t->o.threads; i++) {
		t->th[i].epfd = t->th[i].evfd = -1;
		t->th[i].inbox_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	}
	t->nth = t->o.threads;
	for (i = 0; i < t->nth; i++) {
		rc = thread_init(t, &t->th[i]);
		if (rc)
			return rc; /* emu_tcp_destroy() cleans up */
	}
	for (i = 0; i < t->nth; i++) {
		if (pthread_create(&t->th[i].tid, NULL, thread_main, &t->th[i]))
			return -EAGAIN; /* emu_tcp_destroy() stops those that run */
		t->th[i].started = true;
	}
	return 0;
}

uint16_t emu_tcp_port(const struct emu_tcp *t)
{
	return t->port;
}

static void kill_list(struct emu_tcp_conn *c)
{
	for (; c; c = c->next)
		emu_tcp_conn_kill(c, NULL);
}

void emu_tcp_destroy(struct emu_tcp *t)
{
	unsigned int i;

	if (!t)
		return;
	__atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < t->nth; i++)
		if (t->th[i].started) {
			th_wake(&t->th[i]);
			pthread_join(t->th[i].tid, NULL);
		}
	fw_lock(t);
	for (struct tassoc *a = t->assocs; a; a = a->next)
		emu_tcp_assoc_kill(a);
	for (i = 0; i < t->nth; i++) {
		take_inbox(&t->th[i]);
		kill_list(t->th[i].conns);
	}
	kill_list(t->fakes);
	emu_tcp_reap_assocs(t);
	fw_unlock(t);
	for (i = 0; i < t->nth; i++) {
		emu_tcp_reap_conns(&t->th[i].conns, true);
		if (t->th[i].epfd >= 0)
			close(t->th[i].epfd);
		if (t->th[i].evfd >= 0)
			close(t->th[i].evfd);
		pthread_mutex_destroy(&t->th[i].inbox_lock);
	}
	emu_tcp_reap_conns(&t->fakes, true);
	free(t->th);
	if (t->lfd >= 0)
		close(t->lfd);
	pthread_mutex_destroy(&t->own_lock);
	free(t);
}
