// SPDX-License-Identifier: MIT
/*
 * Controller: bring-up, Identify and logs as Linux needs them, features,
 * queue creation errors, doorbell validation and asynchronous events,
 * wrap-around and phase tags, CQ-full back-pressure, arbitration, PCIe
 * figures per command, durability and crash recovery, GC under churn, and a
 * garbage-command storm.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fakehost.c"
#include "firmware/alloc.h"
#include "firmware/fw_internal.h"

static struct fh_env env;
static struct fw_subsys *sub;
static struct fh_host host;
static struct fw_config cfg;
/* Devices abandoned by a simulated crash: never flushed, kept reachable. */
static struct fw_subsys *crashed[4];
static unsigned int ncrashed;

#define ST(sc) KVC_ST_GENERIC_DNR(sc)
#define CST(sc) KVC_ST_CMD_DNR(sc)

static void start(bool ioq)
{
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), 0);
	fh_host_init(&host, &env, sub);
	ck_assert_uint_eq(fh_enable(&host, 32) & (KVC_CSTS_RDY | KVC_CSTS_CFS), KVC_CSTS_RDY);
	if (ioq)
		ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
}

static void stop(void)
{
	fh_host_fini(&host);
	fw_subsys_destroy(sub);
}

static void setup(void)
{
	fh_small_config(&cfg);
	fh_env_init(&env, &cfg, false);
	start(true);
}

static void teardown(void)
{
	stop();
	fh_env_fini(&env);
}

static uint16_t admin(uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11, uint32_t cdw14,
		      uint64_t prp1, uint32_t *dw0)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_dw(&sqe, 10, cdw10);
	kvc_sqe_set_dw(&sqe, 11, cdw11);
	kvc_sqe_set_dw(&sqe, 14, cdw14);
	kvc_sqe_set_prp(&sqe, prp1, 0);
	return fh_exec(&host, 0, &sqe, dw0);
}

static uint8_t *identify(uint8_t cns, uint32_t nsid, uint8_t csi, uint16_t *st)
{
	uint64_t buf = fh_alloc(&host, 4096, 4096);

	memset(host.mem + buf, 0xcc, 4096);
	*st = admin(KVC_ADM_IDENTIFY, nsid, cns, (uint32_t)csi << 24, 0, buf, NULL);
	return host.mem + buf;
}

START_TEST(registers_after_enable)
{
	uint64_t cap = host.bar[0] | (uint64_t)host.bar[1] << 32;

	ck_assert_uint_eq(KVC_CAP_MQES(cap), cfg.mqes - 1);
	ck_assert(cap & KVC_CAP_CSS_IOCS); /* Linux: I/O command sets (bit 43) */
	ck_assert(cap & KVC_CAP_CSS_NVM);
	ck_assert(cap & KVC_CAP_CQR);
	ck_assert_uint_ge(host.bar[KVC_REG_VS / 4], KVC_VS(1, 4, 0));
	ck_assert_uint_eq(host.bar[KVC_REG_CSTS / 4] & KVC_CSTS_RDY, KVC_CSTS_RDY);
}
END_TEST

START_TEST(identify_for_linux)
{
	struct kvc_id_ctrl *id;
	struct kvc_id_ns_kv *kv;
	struct kvc_id_ns_indep *ind;
	uint8_t *d;
	uint16_t st;

	id = (void *)identify(KVC_CNS_CTRL, 0, 0, &st);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(id->sqes, 0x66);
	ck_assert_uint_eq(id->cqes, 0x44);
	ck_assert_uint_eq(kvc_get_le32(&id->nn), 1);
	ck_assert_uint_ge(kvc_get_le32(&id->ver), KVC_VS(1, 4, 0));
	ck_assert(id->lpa & KVC_LPA_CMD_EFFECTS);
	ck_assert_uint_eq(id->cntrltype, 1);
	ck_assert_uint_ne(id->mdts, 0);
	ck_assert_uint_eq(id->rsvd134[0], 0); /* reserved bytes zeroed, not 0xcc */

	kv = (void *)identify(KVC_CNS_CSI_NS, 1, KVC_CSI_KV, &st);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(kvc_get_le16(&kv->kvf[0].kvkml), 16);
	ck_assert_uint_eq(kvc_get_le32(&kv->kvf[0].kvvml), cfg.max_value);
	ck_assert_uint_gt(kvc_get_le64(&kv->nsze), 0);
	identify(KVC_CNS_CSI_NS, 1, KVC_CSI_NVM, &st);
	ck_assert_uint_eq(st, ST(KVC_SC_INVALID_FIELD));
	identify(KVC_CNS_CSI_NS, 2, KVC_CSI_KV, &st);
	ck_assert_uint_eq(st, ST(KVC_SC_INVALID_NS));

	ind = (void *)identify(KVC_CNS_CSI_INDEP_NS, 1, 0, &st);
	ck_assert_uint_eq(st, 0);
	ck_assert(ind->nstat & KVC_NSTAT_READY);

	d = identify(KVC_CNS_NS_DESC_LIST, 1, 0, &st);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(d[0], KVC_NIDT_NGUID);
	ck_assert_uint_eq(d[1], 16);
	ck_assert_uint_eq(d[20], KVC_NIDT_CSI);
	ck_assert_uint_eq(d[21], 1);
	ck_assert_uint_eq(d[24], KVC_CSI_KV);

	d = identify(KVC_CNS_ACTIVE_NS_LIST, 0, 0, &st);
	ck_assert_uint_eq(kvc_get_le32(d), 1);
	ck_assert_uint_eq(kvc_get_le32(d + 4), 0);
	d = identify(KVC_CNS_CS_PROFILE, 0, 0, &st);
	ck_assert_uint_eq(kvc_get_le64(d), 3);
	identify(KVC_CNS_CSI_CTRL, 0, KVC_CSI_KV, &st);
	ck_assert_uint_eq(st, 0);
	identify(0x55, 0, 0, &st);
	ck_assert_uint_eq(st, ST(KVC_SC_INVALID_FIELD));
}
END_TEST

