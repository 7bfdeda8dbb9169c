// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the NVMe/TCP target's PDU parser and everything behind
 * it (emu/tcp.c: common header checks, digests, ICReq, Connect, capsules
 * with in-capsule data, R2T/H2CData, the fabric controller of the firmware),
 * fed through socketless connections (emu_tcp_fake_conn) on a device built
 * on the unit tests' fake HAL.
 *
 * Input: byte 0 bit 0: start the connections with a valid prelude (ICReq,
 * Connect of the admin queue on connection 0, CC.EN, Number of Queues, and
 * Connect of I/O queue 1 on connection 1), so that the rest reaches command
 * handling; bit 1: ask for header and data digests in the prelude.  Then
 * records: one byte choosing the connection (low 2 bits; 3 = run the
 * controllers only), two bytes of length (little endian), that many bytes
 * fed to the connection.  After each record the target is polled.
 * Invariants: no sanitizer report, no leak; a connection that was closed
 * stays closed (feeding it returns -EPIPE); after the input, a fresh
 * connection still completes ICReq and an admin Connect.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/cmdset.h"
#include "cmdset/tcp.h"
#include "emu/log.h"
#include "emu/tcp.h"
#include "firmware/crc.h"
#include "firmware/fakehost.h"
#include "firmware/fw.h"
#include "fuzzhost.h"

#define NCONN 3

static struct fw_config cfg;
static struct fh_env env;

static void put_pdu(uint8_t *buf, size_t *n, void *hdr, uint8_t hlen, const void *data,
		    uint32_t dlen, bool hd, bool dd)
{
	struct kvc_tcp_ch *ch = hdr;
	uint32_t h = hd ? 4 : 0, d = dd && dlen ? 4 : 0;

	ch->hlen = hlen;
	ch->pdo = dlen ? (uint8_t)(hlen + h) : 0;
	ch->flags |= (h ? KVC_TCP_F_HDGSTF : 0) | (d ? KVC_TCP_F_DDGSTF : 0);
	kvc_put_le32(&ch->plen, hlen + h + dlen + d);
	memcpy(buf + *n, hdr, hlen);
	*n += hlen;
	if (h) {
		kvc_put_le32(buf + *n, fw_crc32c(0, hdr, hlen));
		*n += 4;
	}
	if (dlen)
		memcpy(buf + *n, data, dlen);
	*n += dlen;
	if (d) {
		kvc_put_le32(buf + *n, fw_crc32c(0, data, dlen));
		*n += 4;
	}
}

static size_t icreq(uint8_t *buf, bool dg)
{
	struct kvc_tcp_icreq q;

	memset(&q, 0, sizeof(q));
	q.ch.pdu_type = KVC_TCP_ICREQ;
	q.ch.hlen = 128;
	kvc_put_le32(&q.ch.plen, 128);
	q.dgst = dg ? 3 : 0;
	memcpy(buf, &q, sizeof(q));
	return sizeof(q);
}

static void capsule(uint8_t *buf, size_t *n, const struct kvc_sqe *sqe, const void *data,
		    uint32_t dlen, bool dg)
{
	struct kvc_tcp_cmd c;

	memset(&c, 0, sizeof(c));
	c.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
	c.sqe = *sqe;
	put_pdu(buf, n, &c, sizeof(c), data, dlen, dg, dg);
}

