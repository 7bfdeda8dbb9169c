// SPDX-License-Identifier: MIT
/*
 * libnvkv public API: argument checks, the synchronous calls on the shared
 * sync queue, per-thread asynchronous queues, List iteration, statistics and
 * error names.  Commands are built and tracked by udrv.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvkv_internal.h"

#define LIST_BUF (64u << 10)

static const char *const xfer_names[NVKV_XFER_NUM] = { "default",  "prp",	    "bandslim",
						       "adaptive", "adaptive-cost", "byteexpress",
						       "sgl" };

const char *nvkv_xfer_name(enum nvkv_xfer m)
{
	return (unsigned int)m < NVKV_XFER_NUM ? xfer_names[m] : NULL;
}

int nvkv_xfer_check(struct nvkv_dev *d, enum nvkv_xfer m, size_t klen, size_t vlen,
		    enum nvkv_xfer *used, char *why, size_t whylen)
{
	struct nvkv_xfer_ctx x;
	char buf[160];

	if (!d || !used || (whylen && !why) || klen < 1 || klen > NVKV_MAX_KEY ||
	    m >= NVKV_XFER_NUM || vlen > UINT32_MAX)
		return -EINVAL;
	if (m == NVKV_XFER_DEFAULT)
		m = d->opts.xfer;
	pthread_mutex_lock(&d->lock);
	x = nvkv_udrv_xfer_ctx(d->sync);
	pthread_mutex_unlock(&d->lock);
	*used = nvkv_xfer_plan(&x, m, (uint8_t)klen, (uint32_t)vlen).method;
	nvkv_xfer_why(&x, m, (uint8_t)klen, (uint32_t)vlen, buf, sizeof(buf));
	if (whylen)
		snprintf(why, whylen, "%s", buf);
	return 0;
}

int nvkv_xfer_parse(const char *name, enum nvkv_xfer *m)
{
	unsigned int i;

	for (i = 1; i < NVKV_XFER_NUM; i++) {
		if (!strcmp(name, xfer_names[i])) {
			*m = (enum nvkv_xfer)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *nvkv_strerror(int rc)
{
	static __thread char buf[96];

	if (rc == 0)
		return "Success";
	if (rc < 0)
		return strerror(-rc);
	snprintf(buf, sizeof(buf), "%s (0x%x)", kvc_status_str((uint16_t)rc), (unsigned int)rc);
	return buf;
}

void nvkv_opts_default(struct nvkv_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->xfer = NVKV_XFER_ADAPTIVE;
	o->adaptive_threshold = 127;
	o->queues = 8;
	o->queue_depth = 256;
	o->host_mem = 64u << 20;
	o->timeout_ms = 10000;
	o->interrupts = true;
	o->name = "libnvkv";
}

static int check_opts(const struct nvkv_opts *o)
{
	if (o->xfer <= NVKV_XFER_DEFAULT || o->xfer >= NVKV_XFER_NUM)
		return -EINVAL;
	if (o->queues < 1 || o->queues > NVKV_MAX_QID - 1 || o->queue_depth < 4 ||
	    o->queue_depth > 4096 || o->host_mem < (4u << 20) || o->timeout_ms < 10)
		return -EINVAL;
	return 0;
}

/* "sim" and "sim:FILE.ini" name the simulated device; anything else is a socket path. */
static int transport_open(const char *device, const struct nvkv_opts *o, struct nvkv_transport **t)
{
	if (!strcmp(device, "sim") || !strncmp(device, "sim:", 4))
		return nvkv_sim_open(device, o, t);
	if (!strncmp(device, "tcp://", 6))
		return nvkv_tcp_open(device, o, t);
	if (nvkv_uring_spec(device))
		return nvkv_uring_open(device, o, t);
	return nvkv_shm_open(device, o, t);
}

