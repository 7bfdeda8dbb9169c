// SPDX-License-Identifier: MIT
/* The "kv" engine: a KV device through libnvkv's public API. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hostdrv/nvkv.h"

static int kv_open(struct bench_engine *e, const char *target, unsigned int threads,
		   unsigned int qd, bool fresh, char *why, size_t whylen)
{
	struct nvkv_dev *d;
	struct nvkv_opts o;
	int rc;

	nvkv_opts_default(&o);
	o.queues = threads + 2; /* + the sync queue + readwhilewriting's writer */
	o.queue_depth = qd + 1 < 64 ? 64 : qd + 1;
	o.host_mem = (size_t)(threads + 2) * (16u << 20);
	o.name = "nvkv-bench";
	rc = nvkv_open(target, &o, &d);
	if (rc) {
		snprintf(why, whylen, "%s: %s", target, nvkv_strerror(rc));
		return rc;
	}
	/* db_bench's --use_existing_db=0: start from an empty store.  Format NVM
	 * on the KV namespace (durable when it returns); never a broadcast, which
	 * would erase a block namespace too. */
	if (fresh) {
		uint32_t nsid = nvkv_ns_first(d, NVKV_CSI_KV);

		rc = nsid ? nvkv_format(d, nsid) : -ENXIO;
		if (rc) {
			snprintf(why, whylen,
				 "%s: --use_existing_db=0 empties the KV namespace (Format NVM): "
				 "%s; --use_existing_db=1 keeps what it holds",
				 target, nvkv_strerror(rc));
			nvkv_close(d);
			return rc;
		}
	}
	e->priv = d;
	return 0;
}

static void kv_close(struct bench_engine *e)
{
	nvkv_close(e->priv);
	e->priv = NULL;
}

/* A worker's context: its own queue, and the device for the synchronous
 * List/Retrieve of seeks. */
struct kv_thread {
	struct nvkv_dev *d;
	struct nvkv_queue *q;
	uint8_t *vbuf; /* seek values land here */
};

#define VBUF (2u << 20)

static int kv_thread_open(struct bench_engine *e, void **ctx)
{
	struct kv_thread *t = calloc(1, sizeof(*t));
	int rc;

	*ctx = NULL;
	if (!t)
		return -ENOMEM;
	t->d = e->priv;
	t->vbuf = malloc(VBUF);
	rc = t->vbuf ? nvkv_queue_open(t->d, &t->q) : -ENOMEM;
	if (rc) {
		free(t->vbuf);
		free(t);
		return rc;
	}
	*ctx = t;
	return 0;
}

static void kv_thread_close(void *ctx)
{
	struct kv_thread *t = ctx;

	nvkv_queue_close(t->q);
	free(t->vbuf);
	free(t);
}

static int kv_put(void *ctx, const void *k, size_t kl, const void *v, size_t vl, unsigned int xfer,
		  bench_cb cb, void *arg)
{
	unsigned int f = NVKV_F_XFER(xfer) | (xfer & BENCH_XFER_STRICT ? NVKV_F_XFER_STRICT : 0);

	return nvkv_submit_store(((struct kv_thread *)ctx)->q, k, kl, v, vl, f, cb, arg);
}

static int kv_get(void *ctx, const void *k, size_t kl, void *buf, size_t bl, bench_cb cb, void *arg)
{
	return nvkv_submit_retrieve(((struct kv_thread *)ctx)->q, k, kl, buf, bl, cb, arg);
}

static int kv_del(void *ctx, const void *k, size_t kl, bench_cb cb, void *arg)
{
	return nvkv_submit_delete(((struct kv_thread *)ctx)->q, k, kl, cb, arg);
}

static int kv_seek(void *ctx, const void *k, size_t kl, unsigned int n, unsigned int *found,
		   uint64_t *bytes)
{
	struct kv_thread *t = ctx;
	struct nvkv_iter *it;
	const void *key;
	size_t klen, vlen;
	unsigned int i;
	int rc;

	*found = 0;
	*bytes = 0;
	rc = nvkv_iter_open_limit(t->d, k, kl, n + 1, &it);
	if (rc)
		return rc;
	for (i = 0; i <= n; i++) {
		rc = nvkv_iter_next(it, &key, &klen);
		if (rc <= 0)
			break;
		rc = nvkv_retrieve(t->d, key, klen, t->vbuf, VBUF, &vlen);
		if (rc == NVKV_KEY_NOT_EXIST) /* deleted meanwhile */
			continue;
		if (rc)
			break;
		(*found)++;
		*bytes += klen + (vlen < VBUF ? vlen : VBUF);
	}
	nvkv_iter_close(it);
	return rc;
}

static int kv_poll(void *ctx)
{
	return nvkv_queue_poll(((struct kv_thread *)ctx)->q);
}

static int kv_wait(void *ctx, unsigned int min)
{
	return nvkv_queue_wait(((struct kv_thread *)ctx)->q, min);
}

static unsigned int kv_inflight(void *ctx)
{
	return nvkv_queue_inflight(((struct kv_thread *)ctx)->q);
}

static int kv_stats(struct bench_engine *e, struct kvc_stats_log *l)
{
	return nvkv_device_stats(e->priv, l, sizeof(*l));
}

static void kv_xfer_why(struct bench_engine *e, unsigned int xfer, size_t kl, size_t vl, char *why,
			size_t len)
{
	enum nvkv_xfer used;

	if (nvkv_xfer_check(e->priv, (enum nvkv_xfer)xfer, kl, vl, &used, why, len))
		*why = 0;
}

static uint64_t kv_clock(struct bench_engine *e)
{
	return nvkv_clock_ns(e->priv);
}

static bool kv_clock_virtual(struct bench_engine *e)
{
	return nvkv_clock_virtual(e->priv);
}

static void kv_sleep(struct bench_engine *e, uint64_t ns)
{
	nvkv_clock_sleep(e->priv, ns);
}

static const char *kv_backend(struct bench_engine *e)
{
	static __thread struct nvkv_info in;

	return nvkv_identify(e->priv, &in) ? "unknown" : in.backend;
}

const struct bench_engine_ops bench_engine_kv = {
	.name = "kv",
	.xfer_methods = true,
	.open = kv_open,
	.close = kv_close,
	.thread_open = kv_thread_open,
	.thread_close = kv_thread_close,
	.put = kv_put,
	.get = kv_get,
	.del = kv_del,
	.seek = kv_seek,
	.poll = kv_poll,
	.wait = kv_wait,
	.inflight = kv_inflight,
	.device_stats = kv_stats,
	.strerror = nvkv_strerror,
	.xfer_why = kv_xfer_why,
	.clock_ns = kv_clock,
	.clock_virtual = kv_clock_virtual,
	.sleep_ns = kv_sleep,
	.backend = kv_backend,
};

const struct bench_engine_ops *bench_engine_find(const char *name)
{
	if (!strcmp(name, "kv"))
		return &bench_engine_kv;
	if (!strcmp(name, "rocksdb"))
		return &bench_engine_rocksdb;
	if (!strcmp(name, "kvaccel"))
		return &bench_engine_kvaccel;
	return NULL;
}