START_TEST(effects_log_per_csi)
{
	uint64_t buf = fh_alloc(&host, 4096, 4096);
	struct kvc_effects_log *l = (void *)(host.mem + buf);
	static const uint8_t kv_ops[] = { 0x01, 0x02, 0x06, 0x10, 0x14, 0xc0, 0xc1, 0xc4, 0xc8 };
	unsigned int i;

	ck_assert_uint_eq(admin(KVC_ADM_GET_LOG_PAGE, 0, 1023u << 16 | KVC_LOG_CMD_EFFECTS, 0,
				(uint32_t)KVC_CSI_KV << 24, buf, NULL),
			  0);
	for (i = 0; i < sizeof(kv_ops); i++)
		ck_assert(kvc_get_le32(&l->iocs[kv_ops[i]]) & KVC_EFFECTS_CSUPP);
	ck_assert(kvc_get_le32(&l->iocs[0x01]) & KVC_EFFECTS_LBCC);
	ck_assert(!(kvc_get_le32(&l->iocs[0x02]) & KVC_EFFECTS_LBCC));
	ck_assert_uint_eq(kvc_get_le32(&l->iocs[0x05]), 0);
	ck_assert(kvc_get_le32(&l->acs[KVC_ADM_IDENTIFY]) & KVC_EFFECTS_CSUPP);
	/* CSI 0 (NVM): no I/O commands on this device. */
	ck_assert_uint_eq(
		admin(KVC_ADM_GET_LOG_PAGE, 0, 1023u << 16 | KVC_LOG_CMD_EFFECTS, 0, 0, buf, NULL),
		0);
	ck_assert_uint_eq(kvc_get_le32(&l->iocs[0x01]), 0);
	ck_assert_uint_eq(admin(KVC_ADM_GET_LOG_PAGE, 0, 1023u << 16 | 0x7e, 0, 0, buf, NULL),
			  CST(KVC_SC_INVALID_LOG_PAGE));
	ck_assert_uint_eq(
		admin(KVC_ADM_GET_LOG_PAGE, 0, 1023u << 16 | KVC_LOG_SMART, 0, 0, buf, NULL), 0);
}
END_TEST

START_TEST(stats_log_counts)
{
	uint64_t buf = fh_alloc(&host, sizeof(struct kvc_stats_log), 4096);
	struct kvc_stats_log *l = (void *)(host.mem + buf);
	uint32_t numd = sizeof(struct kvc_stats_log) / 4 - 1;
	struct kvc_sqe sqe;

	ck_assert_uint_eq(fh_store(&host, 1, "a", "12345678", 8, 0), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "zz"), ST(KVC_SC_KV_KEY_NOT_EXIST));
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_GET_LOG_PAGE;
	kvc_sqe_set_dw(&sqe, 10, (numd & 0xffff) << 16 | KVC_LOG_NVKV_STATS);
	kvc_sqe_set_dw(&sqe, 11, numd >> 16);
	kvc_sqe_set_prp(&sqe, buf, buf + 4096);
	/* The log spans 3 pages: use a PRP list. */
	{
		uint64_t list = fh_alloc(&host, 4096, 4096);

		kvc_put_le64(host.mem + list, buf + 4096);
		kvc_put_le64(host.mem + list + 8, buf + 8192);
		kvc_sqe_set_prp(&sqe, buf, list);
	}
	ck_assert_uint_eq(fh_exec(&host, 0, &sqe, NULL), 0);
	ck_assert_uint_eq(l->version, KVC_STATS_VERSION);
	ck_assert_uint_eq(l->size, sizeof(*l));
	ck_assert_uint_eq(l->cmds[KVC_OP_STORE], 1);
	ck_assert_uint_eq(l->cmds[KVC_OP_EXIST], 1);
	ck_assert_uint_eq(l->errors[KVC_OP_EXIST], 1);
	ck_assert_uint_eq(l->keys, 1);
	ck_assert_uint_eq(l->value_bytes_in, 8);
	ck_assert_uint_eq(l->m_stores[KVC_XM_PRP], 1);
	ck_assert_uint_gt(l->pcie_bytes[KVC_PK_SQE][KVC_PCIE_DOWN], 0);
}
END_TEST

START_TEST(features)
{
	uint32_t dw0 = 0;

	/* Number of Queues after I/O queues exist: sequence error. */
	ck_assert_uint_eq(
		admin(KVC_ADM_SET_FEATURES, 0, KVC_FEAT_NUM_QUEUES, 0x00030003, 0, 0, &dw0),
		ST(KVC_SC_CMD_SEQ_ERROR));
	ck_assert_uint_eq(admin(KVC_ADM_GET_FEATURES, 0, KVC_FEAT_NUM_QUEUES, 0, 0, 0, &dw0), 0);
	ck_assert_uint_eq(dw0, (cfg.max_ioq - 1) | (cfg.max_ioq - 1) << 16);
	ck_assert_uint_eq(admin(KVC_ADM_SET_FEATURES, 0, KVC_FEAT_ARBITRATION, 2, 0, 0, NULL), 0);
	ck_assert_uint_eq(admin(KVC_ADM_GET_FEATURES, 0, KVC_FEAT_ARBITRATION, 0, 0, 0, &dw0), 0);
	ck_assert_uint_eq(dw0, 2);
	/* No volatile write cache in this configuration. */
	ck_assert_uint_eq(admin(KVC_ADM_SET_FEATURES, 0, KVC_FEAT_VOLATILE_WC, 1, 0, 0, NULL),
			  ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(admin(KVC_ADM_SET_FEATURES, 0, 0x77, 1, 0, 0, NULL),
			  ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(
		admin(KVC_ADM_SET_FEATURES, 0, KVC_FEAT_ARBITRATION | KVC_FEAT_SV, 1, 0, 0, NULL),
		CST(KVC_SC_FEATURE_NOT_SAVEABLE));
	ck_assert_uint_eq(admin(KVC_ADM_KEEP_ALIVE, 0, 0, 0, 0, 0, NULL), 0);
	ck_assert_uint_eq(admin(KVC_ADM_ABORT, 0, 1, 0, 0, 0, &dw0), 0);
	ck_assert_uint_eq(dw0 & 1, 1);
}
END_TEST

START_TEST(num_queues_before_creation)
{
	uint32_t dw0;

	stop();
	start(false);
	ck_assert_uint_eq(
		admin(KVC_ADM_SET_FEATURES, 0, KVC_FEAT_NUM_QUEUES, 0x00010001, 0, 0, &dw0), 0);
	ck_assert_uint_eq(dw0, 0x00010001);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 16), 0);
	ck_assert_uint_eq(fh_create_ioq(&host, 2, 16), 0);
	ck_assert_uint_eq(fh_create_ioq(&host, 3, 16), CST(KVC_SC_INVALID_QID));
}
END_TEST

