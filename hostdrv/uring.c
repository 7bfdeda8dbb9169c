// SPDX-License-Identifier: MIT
/*
 * io_uring passthrough behind struct nvkv_transport_ops (device strings
 * "/dev/ngXnY", "nvmeX" or a subsystem NQN, each optionally followed by
 * "?sqpoll"): the Linux NVMe driver owns the real queues, so, as tcp.c does
 * for a fabric, this transport plays the device's side of the driver's local
 * submission and completion queues.  An I/O SQ doorbell turns every new SQE
 * into an IORING_OP_URING_CMD / NVME_URING_CMD_IO on the queue's own ring
 * (SQE128 | CQE32; one io_uring_enter for all of them, none with SQPOLL),
 * carrying what the kernel passes on (opcode, CDW2-3, CDW10-15 and one data
 * buffer; it zeroes MPTR and DPTR) with the NSID of the char device; the
 * ring's completions become local CQEs (cqe->res: 0, an NVMe status, or
 * -errno; DW0 from the big CQE) when the driver looks at its CQ.  Admin
 * commands go to the controller char device with NVME_IOCTL_ADMIN_CMD,
 * except Create/Delete I/O SQ/CQ (a ring each) and Number of Queues, which
 * are answered here.  Registers are local.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/nvme_ioctl.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdset/admin.h"
#include "cmdset/bandslim.h"
#include "cmdset/regs.h"
#include "cmdset/sgl.h"
#include "nvkv_internal.h"

#define UR_MQES 1024u			  /* entries per queue offered in CAP */
#define UR_SQPOLL_IDLE_MS 50u		  /* the kernel's SQ thread sleeps after this long idle */
#define UR_ERR_STATUS KVC_STATUS(0, 0x06) /* placeholder for a -errno, see ur_cqe_errno() */

struct ur_q {
	uint16_t qid;
	uint32_t size; /* SQ and CQ entries */
	uint64_t sq_addr, cq_addr;
	uint32_t sq_head; /* SQEs taken from the local SQ */
	uint32_t sq_db;	  /* the last SQ tail doorbell: SQEs up to it wait for room */
	uint32_t cq_tail;
	bool phase;
	pthread_mutex_t lock; /* ring, local CQ tail, err[] */
	struct io_uring ring;
	bool ring_ok;
	uint32_t *slot_len; /* data length of the SQE per slot (udrv's hint) */
	int *err;	    /* -errno of the completion of command id [cid] */
};

struct nvkv_uring {
	struct nvkv_transport t;
	int ctrl_fd, ns_fd;
	uint32_t nsid;
	bool sqpoll;
	uint64_t cap;
	uint32_t cc, csts;
	struct nvkv_aq_regs aq;
	struct {
		uint64_t addr;
		uint32_t size;
	} cq[NVKV_MAX_QID + 1];
	/* Changed under qlock held for writing; ur_cq_enter() reads them under it
	 * for reading, the queue's own thread (doorbells, note_len, cqe_errno)
	 * without it. */
	struct ur_q *q[NVKV_MAX_QID + 1];
	pthread_rwlock_t qlock;
	/*
	 * The device keeps one BandSlim sequence open per SQ and the kernel puts
	 * every ring's commands on its own few queues: batches that carry
	 * BandSlim commands enter the kernel one ring at a time.
	 */
	pthread_mutex_t seq_lock;
	/*
	 * Commands on all rings, at most max_inflight: the kernel queue's tags.
	 * A request that finds no tag is issued later by an io-wq worker, out of
	 * order, so SQEs past the limit wait in the local SQ instead.
	 */
	int inflight;
	int max_inflight;
	int efd; /* eventfd of every ring's completions */
	int dead;
	int waiting;
	char path[272];
};

static struct nvkv_uring *ur_of(struct nvkv_transport *t)
{
	return (struct nvkv_uring *)t;
}

static struct ur_q *q_new(uint16_t qid, uint32_t size)
{
	struct ur_q *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->slot_len = calloc(size, sizeof(*q->slot_len));
	q->err = calloc(size, sizeof(*q->err));
	if (!q->slot_len || !q->err) {
		free(q->slot_len);
		free(q->err);
		free(q);
		return NULL;
	}
	q->qid = qid;
	q->size = size;
	q->phase = true;
	pthread_mutex_init(&q->lock, NULL);
	return q;
}

static void q_free(struct ur_q *q)
{
	if (!q)
		return;
	if (q->ring_ok)
		io_uring_queue_exit(&q->ring);
	pthread_mutex_destroy(&q->lock);
	free(q->slot_len);
	free(q->err);
	free(q);
}

