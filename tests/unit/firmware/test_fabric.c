// SPDX-License-Identifier: MIT
/*
 * Fabric controllers (firmware/fabric.c) driven by a fake fabric host:
 * Connect of the admin and I/O queues with every check, Property Get/Set
 * bring-up, reset and shutdown, admin commands by SGL, KV commands with
 * in-capsule and transport data, SQ flow control, Keep Alive expiry, several
 * controllers sharing the namespaces, and the PCIe model's accounting of
 * fabric commands.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fakehost.c"

static struct fh_env env;
static struct fw_subsys *sub;
static struct fw_config cfg;

#define ST(sc) KVC_ST_GENERIC_DNR(sc)

#define NCQE 64

/* One fake association: its registers, its posted completions and the data
 * of the command being executed. */
struct fab {
	uint32_t *bar;
	struct fw_host_if hif;
	struct fw_ctrl *ctrl;
	struct kvc_cqe cqe[NCQE];
	uint16_t cqe_qid[NCQE];
	unsigned int ncqe;
	uint8_t icd[8192]; /* in-capsule data */
	uint32_t icd_len;
	uint8_t in[8192];  /* H2C stream (what R2T would fetch) */
	uint8_t out[8192]; /* C2H stream */
	uint32_t out_len;
	uint16_t next_cid;
};

static struct fab fa, fb;

static void post(void *ctx, uint16_t qid, const void *cqe)
{
	struct fab *f = ctx;

	ck_assert_uint_lt(f->ncqe, NCQE);
	memcpy(&f->cqe[f->ncqe], cqe, sizeof(struct kvc_cqe));
	f->cqe_qid[f->ncqe++] = qid;
}

static int capd(void *ctx, uint16_t sqid, uint16_t cid, const void **data, uint32_t *len)
{
	struct fab *f = ctx;

	(void)sqid, (void)cid;
	*data = f->icd;
	*len = f->icd_len;
	return 0;
}

static int xrd(void *ctx, uint16_t sqid, uint16_t cid, uint64_t off, void *buf, size_t len)
{
	struct fab *f = ctx;

	(void)sqid, (void)cid;
	if (off > sizeof(f->in) || len > sizeof(f->in) - off)
		return -EIO;
	memcpy(buf, f->in + off, len);
	return 0;
}

static int xwr(void *ctx, uint16_t sqid, uint16_t cid, uint64_t off, const void *buf, size_t len)
{
	struct fab *f = ctx;

	(void)sqid, (void)cid;
	if (off > sizeof(f->out) || len > sizeof(f->out) - off)
		return -EIO;
	memcpy(f->out + off, buf, len);
	if (off + len > f->out_len)
		f->out_len = (uint32_t)(off + len);
	return 0;
}

static int no_mem(void *ctx, uint64_t a, void *b, size_t n)
{
	(void)ctx, (void)a, (void)b, (void)n;
	return -EFAULT;
}

static int no_mem_w(void *ctx, uint64_t a, const void *b, size_t n)
{
	(void)ctx, (void)a, (void)b, (void)n;
	return -EFAULT;
}

static void fab_init(struct fab *f)
{
	memset(f, 0, sizeof(*f));
	f->bar = calloc(1, fw_bar_size(&cfg));
	f->hif = (struct fw_host_if){ .ctx = f,
				      .bar = f->bar,
				      .bar_size = fw_bar_size(&cfg),
				      .dma_read = no_mem,
				      .dma_write = no_mem_w,
				      .capsule_data = capd,
				      .xport_read = xrd,
				      .xport_write = xwr,
				      .post_cqe = post,
				      .ioccsz = 260 };
	f->next_cid = 1;
}

static void fab_fini(struct fab *f)
{
	fw_ctrl_destroy(f->ctrl);
	free(f->bar);
}

static void connect_sqe(struct kvc_sqe *sqe, uint16_t qid, uint16_t sqsize, uint32_t kato)
{
	uint8_t *b = kvc_sqe_bytes(sqe);

	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = KVC_ADM_FABRICS;
	sqe->flags = 1u << KVC_SQE_PSDT_SHIFT;
	b[4] = FW_FCTYPE_CONNECT;
	kvc_put_le16(b + 42, qid);
	kvc_put_le16(b + 44, sqsize);
	kvc_put_le32(b + 48, kato);
}

