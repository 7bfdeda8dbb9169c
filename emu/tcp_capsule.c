// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target: what a CapsuleCmd starts.  The first capsule of a
 * connection must be a Fabrics Connect (an admin queue's makes a fabric
 * controller for a new association, an I/O queue's binds the queue pair);
 * later ones take a command slot and go to the firmware, a write larger than
 * its in-capsule data after an R2T and the H2CData PDUs that answer it (the
 * whole data is collected first, so the firmware never waits for the
 * network).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/tcp.h"
#include "log.h"
#include "tcp_internal.h"

static void on_connect(struct emu_tcp_conn *c, const struct kvc_sqe *sqe, const uint8_t *data,
		       uint32_t dlen)
{
	struct emu_tcp *t = c->t;
	const uint8_t *b = kvc_sqe_cbytes(sqe);
	uint16_t qid = kvc_get_le16(b + 42), sqsize = kvc_get_le16(b + 44), st;
	uint16_t cid = kvc_sqe_cid(sqe);
	struct tassoc *a = NULL, *na = NULL;
	struct fw_ctrl *ctrl = NULL;
	struct tcmd *slots = NULL;
	uint32_t dw0 = 0;

	if (emu_tcp_disc_connect(c, sqe, data, dlen))
		return;
	if (sqe->opc == KVC_ADM_FABRICS && b[4] == FW_FCTYPE_CONNECT && qid == 0) {
		na = emu_tcp_assoc_new(t);
		if (!na) {
			emu_tcp_conn_kill(c, "out of memory");
			return;
		}
	}
	st = fw_fabric_connect(t->s, na ? &na->hif : NULL, sqe, data, dlen, &ctrl, &dw0);
	if (!st && qid) {
		for (a = t->assocs; a && a->ctrl != ctrl; a = a->next)
			;
		if (!a || a->dying || a->q[qid]) { /* not a controller we serve */
			fw_fabric_disconnect(ctrl, qid);
			st = KVC_ST_GENERIC_DNR(KVC_SC_CMD_SEQ_ERROR);
		}
	}
	if (!st) {
		slots = calloc((uint32_t)sqsize + 1, sizeof(*slots));
		if (!slots) {
			if (qid)
				fw_fabric_disconnect(ctrl, qid);
			st = KVC_ST_GENERIC_DNR(KVC_SC_INTERNAL);
		}
	}
	if (st) {
		if (na) {
			fw_ctrl_destroy(qid ? NULL : ctrl);
			free(na->bar);
			free(na);
		}
		emu_log(2, "tcp %s: Connect of queue %u refused (status %#x, DW0 %#x)", c->name,
			qid, st, dw0);
		emu_tcp_reply_status(c, cid, qid, st, dw0);
		return;
	}
	if (na) {
		a = na;
		a->ctrl = ctrl;
		a->next = t->assocs;
		t->assocs = a;
	}
	free(c->slots);
	c->slots = slots;
	c->nslots = (uint32_t)sqsize + 1;
	c->as = a;
	c->qid = qid;
	a->q[qid] = c;
	emu_log(qid ? 3 : 2, "tcp %s: connected %s queue %u of controller %u (sqsize %u)", c->name,
		qid ? "I/O" : "admin", qid, fw_ctrl_cntlid(a->ctrl), sqsize);
	emu_tcp_reply_status(c, cid, qid, 0, dw0);
}

/* Hand the command to the firmware. */
static void submit(struct emu_tcp_conn *c, struct tcmd *m)
{
	int rc = fw_ctrl_submit(c->as->ctrl, c->qid, &m->sqe);

	if (rc == -EAGAIN)
		emu_tcp_fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 0,
			      "more commands than the queue holds");
	else if (rc)
		emu_tcp_conn_kill(c, "its queue is gone (controller reset)");
}