/* Post a completion to @q's local CQ (q->lock held). */
static void post_cqe(struct nvkv_uring *t, struct ur_q *q, uint16_t cid, uint32_t dw0, uint32_t dw1,
		     uint16_t status)
{
	struct kvc_cqe *slot = (struct kvc_cqe *)(t->t.mem + q->cq_addr) + q->cq_tail, c;

	kvc_cqe_fill(&c, dw0, dw1, (uint16_t)q->sq_head, q->qid, cid, status, q->phase);
	memcpy(slot, &c, 14);
	__atomic_store_n(&slot->status, c.status, __ATOMIC_RELEASE);
	if (++q->cq_tail == q->size) {
		q->cq_tail = 0;
		q->phase = !q->phase;
	}
}

/*
 * The data length of an I/O SQE: an SGL Data Block names its own (udrv sends
 * SGLs on a fabric, adaptive's choice there: xfer.c), PRP entries do not, so
 * for them it is the driver's hint (note_len).  Either way the address is in
 * the PRP1 field.
 */
static uint32_t sqe_data_len(const struct kvc_sqe *s, uint32_t hint)
{
	struct kvc_sgl_desc d;

	if (!(s->flags & KVC_SQE_PSDT_MASK))
		return hint;
	d = kvc_sgl_get(kvc_sqe_cbytes(s) + KVC_SQE_OFF_PRP1);
	return d.addr && d.type == KVC_SGL_DATA_BLOCK ? d.len : 0;
}

/* The data buffer behind a PRP1 of @len bytes: the driver's buffers are contiguous. */
static void *hbuf(struct nvkv_uring *t, const struct kvc_sqe *s, uint32_t len)
{
	uint64_t a = kvc_sqe_prp1(s);

	if (!len)
		return NULL;
	if (!a || a >= t->t.mem_size || len > t->t.mem_size - a)
		return NULL;
	return t->t.mem + a;
}

/* ---- admin ------------------------------------------------------------------------------ */

static uint16_t create_sq(struct nvkv_uring *t, uint16_t qid, uint16_t size, uint64_t addr)
{
	struct io_uring_params p;
	struct ur_q *q;
	int rc;

	if (t->q[qid] || t->cq[qid].size != size)
		return KVC_STATUS(1, 0x01); /* Invalid Queue Identifier */
	q = q_new(qid, size);
	if (!q)
		return KVC_STATUS(0, 0x06);
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
	if (t->sqpoll) {
		p.flags |= IORING_SETUP_SQPOLL;
		p.sq_thread_idle = UR_SQPOLL_IDLE_MS;
	}
	rc = io_uring_queue_init_params(size, &q->ring, &p);
	if (rc) {
		q_free(q);
		return KVC_STATUS(0, 0x06);
	}
	q->ring_ok = true;
	if (io_uring_register_eventfd(&q->ring, t->efd)) {
		q_free(q);
		return KVC_STATUS(0, 0x06);
	}
	q->sq_addr = addr;
	q->cq_addr = t->cq[qid].addr;
	pthread_rwlock_wrlock(&t->qlock);
	__atomic_store_n(&t->q[qid], q, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&t->qlock);
	return 0;
}

static uint16_t delete_sq(struct nvkv_uring *t, uint16_t qid)
{
	struct ur_q *q = t->q[qid];

	if (!q)
		return KVC_STATUS(1, 0x01);
	/* No other thread reaps it or submits its waiting SQEs any more. */
	pthread_rwlock_wrlock(&t->qlock);
	__atomic_store_n(&t->q[qid], NULL, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&t->qlock);
	/* The driver deletes a queue with nothing in flight; the kernel keeps
	 * the pages of anything still pinned until it completes. */
	q_free(q);
	return 0;
}

/* Commands about queues: the kernel's queues are not ours to shape. */
static bool admin_local(struct nvkv_uring *t, const struct kvc_sqe *s, uint16_t *st, uint32_t *dw0)
{
	uint32_t dw10 = kvc_sqe_dw(s, 10), dw11 = kvc_sqe_dw(s, 11), n;
	uint16_t qid = (uint16_t)dw10, size = (uint16_t)((dw10 >> 16) + 1);

	*dw0 = 0;
	if (s->opc == KVC_ADM_SET_FEATURES && (dw10 & 0xff) == KVC_FEAT_NUM_QUEUES) {
		n = (dw11 & 0xffff) < NVKV_MAX_QID - 1 ? (dw11 & 0xffff) : NVKV_MAX_QID - 2;
		*dw0 = n | n << 16;
		*st = 0;
		return true;
	}
	if (s->opc != KVC_ADM_CREATE_CQ && s->opc != KVC_ADM_CREATE_SQ &&
	    s->opc != KVC_ADM_DELETE_CQ && s->opc != KVC_ADM_DELETE_SQ)
		return false;
	*st = KVC_STATUS(1, 0x01);
	if (!qid || qid > NVKV_MAX_QID)
		return true;
	switch (s->opc) {
	case KVC_ADM_CREATE_CQ:
		t->cq[qid].addr = kvc_sqe_prp1(s);
		t->cq[qid].size = size;
		*st = 0;
		break;
	case KVC_ADM_DELETE_CQ:
		t->cq[qid].size = 0;
		*st = 0;
		break;
	case KVC_ADM_CREATE_SQ:
		*st = (dw11 >> 16) == qid ? create_sq(t, qid, size, kvc_sqe_prp1(s)) : *st;
		break;
	case KVC_ADM_DELETE_SQ:
		*st = delete_sq(t, qid);
		break;
	}
	return true;
}

