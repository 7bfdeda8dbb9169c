// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target of nvkv-emu, at the protocol level, over loopback: a small
 * host written here (ICReq, Connect, Property Get/Set, capsules with
 * in-capsule data, R2T/H2CData, C2HData, digests) drives the admin and I/O
 * queues, KV commands byte for byte, Keep Alive expiry, a stalled host
 * beside a working one, and malformed PDUs: each costs only its own
 * connection a C2HTermReq and a close while another host keeps working.
 * Every wait is bounded (poll with a timeout).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/cmdset.h"
#include "cmdset/tcp.h"
#include "emu_proc.c"
#include "firmware/crc.c"

static struct emu_proc emu;
static uint16_t port;

#define NQN "nqn.2026-11.io.nvkv:NVKV0001"
#define ST(sc) KVC_ST_GENERIC_DNR(sc)
#define TMO_MS 5000

struct th {
	int fd;
	bool hd, dd;
	uint32_t maxh2c;
	uint16_t cid;
	uint16_t cntlid;
	uint8_t hostid[16];
};

static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(s, (struct sockaddr *)&sa, &sl);
	close(s);
	return ntohs(sa.sin_port);
}

static int tcp_dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		close(s);
		return -1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return s;
}

static void put_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		ck_assert_int_gt(k, 0);
		p += k;
		n -= (size_t)k;
	}
}

/* Read exactly @n bytes within the timeout; false on EOF/error/timeout. */
static bool get_all(int fd, void *buf, size_t n, int tmo_ms)
{
	uint8_t *p = buf;

	while (n) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&pf, 1, tmo_ms) != 1)
			return false;
		k = recv(fd, p, n, 0);
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* The connection was closed by the target (EOF within the timeout). */
static bool closed_by_peer(int fd)
{
	uint8_t b[256];

	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&pf, 1, TMO_MS) != 1)
			return false;
		k = recv(fd, b, sizeof(b), 0);
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			return true;
		if (k < 0)
			return false;
	}
}

static void th_open(struct th *h, bool hd, bool dd)
{
	struct kvc_tcp_icreq q;
	struct kvc_tcp_icresp r;

	memset(h, 0, sizeof(*h));
	h->fd = tcp_dial();
	ck_assert_int_ge(h->fd, 0);
	memset(&q, 0, sizeof(q));
	q.ch.pdu_type = KVC_TCP_ICREQ;
	q.ch.hlen = 128;
	kvc_put_le32(&q.ch.plen, 128);
	q.dgst = (uint8_t)((hd ? 1 : 0) | (dd ? 2 : 0));
	put_all(h->fd, &q, sizeof(q));
	ck_assert(get_all(h->fd, &r, sizeof(r), TMO_MS));
	ck_assert_uint_eq(r.ch.pdu_type, KVC_TCP_ICRESP);
	ck_assert_uint_eq(r.ch.hlen, 128);
	ck_assert_uint_eq(kvc_get_le32(&r.ch.plen), 128);
	ck_assert_uint_eq(kvc_get_le16(&r.pfv), 0);
	ck_assert_uint_eq(r.cpda, 0);
	ck_assert_uint_eq(r.dgst, q.dgst); /* mirrored */
	h->maxh2c = kvc_get_le32(&r.maxdata);
	ck_assert_uint_ge(h->maxh2c, 4096);
	ck_assert_uint_eq(h->maxh2c % 4, 0);
	h->hd = hd;
	h->dd = dd;
	h->cid = 1;
	memset(h->hostid, 0x11, 16);
}

