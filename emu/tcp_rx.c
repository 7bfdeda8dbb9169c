// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target: the receive state machine of a connection.  Bytes come in
 * any split; the common header, then the rest of the header, then the payload
 * are collected, each checked as it completes (PDU types a host may send,
 * lengths, digest flags and digests, data limits) and any violation is a
 * fatal protocol error.  The ICReq is answered here; capsules and H2CData go
 * to tcp_capsule.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/tcp.h"
#include "firmware/crc.h"
#include "tcp_internal.h"

#define ADMIN_ICD 8192 /* in-capsule data on the admin queue (and Connect) */
#define TERM_MAX 152   /* an H2CTermReq's whole length */

static void on_icreq(struct emu_tcp_conn *c)
{
	const struct kvc_tcp_icreq *q = (const void *)c->hbuf;
	struct kvc_tcp_icresp r;

	if (kvc_get_le16(&q->pfv) != 0) {
		emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 8, "ICReq PFV not 0");
		return;
	}
	if (q->hpda != 0) { /* C2HData would need padding: not implemented */
		emu_tcp_fatal(c, KVC_TCP_FES_UNSUPPORTED_PARAM, 10, "ICReq HPDA other than 0");
		return;
	}
	if ((q->dgst & 3) && !c->t->o.allow_digests) {
		emu_tcp_fatal(c, KVC_TCP_FES_UNSUPPORTED_PARAM, 11,
			      "digests asked for but disabled");
		return;
	}
	c->hdgst = q->dgst & 1;
	c->ddgst = (q->dgst >> 1) & 1;
	memset(&r, 0, sizeof(r));
	r.ch.pdu_type = KVC_TCP_ICRESP;
	r.dgst = q->dgst & 3; /* mirror the request */
	r.cpda = 0;
	kvc_put_le32(&r.maxdata, c->t->o.maxh2c);
	emu_tcp_send_pdu(c, &r, sizeof(r), NULL, 0, false);
	c->ic_done = true;
}

/* Largest in-capsule data on this connection. */
static uint32_t icd_limit(const struct emu_tcp_conn *c)
{
	uint32_t io = c->t->o.ioccsz * 16 - 64;

	return !c->as || c->qid == 0 ? ADMIN_ICD : io;
}

/* The common header is in: check it, and how much follows. */
static void check_ch(struct emu_tcp_conn *c)
{
	const struct kvc_tcp_ch *ch = (const void *)c->hbuf;
	uint32_t plen = kvc_get_le32(&ch->plen), hd, payload, limit;
	uint8_t want_hlen;

	c->ch = *ch;
	c->ch.plen = plen;
	if (!c->ic_done) {
		if (ch->pdu_type != KVC_TCP_ICREQ) {
			emu_tcp_fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 0, "first PDU is not an ICReq");
			return;
		}
		if (ch->hlen != 128 || plen != 128) {
			emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, ch->hlen != 128 ? 2 : 4,
				      "ICReq of the wrong length");
			return;
		}
		c->hneed = 128;
		c->pneed = 0;
		return;
	}
	switch (ch->pdu_type) {
	case KVC_TCP_CAPSULE_CMD:
		want_hlen = sizeof(struct kvc_tcp_cmd);
		limit = icd_limit(c);
		break;
	case KVC_TCP_H2C_DATA:
		want_hlen = sizeof(struct kvc_tcp_data);
		limit = c->t->o.maxh2c;
		break;
	case KVC_TCP_H2C_TERM:
		want_hlen = sizeof(struct kvc_tcp_term);
		limit = TERM_MAX - sizeof(struct kvc_tcp_term);
		break;
	case KVC_TCP_ICREQ:
		emu_tcp_fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 0, "a second ICReq");
		return;
	default:
		emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 0, "PDU type a host may not send");
		return;
	}
	if (ch->hlen != want_hlen) {
		emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 2, "header length");
		return;
	}
	hd = ch->pdu_type != KVC_TCP_H2C_TERM && c->hdgst ? 4 : 0;
	if (!!(ch->flags & KVC_TCP_F_HDGSTF) != !!hd) {
		emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 1, "header digest flag");
		return;
	}
	if (plen < (uint32_t)ch->hlen + hd) {
		emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 4, "PDU length below its header");
		return;
	}
	payload = plen - ch->hlen - hd;
	c->dlen = payload;
	if (payload && ch->pdu_type != KVC_TCP_H2C_TERM) {
		bool dd = c->ddgst;

		if (ch->pdo != ch->hlen + hd) {
			emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 3, "data offset");
			return;
		}
		if (!!(ch->flags & KVC_TCP_F_DDGSTF) != dd || (dd && payload <= 4)) {
			emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 1, "data digest flag");
			return;
		}
		c->dlen = payload - (dd ? 4 : 0);
	} else if (ch->flags & KVC_TCP_F_DDGSTF) {
		emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 1, "data digest flag without data");
		return;
	} else if (ch->pdu_type == KVC_TCP_H2C_DATA) {
		emu_tcp_fatal(c, KVC_TCP_FES_INVALID_HEADER, 4, "H2CData without data");
		return;
	}
	if (c->dlen > limit) {
		emu_tcp_fatal(c, KVC_TCP_FES_DATA_LIMIT, 4, "PDU data above the limit");
		return;
	}
	c->hneed = ch->hlen + hd;
	c->pneed = payload;
}

