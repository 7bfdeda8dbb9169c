// SPDX-License-Identifier: MIT
/*
 * Namespaces as objects and deferred completions: a test namespace kind is
 * installed beside the KV namespace, and the controller must dispatch by
 * NSID to each one's opcode table, answer Identify (active lists, descriptor
 * lists, NN) and the effects log from the namespace objects, flush every
 * namespace for NSID FFFFFFFFh, and complete a deferred command exactly
 * once: later, when its namespace finishes it, as aborted when its SQ is
 * deleted, or not at all after a controller reset.
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

#define ST(sc) KVC_ST_GENERIC_DNR(sc)
#define ST_ABORTED_SQ KVC_ST_GENERIC(KVC_SC_ABORTED_SQ_DELETION)
#define T_NSID 3
#define T_CSI KVC_CSI_NVM
#define OPC_DEFER 0x81
#define OPC_ECHO 0x82
#define OPC_OUT 0x85

/* ---- the test namespace kind ----------------------------------------------------- */

static uint64_t toks[128];
static unsigned int ntoks;
static unsigned int aborted, flushes;
static uint64_t last_aborted;

static uint16_t t_defer(struct fw_cmd *cmd)
{
	uint64_t tok = fw_cmd_defer(cmd);

	if (!tok)
		return ST(KVC_SC_INTERNAL);
	toks[ntoks++] = tok;
	return FW_ST_PENDING;
}

static uint16_t t_echo(struct fw_cmd *cmd)
{
	cmd->dw0 = 0x1234;
	return 0;
}

static uint16_t t_out(struct fw_cmd *cmd)
{
	static const char msg[16] = "namespace three";

	return fw_cmd_data_out(cmd, msg, sizeof(msg), sizeof(msg));
}

static void t_aborted(struct fw_ns *ns, uint64_t tok)
{
	(void)ns;
	aborted++;
	last_aborted = tok;
}

static uint16_t t_flush(struct fw_ns *ns)
{
	(void)ns;
	flushes++;
	return 0;
}

static void t_destroy(struct fw_ns *ns)
{
	(void)ns; /* static */
}

static void t_identify(const struct fw_ns *ns, void *buf)
{
	(void)ns;
	memset(buf, 0x5a, 8);
}

static const struct fw_cmd_desc t_cmds[] = {
	{ OPC_DEFER, KVC_OP_OTHER, KVC_EFFECTS_CSUPP, t_defer },
	{ OPC_ECHO, KVC_OP_OTHER, KVC_EFFECTS_CSUPP, t_echo },
	{ OPC_OUT, KVC_OP_OTHER, KVC_EFFECTS_CSUPP | KVC_EFFECTS_LBCC, t_out },
};

static const struct fw_ns_ops t_ops = {
	.csi = T_CSI,
	.cmds = t_cmds,
	.ncmds = sizeof(t_cmds) / sizeof(t_cmds[0]),
	.identify_csi = t_identify,
	.aborted = t_aborted,
	.flush = t_flush,
	.destroy = t_destroy,
};

static struct fw_ns t_ns = { .nsid = T_NSID, .ops = &t_ops };

/* ---- fixture --------------------------------------------------------------------- */

static void setup(void)
{
	fh_small_config(&cfg);
	fh_env_init(&env, &cfg, true);
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), 0);
	t_ns.s = sub;
	sub->ns[T_NSID] = &t_ns;
	ntoks = aborted = flushes = 0;
	fh_host_init(&host, &env, sub);
	ck_assert_uint_eq(fh_enable(&host, 32) & (KVC_CSTS_RDY | KVC_CSTS_CFS), KVC_CSTS_RDY);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
}

static void teardown(void)
{
	fh_host_fini(&host);
	fw_subsys_destroy(sub);
	fh_env_fini(&env);
}

static uint16_t admin(uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11, uint32_t cdw14,
		      uint64_t prp1)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_dw(&sqe, 10, cdw10);
	kvc_sqe_set_dw(&sqe, 11, cdw11);
	kvc_sqe_set_dw(&sqe, 14, cdw14);
	kvc_sqe_set_prp(&sqe, prp1, 0);
	return fh_exec(&host, 0, &sqe, NULL);
}

static uint8_t *identify(uint8_t cns, uint32_t nsid, uint8_t csi, uint16_t *st)
{
	uint64_t buf = fh_alloc(&host, 4096, 4096);

	memset(host.mem + buf, 0xcc, 4096);
	*st = admin(KVC_ADM_IDENTIFY, nsid, cns, (uint32_t)csi << 24, 0, buf);
	return host.mem + buf;
}