static uint16_t create(uint8_t opc, uint16_t qid, uint32_t size, uint32_t cdw11, uint64_t base)
{
	return admin(opc, 0, (size - 1) << 16 | qid, cdw11, 0, base, NULL);
}

START_TEST(queue_errors)
{
	uint64_t mem = fh_alloc(&host, 8192, 4096);

	ck_assert_uint_eq(create(KVC_ADM_CREATE_SQ, 2, 16, 3u << 16 | 1, mem),
			  CST(KVC_SC_CQ_INVALID)); /* CQ 3 missing */
	ck_assert_uint_eq(create(KVC_ADM_CREATE_CQ, 0, 16, 1, mem), CST(KVC_SC_INVALID_QID));
	ck_assert_uint_eq(create(KVC_ADM_CREATE_CQ, 1, 16, 1, mem), CST(KVC_SC_INVALID_QID));
	ck_assert_uint_eq(create(KVC_ADM_CREATE_CQ, 9, 16, 1, mem), CST(KVC_SC_INVALID_QID));
	ck_assert_uint_eq(create(KVC_ADM_CREATE_CQ, 2, 1, 1, mem), CST(KVC_SC_INVALID_QSIZE));
	ck_assert_uint_eq(create(KVC_ADM_CREATE_CQ, 2, 4096, 1, mem), CST(KVC_SC_INVALID_QSIZE));
	ck_assert_uint_eq(create(KVC_ADM_CREATE_CQ, 2, 16, 0, mem), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(create(KVC_ADM_CREATE_CQ, 2, 16, 1, mem + 64),
			  ST(KVC_SC_INVALID_PRP_OFFSET));
	ck_assert_uint_eq(create(KVC_ADM_CREATE_CQ, 2, 16, 1u | 200u << 16, mem),
			  CST(KVC_SC_INVALID_INT_VECTOR));
	ck_assert_uint_eq(admin(KVC_ADM_DELETE_SQ, 0, 3, 0, 0, 0, NULL), CST(KVC_SC_INVALID_QID));
	ck_assert_uint_eq(admin(KVC_ADM_DELETE_CQ, 0, 1, 0, 0, 0, NULL),
			  CST(KVC_SC_INVALID_QUEUE_DELETION)); /* SQ 1 still uses it */
	ck_assert_uint_eq(admin(KVC_ADM_DELETE_SQ, 0, 1, 0, 0, 0, NULL), 0);
	ck_assert_uint_eq(admin(KVC_ADM_DELETE_CQ, 0, 1, 0, 0, 0, NULL), 0);
	ck_assert_uint_eq(admin(KVC_ADM_DELETE_CQ, 0, 1, 0, 0, 0, NULL), CST(KVC_SC_INVALID_QID));
}
END_TEST

/* Put an AER on the admin queue without waiting for it. */
static uint16_t post_aer(void)
{
	struct kvc_sqe sqe;
	uint16_t cid;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_ASYNC_EVENT;
	cid = fh_put(&host, 0, &sqe, true);
	fh_ring(&host, 0);
	fw_ctrl_poll(host.ctrl);
	return cid;
}

START_TEST(bad_doorbell_value_raises_event)
{
	uint16_t cid = post_aer();
	struct kvc_cqe cqe;

	ck_assert(!fh_reap(&host, 0, &cqe, 5));	 /* kept pending */
	host.bar[kvc_sq_tail_db(1, 0) / 4] = 64; /* queue has 64 entries: 0..63 */
	ck_assert(fh_reap(&host, 0, &cqe, 10));
	ck_assert_uint_eq(kvc_cqe_cid(&cqe), cid);
	ck_assert_uint_eq(
		kvc_cqe_dw0(&cqe),
		KVC_AER_DW0(KVC_AER_TYPE_ERROR, KVC_AER_ERR_INVALID_DB_VALUE, KVC_LOG_ERROR));
	/* The queue is consistent: a correct doorbell after it works. */
	host.bar[kvc_sq_tail_db(1, 0) / 4] = host.q[1].sqt;
	ck_assert_uint_eq(fh_store(&host, 1, "k", "v", 1, 0), 0);
	/* Event raised while no AER is outstanding is delivered later. */
	host.bar[kvc_cq_head_db(1, 0) / 4] = 63;
	fw_ctrl_poll(host.ctrl);
	cid = post_aer();
	ck_assert(fh_reap(&host, 0, &cqe, 10));
	ck_assert_uint_eq(kvc_cqe_cid(&cqe), cid);
	host.bar[kvc_cq_head_db(1, 0) / 4] = host.q[1].cqh;
	ck_assert_uint_eq(fh_store(&host, 1, "k2", "v", 1, 0), 0);
}
END_TEST

START_TEST(io_on_deleted_queue_and_aer_limit)
{
	struct kvc_cqe cqe;
	struct kvc_sqe sqe;
	int i;

	ck_assert_uint_eq(admin(KVC_ADM_DELETE_SQ, 0, 1, 0, 0, 0, NULL), 0);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_KV_EXIST;
	fh_put(&host, 1, &sqe, true);
	fh_ring(&host, 1);
	post_aer();
	/* Nothing executes; the stray doorbell is reported. */
	for (i = 0; i < 5000 && !fh_reap(&host, 0, &cqe, 0); i++)
		fw_ctrl_poll(host.ctrl);
	ck_assert_int_lt(i, 5000);
	ck_assert_uint_eq(kvc_cqe_dw0(&cqe),
			  KVC_AER_DW0(KVC_AER_TYPE_ERROR, KVC_AER_ERR_INVALID_DB, KVC_LOG_ERROR));
	ck_assert(!fh_reap(&host, 1, &cqe, 10));
	for (i = 0; i < 4; i++)
		post_aer();
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_ASYNC_EVENT;
	ck_assert_uint_eq(fh_exec(&host, 0, &sqe, NULL), CST(KVC_SC_AER_LIMIT));
}
END_TEST

START_TEST(wraparound_and_phase)
{
	char key[16];
	uint8_t got[8];
	int i;

	stop();
	start(false);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 4), 0);
	/* 3 passes through a 4-entry ring per 12 commands, one at a time. */
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "w%d", i);
		ck_assert_uint_eq(fh_store(&host, 1, key, &i, sizeof(i), 0), 0);
	}
	for (i = 0; i < 50; i++) {
		uint32_t vlen;

		snprintf(key, sizeof(key), "w%d", i);
		ck_assert_uint_eq(fh_retrieve(&host, 1, key, got, 4, &vlen), 0);
		ck_assert_mem_eq(got, &i, 4);
	}
	ck_assert_uint_gt(host.irqs, 0);
}
END_TEST

