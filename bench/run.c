// SPDX-License-Identifier: MIT
/*
 * The nvkv-bench runner: worker threads issue each benchmark's operations
 * asynchronously and time every operation from submission to completion;
 * report.c prints the results.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "runner.h"

#define BENCH_KEY_MAX 16 /* the longest key a KV device takes */

static const struct workload_def workloads[] = {
	{ "fillseq", W_FILLSEQ, false, false, false },
	{ "fillrandom", W_FILLRANDOM, false, false, false },
	{ "overwrite", W_OVERWRITE, false, false, false },
	{ "readrandom", W_READRANDOM, true, true, false },
	{ "readseq", W_READSEQ, true, true, false },
	{ "readwhilewriting", W_READWHILEWRITING, true, true, false },
	{ "seekrandom", W_SEEKRANDOM, true, true, false },
	{ "deleterandom", W_DELETERANDOM, false, false, false },
	{ "mixgraph", W_MIXGRAPH, true, true, true },
	{ "wB", W_B, false, false, true },
	{ "wC", W_C, false, false, true },
	{ "wD", W_D, false, false, true },
	{ "wM", W_M, false, false, true },
	{ "replay", W_REPLAY, false, true, true },
	{ "readrandomwriterandom", W_READRANDOMWRITERANDOM, true, false, false },
	{ "updaterandom", W_UPDATERANDOM, true, false, false },
	{ "multireadrandom", W_MULTIREADRANDOM, true, true, false },
};

/* ---- the clock ---------------------------------------------------------------- */

/* Every latency and throughput figure is timed with the engine's clock: the
 * device's, which is virtual on a simulated device. */
static uint64_t run_now(const struct run *r)
{
	return r->e->ops->clock_ns ? r->e->ops->clock_ns(r->e) : bench_now_ns();
}

/* Let @ns of the run's clock pass (virtual time moves only when told). */
static void run_sleep(const struct run *r, uint64_t ns)
{
	if (r->e->ops->sleep_ns)
		r->e->ops->sleep_ns(r->e, ns);
	else
		usleep((useconds_t)(ns / 1000));
}

/* ---- workers ------------------------------------------------------------------ */

struct slot {
	struct worker *w;
	uint64_t t0;
	uint8_t kind;
	uint8_t klen; /* a found value counts key + value bytes, as db_bench */
	bool free;
};

struct worker {
	struct run *run;
	unsigned int id;
	bool writer; /* the writer of readwhilewriting */
	void *ctx;
	struct bench_rng rng;
	struct bench_hist h[K_NUM];
	struct slot *slots;
	uint8_t *vbuf; /* values to write */
	uint8_t *rbuf; /* values read, qd x max value */
	uint64_t ops, found, bytes, errors;
	uint64_t start, end;
	int err;
	struct bench_mix mix;
	/* mixgraph's detail line: seeks that found a key, values the seeks
	 * read, value bytes put */
	uint64_t gets, puts, seeks, seek_found, scan_len, put_bytes;
	/* readrandomwriterandom: the reads and writes left of this 100 */
	int64_t get_weight, put_weight;
	uint8_t *mkeys; /* multireadrandom: the batch's keys */
};

static void op_done(void *arg, int status, uint32_t vlen)
{
	struct slot *s = arg;
	struct worker *w = s->w;
	uint64_t ns = run_now(w->run) - s->t0;

	bench_hist_add(&w->h[s->kind], ns);
	if (!w->writer)
		bench_series_lat(&w->run->series, ns);
	if (status == 0) {
		if (s->kind == K_READ) {
			w->found++;
			w->bytes += s->klen + (uint64_t)vlen;
		}
	} else if (!(s->kind == K_READ && status == NVKV_KEY_NOT_EXIST) &&
		   !(s->kind == K_DELETE && status == NVKV_KEY_NOT_EXIST)) {
		w->errors++;
		if (!w->err)
			w->err = status;
	}
	s->free = true;
	atomic_fetch_add_explicit(&w->run->done, 1, memory_order_relaxed);
}

/* A free slot, polling the engine until one is. */
/* Slots of a worker: --qd, or a whole MultiGet batch when that is more. */
static unsigned int nslots(const struct run *r)
{
	unsigned int qd = (unsigned int)r->c->qd, b = (unsigned int)r->c->batch_size;

	return r->def->w == W_MULTIREADRANDOM && b > qd ? b : qd;
}

static struct slot *get_slot(struct worker *w)
{
	const struct bench_engine_ops *o = w->run->e->ops;
	unsigned int i, qd = nslots(w->run);

	for (;;) {
		for (i = 0; i < qd; i++)
			if (w->slots[i].free)
				return &w->slots[i];
		if (o->wait(w->ctx, 1) < 0)
			return NULL;
	}
}

/* Submit, retrying while the engine is full. */
static int submit_kv(struct worker *w, enum op_kind kind, const uint8_t *key, size_t klen,
		     uint32_t vsize)
{
	const struct bench_engine_ops *o = w->run->e->ops;
	struct slot *s = get_slot(w);
	int rc;

	if (!s)
		return -ENODEV;
	s->free = false;
	s->kind = (uint8_t)kind;
	s->klen = (uint8_t)klen;
	s->w = w;
	for (;;) {
		s->t0 = run_now(w->run);
		switch (kind) {
		case K_WRITE:
			rc = o->put(w->ctx, key, klen, w->vbuf, vsize,
				    w->run->xfer | (w->run->c->xfer_strict ? BENCH_XFER_STRICT : 0),
				    op_done, s);
			break;
		case K_READ:
			rc = o->get(w->ctx, key, klen,
				    w->rbuf + (size_t)(s - w->slots) * w->run->max_value,
				    w->run->max_value, op_done, s);
			break;
		default:
			rc = o->del(w->ctx, key, klen, op_done, s);
			break;
		}
		if (rc != -EAGAIN)
			break;
		if (o->wait(w->ctx, 1) < 0)
			break;
	}
	if (rc) {
		s->free = true;
		return rc;
	}
	if (kind == K_WRITE)
		w->bytes += klen + vsize;
	w->ops++;
	if (!w->writer)
		bench_series_ops(&w->run->series, 1);
	if (w->run->record)
		bench_trace_record(w->run->record,
				   kind == K_WRITE  ? BENCH_TR_PUT
				   : kind == K_READ ? BENCH_TR_GET
						    : BENCH_TR_DELETE,
				   key, klen, w->vbuf, kind == K_WRITE ? vsize : 0);
	return 0;
}