/* One admin command through the controller's char device; returns its status. */
static uint16_t admin_ioctl(struct nvkv_uring *t, const struct kvc_sqe *s, uint32_t len,
			    uint32_t *dw0, int *err)
{
	struct nvme_admin_cmd c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.opcode = s->opc;
	c.nsid = kvc_sqe_nsid(s);
	c.cdw2 = kvc_sqe_dw(s, 2);
	c.cdw3 = kvc_sqe_dw(s, 3);
	c.cdw10 = kvc_sqe_dw(s, 10);
	c.cdw11 = kvc_sqe_dw(s, 11);
	c.cdw12 = kvc_sqe_dw(s, 12);
	c.cdw13 = kvc_sqe_dw(s, 13);
	c.cdw14 = kvc_sqe_dw(s, 14);
	c.cdw15 = kvc_sqe_dw(s, 15);
	if (len) {
		void *b = hbuf(t, s, len);

		if (!b)
			return KVC_STATUS(0, 0x04); /* Data Transfer Error */
		c.addr = (uint64_t)(uintptr_t)b;
		c.data_len = len;
	}
	rc = ioctl(t->ctrl_fd, NVME_IOCTL_ADMIN_CMD, &c);
	*dw0 = c.result;
	if (rc < 0) {
		*err = -errno;
		if (errno == ENODEV || errno == ENXIO)
			__atomic_store_n(&t->dead, -ENODEV, __ATOMIC_RELEASE);
		return UR_ERR_STATUS;
	}
	return (uint16_t)(rc & 0x7fff);
}

static void admin_doorbell(struct nvkv_uring *t, struct ur_q *q, uint32_t tail)
{
	pthread_mutex_lock(&q->lock);
	while (q->sq_head != tail) {
		uint32_t slot = q->sq_head, dw0 = 0, len = q->slot_len[slot];
		struct kvc_sqe s = ((struct kvc_sqe *)(t->t.mem + q->sq_addr))[slot];
		uint16_t st, cid = kvc_sqe_cid(&s);
		int err = 0;

		q->slot_len[slot] = 0;
		q->sq_head = (slot + 1) % q->size;
		if (!admin_local(t, &s, &st, &dw0))
			st = admin_ioctl(t, &s, len, &dw0, &err);
		if (cid < q->size)
			q->err[cid] = err;
		post_cqe(t, q, cid, dw0, 0, st);
	}
	pthread_mutex_unlock(&q->lock);
}

/* ---- I/O: the local SQ onto the ring ------------------------------------------------------ */

/*
 * The command as NVME_URING_CMD_IO takes it: the kernel copies CDW2-3 and
 * CDW10-15 and builds MPTR/DPTR itself, so CDW4-9 of the driver's SQE (its
 * PRP entries) stay here; the buffer goes as addr/data_len.  NSID: the char
 * device's own (the kernel refuses any other).
 */
static void prep_cmd(struct nvkv_uring *t, struct io_uring_sqe *e, const struct kvc_sqe *s,
		     void *buf, uint32_t len)
{
	struct nvme_uring_cmd *c = (struct nvme_uring_cmd *)e->cmd;

	io_uring_prep_rw(IORING_OP_URING_CMD, e, t->ns_fd, NULL, 0, 0);
	e->cmd_op = NVME_URING_CMD_IO;
	memset(c, 0, sizeof(*c));
	c->opcode = s->opc;
	c->nsid = t->nsid;
	c->cdw2 = kvc_sqe_dw(s, 2);
	c->cdw3 = kvc_sqe_dw(s, 3);
	c->cdw10 = kvc_sqe_dw(s, 10);
	c->cdw11 = kvc_sqe_dw(s, 11);
	c->cdw12 = kvc_sqe_dw(s, 12);
	c->cdw13 = kvc_sqe_dw(s, 13);
	c->cdw14 = kvc_sqe_dw(s, 14);
	c->cdw15 = kvc_sqe_dw(s, 15);
	c->addr = (uint64_t)(uintptr_t)buf;
	c->data_len = buf ? len : 0;
	io_uring_sqe_set_data64(e, kvc_sqe_cid(s));
}