static void th_close(struct th *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

/* Send a PDU with digests as negotiated. */
static void send_pdu(struct th *h, void *hdr, uint8_t hlen, const void *data, uint32_t dlen)
{
	struct kvc_tcp_ch *ch = hdr;
	uint32_t hd = h->hd ? 4 : 0, dd = h->dd && dlen ? 4 : 0;
	uint8_t crc[4];

	ch->hlen = hlen;
	ch->pdo = dlen ? (uint8_t)(hlen + hd) : 0;
	ch->flags |= (hd ? KVC_TCP_F_HDGSTF : 0) | (dd ? KVC_TCP_F_DDGSTF : 0);
	kvc_put_le32(&ch->plen, hlen + hd + dlen + dd);
	put_all(h->fd, hdr, hlen);
	if (hd) {
		kvc_put_le32(crc, fw_crc32c(0, hdr, hlen));
		put_all(h->fd, crc, 4);
	}
	if (dlen)
		put_all(h->fd, data, dlen);
	if (dd) {
		kvc_put_le32(crc, fw_crc32c(0, data, dlen));
		put_all(h->fd, crc, 4);
	}
}

/* Receive one PDU: header into @hdr (24 bytes), data into @data (cap). */
static bool recv_pdu(struct th *h, uint8_t hdr[24], uint8_t **data, uint32_t *dlen)
{
	uint32_t plen, hd, dd, n;
	uint8_t crc[4];

	if (!get_all(h->fd, hdr, 8, TMO_MS))
		return false;
	ck_assert_uint_eq(hdr[2], 24); /* every target PDU has hlen 24 */
	ck_assert(get_all(h->fd, hdr + 8, 16, TMO_MS));
	plen = kvc_get_le32(hdr + 4);
	if (hdr[0] == KVC_TCP_C2H_TERM) {
		ck_assert_uint_eq(plen, 24);
		*dlen = 0;
		return true;
	}
	hd = h->hd ? 4 : 0;
	ck_assert_uint_eq(!!(hdr[1] & KVC_TCP_F_HDGSTF), h->hd);
	if (hd) {
		ck_assert(get_all(h->fd, crc, 4, TMO_MS));
		ck_assert_uint_eq(kvc_get_le32(crc), fw_crc32c(0, hdr, 24));
	}
	n = plen - 24 - hd;
	dd = n && h->dd ? 4 : 0;
	*dlen = n - dd;
	if (n)
		ck_assert_uint_eq(hdr[3], 24 + hd); /* PDO */
	*data = n ? malloc(n) : NULL;
	if (n)
		ck_assert(get_all(h->fd, *data, n, TMO_MS));
	if (dd)
		ck_assert_uint_eq(kvc_get_le32(*data + *dlen), fw_crc32c(0, *data, *dlen));
	return true;
}

struct xfer {
	const void *wbuf; /* data to the device */
	uint32_t wlen;
	bool in_capsule;
	void *rbuf; /* data from the device */
	uint32_t rlen;
	uint32_t got;	    /* C2H bytes received */
	uint32_t h2c_chunk; /* H2CData size (0: MAXH2CDATA) */
};

static void set_sgl(struct kvc_sqe *sqe, bool capsule, uint32_t len)
{
	struct kvc_sgl_desc d = { .addr = 0, .len = len };

	d.type = capsule ? KVC_SGL_DATA_BLOCK : KVC_SGL_TRANSPORT_DATA_BLOCK;
	d.subtype = capsule ? KVC_SGL_SUB_OFFSET : KVC_SGL_SUB_TRANSPORT;
	sqe->flags = 1u << KVC_SQE_PSDT_SHIFT;
	kvc_sgl_put(kvc_sqe_bytes(sqe) + KVC_SQE_OFF_PRP1, &d);
}

/* Run one command to its CapsuleResp; returns the status, DW0 in @dw0. */
static uint16_t th_exec(struct th *h, struct kvc_sqe *sqe, struct xfer *x, uint32_t *dw0)
{
	struct kvc_tcp_cmd pdu;
	uint16_t cid = h->cid++;
	struct xfer none = { 0 };

	if (!x)
		x = &none;
	kvc_sqe_set_cid(sqe, cid);
	if (x->wlen)
		set_sgl(sqe, x->in_capsule, x->wlen);
	else
		set_sgl(sqe, false, x->rlen);
	memset(&pdu, 0, sizeof(pdu));
	pdu.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
	pdu.sqe = *sqe;
	send_pdu(h, &pdu, sizeof(pdu), x->in_capsule ? x->wbuf : NULL, x->in_capsule ? x->wlen : 0);
	for (;;) {
		uint8_t hdr[24], *data = NULL;
		uint32_t dlen;

		ck_assert_msg(recv_pdu(h, hdr, &data, &dlen), "no answer to CID %u", cid);
		ck_assert_uint_ne(hdr[0], KVC_TCP_C2H_TERM);
		if (hdr[0] == KVC_TCP_R2T) {
			const struct kvc_tcp_r2t *r = (const void *)hdr;
			uint32_t off = kvc_get_le32(&r->r2to), left = kvc_get_le32(&r->r2tl);
			uint32_t chunk = x->h2c_chunk ? x->h2c_chunk : h->maxh2c;

			ck_assert_uint_eq(kvc_get_le16(&r->cccid), cid);
			ck_assert_uint_eq(off + left, x->wlen);
			while (left) {
				struct kvc_tcp_data d;
				uint32_t n = left < chunk ? left : chunk;

				memset(&d, 0, sizeof(d));
				d.ch.pdu_type = KVC_TCP_H2C_DATA;
				d.ch.flags = n == left ? KVC_TCP_F_DATA_LAST : 0;
				d.cccid = r->cccid;
				d.ttag = r->ttag;
				kvc_put_le32(&d.datao, off);
				kvc_put_le32(&d.datal, n);
				send_pdu(h, &d, sizeof(d), (const uint8_t *)x->wbuf + off, n);
				off += n;
				left -= n;
			}
		} else if (hdr[0] == KVC_TCP_C2H_DATA) {
			const struct kvc_tcp_data *d = (const void *)hdr;
			uint32_t off = kvc_get_le32(&d->datao);

			ck_assert_uint_eq(kvc_get_le16(&d->cccid), cid);
			ck_assert_uint_eq(kvc_get_le32(&d->datal), dlen);
			ck_assert_uint_eq(off, x->got); /* in order */
			ck_assert_uint_le(off + dlen, x->rlen);
			ck_assert(!(hdr[1] & KVC_TCP_F_DATA_SUCCESS));
			memcpy((uint8_t *)x->rbuf + off, data, dlen);
			x->got += dlen;
		} else {
			const struct kvc_cqe *e = (const void *)(hdr + 8);

			ck_assert_uint_eq(hdr[0], KVC_TCP_CAPSULE_RESP);
			ck_assert_uint_eq(kvc_get_le16(&e->cid), cid);
			if (dw0)
				*dw0 = kvc_get_le32(&e->dw0);
			free(data);
			return kvc_cqe_status(e);
		}
		free(data);
	}
}

static uint16_t th_connect(struct th *h, uint16_t qid, uint16_t sqsize, uint32_t kato,
			   uint16_t cntlid, const char *nqn, uint32_t *dw0)
{
	uint8_t data[1024] = { 0 };
	struct kvc_sqe sqe;
	struct xfer x = { .wbuf = data, .wlen = sizeof(data), .in_capsule = true };
	uint8_t *b = kvc_sqe_bytes(&sqe);

	memcpy(data, h->hostid, 16);
	kvc_put_le16(data + 16, cntlid);
	strcpy((char *)data + 256, nqn);
	strcpy((char *)data + 512, "nqn.2014-08.org.nvmexpress:uuid:test-tcp");
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_FABRICS;
	b[4] = 0x01;
	kvc_put_le16(b + 42, qid);
	kvc_put_le16(b + 44, sqsize);
	kvc_put_le32(b + 48, kato);
	return th_exec(h, &sqe, &x, dw0);
}

static uint64_t prop(struct th *h, bool set, uint32_t ofst, bool wide, uint64_t v)
{
	struct kvc_sqe sqe;
	uint8_t *b = kvc_sqe_bytes(&sqe);
	uint32_t dw0;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_FABRICS;
	b[4] = set ? 0x00 : 0x04;
	b[40] = wide;
	kvc_put_le32(b + 44, ofst);
	kvc_put_le64(b + 48, v);
	ck_assert_uint_eq(th_exec(h, &sqe, NULL, &dw0), 0);
	return dw0;
}

#define CC_ON (KVC_CC_EN | KVC_CC_CSS_ALL << KVC_CC_CSS_SHIFT | 6u << 16 | 4u << 20)

/* An admin connection, enabled, with I/O queues granted. */
static void th_admin(struct th *h, bool hd, bool dd, uint32_t kato)
{
	struct kvc_sqe sqe;
	uint32_t dw0 = 0xffffffff;
	int i;

	th_open(h, hd, dd);
	ck_assert_uint_eq(th_connect(h, 0, 31, kato, 0xffff, NQN, &dw0), 0);
	ck_assert_uint_ne(dw0 & 0xffff, 0);
	ck_assert_uint_eq(dw0 >> 16, 0);
	h->cntlid = (uint16_t)dw0;
	prop(h, true, KVC_REG_CC, false, 0);
	ck_assert_uint_eq(prop(h, false, KVC_REG_CC, false, 0), 0);
	prop(h, true, KVC_REG_CC, false, CC_ON);
	for (i = 0; i < 100 && !(prop(h, false, KVC_REG_CSTS, false, 0) & KVC_CSTS_RDY); i++)
		sleep_ms(10);
	ck_assert_uint_eq(prop(h, false, KVC_REG_CSTS, false, 0) & 3, KVC_CSTS_RDY);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_SET_FEATURES;
	kvc_sqe_set_dw(&sqe, 10, KVC_FEAT_NUM_QUEUES);
	kvc_sqe_set_dw(&sqe, 11, 0x00030003);
	ck_assert_uint_eq(th_exec(h, &sqe, NULL, NULL), 0);
}

static void th_io(struct th *io, const struct th *admin, uint16_t qid, bool hd, bool dd)
{
	uint32_t dw0;

	th_open(io, hd, dd);
	memcpy(io->hostid, admin->hostid, 16);
	ck_assert_uint_eq(th_connect(io, qid, 127, 0, admin->cntlid, NQN, &dw0), 0);
}

static void kv_sqe(struct kvc_sqe *sqe, uint8_t opc, const char *key, uint32_t size)
{
	struct kvc_kv_cmd k = { .opc = opc, .nsid = 1, .size = size };

	k.klen = (uint8_t)strlen(key);
	memcpy(k.key, key, k.klen);
	ck_assert_int_eq(kvc_kv_encode(sqe, &k), 0);
}

static uint16_t store(struct th *h, const char *key, const void *val, uint32_t len, bool capsule,
		      uint32_t chunk)
{
	struct kvc_sqe sqe;
	struct xfer x = { .wbuf = val, .wlen = len, .in_capsule = capsule, .h2c_chunk = chunk };

	kv_sqe(&sqe, KVC_KV_STORE, key, len);
	return th_exec(h, &sqe, &x, NULL);
}

static uint16_t retrieve(struct th *h, const char *key, void *buf, uint32_t len, uint32_t *got)
{
	struct kvc_sqe sqe;
	struct xfer x = { .rbuf = buf, .rlen = len };
	uint32_t dw0 = 0;
	uint16_t st;

	kv_sqe(&sqe, KVC_KV_RETRIEVE, key, len);
	st = th_exec(h, &sqe, &x, &dw0);
	if (!st)
		ck_assert_uint_eq(x.got, dw0 < len ? dw0 : len);
	*got = x.got;
	return st;
}

static uint16_t simple(struct th *h, uint8_t opc, const char *key)
{
	struct kvc_sqe sqe;

	kv_sqe(&sqe, opc, key, 0);
	return th_exec(h, &sqe, NULL, NULL);
}

static void setup_threads(const char *threads)
{
	char p[16];
	int i, s = -1;

	port = free_port();
	snprintf(p, sizeof(p), "%u", port);
	ck_assert_int_eq(emu_start(&emu, "--tcp", p, "--tcp-ioccsz", "260", "--tcp-maxh2cdata",
				   "64K", "--tcp-threads", threads, NULL),
			 0);
	for (i = 0; i < 200 && (s = tcp_dial()) < 0; i++)
		sleep_ms(10);
	ck_assert_int_ge(s, 0);
	close(s);
}

static void setup(void)
{
	setup_threads("2");
}

static void setup4(void)
{
	setup_threads("4");
}

static void teardown(void)
{
	ck_assert_int_eq(emu_stop(&emu, SIGTERM), 0);
}

START_TEST(bring_up_identify_by_sgl)
{
	struct th a;
	struct kvc_sqe sqe;
	uint8_t *id = calloc(1, 4096);
	struct xfer x = { .rbuf = id, .rlen = 4096 };
	uint64_t cap;

	th_open(&a, false, false);
	ck_assert_uint_eq(th_connect(&a, 0, 31, 5000, 0xffff, NQN, NULL), 0);
	/* CAP is an 8-byte property: DW0 and DW1. */
	{
		struct kvc_sqe s2;
		uint8_t *b = kvc_sqe_bytes(&s2);
		uint32_t lo;

		memset(&s2, 0, sizeof(s2));
		s2.opc = KVC_ADM_FABRICS;
		b[4] = 0x04;
		b[40] = 1;
		ck_assert_uint_eq(th_exec(&a, &s2, NULL, &lo), 0);
		cap = lo;
		ck_assert_uint_eq(cap & 0xffff, 1023); /* MQES */
	}
	ck_assert_uint_eq(prop(&a, false, KVC_REG_CSTS, false, 0), 0);
	prop(&a, true, KVC_REG_CC, false, CC_ON);
	ck_assert_uint_eq(prop(&a, false, KVC_REG_CSTS, false, 0) & 1, 1);
	ck_assert_uint_eq(prop(&a, false, KVC_REG_VS, false, 0), KVC_VS(2, 0, 0));
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_dw(&sqe, 10, 1);
	ck_assert_uint_eq(th_exec(&a, &sqe, &x, NULL), 0);
	ck_assert_uint_eq(x.got, 4096);
	{
		const struct kvc_id_ctrl *c = (const void *)id;

		ck_assert_str_eq(c->subnqn, NQN);
		ck_assert_uint_eq(kvc_get_le32(&c->ioccsz), 260);
		ck_assert_uint_eq(kvc_get_le16(&c->icdoff), 0);
		ck_assert_uint_ne(kvc_get_le16(&c->kas), 0);
		ck_assert_uint_eq(kvc_get_le32(&c->ctratt), KVC_CTRATT_TBKAS);
		ck_assert_uint_ne(kvc_get_le16(&c->cntlid), 0);
		ck_assert_uint_eq(c->cntrltype, 1);
	}
	/* A wrong subsystem NQN: Connect Invalid Parameters, IATTR 1, IPO 256. */
	{
		struct th b;
		uint32_t dw0 = 0;

		th_open(&b, false, false);
		ck_assert_uint_eq(th_connect(&b, 0, 31, 0, 0xffff, "nqn.2014-08.org.x:none", &dw0),
				  KVC_ST_CMD_DNR(0x82));
		ck_assert_uint_eq(dw0, (1u << 16) | 256);
		th_close(&b);
	}
	th_close(&a);
	free(id);
}
END_TEST

static void kv_round(bool hd, bool dd)
{
	struct th a, q;
	static uint8_t big[200000], back[200000];
	uint8_t small[300], sback[4096];
	uint32_t i, got;
	struct kvc_sqe sqe;
	uint8_t *list = calloc(1, 4096);
	struct xfer x = { .rbuf = list, .rlen = 4096 };
	uint32_t n = 0;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31 + (i >> 9));
	for (i = 0; i < sizeof(small); i++)
		small[i] = (uint8_t)(i ^ 0x5a);
	th_admin(&a, hd, dd, 0);
	th_io(&q, &a, 1, hd, dd);
	ck_assert_uint_eq(store(&q, "small", small, sizeof(small), true, 0), 0); /* in-capsule */
	ck_assert_uint_eq(store(&q, "big", big, sizeof(big), false, 0), 0);	 /* R2T, 64 KiB */
	ck_assert_uint_eq(store(&q, "odd", big, 5001, false, 777), 0); /* H2CData of 777 B */
	ck_assert_uint_eq(retrieve(&q, "big", back, sizeof(back), &got), 0);
	ck_assert_uint_eq(got, sizeof(big));
	ck_assert_mem_eq(back, big, sizeof(big));
	ck_assert_uint_eq(retrieve(&q, "small", sback, sizeof(sback), &got), 0);
	ck_assert_uint_eq(got, sizeof(small));
	ck_assert_mem_eq(sback, small, sizeof(small));
	ck_assert_uint_eq(retrieve(&q, "odd", back, 8192, &got), 0);
	ck_assert_uint_eq(got, 5001);
	ck_assert_mem_eq(back, big, 5001);
	ck_assert_uint_eq(simple(&q, KVC_KV_EXIST, "small"), 0);
	ck_assert_uint_eq(simple(&q, KVC_KV_DELETE, "small"), 0);
	ck_assert_uint_eq(simple(&q, KVC_KV_EXIST, "small") & 0xff, 0x87);
	ck_assert_uint_eq(retrieve(&q, "small", sback, sizeof(sback), &got) & 0xff, 0x87);
	/* List from the start: "big" and "odd", sorted. */
	kv_sqe(&sqe, KVC_KV_LIST, "", 4096);
	ck_assert_uint_eq(th_exec(&q, &sqe, &x, &n), 0);
	ck_assert_uint_eq(n, 2);
	{
		struct kvc_list_reader r;
		const uint8_t *k;
		uint8_t kl;

		ck_assert_int_eq(kvc_list_reader_init(&r, list, x.got), 0);
		ck_assert_int_eq(kvc_list_reader_next(&r, &k, &kl), 1);
		ck_assert_mem_eq(k, "big", 3);
		ck_assert_int_eq(kvc_list_reader_next(&r, &k, &kl), 1);
		ck_assert_mem_eq(k, "odd", 3);
	}
	/* Keep Alive on the admin queue. */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_KEEP_ALIVE;
	ck_assert_uint_eq(th_exec(&a, &sqe, NULL, NULL), 0);
	th_close(&q);
	th_close(&a);
	free(list);
}