START_TEST(cq_full_backpressure)
{
	uint64_t sqm, cqm;
	struct kvc_cqe cqe;
	bool seen[20] = { false };
	int i, reaped = 0, polls;

	/* CQ of 4 entries shared by an SQ of 32: at most 3 CQEs outstanding. */
	sqm = fh_alloc(&host, 32 * 64, 4096);
	cqm = fh_alloc(&host, 4 * 16, 4096);
	ck_assert_uint_eq(create(KVC_ADM_CREATE_CQ, 2, 4, 1, cqm), 0);
	ck_assert_uint_eq(create(KVC_ADM_CREATE_SQ, 2, 32, 2u << 16 | 1, sqm), 0);
	host.q[2].sq = sqm;
	host.q[2].cq = cqm;
	host.q[2].size = 32;
	host.q[2].phase = true;
	for (i = 0; i < 20; i++) {
		struct kvc_kv_cmd c = {
			.opc = KVC_KV_EXIST, .nsid = 1, .klen = 1, .cid = (uint16_t)i
		};
		struct kvc_sqe sqe;

		kvc_kv_encode(&sqe, &c);
		fh_put(&host, 2, &sqe, false);
	}
	fh_ring(&host, 2);
	for (polls = 0; polls < 50; polls++)
		fw_ctrl_poll(host.ctrl);
	/* The host's view of a 4-entry CQ: read entries by hand. */
	for (polls = 0; polls < 2000 && reaped < 20; polls++) {
		struct kvc_cqe *c = (void *)(host.mem + cqm + (uint64_t)host.q[2].cqh * 16);

		if (kvc_cqe_phase(c) != host.q[2].phase) {
			fw_ctrl_poll(host.ctrl);
			continue;
		}
		cqe = *c;
		ck_assert_uint_lt(kvc_cqe_cid(&cqe), 20);
		ck_assert(!seen[kvc_cqe_cid(&cqe)]);
		seen[kvc_cqe_cid(&cqe)] = true;
		reaped++;
		if (++host.q[2].cqh == 4) {
			host.q[2].cqh = 0;
			host.q[2].phase = !host.q[2].phase;
		}
		host.bar[kvc_cq_head_db(2, 0) / 4] = host.q[2].cqh;
	}
	ck_assert_int_eq(reaped, 20); /* none dropped, none duplicated */
}
END_TEST

/* Hand-computed from DESIGN.md section 5 (Gen3, MPS 256, MRRS 512):
 * doorbell 28 + SQE 24+84 + data 8x24 + 16x276 + CQE 40 + MSI-X 28
 * + CQ doorbell 28 = 4840 bytes for a 4 KiB PRP Store; 232 for a value
 * carried inline in one BandSlim command. */
START_TEST(pcie_bytes_per_store)
{
	struct kvc_stats_log a, b;
	uint8_t v[4096];
	struct kvc_bs_store s = { .opc = KVC_BS_STORE, .nsid = 1, .klen = 4, .size = 8 };
	struct kvc_sqe sqe;
	uint64_t tot_a, tot_b;
	int k;

	memset(v, 1, sizeof(v));
	fw_ctrl_poll(host.ctrl);
	fw_subsys_stats(sub, &a);
	ck_assert_uint_eq(fh_store(&host, 1, "pcie", v, 4096, 0), 0);
	fw_ctrl_poll(host.ctrl); /* observe the CQ head doorbell */
	fw_subsys_stats(sub, &b);
	for (tot_a = tot_b = 0, k = 0; k < KVC_PK_NUM; k++) {
		tot_a += a.pcie_bytes[k][0] + a.pcie_bytes[k][1];
		tot_b += b.pcie_bytes[k][0] + b.pcie_bytes[k][1];
	}
	ck_assert_uint_eq(tot_b - tot_a, 4840);
	ck_assert_uint_eq(b.pcie_bytes[KVC_PK_DATA][KVC_PCIE_DOWN] -
				  a.pcie_bytes[KVC_PK_DATA][KVC_PCIE_DOWN],
			  16 * 276);

	memcpy(s.key, "tiny", 4);
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 0), 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), 0);
	fw_ctrl_poll(host.ctrl);
	fw_subsys_stats(sub, &a);
	for (tot_a = 0, k = 0; k < KVC_PK_NUM; k++)
		tot_a += a.pcie_bytes[k][0] + a.pcie_bytes[k][1];
	ck_assert_uint_eq(tot_a - tot_b, 232);
}
END_TEST