static bool is_head(uint8_t opc)
{
	return opc == KVC_BS_STORE || opc == KVC_BS_STORE_PRP;
}

/* The SQE in @q's local SQ at @slot. */
static const struct kvc_sqe *local_sqe(struct nvkv_uring *t, const struct ur_q *q, uint32_t slot)
{
	return (const struct kvc_sqe *)(t->t.mem + q->sq_addr) + slot % q->size;
}

/* Whether the SQEs up to @tail hold a BandSlim command. */
static bool has_bandslim(struct nvkv_uring *t, const struct ur_q *q, uint32_t tail)
{
	uint32_t i;

	for (i = q->sq_head; i != tail; i = (i + 1) % q->size)
		if (is_head(local_sqe(t, q, i)->opc) || local_sqe(t, q, i)->opc == KVC_BS_XFER)
			return true;
	return false;
}

/*
 * A free SQE.  Without SQPOLL io_doorbell() submits all it queues, so there
 * is always one; with SQPOLL the kernel thread may not have taken the last
 * batch yet: wake it and wait.
 */
static struct io_uring_sqe *get_sqe(struct ur_q *q)
{
	struct io_uring_sqe *e;
	unsigned int i;

	for (i = 0; i < 100000; i++) {
		e = io_uring_get_sqe(&q->ring);
		if (e)
			return e;
		io_uring_submit(&q->ring);
		sched_yield();
	}
	return NULL;
}

/* Hand the queued SQEs to the kernel; with SQPOLL, @wait until its thread has issued them. */
static void flush(struct nvkv_uring *t, struct ur_q *q, unsigned int *queued, bool wait)
{
	unsigned int i;
	int rc;

	if (!*queued)
		return;
	*queued = 0;
	rc = io_uring_submit(&q->ring);
	if (rc < 0)
		__atomic_store_n(&t->dead, rc, __ATOMIC_RELEASE);
	for (i = 0; wait && t->sqpoll && i < 100000 && io_uring_sq_ready(&q->ring); i++)
		sched_yield();
}

/*
 * Whether the SQE at @slot belongs to a BandSlim sequence (a head followed
 * by transfers): the device takes a sequence's commands only in order and
 * one sequence per queue at a time.  Linux 6.1 issues the requests of one
 * plugged io_uring_enter (more than two SQEs) in reverse order, so a
 * sequence goes alone, at most two SQEs per enter (tests/guest/
 * test_guest_uring.sh, the async suite, fails otherwise).
 */
static bool in_sequence(struct nvkv_uring *t, const struct ur_q *q, uint32_t slot, uint32_t tail)
{
	uint32_t next = (slot + 1) % q->size;

	if (local_sqe(t, q, slot)->opc == KVC_BS_XFER)
		return true;
	return is_head(local_sqe(t, q, slot)->opc) && next != tail &&
	       local_sqe(t, q, next)->opc == KVC_BS_XFER;
}

/* SQEs from @slot on that go to the kernel together: a BandSlim sequence, or one command. */
static uint32_t group_len(struct nvkv_uring *t, const struct ur_q *q, uint32_t slot, uint32_t tail)
{
	uint32_t n = 1;

	if (!in_sequence(t, q, slot, tail))
		return 1;
	for (slot = (slot + 1) % q->size; slot != tail; slot = (slot + 1) % q->size, n++)
		if (local_sqe(t, q, slot)->opc != KVC_BS_XFER)
			break;
	return n;
}

/* One SQE of the local SQ onto the ring (q->lock held); false when it failed at once. */
static bool queue_one(struct nvkv_uring *t, struct ur_q *q)
{
	uint32_t slot = q->sq_head;
	const struct kvc_sqe *s = local_sqe(t, q, slot);
	uint32_t len = sqe_data_len(s, q->slot_len[slot]);
	uint16_t cid = kvc_sqe_cid(s);
	struct io_uring_sqe *e;
	void *buf = hbuf(t, s, len);

	q->slot_len[slot] = 0;
	q->sq_head = (slot + 1) % q->size;
	e = cid < q->size ? get_sqe(q) : NULL;
	if (!e || (len && !buf)) {
		post_cqe(t, q, cid, 0, 0, e ? KVC_STATUS(0, 0x04) : KVC_STATUS(0, 0x06));
		return false;
	}
	q->err[cid] = 0;
	prep_cmd(t, e, s, buf, len);
	__atomic_fetch_add(&t->inflight, 1, __ATOMIC_RELAXED);
	return true;
}

