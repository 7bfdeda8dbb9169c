// SPDX-License-Identifier: MIT
/*
 * The "rocksdb" engine: Debian's RocksDB through its C API, as a host-side
 * baseline for the same workloads.  RocksDB calls are synchronous; each
 * worker queues its completions and delivers them from poll()/wait(), so the
 * runner drives both engines the same way.  Options are RocksDB's defaults
 * (as db_bench without tuning flags): WAL on, no sync per write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "bench.h"
#include "engine.h"
#include "hostdrv/nvkv.h" /* NVKV_KEY_NOT_EXIST: the runner's "not found" */

struct rdb {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_writeoptions_t *wo;
	rocksdb_readoptions_t *ro;
	unsigned int qd;
};

struct rdb_done {
	bench_cb cb;
	void *arg;
	int status;
	uint32_t vlen;
};

struct rdb_thread {
	struct rdb *r;
	unsigned int n, cap;
	struct rdb_done *done; /* completed, not yet delivered */
};

static void rdb_free(struct rdb *r)
{
	if (r->db)
		rocksdb_close(r->db);
	if (r->opts)
		rocksdb_options_destroy(r->opts);
	if (r->wo)
		rocksdb_writeoptions_destroy(r->wo);
	if (r->ro)
		rocksdb_readoptions_destroy(r->ro);
	free(r);
}

/* RocksDB's compression for db_bench's --compression_type name, or -1. */
static int compression(const char *name)
{
	static const char *const names[] = { "none", "snappy", "zlib",	 "bzip2",
					     "lz4",  "lz4hc",  "xpress", "zstd" };
	static const int types[] = { rocksdb_no_compression,	 rocksdb_snappy_compression,
				     rocksdb_zlib_compression,	 rocksdb_bz2_compression,
				     rocksdb_lz4_compression,	 rocksdb_lz4hc_compression,
				     rocksdb_xpress_compression, rocksdb_zstd_compression };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return types[i];
	return -1;
}

#define GIVEN(n) bench_tuning_given(#n)

/* The block-based table: block cache, bloom filter, block size. */
static void table_tuning(rocksdb_options_t *o, const struct bench_cfg *c)
{
	rocksdb_block_based_table_options_t *t;
	rocksdb_cache_t *cache = NULL;

	if (!GIVEN(cache_size) && !GIVEN(bloom_bits) && !GIVEN(block_size) &&
	    !GIVEN(cache_index_and_filter_blocks) &&
	    !GIVEN(pin_l0_filter_and_index_blocks_in_cache))
		return;
	t = rocksdb_block_based_options_create();
	if (!t)
		return;
	if (GIVEN(cache_size) && c->cache_size > 0) {
		cache = rocksdb_cache_create_lru((size_t)c->cache_size);
		if (cache)
			rocksdb_block_based_options_set_block_cache(t, cache);
	}
	if (GIVEN(bloom_bits) && c->bloom_bits > 0)
		rocksdb_block_based_options_set_filter_policy(
			t, rocksdb_filterpolicy_create_bloom((double)c->bloom_bits));
	if (GIVEN(block_size) && c->block_size > 0)
		rocksdb_block_based_options_set_block_size(t, (size_t)c->block_size);
	if (GIVEN(cache_index_and_filter_blocks))
		rocksdb_block_based_options_set_cache_index_and_filter_blocks(
			t, c->cache_index_and_filter_blocks);
	if (GIVEN(pin_l0_filter_and_index_blocks_in_cache))
		rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(
			t, c->pin_l0_filter_and_index_blocks_in_cache);
	rocksdb_options_set_block_based_table_factory(o, t); /* copies @t */
	rocksdb_block_based_options_destroy(t);
	if (cache)
		rocksdb_cache_destroy(cache); /* the table holds its own reference */
}

