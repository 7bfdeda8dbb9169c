// SPDX-License-Identifier: MIT
/* PCIe link model against hand-computed TLP figures (DESIGN.md section 5). */
#include <string.h>

#include "check_main.h"
#include "firmware/pcie.h"

static const struct kvc_pcie_link gen3 = {
	.gen = 3, .lanes = 4, .mps = 256, .mrrs = 512, .rcb = 64
};

START_TEST(write_splits_at_mps)
{
	struct kvc_pcie_cost c = kvc_pcie_mwr(&gen3, 0, 16); /* a CQE */

	ck_assert_uint_eq(c.tlps[KVC_PCIE_UP], 1);
	ck_assert_uint_eq(c.bytes[KVC_PCIE_UP], 40);
	ck_assert_uint_eq(c.bytes[KVC_PCIE_DOWN], 0);
	c = kvc_pcie_mwr(&gen3, 0, 4096); /* 16 x (24 + 256) */
	ck_assert_uint_eq(c.tlps[KVC_PCIE_UP], 16);
	ck_assert_uint_eq(c.bytes[KVC_PCIE_UP], 16 * 280);
	c = kvc_pcie_mwr(&gen3, 200, 100); /* crosses 256: 56 + 44 */
	ck_assert_uint_eq(c.tlps[KVC_PCIE_UP], 2);
	ck_assert_uint_eq(c.bytes[KVC_PCIE_UP], 48 + 100);
	c = kvc_pcie_host_mwr(&gen3, 4); /* doorbell */
	ck_assert_uint_eq(c.bytes[KVC_PCIE_DOWN], 28);
	ck_assert_uint_eq(c.bytes[KVC_PCIE_UP], 0);
}
END_TEST

/* The TLPs of a write, one at a time: what kvc_pcie_mwr() counts. */
static struct kvc_pcie_cost mwr_walked(const struct kvc_pcie_link *cfg, uint64_t addr, uint64_t len)
{
	struct kvc_pcie_cost c = { { 0, 0 }, { 0, 0 } };

	while (len) {
		uint64_t room = cfg->mps - (addr % cfg->mps), n = len < room ? len : room;

		c.tlps[KVC_PCIE_UP]++;
		c.bytes[KVC_PCIE_UP] += (uint32_t)(KVC_TLP_MWR_HDR + n);
		addr += n;
		len -= n;
	}
	return c;
}

/*
 * Every MPS, start offsets at and around the MPS boundaries, lengths up to 3
 * pages: as if walked TLP by TLP.
 */
START_TEST(write_count_matches_walk)
{
	static const unsigned int mps[] = { 128, 256, 512, 1024, 2048, 4096 };
	struct kvc_pcie_link l = gen3;
	unsigned int m, k;
	uint64_t addr, len;

	for (m = 0; m < sizeof(mps) / sizeof(mps[0]); m++) {
		l.mps = mps[m];
		for (k = 0; k < 30; k++) {
			/* 0..9, then 10 on either side of the first boundary. */
			addr = k < 10 ? k : (uint64_t)mps[m] - 20 + k;
			for (len = 0; len <= 3 * 4096; len += len < 300 ? 1 : 61) {
				struct kvc_pcie_cost a = kvc_pcie_mwr(&l, addr, len);
				struct kvc_pcie_cost b = mwr_walked(&l, addr, len);

				ck_assert_msg(
					!memcmp(&a, &b, sizeof(a)),
					"mps %u addr %llu len %llu: %u TLPs %u B, walked %u %u",
					mps[m], (unsigned long long)addr, (unsigned long long)len,
					a.tlps[KVC_PCIE_UP], a.bytes[KVC_PCIE_UP],
					b.tlps[KVC_PCIE_UP], b.bytes[KVC_PCIE_UP]);
			}
		}
	}
}
END_TEST

