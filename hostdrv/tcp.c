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
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmdset/admin.h"
#include "cmdset/bandslim.h"
#include "cmdset/regs.h"
#include "cmdset/sgl.h"
#include "cmdset/tcp.h"
#include "nvkv_internal.h"
#include "tcp_pdu.h"

#define INTERNAL_CID 0xf000u  /* command ids of our own Fabrics commands and above */
#define KEEPALIVE_CID 0xfffeu /* answered, never waited for */
#define RX_MAX (8u << 20)     /* largest PDU accepted from a target */

struct tcp_cmd {
	bool busy;
	bool sgl;    /* contiguous buffer at addr, else PRP1/PRP2 */
	uint8_t dir; /* enum kvc_xfer_dir */
	uint8_t opc;
	uint32_t cdw10;
	uint64_t addr, prp2;
	uint32_t len;
};

struct tcp_conn {
	int fd;
	pthread_mutex_t tx; /* senders: submitting threads, the receiver (H2CData, Keep Alive) */
	uint8_t *txb;
	size_t txlen, txcap;
	uint8_t *rx; /* receiver thread only */
	size_t rxlen, rxcap;
	bool hd, dd;
	uint32_t maxh2c;
};

struct tcp_q {
	uint16_t qid;
	uint32_t sq_size, cq_size;
	uint64_t sq_addr, cq_addr;
	uint32_t sq_head; /* SQEs taken from the local SQ */
	uint32_t sq_db;	  /* the last SQ tail doorbell */
	bool hold;	  /* later SQEs wait for hold_cid's data (BandSlim order) */
	uint16_t hold_cid;
	uint32_t cq_tail;
	bool phase;
	pthread_mutex_t cq_lock;
	pthread_mutex_t cmd_lock; /* cmds[]: set by the submitter, used by the receiver */
	struct tcp_cmd *cmds;	  /* [cid], cid < sq_size */
	uint32_t *slot_len;	  /* data length of a PRP command per SQ slot (udrv's hint) */
	struct tcp_conn c;
};

struct nvkv_tcp {
	struct nvkv_transport t;
	struct nvkv_opts o;
	char host[256], port[16], subnqn[224], hostnqn[224];
	uint8_t hostid[16];
	bool want_hd, want_dd;
	uint32_t kato_ms;
	uint16_t cntlid;
	uint64_t cap;
	uint32_t vs;
	struct nvkv_aq_regs aq;
	bool enabled;
	uint32_t io_incapsule; /* in-capsule data bytes on I/O queues (Identify IOCCSZ) */
	struct tcp_q *q[NVKV_MAX_QID + 1];
	struct {
		uint64_t addr;
		uint32_t size;
	} cq[NVKV_MAX_QID + 1];
	/* receiver */
	pthread_t rx_thread;
	bool rx_running;
	int epfd;
	int stop_fd;
	int irq_fd;
	pthread_mutex_t rx_lock; /* held by the receiver while it handles events */
	int waiting;
	bool irq_pending; /* receiver only: CQEs posted since its last wake-up of a waiter */
	int dead;
	uint64_t last_ka;
	/* one synchronous Fabrics command at a time on the admin connection */
	pthread_mutex_t sync_lock;
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	uint16_t sync_cid, sync_seq;
	bool sync_done;
	struct kvc_cqe sync_cqe;
};

static struct nvkv_tcp *tcp_of(struct nvkv_transport *t)
{
	return (struct nvkv_tcp *)t;
}

static int dead_of(struct nvkv_tcp *t)
{
	return __atomic_load_n(&t->dead, __ATOMIC_ACQUIRE);
}

static uint64_t now_ms(void)
{
	return nvkv_now_ns() / 1000000u;
}

static void set_dead(struct nvkv_tcp *t, int err)
{
	uint64_t one = 1;

	int zero = 0;

	__atomic_compare_exchange_n(&t->dead, &zero, err, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
	if (write(t->irq_fd, &one, sizeof(one)) < 0) {
		/* saturated: waiters wake anyway */
	}
}

/* ---- sockets ------------------------------------------------------------------------------ */

static int conn_open(struct nvkv_tcp *t, struct tcp_conn *c)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai, *a;
	int rc, one = 1;

	c->fd = -1;
	rc = getaddrinfo(t->host, t->port, &hints, &ai);
	if (rc)
		return -EHOSTUNREACH;
	rc = -ECONNREFUSED;
	for (a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			continue;
		if (!connect(fd, a->ai_addr, a->ai_addrlen)) {
			c->fd = fd;
			rc = 0;
			break;
		}
		rc = -errno;
		close(fd);
	}
	freeaddrinfo(ai);
	if (rc)
		return rc;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	pthread_mutex_init(&c->tx, NULL);
	return 0;
}

