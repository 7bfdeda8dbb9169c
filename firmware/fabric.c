// SPDX-License-Identifier: MIT
/*
 * Fabric controllers (NVMe over Fabrics, used by the NVMe/TCP target): the
 * same controller as over PCIe, but commands arrive as capsules the
 * transport hands over (fw_ctrl_submit) into a ring per SQ that the
 * controller drains in fw_ctrl_poll, and completions leave through the host
 * interface's post_cqe.  Connect creates the controller (admin queue) or an
 * I/O queue pair; Property Get/Set replace the BAR; Keep Alive is enforced
 * with KATO, traffic based (TBKAS) and with a grace (fw_kato_deadline_ns;
 * fw_ctrl_expired, the transport tears the controller down).
 * The PCIe model still charges every command as if it crossed the link.
 * This module and the controller call each other (Connect creates
 * controllers; the controller runs Fabrics commands here).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "fw_internal.h"

/* Command dwords of Fabrics commands (byte offsets in the SQE). */
#define OFF_FCTYPE 4
#define OFF_ATTRIB 40
#define OFF_RECFMT 40
#define OFF_QID 42
#define OFF_SQSIZE 44
#define OFF_KATO 48
#define OFF_POFST 44
#define OFF_PVAL 48

/* Connect data (1024 bytes). */
#define CD_HOSTID 0
#define CD_CNTLID 16
#define CD_SUBNQN 256
#define CD_HOSTNQN 512

#define SC_CONNECT_INVALID_PARAM 0x82
#define SC_CONNECT_CTRL_BUSY 0x83
#define IPO_SQE(off) ((uint32_t)(off))
#define IPO_DATA(off) ((1u << 16) | (uint32_t)(off))

uint32_t fw_subsys_bar_size(const struct fw_subsys *s)
{
	return fw_bar_size(&s->cfg);
}

uint32_t fw_subsys_mdts_bytes(const struct fw_subsys *s)
{
	return fw_mdts_bytes(&s->cfg);
}

bool fw_subsys_cntlid_used(const struct fw_subsys *s, uint16_t id)
{
	const struct fw_ctrl *c;

	for (c = s->ctrls; c; c = c->next)
		if (c->cntlid == id)
			return true;
	return false;
}

uint16_t fw_subsys_free_cntlid(const struct fw_subsys *s)
{
	uint16_t id;

	for (id = 1; id < FW_CNTLID_MAX; id++) {
		const struct fw_ctrl *c;

		for (c = s->ctrls; c && c->cntlid != id; c = c->next)
			;
		if (!c)
			return id;
	}
	return 0;
}

void fw_subsys_fabric_bytes(struct fw_subsys *s, uint64_t rx, uint64_t tx)
{
	s->st.fabric_rx += rx;
	s->st.fabric_tx += tx;
}

static const uint8_t *sqe_b(const struct kvc_sqe *sqe)
{
	return kvc_sqe_cbytes(sqe);
}

/* Create the capsule ring and the queue pair @qid, holding @sqsize + 1
 * commands (@sqsize is 0's based, as in Connect). */
static int queue_pair(struct fw_ctrl *c, uint16_t qid, uint16_t sqsize)
{
	uint32_t size = (uint32_t)sqsize + 2; /* one slot tells full from empty */

	c->ring[qid] = fw_calloc(size, sizeof(struct kvc_sqe));
	if (!c->ring[qid])
		return -ENOMEM;
	c->cq[qid] = (struct fw_cq){ .valid = true, .ien = true, .size = size, .nsq = 1 };
	c->sq[qid] = (struct fw_sq){ .valid = true, .cqid = qid, .size = size };
	return 0;
}

static uint16_t bad_param(uint32_t *dw0, uint32_t ipo)
{
	*dw0 = ipo;
	return KVC_ST_CMD_DNR(SC_CONNECT_INVALID_PARAM);
}