START_TEST(kv_commands)
{
	kv_round(false, false);
}
END_TEST

START_TEST(kv_commands_with_digests)
{
	kv_round(true, true);
}
END_TEST

START_TEST(keep_alive_expiry)
{
	struct th a, b;
	struct kvc_sqe sqe;
	uint32_t dw0;

	th_admin(&a, false, false, 1000);
	/* Silent for longer than KATO: the controller and its connection go. */
	ck_assert(closed_by_peer(a.fd));
	th_close(&a);
	/* The subsystem serves new hosts; kept alive, a controller stays. */
	th_admin(&b, false, false, 1000);
	for (int i = 0; i < 6; i++) {
		sleep_ms(300);
		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = KVC_ADM_KEEP_ALIVE;
		ck_assert_uint_eq(th_exec(&b, &sqe, NULL, &dw0), 0);
	}
	th_close(&b);
}
END_TEST

/* A target that stops reading for longer than KATO (SIGSTOP here; a long stall
 * of its thread in real life) while a Keep Alive waits in its socket must read
 * that Keep Alive before it judges the host silent.  The target spins (a long
 * idle-spin-us) so that it resumes in its polling loop, not in epoll_wait. */
START_TEST(keep_alive_waiting_in_the_socket_counts_regression)
{
	struct th a;
	struct kvc_sqe sqe, ka;
	struct kvc_tcp_cmd pdu;
	uint8_t hdr[24], *data = NULL;
	uint32_t dw0, dlen;
	char p[16];

	ck_assert_int_eq(emu_stop(&emu, SIGTERM), 0);
	snprintf(p, sizeof(p), "%u", port);
	ck_assert_int_eq(emu_start(&emu, "--tcp", p, "--idle-spin-us", "1000000", NULL), 0);
	th_admin(&a, false, false, 1000);
	memset(&ka, 0, sizeof(ka));
	ka.opc = KVC_ADM_KEEP_ALIVE;
	sqe = ka;
	ck_assert_uint_eq(th_exec(&a, &sqe, NULL, &dw0), 0);
	sleep_ms(100);
	ck_assert_int_eq(kill(emu.pid, SIGSTOP), 0);
	sleep_ms(400);
	/* Sent 0.5 s after the last one, well within KATO; it waits in the socket. */
	sqe = ka;
	kvc_sqe_set_cid(&sqe, a.cid++);
	set_sgl(&sqe, false, 0);
	memset(&pdu, 0, sizeof(pdu));
	pdu.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
	pdu.sqe = sqe;
	send_pdu(&a, &pdu, sizeof(pdu), NULL, 0);
	sleep_ms(1700); /* 2.2 s since the last Keep Alive the target read: past KATO + grace */
	ck_assert_int_eq(kill(emu.pid, SIGCONT), 0);
	ck_assert_msg(
		recv_pdu(&a, hdr, &data, &dlen),
		"the target closed the connection of a host whose Keep Alive it had not read");
	free(data);
	ck_assert_uint_eq(hdr[0], KVC_TCP_CAPSULE_RESP);
	ck_assert_uint_eq(kvc_cqe_status((struct kvc_cqe *)(hdr + 8)), 0);
	sqe = ka;
	ck_assert_uint_eq(th_exec(&a, &sqe, NULL, &dw0), 0);
	th_close(&a);
}
END_TEST

