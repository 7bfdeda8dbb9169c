// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target: the discovery controller, served here and not by the
 * firmware.  A Connect to the discovery NQN makes the connection one; it
 * answers Property Get/Set, Identify Controller, Get Log Page 70h (one
 * record: this subsystem on this port), Keep Alive and the Keep Alive Timer
 * feature.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cmdset/tcp.h"
#include "log.h"
#include "tcp_internal.h"

#define DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define DISC_ENTRY 1024

/* Send @len bytes of @data as the read data of @sqe (up to its SGL length),
 * then the response. */
static void disc_reply(struct emu_tcp_conn *c, const struct kvc_sqe *sqe, const void *data,
		       uint32_t len, uint16_t st, uint32_t dw0, uint32_t dw1)
{
	struct kvc_sgl_desc d = kvc_sgl_get(kvc_sqe_cbytes(sqe) + KVC_SQE_OFF_PRP1);
	uint16_t cid = kvc_sqe_cid(sqe);
	struct kvc_cqe cqe;

	if (!st && len && d.type == KVC_SGL_TRANSPORT_DATA_BLOCK) {
		struct kvc_tcp_data h;

		if (len > d.len)
			len = d.len;
		memset(&h, 0, sizeof(h));
		h.ch.pdu_type = KVC_TCP_C2H_DATA;
		h.ch.flags = KVC_TCP_F_DATA_LAST;
		kvc_put_le16(&h.cccid, cid);
		kvc_put_le32(&h.datal, len);
		if (len)
			emu_tcp_send_pdu(c, &h, sizeof(h), data, len, true);
	} else if (!st && len) {
		st = KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD); /* data only by transport SGL */
	}
	kvc_cqe_fill(&cqe, dw0, dw1, 0, 0, cid, st, false);
	emu_tcp_send_rsp(c, &cqe);
}

static void disc_identify(struct emu_tcp_conn *c, const struct kvc_sqe *sqe)
{
	struct kvc_id_ctrl *id = calloc(1, sizeof(*id));

	if (!id) {
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_INTERNAL), 0, 0);
		return;
	}
	if ((kvc_sqe_dw(sqe, 10) & 0xff) != 1) {
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD), 0, 0);
		free(id);
		return;
	}
	memset(id->sn, ' ', sizeof(id->sn));
	memset(id->mn, ' ', sizeof(id->mn));
	memcpy(id->mn, "nvkv discovery", 14);
	memset(id->fr, ' ', sizeof(id->fr));
	memcpy(id->fr, "nvkv0.1", 7);
	kvc_put_le16(&id->cntlid, c->disc_cntlid);
	kvc_put_le32(&id->ver, KVC_VS(1, 3, 0));
	id->cntrltype = 2; /* discovery controller */
	id->lpa = 0x04;	   /* extended data for Get Log Page */
	kvc_put_le16(&id->kas, 1);
	kvc_put_le16(&id->maxcmd, 128);
	kvc_put_le32(&id->sgls, KVC_SGLS_SUPPORTED | KVC_SGLS_TRANSPORT | KVC_SGLS_OFFSET);
	kvc_put_le32(&id->ioccsz, 4);
	kvc_put_le32(&id->iorcsz, 1);
	id->msdbd = 1;
	snprintf(id->subnqn, sizeof(id->subnqn), "%s", DISC_NQN);
	disc_reply(c, sqe, id, sizeof(*id), 0, 0, 0);
	free(id);
}

/* Get Log Page 70h: one record, this subsystem on this port. */
static void disc_log(struct emu_tcp_conn *c, const struct kvc_sqe *sqe)
{
	uint32_t dw10 = kvc_sqe_dw(sqe, 10), dw11 = kvc_sqe_dw(sqe, 11);
	uint64_t numd = ((uint64_t)(dw11 & 0xffff) << 16 | dw10 >> 16) + 1;
	uint64_t off = kvc_sqe_dw(sqe, 12) | (uint64_t)kvc_sqe_dw(sqe, 13) << 32;
	uint8_t log[2 * DISC_ENTRY] = { 0 }, *e = log + DISC_ENTRY;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	char addr[INET_ADDRSTRLEN] = "127.0.0.1";

	if ((dw10 & 0xff) != 0x70) {
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD), 0, 0);
		return;
	}
	if (c->fd >= 0 && !getsockname(c->fd, (struct sockaddr *)&sa, &sl))
		inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
	kvc_put_le64(log, 1);	     /* generation counter */
	kvc_put_le64(log + 8, 1);    /* records */
	e[0] = 3;		     /* TRTYPE: TCP */
	e[1] = 1;		     /* ADRFAM: IPv4 */
	e[2] = 2;		     /* SUBTYPE: NVM subsystem */
	e[3] = 0;		     /* TREQ: not specified (not required: libnvme 1.3 asks TLS) */
	kvc_put_le16(e + 4, 1);	     /* PORTID */
	kvc_put_le16(e + 6, 0xffff); /* CNTLID: dynamic */
	kvc_put_le16(e + 8, 32);     /* ASQSZ */
	snprintf((char *)e + 32, 32, "%u", c->t->port);
	fw_subsys_nqn(c->t->s, (char *)e + 256, 256); /* SUBNQN */
	snprintf((char *)e + 512, 256, "%s", addr);   /* TRADDR */
	if (off % 4 || off > sizeof(log)) {
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD), 0, 0);
		return;
	}
	{
		uint64_t n = numd * 4, avail = sizeof(log) - off;
		static uint8_t buf[64 << 10];

		if (n > sizeof(buf))
			n = sizeof(buf);
		memset(buf, 0, n);
		memcpy(buf, log + off, avail < n ? avail : n);
		disc_reply(c, sqe, buf, (uint32_t)n, 0, 0, 0);
	}
}

