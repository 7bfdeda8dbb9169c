// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP initiator: the receiver thread.  It reads every connection of the
 * association (epoll), handles each whole PDU: a CapsuleResp completes a
 * command in the local CQ (or answers the one synchronous Fabrics command),
 * C2HData is scattered into the command's buffer, an R2T is answered with
 * H2CData gathered from it; any protocol error ends the association.  It
 * also sends Keep Alive within KATO.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmdset/admin.h"
#include "cmdset/sgl.h"
#include "tcp_internal.h"

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

static void snoop_identify(struct nvkv_tcp *t, const struct tcp_cmd *c)
{
	uint8_t b[4];

	/* Identify Controller: IOCCSZ (bytes 1792-1795) sizes in-capsule data on I/O queues. */
	if (c->opc != KVC_ADM_IDENTIFY || (c->cdw10 & 0xff) != KVC_CNS_CTRL || c->len < 1796 ||
	    tcp_hcopy(t, c, 1792, b, 4, false))
		return;
	__atomic_store_n(&t->io_incapsule, kvc_get_le32(b) >= 4 ? kvc_get_le32(b) * 16 - 64 : 0,
			 __ATOMIC_RELAXED);
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
		uint8_t *p = tcp_tx_put(c, tcp_data_len(c->hd, c->dd, n));

		if (!p) {
			rc = -ENOMEM;
			break;
		}
		tcp_put_h2c_hdr(p, c->hd, c->dd, r->cccid, r->ttag, off, n, off + n == end);
		rc = tcp_hcopy(t, cmd, off, p + hl, n, false);
		if (!rc && c->dd)
			kvc_put_le32(p + hl + n, tcp_crc32c(p + hl, n));
		off += n;
		if (!rc && c->txlen >= 256 * 1024)
			rc = tcp_tx_flush(t, c);
	}
	if (!rc)
		rc = tcp_tx_flush(t, c);
	c->txlen = 0;
	pthread_mutex_unlock(&c->tx);
	/* The target submits a command once its data is in, in order. */
	if (!rc && end == cmd->len)
		tcp_release_hold(t, q, r->cccid);
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
		tcp_release_hold(t, q, cid);
		tcp_post_cqe(t, q, cid, kvc_cqe_dw0(cqe), kvc_get_le32(&cqe->dw1),
			     kvc_cqe_status(cqe));
		return 0;
	}
	case KVC_TCP_C2H_DATA:
		pthread_mutex_lock(&q->cmd_lock);
		cmd = v.cccid < q->sq_size ? &q->cmds[v.cccid] : NULL;
		if (!cmd || !cmd->busy || cmd->dir != KVC_DIR_D2H ||
		    tcp_hcopy(t, cmd, v.offset, (uint8_t *)v.data, v.dlen, true)) {
			pthread_mutex_unlock(&q->cmd_lock);
			return -EPROTO;
		}
		if (v.success)
			cmd->busy = false;
		pthread_mutex_unlock(&q->cmd_lock);
		if (v.success)
			tcp_post_cqe(t, q, v.cccid, 0, 0, 0);
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
	d = tcp_put_capsule(c, &sqe, 0);
	if (d)
		tcp_tx_flush(t, c);
	pthread_mutex_unlock(&c->tx);
}

void *tcp_rx_main(void *arg)
{
	struct nvkv_tcp *t = arg;
	struct epoll_event ev[16];
	int period = t->kato_ms ? (int)(t->kato_ms / 4) : 1000;

	tcp_rx_self = t;
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