START_TEST(stalled_host_does_not_block_another)
{
	struct th a, aq, b, bq;
	static uint8_t v[100000], back[100000];
	struct kvc_tcp_cmd half;
	uint32_t got, i;

	for (i = 0; i < sizeof(v); i++)
		v[i] = (uint8_t)(i * 7);
	th_admin(&a, false, false, 0);
	th_io(&aq, &a, 1, false, false);
	ck_assert_uint_eq(store(&aq, "shared", v, sizeof(v), false, 0), 0);
	/* A: half a capsule, then nothing; and a flood of Retrieves it never reads. */
	memset(&half, 0, sizeof(half));
	half.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
	half.ch.hlen = 72;
	kvc_put_le32(&half.ch.plen, 72);
	th_admin(&b, false, false, 0);
	th_io(&bq, &b, 1, false, false);
	for (i = 0; i < 100; i++) {
		struct kvc_tcp_cmd pdu;

		memset(&pdu, 0, sizeof(pdu));
		pdu.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
		pdu.ch.hlen = 72;
		kvc_put_le32(&pdu.ch.plen, 72);
		kv_sqe(&pdu.sqe, KVC_KV_RETRIEVE, "shared", sizeof(v));
		kvc_sqe_set_cid(&pdu.sqe, (uint16_t)(1000 + i));
		set_sgl(&pdu.sqe, false, sizeof(v));
		put_all(aq.fd, &pdu, sizeof(pdu));
	}
	put_all(a.fd, &half, 30);
	/* B, the other host, is served meanwhile, byte for byte. */
	for (i = 0; i < 5; i++) {
		ck_assert_uint_eq(retrieve(&bq, "shared", back, sizeof(back), &got), 0);
		ck_assert_uint_eq(got, sizeof(v));
		ck_assert_mem_eq(back, v, sizeof(v));
	}
	th_close(&aq);
	th_close(&a);
	ck_assert_uint_eq(retrieve(&bq, "shared", back, sizeof(back), &got), 0);
	th_close(&bq);
	th_close(&b);
}
END_TEST

/* Malformed PDUs: each on a fresh connection (after ICReq, or Connect). */
enum bad {
	BAD_TYPE,
	BAD_HLEN,
	BAD_PLEN,
	BAD_PDO,
	BAD_HDGST,
	BAD_DDGST,
	BAD_PAST_LENGTH,
	BAD_TTAG,
	BAD_OVERSIZED,
	BAD_ICREQ_AGAIN,
	BAD_FIRST_NOT_ICREQ,
	BAD_NUM
};