START_TEST(reset_clears_doorbells_regression)
{
	int i;

	host.bar[KVC_REG_CC / 4] |= KVC_CC_SHN_NORMAL;
	for (i = 0; i < 5; i++)
		fw_ctrl_poll(host.ctrl);
	ck_assert_uint_eq(host.bar[KVC_REG_CSTS / 4] & KVC_CSTS_SHST_MASK, KVC_CSTS_SHST_COMPLETE);
	host.bar[KVC_REG_CC / 4] = 0;
	fw_ctrl_poll(host.ctrl);
	ck_assert_uint_eq(host.bar[KVC_REG_CSTS / 4] & KVC_CSTS_RDY, 0);
	host.next_cid = 0;
	memset(host.q, 0, sizeof(host.q));
	ck_assert_uint_eq(fh_enable(&host, 16) & KVC_CSTS_RDY, KVC_CSTS_RDY);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 16), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "after", "x", 1, 0), 0);
}
END_TEST

START_TEST(bad_enable_sets_cfs)
{
	host.bar[KVC_REG_CC / 4] = 0;
	fw_ctrl_poll(host.ctrl);
	host.bar[KVC_REG_AQA / 4] = 0; /* 1-entry queues are invalid */
	host.bar[KVC_REG_CC / 4] = KVC_CC_EN;
	fw_ctrl_poll(host.ctrl);
	ck_assert(host.bar[KVC_REG_CSTS / 4] & KVC_CSTS_CFS);
	ck_assert(!(host.bar[KVC_REG_CSTS / 4] & KVC_CSTS_RDY));
	/* A reset clears it. */
	host.bar[KVC_REG_CC / 4] = 0;
	fw_ctrl_poll(host.ctrl);
	ck_assert_uint_eq(host.bar[KVC_REG_CSTS / 4], 0);
}
END_TEST

/* ---- durability ------------------------------------------------------------ */

static void persistent_setup(bool vwc)
{
	fh_small_config(&cfg);
	cfg.vwc = vwc;
	fh_env_init(&env, &cfg, true);
	start(true);
}

START_TEST(restart_keeps_everything)
{
	uint8_t v[3000];
	char key[16];
	int i;

	teardown();
	persistent_setup(false);
	for (i = 0; i < 40; i++) {
		uint64_t mark = host.brk;

		memset(v, i, sizeof(v));
		snprintf(key, sizeof(key), "p%d", i);
		ck_assert_uint_eq(fh_store(&host, 1, key, v, (uint32_t)(i * 70), 0), 0);
		host.brk = mark;
	}
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, "p3"), 0);
	stop();
	start(true);
	for (i = 0; i < 40; i++) {
		uint8_t got[3000];
		uint32_t vlen;
		uint64_t mark = host.brk;

		snprintf(key, sizeof(key), "p%d", i);
		if (i == 3) {
			ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, key),
					  ST(KVC_SC_KV_KEY_NOT_EXIST));
			continue;
		}
		ck_assert_uint_eq(fh_retrieve(&host, 1, key, got, 3000, &vlen), 0);
		ck_assert_uint_eq(vlen, (uint32_t)(i * 70));
		memset(v, i, sizeof(v));
		ck_assert_mem_eq(got, v, vlen);
		host.brk = mark;
	}
}
END_TEST

/* Write cache off: every completed Store survives a crash. */
START_TEST(crash_without_write_cache)
{
	char key[16];
	int i;

	teardown();
	persistent_setup(false);
	for (i = 0; i < 30; i++) {
		snprintf(key, sizeof(key), "c%d", i);
		ck_assert_uint_eq(fh_store(&host, 1, key, key, (uint32_t)strlen(key), 0), 0);
	}
	fh_env_crash(&env); /* the process dies: nothing more is committed */
	fh_host_fini(&host);
	/* fw_subsys_destroy would flush; a crash does not: abandon it. */
	crashed[ncrashed++ % 4] = sub;
	start(true);
	for (i = 0; i < 30; i++) {
		uint8_t got[16];
		uint32_t vlen;

		snprintf(key, sizeof(key), "c%d", i);
		ck_assert_uint_eq(fh_retrieve(&host, 1, key, got, 16, &vlen), 0);
		ck_assert_mem_eq(got, key, vlen);
	}
}
END_TEST

/* Write cache on: what was flushed survives; later writes may not. */
START_TEST(crash_with_write_cache)
{
	struct kvc_sqe sqe;
	char key[16];
	int i;

	teardown();
	persistent_setup(true);
	ck_assert_uint_eq(admin(KVC_ADM_SET_FEATURES, 0, KVC_FEAT_VOLATILE_WC, 1, 0, 0, NULL), 0);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "f%d", i);
		ck_assert_uint_eq(fh_store(&host, 1, key, key, (uint32_t)strlen(key), 0), 0);
	}
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_NVM_FLUSH;
	kvc_sqe_set_nsid(&sqe, 1);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "unflushed", "u", 1, 0), 0);
	fh_env_crash(&env);
	fh_host_fini(&host);
	crashed[ncrashed++ % 4] = sub;
	start(true);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "f%d", i);
		ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, key), 0);
	}
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "unflushed"),
			  ST(KVC_SC_KV_KEY_NOT_EXIST));
}
END_TEST

/* Overwrite a working set many times the device size: GC must run and
 * every key must read back its latest value, across a restart too. */
