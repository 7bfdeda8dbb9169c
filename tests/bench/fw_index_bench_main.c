// SPDX-License-Identifier: MIT
/*
 * Micro-benchmark of the firmware's key index alone (fw_index_put/get/del),
 * without the command path around it: N random 16-byte keys are inserted,
 * looked up (hits), looked up absent (misses), listed in order, then deleted,
 * each phase timed in the thread's CPU time (the machine is shared: time
 * spent descheduled does not count), reported as M ops/s and ns per op (list:
 * per key).  `make bench-index` runs it; options:
 * -n KEYS (default 1000000), -s SEED, -r REPEATS (median of the repeats).
 * Not a test: it asserts only that every operation returned what it should.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "firmware/index.h"

static uint64_t rng_state;

static uint64_t next_rand(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum { PUT, GET, MISS, LIST, DEL, NPHASE };
static const char *const phase_name[NPHASE] = { "put", "get", "get-miss", "list", "del" };

static void fail(const char *what, uint64_t i)
{
	fprintf(stderr, "fw-index-bench: %s failed at key %llu\n", what, (unsigned long long)i);
	exit(1);
}

/* The tree after the puts. */
struct shape {
	uint64_t height, leaves, inners;
};

/* One round: rates in M ops/s per phase into @rate, bytes per key into *@bpk. */
static void round_once(uint8_t (*keys)[16], uint8_t (*absent)[16], uint64_t n, double *rate,
		       double *bpk, struct shape *shape)
{
	struct fw_index ix;
	struct fw_index_iter it;
	struct fw_idx_val v = { 0, 64, 0 }, got;
	const uint8_t *k, *prev = NULL;
	uint8_t kl, prev_key[16];
	uint64_t i, seen = 0;
	double t;

	if (fw_index_init(&ix))
		fail("init", 0);
	t = now();
	for (i = 0; i < n; i++) {
		v.loc = i;
		if (fw_index_put(&ix, keys[i], 16, &v, NULL) != 0)
			fail("put", i);
	}
	rate[PUT] = (double)n / (now() - t) / 1e6;
	*bpk = (double)fw_index_mem(&ix) / (double)n;
	shape->height = ix.height;
	shape->leaves = ix.leaves;
	shape->inners = ix.inners;
	t = now();
	for (i = 0; i < n; i++)
		if (!fw_index_get(&ix, keys[i], 16, &got) || got.loc != i)
			fail("get", i);
	rate[GET] = (double)n / (now() - t) / 1e6;
	t = now();
	for (i = 0; i < n; i++)
		if (fw_index_get(&ix, absent[i], 16, &got))
			fail("get-miss", i);
	rate[MISS] = (double)n / (now() - t) / 1e6;
	t = now();
	fw_index_seek(&ix, NULL, 0, &it);
	while (fw_index_next(&it, &k, &kl, NULL)) {
		if (prev && memcmp(prev_key, k, 16) >= 0)
			fail("list order", seen);
		memcpy(prev_key, k, 16);
		prev = k;
		seen++;
	}
	rate[LIST] = (double)seen / (now() - t) / 1e6;
	if (seen != n)
		fail("list count", seen);
	t = now();
	for (i = 0; i < n; i++)
		if (fw_index_del(&ix, keys[i], 16, NULL) != 0)
			fail("del", i);
	rate[DEL] = (double)n / (now() - t) / 1e6;
	fw_index_fini(&ix);
}

int main(int argc, char **argv)
{
	uint64_t n = 1000000, seed = 42, i;
	int opt, reps = 3, r, p;
	uint8_t(*keys)[16], (*absent)[16];
	double *rates, bpk = 0;
	struct shape shape = { 0, 0, 0 };

	while ((opt = getopt(argc, argv, "n:s:r:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n keys] [-s seed] [-r repeats]\n", argv[0]);
			return 2;
		}
	}
	if (n == 0 || reps < 1) {
		fprintf(stderr, "fw-index-bench: -n and -r must be positive\n");
		return 2;
	}
	keys = malloc(n * sizeof(*keys));
	absent = malloc(n * sizeof(*absent));
	rates = malloc((size_t)reps * NPHASE * sizeof(*rates));
	if (!keys || !absent || !rates)
		return 1;
	/* Random 16-byte keys; a 64-bit collision among them is not a concern at these n. */
	rng_state = seed;
	for (i = 0; i < n; i++) {
		uint64_t a = next_rand(), b = next_rand(), c = next_rand();

		memcpy(keys[i], &a, 8);
		memcpy(keys[i] + 8, &b, 8);
		/* Same first 8 bytes as a present key, different rest: a miss in its leaf. */
		memcpy(absent[i], &a, 8);
		memcpy(absent[i] + 8, &c, 8);
	}
	for (r = 0; r < reps; r++)
		round_once(keys, absent, n, rates + (size_t)r * NPHASE, &bpk, &shape);
	printf("fw-index-bench: %llu random 16 B keys, median of %d\n", (unsigned long long)n,
	       reps);
	for (p = 0; p < NPHASE; p++) {
		double col[64];
		int m = reps < 64 ? reps : 64;

		for (r = 0; r < m; r++)
			col[r] = rates[(size_t)r * NPHASE + p];
		qsort(col, (size_t)m, sizeof(col[0]), cmp_double);
		printf("  %-9s %7.2f M ops/s %7.1f ns/op\n", phase_name[p], col[m / 2],
		       1e3 / col[m / 2]);
	}
	printf("  index     %7.1f B/key; height %llu, %llu leaves, %llu inner nodes\n", bpk,
	       (unsigned long long)shape.height, (unsigned long long)shape.leaves,
	       (unsigned long long)shape.inners);
	free(rates);
	free(absent);
	free(keys);
	return 0;
}