static void send_bad(enum bad k, struct th *h, struct th *admin)
{
	struct kvc_tcp_cmd pdu;
	uint8_t raw[256];
	uint32_t dw0;

	memset(&pdu, 0, sizeof(pdu));
	pdu.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
	switch (k) {
	case BAD_TYPE:
		th_open(h, false, false);
		pdu.ch.pdu_type = KVC_TCP_CAPSULE_RESP; /* a target's PDU */
		send_pdu(h, &pdu, 24, NULL, 0);
		break;
	case BAD_HLEN:
		th_open(h, false, false);
		send_pdu(h, &pdu, 64, NULL, 0);
		break;
	case BAD_PLEN:
		th_open(h, false, false);
		pdu.ch.hlen = 72;
		kvc_put_le32(&pdu.ch.plen, 40); /* below the header */
		put_all(h->fd, &pdu, sizeof(pdu));
		break;
	case BAD_PDO:
		th_open(h, false, false);
		memset(raw, 0, sizeof(raw));
		pdu.ch.hlen = 72;
		pdu.ch.pdo = 80;
		kvc_put_le32(&pdu.ch.plen, 72 + 16);
		put_all(h->fd, &pdu, sizeof(pdu));
		put_all(h->fd, raw, 16);
		break;
	case BAD_HDGST:
		th_open(h, true, false);
		memset(raw, 0, sizeof(raw));
		pdu.ch.hlen = 72;
		pdu.ch.flags = KVC_TCP_F_HDGSTF;
		kvc_put_le32(&pdu.ch.plen, 76);
		put_all(h->fd, &pdu, sizeof(pdu));
		put_all(h->fd, "\x01\x02\x03\x04", 4);
		break;
	case BAD_DDGST: {
		uint8_t data[1024 + 4] = { 0 };

		th_open(h, false, true);
		pdu.ch.hlen = 72;
		pdu.ch.pdo = 72;
		pdu.ch.flags = KVC_TCP_F_DDGSTF;
		kvc_put_le32(&pdu.ch.plen, 72 + sizeof(data));
		put_all(h->fd, &pdu, sizeof(pdu));
		put_all(h->fd, data, sizeof(data)); /* CRC32C of zeros is not 0 */
		break;
	}
	case BAD_PAST_LENGTH:
	case BAD_TTAG: {
		struct kvc_tcp_cmd c;
		struct kvc_tcp_data d;
		uint8_t hdr[24], *data;
		uint32_t dlen;

		th_io(h, admin, 2, false, false);
		memset(&c, 0, sizeof(c));
		c.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
		kv_sqe(&c.sqe, KVC_KV_STORE, "r2t", 8192);
		kvc_sqe_set_cid(&c.sqe, 9);
		set_sgl(&c.sqe, false, 8192);
		send_pdu(h, &c, sizeof(c), NULL, 0);
		ck_assert(recv_pdu(h, hdr, &data, &dlen));
		ck_assert_uint_eq(hdr[0], KVC_TCP_R2T);
		memset(&d, 0, sizeof(d));
		d.ch.pdu_type = KVC_TCP_H2C_DATA;
		d.cccid = ((struct kvc_tcp_r2t *)hdr)->cccid;
		d.ttag = ((struct kvc_tcp_r2t *)hdr)->ttag;
		memset(raw, 0, sizeof(raw));
		if (k == BAD_TTAG) {
			kvc_put_le16(&d.ttag, 999);
			kvc_put_le32(&d.datal, 100);
			send_pdu(h, &d, sizeof(d), raw, 100);
		} else {
			kvc_put_le32(&d.datao, 8192 - 100);
			kvc_put_le32(&d.datal, 200);
			send_pdu(h, &d, sizeof(d), raw, 200);
		}
		break;
	}
	case BAD_OVERSIZED: {
		static uint8_t data[9000];

		th_open(h, false, false);
		pdu.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
		send_pdu(h, &pdu, 72, data, sizeof(data)); /* above 8 KiB on admin */
		break;
	}
	case BAD_ICREQ_AGAIN: {
		struct kvc_tcp_icreq q;

		th_open(h, false, false);
		memset(&q, 0, sizeof(q));
		q.ch.pdu_type = KVC_TCP_ICREQ;
		q.ch.hlen = 128;
		kvc_put_le32(&q.ch.plen, 128);
		put_all(h->fd, &q, sizeof(q));
		break;
	}
	case BAD_FIRST_NOT_ICREQ:
		memset(h, 0, sizeof(*h));
		h->fd = tcp_dial();
		ck_assert_int_ge(h->fd, 0);
		pdu.ch.hlen = 72;
		kvc_put_le32(&pdu.ch.plen, 72);
		put_all(h->fd, &pdu, sizeof(pdu));
		break;
	default:
		break;
	}
	(void)dw0;
}

START_TEST(malformed_pdus_cost_only_their_connection)
{
	struct th a, q, bad;
	static uint8_t v[3000], back[3000];
	uint32_t got;
	int k;

	memset(v, 0x3c, sizeof(v));
	th_admin(&a, false, false, 0);
	th_io(&q, &a, 1, false, false);
	for (k = 0; k < BAD_NUM; k++) {
		uint8_t hdr[24];

		send_bad((enum bad)k, &bad, &a);
		ck_assert_msg(get_all(bad.fd, hdr, 24, TMO_MS), "case %d: no C2HTermReq", k);
		ck_assert_msg(hdr[0] == KVC_TCP_C2H_TERM, "case %d: PDU type %u", k, hdr[0]);
		ck_assert_uint_eq(hdr[2], 24);
		ck_assert_uint_ne(kvc_get_le16(hdr + 8), 0); /* FES */
		ck_assert_msg(closed_by_peer(bad.fd), "case %d: connection left open", k);
		th_close(&bad);
		/* The good host is still served. */
		ck_assert_uint_eq(store(&q, "alive", v, sizeof(v), k & 1, 0), 0);
		ck_assert_uint_eq(retrieve(&q, "alive", back, sizeof(back), &got), 0);
		ck_assert_mem_eq(back, v, sizeof(v));
	}
	th_close(&q);
	th_close(&a);
}
END_TEST

/* Data pointers that need host memory: a fabric host has none to reach. */
START_TEST(address_sgls_and_prps_are_refused)
{
	struct th a, q;
	static uint8_t v[64], back[64];
	struct kvc_tcp_cmd pdu;
	struct kvc_sgl_desc d = { .addr = 0x1000, .len = 64, .type = KVC_SGL_SEGMENT };
	uint8_t hdr[24], *data;
	uint32_t dlen, got;
	int k;

	th_admin(&a, false, false, 0);
	th_io(&q, &a, 1, false, false);
	for (k = 0; k < 3; k++) {
		memset(&pdu, 0, sizeof(pdu));
		pdu.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
		kv_sqe(&pdu.sqe, KVC_KV_STORE, "seg", 64);
		kvc_sqe_set_cid(&pdu.sqe, (uint16_t)(500 + k));
		if (k < 2) { /* an SGL Segment, an address-form Data Block */
			d.type = k ? KVC_SGL_DATA_BLOCK : KVC_SGL_SEGMENT;
			pdu.sqe.flags = 1u << KVC_SQE_PSDT_SHIFT;
			kvc_sgl_put(kvc_sqe_bytes(&pdu.sqe) + KVC_SQE_OFF_PRP1, &d);
		} else { /* PRPs */
			kvc_sqe_set_prp(&pdu.sqe, 0x1000, 0);
		}
		send_pdu(&q, &pdu, sizeof(pdu), NULL, 0);
		ck_assert(recv_pdu(&q, hdr, &data, &dlen));
		ck_assert_uint_eq(hdr[0], KVC_TCP_CAPSULE_RESP);
		ck_assert_uint_ne(kvc_cqe_status((const struct kvc_cqe *)(hdr + 8)), 0);
	}
	memset(v, 7, sizeof(v));
	ck_assert_uint_eq(store(&q, "ok", v, sizeof(v), true, 0), 0);
	ck_assert_uint_eq(retrieve(&q, "ok", back, sizeof(back), &got), 0);
	ck_assert_mem_eq(back, v, sizeof(v));
	th_close(&q);
	th_close(&a);
}
END_TEST

