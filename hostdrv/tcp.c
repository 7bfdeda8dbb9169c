// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP initiator behind struct nvkv_transport_ops (device strings
 * "tcp://HOST:PORT[/NQN][?hdgst&ddgst&kato=MS]").  The driver (udrv.c) keeps
 * its submission and completion queues and data buffers in local host memory
 * as with a PCIe device; this transport plays the device's side of them: a
 * doorbell write turns each new SQE into a CapsuleCmd on the queue's own TCP
 * connection (the PRP or SGL data pointer rewritten into an in-capsule Offset
 * Data Block or a Transport SGL Data Block, host-to-device bytes gathered
 * from the local buffers into the capsule, or sent as H2CData when the target
 * asks with an R2T), a receiver thread scatters C2HData into the local
 * buffers and writes each CapsuleResp into the local CQ with the phase bit.
 * Register access becomes Property Get/Set, Create/Delete I/O SQ/CQ become
 * Fabrics Connects of new connections, and Keep Alive runs within KATO.
 * This file holds the transport ops and nvkv_tcp_open(); the other parts
 * are in tcp_*.c, listed in tcp_internal.h.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "cmdset/regs.h"
#include "tcp_internal.h"

static uint32_t tcp_reg_read(struct nvkv_transport *tp, uint32_t off)
{
	struct nvkv_tcp *t = tcp_of(tp);
	uint64_t v = 0;
	uint32_t v32;

	switch (off) {
	case KVC_REG_CAP:
		return (uint32_t)t->cap;
	case KVC_REG_CAP + 4:
		return (uint32_t)(t->cap >> 32);
	case KVC_REG_VS:
		return t->vs;
	case KVC_REG_CC:
	case KVC_REG_CSTS:
		if (tcp_prop_get(t, off, false, &v))
			set_dead(t, -ENODEV);
		return (uint32_t)v;
	}
	return nvkv_aq_regs_read(&t->aq, off, &v32) ? v32 : 0;
}

static void tcp_reg_write(struct nvkv_transport *tp, uint32_t off, uint32_t v)
{
	struct nvkv_tcp *t = tcp_of(tp);
	struct tcp_q *q;

	if (off >= KVC_REG_DBS) {
		uint32_t idx = (off - KVC_REG_DBS) / 4;

		q = idx / 2 <= NVKV_MAX_QID ? __atomic_load_n(&t->q[idx / 2], __ATOMIC_ACQUIRE)
					    : NULL;
		if (q && !(idx & 1) && (q->qid || t->enabled) && !dead_of(t))
			tcp_sq_doorbell(t, q, v);
		return;
	}
	switch (off) {
	case KVC_REG_CC:
		if ((v & KVC_CC_EN) && !t->enabled) {
			q = t->q[0];
			pthread_mutex_lock(&q->cq_lock);
			q->sq_size = (t->aq.aqa & 0xfff) + 1;
			q->cq_size = ((t->aq.aqa >> 16) & 0xfff) + 1;
			if (q->sq_size > 32 || q->cq_size > 32)
				q->sq_size = q->cq_size = 32; /* connected with SQSIZE 31 */
			q->sq_addr = t->aq.asq;
			q->cq_addr = t->aq.acq;
			q->sq_head = q->sq_db = q->cq_tail = 0;
			q->hold = false;
			q->phase = true;
			memset(q->cmds, 0, 32 * sizeof(*q->cmds));
			pthread_mutex_unlock(&q->cq_lock);
		}
		if (tcp_prop_set(t, KVC_REG_CC, v)) {
			set_dead(t, -ENODEV);
			return;
		}
		__atomic_store_n(&t->enabled, (v & KVC_CC_EN) != 0, __ATOMIC_RELEASE);
		return;
	default:
		nvkv_aq_regs_write(&t->aq, off, v);
		return;
	}
}

static void tcp_kick(struct nvkv_transport *tp)
{
	(void)tp; /* doorbell writes send at once */
}

static bool tcp_dead(struct nvkv_transport *tp)
{
	return __atomic_load_n(&tcp_of(tp)->dead, __ATOMIC_ACQUIRE) != 0;
}

static void tcp_irq_arm(struct nvkv_transport *tp)
{
	__atomic_fetch_add(&tcp_of(tp)->waiting, 1, __ATOMIC_SEQ_CST);
}

static void tcp_irq_disarm(struct nvkv_transport *tp)
{
	__atomic_fetch_sub(&tcp_of(tp)->waiting, 1, __ATOMIC_SEQ_CST);
}

static void tcp_irq_sleep(struct nvkv_transport *tp, int timeout_ms)
{
	struct nvkv_tcp *t = tcp_of(tp);
	struct pollfd p = { .fd = t->irq_fd, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, timeout_ms) > 0 && !dead_of(t) && read(t->irq_fd, &v, sizeof(v)) < 0) {
		/* another waiter took it */
	}
}

static void tcp_close(struct nvkv_transport *tp)
{
	struct nvkv_tcp *t = tcp_of(tp);
	uint64_t one = 1;
	int i;

	if (t->rx_running) {
		if (write(t->stop_fd, &one, 8) < 0) {
			/* cannot fail: a fresh eventfd */
		}
		pthread_join(t->rx_thread, NULL);
	}
	for (i = 0; i <= NVKV_MAX_QID; i++)
		tcp_q_free(t->q[i]);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	if (t->irq_fd >= 0)
		close(t->irq_fd);
	free(t->t.mem);
	pthread_mutex_destroy(&t->rx_lock);
	pthread_mutex_destroy(&t->sync_lock);
	pthread_mutex_destroy(&t->sync_mu);
	pthread_cond_destroy(&t->sync_cv);
	free(t);
}