static void conn_close(struct tcp_conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		pthread_mutex_destroy(&c->tx);
	}
	c->fd = -1;
	free(c->txb);
	free(c->rx);
	c->txb = c->rx = NULL;
	c->txlen = c->txcap = c->rxlen = c->rxcap = 0;
}

static int send_all(int fd, const uint8_t *p, size_t n, uint32_t timeout_ms)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			int r = poll(&pf, 1, (int)timeout_ms);

			if (r == 0)
				return -ETIMEDOUT;
			if (r < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		return w < 0 ? -errno : -EPIPE;
	}
	return 0;
}

/* Reserve @n more bytes at the end of the connection's send buffer. */
static uint8_t *tx_put(struct tcp_conn *c, size_t n)
{
	uint8_t *p;

	if (c->txlen + n > c->txcap) {
		size_t cap = c->txcap ? c->txcap : 4096;

		while (cap < c->txlen + n)
			cap *= 2;
		p = realloc(c->txb, cap);
		if (!p)
			return NULL;
		c->txb = p;
		c->txcap = cap;
	}
	p = c->txb + c->txlen;
	c->txlen += n;
	return p;
}

static int tx_flush(struct nvkv_tcp *t, struct tcp_conn *c)
{
	int rc = c->txlen ? send_all(c->fd, c->txb, c->txlen, t->o.timeout_ms) : 0;

	c->txlen = 0;
	if (rc)
		set_dead(t, -ENODEV);
	return rc;
}