START_TEST(discovery_lists_the_subsystem)
{
	struct th d;
	struct kvc_sqe sqe;
	uint8_t *buf = calloc(1, 8192);
	struct xfer x = { .rbuf = buf, .rlen = 4096 };
	uint32_t dw0 = 0, i;
	char portstr[16];

	th_open(&d, false, false);
	ck_assert_uint_eq(
		th_connect(&d, 0, 31, 0, 0xffff, "nqn.2014-08.org.nvmexpress.discovery", &dw0), 0);
	ck_assert_uint_ne(dw0 & 0xffff, 0);
	prop(&d, true, KVC_REG_CC, false, KVC_CC_EN);
	ck_assert_uint_eq(prop(&d, false, KVC_REG_CSTS, false, 0) & 1, 1);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_dw(&sqe, 10, 1);
	ck_assert_uint_eq(th_exec(&d, &sqe, &x, NULL), 0);
	ck_assert_uint_eq(((struct kvc_id_ctrl *)buf)->cntrltype, 2);
	ck_assert_str_eq(((struct kvc_id_ctrl *)buf)->subnqn,
			 "nqn.2014-08.org.nvmexpress.discovery");
	/* The header first, then the whole log, as nvme-cli reads it. */
	for (i = 0; i < 2; i++) {
		uint32_t len = i ? 2048 : 16;

		memset(buf, 0, 8192);
		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = KVC_ADM_GET_LOG_PAGE;
		kvc_sqe_set_dw(&sqe, 10, 0x70 | (len / 4 - 1) << 16);
		x = (struct xfer){ .rbuf = buf, .rlen = len };
		ck_assert_uint_eq(th_exec(&d, &sqe, &x, NULL), 0);
		ck_assert_uint_eq(x.got, len);
		ck_assert_uint_eq(kvc_get_le64(buf + 8), 1); /* one record */
	}
	snprintf(portstr, sizeof(portstr), "%u", port);
	ck_assert_uint_eq(buf[1024], 3);     /* TCP */
	ck_assert_uint_eq(buf[1024 + 1], 1); /* IPv4 */
	ck_assert_uint_eq(buf[1024 + 2], 2); /* NVM subsystem */
	ck_assert_str_eq((char *)buf + 1024 + 32, portstr);
	/* SUBNQN at 256, TRADDR at 512 (as nvme-cli prints them). */
	ck_assert_str_eq((char *)buf + 1024 + 256, NQN);
	ck_assert_str_eq((char *)buf + 1024 + 512, "127.0.0.1");
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_KEEP_ALIVE;
	ck_assert_uint_eq(th_exec(&d, &sqe, NULL, NULL), 0);
	/* I/O commands have no place on a discovery controller. */
	kv_sqe(&sqe, KVC_KV_EXIST, "k", 0);
	ck_assert_uint_ne(th_exec(&d, &sqe, NULL, NULL), 0);
	th_close(&d);
	free(buf);
}
END_TEST

/* The discovery record's TREQ was 10b (secure channel not required): nvme-cli
 * 2.3 / libnvme 1.3 then connect with "tls", which Linux 6.1 refuses, so
 * `nvme connect-all` failed.  TREQ is 0 (not specified), as nvmet has it. */
START_TEST(discovery_treq_does_not_ask_for_tls_regression)
{
	struct th d;
	struct kvc_sqe sqe;
	uint8_t *buf = calloc(1, 2048);
	struct xfer x = { .rbuf = buf, .rlen = 2048 };
	uint32_t dw0 = 0;

	th_open(&d, false, false);
	ck_assert_uint_eq(
		th_connect(&d, 0, 31, 0, 0xffff, "nqn.2014-08.org.nvmexpress.discovery", &dw0), 0);
	prop(&d, true, KVC_REG_CC, false, KVC_CC_EN);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_GET_LOG_PAGE;
	kvc_sqe_set_dw(&sqe, 10, 0x70 | (2048 / 4 - 1) << 16);
	ck_assert_uint_eq(th_exec(&d, &sqe, &x, NULL), 0);
	ck_assert_uint_eq(kvc_get_le64(buf + 8), 1);
	ck_assert_uint_eq(buf[1024], 3);	 /* TCP */
	ck_assert_uint_eq(buf[1024 + 3] & 3, 0); /* TREQ secure channel: not specified */
	ck_assert_uint_eq(buf[1024 + 768], 0);	 /* TSAS SECTYPE: none */
	th_close(&d);
	free(buf);
}
END_TEST

/* A block command of nlb blocks of 4 KiB at @slba on NSID 2. */
static void blk_sqe(struct kvc_sqe *sqe, uint8_t opc, uint64_t slba, uint32_t nlb)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = opc;
	kvc_sqe_set_nsid(sqe, 2);
	kvc_sqe_set_dw(sqe, 10, (uint32_t)slba);
	kvc_sqe_set_dw(sqe, 11, (uint32_t)(slba >> 32));
	kvc_sqe_set_dw(sqe, 12, nlb - 1);
}

/* MDTS bytes in one Write and one Read of the block namespace (Linux sends
 * them with max_sectors_kb raised, and io_uring passthrough at any size up to
 * MDTS): the target asked for at most max_value + 1 MiB (3 MiB) although
 * MDTS is 4 MiB, so the Write failed with a data transfer error and the Read
 * lost its data. */
START_TEST(block_transfer_of_mdts_bytes_regression)
{
	struct th a, q;
	struct kvc_sqe sqe;
	uint8_t *id = calloc(1, 4096), *w, *r;
	struct xfer x = { .rbuf = id, .rlen = 4096 };
	uint32_t mdts, i;

	th_admin(&a, false, false, 0);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_dw(&sqe, 10, 1);
	ck_assert_uint_eq(th_exec(&a, &sqe, &x, NULL), 0);
	/* CAP.MPSMIN is 0: MDTS counts 4 KiB pages. */
	mdts = 4096u << ((const struct kvc_id_ctrl *)id)->mdts;
	ck_assert_uint_ge(mdts, 4u << 20);
	w = malloc(mdts);
	r = calloc(1, mdts);
	for (i = 0; i < mdts; i++)
		w[i] = (uint8_t)(i * 7 + (i >> 12));
	th_io(&q, &a, 1, false, false);
	blk_sqe(&sqe, KVC_NVM_WRITE, 16, mdts / 4096);
	x = (struct xfer){ .wbuf = w, .wlen = mdts };
	ck_assert_uint_eq(th_exec(&q, &sqe, &x, NULL), 0);
	blk_sqe(&sqe, KVC_NVM_READ, 16, mdts / 4096);
	x = (struct xfer){ .rbuf = r, .rlen = mdts };
	ck_assert_uint_eq(th_exec(&q, &sqe, &x, NULL), 0);
	ck_assert_uint_eq(x.got, mdts);
	ck_assert(!memcmp(r, w, mdts));
	/* One block more than MDTS: refused with a status, the queue still works. */
	blk_sqe(&sqe, KVC_NVM_READ, 16, mdts / 4096 + 1);
	x = (struct xfer){ .rbuf = r, .rlen = mdts + 4096 };
	ck_assert_uint_ne(th_exec(&q, &sqe, &x, NULL), 0);
	blk_sqe(&sqe, KVC_NVM_READ, 16, 1);
	x = (struct xfer){ .rbuf = r, .rlen = 4096 };
	ck_assert_uint_eq(th_exec(&q, &sqe, &x, NULL), 0);
	ck_assert(!memcmp(r, w, 4096));
	th_close(&q);
	th_close(&a);
	free(r);
	free(w);
	free(id);
}
END_TEST

