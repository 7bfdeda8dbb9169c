// SPDX-License-Identifier: MIT
/*
 * Wire formats of the NVMe/TCP initiator (tcp_pdu.h): everything tcp.c puts
 * on or takes off a connection, without sockets (NVMe/TCP Transport 1.0
 * section 3.6; NVMe over Fabrics 1.1 for Connect and Property Get/Set).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/admin.h"
#include "cmdset/le.h"
#include "cmdset/sgl.h"
#include "cmdset/tcp.h"
#include "tcp_pdu.h"

static uint32_t crc_tab[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_tab[i] = c;
	}
}

uint32_t tcp_crc32c(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t c = ~0u;

	pthread_once(&crc_once, crc_init);
	while (n--)
		c = crc_tab[(c ^ *b++) & 0xff] ^ (c >> 8);
	return ~c;
}

static void put_ch(uint8_t *p, uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo,
		   uint32_t plen)
{
	p[0] = type;
	p[1] = flags;
	p[2] = hlen;
	p[3] = pdo;
	kvc_put_le32(p + 4, plen);
}

void tcp_put_icreq(uint8_t *p, bool hd, bool dd)
{
	memset(p, 0, 128);
	put_ch(p, KVC_TCP_ICREQ, 0, 128, 0, 128);
	p[11] = (uint8_t)((hd ? 1 : 0) | (dd ? 2 : 0));
}

int tcp_parse_icresp(const uint8_t *p, uint32_t plen, bool *hd, bool *dd, uint32_t *maxh2c)
{
	if (plen != 128 || p[0] != KVC_TCP_ICRESP || p[2] != 128 || kvc_get_le16(p + 8) != 0 ||
	    p[10] != 0 /* CPDA: no padding */)
		return -EPROTO;
	*hd = p[11] & 1;
	*dd = p[11] & 2;
	*maxh2c = kvc_get_le32(p + 12);
	if (*maxh2c < 4096 || *maxh2c % 4)
		return -EPROTO;
	return 0;
}

void tcp_put_capsule_hdr(uint8_t *p, const struct kvc_sqe *sqe, bool hd, bool dd, uint32_t dlen)
{
	uint8_t flags =
		(uint8_t)((hd ? KVC_TCP_F_HDGSTF : 0) | (dlen && dd ? KVC_TCP_F_DDGSTF : 0));

	put_ch(p, KVC_TCP_CAPSULE_CMD, flags, 72, dlen ? (uint8_t)tcp_capsule_hdr_len(hd) : 0,
	       (uint32_t)tcp_capsule_len(hd, dd, dlen));
	memcpy(p + 8, sqe, sizeof(*sqe));
	if (hd)
		kvc_put_le32(p + 72, tcp_crc32c(p, 72));
}

void tcp_put_h2c_hdr(uint8_t *p, bool hd, bool dd, uint16_t cccid, uint16_t ttag, uint32_t off,
		     uint32_t n, bool last)
{
	uint8_t flags = (uint8_t)((hd ? KVC_TCP_F_HDGSTF : 0) | (dd ? KVC_TCP_F_DDGSTF : 0) |
				  (last ? KVC_TCP_F_DATA_LAST : 0));

	put_ch(p, KVC_TCP_H2C_DATA, flags, 24, (uint8_t)tcp_data_hdr_len(hd),
	       (uint32_t)tcp_data_len(hd, dd, n));
	kvc_put_le16(p + 8, cccid);
	kvc_put_le16(p + 10, ttag);
	kvc_put_le32(p + 12, off);
	kvc_put_le32(p + 16, n);
	memset(p + 20, 0, 4);
	if (hd)
		kvc_put_le32(p + 24, tcp_crc32c(p, 24));
}