static uint16_t connect_admin(struct fw_subsys *s, const struct fw_host_if *hif, const uint8_t *d,
			      uint16_t sqsize, uint32_t kato, struct fw_ctrl **out, uint32_t *dw0)
{
	struct fw_ctrl *c;
	uint16_t id;

	if (kvc_get_le16(d + CD_CNTLID) != 0xffff)
		return bad_param(dw0, IPO_DATA(CD_CNTLID)); /* dynamic model only */
	if (!hif->post_cqe || !hif->dma_read || !hif->dma_write ||
	    hif->bar_size < fw_bar_size(&s->cfg))
		return FW_ST(KVC_SC_INTERNAL);
	id = fw_subsys_free_cntlid(s);
	if (!id || fw_ctrl_create(s, hif, id, &c))
		return KVC_ST_CMD_DNR(SC_CONNECT_CTRL_BUSY);
	c->fabric = true;
	c->fabric_exec = fw_fabric_exec;
	if (queue_pair(c, 0, sqsize)) {
		fw_ctrl_destroy(c);
		return KVC_ST_CMD_DNR(SC_CONNECT_CTRL_BUSY);
	}
	memcpy(c->hostid, d + CD_HOSTID, sizeof(c->hostid));
	c->feat_kato = kato;
	c->ka_last = fw_now(s);
	*out = c;
	*dw0 = c->cntlid; /* bits 17:16 zero: no authentication */
	return 0;
}

static uint16_t connect_io(struct fw_subsys *s, const uint8_t *d, uint16_t qid, uint16_t sqsize,
			   struct fw_ctrl **out, uint32_t *dw0)
{
	uint16_t id = kvc_get_le16(d + CD_CNTLID);
	struct fw_ctrl *c;

	for (c = s->ctrls; c && c->cntlid != id; c = c->next)
		;
	if (!c || !c->fabric || c->ka_expired)
		return bad_param(dw0, IPO_DATA(CD_CNTLID));
	if (memcmp(c->hostid, d + CD_HOSTID, sizeof(c->hostid)))
		return bad_param(dw0, IPO_DATA(CD_HOSTID));
	if (!(c->csts & KVC_CSTS_RDY) || (c->csts & (KVC_CSTS_CFS | KVC_CSTS_SHST_MASK)))
		return FW_ST(KVC_SC_CMD_SEQ_ERROR);
	if (qid > c->nr_ioq)
		return bad_param(dw0, IPO_SQE(OFF_QID));
	if (c->sq[qid].valid)
		return FW_ST(KVC_SC_CMD_SEQ_ERROR);
	if (queue_pair(c, qid, sqsize))
		return KVC_ST_CMD_DNR(SC_CONNECT_CTRL_BUSY);
	c->ka_traffic = true; /* a command of this controller (TBKAS) */
	*out = c;
	*dw0 = 0;
	return 0;
}

uint16_t fw_fabric_connect(struct fw_subsys *s, const struct fw_host_if *hif,
			   const struct kvc_sqe *sqe, const void *data, uint32_t len,
			   struct fw_ctrl **ctrl, uint32_t *dw0)
{
	const uint8_t *b = sqe_b(sqe), *d = data;
	uint16_t qid = kvc_get_le16(b + OFF_QID), sqsize = kvc_get_le16(b + OFF_SQSIZE);
	char nqn[257];

	*ctrl = NULL;
	*dw0 = 0;
	if (sqe->opc != KVC_ADM_FABRICS || b[OFF_FCTYPE] != FW_FCTYPE_CONNECT)
		return FW_ST(KVC_SC_CMD_SEQ_ERROR); /* the first capsule must be Connect */
	if (kvc_get_le16(b + OFF_RECFMT) != 0)
		return KVC_ST_CMD_DNR(0x80); /* Incompatible Format */
	if (!d || len < FW_CONNECT_DATA)
		return FW_ST(KVC_SC_INVALID_FIELD);
	if (qid > FW_MAX_IOQ)
		return bad_param(dw0, IPO_SQE(OFF_QID));
	if (sqsize == 0 || sqsize > s->cfg.mqes - 1)
		return bad_param(dw0, IPO_SQE(OFF_SQSIZE));
	fw_subsys_nqn(s, nqn, sizeof(nqn));
	if (strnlen((const char *)d + CD_SUBNQN, 256) == 256 ||
	    strcmp((const char *)d + CD_SUBNQN, nqn))
		return bad_param(dw0, IPO_DATA(CD_SUBNQN));
	if (qid == 0)
		return connect_admin(s, hif, d, sqsize, kvc_get_le32(b + OFF_KATO), ctrl, dw0);
	return connect_io(s, d, qid, sqsize, ctrl, dw0);
}