static void connect_sqe(struct kvc_sqe *sqe, uint8_t *data, uint16_t qid, uint16_t cntlid,
			const struct fw_subsys *s)
{
	uint8_t *b = kvc_sqe_bytes(sqe);

	memset(sqe, 0, sizeof(*sqe));
	memset(data, 0, 1024);
	sqe->opc = KVC_ADM_FABRICS;
	b[4] = FW_FCTYPE_CONNECT;
	kvc_put_le16(b + 42, qid);
	kvc_put_le16(b + 44, 15);
	kvc_put_le16(data + 16, cntlid);
	fw_subsys_nqn(s, (char *)data + 256, 256);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	static uint8_t buf[4096];
	struct emu_tcp_opts o = { .ioccsz = 260,
				  .maxh2c = 4096,
				  .max_xfer = 1 << 20,
				  .ic_ms = 1000,
				  .allow_digests = true };
	struct emu_tcp_conn *c[NCONN];
	struct fw_subsys *s;
	struct emu_tcp *t;
	bool dead[NCONN] = { false }, dg;
	size_t i = 1;
	int k;

	if (len < 1)
		return 0;
	emu_log_set_level(0); /* every protocol error would print a line */
	fh_small_config(&cfg);
	fh_env_init(&env, &cfg, false);
	CHECK(fw_subsys_create(&cfg, &env.hal, &s) == 0);
	t = emu_tcp_create(s, &o);
	CHECK(t);
	for (k = 0; k < NCONN; k++)
		CHECK((c[k] = emu_tcp_fake_conn(t)));
	dg = in[0] & 2;
	if (in[0] & 1) {
		struct kvc_sqe sqe;
		uint8_t data[1024];
		size_t n;
		bool busy = false;

		for (k = 0; k < NCONN; k++) {
			n = icreq(buf, dg);
			CHECK(emu_tcp_feed(t, c[k], buf, n) == 0);
		}
		n = 0;
		connect_sqe(&sqe, data, 0, 0xffff, s);
		capsule(buf, &n, &sqe, data, 1024, dg);
		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = KVC_ADM_FABRICS;
		kvc_sqe_bytes(&sqe)[4] = FW_FCTYPE_PROP_SET;
		kvc_put_le32(kvc_sqe_bytes(&sqe) + 44, KVC_REG_CC);
		kvc_put_le32(kvc_sqe_bytes(&sqe) + 48,
			     KVC_CC_EN | KVC_CC_CSS_ALL << KVC_CC_CSS_SHIFT);
		kvc_sqe_set_cid(&sqe, 2);
		capsule(buf, &n, &sqe, NULL, 0, dg);
		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = KVC_ADM_SET_FEATURES;
		kvc_sqe_set_dw(&sqe, 10, KVC_FEAT_NUM_QUEUES);
		kvc_sqe_set_dw(&sqe, 11, 0x00010001);
		kvc_sqe_set_cid(&sqe, 3);
		capsule(buf, &n, &sqe, NULL, 0, dg);
		CHECK(emu_tcp_feed(t, c[0], buf, n) == 0);
		emu_tcp_poll(t, &busy);
		n = 0;
		connect_sqe(&sqe, data, 1, 1, s); /* the first controller's id is 1 */
		capsule(buf, &n, &sqe, data, 1024, dg);
		CHECK(emu_tcp_feed(t, c[1], buf, n) == 0);
		emu_tcp_poll(t, &busy);
	}
	while (i + 3 <= len) {
		unsigned int sel = in[i] & 3;
		size_t n = in[i + 1] | (size_t)in[i + 2] << 8;
		bool busy = false;

		i += 3;
		if (n > len - i)
			n = len - i;
		if (sel < NCONN) {
			int rc = emu_tcp_feed(t, c[sel], in + i, n);

			if (dead[sel])
				CHECK(rc != 0);
			dead[sel] = rc != 0;
		}
		i += n;
		env.now += 1000000;
		emu_tcp_poll(t, &busy);
	}
	{ /* the target still takes a new host */
		struct emu_tcp_conn *nc = emu_tcp_fake_conn(t);
		struct kvc_sqe sqe;
		uint8_t data[1024];
		size_t n;
		bool busy = false;

		CHECK(nc);
		n = icreq(buf, false);
		CHECK(emu_tcp_feed(t, nc, buf, n) == 0);
		n = 0;
		connect_sqe(&sqe, data, 0, 0xffff, s);
		capsule(buf, &n, &sqe, data, 1024, false);
		CHECK(emu_tcp_feed(t, nc, buf, n) == 0);
		emu_tcp_poll(t, &busy);
	}
	emu_tcp_destroy(t);
	fw_subsys_destroy(s);
	fh_env_fini(&env);
	return 0;
}
