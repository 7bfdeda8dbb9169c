// SPDX-License-Identifier: MIT
/*
 * The "kvaccel" engine: RocksDB in --db (tuned by the same db_bench flags as
 * --engine=rocksdb) whose writes go to the KV device in --device while RocksDB
 * stalls (kvaccel/kvaccel.h).  Calls are synchronous; completions are queued
 * and delivered from poll()/wait() as the rocksdb engine does.  The engine's
 * report line gives the bytes redirected and the rollback volume and time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "bench.h"
#include "cmdset/stats.h"
#include "engine.h"
#include "hostdrv/nvkv.h"
#include "kvaccel/kvaccel.h"

struct kvae {
	struct kva *db;
	unsigned int qd;
};

struct kvae_done {
	bench_cb cb;
	void *arg;
	int status;
	uint32_t vlen;
};

struct kvae_thread {
	struct kvae *k;
	unsigned int n, cap;
	struct kvae_done *done;
};

/* Delete every key the device lists (a device that refuses Format NVM):
 * each pass deletes what one iterator yields, until a pass finds none; a
 * device that still lists keys after a few passes is broken (-EIO). */
static int delete_listed(struct nvkv_dev *d)
{
	struct nvkv_iter *it;
	const void *k;
	size_t kl;
	unsigned int n, pass = 0;
	int rc;

	do {
		if (pass++ == 8)
			return -EIO;
		rc = nvkv_iter_open(d, NULL, 0, &it);
		if (rc)
			return rc;
		n = 0;
		while ((rc = nvkv_iter_next(it, &k, &kl)) == 1) {
			/* @k is valid until the next call: deleting it first is fine */
			rc = nvkv_delete(d, k, kl);
			if (rc && rc != NVKV_KEY_NOT_EXIST)
				break;
			n++;
		}
		nvkv_iter_close(it);
		if (rc) /* a List or a Delete failed */
			return rc;
	} while (n);
	return 0;
}

/*
 * db_bench's --use_existing_db=0 for the device too: kvaccel takes every key
 * on the KV namespace for a redirected pair, so a fresh run starts from an
 * empty one.  Format NVM of the KV namespace alone (one command, durable when
 * it returns; never a broadcast, which would erase a block namespace holding
 * RocksDB's own files); a device that refuses it has its keys deleted.
 */
static int clear_device(const char *device, char *why, size_t whylen)
{
	struct nvkv_dev *d;
	uint32_t nsid;
	int rc = nvkv_open(device, NULL, &d);

	if (rc) {
		snprintf(why, whylen, "device %s: %s", device, nvkv_strerror(rc));
		return rc < 0 ? rc : -EIO;
	}
	nsid = nvkv_ns_first(d, NVKV_CSI_KV);
	rc = nsid ? nvkv_format(d, nsid) : -ENXIO;
	if (rc > 0) /* the device's status: try the long way */
		rc = delete_listed(d);
	nvkv_close(d);
	if (rc) {
		snprintf(why, whylen,
			 "device %s: --use_existing_db=0 empties the KV namespace: %s; "
			 "--use_existing_db=1 keeps what it holds",
			 device, nvkv_strerror(rc));
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

/* The --kva_guard_* flags: microseconds and percentages, 0 turns a check off. */
static int guard_opts(const struct bench_cfg *c, struct kva_guard_th *g, char *why, size_t whylen)
{
	const int64_t v[] = { c->kva_guard_lat_us, c->kva_guard_lat_low_us, c->kva_guard_free_pct,
			      c->kva_guard_free_high_pct };
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] < 0 || v[i] > (i < 2 ? UINT32_MAX : 100)) {
			snprintf(why, whylen,
				 "--kva_guard_*: microseconds or percentages (0..100), not %lld",
				 (long long)v[i]);
			return -EINVAL;
		}
	g->lat_high_us = (uint32_t)v[0];
	g->lat_low_us = (uint32_t)v[1];
	g->free_low_pct = (uint32_t)v[2];
	g->free_high_pct = (uint32_t)v[3];
	return 0;
}