START_TEST(read_requests_and_completions)
{
	/* SQE fetch: MRd 24 up, CplD 20 + 64 down. */
	struct kvc_pcie_cost c = kvc_pcie_mrd(&gen3, 0x1000, 64);

	ck_assert_uint_eq(c.tlps[KVC_PCIE_UP], 1);
	ck_assert_uint_eq(c.bytes[KVC_PCIE_UP], 24);
	ck_assert_uint_eq(c.tlps[KVC_PCIE_DOWN], 1);
	ck_assert_uint_eq(c.bytes[KVC_PCIE_DOWN], 84);
	/* 4 KiB: 8 requests of 512, 16 completions of 256. */
	c = kvc_pcie_mrd(&gen3, 0x2000, 4096);
	ck_assert_uint_eq(c.tlps[KVC_PCIE_UP], 8);
	ck_assert_uint_eq(c.bytes[KVC_PCIE_UP], 192);
	ck_assert_uint_eq(c.tlps[KVC_PCIE_DOWN], 16);
	ck_assert_uint_eq(c.bytes[KVC_PCIE_DOWN], 16 * 276);
	/* Unaligned start: the first completion ends on an RCB boundary
	 * (0x2020 + 256 -> 0x2100 is 64-aligned: 224 bytes), then 256, then 32. */
	c = kvc_pcie_mrd(&gen3, 0x2020, 512);
	ck_assert_uint_eq(c.tlps[KVC_PCIE_UP], 1);
	ck_assert_uint_eq(c.tlps[KVC_PCIE_DOWN], 3);
	ck_assert_uint_eq(c.bytes[KVC_PCIE_DOWN], 3 * 20 + 512);
	/* A request never crosses a 4 KiB boundary. */
	c = kvc_pcie_mrd(&gen3, 0x2f00, 512);
	ck_assert_uint_eq(c.tlps[KVC_PCIE_UP], 2);
}
END_TEST

/* The _add forms add to what the accumulator holds, exactly what the
 * by-value forms return. */
START_TEST(adds_accumulate)
{
	struct kvc_pcie_cost acc = { { 3, 5 }, { 700, 900 } }, w, r;
	uint64_t addr, len;

	for (addr = 0; addr < 600; addr += 37)
		for (len = 0; len < 9000; len += 211) {
			struct kvc_pcie_cost want = acc;

			w = kvc_pcie_mwr(&gen3, addr, len);
			r = kvc_pcie_mrd(&gen3, addr, len);
			kvc_pcie_cost_add(&want, w);
			kvc_pcie_cost_add(&want, r);
			kvc_pcie_mwr_add(&gen3, addr, len, &acc);
			kvc_pcie_mrd_add(&gen3, addr, len, &acc);
			ck_assert(!memcmp(&acc, &want, sizeof(acc)));
		}
	ck_assert_uint_gt(acc.tlps[KVC_PCIE_UP], 3);
	ck_assert_uint_gt(acc.bytes[KVC_PCIE_DOWN], 900);
}
END_TEST

START_TEST(link_rates)
{
	struct fw_pcie p;
	struct kvc_pcie_link g2x8 = { .gen = 2, .lanes = 8, .mps = 256, .mrrs = 512, .rcb = 64 };
	struct kvc_pcie_cost c = { { 0, 0 }, { 0, 4000 } };

	fw_pcie_init(&p, &g2x8);
	ck_assert_uint_eq(p.bytes_per_sec, 4000000000ull); /* 5 GT/s x 8 x 8/10 / 8 */
	ck_assert_uint_eq(fw_pcie_time_ns(&p, c), 1000);
	fw_pcie_init(&p, &gen3);
	/* 8 GT/s x 128/130 / 8 = 984615384 B/s per lane (truncated), x 4 */
	ck_assert_uint_eq(p.bytes_per_sec, 3938461536ull);
}
END_TEST

START_TEST(config_validation)
{
	struct kvc_pcie_link c = gen3;

	ck_assert_ptr_null(kvc_pcie_link_valid_KEEP(&c));
	c.gen = 6;
	ck_assert_ptr_nonnull(kvc_pcie_link_valid_KEEP(&c));
	c = gen3;
	c.lanes = 3;
	ck_assert_ptr_nonnull(kvc_pcie_link_valid_KEEP(&c));
	c = gen3;
	c.mps = 100;
	ck_assert_ptr_nonnull(kvc_pcie_link_valid_KEEP(&c));
	c = gen3;
	c.rcb = 32;
	ck_assert_ptr_nonnull(kvc_pcie_link_valid_KEEP(&c));
}
END_TEST

static Suite *pcie_suite(void)
{
	Suite *s = suite_create("firmware/pcie");
	TCase *tc = tcase_create("pcie");

	tcase_add_test(tc, write_splits_at_mps);
	tcase_add_test(tc, read_requests_and_completions);
	tcase_add_test(tc, adds_accumulate);
	tcase_add_test(tc, link_rates);
	tcase_add_test(tc, write_count_matches_walk);
	tcase_add_test(tc, config_validation);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(pcie_suite)