static uint8_t cdata[1024];

static void connect_data(uint16_t cntlid, const char *nqn)
{
	memset(cdata, 0, sizeof(cdata));
	memset(cdata, 0xab, 16); /* host id */
	kvc_put_le16(cdata + 16, cntlid);
	strcpy((char *)cdata + 256, nqn);
	strcpy((char *)cdata + 512, "nqn.2014-08.org.nvmexpress:uuid:test");
}

static uint16_t do_connect(struct fab *f, uint16_t qid, uint16_t sqsize, uint32_t kato,
			   uint16_t cntlid, uint32_t *dw0)
{
	struct fw_ctrl *c = NULL;
	struct kvc_sqe sqe;
	char nqn[257];
	uint16_t st;

	fw_subsys_nqn(sub, nqn, sizeof(nqn));
	connect_sqe(&sqe, qid, sqsize, kato);
	connect_data(cntlid, nqn);
	st = fw_fabric_connect(sub, &f->hif, &sqe, cdata, sizeof(cdata), &c, dw0);
	if (!st && qid == 0)
		f->ctrl = c;
	if (!st)
		ck_assert_ptr_eq(c, f->ctrl);
	return st;
}

/* Submit and poll until its completion arrives; the status, DW0/DW1 out. */
static uint16_t run(struct fab *f, uint16_t qid, struct kvc_sqe *sqe, uint32_t *dw0, uint32_t *dw1)
{
	unsigned int before = f->ncqe, i;
	uint16_t cid = f->next_cid++;

	kvc_sqe_set_cid(sqe, cid);
	ck_assert_int_eq(fw_ctrl_submit(f->ctrl, qid, sqe), 0);
	for (i = 0; i < 100 && f->ncqe == before; i++)
		fw_ctrl_poll(f->ctrl);
	ck_assert_uint_eq(f->ncqe, before + 1);
	ck_assert_uint_eq(f->cqe_qid[before], qid);
	ck_assert_uint_eq(kvc_get_le16(&f->cqe[before].cid), cid);
	ck_assert_uint_eq(kvc_get_le16(&f->cqe[before].sqid), qid);
	if (dw0)
		*dw0 = kvc_get_le32(&f->cqe[before].dw0);
	if (dw1)
		*dw1 = kvc_get_le32(&f->cqe[before].dw1);
	return kvc_cqe_status(&f->cqe[before]);
}

static void prop_sqe(struct kvc_sqe *sqe, uint8_t fct, uint8_t attrib, uint32_t ofst, uint64_t v)
{
	uint8_t *b = kvc_sqe_bytes(sqe);

	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = KVC_ADM_FABRICS;
	b[4] = fct;
	b[40] = attrib;
	kvc_put_le32(b + 44, ofst);
	kvc_put_le64(b + 48, v);
}

static uint64_t prop_get(struct fab *f, uint32_t ofst, bool wide)
{
	struct kvc_sqe sqe;
	uint32_t lo, hi;

	prop_sqe(&sqe, FW_FCTYPE_PROP_GET, wide, ofst, 0);
	ck_assert_uint_eq(run(f, 0, &sqe, &lo, &hi), 0);
	return lo | (uint64_t)hi << 32;
}

static uint16_t prop_set(struct fab *f, uint32_t ofst, uint32_t v)
{
	struct kvc_sqe sqe;

	prop_sqe(&sqe, FW_FCTYPE_PROP_SET, 0, ofst, v);
	return run(f, 0, &sqe, NULL, NULL);
}

#define CC_ON (KVC_CC_EN | KVC_CC_CSS_ALL << KVC_CC_CSS_SHIFT | 6u << 16 | 4u << 20)

