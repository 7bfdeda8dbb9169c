// SPDX-License-Identifier: MIT
/* Transfer-method policy: choices at the thresholds, fallbacks, modeled costs. */
#include "check_main.h"
#include "hostdrv/xfer.c"

static const struct kvc_pcie_link gen3 = { 3, 4, 256, 512, 64 };

static struct nvkv_xfer_ctx ctx(uint32_t qsize)
{
	struct nvkv_xfer_ctx x = { .link = &gen3,
				   .dma_page = true,
				   .interrupts = true,
				   .byteexpress = true,
				   .qsize = qsize,
				   .threshold = 127 };

	return x;
}

START_TEST(adaptive_thresholds)
{
	struct nvkv_xfer_ctx x = ctx(256);
	struct nvkv_plan p;

	p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, 127);
	ck_assert_int_eq(p.method, NVKV_XFER_BANDSLIM);
	ck_assert_uint_eq(p.opc, KVC_BS_STORE);
	ck_assert_uint_eq(p.cmds, 1 + (127 - 32 + 53) / 54); /* 32 B head, 54 B transfers */
	p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, 128);
	ck_assert_int_eq(p.method, NVKV_XFER_PRP);
	ck_assert_uint_eq(p.prp_len, 128);
	p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, 4096);
	ck_assert_int_eq(p.method, NVKV_XFER_PRP);
	/* Above a page: whole pages by PRP, the tail piggybacked. */
	p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, 4097);
	ck_assert_uint_eq(p.opc, KVC_BS_STORE_PRP);
	ck_assert_uint_eq(p.prp_len, 4096);
	ck_assert_uint_eq(p.cmds, 1);
	p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, 8192);
	ck_assert_int_eq(p.method, NVKV_XFER_PRP);
	x.threshold = 0;
	p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, 1);
	ck_assert_int_eq(p.method, NVKV_XFER_PRP);
	p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, 0);
	ck_assert_int_eq(p.method, NVKV_XFER_BANDSLIM); /* 0 bytes fit any threshold */
}
END_TEST

START_TEST(key_length_changes_head_capacity)
{
	struct nvkv_xfer_ctx x = ctx(256);

	ck_assert_uint_eq(nvkv_xfer_plan(&x, NVKV_XFER_BANDSLIM, 8, 40).cmds, 1);
	ck_assert_uint_eq(nvkv_xfer_plan(&x, NVKV_XFER_BANDSLIM, 9, 40).cmds, 2);
	ck_assert_uint_eq(nvkv_xfer_plan(&x, NVKV_XFER_BANDSLIM, 16, 32).cmds, 1);
	ck_assert_uint_eq(nvkv_xfer_plan(&x, NVKV_XFER_BANDSLIM, 16, 33).cmds, 2);
}
END_TEST

START_TEST(fallbacks_when_the_queue_is_too_small)
{
	struct nvkv_xfer_ctx x = ctx(16);
	struct nvkv_plan p;

	/* 1000 B: 16 chunks + command > 15 slots: PRP. */
	p = nvkv_xfer_plan(&x, NVKV_XFER_BYTEEXPRESS, 16, 1000);
	ck_assert_int_eq(p.method, NVKV_XFER_PRP);
	p = nvkv_xfer_plan(&x, NVKV_XFER_BYTEEXPRESS, 16, 14 * 64);
	ck_assert_int_eq(p.method, NVKV_XFER_BYTEEXPRESS);
	ck_assert_uint_eq(p.slots, 15);
	p = nvkv_xfer_plan(&x, NVKV_XFER_BYTEEXPRESS, 16, 14 * 64 + 1);
	ck_assert_int_eq(p.method, NVKV_XFER_PRP);
	/* BandSlim of 1000 B needs 19 commands: PRP on a 16-entry queue. */
	p = nvkv_xfer_plan(&x, NVKV_XFER_BANDSLIM, 16, 1000);
	ck_assert_int_eq(p.method, NVKV_XFER_PRP);
	/* Not offered by the backend. */
	x = ctx(256);
	x.byteexpress = false;
	ck_assert_int_eq(nvkv_xfer_plan(&x, NVKV_XFER_BYTEEXPRESS, 16, 64).method, NVKV_XFER_PRP);
}
END_TEST

/* DESIGN.md section 5: a PRP Store of <= 4 KiB moves about 4.8 KB; a
 * one-command piggyback Store about 230 B.  By hand: doorbells 2 x 28, SQE
 * 24 + 84, data 8 x 24 + 16 x 276, CQE 40, MSI-X 28. */
