// SPDX-License-Identifier: MIT
/* Workload generators: the engine, key format, determinism, MixGraph model. */
#include <string.h>

#include "bench/gen.h"
#include "check_main.h"

/* The C++ standard fixes it: the 10000th output of a default-constructed
 * std::mt19937_64 (seed 5489) is 9981545732273789042. */
START_TEST(engine_matches_mt19937_64)
{
	struct bench_rng r;
	uint64_t v = 0;
	int i;

	bench_rng_seed(&r, 5489);
	for (i = 0; i < 10000; i++)
		v = bench_rng_next(&r);
	ck_assert_uint_eq(v, 9981545732273789042ull);
}
END_TEST

START_TEST(key_format_is_db_bench_s)
{
	uint8_t k[48];
	static const uint8_t want16[16] = { 1,	 2,   3,   4,	5,   6,	  7,   8,
					    '0', '0', '0', '0', '0', '0', '0', '0' };
	static const uint8_t want4[4] = { 5, 6, 7, 8 };

	bench_make_key(k, 16, 0x0102030405060708ull);
	ck_assert_mem_eq(k, want16, 16);
	bench_make_key(k, 4, 0x0102030405060708ull);
	ck_assert_mem_eq(k, want4, 4);
	bench_make_key(k, 8, 42);
	ck_assert_uint_eq(k[7], 42);
	ck_assert_uint_eq(k[0], 0);
	bench_make_key(k, 48, 1);
	ck_assert_uint_eq(k[7], 1);
	ck_assert_uint_eq(k[47], '0');
}
END_TEST

START_TEST(same_seed_same_sequence)
{
	struct bench_mix_params p;
	struct bench_mix m;
	struct bench_rng a, b;
	const char *why;
	int i;

	bench_mix_defaults(&p, 100000);
	ck_assert_int_eq(bench_mix_init(&m, &p, &why), 0);
	bench_rng_seed(&a, 7);
	bench_rng_seed(&b, 7);
	for (i = 0; i < 100000; i++) {
		struct bench_mix_req x, y;

		bench_mix_next(&m, &a, &x);
		bench_mix_next(&m, &b, &y);
		ck_assert_int_eq(x.op, y.op);
		ck_assert_uint_eq(x.key, y.key);
		ck_assert_uint_eq(x.vsize, y.vsize);
		ck_assert_uint_eq(x.scan, y.scan);
		ck_assert_uint_lt(x.key, 100000);
	}
	bench_mix_fini(&m);
}
END_TEST

/* The published model: 83/14/3 % Get/Put/Seek; value sizes from a
 * generalized Pareto with k 0.2615, sigma 25.45 (mean sigma / (1 - k) =
 * 34.5 B before wrapping at the 1 KiB maximum). */
START_TEST(mixgraph_mix_and_value_sizes)
{
	struct bench_mix_params p;
	struct bench_mix m;
	struct bench_rng r;
	uint64_t ops[3] = { 0, 0, 0 }, vsum = 0, small = 0, n = 1000000, i;
	const char *why;

	bench_mix_defaults(&p, 1000000);
	ck_assert_int_eq(bench_mix_init(&m, &p, &why), 0);
	bench_rng_seed(&r, 1);
	for (i = 0; i < n; i++) {
		struct bench_mix_req q;

		bench_mix_next(&m, &r, &q);
		ops[q.op]++;
		if (q.op == BENCH_MIX_PUT) {
			ck_assert_uint_le(q.vsize, 1024);
			vsum += q.vsize;
			small += q.vsize < 35;
		}
	}
	ck_assert_double_eq_tol((double)ops[0] / n, 0.83, 0.01);
	ck_assert_double_eq_tol((double)ops[1] / n, 0.14, 0.01);
	ck_assert_double_eq_tol((double)ops[2] / n, 0.03, 0.01);
	ck_assert_double_eq_tol((double)vsum / ops[1], 36.0, 4.0);
	/* BandSlim's W(M): "almost 70% of values under 35 B". */
	ck_assert_double_eq_tol((double)small / ops[1], 0.70, 0.06);
	bench_mix_fini(&m);
}
END_TEST

START_TEST(distributions)
{
	struct bench_rng r;
	uint64_t sum = 0;
	int i;

	ck_assert_int_eq(bench_pareto_inv(1.0, 0, 0.2615, 25.45), 0);
	ck_assert_int_eq(bench_pareto_inv(0.5, 0, 0, 10), 7); /* -10 ln 0.5 = 6.93 */
	ck_assert_int_eq(bench_pareto_inv(0.0, 0, 0.2615, 25.45), INT64_MAX);
	ck_assert_int_eq(bench_power_inv(0.002312, 0.002312, 0.3467), 1);
	bench_rng_seed(&r, 3);
	for (i = 0; i < 100000; i++) {
		uint32_t v = bench_value_size(&r, BENCH_VD_UNIFORM, 0, 10, 20);

		ck_assert_uint_ge(v, 10);
		ck_assert_uint_le(v, 20);
		sum += bench_value_size(&r, BENCH_VD_NORMAL, 0, 100, 200);
	}
	ck_assert_double_eq_tol((double)sum / 100000, 150.0, 1.0);
	ck_assert_uint_eq(bench_value_size(&r, BENCH_VD_FIXED, 77, 1, 2), 77);
}
END_TEST

START_TEST(bad_parameters)
{
	struct bench_mix_params p;
	struct bench_mix m;
	const char *why;

	bench_mix_defaults(&p, 1000);
	p.get_ratio = p.put_ratio = p.seek_ratio = 0;
	ck_assert_int_ne(bench_mix_init(&m, &p, &why), 0);
	ck_assert_ptr_nonnull(why);
	bench_mix_defaults(&p, 0);
	ck_assert_int_ne(bench_mix_init(&m, &p, &why), 0);
	bench_mix_defaults(&p, 1000);
	p.keyrange_num = 5000; /* more ranges than keys */
	ck_assert_int_ne(bench_mix_init(&m, &p, &why), 0);
}
END_TEST

static Suite *gen_suite(void)
{
	Suite *s = suite_create("bench/gen");
	TCase *tc = tcase_create("gen");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, engine_matches_mt19937_64);
	tcase_add_test(tc, key_format_is_db_bench_s);
	tcase_add_test(tc, same_seed_same_sequence);
	tcase_add_test(tc, mixgraph_mix_and_value_sizes);
	tcase_add_test(tc, distributions);
	tcase_add_test(tc, bad_parameters);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(gen_suite)
