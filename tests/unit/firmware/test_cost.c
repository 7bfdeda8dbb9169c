// SPDX-License-Identifier: MIT
/*
 * The firmware cost model (fw_config.fw_overhead_ns and struct fw_cost):
 * what each command costs the controller, charged by the controller
 * (ctrl.c: fetch and decode, cores), the data-pointer mapper (cmd.c: DMA
 * set-up, PRP entries, SGL descriptors) and the KV namespace (kvns.c: index
 * operations, List steps, BandSlim transfers and their serialization,
 * ByteExpress chunks), composed with the PCIe link time into each command's
 * modeled completion.  Every expected time is computed by hand in the
 * comment above its test.
 */
#include <string.h>

#include "check_main.h"
#include "fakehost.c"

static struct fh_env env;
static struct fw_subsys *sub;
static struct fh_host host;
static struct fw_config cfg;

#define T_START 10000000ull /* the clock when the measured commands arrive */

/*
 * A device in realtime timing on PCIe Gen1 x1 (250 MB/s: exactly 4 ns per
 * byte), MPS 256, MRRS 512, RCB 64, exact DMA; firmware costs from @k.
 */
static void boot(const struct fw_cost *k, uint32_t fetch_ns)
{
	fh_small_config(&cfg);
	cfg.timing = FW_TIMING_REALTIME;
	cfg.dma_gran = FW_DMA_EXACT;
	cfg.pcie =
		(struct kvc_pcie_link){ .gen = 1, .lanes = 1, .mps = 256, .mrrs = 512, .rcb = 64 };
	cfg.fw_overhead_ns = fetch_ns;
	cfg.cost = *k;
	fh_env_init(&env, &cfg, false);
	env.auto_clock = true; /* bring-up commands complete as the clock runs */
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), 0);
	fh_host_init(&host, &env, sub);
	ck_assert_uint_eq(fh_enable(&host, 32) & (KVC_CSTS_RDY | KVC_CSTS_CFS), KVC_CSTS_RDY);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
	env.auto_clock = false;
	ck_assert_uint_lt(env.now, T_START); /* every timeline is idle by then */
	env.now = T_START;
}

static void teardown(void)
{
	fh_host_fini(&host);
	fw_subsys_destroy(sub);
	fh_env_fini(&env);
}

/* Queue a Store of @len bytes by PRP (exact DMA: PRP1 only up to 4 KiB). */
static void put_store(const char *key, uint32_t len)
{
	struct kvc_kv_cmd c = { .opc = KVC_KV_STORE, .nsid = 1 };
	uint64_t buf = fh_alloc(&host, len, 4096);
	struct kvc_sqe sqe;

	memset(host.mem + buf, 0x5a, len);
	c.klen = (uint8_t)strlen(key);
	memcpy(c.key, key, c.klen);
	c.size = len;
	c.prp1 = buf;
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	fh_put(&host, 1, &sqe, true);
}

static void put_simple(uint8_t opc, const char *key)
{
	struct kvc_kv_cmd c = { .opc = opc, .nsid = 1 };
	struct kvc_sqe sqe;

	c.klen = (uint8_t)strlen(key);
	memcpy(c.key, key, c.klen);
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	fh_put(&host, 1, &sqe, true);
}

/* Ring queue 1's doorbell and let the controller fetch what it holds at T_START. */
static void ring_at_start(void)
{
	fh_ring(&host, 1);
	env.now = T_START;
	fw_ctrl_poll(host.ctrl);
}

/* Poll once at T_START + @at - 1 (nothing due yet), then at T_START + @at:
 * the next completion appears exactly then, with status @st. */
static void expect_completion_at(uint64_t at, uint16_t st)
{
	struct kvc_cqe cqe;

	env.now = T_START + at - 1;
	ck_assert(!fh_reap(&host, 1, &cqe, 3));
	ck_assert_uint_eq(fw_ctrl_next_due(host.ctrl), T_START + at);
	env.now = T_START + at;
	ck_assert(fh_reap(&host, 1, &cqe, 3));
	ck_assert_uint_eq(kvc_cqe_status(&cqe), st);
}

static uint64_t lat_sum(unsigned int op)
{
	struct kvc_stats_log st;

	fw_subsys_stats(sub, &st);
	return st.lat_sum_ns[op];
}