/* The reason names the exact boundary: the largest value that still fits. */
START_TEST(fallback_reasons_name_the_limit)
{
	struct nvkv_xfer_ctx x = ctx(64);
	char why[160];

	/* 64 slots: the head + 62 chunks of 64 B = 3968 B. */
	ck_assert_str_eq(nvkv_xfer_why(&x, NVKV_XFER_BYTEEXPRESS, 16, 3968, why, sizeof(why)), "");
	ck_assert_str_eq(nvkv_xfer_why(&x, NVKV_XFER_BYTEEXPRESS, 16, 3969, why, sizeof(why)),
			 "value > 3968 B: its 64 B chunks do not fit a 64-entry queue");
	ck_assert_str_eq(nvkv_xfer_why(&x, NVKV_XFER_BYTEEXPRESS, 16, 8192, why, sizeof(why)),
			 "value > 3968 B: its 64 B chunks do not fit a 64-entry queue");
	/* BandSlim: 63 commands, a 32 B head and 62 transfers of 54 B = 3380 B. */
	ck_assert_str_eq(nvkv_xfer_why(&x, NVKV_XFER_BANDSLIM, 16, 3380, why, sizeof(why)), "");
	ck_assert_str_eq(nvkv_xfer_why(&x, NVKV_XFER_BANDSLIM, 16, 3381, why, sizeof(why)),
			 "value > 3380 B: its transfer commands do not fit a 64-entry queue");
	ck_assert_str_eq(nvkv_xfer_why(&x, NVKV_XFER_PRP, 16, 1u << 20, why, sizeof(why)), "");
	x.byteexpress = false;
	ck_assert_str_eq(nvkv_xfer_why(&x, NVKV_XFER_BYTEEXPRESS, 16, 8, why, sizeof(why)),
			 "the backend cannot append payloads to the SQ");
}
END_TEST

START_TEST(costs_by_hand)
{
	struct nvkv_xfer_ctx x = ctx(256);
	struct nvkv_plan p = nvkv_xfer_plan(&x, NVKV_XFER_PRP, 16, 4096);

	ck_assert_uint_eq(nvkv_xfer_cost(&x, &p, 16, 4096), 56 + 108 + 192 + 4416 + 40 + 28);
	p = nvkv_xfer_plan(&x, NVKV_XFER_BANDSLIM, 4, 8);
	ck_assert_uint_eq(nvkv_xfer_cost(&x, &p, 4, 8), 56 + 108 + 40 + 28);
	/* ByteExpress 200 B: 5 slots in one burst: MRd 24, CplD 20+256 and 20+64. */
	p = nvkv_xfer_plan(&x, NVKV_XFER_BYTEEXPRESS, 16, 200);
	ck_assert_uint_eq(nvkv_xfer_cost(&x, &p, 16, 200), 56 + 24 + 276 + 84 + 40 + 28);
}
END_TEST

/* sgl: one Data Block of the value's exact length in the SQE, no list. */
START_TEST(sgl_plan_and_cost)
{
	struct nvkv_xfer_ctx x = ctx(256);
	struct nvkv_plan p;
	char why[128];

	x.sgl = true;
	p = nvkv_xfer_plan(&x, NVKV_XFER_SGL, 16, 100);
	ck_assert_int_eq(p.method, NVKV_XFER_SGL);
	ck_assert_uint_eq(p.opc, KVC_KV_STORE);
	ck_assert_uint_eq(p.slots, 1);
	ck_assert_uint_eq(p.prp_len, 100);
	/* Exact bytes even where PRP DMA moves whole pages: MRd 24 + CplD 120. */
	ck_assert_uint_eq(nvkv_xfer_cost(&x, &p, 16, 100), 56 + 108 + 144 + 40 + 28);
	/* 1 MiB: 2048 MRd of 512 B, 4096 CplD of 256 B, and no PRP list. */
	p = nvkv_xfer_plan(&x, NVKV_XFER_SGL, 16, 1u << 20);
	ck_assert_uint_eq(nvkv_xfer_cost(&x, &p, 16, 1u << 20),
			  56 + 108 + 2048 * 24 + 4096 * 20 + (1u << 20) + 40 + 28);
	ck_assert_str_eq(nvkv_xfer_why(&x, NVKV_XFER_SGL, 16, 1u << 20, why, sizeof(why)), "");
	/* The adaptive policies never choose it. */
	ck_assert_int_ne(nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE_COST, 16, 100).method,
			 NVKV_XFER_SGL);
	ck_assert_int_ne(nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, 100).method, NVKV_XFER_SGL);
	/* A device without SGLs: PRP, and why. */
	x.sgl = false;
	p = nvkv_xfer_plan(&x, NVKV_XFER_SGL, 16, 100);
	ck_assert_int_eq(p.method, NVKV_XFER_PRP);
	ck_assert_str_eq(nvkv_xfer_why(&x, NVKV_XFER_SGL, 16, 100, why, sizeof(why)),
			 "the device does not accept byte-aligned SGL data blocks");
}
END_TEST