static void tcp_note_len(struct nvkv_transport *tp, uint16_t qid, uint32_t slot, uint32_t len)
{
	struct nvkv_tcp *t = tcp_of(tp);
	struct tcp_q *q =
		qid <= NVKV_MAX_QID ? __atomic_load_n(&t->q[qid], __ATOMIC_ACQUIRE) : NULL;

	if (q && slot < q->sq_size)
		q->slot_len[slot] = len;
}

static const struct nvkv_transport_ops tcp_ops = {
	.name = "tcp",
	.close = tcp_close,
	.reg_read = tcp_reg_read,
	.reg_write = tcp_reg_write,
	.kick = tcp_kick,
	.dead = tcp_dead,
	.irq_arm = tcp_irq_arm,
	.irq_disarm = tcp_irq_disarm,
	.irq_sleep = tcp_irq_sleep,
	.note_len = tcp_note_len,
};

static void make_hostid(struct nvkv_tcp *t)
{
	static const char hx[] = "0123456789abcdef";
	char u[37];
	int i, j = 0;

	if (getrandom(t->hostid, sizeof(t->hostid), 0) != sizeof(t->hostid)) {
		uint64_t x = nvkv_now_ns() ^ (uint64_t)getpid() << 32;

		memcpy(t->hostid, &x, 8);
		memcpy(t->hostid + 8, &t, sizeof(void *) < 8 ? sizeof(void *) : 8);
	}
	t->hostid[6] = (uint8_t)((t->hostid[6] & 0x0f) | 0x40); /* UUID version 4 */
	t->hostid[8] = (uint8_t)((t->hostid[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			u[j++] = '-';
		u[j++] = hx[t->hostid[i] >> 4];
		u[j++] = hx[t->hostid[i] & 15];
	}
	u[j] = 0;
	snprintf(t->hostnqn, sizeof(t->hostnqn), "nqn.2014-08.org.nvmexpress:uuid:%s", u);
}

/**
 * nvkv_tcp_open() - attach to an NVMe/TCP target
 * @spec: "tcp://HOST:PORT[/NQN][?hdgst&ddgst&kato=MS]"
 * @o: options (host memory size, timeouts)
 * @out: the transport
 *
 * Connects the admin queue (ICReq, Fabrics Connect) and reads CAP and VS;
 * I/O queues connect when the driver creates them.
 *
 * Return: 0, -EINVAL for a malformed @spec, -errno of the connection, -EPROTO
 * when the target breaks the protocol, -ECONNREFUSED when it refuses the
 * Connect (wrong NQN).
 */
int nvkv_tcp_open(const char *spec, const struct nvkv_opts *o, struct nvkv_transport **out)
{
	struct nvkv_tcp *t = calloc(1, sizeof(*t));
	struct tcp_spec sp;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	uint64_t v;
	int rc;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->epfd = t->stop_fd = t->irq_fd = -1;
	pthread_mutex_init(&t->rx_lock, NULL);
	pthread_mutex_init(&t->sync_lock, NULL);
	pthread_mutex_init(&t->sync_mu, NULL);
	pthread_cond_init(&t->sync_cv, NULL);
	t->t.ops = &tcp_ops;
	t->o = *o;
	rc = tcp_parse_spec(spec, &sp);
	if (rc)
		goto fail;
	snprintf(t->host, sizeof(t->host), "%s", sp.host);
	snprintf(t->port, sizeof(t->port), "%s", sp.port);
	snprintf(t->subnqn, sizeof(t->subnqn), "%s", sp.nqn);
	t->want_hd = sp.hdgst;
	t->want_dd = sp.ddgst;
	t->kato_ms = sp.kato_ms;
	make_hostid(t);
	t->t.mem = aligned_alloc(NVKV_PAGE, (o->host_mem + NVKV_PAGE - 1) / NVKV_PAGE * NVKV_PAGE);
	t->t.mem_size = o->host_mem;
	t->t.fabric = true;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->q[0] = tcp_q_new(0, 32);
	rc = -ENOMEM;
	if (!t->t.mem || t->epfd < 0 || t->stop_fd < 0 || t->irq_fd < 0 || !t->q[0])
		goto fail;
	memset(t->t.mem, 0, t->t.mem_size);
	rc = tcp_queue_connect(t, t->q[0]);
	if (rc > 0)
		rc = -ECONNREFUSED;
	if (rc)
		goto fail;
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->stop_fd, &ev);
	ev.data.ptr = t->q[0];
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->q[0]->c.fd, &ev);
	rc = -pthread_create(&t->rx_thread, NULL, tcp_rx_main, t);
	if (rc)
		goto fail;
	t->rx_running = true;
	rc = tcp_prop_get(t, KVC_REG_CAP, true, &t->cap);
	if (!rc)
		rc = tcp_prop_get(t, KVC_REG_VS, false, &v);
	if (rc)
		goto fail;
	t->vs = (uint32_t)v;
	*out = &t->t;
	return 0;
fail:
	tcp_close(&t->t);
	return rc;
}