START_TEST(gc_churn_keeps_latest_values)
{
	struct kvc_stats_log st;
	uint8_t v[1500], got[1500];
	uint32_t ver[24] = { 0 };
	char key[16];
	int i, k;

	teardown();
	persistent_setup(false);
	srand(7);
	for (i = 0; i < 3000; i++) {
		uint64_t mark = host.brk;

		k = rand() % 24;
		ver[k]++;
		snprintf(key, sizeof(key), "g%d", k);
		memset(v, (int)(ver[k] * 13 + k), sizeof(v));
		ck_assert_uint_eq(fh_store(&host, 1, key, v, (uint32_t)(200 + k * 50), 0), 0);
		host.brk = mark;
	}
	fw_subsys_stats(sub, &st);
	ck_assert_uint_gt(st.gc_runs, 3);
	ck_assert_uint_gt(st.nand_erases, 0);
	for (int pass = 0; pass < 2; pass++) {
		for (k = 0; k < 24; k++) {
			uint32_t vlen;
			uint64_t mark = host.brk;

			if (!ver[k])
				continue;
			snprintf(key, sizeof(key), "g%d", k);
			ck_assert_uint_eq(fh_retrieve(&host, 1, key, got, sizeof(got), &vlen), 0);
			ck_assert_uint_eq(vlen, (uint32_t)(200 + k * 50));
			memset(v, (int)(ver[k] * 13 + k), sizeof(v));
			ck_assert_mem_eq(got, v, vlen);
			host.brk = mark;
		}
		stop();
		start(true);
	}
}
END_TEST

static bool error_logged(uint16_t sqid, uint16_t cid, uint16_t status)
{
	uint64_t mark = host.brk, buf = fh_alloc(&host, 4096, 4096);
	const struct kvc_error_log_entry *e = (const void *)(host.mem + buf);
	unsigned int i;
	bool found = false;

	ck_assert_uint_eq(
		admin(KVC_ADM_GET_LOG_PAGE, 0, 1023u << 16 | KVC_LOG_ERROR, 0, 0, buf, NULL), 0);
	for (i = 0; i < 4096 / sizeof(*e); i++)
		if (kvc_get_le64(&e[i].error_count) && kvc_get_le16(&e[i].sqid) == sqid &&
		    kvc_get_le16(&e[i].cid) == cid && kvc_get_le16(&e[i].status) >> 1 == status)
			found = true;
	host.brk = mark;
	return found;
}

/* Submit @sqe with flags byte @flags (and @chunks zero slots after it) on
 * @qid; expect INVALID FIELD, in the Error Information log under its CID. */
static void refused_flags(uint16_t qid, struct kvc_sqe *sqe, uint8_t flags, uint32_t chunks)
{
	struct kvc_cqe cqe;
	uint8_t zero[64] = { 0 };
	uint16_t cid;

	sqe->flags = flags;
	cid = fh_put(&host, qid, sqe, true);
	while (chunks--)
		fh_put_raw(&host, qid, zero);
	fh_ring(&host, qid);
	ck_assert_msg(fh_reap(&host, qid, &cqe, 100), "opcode %#x flags %#x: no completion",
		      sqe->opc, flags);
	ck_assert_uint_eq(kvc_cqe_cid(&cqe), cid);
	ck_assert_msg(kvc_cqe_status(&cqe) == ST(KVC_SC_INVALID_FIELD),
		      "opcode %#x flags %#x: status %#x", sqe->opc, flags, kvc_cqe_status(&cqe));
	ck_assert(error_logged(qid, cid, ST(KVC_SC_INVALID_FIELD)));
}

/* Regression: PSDT (SGL) and FUSE were never checked: such commands ran as
 * unfused PRP commands.  Fused commands and the reserved PSDT 11b are refused
 * at dispatch for every command; SGLs (01b, 10b) for admin commands, which
 * use PRPs only over PCIe.  (SGLs of I/O commands go to the data mapper.) */
START_TEST(psdt_and_fuse_refused_regression)
{
	static const uint8_t flags[] = { 0x40, 0x80, 0xc0, 0x01, 0x02, 0x03, 0x41 };
	static const uint8_t io_opc[] = { KVC_KV_STORE, KVC_KV_RETRIEVE, KVC_KV_DELETE,
					  KVC_KV_EXIST, KVC_KV_LIST,	 KVC_NVM_FLUSH,
					  KVC_BS_STORE, KVC_BS_XFER,	 0x7f };
	static const uint8_t adm_opc[] = { KVC_ADM_IDENTIFY, KVC_ADM_GET_FEATURES,
					   KVC_ADM_GET_LOG_PAGE, KVC_ADM_ASYNC_EVENT,
					   KVC_ADM_DELETE_SQ };
	uint64_t val = fh_alloc(&host, 4096, 4096);
	struct kvc_sqe sqe;
	unsigned int f, i;
	uint8_t got[8];
	uint32_t vlen;

	ck_assert_uint_eq(fh_store(&host, 1, "k", "old", 3, 0), 0);
	memcpy(host.mem + val, "new", 3);
	for (f = 0; f < sizeof(flags); f++) {
		bool sgl = flags[f] == 0x40 || flags[f] == 0x80;

		for (i = 0; i < sizeof(io_opc) && !sgl; i++) {
			struct kvc_kv_cmd c = { .nsid = 1, .klen = 1, .key = "k", .size = 3 };

			memset(&sqe, 0, sizeof(sqe));
			c.opc = io_opc[i];
			c.prp1 = val;
			if (kvc_kv_encode(&sqe, &c)) { /* not a KV opcode: by hand */
				sqe.opc = io_opc[i];
				kvc_sqe_set_nsid(&sqe, 1);
				kvc_sqe_set_dw(&sqe, 10, 3);
				kvc_sqe_set_prp(&sqe, val, 0);
			}
			refused_flags(1, &sqe, flags[f], 0);
		}
		/* A ByteExpress head still owns its chunk. */
		if (!sgl) {
			struct kvc_kv_cmd c = { .nsid = 1, .klen = 1, .key = "k", .size = 3 };

			ck_assert_int_eq(kvc_bx_encode(&sqe, &c), 0);
			refused_flags(1, &sqe, flags[f], 1);
		}
		for (i = 0; i < sizeof(adm_opc); i++) {
			memset(&sqe, 0, sizeof(sqe));
			sqe.opc = adm_opc[i];
			kvc_sqe_set_dw(&sqe, 10, 1); /* CNS, FID, log, QID 1 */
			kvc_sqe_set_prp(&sqe, val, 0);
			refused_flags(0, &sqe, flags[f], 0);
		}
	}
	/* Nothing ran: the key keeps its value, SQ 1 still exists. */
	ck_assert_uint_eq(fh_retrieve(&host, 1, "k", got, sizeof(got), &vlen), 0);
	ck_assert_uint_eq(vlen, 3);
	ck_assert_mem_eq(got, "old", 3);
}
END_TEST