START_TEST(cost_policy_picks_the_cheapest)
{
	struct nvkv_xfer_ctx x = ctx(256);
	struct nvkv_plan p;

	/* 8 B: one BandSlim command beats 2 ByteExpress slots and a PRP page. */
	ck_assert_int_eq(nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE_COST, 16, 8).method,
			 NVKV_XFER_BANDSLIM);
	/* 200 B: ByteExpress (5 slots, 1 CQE) beats 5 BandSlim commands. */
	ck_assert_int_eq(nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE_COST, 16, 200).method,
			 NVKV_XFER_BYTEEXPRESS);
	/* Without ByteExpress, and with exact DMA, PRP wins at 200 B. */
	x.byteexpress = false;
	x.dma_page = false;
	ck_assert_int_eq(nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE_COST, 16, 200).method,
			 NVKV_XFER_PRP);
	/* Every choice is never costlier than any candidate. */
	x = ctx(1024);
	for (uint32_t v = 0; v <= 8192; v += 37) {
		uint64_t best;

		p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE_COST, 16, v);
		best = nvkv_xfer_cost(&x, &p, 16, v);
		for (int m = NVKV_XFER_PRP; m < NVKV_XFER_NUM; m++) {
			struct nvkv_plan q = nvkv_xfer_plan(&x, (enum nvkv_xfer)m, 16, v);

			ck_assert_uint_le(best, nvkv_xfer_cost(&x, &q, 16, v));
		}
	}
}
END_TEST

/*
 * On a fabric the capsule carries the value: adaptive sends every size as one
 * command with its data (SGL when the device takes byte-aligned SGLs, else
 * PRP), never a BandSlim chain of capsules; adaptive-cost weighs SGL too.
 * Over shared memory nothing changes.
 */
START_TEST(adaptive_on_a_fabric_sends_one_capsule)
{
	static const uint32_t sizes[] = { 0, 1, 16, 35, 64, 127, 128, 4095, 4096, 4097, 16384 };
	struct nvkv_xfer_ctx x = ctx(256);
	struct nvkv_plan p;
	unsigned int i;

	x.fabric = x.narrow = x.sgl = true;
	x.byteexpress = false;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, sizes[i]);
		ck_assert_int_eq(p.method, NVKV_XFER_SGL);
		ck_assert_uint_eq(p.opc, KVC_KV_STORE);
		ck_assert_uint_eq(p.cmds, 1);
		ck_assert_uint_eq(p.slots, 1);
		ck_assert_uint_eq(p.prp_len, sizes[i]);
	}
	/* 64 B: one SGL command (340 B modeled) beats three narrow BandSlim ones. */
	p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE_COST, 16, 64);
	ck_assert_int_eq(p.method, NVKV_XFER_SGL);
	ck_assert_uint_eq(nvkv_xfer_cost(&x, &p, 16, 64), 56 + 108 + 108 + 40 + 28);
	for (uint32_t v = 0; v <= 8192; v += 37) {
		uint64_t best;

		p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE_COST, 16, v);
		best = nvkv_xfer_cost(&x, &p, 16, v);

		for (int m = NVKV_XFER_PRP; m < NVKV_XFER_NUM; m++) {
			struct nvkv_plan q = nvkv_xfer_plan(&x, (enum nvkv_xfer)m, 16, v);

			ck_assert_uint_le(best, nvkv_xfer_cost(&x, &q, 16, v));
		}
	}
	x.sgl = false; /* a target without byte-aligned SGLs: PRP, still one command */
	p = nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, 64);
	ck_assert_int_eq(p.method, NVKV_XFER_PRP);
	ck_assert_uint_eq(p.cmds, 1);
	x.fabric = false; /* the same limits over a PCIe-like backend: BandSlim */
	ck_assert_int_eq(nvkv_xfer_plan(&x, NVKV_XFER_ADAPTIVE, 16, 64).method, NVKV_XFER_BANDSLIM);
}
END_TEST

static Suite *xfer_suite(void)
{
	Suite *s = suite_create("hostdrv/xfer");
	TCase *tc = tcase_create("xfer");

	tcase_add_test(tc, adaptive_thresholds);
	tcase_add_test(tc, key_length_changes_head_capacity);
	tcase_add_test(tc, fallbacks_when_the_queue_is_too_small);
	tcase_add_test(tc, fallback_reasons_name_the_limit);
	tcase_add_test(tc, costs_by_hand);
	tcase_add_test(tc, sgl_plan_and_cost);
	tcase_add_test(tc, cost_policy_picks_the_cheapest);
	tcase_add_test(tc, adaptive_on_a_fabric_sends_one_capsule);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(xfer_suite)