START_TEST(idle_target_uses_no_cpu)
{
	struct th a;
	long t0, t1;

	th_admin(&a, false, false, 0);
	sleep_ms(300);
	t0 = emu_cpu_ticks(&emu);
	sleep_ms(1000);
	t1 = emu_cpu_ticks(&emu);
	ck_assert_int_ge(t0, 0);
	ck_assert_int_le(t1 - t0, 5); /* 100 Hz ticks: <= 5% of a core */
	th_close(&a);
}
END_TEST

/* Send a Store with its value in the capsule; the response is read later. */
static void send_store(struct th *h, const char *key, const void *val, uint32_t len)
{
	struct kvc_tcp_cmd pdu;

	memset(&pdu, 0, sizeof(pdu));
	pdu.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
	kv_sqe(&pdu.sqe, KVC_KV_STORE, key, len);
	kvc_sqe_set_cid(&pdu.sqe, h->cid++);
	set_sgl(&pdu.sqe, true, len);
	send_pdu(h, &pdu, sizeof(pdu), val, len);
}

/* Read one CapsuleResp (no data PDUs expected); its status. */
static uint16_t recv_status(struct th *h)
{
	uint8_t hdr[24], *data = NULL;
	uint32_t dlen;

	ck_assert(recv_pdu(h, hdr, &data, &dlen));
	free(data);
	ck_assert_uint_eq(hdr[0], KVC_TCP_CAPSULE_RESP);
	return kvc_cqe_status((const struct kvc_cqe *)(hdr + 8));
}

static void val_of(uint8_t *v, uint32_t len, unsigned int a, unsigned int b)
{
	for (uint32_t i = 0; i < len; i++)
		v[i] = (uint8_t)(a * 131 + b * 7 + i);
}

/* The emulator's thread count (/proc/PID/status Threads:). */
static int emu_threads(void)
{
	char path[64], line[256];
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)emu.pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

#define NHOST 4
#define NQ 2
#define BATCH 32
#define ROUNDS 8

/*
 * Four hosts, each an admin and two I/O queues, twelve connections spread
 * over the target's four event threads, all pipelining Stores at once:
 * every command completes with success, on its own queue, and every value
 * reads back byte for byte from another host's queue.
 */
START_TEST(hosts_on_several_threads)
{
	static struct th adm[NHOST], io[NHOST][NQ];
	uint8_t v[64], back[64];
	char key[16];
	unsigned int h, q, r, k;
	uint32_t got;

	/* The firmware/shm thread and 4 event threads (and a sanitizer's own);
	 * the socket listens just before the threads start. */
	for (k = 0; k < 200 && emu_threads() < 1 + 4; k++)
		sleep_ms(10);
	ck_assert_int_ge(emu_threads(), 1 + 4);
	for (h = 0; h < NHOST; h++) {
		th_admin(&adm[h], false, false, 0);
		for (q = 0; q < NQ; q++)
			th_io(&io[h][q], &adm[h], (uint16_t)(q + 1), false, false);
	}
	for (r = 0; r < ROUNDS; r++) {
		for (h = 0; h < NHOST; h++)
			for (q = 0; q < NQ; q++)
				for (k = 0; k < BATCH; k++) {
					snprintf(key, sizeof(key), "h%uq%u-%u", h, q,
						 r * BATCH + k);
					val_of(v, sizeof(v), h * NQ + q, r * BATCH + k);
					send_store(&io[h][q], key, v, sizeof(v));
				}
		for (h = 0; h < NHOST; h++)
			for (q = 0; q < NQ; q++)
				for (k = 0; k < BATCH; k++)
					ck_assert_uint_eq(recv_status(&io[h][q]), 0);
	}
	for (h = 0; h < NHOST; h++)
		for (q = 0; q < NQ; q++)
			for (k = 0; k < ROUNDS * BATCH; k += 17) {
				snprintf(key, sizeof(key), "h%uq%u-%u", h, q, k);
				val_of(v, sizeof(v), h * NQ + q, k);
				ck_assert_uint_eq(retrieve(&io[(h + 1) % NHOST][q], key, back,
							   sizeof(back), &got),
						  0);
				ck_assert_uint_eq(got, sizeof(v));
				ck_assert_mem_eq(back, v, sizeof(v));
			}
	for (h = 0; h < NHOST; h++) {
		for (q = 0; q < NQ; q++)
			th_close(&io[h][q]);
		th_close(&adm[h]);
	}
}
END_TEST

/* A Store whose data the target asks for by R2T: its capsule only. */
static void send_r2t_store(struct th *h, const char *key, uint16_t cid, uint32_t len)
{
	struct kvc_tcp_cmd pdu;

	memset(&pdu, 0, sizeof(pdu));
	pdu.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
	kv_sqe(&pdu.sqe, KVC_KV_STORE, key, len);
	kvc_sqe_set_cid(&pdu.sqe, cid);
	set_sgl(&pdu.sqe, false, len);
	send_pdu(h, &pdu, sizeof(pdu), NULL, 0);
}

/* Expect an R2T for @cid; its transfer tag. */
static uint16_t recv_r2t(struct th *h, uint16_t cid)
{
	uint8_t hdr[24], *data = NULL;
	uint32_t dlen;

	ck_assert(recv_pdu(h, hdr, &data, &dlen));
	free(data);
	ck_assert_uint_eq(hdr[0], KVC_TCP_R2T);
	ck_assert_uint_eq(kvc_get_le16(&((const struct kvc_tcp_r2t *)hdr)->cccid), cid);
	return kvc_get_le16(&((const struct kvc_tcp_r2t *)hdr)->ttag);
}

static void send_h2c(struct th *h, uint16_t cid, uint16_t ttag, const void *v, uint32_t len)
{
	struct kvc_tcp_data d;

	memset(&d, 0, sizeof(d));
	d.ch.pdu_type = KVC_TCP_H2C_DATA;
	d.ch.flags = KVC_TCP_F_DATA_LAST;
	kvc_put_le16(&d.cccid, cid);
	kvc_put_le16(&d.ttag, ttag);
	kvc_put_le32(&d.datal, len);
	send_pdu(h, &d, sizeof(d), v, len);
}

/*
 * Command ids that share a slot of the target's table (cid modulo the queue
 * size + 1, 128 here) are told apart: both in flight at once complete with
 * their own data, and reusing an id still in flight, when it sits away from
 * its home slot, is caught as a protocol error.
 */