/* Random garbage commands on every queue: the controller keeps answering
 * and stored data stays intact. */
START_TEST(garbage_storm)
{
	struct kvc_cqe cqe;
	uint8_t slot[64];
	uint64_t chunks_left = 0; /* of a ByteExpress frame open on SQ 1 */
	unsigned int answered = 0;
	int i, j;

	ck_assert_uint_eq(fh_store(&host, 1, "keep", "precious", 8, 0), 0);
	srand(1234);
	for (i = 0; i < 3000; i++) {
		uint16_t q = (uint16_t)(rand() % 2);

		for (j = 0; j < 64; j++)
			slot[j] = (uint8_t)rand();
		if (rand() % 4) /* PSDT/FUSE other than 0 stop every command at dispatch */
			slot[1] = 0;
		if (q == 1 && rand() % 2) /* reach the KV handlers more often */
			kvc_put_le32(slot + 4, 1);
		if (q == 0 && slot[0] == KVC_ADM_ASYNC_EVENT)
			slot[0] = 0x7e;
		/* Keep the queue ids of the test itself out of queue commands. */
		if (q == 0 && (slot[0] <= KVC_ADM_CREATE_CQ || slot[0] == KVC_ADM_SET_FEATURES))
			slot[0] = KVC_ADM_GET_FEATURES;
		if (q == 1 && chunks_left)
			chunks_left--;
		else if (q == 1 && slot[0] == KVC_BX_STORE) /* at most 62 behind a head */
			chunks_left = ((uint64_t)kvc_get_le32(slot + 40) + 63) / 64;
		if (chunks_left > 62)
			chunks_left = 62;
		fh_put_raw(&host, q, slot);
		fh_ring(&host, q);
		while (fh_reap(&host, q, &cqe, 3))
			answered++;
	}
	/* Garbage chunks close a frame the storm left open on SQ 1. */
	memset(slot, 0, sizeof(slot));
	while (chunks_left--)
		fh_put_raw(&host, 1, slot);
	fh_ring(&host, 1);
	while (fh_reap(&host, 1, &cqe, 3))
		;
	/* Still alive, still correct: garbage commands are statuses, never a
	 * fatal controller (the test used to clear CFS itself before asserting it). */
	fw_ctrl_poll(host.ctrl);
	ck_assert_uint_eq(host.bar[KVC_REG_CSTS / 4] & (KVC_CSTS_RDY | KVC_CSTS_CFS), KVC_CSTS_RDY);
	ck_assert_uint_gt(answered, 1000);
	{
		uint8_t got[8];
		uint32_t vlen;

		ck_assert_uint_eq(fh_retrieve(&host, 1, "keep", got, 8, &vlen), 0);
		ck_assert_mem_eq(got, "precious", 8);
	}
}
END_TEST

/* Realtime mode: a CQE is posted no earlier than its modeled completion. */
START_TEST(realtime_mode_waits_for_modeled_time)
{
	struct kvc_kv_cmd c = { .opc = KVC_KV_EXIST, .nsid = 1, .klen = 1, .key = "k" };
	struct kvc_stats_log st;
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	uint64_t t0;

	teardown();
	fh_small_config(&cfg);
	cfg.timing = FW_TIMING_REALTIME;
	cfg.fw_overhead_ns = 50000; /* 50 us per command, far above a poll's clock steps */
	fh_env_init(&env, &cfg, false);
	env.auto_clock = true; /* bring-up commands complete as the clock runs */
	start(true);
	env.auto_clock = false;
	env.now += 1000000; /* past everything bring-up left on the timelines */
	t0 = env.now;
	kvc_kv_encode(&sqe, &c);
	fh_put(&host, 1, &sqe, true);
	fh_ring(&host, 1);
	ck_assert(!fh_reap(&host, 1, &cqe, 20)); /* the clock stands still: not yet */
	env.now = t0 + 49000;
	ck_assert(!fh_reap(&host, 1, &cqe, 5));
	env.now = t0 + 60000;
	ck_assert(fh_reap(&host, 1, &cqe, 5));
	ck_assert_uint_eq(kvc_cqe_status(&cqe), ST(KVC_SC_KV_KEY_NOT_EXIST));
	fw_subsys_stats(sub, &st);
	ck_assert_uint_ge(kvc_lat_percentile(st.lat_hist[KVC_OP_EXIST], 50), 49152);
	ck_assert(!fw_ctrl_busy(host.ctrl));
}
END_TEST

/* Regression: with no memory to queue a completion the controller logged it
 * and dropped it, and its command never completed.  Memory for completions is
 * now reserved before commands are fetched: out of memory, they wait in their
 * SQ (the controller asks to be polled) and complete once memory is back.
 * _i: 0 timing off (FIFO), 1 realtime (heap). */
