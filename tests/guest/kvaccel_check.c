// SPDX-License-Identifier: MIT
/*
 * Guest-side checker of tests/guest/test_guest_kvaccel.sh: after an
 * nvkv-bench --engine=kvaccel run that recorded its operations
 * (--trace_file), reopen the same store (RocksDB directory + KV device) and
 * compare it with the trace's newest value of every key, twice: as the run
 * left it (pairs on the device and in RocksDB, read through kva_get() and the
 * merged scan), then after kva_rollback() moved everything back into RocksDB
 * (the device's KV namespace must then be empty).  Prints one line per pass;
 * exit 0 when every key matched both times.
 *   kvaccel_check DEVICE DBDIR TRACE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/trace.h"
#include "hostdrv/nvkv.h"
#include "kvaccel/kvaccel.h"

/* The trace's newest operation on each key. */
struct last {
	const uint8_t *key, *val; /* into the trace */
	size_t klen, vlen;
	size_t seq; /* position in the trace: the later wins */
	bool deleted;
};

static int keycmp(const void *a, size_t al, const void *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : al < bl ? -1 : al > bl;
}

static int cmp_last(const void *pa, const void *pb)
{
	const struct last *a = pa, *b = pb;
	int c = keycmp(a->key, a->klen, b->key, b->klen);

	return c ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The trace's writes, one entry per key (its last), sorted by key. */
static int model_load(struct bench_trace_reader *r, const char *path, struct last **out, size_t *n)
{
	struct bench_trace_op op;
	struct last *m;
	char err[256];
	size_t cap, i, k = 0;
	int rc;

	rc = bench_trace_open(r, path, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "kvaccel_check: %s: %s\n", path, err);
		return rc;
	}
	cap = r->count[BENCH_TR_PUT] + r->count[BENCH_TR_DELETE] + 1;
	m = calloc(cap, sizeof(*m));
	if (!m)
		return -ENOMEM;
	while ((rc = bench_trace_next(r, &op, err, sizeof(err))) == 1) {
		if (op.kind != BENCH_TR_PUT && op.kind != BENCH_TR_DELETE)
			continue;
		m[k] = (struct last){ op.key,  op.val, op.klen,
				      op.vlen, k,      op.kind == BENCH_TR_DELETE };
		k++;
	}
	if (rc < 0) {
		fprintf(stderr, "kvaccel_check: %s: %s\n", path, err);
		free(m);
		return rc;
	}
	qsort(m, k, sizeof(*m), cmp_last);
	/* Keep the last entry of each run of equal keys. */
	for (i = 0, *n = 0; i < k; i++) {
		if (i + 1 < k && !keycmp(m[i].key, m[i].klen, m[i + 1].key, m[i + 1].klen))
			continue;
		m[(*n)++] = m[i];
	}
	*out = m;
	return 0;
}

/* Every key through kva_get(): its newest value, or not found if deleted. */
static unsigned int check_gets(struct kva *db, const struct last *m, size_t n)
{
	unsigned int bad = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		void *v = NULL;
		size_t vl = 0;
		int rc = kva_get(db, m[i].key, m[i].klen, &v, &vl);

		if (m[i].deleted ? rc != -ENOENT
				 : rc || vl != m[i].vlen || memcmp(v, m[i].val, vl)) {
			if (bad++ < 5)
				fprintf(stderr,
					"kvaccel_check: key %zu of %zu: get %d, %zu B, want %s %zu "
					"B\n",
					i, n, rc, vl, m[i].deleted ? "deleted" : "value",
					m[i].vlen);
		}
		free(v);
	}
	return bad;
}

/* The merged scan: exactly the live keys, in order, each once, newest value. */
static unsigned int check_scan(struct kva *db, const struct last *m, size_t n)
{
	struct kva_iter *it;
	const void *k, *v;
	size_t kl, vl, i = 0;
	unsigned int bad = 0;
	int rc;

	rc = kva_iter_open(db, NULL, 0, &it);
	if (rc) {
		fprintf(stderr, "kvaccel_check: kva_iter_open: %s\n", strerror(-rc));
		return 1;
	}
	while ((rc = kva_iter_next(it, &k, &kl, &v, &vl)) == 1) {
		while (i < n && m[i].deleted)
			i++;
		if (i == n || keycmp(k, kl, m[i].key, m[i].klen) || vl != m[i].vlen ||
		    memcmp(v, m[i].val, vl)) {
			if (bad++ < 5)
				fprintf(stderr,
					"kvaccel_check: scan: pair %zu is not the newest "
					"of the next key written\n",
					i);
			break;
		}
		i++;
	}
	while (i < n && m[i].deleted)
		i++;
	if (rc < 0) {
		fprintf(stderr, "kvaccel_check: kva_iter_next: %s\n", strerror(-rc));
		bad++;
	} else if (!bad && i != n) {
		fprintf(stderr, "kvaccel_check: scan ended after %zu of %zu keys\n", i, n);
		bad++;
	}
	kva_iter_close(it);
	return bad;
}

static unsigned int check(const char *pass, struct kva *db, const struct last *m, size_t n)
{
	struct kva_stats st;
	unsigned int bad;

	kva_stats(db, &st);
	bad = check_gets(db, m, n) + check_scan(db, m, n);
	printf("kvaccel_check %s: %zu keys, %llu on the device, %u wrong\n", pass, n,
	       (unsigned long long)st.meta_keys, bad);
	return bad;
}

int main(int argc, char **argv)
{
	struct bench_trace_reader r;
	struct kva_opts o;
	struct kva_stats st;
	struct last *m = NULL;
	struct kva *db;
	char why[256];
	size_t n = 0;
	unsigned int bad;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: kvaccel_check DEVICE DBDIR TRACE\n");
		return 2;
	}
	rc = model_load(&r, argv[3], &m, &n);
	if (rc)
		return 1;
	kva_opts_default(&o);
	o.device = argv[1];
	o.db_path = argv[2];
	o.rollback = KVA_ROLLBACK_OFF; /* the store as the run left it */
	rc = kva_open(&o, &db, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "kvaccel_check: kva_open: %s\n", why);
		return 1;
	}
	bad = check("as left", db, m, n);
	rc = kva_rollback(db);
	if (rc)
		fprintf(stderr, "kvaccel_check: kva_rollback: %s\n", strerror(-rc));
	kva_stats(db, &st);
	printf("kvaccel_check rollback: %llu pairs moved, rc %d\n",
	       (unsigned long long)st.rolled_back, rc);
	bad += (rc != 0) + (st.meta_keys != 0);
	bad += check("after rollback", db, m, n);
	kva_close(db);
	bench_trace_close(&r);
	free(m);
	printf("kvaccel_check: %s\n", bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}
