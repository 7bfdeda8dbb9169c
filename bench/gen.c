// SPDX-License-Identifier: MIT
/* Workload generators; see gen.h.  The formulas are db_bench's (RocksDB). */
#include "gen.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* mt19937_64 parameters (the C++ standard's). */
#define MT_N 312
#define MT_M 156
#define MT_A 0xb5026f5aa96619e9ull
#define MT_UPPER 0xffffffff80000000ull
#define MT_LOWER 0x7fffffffull

void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	unsigned int i;

	r->mt[0] = seed;
	for (i = 1; i < MT_N; i++)
		r->mt[i] = 6364136223846793005ull * (r->mt[i - 1] ^ (r->mt[i - 1] >> 62)) + i;
	r->idx = MT_N;
}

static void twist(struct bench_rng *r)
{
	unsigned int i;

	for (i = 0; i < MT_N; i++) {
		uint64_t x = (r->mt[i] & MT_UPPER) | (r->mt[(i + 1) % MT_N] & MT_LOWER);
		uint64_t xa = x >> 1;

		if (x & 1)
			xa ^= MT_A;
		r->mt[i] = r->mt[(i + MT_M) % MT_N] ^ xa;
	}
	r->idx = 0;
}

uint64_t bench_rng_next(struct bench_rng *r)
{
	uint64_t x;

	if (r->idx >= MT_N)
		twist(r);
	x = r->mt[r->idx++];
	x ^= (x >> 29) & 0x5555555555555555ull;
	x ^= (x << 17) & 0x71d67fffeda60000ull;
	x ^= (x << 37) & 0xfff7eee000000000ull;
	x ^= x >> 43;
	return x;
}

double bench_rng_double(struct bench_rng *r)
{
	return (double)(bench_rng_next(r) >> 11) / 9007199254740992.0; /* 2^53 */
}