int fw_ctrl_submit(struct fw_ctrl *c, uint16_t qid, const struct kvc_sqe *sqe)
{
	struct fw_sq *sq;

	if (!c->fabric || qid > FW_MAX_IOQ || !c->sq[qid].valid || !c->ring[qid])
		return -ENOENT;
	sq = &c->sq[qid];
	if ((sq->tail + 1) % sq->size == sq->head)
		return -EAGAIN; /* the host ignored SQHD: more than SQSIZE outstanding */
	c->ring[qid][sq->tail] = *sqe;
	sq->tail = (sq->tail + 1) % sq->size;
	/* Traffic Based Keep Alive (CTRATT.TBKAS): any command restarts the
	 * timer when it arrives, not when its turn in the ring comes; a flag
	 * here, the clock at the next poll (no clock read per command).  Keep
	 * Alive itself takes the clock now.  An expiry the transport has not
	 * acted on yet was judged before this arrival was read (a stall of the
	 * target's thread): the host is alive. */
	if (qid == 0 && sqe->opc == KVC_ADM_KEEP_ALIVE)
		c->ka_last = fw_now(c->s);
	else
		c->ka_traffic = true;
	c->ka_expired = false;
	/* The PCIe model: the SQ tail doorbell a PCIe host rings per command. */
	fw_pcie_add(&c->s->pcie, FW_PK_DOORBELL, kvc_pcie_host_mwr(&c->s->pcie.cfg, 4));
	return 0;
}

void fw_fabric_disconnect(struct fw_ctrl *c, uint16_t qid)
{
	if (!c->fabric || qid == 0 || qid > FW_MAX_IOQ || !c->sq[qid].valid)
		return;
	fw_pend_abort_sq(c, qid); /* completions to a queue that is going: dropped */
	fw_sq_release(c, &c->sq[qid]);
	memset(&c->sq[qid], 0, sizeof(c->sq[qid]));
	memset(&c->cq[qid], 0, sizeof(c->cq[qid]));
	fw_ctrl_release_ring(c, qid);
}

bool fw_ctrl_expired(const struct fw_ctrl *c)
{
	return c->ka_expired;
}

uint16_t fw_ctrl_cntlid(const struct fw_ctrl *c)
{
	return c->cntlid;
}

static uint16_t property_get(struct fw_cmd *cmd)
{
	const uint8_t *b = sqe_b(&cmd->sqe);
	struct fw_ctrl *c = cmd->c;
	uint32_t ofst = kvc_get_le32(b + OFF_POFST);
	bool wide = (b[OFF_ATTRIB] & 7) == 1;
	uint64_t v;

	if ((b[OFF_ATTRIB] & 7) > 1)
		return FW_ST(KVC_SC_INVALID_FIELD);
	switch (ofst) {
	case KVC_REG_CAP:
		v = fw_ctrl_cap(c);
		break;
	case KVC_REG_VS:
		v = KVC_VS(2, 0, 0);
		break;
	case KVC_REG_CC:
		v = c->cc;
		break;
	case KVC_REG_CSTS:
		v = c->csts;
		break;
	default:
		return FW_ST(KVC_SC_INVALID_FIELD);
	}
	if (wide != (ofst == KVC_REG_CAP))
		return FW_ST(KVC_SC_INVALID_FIELD);
	cmd->dw0 = (uint32_t)v;
	cmd->dw1 = (uint32_t)(v >> 32);
	return 0;
}

static uint16_t property_set(struct fw_cmd *cmd)
{
	const uint8_t *b = sqe_b(&cmd->sqe);

	if ((b[OFF_ATTRIB] & 7) != 0 || kvc_get_le32(b + OFF_POFST) != KVC_REG_CC)
		return FW_ST(KVC_SC_INVALID_FIELD);
	fw_ctrl_set_cc(cmd->c, kvc_get_le32(b + OFF_PVAL));
	return 0;
}

uint16_t fw_fabric_exec(struct fw_cmd *cmd)
{
	uint8_t fct = sqe_b(&cmd->sqe)[OFF_FCTYPE];

	if (fct == FW_FCTYPE_CONNECT)
		return FW_ST(KVC_SC_CMD_SEQ_ERROR); /* this queue is connected already */
	if (cmd->sqid != 0)
		return FW_ST(KVC_SC_INVALID_OPCODE);
	if (fct == FW_FCTYPE_PROP_GET)
		return property_get(cmd);
	if (fct == FW_FCTYPE_PROP_SET)
		return property_set(cmd);
	return FW_ST(KVC_SC_INVALID_OPCODE);
}
