// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP initiator: the Fabrics commands and a queue's connection.  One
 * synchronous command at a time on the admin connection (answered through
 * the receiver thread once it runs, read here before), Property Get/Set for
 * register access, and for each queue its connection: ICReq/ICResp, then a
 * Fabrics Connect.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmdset/sgl.h"
#include "tcp_internal.h"

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
		d = tcp_put_capsule(c, sqe, dlen);
		if (!d)
			return -ENOMEM;
		if (dlen)
			memcpy(d, data, dlen);
		tcp_seal_capsule(c, d, dlen);
		rc = tcp_tx_flush(t, c);
		if (!rc)
			rc = tcp_recv_pdu(t, c, buf, sizeof(buf));
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
	d = tcp_put_capsule(c, sqe, dlen);
	if (d && dlen)
		memcpy(d, data, dlen);
	if (d)
		tcp_seal_capsule(c, d, dlen);
	rc = d ? tcp_tx_flush(t, c) : -ENOMEM;
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

int tcp_prop_get(struct nvkv_tcp *t, uint32_t off, bool wide, uint64_t *val)
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

int tcp_prop_set(struct nvkv_tcp *t, uint32_t off, uint32_t val)
{
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	int rc;

	tcp_prop_set_sqe(&sqe, off, false, val);
	rc = sync_cmd(t, t->q[0], &sqe, NULL, 0, &cqe);
	return rc ? rc : kvc_cqe_status(&cqe) ? -EIO : 0;
}

/* ICReq/ICResp and Connect of a queue's new connection; returns an NVMe status as > 0. */
int tcp_queue_connect(struct nvkv_tcp *t, struct tcp_q *q)
{
	struct tcp_conn *c = &q->c;
	uint8_t buf[128], data[1024];
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	uint32_t maxh2c;
	int rc = tcp_conn_open(t, c);

	if (rc)
		return rc;
	tcp_put_icreq(buf, t->want_hd, t->want_dd);
	rc = tcp_send_all(c->fd, buf, 128, t->o.timeout_ms);
	if (!rc)
		rc = tcp_recv_pdu(t, c, buf, sizeof(buf));
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

struct tcp_q *tcp_q_new(uint16_t qid, uint32_t size)
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

void tcp_q_free(struct tcp_q *q)
{
	if (!q)
		return;
	tcp_conn_close(&q->c);
	pthread_mutex_destroy(&q->cq_lock);
	pthread_mutex_destroy(&q->cmd_lock);
	free(q->cmds);
	free(q->slot_len);
	free(q);
}