void bench_make_key(uint8_t *key, unsigned int key_size, uint64_t v)
{
	unsigned int n = key_size < 8 ? key_size : 8, i;

	for (i = 0; i < n; i++)
		key[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	if (key_size > n)
		memset(key + n, '0', key_size - n);
}

/* ceil() into int64_t, saturating where db_bench's cast would be undefined. */
static int64_t ceil_i64(double x)
{
	if (!(x < 9.2e18))
		return INT64_MAX;
	if (x < -9.2e18)
		return INT64_MIN;
	return (int64_t)ceil(x);
}

int64_t bench_pareto_inv(double u, double theta, double k, double sigma)
{
	return ceil_i64(k == 0.0 ? theta - sigma * log(u) : theta + sigma * (pow(u, -k) - 1) / k);
}

int64_t bench_power_inv(double u, double a, double b)
{
	return ceil_i64(pow(u / a, 1 / b));
}

uint32_t bench_value_size(struct bench_rng *r, enum bench_vdist d, uint32_t fixed, uint32_t min,
			  uint32_t max)
{
	double mean, sd, x, u1, u2;

	switch (d) {
	case BENCH_VD_UNIFORM:
		return min + (uint32_t)bench_rng_uniform(r, (uint64_t)max - min + 1);
	case BENCH_VD_NORMAL:
		/* Box-Muller; clamped to [min, max]. */
		mean = (min + (double)max) / 2;
		sd = (max - (double)min) / 6;
		u1 = bench_rng_double(r);
		u2 = bench_rng_double(r);
		x = mean + sd * sqrt(-2 * log(u1 > 0 ? u1 : 1e-300)) * cos(2 * M_PI * u2);
		if (x < min)
			x = min;
		if (x > max)
			x = max;
		return (uint32_t)x;
	case BENCH_VD_FIXED:
	default:
		return fixed;
	}
}

/* ---- MixGraph ------------------------------------------------------------------ */

void bench_mix_defaults(struct bench_mix_params *p, uint64_t num)
{
	memset(p, 0, sizeof(*p));
	p->num = num;
	p->key_dist_a = 0.002312;
	p->key_dist_b = 0.3467;
	p->keyrange_dist_a = 14.18;
	p->keyrange_dist_b = -2.917;
	p->keyrange_dist_c = 0.0164;
	p->keyrange_dist_d = -0.08082;
	p->keyrange_num = 30;
	p->value_theta = 0;
	p->value_k = 0.2615;
	p->value_sigma = 25.45;
	p->iter_theta = 0;
	p->iter_k = 2.517;
	p->iter_sigma = 14.236;
	p->get_ratio = 0.83;
	p->put_ratio = 0.14;
	p->seek_ratio = 0.03;
	p->max_value_size = 1024;
	p->max_scan_len = 10000;
}

/* Key ranges sized by the two-term exponential, then shuffled (db_bench). */
static int init_ranges(struct bench_mix *m)
{
	const struct bench_mix_params *p = &m->p;
	int64_t amplify = 0, start = 0, i, pfx, off;
	struct bench_rng shuffle;

	m->nranges = p->keyrange_num <= 0 ? 1 : p->keyrange_num;
	m->kr_size = (int64_t)p->num / m->nranges;
	if (m->kr_size == 0)
		return -EINVAL;
	m->kr = calloc((size_t)m->nranges, sizeof(*m->kr));
	if (!m->kr)
		return -ENOMEM;
	for (pfx = m->nranges, i = 0; pfx >= 1; pfx--, i++) {
		double pr = p->keyrange_dist_a * exp(p->keyrange_dist_b * (double)pfx) +
			    p->keyrange_dist_c * exp(p->keyrange_dist_d * (double)pfx);

		if (pr < 1e-16)
			pr = 0.0;
		if (amplify == 0 && pr > 0)
			amplify = (int64_t)floor(1 / pr) + 1;
		m->kr[i].start = start;
		m->kr[i].access = pr <= 0.0 ? 0 : (int64_t)floor((double)amplify * pr);
		start += m->kr[i].access;
	}
	m->kr_rand_max = start;
	if (m->kr_rand_max <= 0)
		return -EINVAL;
	bench_rng_seed(&shuffle, (uint64_t)m->kr_rand_max);
	for (i = 0; i < p->keyrange_num; i++) {
		int64_t pos = (int64_t)(bench_rng_next(&shuffle) % (uint64_t)p->keyrange_num);
		struct bench_keyrange t = m->kr[i];

		m->kr[i] = m->kr[pos];
		m->kr[pos] = t;
	}
	for (off = 0, i = 0; i < m->nranges; i++) {
		m->kr[i].start = off;
		off += m->kr[i].access;
	}
	return 0;
}

int bench_mix_init(struct bench_mix *m, const struct bench_mix_params *p, const char **why)
{
	double ratio[3] = { p->get_ratio, p->put_ratio, p->seek_ratio }, sum;
	int i, rc;

	memset(m, 0, sizeof(*m));
	m->p = *p;
	*why = NULL;
	sum = ratio[0] + ratio[1] + ratio[2];
	if (p->num == 0 || sum <= 0 || ratio[0] < 0 || ratio[1] < 0 || ratio[2] < 0) {
		*why = "mixgraph needs --num > 0 and non-negative mix ratios with a positive sum";
		return -EINVAL;
	}
	if (p->max_value_size <= 0 || p->max_scan_len <= 0) {
		*why = "--mix_max_value_size and --mix_max_scan_len must be positive";
		return -EINVAL;
	}
	/* Query decider: 1000 slots split by the ratios, rounded up. */
	for (i = 0; i < 3; i++) {
		m->type_range += (int)ceil(1000 * (ratio[i] / sum));
		m->type_bound[i] = m->type_range;
	}
	m->prefix_model = p->keyrange_dist_a != 0.0 || p->keyrange_dist_b != 0.0 ||
			  p->keyrange_dist_c != 0.0 || p->keyrange_dist_d != 0.0;
	m->random_model = p->key_dist_a == 0 || p->key_dist_b == 0;
	if (m->prefix_model) {
		rc = init_ranges(m);
		if (rc) {
			*why = "the keyrange_dist parameters give no usable key range";
			bench_mix_fini(m);
			return rc;
		}
	}
	return 0;
}

void bench_mix_fini(struct bench_mix *m)
{
	free(m->kr);
	m->kr = NULL;
}

static int64_t range_key(const struct bench_mix *m, int64_t ini_rand)
{
	int64_t kr_rand = ini_rand % m->kr_rand_max, lo = 0, hi = m->nranges, off;

	while (lo + 1 < hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (kr_rand < m->kr[mid].start)
			hi = mid;
		else
			lo = mid;
	}
	if (m->p.key_dist_a == 0.0 || m->p.key_dist_b == 0.0) {
		off = ini_rand % m->kr_size;
	} else {
		double u = (double)(ini_rand % m->kr_size) / (double)m->kr_size;
		struct bench_rng rk;

		bench_rng_seed(&rk, (uint64_t)bench_power_inv(u, m->p.key_dist_a, m->p.key_dist_b));
		off = (int64_t)(bench_rng_next(&rk) % (uint64_t)m->kr_size);
	}
	return m->kr_size * lo + off;
}

void bench_mix_next(struct bench_mix *m, struct bench_rng *r, struct bench_mix_req *req)
{
	const struct bench_mix_params *p = &m->p;
	int64_t ini_rand = (int64_t)(bench_rng_next(r) % p->num);
	int64_t rand_v = ini_rand % (int64_t)p->num, key, pos;
	double u = (double)rand_v / (double)p->num;
	int i;

	if (m->random_model) {
		key = ini_rand;
	} else if (m->prefix_model) {
		key = range_key(m, ini_rand);
	} else {
		struct bench_rng rk;

		bench_rng_seed(&rk, (uint64_t)bench_power_inv(u, p->key_dist_a, p->key_dist_b));
		key = (int64_t)bench_rng_next(&rk) % (int64_t)p->num;
	}
	req->key = (uint64_t)(key < 0 ? -key : key) % p->num;
	pos = rand_v % m->type_range;
	req->op = BENCH_MIX_GET;
	for (i = 0; i < 3; i++) {
		if (pos < m->type_bound[i]) {
			req->op = (enum bench_mix_op)i;
			break;
		}
	}
	req->vsize = 0;
	req->scan = 0;
	if (req->op == BENCH_MIX_PUT) {
		int64_t v = bench_pareto_inv(u, p->value_theta, p->value_k, p->value_sigma);

		if (v < 0)
			v = 10;
		else if (v > p->max_value_size)
			v %= p->max_value_size;
		req->vsize = (uint32_t)v;
	} else if (req->op == BENCH_MIX_SEEK) {
		req->scan =
			(uint32_t)(bench_pareto_inv(u, p->iter_theta, p->iter_k, p->iter_sigma) %
				   p->max_scan_len);
	}
}