static int submit(struct worker *w, enum op_kind kind, const uint8_t *key, uint32_t vsize)
{
	return submit_kv(w, kind, key, (size_t)w->run->c->key_size, vsize);
}

static uint32_t fill_value_size(struct worker *w)
{
	const struct bench_cfg *c = w->run->c;
	static const uint32_t wd[] = { 8, 16, 32, 64, 128, 256, 512, 1024, 2048 };
	struct bench_mix_req q;

	switch (w->run->def->w) {
	case W_B:
		return bench_rng_uniform(&w->rng, 10) < 9 ? 8 : 2048;
	case W_C:
		return bench_rng_uniform(&w->rng, 10) < 1 ? 8 : 2048;
	case W_D:
		return wd[bench_rng_uniform(&w->rng, 9)];
	case W_M:
		bench_mix_next(&w->mix, &w->rng, &q);
		return q.vsize;
	default:
		break;
	}
	if (!strcmp(c->value_size_distribution_type, "uniform"))
		return bench_value_size(&w->rng, BENCH_VD_UNIFORM, 0, (uint32_t)c->value_size_min,
					(uint32_t)c->value_size_max);
	if (!strcmp(c->value_size_distribution_type, "normal"))
		return bench_value_size(&w->rng, BENCH_VD_NORMAL, 0, (uint32_t)c->value_size_min,
					(uint32_t)c->value_size_max);
	return (uint32_t)c->value_size;
}

/* Atomic, not volatile sig_atomic_t: worker threads read it (lock-free, so
 * async-signal-safe to store). */
static atomic_int interrupted;

static void on_signal(int sig)
{
	atomic_store(&interrupted, sig);
}

int bench_interrupted(void)
{
	return atomic_load(&interrupted);
}

/* SIGINT/SIGTERM end the running benchmark early; it still reports. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: sleeps end at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static bool time_up(const struct worker *w, uint64_t i)
{
	const struct run *r = w->run;

	if (bench_interrupted())
		return true;
	if (w->writer)
		return atomic_load(&r->readers_done);
	if (r->deadline)
		return run_now(r) >= r->deadline;
	return i >= r->ops_per_worker;
}

/* Hold puts to --benchmark_write_rate_limit bytes per second. */
static void rate_limit(struct worker *w)
{
	double limit = (double)w->run->c->benchmark_write_rate_limit, el;

	if (limit <= 0)
		return;
	el = (run_now(w->run) - w->start) / 1e9;
	while (w->bytes > limit * el) {
		w->run->e->ops->poll(w->ctx);
		run_sleep(w->run, 100000);
		el = (run_now(w->run) - w->start) / 1e9;
	}
}

/* Hold mixgraph to the sine-wave rate (ops/s), recomputed every interval. */
static void sine_pace(struct worker *w, uint64_t *win_start, uint64_t *win_ops, double *rate)
{
	const struct bench_cfg *c = w->run->c;
	uint64_t t = run_now(w->run);

	if (!c->sine_mix_rate)
		return;
	if (*rate <= 0 ||
	    t - *win_start > (uint64_t)c->sine_mix_rate_interval_milliseconds * 1000000ull) {
		double s = (t - w->start) / 1e9;

		*rate = c->sine_a * sin(c->sine_b * s + c->sine_c) + c->sine_d;
		*win_start = t;
		*win_ops = 0;
	}
	(*win_ops)++;
	while (*rate > 0 && *win_ops > *rate * ((run_now(w->run) - *win_start) / 1e9) + 1) {
		w->run->e->ops->poll(w->ctx);
		run_sleep(w->run, 50000);
	}
}

/* A seek and @n nexts counts as one operation; readseq counts every key read. */
static int do_seek(struct worker *w, const uint8_t *key, size_t klen, unsigned int n)
{
	unsigned int found;
	uint64_t bytes, t0 = run_now(w->run);
	int rc = w->run->e->ops->seek(w->ctx, key, klen, n, &found, &bytes);
	uint64_t ns = run_now(w->run) - t0;

	bench_hist_add(&w->h[K_SEEK], ns);
	bench_series_lat(&w->run->series, ns);
	if (w->run->record)
		bench_trace_record(w->run->record, BENCH_TR_SEEK, key, klen, NULL, 0);
	if (w->run->def->w == W_READSEQ) {
		w->ops += found;
		w->found += found;
		bench_series_ops(&w->run->series, found);
	} else {
		w->ops++;
		w->found += found > 0;
		bench_series_ops(&w->run->series, 1);
	}
	w->bytes += bytes;
	w->scan_len += found;
	atomic_fetch_add_explicit(&w->run->done, 1, memory_order_relaxed);
	return rc;
}

/*
 * A random key as db_bench's writes and readrandom draw it: one number picks
 * the DB (there is one here), the next the key.  Keeps the key streams equal
 * to db_bench's for the same --seed, so traces and found counts compare.
 */