static uint16_t io(uint8_t opc, uint32_t nsid, uint64_t prp1, uint32_t *dw0)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_prp(&sqe, prp1, 0);
	return fh_exec(&host, 1, &sqe, dw0);
}

/* Submit a deferring command on SQ 1 without waiting; returns its CID. */
static uint16_t submit_defer(void)
{
	struct kvc_sqe sqe;
	uint16_t cid;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = OPC_DEFER;
	kvc_sqe_set_nsid(&sqe, T_NSID);
	cid = fh_put(&host, 1, &sqe, true);
	fh_ring(&host, 1);
	return cid;
}

static void poll_n(unsigned int n)
{
	while (n--)
		fw_ctrl_poll(host.ctrl);
}

/* ---- dispatch and Identify ---------------------------------------------------------- */

START_TEST(dispatch_by_namespace)
{
	uint64_t buf = fh_alloc(&host, 4096, 4096);
	uint32_t dw0 = 0;

	ck_assert_uint_eq(io(OPC_ECHO, T_NSID, 0, &dw0), 0);
	ck_assert_uint_eq(dw0, 0x1234);
	/* A KV opcode to the other namespace, and the reverse. */
	ck_assert_uint_eq(io(KVC_KV_STORE, T_NSID, buf, NULL), ST(KVC_SC_INVALID_OPCODE));
	ck_assert_uint_eq(io(KVC_KV_EXIST, T_NSID, 0, NULL), ST(KVC_SC_INVALID_OPCODE));
	ck_assert_uint_eq(io(OPC_ECHO, 1, 0, NULL), ST(KVC_SC_INVALID_OPCODE));
	/* An NSID with no namespace, and one past every namespace. */
	ck_assert_uint_eq(io(OPC_ECHO, 2, 0, NULL), ST(KVC_SC_INVALID_NS));
	ck_assert_uint_eq(io(OPC_ECHO, FW_MAX_NS + 1, 0, NULL), ST(KVC_SC_INVALID_NS));
	/* Data goes out through the mapper to this namespace's command. */
	memset(host.mem + buf, 0, 64);
	ck_assert_uint_eq(io(OPC_OUT, T_NSID, buf, NULL), 0);
	ck_assert_str_eq((char *)host.mem + buf, "namespace three");
	/* The KV namespace still works. */
	ck_assert_uint_eq(fh_store(&host, 1, "k", "v", 1, 0), 0);
}
END_TEST

START_TEST(flush_all_namespaces)
{
	ck_assert_uint_eq(io(KVC_NVM_FLUSH, 0xffffffffu, 0, NULL), 0);
	ck_assert_uint_eq(flushes, 1);
	/* Flush to the KV namespace alone does not reach the test namespace. */
	ck_assert_uint_eq(io(KVC_NVM_FLUSH, 1, 0, NULL), 0);
	ck_assert_uint_eq(flushes, 1);
}
END_TEST

START_TEST(identify_from_namespace_objects)
{
	struct kvc_id_ctrl *id;
	uint8_t *b, nguid1[16];
	uint16_t st;

	id = (void *)identify(KVC_CNS_CTRL, 0, 0, &st);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(kvc_get_le32(&id->nn), T_NSID);

	b = identify(KVC_CNS_ACTIVE_NS_LIST, 0, 0, &st);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(kvc_get_le32(b), 1);
	ck_assert_uint_eq(kvc_get_le32(b + 4), T_NSID);
	ck_assert_uint_eq(kvc_get_le32(b + 8), 0);
	b = identify(KVC_CNS_ACTIVE_NS_LIST, 1, 0, &st);
	ck_assert_uint_eq(kvc_get_le32(b), T_NSID);
	ck_assert_uint_eq(kvc_get_le32(b + 4), 0);
	b = identify(KVC_CNS_CSI_ACTIVE_NS_LIST, 0, T_CSI, &st);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(kvc_get_le32(b), T_NSID);
	ck_assert_uint_eq(kvc_get_le32(b + 4), 0);
	b = identify(KVC_CNS_CSI_ACTIVE_NS_LIST, 0, KVC_CSI_KV, &st);
	ck_assert_uint_eq(kvc_get_le32(b), 1);
	ck_assert_uint_eq(kvc_get_le32(b + 4), 0);

	/* Descriptor lists: each namespace's own CSI and a distinct NGUID. */
	b = identify(KVC_CNS_NS_DESC_LIST, 1, 0, &st);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(b[20], KVC_NIDT_CSI);
	ck_assert_uint_eq(b[24], KVC_CSI_KV);
	memcpy(nguid1, b + 4, 16);
	b = identify(KVC_CNS_NS_DESC_LIST, T_NSID, 0, &st);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(b[0], KVC_NIDT_NGUID);
	ck_assert_uint_eq(b[20], KVC_NIDT_CSI);
	ck_assert_uint_eq(b[24], T_CSI);
	ck_assert(memcmp(nguid1, b + 4, 16) != 0);
	identify(KVC_CNS_NS_DESC_LIST, 2, 0, &st);
	ck_assert_uint_eq(st, ST(KVC_SC_INVALID_NS));

	/* CNS 05h asks the namespace of the right command set. */
	b = identify(KVC_CNS_CSI_NS, T_NSID, T_CSI, &st);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(b[0], 0x5a);
	ck_assert_uint_eq(b[8], 0);
	identify(KVC_CNS_CSI_NS, T_NSID, KVC_CSI_KV, &st);
	ck_assert_uint_eq(st, ST(KVC_SC_INVALID_FIELD));
}
END_TEST