/* The transport SGL data block (reads, large writes) or in-capsule data. */
static void sgl(struct kvc_sqe *sqe, bool capsule, uint32_t len)
{
	struct kvc_sgl_desc d = { .addr = 0, .len = len };

	d.type = capsule ? KVC_SGL_DATA_BLOCK : KVC_SGL_TRANSPORT_DATA_BLOCK;
	d.subtype = capsule ? KVC_SGL_SUB_OFFSET : KVC_SGL_SUB_TRANSPORT;
	sqe->flags = 1u << KVC_SQE_PSDT_SHIFT;
	kvc_sgl_put(kvc_sqe_bytes(sqe) + KVC_SQE_OFF_PRP1, &d);
}

static void bring_up(struct fab *f, uint32_t kato)
{
	uint32_t dw0 = 1;

	ck_assert_uint_eq(do_connect(f, 0, 31, kato, 0xffff, &dw0), 0);
	ck_assert_uint_ne(dw0 & 0xffff, 0);
	ck_assert_uint_eq(dw0 >> 16, 0); /* no authentication */
	ck_assert_uint_eq(prop_set(f, KVC_REG_CC, CC_ON), 0);
	ck_assert_uint_eq(prop_get(f, KVC_REG_CSTS, false) & KVC_CSTS_RDY, KVC_CSTS_RDY);
}

static void setup(void)
{
	fh_small_config(&cfg);
	fh_env_init(&env, &cfg, false);
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), 0);
	fab_init(&fa);
	fab_init(&fb);
}

static void teardown(void)
{
	fab_fini(&fa);
	fab_fini(&fb);
	fw_subsys_destroy(sub);
	fh_env_fini(&env);
}