static uint64_t db_bench_key(struct worker *w, uint64_t num)
{
	(void)bench_rng_next(&w->rng);
	return bench_rng_uniform(&w->rng, num);
}

/* Wait for everything the worker has in flight. */
static int drain(struct worker *w)
{
	const struct bench_engine_ops *o = w->run->e->ops;

	while (o->inflight(w->ctx))
		if (o->wait(w->ctx, o->inflight(w->ctx)) < 0)
			return -ENODEV;
	return 0;
}

/* readrandomwriterandom, as db_bench: of every 100 operations the first
 * --readwritepercent are reads, the rest writes, of uniform random keys. */
static int read_write_op(struct worker *w, uint8_t *key)
{
	const struct bench_cfg *c = w->run->c;

	bench_make_key(key, (unsigned int)c->key_size, db_bench_key(w, (uint64_t)c->num));
	if (!w->get_weight && !w->put_weight) {
		w->get_weight = c->readwritepercent;
		w->put_weight = 100 - w->get_weight;
	}
	if (w->get_weight > 0) {
		w->get_weight--;
		return submit(w, K_READ, key, 0);
	}
	w->put_weight--;
	rate_limit(w);
	return submit(w, K_WRITE, key, fill_value_size(w));
}

/* updaterandom: read a random key, then write it (read-modify-write: the
 * Store waits for the Retrieve).  One operation. */
static int update_op(struct worker *w, uint8_t *key)
{
	const struct bench_cfg *c = w->run->c;
	int rc;

	bench_make_key(key, (unsigned int)c->key_size, db_bench_key(w, (uint64_t)c->num));
	rc = submit(w, K_READ, key, 0);
	if (!rc)
		rc = drain(w);
	if (!rc) {
		rate_limit(w);
		rc = submit(w, K_WRITE, key, fill_value_size(w));
	}
	if (!rc)
		w->ops--; /* the Retrieve and the Store are one update */
	return rc;
}

/* The keys of one MultiGet, as db_bench draws them: one number for the DB,
 * then a random key each, or a random first key and --multiread_stride. */
static void multiread_keys(struct worker *w, unsigned int n)
{
	const struct bench_cfg *c = w->run->c;
	uint64_t num = (uint64_t)c->num, stride = (uint64_t)c->multiread_stride, k;
	unsigned int i, ks = (unsigned int)c->key_size;

	(void)bench_rng_next(&w->rng);
	if (!stride) {
		for (i = 0; i < n; i++)
			bench_make_key(w->mkeys + (size_t)i * ks, ks,
				       bench_rng_uniform(&w->rng, num));
		return;
	}
	k = bench_rng_uniform(&w->rng, num);
	if (k + (n - 1) * stride >= num)
		k = num > n * stride ? num - n * stride : 0;
	for (i = 0; i < n; i++)
		bench_make_key(w->mkeys + (size_t)i * ks, ks, k + i * stride);
}

/* One MultiGet of --batch_size keys through the engine's multiget, or as
 * that many Retrieves submitted together; it returns when all are done. */
static int multiread(struct worker *w)
{
	const struct bench_engine_ops *o = w->run->e->ops;
	unsigned int n = (unsigned int)w->run->c->batch_size, i;
	size_t ks = (size_t)w->run->c->key_size, vmax = w->run->max_value;
	void *bufs[1024], *args[1024];
	int rc = 0;

	multiread_keys(w, n);
	if (!o->multiget) {
		for (i = 0; i < n && !rc; i++)
			rc = submit(w, K_READ, w->mkeys + i * ks, 0);
		return rc ? rc : drain(w);
	}
	for (i = 0; i < n; i++) {
		struct slot *s = get_slot(w);

		if (!s)
			return -ENODEV;
		*s = (struct slot){
			.w = w, .t0 = run_now(w->run), .kind = K_READ, .klen = (uint8_t)ks
		};
		bufs[i] = w->rbuf + (size_t)(s - w->slots) * vmax;
		args[i] = s;
		if (w->run->record)
			bench_trace_record(w->run->record, BENCH_TR_GET, w->mkeys + i * ks, ks,
					   NULL, 0);
	}
	rc = o->multiget(w->ctx, n, w->mkeys, ks, bufs, vmax, op_done, args);
	if (rc) {
		for (i = 0; i < n; i++)
			((struct slot *)args[i])->free = true;
		return rc;
	}
	w->ops += n;
	return drain(w);
}

/* One mixgraph operation, counted for its detail line. */
static int mix_op(struct worker *w, const struct bench_mix_req *q, const uint8_t *key)
{
	uint64_t found;
	int rc;

	if (q->op == BENCH_MIX_GET) {
		w->gets++;
		return submit(w, K_READ, key, 0);
	}
	if (q->op == BENCH_MIX_PUT) {
		w->puts++;
		w->put_bytes += q->vsize;
		return submit(w, K_WRITE, key, q->vsize);
	}
	w->seeks++;
	found = w->found; /* a seek is synchronous: no Get completes meanwhile */
	rc = do_seek(w, key, (size_t)w->run->c->key_size, q->scan);
	w->seek_found += w->found - found;
	return rc;
}

/* A KV device takes keys of at most 16 bytes: longer trace keys become
 * their first 8 bytes and a 64-bit FNV-1a hash of the whole key. */
