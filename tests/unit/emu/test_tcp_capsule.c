// SPDX-License-Identifier: MIT
/*
 * The NVMe/TCP target's capsule and R2T/H2CData handling (emu/tcp_capsule.c)
 * on socketless connections (emu_tcp_fake_conn) in front of a device on the
 * firmware tests' fake HAL: what a write larger than its in-capsule data
 * holds on the target between its R2T and its last H2CData.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/tcp.h"
#include "emu/log.h"
#include "emu/tcp.h"
#include "emu/tcp_internal.h"
#include "firmware/fakehost.c"

#define MAXH2C 4096u
#define XLEN (16u * MAXH2C)

static struct fw_config cfg;
static struct fh_env env;
static struct fw_subsys *sub;
static struct emu_tcp *tgt;
static struct emu_tcp_conn *adm, *ioc;

static void feed_pdu(struct emu_tcp_conn *c, void *hdr, uint8_t hlen, const void *data,
		     uint32_t dlen)
{
	static uint8_t buf[128 + MAXH2C + 1024];
	struct kvc_tcp_ch *ch = hdr;

	ch->hlen = hlen;
	ch->pdo = dlen ? hlen : 0;
	kvc_put_le32(&ch->plen, hlen + dlen);
	memcpy(buf, hdr, hlen);
	if (dlen)
		memcpy(buf + hlen, data, dlen);
	ck_assert_int_eq(emu_tcp_feed(tgt, c, buf, hlen + dlen), 0);
}

static void feed_capsule(struct emu_tcp_conn *c, const struct kvc_sqe *sqe, const void *data,
			 uint32_t dlen)
{
	struct kvc_tcp_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.ch.pdu_type = KVC_TCP_CAPSULE_CMD;
	cmd.sqe = *sqe;
	feed_pdu(c, &cmd, sizeof(cmd), data, dlen);
}

static void feed_icreq(struct emu_tcp_conn *c)
{
	struct kvc_tcp_icreq q;

	memset(&q, 0, sizeof(q));
	q.ch.pdu_type = KVC_TCP_ICREQ;
	feed_pdu(c, &q, sizeof(q), NULL, 0);
}

static void feed_connect(struct emu_tcp_conn *c, uint16_t qid, uint16_t cntlid)
{
	struct kvc_sqe sqe;
	uint8_t *b = kvc_sqe_bytes(&sqe), data[1024];

	memset(&sqe, 0, sizeof(sqe));
	memset(data, 0, sizeof(data));
	sqe.opc = KVC_ADM_FABRICS;
	b[4] = FW_FCTYPE_CONNECT;
	kvc_put_le16(b + 42, qid);
	kvc_put_le16(b + 44, 15);
	kvc_put_le16(data + 16, cntlid);
	fw_subsys_nqn(sub, (char *)data + 256, 256);
	feed_capsule(c, &sqe, data, sizeof(data));
}

static void poll_target(void)
{
	bool busy = true;
	int i;

	for (i = 0; i < 100 && busy; i++) {
		busy = false;
		emu_tcp_poll(tgt, &busy);
	}
}

/* ICReq on both connections, the admin Connect, CC.EN, one I/O queue, its Connect. */
static void setup(void)
{
	struct emu_tcp_opts o = { .ioccsz = 4, /* no in-capsule data on I/O queues */
				  .maxh2c = MAXH2C,
				  .max_xfer = 1 << 20,
				  .ic_ms = 1000 };
	struct kvc_sqe sqe;

	emu_log_set_level(0);
	fh_small_config(&cfg);
	fh_env_init(&env, &cfg, false);
	env.auto_clock = true;
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), 0);
	tgt = emu_tcp_create(sub, &o);
	ck_assert_ptr_nonnull(tgt);
	adm = emu_tcp_fake_conn(tgt);
	ioc = emu_tcp_fake_conn(tgt);
	ck_assert_ptr_nonnull(adm);
	ck_assert_ptr_nonnull(ioc);
	feed_icreq(adm);
	feed_icreq(ioc);
	feed_connect(adm, 0, 0xffff);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_FABRICS;
	kvc_sqe_bytes(&sqe)[4] = FW_FCTYPE_PROP_SET;
	kvc_put_le32(kvc_sqe_bytes(&sqe) + 44, KVC_REG_CC);
	kvc_put_le32(kvc_sqe_bytes(&sqe) + 48, KVC_CC_EN | KVC_CC_CSS_ALL << KVC_CC_CSS_SHIFT);
	kvc_sqe_set_cid(&sqe, 2);
	feed_capsule(adm, &sqe, NULL, 0);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_SET_FEATURES;
	kvc_sqe_set_dw(&sqe, 10, KVC_FEAT_NUM_QUEUES);
	kvc_sqe_set_dw(&sqe, 11, 0x00010001);
	kvc_sqe_set_cid(&sqe, 3);
	feed_capsule(adm, &sqe, NULL, 0);
	poll_target();
	feed_connect(ioc, 1, 1); /* the first controller's id is 1 */
	poll_target();
	ck_assert_ptr_nonnull(ioc->as);
	ck_assert_uint_eq(ioc->qid, 1);
}