START_TEST(effects_log_per_command_set)
{
	uint64_t buf = fh_alloc(&host, 4096, 4096);
	const struct kvc_effects_log *l = (const void *)(host.mem + buf);

	ck_assert_uint_eq(admin(KVC_ADM_GET_LOG_PAGE, 0, 1023u << 16 | KVC_LOG_CMD_EFFECTS, 0,
				(uint32_t)T_CSI << 24, buf),
			  0);
	ck_assert_uint_eq(kvc_get_le32(&l->iocs[OPC_DEFER]), KVC_EFFECTS_CSUPP);
	ck_assert_uint_eq(kvc_get_le32(&l->iocs[OPC_OUT]), KVC_EFFECTS_CSUPP | KVC_EFFECTS_LBCC);
	ck_assert_uint_eq(kvc_get_le32(&l->iocs[KVC_KV_RETRIEVE]), 0);
	ck_assert_uint_ne(kvc_get_le32(&l->acs[KVC_ADM_IDENTIFY]), 0);
	ck_assert_uint_eq(admin(KVC_ADM_GET_LOG_PAGE, 0, 1023u << 16 | KVC_LOG_CMD_EFFECTS, 0,
				(uint32_t)KVC_CSI_KV << 24, buf),
			  0);
	ck_assert_uint_eq(kvc_get_le32(&l->iocs[OPC_DEFER]), 0);
	ck_assert_uint_ne(kvc_get_le32(&l->iocs[KVC_KV_RETRIEVE]), 0);
}
END_TEST

/* ---- deferred completions ------------------------------------------------------------ */

START_TEST(deferred_completes_exactly_once)
{
	struct kvc_cqe cqe;
	uint16_t cid = submit_defer();

	ck_assert(!fh_reap(&host, 1, &cqe, 20)); /* nothing until the namespace finishes */
	ck_assert_uint_eq(ntoks, 1);
	ck_assert(fw_pend_complete(sub, toks[0], 0, 77));
	ck_assert(fh_reap(&host, 1, &cqe, 20));
	ck_assert_uint_eq(kvc_cqe_cid(&cqe), cid);
	ck_assert_uint_eq(kvc_cqe_status(&cqe), 0);
	ck_assert_uint_eq(kvc_get_le32(&cqe.dw0), 77);
	/* A second completion of the same token posts nothing. */
	ck_assert(!fw_pend_complete(sub, toks[0], 0, 78));
	ck_assert(!fh_reap(&host, 1, &cqe, 20));
	ck_assert_uint_eq(aborted, 0);
	/* An unknown token, too. */
	ck_assert(!fw_pend_complete(sub, toks[0] + 1000, 0, 0));
}
END_TEST

/* More deferred commands than one fetch burst, finished in reverse order
 * with an error status: every CID comes back once, with its own status. */
START_TEST(many_deferred_in_any_order)
{
	enum { N = 40 };
	uint16_t cid[N];
	bool seen[N] = { false };
	struct kvc_cqe cqe;
	unsigned int i, j;

	for (i = 0; i < N; i++)
		cid[i] = submit_defer();
	poll_n(10);
	ck_assert_uint_eq(ntoks, N);
	for (i = N; i-- > 0;)
		ck_assert(fw_pend_complete(sub, toks[i], i % 2 ? ST(KVC_SC_INTERNAL) : 0, i));
	for (i = 0; i < N; i++) {
		ck_assert(fh_reap(&host, 1, &cqe, 20));
		for (j = 0; j < N && cid[j] != kvc_cqe_cid(&cqe); j++)
			;
		ck_assert_uint_lt(j, N);
		ck_assert(!seen[j]);
		seen[j] = true;
		ck_assert_uint_eq(kvc_get_le32(&cqe.dw0), j);
		ck_assert_uint_eq(kvc_cqe_status(&cqe), j % 2 ? ST(KVC_SC_INTERNAL) : 0);
	}
	ck_assert(!fh_reap(&host, 1, &cqe, 20));
}
END_TEST