void emu_tcp_on_capsule(struct emu_tcp_conn *c)
{
	const struct kvc_tcp_cmd *pdu = (const void *)c->hbuf;
	struct kvc_sqe sqe = pdu->sqe;
	struct kvc_sgl_desc d = kvc_sgl_get(kvc_sqe_cbytes(&sqe) + KVC_SQE_OFF_PRP1);
	uint8_t psdt = (uint8_t)((sqe.flags & KVC_SQE_PSDT_MASK) >> KVC_SQE_PSDT_SHIFT);
	uint16_t cid = kvc_sqe_cid(&sqe);
	struct tcmd *m = NULL;
	uint32_t i;

	if (c->disc) {
		emu_tcp_disc_exec(c, &sqe);
		return;
	}
	if (!c->as) {
		on_connect(c, &sqe, c->pbuf, c->dlen);
		return;
	}
	if (emu_tcp_slot_of(c, cid)) {
		emu_tcp_fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 0, "command identifier already in use");
		return;
	}
	if (!c->slots[cid % c->nslots].used)
		m = &c->slots[cid % c->nslots];
	for (i = 0; i < c->nslots && !m; i++)
		if (!c->slots[i].used)
			m = &c->slots[i];
	if (m && m != &c->slots[cid % c->nslots]) {
		m->displaced = true;
		c->displaced++;
	}
	if (!m) {
		emu_tcp_fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 0,
			      "more commands than the queue holds");
		return;
	}
	m->used = true;
	m->cid = cid;
	m->c = c;
	m->sqe = sqe;
	if (c->dlen) { /* keep the in-capsule data: the receive buffer is reused */
		m->in = c->pbuf;
		m->in_len = c->dlen;
		m->icd = true;
		c->pbuf = NULL;
	}
	if (psdt == 1 && d.type == KVC_SGL_TRANSPORT_DATA_BLOCK) {
		m->xlen = d.len;
		if ((sqe.opc & KVC_DIR_H2D) && d.len && !m->icd && d.len <= c->t->o.max_xfer) {
			struct kvc_tcp_r2t r;

			m->need_data = true; /* its buffer grows with the data: in_room() */
			memset(&r, 0, sizeof(r));
			r.ch.pdu_type = KVC_TCP_R2T;
			kvc_put_le16(&r.cccid, cid);
			kvc_put_le16(&r.ttag, (uint16_t)(m - c->slots));
			kvc_put_le32(&r.r2to, 0);
			kvc_put_le32(&r.r2tl, d.len);
			emu_tcp_send_pdu(c, &r, sizeof(r), NULL, 0, true);
			return;
		}
	}
	submit(c, m);
}

/*
 * Room for @n more bytes of @m's write data (@n fits its transfer length).
 * The buffer grows with the H2CData that arrive, doubling up to the transfer
 * length: a capsule alone never makes the target allocate its whole transfer
 * (a host could otherwise pin sqsize x max_xfer bytes per connection without
 * sending any data), and the copies stay linear in the data.
 */
static int in_room(struct tcmd *m, uint32_t n)
{
	uint32_t need = m->in_len + n, cap = m->in_cap ? m->in_cap : n;
	uint8_t *p;

	if (need <= m->in_cap)
		return 0;
	while (cap < need)
		cap = cap > m->xlen / 2 ? m->xlen : cap * 2;
	p = realloc(m->in, cap);
	if (!p)
		return -ENOMEM;
	m->in = p;
	m->in_cap = cap;
	return 0;
}

void emu_tcp_on_h2c_data(struct emu_tcp_conn *c)
{
	const struct kvc_tcp_data *h = (const void *)c->hbuf;
	uint16_t ttag = kvc_get_le16(&h->ttag), cccid = kvc_get_le16(&h->cccid);
	uint32_t datao = kvc_get_le32(&h->datao), datal = kvc_get_le32(&h->datal);
	struct tcmd *m = ttag < c->nslots ? &c->slots[ttag] : NULL;

	if (!m || !m->used || !m->need_data || m->cid != cccid) {
		emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 10,
			      "H2CData for an unknown transfer tag");
		return;
	}
	if (datal != c->dlen) {
		emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 16,
			      "H2CData DATAL differs from its data");
		return;
	}
	if (datao != m->in_len || datal > m->xlen - m->in_len) {
		emu_tcp_fatal(c, KVC_TCP_FES_DATA_OUT_OF_RANGE, 12,
			      "H2CData outside the requested range");
		return;
	}
	if (in_room(m, datal)) {
		emu_tcp_conn_kill(c, "out of memory for write data");
		return;
	}
	memcpy(m->in + m->in_len, c->pbuf, datal);
	m->in_len += datal;
	if (m->in_len < m->xlen) {
		if (c->ch.flags & KVC_TCP_F_DATA_LAST)
			emu_tcp_fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 1,
				      "H2CData LAST before all the data");
		return;
	}
	m->need_data = false;
	submit(c, m);
}