/* The DB-wide flags scripts pass with the ones above: sync, files, levels. */
static void db_tuning(rocksdb_options_t *o, const struct bench_cfg *c)
{
	if (GIVEN(bytes_per_sync))
		rocksdb_options_set_bytes_per_sync(o, (uint64_t)c->bytes_per_sync);
	if (GIVEN(wal_bytes_per_sync))
		rocksdb_options_set_wal_bytes_per_sync(o, (uint64_t)c->wal_bytes_per_sync);
	if (GIVEN(compaction_style))
		rocksdb_options_set_compaction_style(o, (int)c->compaction_style);
	if (GIVEN(delete_obsolete_files_period_micros))
		rocksdb_options_set_delete_obsolete_files_period_micros(
			o, (uint64_t)c->delete_obsolete_files_period_micros);
	if (GIVEN(disable_auto_compactions))
		rocksdb_options_set_disable_auto_compactions(o, c->disable_auto_compactions);
	if (GIVEN(level_compaction_dynamic_level_bytes))
		rocksdb_options_set_level_compaction_dynamic_level_bytes(
			o, c->level_compaction_dynamic_level_bytes);
	if (GIVEN(max_bytes_for_level_multiplier))
		rocksdb_options_set_max_bytes_for_level_multiplier(
			o, c->max_bytes_for_level_multiplier);
	if (GIVEN(num_levels))
		rocksdb_options_set_num_levels(o, (int)c->num_levels);
	if (GIVEN(subcompactions))
		rocksdb_options_set_max_subcompactions(o, (uint32_t)c->subcompactions);
	if (GIVEN(wal_dir) && *c->wal_dir)
		rocksdb_options_set_wal_dir(o, c->wal_dir);
	if (GIVEN(allow_concurrent_memtable_write))
		rocksdb_options_set_allow_concurrent_memtable_write(
			o, c->allow_concurrent_memtable_write);
	if (GIVEN(enable_pipelined_write))
		rocksdb_options_set_enable_pipelined_write(o, c->enable_pipelined_write);
	if (GIVEN(max_total_wal_size))
		rocksdb_options_set_max_total_wal_size(o, (uint64_t)c->max_total_wal_size);
	if (GIVEN(mmap_read))
		rocksdb_options_set_allow_mmap_reads(o, c->mmap_read);
	if (GIVEN(mmap_write))
		rocksdb_options_set_allow_mmap_writes(o, c->mmap_write);
	if (GIVEN(min_write_buffer_number_to_merge))
		rocksdb_options_set_min_write_buffer_number_to_merge(
			o, (int)c->min_write_buffer_number_to_merge);
	if (GIVEN(compression_max_dict_bytes)) /* db_bench's window bits, level, strategy */
		rocksdb_options_set_compression_options(o, -14, 32767, 0,
							(int)c->compression_max_dict_bytes);
	if (GIVEN(enable_blob_files))
		rocksdb_options_set_enable_blob_files(o, c->enable_blob_files);
	if (GIVEN(min_blob_size))
		rocksdb_options_set_min_blob_size(o, (uint64_t)c->min_blob_size);
}