static void on_pdu(struct emu_tcp_conn *c)
{
	if (!c->ic_done) {
		on_icreq(c);
		return;
	}
	switch (c->ch.pdu_type) {
	case KVC_TCP_CAPSULE_CMD:
		emu_tcp_on_capsule(c);
		break;
	case KVC_TCP_H2C_DATA:
		emu_tcp_on_h2c_data(c);
		break;
	default: /* H2CTermReq */
		emu_tcp_conn_kill(c, "the host terminated the connection (H2CTermReq)");
		break;
	}
}

/* Header complete: verify its digest; then the payload or the PDU. */
static void header_done(struct emu_tcp_conn *c)
{
	uint32_t hl = c->ch.hlen;

	if (c->ic_done && c->hneed > hl &&
	    fw_crc32c(0, c->hbuf, hl) != kvc_get_le32(c->hbuf + hl)) {
		emu_tcp_fatal(c, KVC_TCP_FES_HDGST_ERROR, 0, "header digest mismatch");
		return;
	}
	if (!c->pneed) {
		on_pdu(c);
		return;
	}
	free(c->pbuf);
	c->pbuf = malloc(c->pneed);
	if (!c->pbuf) {
		emu_tcp_conn_kill(c, "out of memory for a PDU");
		return;
	}
	c->pgot = 0;
	c->phase = RX_DATA;
}

static void payload_done(struct emu_tcp_conn *c)
{
	if (c->pneed > c->dlen &&
	    fw_crc32c(0, c->pbuf, c->dlen) != kvc_get_le32(c->pbuf + c->dlen)) {
		/* The spec lets a data digest error fail just the command; a
		 * fatal error is simpler and allowed. */
		emu_tcp_fatal(c, KVC_TCP_FES_HDGST_ERROR, 0, "data digest mismatch");
		return;
	}
	on_pdu(c);
}

static void rx_reset(struct emu_tcp_conn *c)
{
	c->phase = RX_CH;
	c->hgot = 0;
	c->hneed = sizeof(struct kvc_tcp_ch);
}

static int rx(struct emu_tcp_conn *c, const uint8_t *p, size_t n)
{
	while (n && !is_dead(c)) {
		size_t k;

		if (c->phase == RX_DATA) {
			k = c->pneed - c->pgot < n ? c->pneed - c->pgot : n;
			memcpy(c->pbuf + c->pgot, p, k);
			c->pgot += (uint32_t)k;
			p += k;
			n -= k;
			if (c->pgot == c->pneed) {
				rx_reset(c);
				payload_done(c);
			}
			continue;
		}
		k = c->hneed - c->hgot < n ? c->hneed - c->hgot : n;
		memcpy(c->hbuf + c->hgot, p, k);
		c->hgot += (uint32_t)k;
		p += k;
		n -= k;
		if (c->hgot < c->hneed)
			continue;
		if (c->phase == RX_CH) { /* the common header: now the whole header */
			check_ch(c);
			c->phase = RX_HDR;
			continue;
		}
		header_done(c); /* the payload follows, or the PDU was handled */
		if (c->phase != RX_DATA)
			rx_reset(c);
	}
	return is_dead(c) ? -EPIPE : 0;
}

int emu_tcp_feed(struct emu_tcp *t, struct emu_tcp_conn *c, const void *buf, size_t len)
{
	int rc = -EPIPE;

	fw_lock(t);
	if (!is_dead(c)) {
		fw_subsys_fabric_bytes(t->s, len, 0);
		rc = rx(c, buf, len);
	}
	fw_unlock(t);
	return rc;
}