/*
 * The SQEs up to the last doorbell, as far as the kernel has tags (q->lock
 * held).  Single commands go in one io_uring_enter; a BandSlim sequence
 * goes alone and whole, two SQEs per enter (see in_sequence()).
 */
static void submit_pending(struct nvkv_uring *t, struct ur_q *q)
{
	unsigned int queued = 0;
	bool seq = has_bandslim(t, q, q->sq_db);

	if (seq)
		pthread_mutex_lock(&t->seq_lock);
	while (q->sq_head != q->sq_db) {
		uint32_t n = group_len(t, q, q->sq_head, q->sq_db), i;

		if (__atomic_load_n(&t->inflight, __ATOMIC_RELAXED) + (int)queued + (int)n >
		    t->max_inflight)
			break; /* reap() comes back for the rest */
		if (n == 1) {
			queued += queue_one(t, q);
			continue;
		}
		flush(t, q, &queued, true); /* what came before goes first */
		for (i = 0; i < n; i++) {
			queued += queue_one(t, q);
			if (queued == 2 || i == n - 1)
				flush(t, q, &queued, true);
		}
	}
	flush(t, q, &queued, seq);
	if (seq)
		pthread_mutex_unlock(&t->seq_lock);
}

static void io_doorbell(struct nvkv_uring *t, struct ur_q *q, uint32_t tail)
{
	pthread_mutex_lock(&q->lock);
	q->sq_db = tail;
	submit_pending(t, q);
	pthread_mutex_unlock(&q->lock);
}

/* Move @q's ring completions into its local CQ. */
static void reap(struct nvkv_uring *t, struct ur_q *q)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	if (pthread_mutex_trylock(&q->lock))
		return; /* its owner is submitting or another thread reaps */
	io_uring_for_each_cqe(&q->ring, head, cqe)
	{
		uint16_t cid = (uint16_t)cqe->user_data, st = 0;
		uint64_t res = cqe->big_cqe[0];

		if (cqe->res < 0) {
			st = UR_ERR_STATUS;
			if (cid < q->size)
				q->err[cid] = cqe->res;
			if (cqe->res == -ENODEV || cqe->res == -ENXIO)
				__atomic_store_n(&t->dead, -ENODEV, __ATOMIC_RELEASE);
		} else {
			st = (uint16_t)(cqe->res & 0x7fff);
		}
		post_cqe(t, q, cid, (uint32_t)res, (uint32_t)(res >> 32), st);
		n++;
	}
	io_uring_cq_advance(&q->ring, n);
	__atomic_fetch_sub(&t->inflight, (int)n, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&q->lock);
}

/* ---- transport ops ------------------------------------------------------------------------- */

static uint32_t ur_reg_read(struct nvkv_transport *tp, uint32_t off)
{
	struct nvkv_uring *t = ur_of(tp);
	uint32_t v32;

	switch (off) {
	case KVC_REG_CAP:
		return (uint32_t)t->cap;
	case KVC_REG_CAP + 4:
		return (uint32_t)(t->cap >> 32);
	case KVC_REG_VS:
		return 0x00010400; /* 1.4 */
	case KVC_REG_CC:
		return t->cc;
	case KVC_REG_CSTS:
		return t->csts;
	}
	return nvkv_aq_regs_read(&t->aq, off, &v32) ? v32 : 0;
}

static void set_cc(struct nvkv_uring *t, uint32_t v)
{
	struct ur_q *q = t->q[0];

	if ((v & KVC_CC_EN) && !(t->cc & KVC_CC_EN)) {
		uint32_t size = KVC_AQA_ASQS(t->aq.aqa) + 1;
		struct ur_q *n = q_new(0, size);

		if (!n) {
			t->csts |= KVC_CSTS_CFS;
			return;
		}
		n->sq_addr = t->aq.asq;
		n->cq_addr = t->aq.acq;
		t->q[0] = n;
		q_free(q);
		t->csts = KVC_CSTS_RDY;
	} else if (!(v & KVC_CC_EN)) {
		t->csts = 0;
	}
	if (v & KVC_CC_SHN_MASK)
		t->csts = (t->csts & ~KVC_CSTS_SHST_MASK) | KVC_CSTS_SHST_COMPLETE;
	t->cc = v;
}