/* db_bench's tuning flags that were given, applied as db_bench applies them. */
void bench_rocksdb_tune(void *opts, void *wopts, const struct bench_cfg *c)
{
	rocksdb_options_t *o = opts;
	rocksdb_writeoptions_t *wo = wopts;

	if (!c)
		return;
	if (GIVEN(compression_type) && compression(c->compression_type) >= 0)
		rocksdb_options_set_compression(o, compression(c->compression_type));
	if (GIVEN(write_buffer_size))
		rocksdb_options_set_write_buffer_size(o, (size_t)c->write_buffer_size);
	if (GIVEN(max_write_buffer_number))
		rocksdb_options_set_max_write_buffer_number(o, (int)c->max_write_buffer_number);
	if (GIVEN(target_file_size_base))
		rocksdb_options_set_target_file_size_base(o, (uint64_t)c->target_file_size_base);
	if (GIVEN(max_bytes_for_level_base))
		rocksdb_options_set_max_bytes_for_level_base(o,
							     (uint64_t)c->max_bytes_for_level_base);
	if (GIVEN(open_files))
		rocksdb_options_set_max_open_files(o, (int)c->open_files);
	if (GIVEN(max_background_jobs))
		rocksdb_options_set_max_background_jobs(o, (int)c->max_background_jobs);
	if (GIVEN(level0_file_num_compaction_trigger))
		rocksdb_options_set_level0_file_num_compaction_trigger(
			o, (int)c->level0_file_num_compaction_trigger);
	if (GIVEN(level0_slowdown_writes_trigger))
		rocksdb_options_set_level0_slowdown_writes_trigger(
			o, (int)c->level0_slowdown_writes_trigger);
	if (GIVEN(level0_stop_writes_trigger))
		rocksdb_options_set_level0_stop_writes_trigger(o,
							       (int)c->level0_stop_writes_trigger);
	if (GIVEN(stats_interval_seconds) && c->stats_interval_seconds > 0)
		rocksdb_options_set_stats_dump_period_sec(o,
							  (unsigned int)c->stats_interval_seconds);
	if (GIVEN(use_direct_reads))
		rocksdb_options_set_use_direct_reads(o, c->use_direct_reads);
	if (GIVEN(use_direct_io_for_flush_and_compaction))
		rocksdb_options_set_use_direct_io_for_flush_and_compaction(
			o, c->use_direct_io_for_flush_and_compaction);
	if (GIVEN(soft_pending_compaction_bytes_limit))
		rocksdb_options_set_soft_pending_compaction_bytes_limit(
			o, (size_t)c->soft_pending_compaction_bytes_limit);
	if (GIVEN(hard_pending_compaction_bytes_limit))
		rocksdb_options_set_hard_pending_compaction_bytes_limit(
			o, (size_t)c->hard_pending_compaction_bytes_limit);
	if (GIVEN(max_background_compactions))
		rocksdb_options_set_max_background_compactions(o,
							       (int)c->max_background_compactions);
	if (GIVEN(max_background_flushes))
		rocksdb_options_set_max_background_flushes(o, (int)c->max_background_flushes);
	if (GIVEN(disable_slowdown) && c->disable_slowdown) {
		/* Stalls allowed: writes run at full speed until RocksDB stops them. */
		rocksdb_options_set_level0_slowdown_writes_trigger(
			o, rocksdb_options_get_level0_stop_writes_trigger(o));
		rocksdb_options_set_soft_pending_compaction_bytes_limit(o, 0);
	}
	table_tuning(o, c);
	db_tuning(o, c);
	if (wo) {
		rocksdb_writeoptions_set_sync(wo, GIVEN(sync) && c->sync);
		rocksdb_writeoptions_disable_WAL(wo, GIVEN(disable_wal) && c->disable_wal);
	}
}