/*
 * Two commands arrive together (one doorbell, one fetch burst) at T:
 * a Store of key "k" with a 100-byte value by PRP, then an Exist of "k".
 * Costs: fetch+decode F = 2000, DMA set-up 300, PRP entry 50, index
 * operation 500 (a Store looks its key up and inserts it: 2).
 *
 * Link (4 ns per byte, the busier direction counts).  The burst fetch of
 * two SQEs: MRd 24 B up, one CplD of 20 + 128 = 148 B down; each command's
 * share is half: 12 up, 74 down.  The CQE: MWr 24 + 16 = 40 up.
 *   Store: + value MRd 24 up, CplD 20 + 100 = 120 down;
 *          up 12 + 24 + 40 = 76, down 74 + 120 = 194 -> 776 ns.
 *   Exist: up 12 + 40 = 52, down 74 -> 296 ns.
 * Store: core 0 at T; firmware 2000 + 300 + 50 + 500 + 500 = 3350 ns
 *   (the NAND write buffer takes the 113-byte record at once);
 *   done = T + 3350 + 776 = T + 4126.
 * Exist, one core: waits for the core until T + 3350, firmware 2000 + 500;
 *   done = T + 3350 + 2500 + 296 = T + 6146.
 * Exist, two cores: core 1 at T: done = T + 2500 + 296 = T + 2796.
 */
static const struct fw_cost two_cmd_costs = {
	.cores = 1, .dma_ns = 300, .prp_entry_ns = 50, .index_ns = 500
};

START_TEST(two_commands_hand_computed)
{
	boot(&two_cmd_costs, 2000);
	put_store("k", 100);
	put_simple(KVC_KV_EXIST, "k");
	ring_at_start();
	expect_completion_at(4126, 0);
	expect_completion_at(6146, 0);
	ck_assert_uint_eq(lat_sum(KVC_OP_STORE), 4126);
	ck_assert_uint_eq(lat_sum(KVC_OP_EXIST), 6146);
	teardown();
}
END_TEST

/*
 * A burst that does not divide evenly: three Exists of missing keys in one
 * fetch, three cores (all start at T), F = 1000, index 500.  The fetch of
 * three SQEs: MRd 24 B up, one CplD of 20 + 192 = 212 B down.  Slots [0, j)
 * account for floor(212 j / 3): 70, 141, 212, so the shares are 70, 71, 71
 * down and 8 up each; with the CQE (40 up) the busier direction is down:
 * 280, 284, 284 ns.  Done at T + 1500 + 280 = T + 1780, then T + 1784 twice;
 * the method counters add up to the burst exactly.
 */
START_TEST(uneven_burst_shares_add_up)
{
	struct fw_cost k = { .cores = 3, .index_ns = 500 };
	uint16_t miss = KVC_ST_GENERIC_DNR(KVC_SC_KV_KEY_NOT_EXIST);
	struct kvc_stats_log st0, st;
	struct kvc_cqe cqe;

	boot(&k, 1000);
	fw_subsys_stats(sub, &st0);
	put_simple(KVC_KV_EXIST, "a");
	put_simple(KVC_KV_EXIST, "b");
	put_simple(KVC_KV_EXIST, "c");
	ring_at_start();
	expect_completion_at(1780, miss);
	expect_completion_at(1784, miss);
	ck_assert(fh_reap(&host, 1, &cqe, 3)); /* due at the same time */
	ck_assert_uint_eq(kvc_cqe_status(&cqe), miss);
	ck_assert_uint_eq(lat_sum(KVC_OP_EXIST), 1780 + 2 * 1784);
	fw_subsys_stats(sub, &st);
	ck_assert_uint_eq(st.m_cmds[KVC_XM_NONE] - st0.m_cmds[KVC_XM_NONE], 3);
	ck_assert_uint_eq(st.m_pcie_bytes[KVC_XM_NONE][KVC_PCIE_DOWN] -
				  st0.m_pcie_bytes[KVC_XM_NONE][KVC_PCIE_DOWN],
			  212);
	ck_assert_uint_eq(st.m_pcie_bytes[KVC_XM_NONE][KVC_PCIE_UP] -
				  st0.m_pcie_bytes[KVC_XM_NONE][KVC_PCIE_UP],
			  24 + 3 * 40);
	teardown();
}
END_TEST

/* The same two commands with two cores: the Exist no longer waits. */
START_TEST(two_cores_overlap)
{
	struct fw_cost k = two_cmd_costs;

	k.cores = 2;
	boot(&k, 2000);
	put_store("k", 100);
	put_simple(KVC_KV_EXIST, "k");
	ring_at_start();
	expect_completion_at(2796, 0); /* the Exist first */
	expect_completion_at(4126, 0);
	ck_assert_uint_eq(lat_sum(KVC_OP_STORE), 4126);
	ck_assert_uint_eq(lat_sum(KVC_OP_EXIST), 2796);
	teardown();
}
END_TEST

