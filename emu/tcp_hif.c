// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target: the firmware's host interface (struct fw_host_if) of a
 * fabric controller.  A fabric host has no memory the device reaches: the
 * firmware reads a command's data from what the capsule or the H2CData PDUs
 * brought, and what it writes through xport_write is collected and sent as
 * C2HData PDUs before the command's CapsuleResp when it posts the completion.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/tcp.h"
#include "tcp_internal.h"

#define C2H_CHUNK (128u << 10) /* data bytes per C2HData PDU */

static struct tcmd *cmd_of(struct tassoc *a, uint16_t sqid, uint16_t cid)
{
	struct emu_tcp_conn *c = sqid <= FW_MAX_IOQ ? a->q[sqid] : NULL;

	return c && !is_dead(c) ? emu_tcp_slot_of(c, cid) : NULL;
}

/* A fabric host has no memory the device reaches. */
static int hif_no_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx, (void)addr, (void)buf, (void)len;
	return -EFAULT;
}

static int hif_no_mem_w(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	(void)ctx, (void)addr, (void)buf, (void)len;
	return -EFAULT;
}

static int hif_capsule(void *ctx, uint16_t sqid, uint16_t cid, const void **data, uint32_t *len)
{
	struct tcmd *m = cmd_of(ctx, sqid, cid);

	*data = NULL;
	*len = 0;
	if (m && m->icd) {
		*data = m->in;
		*len = m->in_len;
	}
	return 0;
}

static int hif_xread(void *ctx, uint16_t sqid, uint16_t cid, uint64_t off, void *buf, size_t len)
{
	struct tcmd *m = cmd_of(ctx, sqid, cid);

	if (!m || m->icd || off > m->in_len || len > m->in_len - off)
		return -EIO; /* no such data: the command fails with a transfer error */
	memcpy(buf, m->in + off, len);
	return 0;
}

static int hif_xwrite(void *ctx, uint16_t sqid, uint16_t cid, uint64_t off, const void *buf,
		      size_t len)
{
	struct tassoc *a = ctx;
	struct tcmd *m = cmd_of(a, sqid, cid);
	uint64_t end = off + len;

	if (!m || end > m->xlen || end > a->t->o.max_xfer)
		return -EIO;
	if (end > m->out_cap) {
		uint32_t cap = m->out_cap ? m->out_cap : 4096;
		uint8_t *p;

		while (cap < end)
			cap *= 2;
		p = realloc(m->out, cap);
		if (!p)
			return -ENOMEM;
		m->out = p;
		m->out_cap = cap;
	}
	if (off > m->out_len) /* a gap the firmware skipped: zeros, as a bit bucket */
		memset(m->out + m->out_len, 0, off - m->out_len);
	memcpy(m->out + off, buf, len);
	if (end > m->out_len)
		m->out_len = (uint32_t)end;
	return 0;
}

/* The firmware completed a command: its read data, then its response. */
static void hif_post(void *ctx, uint16_t qid, const void *cqe)
{
	struct tassoc *a = ctx;
	struct emu_tcp_conn *c = qid <= FW_MAX_IOQ ? a->q[qid] : NULL;
	const struct kvc_cqe *e = cqe;
	struct tcmd *m;
	uint32_t off;

	if (!c || is_dead(c))
		return;
	m = emu_tcp_slot_of(c, kvc_get_le16(&e->cid));
	for (off = 0; m && off < m->out_len;) {
		struct kvc_tcp_data d;
		uint32_t n = m->out_len - off < C2H_CHUNK ? m->out_len - off : C2H_CHUNK;

		memset(&d, 0, sizeof(d));
		d.ch.pdu_type = KVC_TCP_C2H_DATA;
		d.ch.flags = off + n == m->out_len ? KVC_TCP_F_DATA_LAST : 0;
		kvc_put_le16(&d.cccid, m->cid);
		kvc_put_le32(&d.datao, off);
		kvc_put_le32(&d.datal, n);
		emu_tcp_send_pdu(c, &d, sizeof(d), m->out + off, n, true);
		off += n;
	}
	emu_tcp_send_rsp(c, cqe);
	if (m)
		emu_tcp_slot_free(m);
}

struct tassoc *emu_tcp_assoc_new(struct emu_tcp *t)
{
	struct tassoc *a = calloc(1, sizeof(*a));
	uint32_t size = fw_subsys_bar_size(t->s);

	if (!a)
		return NULL;
	a->bar = calloc(1, size);
	if (!a->bar) {
		free(a);
		return NULL;
	}
	a->t = t;
	a->hif = (struct fw_host_if){ .ctx = a,
				      .bar = a->bar,
				      .bar_size = size,
				      .dma_read = hif_no_mem,
				      .dma_write = hif_no_mem_w,
				      .capsule_data = hif_capsule,
				      .xport_read = hif_xread,
				      .xport_write = hif_xwrite,
				      .post_cqe = hif_post,
				      .ioccsz = t->o.ioccsz };
	return a;
}