static int rdb_open(struct bench_engine *e, const char *target, unsigned int threads,
		    unsigned int qd, bool fresh, char *why, size_t whylen)
{
	struct rdb *r = calloc(1, sizeof(*r));
	char *err = NULL;

	if (!r) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	r->qd = qd;
	r->opts = rocksdb_options_create();
	r->wo = rocksdb_writeoptions_create();
	r->ro = rocksdb_readoptions_create();
	if (!r->opts || !r->wo || !r->ro) {
		rdb_free(r);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	rocksdb_options_set_create_if_missing(r->opts, 1);
	rocksdb_options_increase_parallelism(r->opts, (int)threads + 1);
	bench_rocksdb_tune(r->opts, r->wo, e->cfg);
	if (e->cfg && bench_tuning_given("verify_checksum"))
		rocksdb_readoptions_set_verify_checksums(r->ro, e->cfg->verify_checksum);
	if (fresh) {
		rocksdb_destroy_db(r->opts, target, &err);
		if (err) {
			snprintf(why, whylen, "%s: cannot remove the old database: %s", target,
				 err);
			rocksdb_free(err);
			rdb_free(r);
			return -EIO;
		}
	}
	r->db = rocksdb_open(r->opts, target, &err);
	if (err) {
		snprintf(why, whylen, "%s: %s", target, err);
		rocksdb_free(err);
		r->db = NULL;
		rdb_free(r);
		return -EIO;
	}
	e->priv = r;
	return 0;
}

static void rdb_close(struct bench_engine *e)
{
	rdb_free(e->priv);
	e->priv = NULL;
}

static int rdb_thread_open(struct bench_engine *e, void **ctx)
{
	struct rdb_thread *t = calloc(1, sizeof(*t));

	*ctx = NULL;
	if (!t)
		return -ENOMEM;
	t->r = e->priv;
	/* a MultiGet completes a whole batch at once */
	t->cap = e->cfg && e->cfg->batch_size > (int64_t)t->r->qd ? (unsigned int)e->cfg->batch_size
								  : t->r->qd;
	t->done = calloc(t->cap, sizeof(*t->done));
	if (!t->done) {
		free(t);
		return -ENOMEM;
	}
	*ctx = t;
	return 0;
}

static void rdb_thread_close(void *ctx)
{
	struct rdb_thread *t = ctx;

	free(t->done);
	free(t);
}

/* The call's error (if any) becomes -EIO; the message is RocksDB's. */
static int status_of(char *err)
{
	if (!err)
		return 0;
	fprintf(stderr, "nvkv-bench: rocksdb: %s\n", err);
	rocksdb_free(err);
	return -EIO;
}

static void queue_done(struct rdb_thread *t, bench_cb cb, void *arg, int status, uint32_t vlen)
{
	t->done[t->n++] = (struct rdb_done){ cb, arg, status, vlen };
}

static int rdb_put(void *ctx, const void *k, size_t kl, const void *v, size_t vl, unsigned int xfer,
		   bench_cb cb, void *arg)
{
	struct rdb_thread *t = ctx;
	char *err = NULL;

	(void)xfer; /* no transfer methods on a host store */
	if (t->n == t->cap)
		return -EAGAIN;
	rocksdb_put(t->r->db, t->r->wo, k, kl, v, vl, &err);
	queue_done(t, cb, arg, status_of(err), 0);
	return 0;
}

static int rdb_get(void *ctx, const void *k, size_t kl, void *buf, size_t bl, bench_cb cb,
		   void *arg)
{
	struct rdb_thread *t = ctx;
	rocksdb_pinnableslice_t *ps;
	char *err = NULL;
	const char *v;
	size_t vl = 0;
	int st;

	if (t->n == t->cap)
		return -EAGAIN;
	ps = rocksdb_get_pinned(t->r->db, t->r->ro, k, kl, &err);
	st = status_of(err);
	if (!st && !ps)
		st = NVKV_KEY_NOT_EXIST;
	if (ps) {
		v = rocksdb_pinnableslice_value(ps, &vl);
		memcpy(buf, v, vl < bl ? vl : bl);
		rocksdb_pinnableslice_destroy(ps);
	}
	queue_done(t, cb, arg, st, (uint32_t)vl);
	return 0;
}

static int rdb_del(void *ctx, const void *k, size_t kl, bench_cb cb, void *arg)
{
	struct rdb_thread *t = ctx;
	char *err = NULL;

	if (t->n == t->cap)
		return -EAGAIN;
	rocksdb_delete(t->r->db, t->r->wo, k, kl, &err);
	queue_done(t, cb, arg, status_of(err), 0);
	return 0;
}

/*
 * db_bench's multireadrandom: one MultiGet (the vector form; the batched
 * form wants a column family handle Debian's 7.8 C API cannot give for the
 * default family, so --multiread_batched reads through this one too).
 */
static int rdb_multiget(void *ctx, unsigned int n, const uint8_t *keys, size_t kl,
			void *const *bufs, size_t bl, bench_cb cb, void *const *args)
{
	struct rdb_thread *t = ctx;
	const char **kp = calloc(n, sizeof(*kp));
	size_t *ks = calloc(n, sizeof(*ks)), *vs = calloc(n, sizeof(*vs));
	char **vals = calloc(n, sizeof(*vals)), **errs = calloc(n, sizeof(*errs));
	unsigned int i;
	int rc = 0;

	if (!kp || !ks || !vs || !vals || !errs || t->cap - t->n < n) {
		rc = !kp || !ks || !vs || !vals || !errs ? -ENOMEM : -EAGAIN;
		goto out;
	}
	for (i = 0; i < n; i++) {
		kp[i] = (const char *)keys + i * kl;
		ks[i] = kl;
	}
	rocksdb_multi_get(t->r->db, t->r->ro, n, kp, ks, vals, vs, errs);
	for (i = 0; i < n; i++) {
		int st = status_of(errs[i]);

		if (!st && !vals[i])
			st = NVKV_KEY_NOT_EXIST;
		if (vals[i])
			memcpy(bufs[i], vals[i], vs[i] < bl ? vs[i] : bl);
		rocksdb_free(vals[i]);
		queue_done(t, cb, args[i], st, (uint32_t)vs[i]);
	}
out:
	free(kp);
	free(ks);
	free(vs);
	free(vals);
	free(errs);
	return rc;
}

static int rdb_seek(void *ctx, const void *k, size_t kl, unsigned int n, unsigned int *found,
		    uint64_t *bytes)
{
	struct rdb_thread *t = ctx;
	rocksdb_iterator_t *it = rocksdb_create_iterator(t->r->db, t->r->ro);
	char *err = NULL;
	unsigned int i;

	*found = 0;
	*bytes = 0;
	if (!it)
		return -ENOMEM;
	if (kl)
		rocksdb_iter_seek(it, k, kl);
	else
		rocksdb_iter_seek_to_first(it);
	for (i = 0; i <= n && rocksdb_iter_valid(it); i++) {
		size_t klen, vlen;

		rocksdb_iter_key(it, &klen);
		rocksdb_iter_value(it, &vlen);
		(*found)++;
		*bytes += klen + vlen;
		rocksdb_iter_next(it);
	}
	rocksdb_iter_get_error(it, &err);
	rocksdb_iter_destroy(it);
	return status_of(err);
}

static int rdb_poll(void *ctx)
{
	struct rdb_thread *t = ctx;
	unsigned int i, n = t->n;

	t->n = 0;
	for (i = 0; i < n; i++)
		t->done[i].cb(t->done[i].arg, t->done[i].status, t->done[i].vlen);
	return (int)n;
}

static int rdb_wait(void *ctx, unsigned int min)
{
	(void)min; /* everything submitted has completed */
	return rdb_poll(ctx);
}

static unsigned int rdb_inflight(void *ctx)
{
	return ((struct rdb_thread *)ctx)->n;
}

/* For the per-interval series: RocksDB stops or delays writes now. */
static bool rdb_stalled(struct bench_engine *e)
{
	struct rdb *r = e->priv;
	uint64_t stopped = 0, delayed = 0;

	if (rocksdb_property_int(r->db, "rocksdb.is-write-stopped", &stopped) ||
	    rocksdb_property_int(r->db, "rocksdb.actual-delayed-write-rate", &delayed))
		return false;
	return stopped || delayed;
}

const struct bench_engine_ops bench_engine_rocksdb = {
	.name = "rocksdb",
	.target_is_db = true,
	.open = rdb_open,
	.close = rdb_close,
	.thread_open = rdb_thread_open,
	.thread_close = rdb_thread_close,
	.put = rdb_put,
	.get = rdb_get,
	.del = rdb_del,
	.seek = rdb_seek,
	.multiget = rdb_multiget,
	.poll = rdb_poll,
	.wait = rdb_wait,
	.inflight = rdb_inflight,
	.device_stats = NULL,
	.strerror = nvkv_strerror,
	.stalled = rdb_stalled,
};