static void ur_reg_write(struct nvkv_transport *tp, uint32_t off, uint32_t v)
{
	struct nvkv_uring *t = ur_of(tp);
	struct ur_q *q;

	if (off >= KVC_REG_DBS) {
		uint32_t idx = (off - KVC_REG_DBS) / 4;

		q = idx / 2 <= NVKV_MAX_QID ? __atomic_load_n(&t->q[idx / 2], __ATOMIC_ACQUIRE)
					    : NULL;
		if (!q || (idx & 1) || v >= q->size)
			return;
		if (q->qid)
			io_doorbell(t, q, v);
		else if (t->csts & KVC_CSTS_RDY)
			admin_doorbell(t, q, v);
		return;
	}
	switch (off) {
	case KVC_REG_CC:
		set_cc(t, v);
		return;
	default:
		nvkv_aq_regs_write(&t->aq, off, v);
		return;
	}
}

static void ur_kick(struct nvkv_transport *tp)
{
	(void)tp; /* a doorbell write submits at once */
}

static bool ur_dead(struct nvkv_transport *tp)
{
	struct nvkv_uring *t = ur_of(tp);
	struct stat st;

	if (__atomic_load_n(&t->dead, __ATOMIC_ACQUIRE))
		return true;
	/* A controller that went away takes its char devices with it. */
	if (stat(t->path, &st)) {
		__atomic_store_n(&t->dead, -ENODEV, __ATOMIC_RELEASE);
		return true;
	}
	return false;
}

static void ur_irq_arm(struct nvkv_transport *tp)
{
	__atomic_fetch_add(&ur_of(tp)->waiting, 1, __ATOMIC_SEQ_CST);
}

static void ur_irq_disarm(struct nvkv_transport *tp)
{
	__atomic_fetch_sub(&ur_of(tp)->waiting, 1, __ATOMIC_SEQ_CST);
}

static void ur_irq_sleep(struct nvkv_transport *tp, int timeout_ms)
{
	struct nvkv_uring *t = ur_of(tp);
	struct pollfd p = { .fd = t->efd, .events = POLLIN };
	uint64_t v;

	/* Another thread may take the wake-up and reap our completions into
	 * our CQ: the driver's short timeout bounds that delay. */
	if (poll(&p, 1, timeout_ms) > 0 && read(t->efd, &v, sizeof(v)) < 0) {
		/* another waiter took it */
	}
}

/* Before the driver reads any CQ: bring the rings' completions over. */
static void ur_cq_enter(struct nvkv_transport *tp)
{
	struct nvkv_uring *t = ur_of(tp);
	unsigned int i;

	pthread_rwlock_rdlock(&t->qlock);
	for (i = 1; i <= NVKV_MAX_QID; i++) {
		struct ur_q *q = __atomic_load_n(&t->q[i], __ATOMIC_ACQUIRE);

		if (q && io_uring_cq_ready(&q->ring))
			reap(t, q);
	}
	/* Tags freed: SQEs that waited for them go now. */
	for (i = 1; i <= NVKV_MAX_QID; i++) {
		struct ur_q *q = __atomic_load_n(&t->q[i], __ATOMIC_ACQUIRE);

		if (!q || __atomic_load_n(&q->sq_head, __ATOMIC_RELAXED) ==
				  __atomic_load_n(&q->sq_db, __ATOMIC_RELAXED))
			continue;
		if (pthread_mutex_trylock(&q->lock))
			continue;
		submit_pending(t, q);
		pthread_mutex_unlock(&q->lock);
	}
	pthread_rwlock_unlock(&t->qlock);
}

static int ur_cqe_errno(struct nvkv_transport *tp, uint16_t qid, uint16_t cid)
{
	struct nvkv_uring *t = ur_of(tp);
	struct ur_q *q = qid <= NVKV_MAX_QID ? __atomic_load_n(&t->q[qid], __ATOMIC_ACQUIRE) : NULL;

	return q && cid < q->size ? __atomic_exchange_n(&q->err[cid], 0, __ATOMIC_ACQ_REL) : 0;
}

static void ur_note_len(struct nvkv_transport *tp, uint16_t qid, uint32_t slot, uint32_t len)
{
	struct nvkv_uring *t = ur_of(tp);
	struct ur_q *q = qid <= NVKV_MAX_QID ? __atomic_load_n(&t->q[qid], __ATOMIC_ACQUIRE) : NULL;

	if (q && slot < q->size)
		q->slot_len[slot] = len;
}

static void ur_close(struct nvkv_transport *tp)
{
	struct nvkv_uring *t = ur_of(tp);
	int i;

	for (i = 0; i <= NVKV_MAX_QID; i++)
		q_free(t->q[i]);
	if (t->efd >= 0)
		close(t->efd);
	if (t->ns_fd >= 0)
		close(t->ns_fd);
	if (t->ctrl_fd >= 0)
		close(t->ctrl_fd);
	if (t->t.mem)
		munmap(t->t.mem, t->t.mem_size);
	pthread_rwlock_destroy(&t->qlock);
	pthread_mutex_destroy(&t->seq_lock);
	free(t);
}