static int kvae_open(struct bench_engine *e, const char *target, unsigned int threads,
		     unsigned int qd, bool fresh, char *why, size_t whylen)
{
	const struct bench_cfg *c = e->cfg;
	struct kvae *k = calloc(1, sizeof(*k));
	rocksdb_options_t *ro = rocksdb_options_create();
	struct kva_opts o;
	char *err = NULL;
	int rc;

	if (!k || !ro) {
		snprintf(why, whylen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	if (!c->device) {
		snprintf(why, whylen, "--engine=kvaccel needs --device (and --db)");
		rc = -EINVAL;
		goto out;
	}
	k->qd = qd;
	rocksdb_options_set_create_if_missing(ro, 1);
	rocksdb_options_increase_parallelism(ro, (int)threads + 1);
	bench_rocksdb_tune(ro, NULL, c);
	kva_opts_default(&o);
	o.rocksdb_options = ro;
	o.db_path = target;
	o.device = c->device;
	if (kva_rollback_parse(c->rollback, &o.rollback)) {
		snprintf(why, whylen, "--rollback: eager, lazy or off, not '%s'", c->rollback);
		rc = -EINVAL;
		goto out;
	}
	o.interval_ms = c->kva_interval_ms > 0 ? (uint32_t)c->kva_interval_ms : 100;
	if (c->kva_l0_high > 0)
		o.th.l0_high = (uint64_t)c->kva_l0_high;
	if (c->kva_l0_low > 0)
		o.th.l0_low = (uint64_t)c->kva_l0_low;
	if (c->kva_pending_high > 0)
		o.th.pending_high = (uint64_t)c->kva_pending_high;
	if (c->kva_pending_low > 0)
		o.th.pending_low = (uint64_t)c->kva_pending_low;
	o.lazy_idle_ms = (uint32_t)c->kva_lazy_idle_ms;
	o.rollback_batch = c->kva_rollback_batch > 0 ? (uint32_t)c->kva_rollback_batch : 64;
	o.rollback_pause_ms = (uint32_t)c->kva_rollback_pause_ms;
	o.per_write_signal = !c->kva_no_write_signal;
	rc = guard_opts(c, &o.guard, why, whylen);
	if (rc)
		goto out;
	if (fresh) {
		rocksdb_destroy_db(ro, target, &err);
		if (err) {
			snprintf(why, whylen, "%s: cannot remove the old database: %s", target,
				 err);
			rocksdb_free(err);
			rc = -EIO;
			goto out;
		}
		rc = clear_device(c->device, why, whylen);
		if (rc)
			goto out;
	}
	rc = kva_open(&o, &k->db, why, whylen);
	if (rc)
		goto out;
	rocksdb_options_destroy(ro);
	e->priv = k;
	return 0;
out:
	if (ro)
		rocksdb_options_destroy(ro);
	free(k);
	return rc;
}

static void kvae_close(struct bench_engine *e)
{
	struct kvae *k = e->priv;

	if (k)
		kva_close(k->db);
	free(k);
	e->priv = NULL;
}

static int kvae_thread_open(struct bench_engine *e, void **ctx)
{
	struct kvae_thread *t = calloc(1, sizeof(*t));

	*ctx = NULL;
	if (!t)
		return -ENOMEM;
	t->k = e->priv;
	t->cap = t->k->qd ? t->k->qd : 1;
	t->done = calloc(t->cap, sizeof(*t->done));
	if (!t->done) {
		free(t);
		return -ENOMEM;
	}
	*ctx = t;
	return 0;
}

static void kvae_thread_close(void *ctx)
{
	struct kvae_thread *t = ctx;

	free(t->done);
	free(t);
}

static void queue_done(struct kvae_thread *t, bench_cb cb, void *arg, int status, uint32_t vlen)
{
	t->done[t->n++] = (struct kvae_done){ cb, arg, status, vlen };
}

static int kvae_put(void *ctx, const void *k, size_t kl, const void *v, size_t vl,
		    unsigned int xfer, bench_cb cb, void *arg)
{
	struct kvae_thread *t = ctx;

	(void)xfer;
	if (t->n == t->cap)
		return -EAGAIN;
	queue_done(t, cb, arg, kva_put(t->k->db, k, kl, v, vl), 0);
	return 0;
}

static int kvae_get(void *ctx, const void *k, size_t kl, void *buf, size_t bl, bench_cb cb,
		    void *arg)
{
	struct kvae_thread *t = ctx;
	void *v = NULL;
	size_t vl = 0;
	int rc;

	if (t->n == t->cap)
		return -EAGAIN;
	rc = kva_get(t->k->db, k, kl, &v, &vl);
	if (rc == -ENOENT)
		rc = NVKV_KEY_NOT_EXIST; /* the runner's "not found" */
	if (!rc)
		memcpy(buf, v, vl < bl ? vl : bl);
	free(v);
	queue_done(t, cb, arg, rc, (uint32_t)vl);
	return 0;
}

static int kvae_del(void *ctx, const void *k, size_t kl, bench_cb cb, void *arg)
{
	struct kvae_thread *t = ctx;

	if (t->n == t->cap)
		return -EAGAIN;
	queue_done(t, cb, arg, kva_delete(t->k->db, k, kl), 0);
	return 0;
}

static int kvae_seek(void *ctx, const void *k, size_t kl, unsigned int n, unsigned int *found,
		     uint64_t *bytes)
{
	struct kvae_thread *t = ctx;
	struct kva_iter *it;
	const void *key, *val;
	size_t klen, vlen;
	unsigned int i;
	int rc;

	*found = 0;
	*bytes = 0;
	rc = kva_iter_open(t->k->db, kl ? k : NULL, kl, &it);
	if (rc)
		return rc;
	for (i = 0; i <= n && (rc = kva_iter_next(it, &key, &klen, &val, &vlen)) == 1; i++) {
		(*found)++;
		*bytes += klen + vlen;
	}
	kva_iter_close(it);
	return rc < 0 ? rc : 0;
}

static int kvae_poll(void *ctx)
{
	struct kvae_thread *t = ctx;
	unsigned int i, n = t->n;

	t->n = 0;
	for (i = 0; i < n; i++)
		t->done[i].cb(t->done[i].arg, t->done[i].status, t->done[i].vlen);
	return (int)n;
}

static int kvae_wait(void *ctx, unsigned int min)
{
	(void)min;
	return kvae_poll(ctx);
}

static unsigned int kvae_inflight(void *ctx)
{
	return ((struct kvae_thread *)ctx)->n;
}

static void kvae_report(struct bench_engine *e, FILE *f, bool json)
{
	struct kvae *k = e->priv;
	struct kva_stats s;

	kva_stats(k->db, &s);
	if (json) {
		fprintf(f,
			",\"kvaccel\":{\"stall_periods\":%llu,\"puts_rocksdb\":%llu,"
			"\"puts_device\":%llu,\"deletes_device\":%llu,\"redirect_incomplete\":%llu,"
			"\"device_fallbacks\":%llu,\"bytes_redirected\":%llu,"
			"\"rolled_back\":%llu,\"rollback_bytes\":%llu,\"rollback_seconds\":%.6f,"
			"\"meta_keys\":%llu,\"meta_bytes_per_key\":%.1f,\"guard_periods\":%llu,"
			"\"guard_puts\":%llu,\"guard_seconds\":%.6f}",
			(unsigned long long)s.stall_periods, (unsigned long long)s.puts_rocksdb,
			(unsigned long long)s.puts_device, (unsigned long long)s.deletes_device,
			(unsigned long long)s.redirect_incomplete,
			(unsigned long long)s.device_fallbacks,
			(unsigned long long)s.bytes_redirected, (unsigned long long)s.rolled_back,
			(unsigned long long)s.rollback_bytes, s.rollback_ns / 1e9,
			(unsigned long long)s.meta_keys, s.meta_bytes_per_key,
			(unsigned long long)s.guard_periods, (unsigned long long)s.guard_puts,
			s.guard_ns / 1e9);
		return;
	}
	fprintf(f,
		"kvaccel (since open): %llu stall periods; puts %llu to RocksDB, %llu to the "
		"device; %llu deletes as device tombstones; %llu writes redirected by the "
		"per-write signal, %llu refused by the device; %.1f MB "
		"redirected; rollback %llu pairs, %.1f MB in %.3f s; %llu keys on the device "
		"(%.1f B metadata/key); device guard: %llu periods, %.3f s, %llu writes sent to "
		"RocksDB\n",
		(unsigned long long)s.stall_periods, (unsigned long long)s.puts_rocksdb,
		(unsigned long long)s.puts_device, (unsigned long long)s.deletes_device,
		(unsigned long long)s.redirect_incomplete, (unsigned long long)s.device_fallbacks,
		s.bytes_redirected / 1e6, (unsigned long long)s.rolled_back, s.rollback_bytes / 1e6,
		s.rollback_ns / 1e9, (unsigned long long)s.meta_keys, s.meta_bytes_per_key,
		(unsigned long long)s.guard_periods, s.guard_ns / 1e9,
		(unsigned long long)s.guard_puts);
}

/* The per-interval figures: kvaccel's counters and the device's PCIe bytes. */
static int kvae_sample(struct bench_engine *e, struct bench_sample *smp)
{
	struct kvae *k = e->priv;
	struct kvc_stats_log *l = malloc(sizeof(*l));
	struct kva_stats s;
	int i, rc;

	if (!l)
		return -ENOMEM;
	kva_stats(k->db, &s);
	memset(smp, 0, sizeof(*smp));
	smp->redirected = s.puts_device;
	smp->rolled_back = s.rolled_back;
	smp->redirect_ns = s.redirect_ns;
	rc = kva_device_stats(k->db, l, sizeof(*l));
	if (!rc)
		for (i = 0; i < KVC_PK_NUM; i++)
			smp->pcie_bytes += l->pcie_bytes[i][0] + l->pcie_bytes[i][1];
	free(l);
	return rc < 0 ? rc : rc ? -EIO : 0;
}

static bool kvae_stalled(struct bench_engine *e)
{
	struct kvae *k = e->priv;
	struct kva_stats s;

	kva_stats(k->db, &s);
	return s.stalled;
}

const struct bench_engine_ops bench_engine_kvaccel = {
	.name = "kvaccel",
	.target_is_db = true,
	.open = kvae_open,
	.close = kvae_close,
	.thread_open = kvae_thread_open,
	.thread_close = kvae_thread_close,
	.put = kvae_put,
	.get = kvae_get,
	.del = kvae_del,
	.seek = kvae_seek,
	.poll = kvae_poll,
	.wait = kvae_wait,
	.inflight = kvae_inflight,
	.device_stats = NULL,
	.strerror = nvkv_strerror,
	.report = kvae_report,
	.sample = kvae_sample,
	.stalled = kvae_stalled,
};
