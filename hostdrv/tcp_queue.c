// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP initiator: the device's side of the driver's local queues.  A
 * doorbell write sends each new SQE as a CapsuleCmd (its data pointer
 * rewritten, host-to-device bytes in the capsule when they fit), holding
 * back the SQEs after a BandSlim head until its data went; Create/Delete I/O
 * SQ/CQ become the connection of a new queue; completions are written into
 * the local CQ with the phase bit, and a waiting thread woken.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cmdset/admin.h"
#include "cmdset/bandslim.h"
#include "cmdset/sgl.h"
#include "tcp_internal.h"

/* The transport whose receiver thread this is (NULL on other threads). */
__thread struct nvkv_tcp *tcp_rx_self;

void tcp_post_cqe(struct nvkv_tcp *t, struct tcp_q *q, uint16_t cid, uint32_t dw0, uint32_t dw1,
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
	if (tcp_rx_self == t) {
		t->irq_pending = true; /* one wake-up per batch of PDUs: rx_main */
		return;
	}
	if (__atomic_load_n(&t->waiting, __ATOMIC_SEQ_CST) && write(t->irq_fd, &one, 8) < 0) {
		/* saturated */
	}
}

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
		q = tcp_q_new(qid, size);
		if (!q)
			return KVC_STATUS(0, 0x06);
		q->sq_addr = kvc_sqe_prp1(s);
		q->cq_addr = t->cq[qid].addr;
		rc = tcp_queue_connect(t, q);
		if (rc) {
			tcp_q_free(q);
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
		tcp_q_free(q);
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
		d = tcp_put_capsule(&q->c, &s, c.len);
		if (!d)
			return KVC_STATUS(0, 0x06);
		if (tcp_hcopy(t, &c, 0, d, c.len, false)) {
			q->c.txlen -= tcp_capsule_len(q->c.hd, q->c.dd, c.len);
			return KVC_STATUS(0, 0x04); /* Data Transfer Error */
		}
		tcp_seal_capsule(&q->c, d, c.len);
	} else {
		tcp_set_dptr(&s, KVC_SGL_TRANSPORT_DATA_BLOCK, KVC_SGL_SUB_TRANSPORT, c.len);
		if (!tcp_put_capsule(&q->c, &s, 0))
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

			tcp_tx_flush(t, c);
			pthread_mutex_unlock(&c->tx);
			st = admin_local(t, &copy);
			tcp_post_cqe(t, q, kvc_sqe_cid(&copy), 0, 0, st);
			pthread_mutex_lock(&c->tx);
			continue;
		}
		st = submit_one(t, q, slot);
		if (st) {
			tcp_post_cqe(t, q, cid, 0, 0, st);
		} else if (s->opc == KVC_BS_STORE_PRP && q->cmds[cid].dir == KVC_DIR_H2D &&
			   q->cmds[cid].len > __atomic_load_n(&t->io_incapsule, __ATOMIC_RELAXED)) {
			q->hold = true;
			q->hold_cid = cid;
		}
	}
	tcp_tx_flush(t, c);
}

void tcp_sq_doorbell(struct nvkv_tcp *t, struct tcp_q *q, uint32_t tail)
{
	if (tail >= q->sq_size)
		return;
	pthread_mutex_lock(&q->c.tx);
	q->sq_db = tail;
	sq_process(t, q);
	pthread_mutex_unlock(&q->c.tx);
}

/* The command later SQEs waited for has its data sent, or has completed. */
void tcp_release_hold(struct nvkv_tcp *t, struct tcp_q *q, uint16_t cid)
{
	pthread_mutex_lock(&q->c.tx);
	if (q->hold && q->hold_cid == cid) {
		q->hold = false;
		sq_process(t, q);
	}
	pthread_mutex_unlock(&q->c.tx);
}