START_TEST(sq_deletion_aborts_deferred)
{
	struct kvc_cqe cqe;
	uint16_t cid[3];
	unsigned int i, got = 0;

	for (i = 0; i < 3; i++)
		cid[i] = submit_defer();
	poll_n(5);
	ck_assert_uint_eq(ntoks, 3);
	/* Finish one first: it completes normally, the other two are aborted. */
	ck_assert(fw_pend_complete(sub, toks[1], 0, 5));
	ck_assert_uint_eq(admin(KVC_ADM_DELETE_SQ, 0, 1, 0, 0, 0), 0);
	ck_assert_uint_eq(aborted, 2);
	while (fh_reap(&host, 1, &cqe, 10)) {
		uint16_t c = kvc_cqe_cid(&cqe);

		ck_assert(c == cid[0] || c == cid[1] || c == cid[2]);
		ck_assert_uint_eq(kvc_cqe_status(&cqe), c == cid[1] ? 0 : ST_ABORTED_SQ);
		got++;
	}
	ck_assert_uint_eq(got, 3);
	/* The namespace finishing them later changes nothing. */
	ck_assert(!fw_pend_complete(sub, toks[0], 0, 0));
	ck_assert(!fw_pend_complete(sub, toks[2], 0, 0));
	ck_assert(!fh_reap(&host, 1, &cqe, 10));
	/* The CQ can go now, and the controller keeps working. */
	ck_assert_uint_eq(admin(KVC_ADM_DELETE_CQ, 0, 1, 0, 0, 0), 0);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "after", "x", 1, 0), 0);
}
END_TEST

START_TEST(reset_drops_deferred)
{
	struct kvc_cqe cqe;
	uint32_t v;

	submit_defer();
	submit_defer();
	poll_n(5);
	ck_assert_uint_eq(ntoks, 2);
	host.bar[KVC_REG_CC / 4] = 0; /* CC.EN 1 -> 0: controller reset */
	poll_n(2);
	ck_assert_uint_eq(host.bar[KVC_REG_CSTS / 4] & KVC_CSTS_RDY, 0);
	ck_assert_uint_eq(aborted, 2);
	ck_assert(!fw_pend_complete(sub, toks[0], 0, 0));
	ck_assert(!fw_pend_complete(sub, toks[1], 0, 0));
	/* Back up: fresh queues, nothing stale arrives, I/O works. */
	memset(host.q, 0, sizeof(host.q));
	ck_assert_uint_eq(fh_enable(&host, 32) & (KVC_CSTS_RDY | KVC_CSTS_CFS), KVC_CSTS_RDY);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
	ck_assert(!fh_reap(&host, 1, &cqe, 10));
	ck_assert_uint_eq(fh_store(&host, 1, "k", "v", 1, 0), 0);
	ck_assert_uint_eq(fh_retrieve(&host, 1, "k", &v, sizeof(v), NULL), 0);
}
END_TEST

START_TEST(detach_drops_deferred)
{
	submit_defer();
	poll_n(5);
	ck_assert_uint_eq(ntoks, 1);
	fh_host_fini(&host); /* the host disconnects: its controller goes */
	ck_assert_uint_eq(aborted, 1);
	ck_assert_uint_eq(last_aborted, toks[0]);
	ck_assert(!fw_pend_complete(sub, toks[0], 0, 0));
	fh_host_init(&host, &env, sub); /* for teardown */
}
END_TEST

static Suite *ns_suite(void)
{
	Suite *s = suite_create("firmware/ns");
	TCase *tc = tcase_create("namespaces");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dispatch_by_namespace);
	tcase_add_test(tc, flush_all_namespaces);
	tcase_add_test(tc, identify_from_namespace_objects);
	tcase_add_test(tc, effects_log_per_command_set);
	tcase_add_test(tc, deferred_completes_exactly_once);
	tcase_add_test(tc, many_deferred_in_any_order);
	tcase_add_test(tc, sq_deletion_aborts_deferred);
	tcase_add_test(tc, reset_drops_deferred);
	tcase_add_test(tc, detach_drops_deferred);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ns_suite)