static size_t map_key(const uint8_t *k, size_t kl, uint8_t out[16])
{
	uint64_t h = 14695981039346656037ull;
	size_t i;

	if (kl <= 16) {
		memcpy(out, k, kl);
		return kl;
	}
	for (i = 0; i < kl; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	memcpy(out, k, 8);
	for (i = 0; i < 8; i++)
		out[8 + i] = (uint8_t)(h >> (56 - 8 * i));
	return 16;
}

/* Replay the trace: same operations, same order, gaps / fast_forward. */
static int replay(struct worker *w)
{
	struct run *r = w->run;
	double ff = r->c->trace_replay_fast_forward;
	uint64_t first_ts = 0, t0 = run_now(r);
	struct bench_trace_op op;
	uint8_t key[16];
	size_t kl;
	int rc = 0;

	bench_trace_rewind(r->replay);
	while (!bench_interrupted() &&
	       (rc = bench_trace_next(r->replay, &op, r->replay_err, sizeof(r->replay_err))) == 1) {
		if (!first_ts)
			first_ts = op.ts_us;
		if (ff > 0 && op.ts_us > first_ts) {
			uint64_t due = t0 + (uint64_t)((double)(op.ts_us - first_ts) * 1000.0 / ff);

			while (run_now(r) < due) {
				r->e->ops->poll(w->ctx);
				if (due - run_now(r) > 200000)
					run_sleep(r, 100000);
			}
		}
		kl = map_key(op.key, op.klen, key);
		if (kl == 0) {
			r->replay_skipped++;
			continue;
		}
		switch (op.kind) {
		case BENCH_TR_PUT:
			if (op.vlen > r->max_value) {
				r->replay_skipped++;
				continue;
			}
			memcpy(w->vbuf, op.val, op.vlen);
			rc = submit_kv(w, K_WRITE, key, kl, (uint32_t)op.vlen);
			break;
		case BENCH_TR_DELETE:
			rc = submit_kv(w, K_DELETE, key, kl, 0);
			break;
		case BENCH_TR_GET:
			rc = submit_kv(w, K_READ, key, kl, 0);
			break;
		case BENCH_TR_SEEK:
			rc = do_seek(w, key, kl, (unsigned int)r->c->seek_nexts);
			break;
		default:
			r->replay_skipped++;
			rc = 0;
			break;
		}
		if (rc)
			return rc;
	}
	if (rc < 0) {
		fprintf(stderr, "nvkv-bench: %s: %s\n", r->c->trace_file, r->replay_err);
		return rc;
	}
	return 0;
}

static int work(struct worker *w)
{
	const struct bench_cfg *c = w->run->c;
	uint64_t i, num = (uint64_t)c->num, win_start = 0, win_ops = 0;
	double rate = 0;
	uint8_t key[16];
	int rc = 0;

	if (w->run->def->w == W_REPLAY && !w->writer) {
		rc = replay(w);
		goto drain;
	}
	for (i = 0; !time_up(w, i) && !rc; i++) {
		enum workload wl = w->writer ? W_FILLRANDOM : w->run->def->w;
		struct bench_mix_req q;

		switch (wl) {
		case W_FILLSEQ:
			bench_make_key(key, (unsigned int)c->key_size, i % num);
			rate_limit(w);
			rc = submit(w, K_WRITE, key, fill_value_size(w));
			break;
		case W_FILLRANDOM:
		case W_OVERWRITE:
		case W_B:
		case W_C:
		case W_D:
			bench_make_key(key, (unsigned int)c->key_size, db_bench_key(w, num));
			rate_limit(w);
			rc = submit(w, K_WRITE, key, fill_value_size(w));
			break;
		case W_M:
			bench_mix_next(&w->mix, &w->rng, &q);
			bench_make_key(key, (unsigned int)c->key_size, q.key);
			rate_limit(w);
			rc = submit(w, K_WRITE, key, q.vsize);
			break;
		case W_READRANDOM:
		case W_READWHILEWRITING:
			bench_make_key(key, (unsigned int)c->key_size, db_bench_key(w, num));
			rc = submit(w, K_READ, key, 0);
			break;
		case W_DELETERANDOM:
			bench_make_key(key, (unsigned int)c->key_size,
				       bench_rng_uniform(&w->rng, num));
			rc = submit(w, K_DELETE, key, 0);
			break;
		case W_SEEKRANDOM:
			bench_make_key(key, (unsigned int)c->key_size,
				       bench_rng_uniform(&w->rng, num));
			rc = do_seek(w, key, (size_t)c->key_size, (unsigned int)c->seek_nexts);
			break;
		case W_READSEQ:
			/* One pass over the keys in order, --reads of them. */
			rc = do_seek(w, NULL, 0, (unsigned int)w->run->ops_per_worker - 1);
			i = w->run->ops_per_worker;
			break;
		case W_REPLAY: /* handled above */
			break;
		case W_READRANDOMWRITERANDOM:
			rc = read_write_op(w, key);
			break;
		case W_UPDATERANDOM:
			rc = update_op(w, key);
			break;
		case W_MULTIREADRANDOM:
			/* db_bench: whole batches while they fit in --reads */
			if (!w->run->deadline &&
			    i + (uint64_t)c->batch_size > w->run->ops_per_worker) {
				i = w->run->ops_per_worker;
				continue;
			}
			rc = multiread(w);
			i += (uint64_t)c->batch_size - 1;
			break;
		case W_MIXGRAPH:
			bench_mix_next(&w->mix, &w->rng, &q);
			bench_make_key(key, (unsigned int)c->key_size, q.key);
			sine_pace(w, &win_start, &win_ops, &rate);
			rc = mix_op(w, &q, key);
			break;
		}
		if ((i & 63) == 63 && w->run->e->ops->poll(w->ctx) < 0)
			rc = -ENODEV;
	}
drain:
	while (!rc && w->run->e->ops->inflight(w->ctx))
		if (w->run->e->ops->wait(w->ctx, w->run->e->ops->inflight(w->ctx)) < 0)
			rc = -ENODEV;
	return rc;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int rc;

	w->start = run_now(w->run);
	rc = work(w);
	w->end = run_now(w->run);
	if (rc && !w->err)
		w->err = rc;
	if (!w->writer && w->run->def->w == W_READWHILEWRITING)
		atomic_store(&w->run->readers_done, true);
	atomic_fetch_add(&w->run->finished, 1); /* the main thread polls this, not w->end */
	return NULL;
}

/*
 * One thread per worker; *@started says how many run (to join).  Returns
 * pthread_create()'s error negated: it reports through its return value and
 * leaves errno to whatever failed inside it.
 */
static int start_workers(struct worker *w, pthread_t *t, unsigned int nw, unsigned int *started)
{
	int e = 0;

	for (*started = 0; *started < nw; ++*started) {
		e = pthread_create(&t[*started], NULL, worker_main, &w[*started]);
		if (e)
			break;
	}
	return -e;
}

static int worker_init(struct worker *w, struct run *r, unsigned int id)
{
	const struct bench_cfg *c = r->c;
	struct bench_mix_params mp;
	const char *why;
	unsigned int i;
	int rc;

	memset(w, 0, sizeof(*w));
	w->run = r;
	w->id = id;
	struct bench_rng vrng;
	unsigned int nth;

	/*
	 * Seeds as db_bench: the n-th thread started in this pass (counting
	 * across benchmarks, 1-based) draws from mt19937_64(seed + n), the
	 * readwhilewriting writer first.  So fillrandom,readrandom with the
	 * same --seed touch the same keys as db_bench's and find as many.
	 */
	if (r->def->w == W_READWHILEWRITING)
		nth = id == (unsigned int)c->threads ? 0 : id + 1;
	else
		nth = id;
	bench_rng_seed(&w->rng, (uint64_t)c->seed + r->first_thread + nth);
	bench_rng_seed(&vrng, (uint64_t)c->seed * 1000003ull + 301 + id);
	w->slots = calloc(nslots(r), sizeof(*w->slots));
	w->vbuf = malloc(r->max_value + 1);
	w->rbuf = malloc((size_t)nslots(r) * r->max_value + 1);
	w->mkeys = malloc((size_t)c->batch_size * BENCH_KEY_MAX);
	if (!w->slots || !w->vbuf || !w->rbuf || !w->mkeys)
		return -ENOMEM;
	for (i = 0; i < nslots(r); i++)
		w->slots[i].free = true;
	for (i = 0; i < r->max_value; i++)
		w->vbuf[i] = (uint8_t)bench_rng_next(&vrng);
	mp = (struct bench_mix_params){ .num = (uint64_t)c->num,
					.key_dist_a = c->key_dist_a,
					.key_dist_b = c->key_dist_b,
					.keyrange_dist_a = c->keyrange_dist_a,
					.keyrange_dist_b = c->keyrange_dist_b,
					.keyrange_dist_c = c->keyrange_dist_c,
					.keyrange_dist_d = c->keyrange_dist_d,
					.keyrange_num = c->keyrange_num,
					.value_theta = c->value_theta,
					.value_k = c->value_k,
					.value_sigma = c->value_sigma,
					.iter_theta = c->iter_theta,
					.iter_k = c->iter_k,
					.iter_sigma = c->iter_sigma,
					.get_ratio = r->def->w == W_M ? 0 : c->mix_get_ratio,
					.put_ratio = r->def->w == W_M ? 1 : c->mix_put_ratio,
					.seek_ratio = r->def->w == W_M ? 0 : c->mix_seek_ratio,
					.max_value_size = c->mix_max_value_size,
					.max_scan_len = c->mix_max_scan_len };
	if (r->def->w == W_MIXGRAPH || r->def->w == W_M) {
		rc = bench_mix_init(&w->mix, &mp, &why);
		if (rc) {
			bench_fail("%s", why);
			return rc;
		}
	}
	return r->e->ops->thread_open(r->e, &w->ctx);
}

/*
 * The message of the result line.  db_bench keeps one thread's message (the
 * first reader's: readwhilewriting's writer is thread 0 and left out), so
 * "(F of N found)" counts that reader's own lookups, as there.
 */
static void worker_message(const struct worker *w, char *buf, size_t len)
{
	const struct run *r = w->run;
	uint64_t lookups = w->ops;

	*buf = 0;
	if (r->def->w == W_READRANDOMWRITERANDOM) {
		snprintf(buf, len, "( reads:%llu writes:%llu total:%llu found:%llu)",
			 (unsigned long long)w->h[K_READ].n, (unsigned long long)w->h[K_WRITE].n,
			 (unsigned long long)w->ops, (unsigned long long)w->found);
		return;
	}
	if (r->def->w == W_UPDATERANDOM) {
		snprintf(buf, len, "( updates:%llu found:%llu)", (unsigned long long)w->ops,
			 (unsigned long long)w->found);
		return;
	}
	if (r->def->w == W_MIXGRAPH) {
		snprintf(buf, len,
			 "( Gets:%llu Puts:%llu Seek:%llu, reads %llu in %llu found, avg size: "
			 "%.1f value, %.1f scan)",
			 (unsigned long long)w->gets, (unsigned long long)w->puts,
			 (unsigned long long)w->seeks, (unsigned long long)w->found,
			 (unsigned long long)(w->gets + w->seeks),
			 w->puts ? (double)w->put_bytes / (double)w->puts : 0.0,
			 w->seeks ? (double)w->scan_len / (double)w->seeks : 0.0);
		return;
	}
	if (!r->def->finds)
		return;
	if (r->def->w == W_REPLAY) /* a replay mixes writes in: count the lookups */
		lookups = w->h[K_READ].n + w->h[K_SEEK].n;
	snprintf(buf, len, "(%llu of %llu found)", (unsigned long long)w->found,
		 (unsigned long long)lookups);
}

static void worker_fini(struct worker *w)
{
	if (w->ctx)
		w->run->e->ops->thread_close(w->ctx);
	bench_mix_fini(&w->mix);
	free(w->slots);
	free(w->vbuf);
	free(w->rbuf);
	free(w->mkeys);
}

/* ---- one benchmark ---------------------------------------------------------------- */

static void progress(struct run *r, uint64_t t0, uint64_t total)
{
	uint64_t done = atomic_load(&r->done);
	double el = (bench_now_ns() - t0) / 1e9;

	if (total)
		fprintf(stderr, "\r... %s [%s]: %llu of %llu ops, %.0f ops/s   ", r->def->name,
			bench_xfer_label(r), (unsigned long long)done, (unsigned long long)total,
			done / (el > 0 ? el : 1));
	else
		fprintf(stderr, "\r... %s [%s]: %llu ops, %.0f ops/s   ", r->def->name,
			bench_xfer_label(r), (unsigned long long)done, done / (el > 0 ? el : 1));
}

/*
 * Let the device's modeled clock catch up before a benchmark starts.  With
 * timing off the host does not wait for modeled completions, so a benchmark
 * can leave work the model finishes later than the emulator's clock (a NAND
 * read backlog); the next benchmark's commands would then start on busy
 * dies, or complete before the old backlog's end and leave the model clock
 * unmoved (modeled ops/s far above any device).  A closed-loop host waits for
 * its completions: sleep until the emulator's clock passes the latest modeled
 * completion, so each benchmark's modeled figures cover that benchmark only.
 */
static void drain_model(const struct run *r)
{
	struct kvc_stats_log *l;
	uint64_t wait;

	if (!r->e->ops->device_stats)
		return;
	l = malloc(sizeof(*l));
	if (!l || r->e->ops->device_stats(r->e, l) || l->model_ns <= l->uptime_ns) {
		free(l);
		return;
	}
	wait = l->model_ns - l->uptime_ns + 1000000; /* + 1 ms for the stats command */
	free(l);
	if (wait > 1000000000ull)
		fprintf(stderr, "nvkv-bench: %s: waiting %.1f s for the device model's backlog\n",
			r->def->name, wait / 1e9);
	if (r->e->ops->clock_virtual && r->e->ops->clock_virtual(r->e)) {
		r->e->ops->sleep_ns(r->e, wait); /* virtual time passes only when told */
		return;
	}
	{
		struct timespec ts = { (time_t)(wait / 1000000000ull),
				       (long)(wait % 1000000000ull) };

		while (nanosleep(&ts, &ts) && errno == EINTR && !bench_interrupted())
			;
	}
}

/* Operations a replay of @t sends. */
static uint64_t trace_ops(const struct bench_trace_reader *t)
{
	uint64_t n = 0;
	int k;

	for (k = 0; k < BENCH_TR_MERGE; k++)
		n += t->count[k];
	return n;
}

static int run_one(struct run *r, struct result *res)
{
	const struct bench_cfg *c = r->c;
	unsigned int nw = r->def->w == W_REPLAY
				  ? 1
				  : (unsigned int)c->threads + (r->def->w == W_READWHILEWRITING),
		     i;
	struct worker *w = calloc(nw, sizeof(*w));
	pthread_t *t = calloc(nw, sizeof(*t));
	uint64_t t0, real0, last = 0, total, first_start, last_end;
	unsigned int started = 0;
	bool shown = false;
	int rc = 0;

	r->nworkers = nw;
	memset(res, 0, sizeof(*res));
	if (!w || !t) {
		free(w);
		free(t);
		return -ENOMEM;
	}
	r->ops_per_worker = (uint64_t)(r->def->reads ? c->reads : c->num);
	if (r->def->w == W_REPLAY) /* every operation the trace holds; merges are skipped */
		total = trace_ops(r->replay);
	else
		total = c->duration ? 0 : r->ops_per_worker * (uint64_t)c->threads;
	atomic_store(&r->done, 0);
	atomic_store(&r->readers_done, false);
	atomic_store(&r->finished, 0);
	for (i = 0; i < nw && !rc; i++) {
		rc = worker_init(&w[i], r, i);
		w[i].writer = i == (unsigned int)c->threads;
	}
	drain_model(r);
	res->have_dev = r->e->ops->device_stats && !r->e->ops->device_stats(r->e, &res->before);
	t0 = run_now(r);
	real0 = bench_now_ns(); /* progress lines are for the person waiting: real time */
	r->deadline = c->duration ? t0 + (uint64_t)c->duration * 1000000000ull : 0;
	bench_series_start(&r->series, r->e, c->report_interval_seconds, t0);
	if (!rc)
		rc = start_workers(w, t, nw, &started);
	while (!rc) {
		usleep(20000);
		bench_series_tick(&r->series, run_now(r));
		if (atomic_load(&r->finished) >= started)
			break;
		if (c->progress && bench_now_ns() - real0 > 2000000000ull &&
		    bench_now_ns() - last > 1000000000ull) {
			progress(r, real0, total);
			last = bench_now_ns();
			shown = true;
		}
	}
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	bench_series_finish(&r->series, run_now(r));
	if (shown)
		fprintf(stderr, "\n");
	res->have_dev = res->have_dev && !r->e->ops->device_stats(r->e, &res->after);
	/* Elapsed as db_bench: first thread start to last thread finish. */
	first_start = UINT64_MAX;
	last_end = 0;
	for (i = 0; i < nw; i++) {
		if (w[i].start && w[i].start < first_start)
			first_start = w[i].start;
		if (w[i].end > last_end)
			last_end = w[i].end;
	}
	res->seconds = last_end > first_start ? (last_end - first_start) / 1e9 : 0;
	for (i = 0; i < nw; i++) {
		int k;

		if (w[i].writer) /* readwhilewriting reports the readers */
			goto fini;
		if (!*res->msg)
			worker_message(&w[i], res->msg, sizeof(res->msg));
		res->ops += w[i].ops;
		res->found += w[i].found;
		res->bytes += w[i].bytes;
		res->errors += w[i].errors;
		res->thread_seconds += (w[i].end - w[i].start) / 1e9;
		for (k = 0; k < K_NUM; k++)
			bench_hist_merge(&res->h[k], &w[i].h[k]);
		if (!res->err)
			res->err = w[i].err;
	fini:
		worker_fini(&w[i]);
	}
	free(w);
	free(t);
	return rc;
}

/* The benchmarks of --benchmarks, in order. */
struct plan {
	const struct workload_def **b;
	unsigned int n;
	bool replay;	  /* "replay" is among them */
	bool own_sizes;	  /* some size their values themselves */
	bool given_sizes; /* some use --value_size... */
};

static const struct workload_def *find_workload(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (!strcmp(workloads[i].name, name))
			return &workloads[i];
	return NULL;
}

/* Parse @list into @p; 2 (usage error, reported) for an unknown name. */
static int plan_parse(const char *list, struct plan *p)
{
	char *bl = strdup(list), *bs, *bt;
	size_t n = 1, i;
	int rc = 0;

	for (i = 0; list[i]; i++)
		n += list[i] == ',';
	memset(p, 0, sizeof(*p));
	p->b = calloc(n, sizeof(*p->b));
	if (!bl || !p->b) {
		free(bl);
		return bench_fail("out of memory");
	}
	for (bt = strtok_r(bl, ",", &bs); bt && !rc; bt = strtok_r(NULL, ",", &bs)) {
		const struct workload_def *d = find_workload(bt);

		if (!d) {
			rc = bench_fail("unknown benchmark '%s' (see --help)", bt);
			break;
		}
		p->b[p->n++] = d;
		p->replay |= d->w == W_REPLAY;
		p->own_sizes |= d->own_sizes;
		p->given_sizes |= !d->own_sizes;
	}
	free(bl);
	return rc;
}

/* The value sizes of the run, for the header line. */
static const char *describe_values(const struct bench_cfg *c, const struct plan *p, char *buf,
				   size_t len)
{
	size_t l;

	if (!p->given_sizes) {
		snprintf(buf, len, "sized by the workload");
		return buf;
	}
	if (!strcmp(c->value_size_distribution_type, "fixed"))
		snprintf(buf, len, "%lld B", (long long)c->value_size);
	else
		snprintf(buf, len, "%s %lld..%lld B", c->value_size_distribution_type,
			 (long long)c->value_size_min, (long long)c->value_size_max);
	l = strlen(buf);
	if (p->own_sizes)
		snprintf(buf + l, len - l, " (wB..wM, mixgraph, replay: their own)");
	return buf;
}

/* db_bench's report file, rewritten for each benchmark as db_bench does. */
static void report_series(const struct run *r)
{
	int rc;

	if (!r->series.every_ns || !*r->c->report_file)
		return;
	if (r->series.err)
		fprintf(stderr, "nvkv-bench: %s: out of memory: the series is incomplete\n",
			r->def->name);
	rc = bench_series_csv(&r->series, r->c->report_file);
	if (rc)
		fprintf(stderr, "nvkv-bench: %s: %s\n", r->c->report_file, strerror(-rc));
}

/* Every benchmark of @p once per transfer method (once without methods). */
static int run_all(const struct bench_cfg *c, struct bench_engine *e, const struct plan *p,
		   struct bench_trace_reader *replay, struct bench_trace_writer *record, FILE *json,
		   struct result *res)
{
	char *xl = strdup(e->ops->xfer_methods ? c->xfer : "prp"), *xs, *xt;
	uint32_t max_value =
		(uint32_t)(c->value_size_max > c->value_size ? c->value_size_max : c->value_size);
	bool first = true;
	int rc = 0;

	if (!xl)
		return -ENOMEM;
	if (max_value < 2048)
		max_value = 2048; /* wB..wD write 2 KiB values */
	if (max_value < (uint32_t)c->mix_max_value_size)
		max_value = (uint32_t)c->mix_max_value_size;
	for (xt = strtok_r(xl, ",", &xs); xt && !rc; xt = strtok_r(NULL, ",", &xs)) {
		unsigned int started = 0, i; /* threads so far in this pass */

		for (i = 0; i < p->n && !rc; i++) {
			struct run r = { .c = c,
					 .e = e,
					 .def = p->b[i],
					 .first_thread = started + 1,
					 .max_value = max_value,
					 .replay = replay,
					 .record = record };

			nvkv_xfer_parse(xt, &r.xfer);
			rc = run_one(&r, res);
			r.interrupted = bench_interrupted();
			started += r.nworkers;
			if (rc) {
				fprintf(stderr, "nvkv-bench: %s: %s\n", r.def->name, strerror(-rc));
				bench_series_free(&r.series);
				break;
			}
			bench_report_print(&r, res);
			report_series(&r);
			if (json) {
				bench_report_json(json, &r, res, first);
				first = false;
			}
			bench_series_free(&r.series);
			if (res->err == -ENODEV) {
				fprintf(stderr, "nvkv-bench: the device went away\n");
				rc = -ENODEV;
			}
			if (bench_interrupted()) {
				rc = -EINTR;
				break;
			}
			if (res->err == -EOPNOTSUPP && c->xfer_strict)
				rc = -EOPNOTSUPP; /* refused, as asked: exit status 3 */
		}
	}
	free(xl);
	return rc;
}

/*
 * db_bench's header block (PrintHeader), line for line: Keys, Values (after
 * compression as db_bench estimates it: --compression_ratio, 0.5, unless
 * compression is off; the kv engine does not compress), the distribution of
 * non-fixed sizes, Entries, Prefix, RawSize, FileSize, the rate limits.
 */
static void print_header(const struct bench_cfg *c, const struct bench_engine_ops *o)
{
	bool compressed = o == &bench_engine_rocksdb && strcmp(c->compression_type, "none");
	double ratio = compressed ? c->compression_ratio : 1.0;
	bool fixed = !strcmp(c->value_size_distribution_type, "fixed");
	int64_t avg = fixed ? c->value_size : (c->value_size_min + c->value_size_max) / 2;

	printf("Keys:       %lld bytes each (+ 0 bytes user-defined timestamp)\n",
	       (long long)c->key_size);
	printf("Values:     %lld %sbytes each (%d bytes after compression)\n", (long long)avg,
	       fixed ? "" : "avg ", (int)((double)avg * ratio + 0.5));
	if (!fixed)
		printf("Values Distribution: %s (min: %lld, max: %lld)\n",
		       c->value_size_distribution_type, (long long)c->value_size_min,
		       (long long)c->value_size_max);
	printf("Entries:    %lld\n", (long long)c->num);
	printf("Prefix:    0 bytes\n");
	printf("Keys per prefix:    0\n");
	printf("RawSize:    %.1f MB (estimated)\n",
	       (double)((c->key_size + avg) * c->num) / 1048576.0);
	printf("FileSize:   %.1f MB (estimated)\n",
	       ((double)c->key_size + (double)avg * ratio) * (double)c->num / 1048576.0);
	printf("Write rate: %llu bytes/second\n",
	       (unsigned long long)c->benchmark_write_rate_limit);
	printf("Read rate: 0 ops/second\n");
}

int bench_run(const struct bench_cfg *c)
{
	struct bench_engine e = { bench_engine_find(c->engine), NULL, c };
	const char *target = e.ops->target_is_db ? c->db : c->device;
	struct bench_trace_reader trace_in, *replay = NULL;
	struct bench_trace_writer trace_out, *record = NULL;
	char why[256], vdesc[128];
	struct result *res = NULL;
	struct plan plan;
	FILE *json = NULL;
	bool virtual_time;
	int rc, status = 2; /* usage error until the engine is open */

	if (plan_parse(c->benchmarks, &plan))
		goto out_plan;
	if (plan.replay && !*c->trace_file) {
		bench_fail("the replay benchmark needs --trace_file");
		goto out_plan;
	}
	res = calloc(1, sizeof(*res));
	if (!res) {
		bench_fail("out of memory");
		goto out_plan;
	}
	if (plan.replay) {
		if (bench_trace_open(&trace_in, c->trace_file, why, sizeof(why))) {
			fprintf(stderr, "nvkv-bench: %s\n", why);
			goto out_plan;
		}
		replay = &trace_in;
	}
	if (e.ops->open(&e, target, (unsigned int)c->threads, (unsigned int)c->qd,
			!c->use_existing_db, why, sizeof(why))) {
		fprintf(stderr, "nvkv-bench: %s\n", why);
		status = 3;
		goto out_trace;
	}
	virtual_time = e.ops->clock_virtual && e.ops->clock_virtual(&e);
	if (*c->trace_file && !plan.replay) {
		rc = bench_trace_create(&trace_out, c->trace_file);
		if (rc) {
			fprintf(stderr, "nvkv-bench: %s: %s\n", c->trace_file, strerror(-rc));
			goto out_engine;
		}
		record = &trace_out;
	}
	if (*c->json) {
		json = fopen(c->json, "w");
		if (!json) {
			fprintf(stderr, "nvkv-bench: %s: %s\n", c->json, strerror(errno));
			goto out_engine;
		}
		bench_report_json_config(json, c, virtual_time,
					 e.ops->backend ? e.ops->backend(&e) : "none");
	}
	print_header(c, e.ops);
	printf("nvkv-bench: %s engine on %s, keys %lld B, values %s, %lld thread(s), QD %lld\n",
	       e.ops->name, target, (long long)c->key_size,
	       describe_values(c, &plan, vdesc, sizeof(vdesc)), (long long)c->threads,
	       (long long)c->qd);
	printf("nvkv-bench: clock: %s\n",
	       virtual_time ? "virtual time (simulated device: every figure is modeled, "
			      "identical on any machine for the same seed)"
			    : "real time (figures depend on this machine and its load)");
	fflush(stdout); /* before progress lines on stderr */
	catch_signals();
	status = run_all(c, &e, &plan, replay, record, json, res) ? 3 : 0;
	if (bench_interrupted())
		status = 128 + bench_interrupted(); /* as the shell reports a signal */
	if (json) {
		fprintf(json, "],\"interrupted\":%s}\n", bench_interrupted() ? "true" : "false");
		fclose(json);
	}
out_engine:
	e.ops->close(&e);
	if (record) {
		rc = bench_trace_finish(record);
		if (rc)
			fprintf(stderr, "nvkv-bench: %s: %s\n", c->trace_file, strerror(-rc));
		else
			fprintf(stderr, "nvkv-bench: recorded %llu trace records in %s\n",
				(unsigned long long)record->records, c->trace_file);
	}
out_trace:
	if (replay)
		bench_trace_close(replay);
out_plan:
	free(res);
	free(plan.b);
	return status;
}