void emu_tcp_disc_exec(struct emu_tcp_conn *c, const struct kvc_sqe *sqe)
{
	const uint8_t *b = kvc_sqe_cbytes(sqe);
	uint16_t inval = KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD);

	if (sqe->opc == KVC_ADM_FABRICS) {
		uint32_t ofst = kvc_get_le32(b + 44), v = kvc_get_le32(b + 48);
		uint64_t r;

		if (b[4] == FW_FCTYPE_PROP_SET) {
			if (ofst != KVC_REG_CC) {
				disc_reply(c, sqe, NULL, 0, inval, 0, 0);
				return;
			}
			c->disc_cc = v;
			c->disc_csts = (v & KVC_CC_EN) ? KVC_CSTS_RDY : 0;
			if (v & KVC_CC_SHN_MASK)
				c->disc_csts |= KVC_CSTS_SHST_COMPLETE;
			disc_reply(c, sqe, NULL, 0, 0, 0, 0);
			return;
		}
		if (b[4] != FW_FCTYPE_PROP_GET) {
			disc_reply(c, sqe, NULL, 0,
				   b[4] == FW_FCTYPE_CONNECT
					   ? KVC_ST_GENERIC_DNR(KVC_SC_CMD_SEQ_ERROR)
					   : KVC_ST_GENERIC_DNR(KVC_SC_INVALID_OPCODE),
				   0, 0);
			return;
		}
		switch (ofst) {
		case KVC_REG_CAP:
			r = 31 | KVC_CAP_CQR | (20ull << KVC_CAP_TO_SHIFT) | KVC_CAP_CSS_NVM;
			break;
		case KVC_REG_VS:
			r = KVC_VS(1, 3, 0);
			break;
		case KVC_REG_CC:
			r = c->disc_cc;
			break;
		case KVC_REG_CSTS:
			r = c->disc_csts;
			break;
		default:
			disc_reply(c, sqe, NULL, 0, inval, 0, 0);
			return;
		}
		disc_reply(c, sqe, NULL, 0, 0, (uint32_t)r, (uint32_t)(r >> 32));
		return;
	}
	if (!(c->disc_csts & KVC_CSTS_RDY)) {
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_CMD_SEQ_ERROR), 0, 0);
		return;
	}
	switch (sqe->opc) {
	case KVC_ADM_IDENTIFY:
		disc_identify(c, sqe);
		break;
	case KVC_ADM_GET_LOG_PAGE:
		disc_log(c, sqe);
		break;
	case KVC_ADM_KEEP_ALIVE:
		c->disc_ka = now_ns();
		disc_reply(c, sqe, NULL, 0, 0, 0, 0);
		break;
	case KVC_ADM_SET_FEATURES:
		if ((kvc_sqe_dw(sqe, 10) & 0xff) == KVC_FEAT_KEEP_ALIVE)
			c->disc_kato = kvc_sqe_dw(sqe, 11);
		disc_reply(c, sqe, NULL, 0, 0, 0, 0);
		break;
	case KVC_ADM_GET_FEATURES:
		disc_reply(c, sqe, NULL, 0, 0,
			   (kvc_sqe_dw(sqe, 10) & 0xff) == KVC_FEAT_KEEP_ALIVE ? c->disc_kato : 0,
			   0);
		break;
	default:
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_INVALID_OPCODE), 0, 0);
		break;
	}
}

bool emu_tcp_disc_connect(struct emu_tcp_conn *c, const struct kvc_sqe *sqe, const uint8_t *data,
			  uint32_t dlen)
{
	const uint8_t *b = kvc_sqe_cbytes(sqe);
	uint16_t qid = kvc_get_le16(b + 42), sqsize = kvc_get_le16(b + 44);
	uint16_t cid = kvc_sqe_cid(sqe);

	if (sqe->opc != KVC_ADM_FABRICS || b[4] != FW_FCTYPE_CONNECT || qid != 0 || !data ||
	    dlen < FW_CONNECT_DATA || strncmp((const char *)data + 256, DISC_NQN, 256))
		return false;
	if (sqsize == 0 || sqsize > 127) {
		emu_tcp_reply_status(c, cid, qid, KVC_ST_CMD_DNR(0x82), 44);
		return true;
	}
	c->disc = true;
	c->disc_cntlid = (uint16_t)(0xf000 + c->t->disc_ids++ % 0xff0);
	c->disc_kato = kvc_get_le32(b + 48);
	c->disc_ka = now_ns();
	emu_log(3, "tcp %s: discovery controller %u", c->name, c->disc_cntlid);
	emu_tcp_reply_status(c, cid, qid, 0, c->disc_cntlid);
	return true;
}