int nvkv_open(const char *device, const struct nvkv_opts *opts, struct nvkv_dev **out)
{
	struct nvkv_dev *d;
	int rc;

	if (!device || !out)
		return -EINVAL;
	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (opts)
		d->opts = *opts;
	else
		nvkv_opts_default(&d->opts);
	rc = check_opts(&d->opts);
	if (rc) {
		free(d);
		return rc;
	}
	pthread_mutex_init(&d->lock, NULL);
	rc = transport_open(device, &d->opts, &d->t);
	if (!rc) {
		d->kernel_sq = d->t->kernel_sq;
		rc = nvkv_udrv_start(d);
	}
	if (rc) {
		nvkv_close(d);
		return rc;
	}
	*out = d;
	return 0;
}

void nvkv_close(struct nvkv_dev *d)
{
	if (!d)
		return;
	if (d->t) {
		nvkv_udrv_stop(d);
		d->t->ops->close(d->t);
	}
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int nvkv_identify(struct nvkv_dev *d, struct nvkv_info *info)
{
	uint8_t buf[KVC_IDENTIFY_SIZE]; /* the caller's stack: devices share nothing */
	const struct kvc_id_ns_kv *ns = (const void *)buf;
	struct kvc_sqe sqe;
	int rc = 0;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_nsid(&sqe, d->kv_nsid);
	kvc_sqe_set_dw(&sqe, 10, KVC_CNS_CSI_NS);
	kvc_sqe_set_dw(&sqe, 11, (uint32_t)KVC_CSI_KV << 24);
	pthread_mutex_lock(&d->lock);
	if (d->kv_nsid) /* a block-only device has no KV sizes to refresh */
		rc = nvkv_udrv_exec_raw(d->admin, &sqe, buf, sizeof(buf), true, NULL);
	if (!rc && d->kv_nsid) {
		d->info.capacity = kvc_get_le64(&ns->nsze);
		d->info.utilization = kvc_get_le64(&ns->nuse);
	}
	*info = d->info;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static int check_key(const void *key, size_t klen)
{
	return key && klen >= 1 && klen <= NVKV_MAX_KEY ? 0 : -EINVAL;
}

/* ByteExpress writes SQ slots, SGL writes DPTR: neither exists through the kernel. */
static bool xfer_needs_sq(unsigned int m)
{
	return m == NVKV_XFER_BYTEEXPRESS || m == NVKV_XFER_SGL;
}

static int check_store(struct nvkv_dev *d, const void *key, size_t klen, const void *val,
		       size_t vlen, unsigned int flags)
{
	if (check_key(key, klen) || (vlen && !val))
		return -EINVAL;
	if ((flags & NVKV_STORE_MUST_EXIST) && (flags & NVKV_STORE_MUST_NOT_EXIST))
		return -EINVAL;
	if (NVKV_F_XFER(flags) >= NVKV_XFER_NUM ||
	    (flags &
	     ~(0xffu | NVKV_STORE_MUST_EXIST | NVKV_STORE_MUST_NOT_EXIST | NVKV_F_XFER_STRICT)))
		return -EINVAL;
	if (!d->kv_nsid)
		return -ENXIO; /* a block-only device: no value size applies */
	if (vlen > d->info.max_value)
		return -EMSGSIZE;
	return d->kernel_sq && xfer_needs_sq(NVKV_F_XFER(flags) ?: d->opts.xfer) ? -EOPNOTSUPP : 0;
}

static int sync_exec(struct nvkv_dev *d, enum nvkv_op op, const void *key, size_t klen,
		     const void *val, size_t vlen, void *buf, size_t buflen, unsigned int flags,
		     uint32_t *dw0)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = nvkv_udrv_exec(d->sync, op, key, klen, val, vlen, buf, buflen, flags, dw0);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int nvkv_store(struct nvkv_dev *d, const void *key, size_t klen, const void *val, size_t vlen,
	       unsigned int flags)
{
	int rc = check_store(d, key, klen, val, vlen, flags);

	return rc ? rc : sync_exec(d, NVKV_OP_STORE, key, klen, val, vlen, NULL, 0, flags, NULL);
}

int nvkv_retrieve(struct nvkv_dev *d, const void *key, size_t klen, void *buf, size_t buflen,
		  size_t *vlen)
{
	uint32_t dw0 = 0;
	int rc;

	if (check_key(key, klen) || (buflen && !buf))
		return -EINVAL;
	if (buflen > d->info.max_value)
		buflen = d->info.max_value; /* more can never come back */
	rc = sync_exec(d, NVKV_OP_RETRIEVE, key, klen, NULL, 0, buf, buflen, 0, &dw0);
	if (!rc && vlen)
		*vlen = dw0;
	return rc;
}

int nvkv_delete(struct nvkv_dev *d, const void *key, size_t klen)
{
	return check_key(key, klen)
		       ?: sync_exec(d, NVKV_OP_DELETE, key, klen, NULL, 0, NULL, 0, 0, NULL);
}

int nvkv_exist(struct nvkv_dev *d, const void *key, size_t klen)
{
	return check_key(key, klen)
		       ?: sync_exec(d, NVKV_OP_EXIST, key, klen, NULL, 0, NULL, 0, 0, NULL);
}

int nvkv_flush(struct nvkv_dev *d)
{
	return sync_exec(d, NVKV_OP_FLUSH, NULL, 0, NULL, 0, NULL, 0, 0, NULL);
}

/* ---- List iteration --------------------------------------------------------------- */

struct nvkv_iter {
	struct nvkv_dev *d;
	uint8_t *buf;
	struct kvc_list_reader r;
	uint8_t last[NVKV_MAX_KEY]; /* last key returned, or the start key */
	uint8_t lastlen;
	bool have_last;	 /* last[] was returned: skip it when seen again */
	uint32_t fresh;	 /* keys returned from the current batch */
	uint32_t buflen; /* List buffer size asked for */
	uint8_t cur[NVKV_MAX_KEY];
};

/* List from last[] (inclusive): the next batch of keys. */
static int iter_fetch(struct nvkv_iter *it)
{
	uint32_t count = 0;
	int rc;

	rc = sync_exec(it->d, NVKV_OP_LIST, it->last, it->lastlen, NULL, 0, it->buf, it->buflen, 0,
		       &count);
	if (rc)
		return rc;
	if (kvc_list_reader_init(&it->r, it->buf, it->buflen) || it->r.lr_count != count)
		return -EBADMSG;
	it->fresh = 0;
	return 0;
}

int nvkv_iter_open(struct nvkv_dev *d, const void *start, size_t slen, struct nvkv_iter **out)
{
	return nvkv_iter_open_limit(d, start, slen, 0, out);
}

int nvkv_iter_open_limit(struct nvkv_dev *d, const void *start, size_t slen, unsigned int batch,
			 struct nvkv_iter **out)
{
	struct nvkv_iter *it;
	int rc;

	if (!d || !out || slen > NVKV_MAX_KEY || (slen && !start))
		return -EINVAL;
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->buf = malloc(LIST_BUF);
	if (!it->buf) {
		free(it);
		return -ENOMEM;
	}
	it->d = d;
	/* Room for @batch keys of the longest size, plus the start key itself. */
	it->buflen = batch ? KVC_LIST_HDR_SIZE + (batch + 1) * kvc_list_entry_size(NVKV_MAX_KEY)
			   : LIST_BUF;
	if (it->buflen > LIST_BUF)
		it->buflen = LIST_BUF;
	if (slen)
		memcpy(it->last, start, slen);
	it->lastlen = (uint8_t)slen;
	rc = iter_fetch(it);
	if (rc) {
		nvkv_iter_close(it);
		return rc;
	}
	*out = it;
	return 0;
}

int nvkv_iter_next(struct nvkv_iter *it, const void **key, size_t *klen)
{
	const uint8_t *k;
	uint8_t kl;
	int rc;

	for (;;) {
		rc = kvc_list_reader_next(&it->r, &k, &kl);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			/* Batch done.  A batch that gave nothing new was the last one. */
			if (it->fresh == 0)
				return 0;
			rc = iter_fetch(it);
			if (rc)
				return rc;
			continue;
		}
		if (it->have_last && kl == it->lastlen && !memcmp(k, it->last, kl))
			continue; /* List starts at the key we returned last */
		memcpy(it->cur, k, kl);
		memcpy(it->last, k, kl);
		it->lastlen = kl;
		it->have_last = true;
		it->fresh++;
		*key = it->cur;
		*klen = kl;
		return 1;
	}
}

void nvkv_iter_close(struct nvkv_iter *it)
{
	if (!it)
		return;
	free(it->buf);
	free(it);
}

/* ---- queues ------------------------------------------------------------------------ */

int nvkv_queue_open(struct nvkv_dev *d, struct nvkv_queue **out)
{
	uint32_t qid;
	int rc = -EBUSY;

	*out = NULL;
	pthread_mutex_lock(&d->lock);
	for (qid = 2; qid <= d->nr_ioq; qid++) {
		if (d->ioq[qid])
			continue;
		rc = nvkv_udrv_queue_create(d, (uint16_t)qid, d->qdepth, &d->ioq[qid]);
		if (!rc)
			*out = d->ioq[qid];
		break;
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static void add_stats(struct nvkv_host_stats *a, const struct nvkv_host_stats *b)
{
	unsigned int i;

	for (i = 0; i < NVKV_XFER_NUM; i++) {
		a->cmds[i] += b->cmds[i];
		a->sqes[i] += b->sqes[i];
	}
	a->key_bytes += b->key_bytes;
	a->value_bytes_out += b->value_bytes_out;
	a->value_bytes_in += b->value_bytes_in;
	a->retrieves += b->retrieves;
	a->deletes += b->deletes;
	a->exists += b->exists;
	a->lists += b->lists;
	a->flushes += b->flushes;
	a->errors += b->errors;
	a->blk_reads += b->blk_reads;
	a->blk_writes += b->blk_writes;
	a->blk_write_zeroes += b->blk_write_zeroes;
	a->blk_dsms += b->blk_dsms;
	a->blk_flushes += b->blk_flushes;
	a->blk_bytes_read += b->blk_bytes_read;
	a->blk_bytes_written += b->blk_bytes_written;
}

void nvkv_queue_close(struct nvkv_queue *q)
{
	struct nvkv_dev *d;

	if (!q)
		return;
	d = q->d;
	while (q->inflight_reqs && nvkv_udrv_wait(q, q->inflight_reqs) >= 0)
		;
	pthread_mutex_lock(&d->lock);
	add_stats(&d->closed_st, &q->st);
	d->ioq[q->qid] = NULL;
	nvkv_udrv_queue_destroy(d, q);
	pthread_mutex_unlock(&d->lock);
}

int nvkv_submit_store(struct nvkv_queue *q, const void *key, size_t klen, const void *val,
		      size_t vlen, unsigned int flags, nvkv_cb cb, void *arg)
{
	int rc = check_store(q->d, key, klen, val, vlen, flags);

	return rc
		       ?: nvkv_udrv_submit(q, NVKV_OP_STORE, key, klen, val, vlen, NULL, 0, flags,
					   cb, arg);
}

int nvkv_submit_retrieve(struct nvkv_queue *q, const void *key, size_t klen, void *buf,
			 size_t buflen, nvkv_cb cb, void *arg)
{
	if (check_key(key, klen) || (buflen && !buf))
		return -EINVAL;
	if (buflen > q->d->info.max_value)
		buflen = q->d->info.max_value;
	return nvkv_udrv_submit(q, NVKV_OP_RETRIEVE, key, klen, NULL, 0, buf, buflen, 0, cb, arg);
}

int nvkv_submit_delete(struct nvkv_queue *q, const void *key, size_t klen, nvkv_cb cb, void *arg)
{
	return check_key(key, klen)
		       ?: nvkv_udrv_submit(q, NVKV_OP_DELETE, key, klen, NULL, 0, NULL, 0, 0, cb,
					   arg);
}

int nvkv_submit_exist(struct nvkv_queue *q, const void *key, size_t klen, nvkv_cb cb, void *arg)
{
	return check_key(key, klen)
		       ?: nvkv_udrv_submit(q, NVKV_OP_EXIST, key, klen, NULL, 0, NULL, 0, 0, cb,
					   arg);
}

void nvkv_queue_kick(struct nvkv_queue *q)
{
	nvkv_udrv_kick(q);
}

int nvkv_queue_poll(struct nvkv_queue *q)
{
	unsigned int before = q->inflight_reqs;
	int n = nvkv_udrv_poll(q);

	return n < 0 ? n : (int)(before - q->inflight_reqs);
}

int nvkv_queue_wait(struct nvkv_queue *q, unsigned int min)
{
	return nvkv_udrv_wait(q, min);
}

unsigned int nvkv_queue_inflight(const struct nvkv_queue *q)
{
	return q->inflight_reqs;
}

/* ---- statistics and raw commands ---------------------------------------------------------- */

void nvkv_host_stats(struct nvkv_dev *d, struct nvkv_host_stats *st)
{
	uint32_t i;

	pthread_mutex_lock(&d->lock);
	*st = d->closed_st;
	for (i = 1; i <= d->nr_ioq; i++)
		if (d->ioq[i])
			add_stats(st, &d->ioq[i]->st);
	pthread_mutex_unlock(&d->lock);
}

int nvkv_ns_stats(struct nvkv_dev *d, uint32_t nsid, void *log, size_t len)
{
	uint32_t numd = (uint32_t)(len / 4) - 1;
	struct kvc_sqe sqe;
	int rc;

	if (!log || len < 8 || len % 4 || len > (64u << 10))
		return -EINVAL;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_GET_LOG_PAGE;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_dw(&sqe, 10, (numd & 0xffff) << 16 | KVC_LOG_NVKV_STATS);
	kvc_sqe_set_dw(&sqe, 11, numd >> 16);
	pthread_mutex_lock(&d->lock);
	rc = nvkv_udrv_exec_raw(d->admin, &sqe, log, len, true, NULL);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int nvkv_device_stats(struct nvkv_dev *d, void *log, size_t len)
{
	return nvkv_ns_stats(d, 0, log, len);
}

static int raw(struct nvkv_dev *d, struct nvkv_queue *q, void *sqe, void *data, size_t len,
	       uint32_t *dw0)
{
	int rc;

	if (!sqe || (len && !data) || len > d->info.max_value + 4096)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	rc = nvkv_udrv_exec_raw(q, sqe, data, len, len > 0, dw0);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int nvkv_admin_raw(struct nvkv_dev *d, void *sqe, void *data, size_t len, uint32_t *dw0)
{
	return raw(d, d->admin, sqe, data, len, dw0);
}

int nvkv_io_raw(struct nvkv_dev *d, void *sqe, void *data, size_t len, uint32_t *dw0)
{
	return raw(d, d->sync, sqe, data, len, dw0);
}

/* ---- the device's clock ---------------------------------------------------------------- */

uint64_t nvkv_clock_ns(struct nvkv_dev *d)
{
	return nvkv_tp_clock(d->t);
}

bool nvkv_clock_virtual(const struct nvkv_dev *d)
{
	return d->t->virtual_time;
}

void nvkv_clock_sleep(struct nvkv_dev *d, uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	if (d->t->ops->sleep_ns) {
		d->t->ops->sleep_ns(d->t, ns);
		return;
	}
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