int tcp_parse_c2h(const uint8_t *p, uint32_t plen, bool hd, bool dd, struct tcp_pdu_view *v)
{
	uint32_t hl = 24 + (hd ? 4 : 0);

	memset(v, 0, sizeof(*v));
	if (plen < 8 || kvc_get_le32(p + 4) != plen)
		return -EPROTO;
	v->type = p[0];
	if (v->type == KVC_TCP_C2H_TERM) { /* no digests; the reason is all we want */
		if (plen < 24)
			return -EPROTO;
		v->fes = kvc_get_le16(p + 8);
		return 0;
	}
	if (p[2] != 24 || plen < hl || !!(p[1] & KVC_TCP_F_HDGSTF) != hd)
		return -EPROTO;
	if (hd && kvc_get_le32(p + 24) != tcp_crc32c(p, 24))
		return -EBADMSG;
	switch (v->type) {
	case KVC_TCP_CAPSULE_RESP:
		if (plen != hl)
			return -EPROTO;
		memcpy(&v->cqe, p + 8, sizeof(v->cqe));
		return 0;
	case KVC_TCP_R2T:
		if (plen != hl)
			return -EPROTO;
		v->r2t.cccid = kvc_get_le16(p + 8);
		v->r2t.ttag = kvc_get_le16(p + 10);
		v->r2t.offset = kvc_get_le32(p + 12);
		v->r2t.length = kvc_get_le32(p + 16);
		return 0;
	case KVC_TCP_C2H_DATA:
		if (!!(p[1] & KVC_TCP_F_DDGSTF) != dd || p[3] != hl || plen < hl + (dd ? 4 : 0))
			return -EPROTO;
		v->cccid = kvc_get_le16(p + 8);
		v->offset = kvc_get_le32(p + 12);
		v->dlen = kvc_get_le32(p + 16);
		v->data = p + hl;
		v->last = p[1] & KVC_TCP_F_DATA_LAST;
		v->success = p[1] & KVC_TCP_F_DATA_SUCCESS;
		if (v->dlen != plen - hl - (dd ? 4 : 0) || (v->success && !v->last))
			return -EPROTO;
		if (dd && kvc_get_le32(p + hl + v->dlen) != tcp_crc32c(v->data, v->dlen))
			return -EBADMSG;
		return 0;
	}
	return -EPROTO;
}

void tcp_set_dptr(struct kvc_sqe *s, uint8_t type, uint8_t sub, uint32_t len)
{
	struct kvc_sgl_desc d = { .addr = 0, .len = len, .type = type, .subtype = sub };

	s->flags = (uint8_t)((s->flags & ~KVC_SQE_PSDT_MASK) | KVC_PSDT_SGL_MBUF
								       << KVC_SQE_PSDT_SHIFT);
	kvc_sgl_put(kvc_sqe_bytes(s) + KVC_SQE_OFF_PRP1, &d);
}

int tcp_map_dptr(const struct kvc_sqe *s, uint32_t hint, bool *sgl, uint64_t *addr, uint64_t *prp2,
		 uint32_t *len)
{
	uint8_t psdt = (uint8_t)((s->flags & KVC_SQE_PSDT_MASK) >> KVC_SQE_PSDT_SHIFT);

	*sgl = false;
	*addr = *prp2 = 0;
	*len = 0;
	if (psdt) {
		struct kvc_sgl_desc d = kvc_sgl_get(kvc_sqe_cbytes(s) + KVC_SQE_OFF_PRP1);

		if (psdt != KVC_PSDT_SGL_MBUF)
			return KVC_STATUS(0, 0x02); /* Invalid Field */
		if (d.type != KVC_SGL_DATA_BLOCK || d.subtype != KVC_SGL_SUB_ADDRESS)
			return KVC_STATUS(0, 0x11); /* SGL Descriptor Type Invalid */
		*sgl = true;
		*addr = d.addr;
		*len = d.addr ? d.len : 0;
		return 0;
	}
	*addr = kvc_sqe_prp1(s);
	*prp2 = kvc_sqe_prp2(s);
	if (!*addr)
		return 0;
	if (!hint)
		return KVC_STATUS(0, 0x02); /* a PRP buffer the driver did not size */
	*len = hint;
	return 0;
}