START_TEST(colliding_command_ids_are_told_apart)
{
	static uint8_t v1[8192], v2[8192], back[8192];
	struct th a, q;
	uint16_t t1, t2;
	uint32_t got;

	memset(v1, 0x5a, sizeof(v1));
	memset(v2, 0xa5, sizeof(v2));
	th_admin(&a, false, false, 0);
	th_io(&q, &a, 1, false, false);
	send_r2t_store(&q, "c5", 5, sizeof(v1));
	t1 = recv_r2t(&q, 5);
	send_r2t_store(&q, "c133", 133, sizeof(v2)); /* 133 % 128 == 5: displaced */
	t2 = recv_r2t(&q, 133);
	ck_assert_uint_ne(t1, t2);
	send_h2c(&q, 133, t2, v2, sizeof(v2));
	ck_assert_uint_eq(recv_status(&q), 0);
	send_h2c(&q, 5, t1, v1, sizeof(v1));
	ck_assert_uint_eq(recv_status(&q), 0);
	q.cid = 7;
	ck_assert_uint_eq(retrieve(&q, "c5", back, sizeof(back), &got), 0);
	ck_assert_mem_eq(back, v1, sizeof(v1));
	ck_assert_uint_eq(retrieve(&q, "c133", back, sizeof(back), &got), 0);
	ck_assert_mem_eq(back, v2, sizeof(v2));
	/* 133 displaced again, then reused while in flight: fatal. */
	send_r2t_store(&q, "c5", 5, sizeof(v1));
	recv_r2t(&q, 5);
	send_r2t_store(&q, "c133", 133, sizeof(v2));
	recv_r2t(&q, 133);
	send_r2t_store(&q, "dup", 133, sizeof(v2));
	{
		uint8_t hdr[24], *data = NULL;
		uint32_t dlen;

		ck_assert(recv_pdu(&q, hdr, &data, &dlen));
		free(data);
		ck_assert_uint_eq(hdr[0], KVC_TCP_C2H_TERM);
	}
	ck_assert(closed_by_peer(q.fd));
	th_close(&q);
	th_close(&a);
}
END_TEST

/*
 * The admin connection goes first, its I/O queues live on other event
 * threads: the thread that sees the close tears them down (the target closes
 * them), while their own threads may be reading them.  Repeated, so that
 * ThreadSanitizer sees the interleavings (conn_kill once published a
 * connection dead before it was done with it: its owner freed it meanwhile).
 */
START_TEST(admin_close_tears_down_queues_on_other_threads_regression)
{
	struct th a, io[3];
	unsigned int r, q;

	for (r = 0; r < 12; r++) {
		th_admin(&a, false, false, 0);
		for (q = 0; q < 3; q++)
			th_io(&io[q], &a, (uint16_t)(q + 1), false, false);
		for (q = 0; q < 3; q++) /* busy when the admin goes */
			send_store(&io[q], "tear", "down", 4);
		th_close(&a);
		for (q = 0; q < 3; q++) {
			ck_assert_msg(closed_by_peer(io[q].fd), "round %u queue %u left open", r,
				      q + 1);
			th_close(&io[q]);
		}
	}
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A host that stops reading its socket while the target owes it megabytes
 * of Retrieve data: another host, whose connections share the target's
 * threads with it, completes thousands of commands meanwhile, within a
 * bound far below what the stalled host's output would take to drain
 * (never); then the stalled host reads everything it was owed, intact.
 */
START_TEST(stalled_reader_does_not_slow_another)
{
	struct th a, aq, b, bq;
	static uint8_t big[100000], back[100000];
	uint8_t v[64], vb[64];
	char key[16];
	unsigned int i, n = 0;
	uint32_t got;
	double t0, took;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13);
	th_admin(&a, false, false, 0);
	th_io(&aq, &a, 1, false, false);
	th_admin(&b, false, false, 0);
	th_io(&bq, &b, 1, false, false);
	ck_assert_uint_eq(store(&aq, "big", big, sizeof(big), false, 0), 0);
	for (i = 0; i < 100; i++) { /* 10 MB owed, more than the target buffers */
		struct kvc_tcp_cmd pdu;

		memset(&pdu, 0, sizeof(pdu));
		pdu.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
		kv_sqe(&pdu.sqe, KVC_KV_RETRIEVE, "big", sizeof(big));
		kvc_sqe_set_cid(&pdu.sqe, (uint16_t)(1000 + i));
		set_sgl(&pdu.sqe, false, sizeof(big));
		send_pdu(&aq, &pdu, sizeof(pdu), NULL, 0);
	}
	sleep_ms(200);
	t0 = now_s();
	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "b%u", i % 100);
		val_of(v, sizeof(v), 9, i);
		ck_assert_uint_eq(store(&bq, key, v, sizeof(v), true, 0), 0);
		ck_assert_uint_eq(retrieve(&bq, key, vb, sizeof(vb), &got), 0);
		ck_assert_mem_eq(vb, v, sizeof(v));
		n += 2;
	}
	took = now_s() - t0;
	ck_assert_uint_eq(n, 4000);
	ck_assert_msg(took < 20.0, "4000 commands took %.1f s beside a stalled host", took);
	/* The stalled host reads what it is owed, in order, byte for byte. */
	for (i = 0; i < 100; i++) {
		uint8_t hdr[24], *data;
		uint32_t dlen, off = 0;

		for (;;) {
			data = NULL;
			ck_assert(recv_pdu(&aq, hdr, &data, &dlen));
			if (hdr[0] == KVC_TCP_CAPSULE_RESP)
				break;
			ck_assert_uint_eq(hdr[0], KVC_TCP_C2H_DATA);
			ck_assert_uint_eq(kvc_get_le16(hdr + 8), 1000 + i);
			ck_assert_uint_eq(kvc_get_le32(hdr + 12), off);
			memcpy(back + off, data, dlen);
			off += dlen;
			free(data);
		}
		free(data);
		ck_assert_uint_eq(kvc_get_le16(hdr + 8 + 12), 1000 + i);
		ck_assert_uint_eq(kvc_cqe_status((const struct kvc_cqe *)(hdr + 8)), 0);
		ck_assert_uint_eq(off, sizeof(big));
		ck_assert_mem_eq(back, big, sizeof(big));
	}
	th_close(&aq);
	th_close(&a);
	th_close(&bq);
	th_close(&b);
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *s = suite_create("integration/tcp");
	TCase *tc = tcase_create("tcp");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bring_up_identify_by_sgl);
	tcase_add_test(tc, kv_commands);
	tcase_add_test(tc, kv_commands_with_digests);
	tcase_add_test(tc, keep_alive_expiry);
	tcase_add_test(tc, keep_alive_waiting_in_the_socket_counts_regression);
	tcase_add_test(tc, stalled_host_does_not_block_another);
	tcase_add_test(tc, malformed_pdus_cost_only_their_connection);
	tcase_add_test(tc, address_sgls_and_prps_are_refused);
	tcase_add_test(tc, discovery_lists_the_subsystem);
	tcase_add_test(tc, discovery_treq_does_not_ask_for_tls_regression);
	tcase_add_test(tc, idle_target_uses_no_cpu);
	tcase_add_test(tc, block_transfer_of_mdts_bytes_regression);
	tcase_add_test(tc, stalled_reader_does_not_slow_another);
	tcase_add_test(tc, colliding_command_ids_are_told_apart);
	suite_add_tcase(s, tc);
	tc = tcase_create("threads");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup4, teardown);
	tcase_add_test(tc, hosts_on_several_threads);
	tcase_add_test(tc, admin_close_tears_down_queues_on_other_threads_regression);
	tcase_add_test(tc, malformed_pdus_cost_only_their_connection);
	tcase_add_test(tc, stalled_reader_does_not_slow_another);
	tcase_add_test(tc, idle_target_uses_no_cpu);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(tcp_suite)