static const struct nvkv_transport_ops ur_ops = {
	.name = "uring",
	.close = ur_close,
	.reg_read = ur_reg_read,
	.reg_write = ur_reg_write,
	.kick = ur_kick,
	.dead = ur_dead,
	.irq_arm = ur_irq_arm,
	.irq_disarm = ur_irq_disarm,
	.irq_sleep = ur_irq_sleep,
	.cq_enter = ur_cq_enter,
	.note_len = ur_note_len,
	.cqe_errno = ur_cqe_errno,
};

/* ---- finding the char devices ------------------------------------------------------------ */

bool nvkv_uring_spec(const char *device)
{
	const char *p = !strncmp(device, "/dev/", 5) ? device + 5 : device;

	if (!strncmp(p, "ng", 2) && isdigit((unsigned char)p[2]))
		return true;
	if (!strncmp(p, "nvme", 4) && isdigit((unsigned char)p[4]))
		return true;
	return !strncmp(device, "nqn.", 4);
}

/* The CSI of namespace @nsid from its descriptor list (CNS 03h). */
static int ns_csi(int ctrl_fd, uint32_t nsid, uint8_t *csi)
{
	uint8_t buf[KVC_IDENTIFY_SIZE] __attribute__((aligned(8)));
	struct nvme_admin_cmd c = { .opcode = KVC_ADM_IDENTIFY,
				    .nsid = nsid,
				    .addr = (uint64_t)(uintptr_t)buf,
				    .data_len = sizeof(buf),
				    .cdw10 = KVC_CNS_NS_DESC_LIST };
	int rc = ioctl(ctrl_fd, NVME_IOCTL_ADMIN_CMD, &c);

	if (rc)
		return rc < 0 ? -errno : rc;
	return nvkv_ns_desc_csi(buf, csi);
}