/* Read exactly @n bytes within @timeout_ms (connection set-up only). */
static int recv_exact(int fd, uint8_t *p, size_t n, uint32_t timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	while (n) {
		ssize_t r = recv(fd, p, n, 0);
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int64_t left;

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		left = (int64_t)(end - now_ms());
		if (left <= 0 || poll(&pf, 1, (int)left) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* One whole PDU from a connection not yet handed to the receiver. */
static int recv_pdu(struct nvkv_tcp *t, struct tcp_conn *c, uint8_t *buf, size_t cap)
{
	uint32_t plen;
	int rc = recv_exact(c->fd, buf, 8, t->o.timeout_ms);

	if (rc)
		return rc;
	plen = kvc_get_le32(buf + 4);
	if (plen < 8 || plen > cap)
		return -EPROTO;
	return recv_exact(c->fd, buf + 8, plen - 8, t->o.timeout_ms);
}

/* ---- PDUs ---------------------------------------------------------------------------------- */

/*
 * Append a CapsuleCmd for @sqe (DPTR already rewritten) with @dlen bytes of
 * in-capsule data, gathered by @fill into the capsule; returns where the data
 * goes (NULL on allocation failure).
 */
static uint8_t *put_capsule(struct tcp_conn *c, const struct kvc_sqe *sqe, uint32_t dlen)
{
	size_t hl = tcp_capsule_hdr_len(c->hd), n = tcp_capsule_len(c->hd, c->dd, dlen);
	uint8_t *p = tx_put(c, n);

	if (!p)
		return NULL;
	tcp_put_capsule_hdr(p, sqe, c->hd, c->dd, dlen);
	return p + hl;
}

static void seal_capsule(struct tcp_conn *c, uint8_t *data, uint32_t dlen)
{
	if (dlen && c->dd)
		kvc_put_le32(data + dlen, tcp_crc32c(data, dlen));
}

/* ---- host memory behind a command's data pointer ---------------------------------------- */

static uint8_t *hmem(struct nvkv_tcp *t, uint64_t addr, uint32_t n)
{
	if (addr >= t->t.mem_size || n > t->t.mem_size - addr)
		return NULL;
	return t->t.mem + addr;
}

/* Address of byte @off of a PRP-described buffer, and bytes left in its page. */
static uint64_t prp_addr(struct nvkv_tcp *t, const struct tcp_cmd *c, uint32_t off,
			 uint32_t *in_page)
{
	uint32_t first = (uint32_t)(c->addr % NVKV_PAGE), k = (first + off) / NVKV_PAGE;
	uint32_t total = (first + c->len + NVKV_PAGE - 1) / NVKV_PAGE, e, rem;
	uint64_t list, page;
	uint8_t *p;

	*in_page = NVKV_PAGE - (first + off) % NVKV_PAGE;
	if (k == 0)
		return c->addr + off;
	if (total == 2) {
		page = c->prp2;
	} else {
		e = k - 1;
		rem = total - 1;
		list = c->prp2;
		while (e >= NVKV_PAGE / 8 - 1 && rem > NVKV_PAGE / 8) {
			p = hmem(t, list + NVKV_PAGE - 8, 8);
			if (!p)
				return UINT64_MAX;
			list = kvc_get_le64(p);
			e -= NVKV_PAGE / 8 - 1;
			rem -= NVKV_PAGE / 8 - 1;
		}
		p = hmem(t, list + (uint64_t)e * 8, 8);
		if (!p)
			return UINT64_MAX;
		page = kvc_get_le64(p);
	}
	return (page & ~(uint64_t)(NVKV_PAGE - 1)) + (first + off) % NVKV_PAGE;
}

/* Copy @n bytes at offset @off of a command's buffer to (@to_host) or from @buf. */
static int hcopy(struct nvkv_tcp *t, const struct tcp_cmd *c, uint32_t off, uint8_t *buf,
		 uint32_t n, bool to_host)
{
	if (off > c->len || n > c->len - off)
		return -ERANGE;
	while (n) {
		uint32_t chunk = n, in_page;
		uint64_t a;
		uint8_t *h;

		if (c->sgl) {
			a = c->addr + off;
		} else {
			a = prp_addr(t, c, off, &in_page);
			if (chunk > in_page)
				chunk = in_page;
		}
		h = a == UINT64_MAX ? NULL : hmem(t, a, chunk);
		if (!h)
			return -EFAULT;
		if (to_host)
			memcpy(h, buf, chunk);
		else
			memcpy(buf, h, chunk);
		buf += chunk;
		off += chunk;
		n -= chunk;
	}
	return 0;
}

/* ---- the local completion queue ---------------------------------------------------------- */

/* The transport whose receiver thread this is (NULL on other threads). */
static __thread struct nvkv_tcp *rx_self;

static void post_cqe(struct nvkv_tcp *t, struct tcp_q *q, uint16_t cid, uint32_t dw0, uint32_t dw1,
		     uint16_t status)
{
	struct kvc_cqe *slot, c;
	uint64_t one = 1;

	pthread_mutex_lock(&q->cq_lock);
	slot = (struct kvc_cqe *)(t->t.mem + q->cq_addr) + q->cq_tail;
	kvc_cqe_fill(&c, dw0, dw1, (uint16_t)__atomic_load_n(&q->sq_head, __ATOMIC_RELAXED), q->qid,
		     cid, status, q->phase);
	memcpy(slot, &c, 14);
	__atomic_store_n(&slot->status, c.status, __ATOMIC_RELEASE);
	if (++q->cq_tail == q->cq_size) {
		q->cq_tail = 0;
		q->phase = !q->phase;
	}
	pthread_mutex_unlock(&q->cq_lock);
	if (rx_self == t) {
		t->irq_pending = true; /* one wake-up per batch of PDUs: rx_main */
		return;
	}
	if (__atomic_load_n(&t->waiting, __ATOMIC_SEQ_CST) && write(t->irq_fd, &one, 8) < 0) {
		/* saturated */
	}
}

/* The receiver posted completions: wake a waiter once for all of them. */
static void irq_flush(struct nvkv_tcp *t)
{
	uint64_t one = 1;

	if (!t->irq_pending)
		return;
	t->irq_pending = false;
	if (__atomic_load_n(&t->waiting, __ATOMIC_SEQ_CST) && write(t->irq_fd, &one, 8) < 0) {
		/* saturated */
	}
}

/* ---- receiving ------------------------------------------------------------------------------ */

static void snoop_identify(struct nvkv_tcp *t, const struct tcp_cmd *c)
{
	uint8_t b[4];

	/* Identify Controller: IOCCSZ (bytes 1792-1795) sizes in-capsule data on I/O queues. */
	if (c->opc != KVC_ADM_IDENTIFY || (c->cdw10 & 0xff) != KVC_CNS_CTRL || c->len < 1796 ||
	    hcopy(t, c, 1792, b, 4, false))
		return;
	__atomic_store_n(&t->io_incapsule, kvc_get_le32(b) >= 4 ? kvc_get_le32(b) * 16 - 64 : 0,
			 __ATOMIC_RELAXED);
}

static void sq_process(struct nvkv_tcp *t, struct tcp_q *q);

/* The command later SQEs waited for has its data sent, or has completed. */
static void release_hold(struct nvkv_tcp *t, struct tcp_q *q, uint16_t cid)
{
	pthread_mutex_lock(&q->c.tx);
	if (q->hold && q->hold_cid == cid) {
		q->hold = false;
		sq_process(t, q);
	}
	pthread_mutex_unlock(&q->c.tx);
}

static int send_h2c(struct nvkv_tcp *t, struct tcp_q *q, const struct tcp_r2t_info *r)
{
	struct tcp_conn *c = &q->c;
	struct tcp_cmd *cmd = r->cccid < q->sq_size ? &q->cmds[r->cccid] : NULL;
	uint32_t off = r->offset, end;
	int rc = 0;

	if (!cmd || !cmd->busy || cmd->dir != KVC_DIR_H2D || r->offset > cmd->len ||
	    r->length > cmd->len - r->offset || !r->length)
		return -EPROTO;
	end = r->offset + r->length;
	pthread_mutex_lock(&c->tx);
	while (off < end && !rc) {
		uint32_t n = end - off < c->maxh2c ? end - off : c->maxh2c;
		size_t hl = tcp_data_hdr_len(c->hd);
		uint8_t *p = tx_put(c, tcp_data_len(c->hd, c->dd, n));

		if (!p) {
			rc = -ENOMEM;
			break;
		}
		tcp_put_h2c_hdr(p, c->hd, c->dd, r->cccid, r->ttag, off, n, off + n == end);
		rc = hcopy(t, cmd, off, p + hl, n, false);
		if (!rc && c->dd)
			kvc_put_le32(p + hl + n, tcp_crc32c(p + hl, n));
		off += n;
		if (!rc && c->txlen >= 256 * 1024)
			rc = tx_flush(t, c);
	}
	if (!rc)
		rc = tx_flush(t, c);
	c->txlen = 0;
	pthread_mutex_unlock(&c->tx);
	/* The target submits a command once its data is in, in order. */
	if (!rc && end == cmd->len)
		release_hold(t, q, r->cccid);
	return rc;
}

/* Handle one whole PDU of queue @q; an error ends the association. */
static int handle_pdu(struct nvkv_tcp *t, struct tcp_q *q, uint8_t *p, uint32_t plen)
{
	struct tcp_pdu_view v;
	int rc = tcp_parse_c2h(p, plen, q->c.hd, q->c.dd, &v);
	struct tcp_cmd *cmd;

	if (rc)
		return rc;
	switch (v.type) {
	case KVC_TCP_CAPSULE_RESP: {
		const struct kvc_cqe *cqe = &v.cqe;
		uint16_t cid = kvc_cqe_cid(cqe);

		if (cid >= INTERNAL_CID) {
			if (q->qid)
				return -EPROTO;
			pthread_mutex_lock(&t->sync_mu);
			if (cid == t->sync_cid && !t->sync_done) {
				memcpy(&t->sync_cqe, cqe, sizeof(*cqe));
				t->sync_done = true;
				pthread_cond_broadcast(&t->sync_cv);
			}
			pthread_mutex_unlock(&t->sync_mu);
			return 0;
		}
		pthread_mutex_lock(&q->cmd_lock);
		if (cid >= q->sq_size || !q->cmds[cid].busy) {
			pthread_mutex_unlock(&q->cmd_lock);
			return -EPROTO;
		}
		cmd = &q->cmds[cid];
		if (!q->qid && !kvc_cqe_status(cqe))
			snoop_identify(t, cmd);
		cmd->busy = false;
		pthread_mutex_unlock(&q->cmd_lock);
		/* Before the completion is visible: then the cid may be reused. */
		release_hold(t, q, cid);
		post_cqe(t, q, cid, kvc_cqe_dw0(cqe), kvc_get_le32(&cqe->dw1), kvc_cqe_status(cqe));
		return 0;
	}
	case KVC_TCP_C2H_DATA:
		pthread_mutex_lock(&q->cmd_lock);
		cmd = v.cccid < q->sq_size ? &q->cmds[v.cccid] : NULL;
		if (!cmd || !cmd->busy || cmd->dir != KVC_DIR_D2H ||
		    hcopy(t, cmd, v.offset, (uint8_t *)v.data, v.dlen, true)) {
			pthread_mutex_unlock(&q->cmd_lock);
			return -EPROTO;
		}
		if (v.success)
			cmd->busy = false;
		pthread_mutex_unlock(&q->cmd_lock);
		if (v.success)
			post_cqe(t, q, v.cccid, 0, 0, 0);
		return 0;
	case KVC_TCP_R2T:
		return send_h2c(t, q, &v.r2t);
	default: /* C2HTermReq */
		return -ECONNRESET;
	}
}

/* Read what the socket has and handle every whole PDU. */
static int conn_read(struct nvkv_tcp *t, struct tcp_q *q)
{
	struct tcp_conn *c = &q->c;

	for (;;) {
		ssize_t r;
		size_t used = 0;

		if (c->rxcap - c->rxlen < 65536) {
			size_t cap = c->rxcap ? c->rxcap * 2 : 131072;
			uint8_t *n = realloc(c->rx, cap);

			if (!n)
				return -ENOMEM;
			c->rx = n;
			c->rxcap = cap;
		}
		r = recv(c->fd, c->rx + c->rxlen, c->rxcap - c->rxlen, MSG_DONTWAIT);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c->rxlen += (size_t)r;
		while (c->rxlen - used >= 8) {
			uint32_t plen = kvc_get_le32(c->rx + used + 4);
			int rc;

			if (plen < 8 || plen > RX_MAX)
				return -EPROTO;
			if (c->rxlen - used < plen) {
				while (c->rxcap < plen) {
					uint8_t *n = realloc(c->rx, c->rxcap * 2);

					if (!n)
						return -ENOMEM;
					c->rx = n;
					c->rxcap *= 2;
				}
				break;
			}
			rc = handle_pdu(t, q, c->rx + used, plen);
			if (rc)
				return rc;
			used += plen;
		}
		memmove(c->rx, c->rx + used, c->rxlen - used);
		c->rxlen -= used;
	}
}

static void keep_alive(struct nvkv_tcp *t)
{
	struct kvc_sqe sqe;
	struct tcp_conn *c = &t->q[0]->c;
	uint8_t *d;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_KEEP_ALIVE;
	kvc_sqe_set_cid(&sqe, KEEPALIVE_CID);
	tcp_set_dptr(&sqe, KVC_SGL_TRANSPORT_DATA_BLOCK, KVC_SGL_SUB_TRANSPORT, 0);
	pthread_mutex_lock(&c->tx);
	d = put_capsule(c, &sqe, 0);
	if (d)
		tx_flush(t, c);
	pthread_mutex_unlock(&c->tx);
}

static void *rx_main(void *arg)
{
	struct nvkv_tcp *t = arg;
	struct epoll_event ev[16];
	int period = t->kato_ms ? (int)(t->kato_ms / 4) : 1000;

	rx_self = t;
	for (;;) {
		int n = epoll_wait(t->epfd, ev, 16, period), i;

		if (n < 0 && errno != EINTR)
			break;
		pthread_mutex_lock(&t->rx_lock);
		for (i = 0; i < n; i++) {
			struct tcp_q *q = ev[i].data.ptr;
			int rc;

			if (!q) { /* stop */
				pthread_mutex_unlock(&t->rx_lock);
				return NULL;
			}
			rc = conn_read(t, q);
			irq_flush(t);
			if (rc) {
				epoll_ctl(t->epfd, EPOLL_CTL_DEL, q->c.fd, NULL);
				set_dead(t, -ENODEV);
			}
		}
		if (t->kato_ms && __atomic_load_n(&t->enabled, __ATOMIC_ACQUIRE) &&
		    now_ms() - t->last_ka >= t->kato_ms / 4 && !dead_of(t)) {
			t->last_ka = now_ms();
			keep_alive(t);
		}
		pthread_mutex_unlock(&t->rx_lock);
	}
	return NULL;
}

/* ---- Fabrics commands ---------------------------------------------------------------------- */

/* Send @sqe with optional in-capsule @data and wait for its response. */
static int sync_cmd(struct nvkv_tcp *t, struct tcp_q *q, struct kvc_sqe *sqe, const void *data,
		    uint32_t dlen, struct kvc_cqe *out)
{
	struct tcp_conn *c = &q->c;
	uint8_t *d;
	int rc;

	if (dead_of(t))
		return dead_of(t);
	if (!t->rx_running || q->qid) {
		/* A connection the receiver does not read yet: read the answer here. */
		uint8_t buf[64];
		struct tcp_pdu_view v;

		kvc_sqe_set_cid(sqe, INTERNAL_CID);
		d = put_capsule(c, sqe, dlen);
		if (!d)
			return -ENOMEM;
		if (dlen)
			memcpy(d, data, dlen);
		seal_capsule(c, d, dlen);
		rc = tx_flush(t, c);
		if (!rc)
			rc = recv_pdu(t, c, buf, sizeof(buf));
		if (!rc)
			rc = tcp_parse_c2h(buf, kvc_get_le32(buf + 4), c->hd, c->dd, &v);
		if (!rc && (v.type != KVC_TCP_CAPSULE_RESP || kvc_cqe_cid(&v.cqe) != INTERNAL_CID))
			rc = -EPROTO;
		if (!rc)
			memcpy(out, &v.cqe, sizeof(*out));
		return rc;
	}
	pthread_mutex_lock(&t->sync_lock);
	pthread_mutex_lock(&t->sync_mu);
	t->sync_cid = (uint16_t)(INTERNAL_CID + (t->sync_seq++ & 0xff));
	t->sync_done = false;
	pthread_mutex_unlock(&t->sync_mu);
	kvc_sqe_set_cid(sqe, t->sync_cid);
	pthread_mutex_lock(&c->tx);
	d = put_capsule(c, sqe, dlen);
	if (d && dlen)
		memcpy(d, data, dlen);
	if (d)
		seal_capsule(c, d, dlen);
	rc = d ? tx_flush(t, c) : -ENOMEM;
	pthread_mutex_unlock(&c->tx);
	if (!rc) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += t->o.timeout_ms / 1000;
		ts.tv_nsec += (long)(t->o.timeout_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&t->sync_mu);
		while (!t->sync_done && !rc && !dead_of(t))
			rc = -pthread_cond_timedwait(&t->sync_cv, &t->sync_mu, &ts);
		if (t->sync_done)
			memcpy(out, &t->sync_cqe, sizeof(*out));
		else if (!rc)
			rc = dead_of(t);
		t->sync_cid = 0;
		pthread_mutex_unlock(&t->sync_mu);
	}
	pthread_mutex_unlock(&t->sync_lock);
	return rc;
}

static int prop_get(struct nvkv_tcp *t, uint32_t off, bool wide, uint64_t *val)
{
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	int rc;

	tcp_prop_get_sqe(&sqe, off, wide);
	rc = sync_cmd(t, t->q[0], &sqe, NULL, 0, &cqe);
	if (rc)
		return rc;
	if (kvc_cqe_status(&cqe))
		return -EIO;
	*val = kvc_cqe_dw0(&cqe) | (uint64_t)kvc_get_le32(&cqe.dw1) << 32;
	return 0;
}

static int prop_set(struct nvkv_tcp *t, uint32_t off, uint32_t val)
{
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	int rc;

	tcp_prop_set_sqe(&sqe, off, false, val);
	rc = sync_cmd(t, t->q[0], &sqe, NULL, 0, &cqe);
	return rc ? rc : kvc_cqe_status(&cqe) ? -EIO : 0;
}

/* ICReq/ICResp and Connect of a queue's new connection; returns an NVMe status as > 0. */
static int queue_connect(struct nvkv_tcp *t, struct tcp_q *q)
{
	struct tcp_conn *c = &q->c;
	uint8_t buf[128], data[1024];
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	uint32_t maxh2c;
	int rc = conn_open(t, c);

	if (rc)
		return rc;
	tcp_put_icreq(buf, t->want_hd, t->want_dd);
	rc = send_all(c->fd, buf, 128, t->o.timeout_ms);
	if (!rc)
		rc = recv_pdu(t, c, buf, sizeof(buf));
	if (!rc)
		rc = tcp_parse_icresp(buf, kvc_get_le32(buf + 4), &c->hd, &c->dd, &maxh2c);
	if (rc)
		return rc;
	if (c->hd != t->want_hd || c->dd != t->want_dd)
		return -EPROTO;
	c->maxh2c = maxh2c;
	tcp_connect_sqe(&sqe, q->qid, (uint16_t)(q->sq_size - 1), q->qid ? 0 : t->kato_ms);
	tcp_connect_data(data, t->hostid, q->qid ? t->cntlid : 0xffff, t->subnqn, t->hostnqn);
	rc = sync_cmd(t, q, &sqe, data, sizeof(data), &cqe);
	if (rc)
		return rc;
	if (kvc_cqe_status(&cqe))
		return kvc_cqe_status(&cqe);
	if (!q->qid)
		t->cntlid = (uint16_t)kvc_cqe_dw0(&cqe);
	return 0;
}

static struct tcp_q *q_new(uint16_t qid, uint32_t size)
{
	struct tcp_q *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->qid = qid;
	q->sq_size = q->cq_size = size;
	q->phase = true;
	q->c.fd = -1;
	q->cmds = calloc(size, sizeof(*q->cmds));
	q->slot_len = calloc(size, sizeof(*q->slot_len));
	pthread_mutex_init(&q->cq_lock, NULL);
	pthread_mutex_init(&q->cmd_lock, NULL);
	if (!q->cmds || !q->slot_len) {
		free(q->cmds);
		free(q->slot_len);
		free(q);
		return NULL;
	}
	return q;
}

static void q_free(struct tcp_q *q)
{
	if (!q)
		return;
	conn_close(&q->c);
	pthread_mutex_destroy(&q->cq_lock);
	pthread_mutex_destroy(&q->cmd_lock);
	free(q->cmds);
	free(q->slot_len);
	free(q);
}

/* ---- submission: the device's side of the local SQ --------------------------------------- */

/* Create/Delete I/O SQ/CQ: handled here; returns the NVMe status. */
static uint16_t admin_local(struct nvkv_tcp *t, const struct kvc_sqe *s)
{
	uint32_t dw10 = kvc_sqe_dw(s, 10), dw11 = kvc_sqe_dw(s, 11);
	uint16_t qid = (uint16_t)dw10, size = (uint16_t)((dw10 >> 16) + 1);
	struct tcp_q *q;
	int rc;

	if (!qid || qid > NVKV_MAX_QID)
		return KVC_STATUS(1, 0x01); /* Invalid Queue Identifier */
	switch (s->opc) {
	case KVC_ADM_CREATE_CQ:
		t->cq[qid].addr = kvc_sqe_prp1(s);
		t->cq[qid].size = size;
		return 0;
	case KVC_ADM_DELETE_CQ:
		t->cq[qid].size = 0;
		return 0;
	case KVC_ADM_CREATE_SQ:
		if (t->q[qid] || (dw11 >> 16) != qid || t->cq[qid].size != size)
			return KVC_STATUS(1, 0x01);
		q = q_new(qid, size);
		if (!q)
			return KVC_STATUS(0, 0x06);
		q->sq_addr = kvc_sqe_prp1(s);
		q->cq_addr = t->cq[qid].addr;
		rc = queue_connect(t, q);
		if (rc) {
			q_free(q);
			return rc > 0 ? KVC_STATUS(1, 0x01) : KVC_STATUS(0, 0x06);
		}
		{
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = q };

			epoll_ctl(t->epfd, EPOLL_CTL_ADD, q->c.fd, &ev);
		}
		__atomic_store_n(&t->q[qid], q, __ATOMIC_RELEASE);
		return 0;
	case KVC_ADM_DELETE_SQ:
		q = t->q[qid];
		if (!q)
			return KVC_STATUS(1, 0x01);
		pthread_mutex_lock(&t->rx_lock);
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, q->c.fd, NULL);
		t->q[qid] = NULL;
		pthread_mutex_unlock(&t->rx_lock);
		q_free(q);
		return 0;
	}
	return KVC_STATUS(0, 0x01);
}