START_TEST(completion_never_dropped_on_oom_regression)
{
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	uint16_t cid[3];
	int i;

	teardown();
	fh_small_config(&cfg);
	if (_i)
		cfg.timing = FW_TIMING_REALTIME;
	fh_env_init(&env, &cfg, false);
	env.auto_clock = true;
	start(false); /* no command completed yet: nothing allocated for completions */
	fw_alloc_fail_after(0);
	for (i = 0; i < 3; i++) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = KVC_ADM_GET_FEATURES;
		kvc_sqe_set_dw(&sqe, 10, KVC_FEAT_ARBITRATION);
		cid[i] = fh_put(&host, 0, &sqe, true);
	}
	fh_ring(&host, 0);
	ck_assert(!fh_reap(&host, 0, &cqe, 20));
	ck_assert(fw_ctrl_busy(host.ctrl));
	ck_assert_ptr_nonnull(strstr(env.last_log, "out of memory for completions"));
	fw_alloc_fail_after(-1);
	for (i = 0; i < 3; i++) {
		ck_assert(fh_reap(&host, 0, &cqe, 20));
		ck_assert_uint_eq(kvc_cqe_cid(&cqe), cid[i]);
		ck_assert_uint_eq(kvc_cqe_status(&cqe), 0);
	}
	ck_assert(!fw_ctrl_busy(host.ctrl));
	/* And the controller works on: an I/O queue, a Store. */
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "k", "v", 1, 0), 0);
}
END_TEST

/*
 * A poll that finds no doorbell moved visits no SQ, and one with news visits
 * only the queues that have it; arbitration still moves one place per poll
 * as when every queue was visited, and nothing the host rang is missed.
 */
START_TEST(quiet_poll_visits_no_queue)
{
	struct fw_ctrl *c = host.ctrl;
	struct kvc_cqe cqe;
	struct kvc_sqe sqe;
	struct kvc_kv_cmd kc = { .opc = KVC_KV_EXIST, .nsid = 1, .klen = 1 };
	uint64_t visits, quiet, irqs;
	uint32_t rr, cqh_seen;
	int i;

	ck_assert_uint_eq(fh_create_ioq(&host, 3, 64), 0);
	ck_assert_uint_eq(c->nr_ioq, 4);
	fw_ctrl_poll(c);
	visits = c->sq_visits;
	quiet = c->polls_quiet;
	rr = c->rr;
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(fw_ctrl_poll(c), 0);
	ck_assert_uint_eq(c->sq_visits, visits);
	ck_assert_uint_eq(c->polls_quiet, quiet + 7);
	ck_assert_uint_eq(c->rr, (rr + 7) % 4);

	/* A command on SQ 3: that SQ alone is visited, and it completes. */
	kvc_kv_encode(&sqe, &kc);
	fh_put(&host, 3, &sqe, true);
	fh_ring(&host, 3);
	irqs = host.irqs;
	ck_assert_int_gt(fw_ctrl_poll(c), 0);
	ck_assert_uint_eq(host.irqs, irqs + 1);
	ck_assert(!c->irq_pending && !c->cq[3].irq_due);
	ck_assert_uint_eq(c->sq_visits, visits + 1);
	ck_assert_uint_eq(c->polls_quiet, quiet + 7);
	ck_assert_uint_eq(c->rr, (rr + 9) % 4); /* a round with work, one without */
	cqh_seen = c->cq[3].db_seen;
	ck_assert(fh_reap(&host, 3, &cqe, 0));
	ck_assert_uint_eq(kvc_cqe_status(&cqe), ST(KVC_SC_KV_KEY_NOT_EXIST));

	/* The host's CQ head doorbell is news too: observed on the next poll. */
	ck_assert_uint_ne(host.bar[kvc_cq_head_db(3, 0) / 4], cqh_seen);
	fw_ctrl_poll(c);
	ck_assert_uint_eq(c->cq[3].db_seen, host.bar[kvc_cq_head_db(3, 0) / 4]);
	ck_assert_uint_eq(c->polls_quiet, quiet + 7);
	ck_assert_uint_eq(c->sq_visits, visits + 1);
	fw_ctrl_poll(c);
	ck_assert_uint_eq(c->polls_quiet, quiet + 8);
	ck_assert_uint_eq(host.irqs, irqs + 1);

	/* Completions on two CQs in one poll: one interrupt each. */
	fh_put(&host, 1, &sqe, true);
	fh_ring(&host, 1);
	fh_put(&host, 3, &sqe, true);
	fh_ring(&host, 3);
	ck_assert_int_eq(fw_ctrl_poll(c), 4); /* two run, two posted */
	ck_assert_uint_eq(host.irqs, irqs + 3);
	ck_assert(fh_reap(&host, 1, &cqe, 0) && fh_reap(&host, 3, &cqe, 0));
}
END_TEST

static Suite *ctrl_suite(void)
{
	Suite *s = suite_create("firmware/ctrl");
	TCase *tc = tcase_create("ctrl");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, registers_after_enable);
	tcase_add_test(tc, identify_for_linux);
	tcase_add_test(tc, effects_log_per_csi);
	tcase_add_test(tc, stats_log_counts);
	tcase_add_test(tc, features);
	tcase_add_test(tc, num_queues_before_creation);
	tcase_add_test(tc, queue_errors);
	tcase_add_test(tc, bad_doorbell_value_raises_event);
	tcase_add_test(tc, io_on_deleted_queue_and_aer_limit);
	tcase_add_test(tc, wraparound_and_phase);
	tcase_add_test(tc, cq_full_backpressure);
	tcase_add_test(tc, quiet_poll_visits_no_queue);
	tcase_add_test(tc, pcie_bytes_per_store);
	tcase_add_test(tc, reset_clears_doorbells_regression);
	tcase_add_test(tc, bad_enable_sets_cfs);
	tcase_add_test(tc, restart_keeps_everything);
	tcase_add_test(tc, crash_without_write_cache);
	tcase_add_test(tc, crash_with_write_cache);
	tcase_add_test(tc, gc_churn_keeps_latest_values);
	tcase_add_test(tc, psdt_and_fuse_refused_regression);
	tcase_add_test(tc, garbage_storm);
	tcase_add_loop_test(tc, completion_never_dropped_on_oom_regression, 0, 2);
	tcase_add_test(tc, realtime_mode_waits_for_modeled_time);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ctrl_suite)