/*
 * One core serializes two Exists of a missing key (F = 1000, index 500):
 * each is 1500 ns of firmware and 296 ns of link (as above), the second
 * starts when the first leaves the core: T + 1796 and T + 3296.  Two cores:
 * both at T + 1796.
 */
START_TEST(overlap_one_serializes_two_overlaps)
{
	struct fw_cost k = { .cores = 1, .index_ns = 500 };
	uint16_t miss = KVC_ST_GENERIC_DNR(KVC_SC_KV_KEY_NOT_EXIST);
	struct kvc_cqe cqe;

	boot(&k, 1000);
	put_simple(KVC_KV_EXIST, "a");
	put_simple(KVC_KV_EXIST, "b");
	ring_at_start();
	expect_completion_at(1796, miss);
	expect_completion_at(3296, miss);
	ck_assert_uint_eq(lat_sum(KVC_OP_EXIST), 1796 + 3296);
	teardown();

	k.cores = 2;
	boot(&k, 1000);
	put_simple(KVC_KV_EXIST, "a");
	put_simple(KVC_KV_EXIST, "b");
	ring_at_start();
	expect_completion_at(1796, miss);
	ck_assert(fh_reap(&host, 1, &cqe, 3)); /* due at the same time */
	ck_assert_uint_eq(kvc_cqe_status(&cqe), miss);
	ck_assert_uint_eq(lat_sum(KVC_OP_EXIST), 2 * 1796);
	teardown();
}
END_TEST

/* Send a whole BandSlim sequence (C0h, value inline) in one burst, reap
 * every completion; returns the number of transfer commands.  The Store's
 * modeled latency (head arrival to last completion) is in lat_sum(STORE). */
static uint32_t bandslim_store(const char *key, uint32_t len)
{
	static uint8_t v[4096];
	struct kvc_bs_store s = { .opc = KVC_BS_STORE, .nsid = 1, .size = len, .tag = 7 };
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	uint32_t i, n;

	memset(v, 0x33, sizeof(v));
	s.klen = (uint8_t)strlen(key);
	memcpy(s.key, key, s.klen);
	n = kvc_bs_cmd_count(&s);
	ck_assert_uint_lt(n, 62); /* one burst of a 64-entry SQ */
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(kvc_bs_encode(&sqe, &s, i, v, 0), 0);
		fh_put(&host, 1, &sqe, true);
	}
	ring_at_start();
	env.now = T_START + 100000000; /* long past the sequence */
	for (i = 0; i < n; i++) {
		ck_assert(fh_reap(&host, 1, &cqe, 5));
		ck_assert_uint_eq(kvc_cqe_status(&cqe), 0);
	}
	return n - 1;
}

/* The Store's modeled latency with the given costs. */
static uint64_t bandslim_latency(uint32_t len, uint32_t xfer_ns, uint32_t cores, uint32_t *nxfer)
{
	struct fw_cost k = { .cores = cores, .bs_xfer_ns = xfer_ns, .index_ns = 500 };
	uint64_t lat;

	boot(&k, 2000);
	*nxfer = bandslim_store("key", len);
	lat = lat_sum(KVC_OP_STORE);
	teardown();
	return lat;
}

/*
 * BandSlim: each transfer command costs its fetch and decode plus the
 * reassembly cost, one after the other, so raising fw_bs_xfer_ns by 1000
 * ns adds 1000 ns per transfer command to the Store's latency exactly (the
 * link bytes are the same); a larger value needs more transfer commands
 * and pays for each.  The sequence is serialized: four cores do not make
 * it faster.
 */
START_TEST(bandslim_cost_scales_with_transfer_commands)
{
	static const uint32_t sizes[] = { 100, 1000, 2048 };
	uint32_t i, n0, n1, n4, prev = 0;

	for (i = 0; i < 3; i++) {
		uint64_t base = bandslim_latency(sizes[i], 0, 1, &n0);
		uint64_t more = bandslim_latency(sizes[i], 1000, 1, &n1);
		uint64_t four = bandslim_latency(sizes[i], 1000, 4, &n4);

		ck_assert_uint_eq(n0, n1);
		ck_assert_uint_eq(n1, n4);
		ck_assert_uint_gt(n1, prev); /* more transfer commands for a larger value */
		prev = n1;
		ck_assert_uint_eq(more - base, 1000ull * n1);
		ck_assert_uint_eq(four, more);
		/* one core: every command's fetch and decode is on the path */
		ck_assert_uint_ge(base, (2000ull + 500) + 2000ull * n1);
	}
}
END_TEST

