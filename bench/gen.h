/* SPDX-License-Identifier: MIT */
/*
 * Workload generators of nvkv-bench, following db_bench: its 64-bit random
 * generator (the mt19937_64 engine), its key format, value-size
 * distributions, and the MixGraph model of Cao et al., FAST'20 (power-law
 * key hotness or two-term-exponential key ranges, Pareto value sizes and scan
 * lengths, a Get/Put/Seek mix and an optional sine-wave rate).
 */
#ifndef BENCH_GEN_H
#define BENCH_GEN_H

#include <stdbool.h>
#include <stdint.h>

/* mt19937_64, seeded like std::mt19937_64(seed). */
struct bench_rng {
	uint64_t mt[312];
	unsigned int idx;
};

void bench_rng_seed(struct bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(struct bench_rng *r);
/* Uniform in [0, n), n > 0 (modulo, as db_bench's GetRandomKey). */
static inline uint64_t bench_rng_uniform(struct bench_rng *r, uint64_t n)
{
	return bench_rng_next(r) % n;
}
/* Uniform double in [0, 1). */
double bench_rng_double(struct bench_rng *r);

/*
 * db_bench's key format: the low min(key_size, 8) bytes of @v, most
 * significant first, then '0' up to @key_size.
 */
void bench_make_key(uint8_t *key, unsigned int key_size, uint64_t v);

/* Pareto and power CDF inversions of db_bench (rounded up). */
int64_t bench_pareto_inv(double u, double theta, double k, double sigma);
int64_t bench_power_inv(double u, double a, double b);

enum bench_vdist {
	BENCH_VD_FIXED,
	BENCH_VD_UNIFORM,
	BENCH_VD_NORMAL,
};

/* Value size for fixed/uniform/normal (mean of min and max, sd range/6). */
uint32_t bench_value_size(struct bench_rng *r, enum bench_vdist d, uint32_t fixed, uint32_t min,
			  uint32_t max);

/* ---- MixGraph -------------------------------------------------------------- */

struct bench_mix_params {
	uint64_t num;
	double key_dist_a, key_dist_b;
	double keyrange_dist_a, keyrange_dist_b, keyrange_dist_c, keyrange_dist_d;
	int64_t keyrange_num;
	double value_theta, value_k, value_sigma;
	double iter_theta, iter_k, iter_sigma;
	double get_ratio, put_ratio, seek_ratio;
	int64_t max_value_size; /* mix_max_value_size */
	int64_t max_scan_len;	/* mix_max_scan_len */
};

struct bench_keyrange {
	int64_t start;	/* first random value that selects it */
	int64_t access; /* how many random values select it */
};

struct bench_mix {
	struct bench_mix_params p;
	bool prefix_model, random_model;
	int64_t kr_size; /* keys per key range */
	int64_t kr_rand_max;
	int64_t nranges;
	struct bench_keyrange *kr;
	int type_bound[3]; /* query decider: cumulative slots out of range */
	int type_range;
};

enum bench_mix_op {
	BENCH_MIX_GET,
	BENCH_MIX_PUT,
	BENCH_MIX_SEEK,
};

struct bench_mix_req {
	enum bench_mix_op op;
	uint64_t key;	/* key id, 0 .. num - 1 */
	uint32_t vsize; /* PUT */
	uint32_t scan;	/* SEEK: nexts after the seek */
};

/* Return 0, or -EINVAL with a reason in @why for impossible parameters. */
int bench_mix_init(struct bench_mix *m, const struct bench_mix_params *p, const char **why);
void bench_mix_fini(struct bench_mix *m);
/* The next operation, drawing from @r exactly as db_bench's MixGraph does. */
void bench_mix_next(struct bench_mix *m, struct bench_rng *r, struct bench_mix_req *req);

/* The published parameter set (DESIGN.md section 8) for @num keys. */
void bench_mix_defaults(struct bench_mix_params *p, uint64_t num);

#endif /* BENCH_GEN_H */