/* Turn the local SQE at @slot into a capsule on @q's connection (tx lock held). */
static uint16_t submit_one(struct nvkv_tcp *t, struct tcp_q *q, uint32_t slot)
{
	struct kvc_sqe s = ((struct kvc_sqe *)(t->t.mem + q->sq_addr))[slot];
	uint16_t cid = kvc_sqe_cid(&s);
	uint32_t limit = q->qid ? __atomic_load_n(&t->io_incapsule, __ATOMIC_RELAXED) : 8192;
	struct tcp_cmd c = { .opc = s.opc, .cdw10 = kvc_sqe_dw(&s, 10), .dir = kvc_opc_dir(s.opc) };
	bool busy;
	uint8_t *d;
	int rc;

	rc = tcp_map_dptr(&s, q->slot_len[slot], &c.sgl, &c.addr, &c.prp2, &c.len);
	q->slot_len[slot] = 0;
	if (cid >= q->sq_size)
		return KVC_STATUS(0, 0x03); /* Command ID Conflict */
	pthread_mutex_lock(&q->cmd_lock);
	busy = q->cmds[cid].busy;
	pthread_mutex_unlock(&q->cmd_lock);
	if (busy)
		return KVC_STATUS(0, 0x03);
	if (rc)
		return (uint16_t)rc;
	if (c.len && c.dir == KVC_DIR_BIDI)
		return KVC_STATUS(0, 0x02);
	if (!c.len)
		c.dir = KVC_DIR_NONE;
	if (c.dir == KVC_DIR_H2D && c.len <= limit) {
		tcp_set_dptr(&s, KVC_SGL_DATA_BLOCK, KVC_SGL_SUB_OFFSET, c.len);
		d = put_capsule(&q->c, &s, c.len);
		if (!d)
			return KVC_STATUS(0, 0x06);
		if (hcopy(t, &c, 0, d, c.len, false)) {
			q->c.txlen -= tcp_capsule_len(q->c.hd, q->c.dd, c.len);
			return KVC_STATUS(0, 0x04); /* Data Transfer Error */
		}
		seal_capsule(&q->c, d, c.len);
	} else {
		tcp_set_dptr(&s, KVC_SGL_TRANSPORT_DATA_BLOCK, KVC_SGL_SUB_TRANSPORT, c.len);
		if (!put_capsule(&q->c, &s, 0))
			return KVC_STATUS(0, 0x06);
	}
	c.busy = true;
	pthread_mutex_lock(&q->cmd_lock);
	q->cmds[cid] = c;
	pthread_mutex_unlock(&q->cmd_lock);
	return 0;
}