/* "nvmeX" of the subsystem whose NQN is @nqn (sysfs). */
static int ctrl_of_nqn(const char *nqn, char *ctrl, size_t n)
{
	DIR *dir = opendir("/sys/class/nvme");
	struct dirent *e;
	char path[300], got[256];
	int rc = -ENODEV;

	if (!dir)
		return -ENODEV;
	while ((e = readdir(dir))) {
		FILE *f;

		if (strncmp(e->d_name, "nvme", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/class/nvme/%s/subsysnqn", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(got, sizeof(got), f)) {
			got[strcspn(got, "\n")] = 0;
			if (!strcmp(got, nqn)) {
				snprintf(ctrl, n, "%s", e->d_name);
				rc = 0;
			}
		}
		fclose(f);
		if (!rc)
			break;
	}
	closedir(dir);
	return rc;
}

/* The KV namespace's /dev/ngXnY of controller "nvmeX". */
static int kv_node_of(int ctrl_fd, const char *ctrl, char *node, size_t n)
{
	unsigned int y;

	for (y = 1; y <= 64; y++) {
		char p[300];
		int fd, nsid;
		uint8_t csi;

		snprintf(p, sizeof(p), "/dev/ng%.32sn%u", ctrl + 4, y);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		nsid = ioctl(fd, NVME_IOCTL_ID);
		close(fd);
		if (nsid > 0 && !ns_csi(ctrl_fd, (uint32_t)nsid, &csi) && csi == KVC_CSI_KV) {
			snprintf(node, n, "%.64s", p);
			return 0;
		}
	}
	return -ENODEV;
}

struct ur_spec {
	char ctrl[256]; /* nvmeX */
	char node[272]; /* /dev/ngXnY, empty: find the KV namespace */
	bool sqpoll;
};

static int parse_spec(const char *spec, struct ur_spec *s)
{
	const char *q = strchr(spec, '?');
	size_t len = q ? (size_t)(q - spec) : strlen(spec);
	const char *p;
	char name[256];
	int rc;

	memset(s, 0, sizeof(*s));
	if (len >= sizeof(name))
		return -EINVAL;
	memcpy(name, spec, len);
	name[len] = 0;
	if (q) {
		if (strcmp(q + 1, "sqpoll"))
			return -EINVAL;
		s->sqpoll = true;
	}
	if (!strncmp(name, "nqn.", 4))
		return ctrl_of_nqn(name, s->ctrl, sizeof(s->ctrl));
	p = !strncmp(name, "/dev/", 5) ? name + 5 : name;
	if (!strncmp(p, "nvme", 4)) {
		if (strspn(p + 4, "0123456789") != strlen(p + 4))
			return -EINVAL;
		snprintf(s->ctrl, sizeof(s->ctrl), "%s", p);
		return 0;
	}
	/* ngXnY: controller X */
	rc = (int)strspn(p + 2, "0123456789");
	if (rc < 1 || p[2 + rc] != 'n' || strspn(p + 3 + rc, "0123456789") != strlen(p + 3 + rc))
		return -EINVAL;
	snprintf(s->ctrl, sizeof(s->ctrl), "nvme%.*s", rc, p + 2);
	snprintf(s->node, sizeof(s->node), "/dev/%s", p);
	return 0;
}

/* The kernel's tags per I/O queue of controller @ctrl (sysfs sqsize), or a safe guess. */
static int kernel_tags(const char *ctrl)
{
	char p[300];
	FILE *f;
	int n = 0;

	snprintf(p, sizeof(p), "/sys/class/nvme/%s/sqsize", ctrl);
	f = fopen(p, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n >= 2 ? n : 32;
}

static int open_fds(struct nvkv_uring *t, struct ur_spec *s)
{
	char p[300];
	int nsid;

	snprintf(p, sizeof(p), "/dev/%s", s->ctrl);
	t->ctrl_fd = open(p, O_RDWR | O_CLOEXEC);
	if (t->ctrl_fd < 0)
		return -errno;
	if (!s->node[0] && kv_node_of(t->ctrl_fd, s->ctrl, s->node, sizeof(s->node)))
		return -ENXIO; /* the controller has no KV namespace */
	snprintf(t->path, sizeof(t->path), "%s", s->node);
	t->ns_fd = open(s->node, O_RDWR | O_CLOEXEC);
	if (t->ns_fd < 0)
		return -errno;
	nsid = ioctl(t->ns_fd, NVME_IOCTL_ID);
	if (nsid <= 0)
		return nsid < 0 ? -errno : -ENOTTY;
	t->nsid = (uint32_t)nsid;
	return 0;
}

/**
 * nvkv_uring_open() - a controller through the kernel's NVMe passthrough
 * @spec: "/dev/ngXnY", "ngXnY", "nvmeX" (its KV namespace), or a subsystem
 *        NQN (its first controller's KV namespace); "?sqpoll" appended asks
 *        for a kernel submission thread per ring.
 * @o: options (host memory for the driver's queues and buffers)
 * @out: the transport
 *
 * Return: 0; -EINVAL malformed @spec; -ENOENT no such node; -ENODEV no
 * controller with that NQN; -ENXIO the controller has no KV namespace;
 * -EACCES/-EPERM not permitted (passthrough needs CAP_SYS_ADMIN on Linux
 * 6.1); -ENOTTY not an NVMe char device; -ENOMEM.
 */
int nvkv_uring_open(const char *spec, const struct nvkv_opts *o, struct nvkv_transport **out)
{
	struct nvkv_uring *t = calloc(1, sizeof(*t));
	struct ur_spec s;
	uint8_t csi;
	int rc;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->ctrl_fd = t->ns_fd = t->efd = -1;
	pthread_rwlock_init(&t->qlock, NULL);
	pthread_mutex_init(&t->seq_lock, NULL);
	t->t.ops = &ur_ops;
	t->t.fabric = true; /* DPTR is the kernel's: no ByteExpress, BandSlim in CDW2-3/10-15 */
	t->t.kernel_sq = true;
	rc = parse_spec(spec, &s);
	if (!rc)
		rc = open_fds(t, &s);
	if (rc)
		goto fail;
	/* Admin passthrough needs CAP_SYS_ADMIN: find out now, with a harmless Identify. */
	rc = ns_csi(t->ctrl_fd, t->nsid, &csi);
	if (rc < 0)
		goto fail;
	t->sqpoll = s.sqpoll;
	t->max_inflight = kernel_tags(s.ctrl);
	/* A queue's BandSlim sequence must fit in the tags at once: no deeper queues. */
	t->cap = ((uint32_t)t->max_inflight < UR_MQES ? (uint32_t)t->max_inflight : UR_MQES - 1) |
		 2ull << KVC_CAP_TO_SHIFT | KVC_CAP_CSS_NVM | KVC_CAP_CSS_IOCS;
	t->t.mem_size = (o->host_mem + NVKV_PAGE - 1) / NVKV_PAGE * NVKV_PAGE;
	/* Zero pages on first touch: a guest under TCG pays dearly for clearing 64 MiB. */
	t->t.mem = mmap(NULL, t->t.mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (t->t.mem == MAP_FAILED)
		t->t.mem = NULL;
	t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rc = -ENOMEM;
	if (!t->t.mem || t->efd < 0)
		goto fail;
	*out = &t->t;
	return 0;
fail:
	ur_close(&t->t);
	return rc;
}