static void teardown(void)
{
	emu_tcp_destroy(tgt);
	fw_subsys_destroy(sub);
	fh_env_fini(&env);
}

/* A KV Store of @len bytes whose data goes by R2T (a Transport SGL Data Block). */
static void store_by_r2t(uint16_t cid, uint32_t len)
{
	struct kvc_sgl_desc d = { .len = len,
				  .type = KVC_SGL_TRANSPORT_DATA_BLOCK,
				  .subtype = KVC_SGL_SUB_TRANSPORT };
	struct kvc_kv_cmd kv = {
		.opc = KVC_KV_STORE, .klen = 3, .cid = cid, .nsid = 1, .size = len
	};
	struct kvc_sqe sqe;

	memcpy(kv.key, "r2t", 3);
	ck_assert_int_eq(kvc_kv_encode(&sqe, &kv), 0);
	sqe.flags = KVC_PSDT_SGL_MBUF << KVC_SQE_PSDT_SHIFT;
	kvc_sgl_put(kvc_sqe_bytes(&sqe) + KVC_SQE_OFF_PRP1, &d);
	feed_capsule(ioc, &sqe, NULL, 0);
}

static void feed_h2c(uint16_t cid, uint16_t ttag, uint32_t off, const uint8_t *data, uint32_t n,
		     bool last)
{
	struct kvc_tcp_data h;

	memset(&h, 0, sizeof(h));
	h.ch.pdu_type = KVC_TCP_H2C_DATA;
	h.ch.flags = last ? KVC_TCP_F_DATA_LAST : 0;
	kvc_put_le16(&h.cccid, cid);
	kvc_put_le16(&h.ttag, ttag);
	kvc_put_le32(&h.datao, off);
	kvc_put_le32(&h.datal, n);
	feed_pdu(ioc, &h, sizeof(h), data, n);
}

/*
 * A capsule alone used to make the target allocate the whole transfer
 * (up to max_xfer) at its R2T, so a host could pin sqsize x max_xfer bytes
 * per connection by sending capsules and never their data.  The buffer now
 * grows with the H2CData that arrive: nothing before the first, never more
 * than twice what came, and the data arrive whole.
 */
START_TEST(r2t_buffer_grows_with_h2c_data)
{
	static uint8_t val[XLEN];
	struct tcmd *m;
	uint32_t off, i;

	for (i = 0; i < XLEN; i++)
		val[i] = (uint8_t)(i * 7 + 3);
	store_by_r2t(5, XLEN);
	m = emu_tcp_slot_of(ioc, 5);
	ck_assert_ptr_nonnull(m);
	ck_assert(m->need_data);
	ck_assert_ptr_null(m->in);
	ck_assert_uint_eq(m->in_cap, 0);
	for (off = 0; off < XLEN; off += MAXH2C) {
		feed_h2c(5, (uint16_t)(m - ioc->slots), off, val + off, MAXH2C,
			 off + MAXH2C == XLEN);
		ck_assert_uint_eq(m->in_len, off + MAXH2C);
		ck_assert_uint_ge(m->in_cap, m->in_len);
		ck_assert_uint_le(m->in_cap, 2 * m->in_len);
	}
	ck_assert(!m->need_data);
	ck_assert_mem_eq(m->in, val, XLEN);
	poll_target();
	ck_assert_ptr_null(emu_tcp_slot_of(ioc, 5)); /* completed */
}
END_TEST

/* A command that never gets its data holds no data buffer, and goes with its connection. */
START_TEST(r2t_without_data_holds_nothing)
{
	struct tcmd *m;
	uint16_t cid;

	for (cid = 0; cid < 16; cid++) {
		store_by_r2t(cid, 1 << 20);
		m = emu_tcp_slot_of(ioc, cid);
		ck_assert_ptr_nonnull(m);
		ck_assert_ptr_null(m->in);
	}
}
END_TEST

static Suite *tcp_capsule_suite(void)
{
	Suite *s = suite_create("emu/tcp_capsule");
	TCase *tc = tcase_create("r2t");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, r2t_buffer_grows_with_h2c_data);
	tcase_add_test(tc, r2t_without_data_holds_nothing);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(tcp_capsule_suite)