/*
 * ByteExpress: a Store of 1000 bytes appends ceil(1000 / 64) = 16 chunks;
 * fw_bx_chunk_ns = 100 adds 1600 ns to its latency, nothing else changes.
 */
START_TEST(byteexpress_cost_per_chunk)
{
	static uint8_t v[1000], slots[16][64];
	struct kvc_kv_cmd c = { .opc = KVC_BX_STORE, .nsid = 1, .klen = 1, .key = "x" };
	uint64_t lat[2];
	int run;

	memset(v, 0x44, sizeof(v));
	memset(slots, 0, sizeof(slots));
	memcpy(slots, v, sizeof(v));
	c.size = sizeof(v);
	for (run = 0; run < 2; run++) {
		struct fw_cost k = { .cores = 1, .bx_chunk_ns = run ? 100 : 0 };
		struct kvc_sqe sqe;
		struct kvc_cqe cqe;
		unsigned int i;

		boot(&k, 2000);
		ck_assert_int_eq(kvc_bx_encode(&sqe, &c), 0);
		fh_put(&host, 1, &sqe, true);
		for (i = 0; i < 16; i++)
			fh_put_raw(&host, 1, slots[i]);
		ring_at_start();
		env.now = T_START + 100000000;
		ck_assert(fh_reap(&host, 1, &cqe, 5));
		ck_assert_uint_eq(kvc_cqe_status(&cqe), 0);
		lat[run] = lat_sum(KVC_OP_STORE);
		teardown();
	}
	ck_assert_uint_eq(lat[1] - lat[0], 1600);
}
END_TEST

/*
 * PRP entries: a 5000-byte value at a page boundary uses PRP1 and PRP2
 * (2 entries), a 100-byte one PRP1 only: with fw_prp_entry_ns = 700 the
 * first Store's latency grows by 1400 ns, the second's by 700.
 */
START_TEST(prp_entries_charged)
{
	static const uint32_t lens[] = { 100, 5000 };
	static const uint64_t extra[] = { 700, 1400 };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		uint64_t lat[2];
		int run;

		for (run = 0; run < 2; run++) {
			struct fw_cost k = { .cores = 1, .prp_entry_ns = run ? 700 : 0 };
			struct kvc_kv_cmd c = {
				.opc = KVC_KV_STORE, .nsid = 1, .klen = 1, .key = "p"
			};
			uint64_t buf;
			struct kvc_sqe sqe;
			struct kvc_cqe cqe;

			boot(&k, 2000);
			buf = fh_alloc(&host, 8192, 4096);
			c.size = lens[i];
			c.prp1 = buf;
			c.prp2 = buf + 4096;
			ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
			fh_put(&host, 1, &sqe, true);
			ring_at_start();
			env.now = T_START + 100000000;
			ck_assert(fh_reap(&host, 1, &cqe, 5));
			ck_assert_uint_eq(kvc_cqe_status(&cqe), 0);
			lat[run] = lat_sum(KVC_OP_STORE);
			teardown();
		}
		ck_assert_uint_eq(lat[1] - lat[0], extra[i]);
	}
}
END_TEST

/* The knobs' defaults are the model before them: one core, nothing but the
 * per-command fetch and decode. */
START_TEST(defaults_are_one_core_no_extra_cost)
{
	struct fw_config d;
	struct fw_cost zero = { .cores = 1 };

	fw_config_default(&d);
	ck_assert_mem_eq(&d.cost, &zero, sizeof(zero));
	ck_assert_uint_eq(d.fw_overhead_ns, 1500);
	d.cost.cores = 0;
	ck_assert_ptr_nonnull(fw_config_check(&d));
	d.cost.cores = FW_MAX_CORES + 1;
	ck_assert_ptr_nonnull(fw_config_check(&d));
	d.cost.cores = FW_MAX_CORES;
	ck_assert_ptr_null(fw_config_check(&d));
}
END_TEST

static Suite *cost_suite(void)
{
	Suite *s = suite_create("firmware/cost");
	TCase *tc = tcase_create("cost");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, two_commands_hand_computed);
	tcase_add_test(tc, two_cores_overlap);
	tcase_add_test(tc, uneven_burst_shares_add_up);
	tcase_add_test(tc, overlap_one_serializes_two_overlaps);
	tcase_add_test(tc, bandslim_cost_scales_with_transfer_commands);
	tcase_add_test(tc, byteexpress_cost_per_chunk);
	tcase_add_test(tc, prp_entries_charged);
	tcase_add_test(tc, defaults_are_one_core_no_extra_cost);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(cost_suite)