/*
 * Send the SQEs up to the last doorbell (tx lock held).  A BandSlim head
 * whose pages go by R2T holds back the SQEs after it until its data is sent
 * (or it completes): the target hands a command to the firmware only once
 * its data is in, and the transfers of the sequence must not overtake their
 * head.
 */
static void sq_process(struct nvkv_tcp *t, struct tcp_q *q)
{
	struct tcp_conn *c = &q->c;

	while (!q->hold && q->sq_head != q->sq_db) {
		uint32_t slot = q->sq_head;
		const struct kvc_sqe *s = (struct kvc_sqe *)(t->t.mem + q->sq_addr) + slot;
		uint16_t cid = kvc_sqe_cid(s), st;

		__atomic_store_n(&q->sq_head, (q->sq_head + 1) % q->sq_size, __ATOMIC_RELAXED);
		if (!q->qid && (s->opc == KVC_ADM_CREATE_CQ || s->opc == KVC_ADM_CREATE_SQ ||
				s->opc == KVC_ADM_DELETE_CQ || s->opc == KVC_ADM_DELETE_SQ)) {
			struct kvc_sqe copy = *s;

			tx_flush(t, c);
			pthread_mutex_unlock(&c->tx);
			st = admin_local(t, &copy);
			post_cqe(t, q, kvc_sqe_cid(&copy), 0, 0, st);
			pthread_mutex_lock(&c->tx);
			continue;
		}
		st = submit_one(t, q, slot);
		if (st) {
			post_cqe(t, q, cid, 0, 0, st);
		} else if (s->opc == KVC_BS_STORE_PRP && q->cmds[cid].dir == KVC_DIR_H2D &&
			   q->cmds[cid].len > __atomic_load_n(&t->io_incapsule, __ATOMIC_RELAXED)) {
			q->hold = true;
			q->hold_cid = cid;
		}
	}
	tx_flush(t, c);
}