START_TEST(bring_up_by_properties)
{
	struct kvc_sqe sqe;
	uint64_t cap;
	uint32_t dw0;

	ck_assert_uint_eq(do_connect(&fa, 0, 31, 5000, 0xffff, &dw0), 0);
	/* Before CC.EN only Fabrics commands. */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_dw(&sqe, 10, 1);
	sgl(&sqe, false, 4096);
	ck_assert_uint_eq(run(&fa, 0, &sqe, NULL, NULL), ST(KVC_SC_CMD_SEQ_ERROR));
	cap = prop_get(&fa, KVC_REG_CAP, true);
	ck_assert_uint_eq(cap & 0xffff, cfg.mqes - 1);
	ck_assert(cap & KVC_CAP_CSS_IOCS);
	ck_assert_uint_eq(prop_get(&fa, KVC_REG_VS, false), KVC_VS(2, 0, 0));
	ck_assert_uint_eq(prop_get(&fa, KVC_REG_CSTS, false), 0);
	/* A 4-byte CAP, an unknown property, a write to CAP: Invalid Field. */
	prop_sqe(&sqe, FW_FCTYPE_PROP_GET, 0, KVC_REG_CAP, 0);
	ck_assert_uint_eq(run(&fa, 0, &sqe, NULL, NULL), ST(KVC_SC_INVALID_FIELD));
	prop_sqe(&sqe, FW_FCTYPE_PROP_GET, 0, 0x40, 0);
	ck_assert_uint_eq(run(&fa, 0, &sqe, NULL, NULL), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(prop_set(&fa, KVC_REG_CAP, 1), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(prop_set(&fa, KVC_REG_CC, 0), 0);
	ck_assert_uint_eq(prop_set(&fa, KVC_REG_CC, CC_ON), 0);
	ck_assert_uint_eq(prop_get(&fa, KVC_REG_CC, false), CC_ON); /* read back */
	ck_assert_uint_eq(prop_get(&fa, KVC_REG_CSTS, false), KVC_CSTS_RDY);
	/* Identify Controller by SGL (refused on PCIe admin queues). */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_dw(&sqe, 10, 1);
	sgl(&sqe, false, 4096);
	ck_assert_uint_eq(run(&fa, 0, &sqe, NULL, NULL), 0);
	ck_assert_uint_eq(fa.out_len, 4096);
	{
		const struct kvc_id_ctrl *id = (const void *)fa.out;
		char nqn[257];

		fw_subsys_nqn(sub, nqn, sizeof(nqn));
		ck_assert_uint_eq(kvc_get_le16(&id->cntlid), dw0 & 0xffff);
		ck_assert_uint_eq(kvc_get_le32(&id->ioccsz), 260);
		ck_assert_uint_eq(kvc_get_le32(&id->iorcsz), 1);
		ck_assert_uint_eq(kvc_get_le16(&id->icdoff), 0);
		ck_assert_uint_ne(kvc_get_le16(&id->kas), 0);
		ck_assert_uint_eq(kvc_get_le32(&id->ctratt), KVC_CTRATT_TBKAS);
		ck_assert_uint_ne(kvc_get_le32(&id->sgls) & 3, 0);
		ck_assert(kvc_get_le32(&id->sgls) & KVC_SGLS_TRANSPORT);
		ck_assert_uint_eq(id->cntrltype, 1);
		ck_assert_str_eq(id->subnqn, nqn);
	}
	/* Connect again on a connected queue: Command Sequence Error. */
	connect_sqe(&sqe, 0, 31, 0);
	ck_assert_uint_eq(run(&fa, 0, &sqe, NULL, NULL), ST(KVC_SC_CMD_SEQ_ERROR));
}
END_TEST

START_TEST(connect_checks)
{
	struct fw_ctrl *c;
	struct kvc_sqe sqe;
	uint32_t dw0;
	uint16_t id;

	ck_assert_uint_eq(do_connect(&fa, 0, 0, 0, 0xffff, &dw0),
			  KVC_ST_CMD_DNR(0x82)); /* SQSIZE 0 */
	ck_assert_uint_eq(dw0, 44);
	ck_assert_uint_eq(do_connect(&fa, 0, (uint16_t)cfg.mqes, 0, 0xffff, &dw0),
			  KVC_ST_CMD_DNR(0x82)); /* above MQES */
	ck_assert_uint_eq(do_connect(&fa, 0, 31, 0, 5, &dw0), KVC_ST_CMD_DNR(0x82));
	ck_assert_uint_eq(dw0, (1u << 16) | 16); /* static controller id */
	/* Wrong subsystem NQN. */
	connect_sqe(&sqe, 0, 31, 0);
	connect_data(0xffff, "nqn.2014-08.org.example:other");
	ck_assert_uint_eq(fw_fabric_connect(sub, &fa.hif, &sqe, cdata, sizeof(cdata), &c, &dw0),
			  KVC_ST_CMD_DNR(0x82));
	ck_assert_uint_eq(dw0, (1u << 16) | 256);
	ck_assert_ptr_null(c);
	/* Short data; not a Connect. */
	ck_assert_uint_eq(fw_fabric_connect(sub, &fa.hif, &sqe, cdata, 512, &c, &dw0),
			  ST(KVC_SC_INVALID_FIELD));
	sqe.opc = KVC_ADM_IDENTIFY;
	ck_assert_uint_eq(fw_fabric_connect(sub, &fa.hif, &sqe, cdata, sizeof(cdata), &c, &dw0),
			  ST(KVC_SC_CMD_SEQ_ERROR));

	ck_assert_uint_eq(do_connect(&fa, 0, 31, 0, 0xffff, &dw0), 0);
	id = (uint16_t)dw0;
	/* An I/O queue before CC.EN. */
	ck_assert_uint_eq(do_connect(&fa, 1, 127, 0, id, &dw0), ST(KVC_SC_CMD_SEQ_ERROR));
	ck_assert_uint_eq(prop_set(&fa, KVC_REG_CC, CC_ON), 0);
	/* Unknown controller, other host id, QID past the queues granted. */
	ck_assert_uint_eq(do_connect(&fa, 1, 127, 0, (uint16_t)(id + 7), &dw0),
			  KVC_ST_CMD_DNR(0x82));
	ck_assert_uint_eq(do_connect(&fa, (uint16_t)(cfg.max_ioq + 1), 127, 0, id, &dw0),
			  KVC_ST_CMD_DNR(0x82));
	ck_assert_uint_eq(dw0, 42);
	connect_sqe(&sqe, 1, 127, 0);
	{
		char nqn[257];

		fw_subsys_nqn(sub, nqn, sizeof(nqn));
		connect_data(id, nqn);
	}
	cdata[0] ^= 1;
	ck_assert_uint_eq(fw_fabric_connect(sub, &fa.hif, &sqe, cdata, sizeof(cdata), &c, &dw0),
			  KVC_ST_CMD_DNR(0x82));
	ck_assert_uint_eq(dw0, 1u << 16);
	ck_assert_uint_eq(do_connect(&fa, 1, 127, 0, id, &dw0), 0);
	ck_assert_uint_eq(do_connect(&fa, 1, 127, 0, id, &dw0), ST(KVC_SC_CMD_SEQ_ERROR));
	/* No such queue. */
	ck_assert_int_eq(fw_ctrl_submit(fa.ctrl, 2, &sqe), -ENOENT);
}
END_TEST

static void kv_sqe(struct kvc_sqe *sqe, uint8_t opc, const char *key, uint32_t size)
{
	struct kvc_kv_cmd k = { .opc = opc, .nsid = 1, .size = size };

	k.klen = (uint8_t)strlen(key);
	memcpy(k.key, key, k.klen);
	ck_assert_int_eq(kvc_kv_encode(sqe, &k), 0);
}

START_TEST(kv_by_capsule_and_transport)
{
	struct kvc_sqe sqe;
	uint32_t dw0, i;
	uint16_t st;

	bring_up(&fa, 0);
	ck_assert_uint_eq(do_connect(&fa, 1, 127, 0, fw_ctrl_cntlid(fa.ctrl), &dw0), 0);
	/* Store, in-capsule. */
	for (i = 0; i < 100; i++)
		fa.icd[i] = (uint8_t)(i * 7);
	fa.icd_len = 100;
	kv_sqe(&sqe, KVC_KV_STORE, "capsule", 100);
	sgl(&sqe, true, 100);
	ck_assert_uint_eq(run(&fa, 1, &sqe, NULL, NULL), 0);
	fa.icd_len = 0;
	/* Store of 5000 bytes through the transport (R2T/H2CData). */
	for (i = 0; i < 5000; i++)
		fa.in[i] = (uint8_t)(i * 13 + 1);
	kv_sqe(&sqe, KVC_KV_STORE, "xport", 5000);
	sgl(&sqe, false, 5000);
	ck_assert_uint_eq(run(&fa, 1, &sqe, NULL, NULL), 0);
	/* Retrieve both (C2HData). */
	kv_sqe(&sqe, KVC_KV_RETRIEVE, "xport", 8192);
	sgl(&sqe, false, 8192);
	ck_assert_uint_eq(run(&fa, 1, &sqe, &dw0, NULL), 0);
	ck_assert_uint_eq(dw0, 5000);
	ck_assert_uint_eq(fa.out_len, 5000);
	ck_assert_mem_eq(fa.out, fa.in, 5000);
	fa.out_len = 0;
	kv_sqe(&sqe, KVC_KV_RETRIEVE, "capsule", 4096);
	sgl(&sqe, false, 4096);
	ck_assert_uint_eq(run(&fa, 1, &sqe, &dw0, NULL), 0);
	ck_assert_uint_eq(dw0, 100);
	ck_assert_mem_eq(fa.out, fa.icd, 100);
	/* Exist, Delete, Exist. */
	kv_sqe(&sqe, KVC_KV_EXIST, "capsule", 0);
	sgl(&sqe, false, 0);
	ck_assert_uint_eq(run(&fa, 1, &sqe, NULL, NULL), 0);
	kv_sqe(&sqe, KVC_KV_DELETE, "capsule", 0);
	sgl(&sqe, false, 0);
	ck_assert_uint_eq(run(&fa, 1, &sqe, NULL, NULL), 0);
	kv_sqe(&sqe, KVC_KV_EXIST, "capsule", 0);
	sgl(&sqe, false, 0);
	st = run(&fa, 1, &sqe, NULL, NULL);
	ck_assert_uint_eq(st & 0xff, 0x87);
	/* PRPs, or an SGL in host memory: a fabric host has none. */
	kv_sqe(&sqe, KVC_KV_EXIST, "x", 0);
	ck_assert_uint_eq(run(&fa, 1, &sqe, NULL, NULL), ST(KVC_SC_INVALID_FIELD));
	kv_sqe(&sqe, KVC_KV_STORE, "x", 64);
	sgl(&sqe, false, 64);
	kvc_sqe_bytes(&sqe)[39] = KVC_SGL_SEGMENT << 4;
	ck_assert_uint_ne(run(&fa, 1, &sqe, NULL, NULL), 0);
	/* SQHD moved with the nine commands of I/O queue 1. */
	ck_assert_uint_eq(kvc_get_le16(&fa.cqe[fa.ncqe - 1].sqhd), 9);
}
END_TEST

START_TEST(flow_control)
{
	struct kvc_sqe sqe;
	uint32_t dw0, i;

	bring_up(&fa, 0);
	ck_assert_uint_eq(do_connect(&fa, 1, 3, 0, fw_ctrl_cntlid(fa.ctrl), &dw0), 0);
	kv_sqe(&sqe, KVC_KV_EXIST, "k", 0);
	sgl(&sqe, false, 0);
	for (i = 0; i < 4; i++) { /* SQSIZE 3: four commands outstanding */
		kvc_sqe_set_cid(&sqe, (uint16_t)(100 + i));
		ck_assert_int_eq(fw_ctrl_submit(fa.ctrl, 1, &sqe), 0);
	}
	ck_assert_int_eq(fw_ctrl_submit(fa.ctrl, 1, &sqe), -EAGAIN);
	fa.ncqe = 0;
	fw_ctrl_poll(fa.ctrl);
	ck_assert_uint_eq(fa.ncqe, 4);
	ck_assert_int_eq(fw_ctrl_submit(fa.ctrl, 1, &sqe), 0);
}
END_TEST

START_TEST(keep_alive_expiry)
{
	struct kvc_sqe sqe;
	uint32_t i;

	env.auto_clock = false;
	bring_up(&fa, 1000);
	for (i = 0; i < 5; i++) {
		env.now += 600ull * 1000000; /* within KATO: kept alive */
		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = KVC_ADM_KEEP_ALIVE;
		sgl(&sqe, false, 0);
		ck_assert_uint_eq(run(&fa, 0, &sqe, NULL, NULL), 0);
		ck_assert(!fw_ctrl_expired(fa.ctrl));
	}
	/* Expiry is detected after KATO plus the controller's grace (KATO, at
	 * most 10 s: 2 s here) of silence, not before. */
	kvc_sqe_set_cid(&sqe, 77);
	env.now += 2000ull * 1000000;
	fw_ctrl_poll(fa.ctrl);
	ck_assert(!fw_ctrl_expired(fa.ctrl));
	env.now += 1;
	fw_ctrl_poll(fa.ctrl);
	ck_assert(fw_ctrl_expired(fa.ctrl));
	/* A deferred-free teardown with a command still queued. */
	ck_assert_int_eq(fw_ctrl_submit(fa.ctrl, 0, &sqe), 0);
	fw_ctrl_destroy(fa.ctrl); /* what the transport does */
	fa.ctrl = NULL;
	/* Its id is free again; KATO 0 never expires. */
	ck_assert_uint_eq(fw_subsys_free_cntlid(sub), 1);
	bring_up(&fb, 0);
	env.now += 3600ull * 1000000000;
	fw_ctrl_poll(fb.ctrl);
	ck_assert(!fw_ctrl_expired(fb.ctrl));
}
END_TEST

/* A Keep Alive counts when the transport hands it over, not when the ring
 * reaches it: one that arrived before the poll that found KATO passed (it was
 * judged on input read before a stall) clears that expiry. */
START_TEST(keep_alive_counts_on_arrival_regression)
{
	struct kvc_sqe sqe;

	env.auto_clock = false;
	bring_up(&fa, 1000);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_KEEP_ALIVE;
	sgl(&sqe, false, 0);
	ck_assert_uint_eq(run(&fa, 0, &sqe, NULL, NULL), 0);
	env.now += 2500ull * 1000000; /* the target's thread stalled 2.5 s */
	fw_ctrl_poll(fa.ctrl);
	ck_assert(fw_ctrl_expired(fa.ctrl));
	/* The host's Keep Alive, sent in time, read after the stall. */
	kvc_sqe_set_cid(&sqe, 90);
	ck_assert_int_eq(fw_ctrl_submit(fa.ctrl, 0, &sqe), 0);
	ck_assert(!fw_ctrl_expired(fa.ctrl));
	fa.ncqe = 0;
	fw_ctrl_poll(fa.ctrl);
	ck_assert_uint_eq(fa.ncqe, 1);
	ck_assert(!fw_ctrl_expired(fa.ctrl));
	/* Silent again for KATO and its grace: expired again. */
	env.now += 2001ull * 1000000;
	fw_ctrl_poll(fa.ctrl);
	ck_assert(fw_ctrl_expired(fa.ctrl));
}
END_TEST

/* Traffic-based keep alive (CTRATT.TBKAS): any command the controller receives
 * on its queues restarts the timer, so a host busy with I/O need not send Keep
 * Alive (Linux skips it when it saw completions).  Real silence still expires. */
START_TEST(io_traffic_keeps_alive_regression)
{
	struct kvc_sqe sqe;
	uint32_t dw0, i;

	env.auto_clock = false;
	bring_up(&fa, 1000);
	ck_assert_uint_eq(do_connect(&fa, 1, 31, 0, fw_ctrl_cntlid(fa.ctrl), &dw0), 0);
	kv_sqe(&sqe, KVC_KV_EXIST, "k", 0);
	sgl(&sqe, false, 0);
	for (i = 0; i < 10; i++) { /* 9 s of I/O every 0.9 s, no Keep Alive */
		env.now += 900ull * 1000000;
		run(&fa, 1, &sqe, NULL, NULL);
		ck_assert_msg(!fw_ctrl_expired(fa.ctrl), "expired after %u I/O commands", i + 1);
	}
	/* Silence: KATO + grace (2 s here) after the last command, not before. */
	env.now += 2000ull * 1000000;
	fw_ctrl_poll(fa.ctrl);
	ck_assert(!fw_ctrl_expired(fa.ctrl));
	env.now += 1;
	fw_ctrl_poll(fa.ctrl);
	ck_assert(fw_ctrl_expired(fa.ctrl));
	/* The transport's teardown: nothing more is posted. */
	i = fa.ncqe;
	fw_ctrl_destroy(fa.ctrl);
	fa.ctrl = NULL;
	ck_assert_uint_eq(fa.ncqe, i);
	ck_assert_uint_eq(fw_subsys_free_cntlid(sub), 1);
}
END_TEST

START_TEST(two_hosts_share_namespaces)
{
	struct kvc_sqe sqe;
	uint32_t dw0;

	bring_up(&fa, 0);
	bring_up(&fb, 0);
	ck_assert_uint_ne(fw_ctrl_cntlid(fa.ctrl), fw_ctrl_cntlid(fb.ctrl));
	ck_assert_uint_eq(do_connect(&fa, 1, 31, 0, fw_ctrl_cntlid(fa.ctrl), &dw0), 0);
	ck_assert_uint_eq(do_connect(&fb, 1, 31, 0, fw_ctrl_cntlid(fb.ctrl), &dw0), 0);
	/* B cannot connect a queue to A's controller with its own host id. */
	memset(fb.icd, 0x5a, 64);
	fb.icd_len = 64;
	kv_sqe(&sqe, KVC_KV_STORE, "shared", 64);
	sgl(&sqe, true, 64);
	ck_assert_uint_eq(run(&fb, 1, &sqe, NULL, NULL), 0);
	kv_sqe(&sqe, KVC_KV_RETRIEVE, "shared", 64);
	sgl(&sqe, false, 64);
	ck_assert_uint_eq(run(&fa, 1, &sqe, &dw0, NULL), 0);
	ck_assert_mem_eq(fa.out, fb.icd, 64);
	/* A's queue goes with its connection; B keeps working. */
	fw_fabric_disconnect(fa.ctrl, 1);
	ck_assert_int_eq(fw_ctrl_submit(fa.ctrl, 1, &sqe), -ENOENT);
	ck_assert_uint_eq(run(&fb, 1, &sqe, &dw0, NULL), 0);
}
END_TEST

START_TEST(reset_keeps_admin_queue)
{
	struct kvc_sqe sqe;
	uint32_t dw0;

	bring_up(&fa, 0);
	ck_assert_uint_eq(do_connect(&fa, 1, 31, 0, fw_ctrl_cntlid(fa.ctrl), &dw0), 0);
	ck_assert_uint_eq(prop_set(&fa, KVC_REG_CC, 0), 0); /* its own completion arrives */
	ck_assert_uint_eq(prop_get(&fa, KVC_REG_CSTS, false) & KVC_CSTS_RDY, 0);
	kv_sqe(&sqe, KVC_KV_EXIST, "k", 0);
	ck_assert_int_eq(fw_ctrl_submit(fa.ctrl, 1, &sqe), -ENOENT);
	ck_assert_uint_eq(prop_set(&fa, KVC_REG_CC, CC_ON), 0);
	ck_assert_uint_eq(do_connect(&fa, 1, 31, 0, fw_ctrl_cntlid(fa.ctrl), &dw0), 0);
	/* Shutdown: CSTS.SHST complete, the admin queue still answers. */
	ck_assert_uint_eq(prop_set(&fa, KVC_REG_CC, CC_ON | KVC_CC_SHN_NORMAL), 0);
	ck_assert_uint_eq(prop_get(&fa, KVC_REG_CSTS, false) & KVC_CSTS_SHST_MASK,
			  KVC_CSTS_SHST_COMPLETE);
}
END_TEST

START_TEST(pcie_model_still_charged)
{
	struct kvc_stats_log *l = calloc(1, sizeof(*l));
	struct kvc_sqe sqe;
	uint32_t dw0;

	bring_up(&fa, 0);
	ck_assert_uint_eq(do_connect(&fa, 1, 31, 0, fw_ctrl_cntlid(fa.ctrl), &dw0), 0);
	fw_subsys_stats(sub, l);
	{
		uint64_t sqe0 = l->pcie_bytes[FW_PK_SQE][0] + l->pcie_bytes[FW_PK_SQE][1];
		uint64_t cqe0 = l->pcie_bytes[FW_PK_CQE][0] + l->pcie_bytes[FW_PK_CQE][1];
		uint64_t db0 = l->pcie_bytes[FW_PK_DOORBELL][0] + l->pcie_bytes[FW_PK_DOORBELL][1];
		uint64_t db1 = 2 * kvc_pcie_host_mwr(&cfg.pcie, 4).bytes[0] +
			       2 * kvc_pcie_host_mwr(&cfg.pcie, 4).bytes[1];

		kv_sqe(&sqe, KVC_KV_EXIST, "k", 0);
		sgl(&sqe, false, 0);
		run(&fa, 1, &sqe, NULL, NULL);
		fw_subsys_fabric_bytes(sub, 72, 24);
		fw_subsys_stats(sub, l);
		ck_assert_uint_gt(l->pcie_bytes[FW_PK_SQE][0] + l->pcie_bytes[FW_PK_SQE][1], sqe0);
		ck_assert_uint_gt(l->pcie_bytes[FW_PK_CQE][0] + l->pcie_bytes[FW_PK_CQE][1], cqe0);
		/* SQ tail and CQ head doorbells, as a PCIe host rings them. */
		ck_assert_uint_eq(l->pcie_bytes[FW_PK_DOORBELL][0] +
					  l->pcie_bytes[FW_PK_DOORBELL][1],
				  db0 + db1);
		ck_assert_uint_eq(l->fabric_bytes[0], 72);
		ck_assert_uint_eq(l->fabric_bytes[1], 24);
	}
	free(l);
}
END_TEST

static Suite *fabric_suite(void)
{
	Suite *s = suite_create("firmware/fabric");
	TCase *tc = tcase_create("fabric");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bring_up_by_properties);
	tcase_add_test(tc, connect_checks);
	tcase_add_test(tc, kv_by_capsule_and_transport);
	tcase_add_test(tc, flow_control);
	tcase_add_test(tc, keep_alive_expiry);
	tcase_add_test(tc, keep_alive_counts_on_arrival_regression);
	tcase_add_test(tc, io_traffic_keeps_alive_regression);
	tcase_add_test(tc, two_hosts_share_namespaces);
	tcase_add_test(tc, reset_keeps_admin_queue);
	tcase_add_test(tc, pcie_model_still_charged);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(fabric_suite)