void tcp_connect_sqe(struct kvc_sqe *s, uint16_t qid, uint16_t sqsize, uint32_t kato_ms)
{
	uint8_t *b = kvc_sqe_bytes(s);

	memset(s, 0, sizeof(*s));
	s->opc = KVC_ADM_FABRICS;
	b[4] = 0x01; /* FCTYPE Connect */
	tcp_set_dptr(s, KVC_SGL_DATA_BLOCK, KVC_SGL_SUB_OFFSET, 1024);
	kvc_put_le16(b + 40, 0); /* RECFMT */
	kvc_put_le16(b + 42, qid);
	kvc_put_le16(b + 44, sqsize);
	b[46] = 0; /* CATTR */
	kvc_put_le32(b + 48, kato_ms);
}

void tcp_connect_data(uint8_t d[1024], const uint8_t hostid[16], uint16_t cntlid,
		      const char *subnqn, const char *hostnqn)
{
	memset(d, 0, 1024);
	memcpy(d, hostid, 16);
	kvc_put_le16(d + 16, cntlid);
	strncpy((char *)d + 256, subnqn, 255);
	strncpy((char *)d + 512, hostnqn, 255);
}

void tcp_prop_get_sqe(struct kvc_sqe *s, uint32_t off, bool wide)
{
	uint8_t *b = kvc_sqe_bytes(s);

	memset(s, 0, sizeof(*s));
	s->opc = KVC_ADM_FABRICS;
	b[4] = 0x04; /* FCTYPE Property Get */
	tcp_set_dptr(s, KVC_SGL_TRANSPORT_DATA_BLOCK, KVC_SGL_SUB_TRANSPORT, 0);
	b[40] = wide ? 1 : 0; /* ATTRIB: size 8 bytes */
	kvc_put_le32(b + 44, off);
}

void tcp_prop_set_sqe(struct kvc_sqe *s, uint32_t off, bool wide, uint64_t val)
{
	uint8_t *b = kvc_sqe_bytes(s);

	tcp_prop_get_sqe(s, off, wide);
	b[4] = 0x00; /* FCTYPE Property Set */
	kvc_put_le64(b + 48, val);
}

int tcp_parse_spec(const char *spec, struct tcp_spec *o)
{
	const char *p, *e, *q;
	size_t n;

	memset(o, 0, sizeof(*o));
	o->kato_ms = TCP_DEFAULT_KATO_MS;
	snprintf(o->nqn, sizeof(o->nqn), "%s", TCP_DEFAULT_NQN);
	if (!spec || strncmp(spec, "tcp://", 6))
		return -EINVAL;
	p = spec + 6;
	if (*p == '[') {
		e = strchr(p, ']');
		if (!e || e[1] != ':')
			return -EINVAL;
		n = (size_t)(e - p - 1);
		p++;
		e++;
	} else {
		e = strchr(p, ':');
		if (!e)
			return -EINVAL;
		n = (size_t)(e - p);
	}
	if (!n || n >= sizeof(o->host))
		return -EINVAL;
	memcpy(o->host, p, n);
	p = e + 1;
	n = strspn(p, "0123456789");
	if (!n || n >= sizeof(o->port) || (p[n] && p[n] != '/' && p[n] != '?') || atoi(p) < 1 ||
	    atoi(p) > 65535)
		return -EINVAL;
	memcpy(o->port, p, n);
	p += n;
	q = strchr(p, '?');
	if (*p == '/') {
		p++;
		n = q ? (size_t)(q - p) : strlen(p);
		if (n >= sizeof(o->nqn) || n > 223)
			return -EINVAL;
		if (n) {
			memcpy(o->nqn, p, n);
			o->nqn[n] = 0;
		}
	}
	while (q && *q) {
		const char *opt = q + 1;

		q = strpbrk(opt, "&,");
		n = q ? (size_t)(q - opt) : strlen(opt);
		if (n == 5 && !strncmp(opt, "hdgst", 5))
			o->hdgst = true;
		else if (n == 5 && !strncmp(opt, "ddgst", 5))
			o->ddgst = true;
		else if (n > 5 && !strncmp(opt, "kato=", 5)) {
			char *end;
			unsigned long v = strtoul(opt + 5, &end, 10);

			if (end != opt + n || v > 3600000)
				return -EINVAL;
			o->kato_ms = (uint32_t)v;
		} else if (n) {
			return -EINVAL;
		}
	}
	return 0;
}