static void sq_doorbell(struct nvkv_tcp *t, struct tcp_q *q, uint32_t tail)
{
	if (tail >= q->sq_size)
		return;
	pthread_mutex_lock(&q->c.tx);
	q->sq_db = tail;
	sq_process(t, q);
	pthread_mutex_unlock(&q->c.tx);
}

/* ---- transport ops ------------------------------------------------------------------------- */

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
		if (prop_get(t, off, false, &v))
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
			sq_doorbell(t, q, v);
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
		if (prop_set(t, KVC_REG_CC, v)) {
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
		q_free(t->q[i]);
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
	t->q[0] = q_new(0, 32);
	rc = -ENOMEM;
	if (!t->t.mem || t->epfd < 0 || t->stop_fd < 0 || t->irq_fd < 0 || !t->q[0])
		goto fail;
	memset(t->t.mem, 0, t->t.mem_size);
	rc = queue_connect(t, t->q[0]);
	if (rc > 0)
		rc = -ECONNREFUSED;
	if (rc)
		goto fail;
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->stop_fd, &ev);
	ev.data.ptr = t->q[0];
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->q[0]->c.fd, &ev);
	rc = -pthread_create(&t->rx_thread, NULL, rx_main, t);
	if (rc)
		goto fail;
	t->rx_running = true;
	rc = prop_get(t, KVC_REG_CAP, true, &t->cap);
	if (!rc)
		rc = prop_get(t, KVC_REG_VS, false, &v);
	if (rc)
		goto fail;
	t->vs = (uint32_t)v;
	*out = &t->t;
	return 0;
fail:
	tcp_close(&t->t);
	return rc;
}
