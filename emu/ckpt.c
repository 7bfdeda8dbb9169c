// SPDX-License-Identifier: MIT
/* Folding catalog journals into data.mdb, and the thread that does it while
 * the device runs; see ckpt.h. */
#include "ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmdset/le.h"
#include "log.h"
#include "record.h"

/* ---- folding journals into data.mdb ------------------------------------------------------ */

/* One change read from a journal; @n orders changes to the same key, @pre
 * is the key's first 16 bytes as big-endian numbers (zero-padded). */
struct change {
	uint64_t pre[2];
	const uint8_t *key, *rec;
	uint32_t rlen, n;
	uint16_t klen;
	uint8_t op;
};

struct fold {
	struct change *c;
	size_t n, cap;
};

static int collect(void *arg, enum emu_jop op, const void *key, size_t klen, const void *rec,
		   size_t rlen)
{
	struct fold *f = arg;
	struct change *c;
	size_t i;

	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 4096;

		c = realloc(f->c, ncap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		f->c = c;
		f->cap = ncap;
	}
	if (f->n >= UINT32_MAX)
		return -E2BIG;
	c = &f->c[f->n];
	c->pre[0] = c->pre[1] = 0;
	for (i = 0; i < 16 && i < klen; i++)
		c->pre[i / 8] |= (uint64_t)((const uint8_t *)key)[i] << (56 - 8 * (i % 8));
	c->key = key;
	c->klen = (uint16_t)klen;
	c->rec = rec;
	c->rlen = (uint32_t)rlen;
	c->op = (uint8_t)op;
	c->n = (uint32_t)f->n++;
	return 0;
}

/* Blobs after index records; each database's keys in LMDB's order (shorter
 * first on a common prefix, as memcmp-then-length); a key's changes in
 * journal order. */
static int change_cmp(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	int bx = x->op == EMU_JOP_BLOB, by = y->op == EMU_JOP_BLOB, r;

	if (bx != by)
		return bx - by;
	if (x->pre[0] != y->pre[0])
		return x->pre[0] < y->pre[0] ? -1 : 1;
	if (x->pre[1] != y->pre[1])
		return x->pre[1] < y->pre[1] ? -1 : 1;
	r = x->klen > 16 && y->klen > 16
		    ? memcmp(x->key + 16, y->key + 16, (x->klen < y->klen ? x->klen : y->klen) - 16)
		    : 0;
	if (r)
		return r;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

static bool same_key(const struct change *x, const struct change *y)
{
	return (x->op == EMU_JOP_BLOB) == (y->op == EMU_JOP_BLOB) && x->klen == y->klen &&
	       !memcmp(x->key, y->key, x->klen);
}

/* Digit @d of a change's sort key: its class (index record or blob), then
 * the first 16 bytes of its key. */
static unsigned digit(const struct change *c, unsigned d)
{
	if (!d)
		return c->op == EMU_JOP_BLOB;
	d--;
	return (uint8_t)(c->pre[d >> 3] >> (56 - 8 * (d & 7)));
}

static void swap_changes(struct change *a, struct change *b)
{
	struct change t = *a;

	*a = *b;
	*b = t;
}

/*
 * The changes in change_cmp's order, by a byte-wise MSD radix sort in place
 * (American flag sort): a bucket at a time on the next digit that is not
 * the same for all of it, small buckets and the changes of one 16-byte
 * prefix by comparison (which also puts a key's changes in journal order).
 * qsort() alone took about 85 % of a fold, its comparisons missing the cache.
 */
static void sort_changes(struct change *a, size_t n, unsigned d)
{
	size_t cnt[256], next[256], end[256], i, pos;
	unsigned b, x;

	for (; n > 32 && d < 17; d++) {
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[digit(&a[i], d)]++;
		if (cnt[digit(&a[0], d)] == n)
			continue; /* the same for all: the next digit decides */
		for (pos = 0, b = 0; b < 256; b++) {
			next[b] = pos;
			pos += cnt[b];
			end[b] = pos;
		}
		for (b = 0; b < 256; b++)
			while (next[b] < end[b]) {
				x = digit(&a[next[b]], d);
				if (x == b)
					next[b]++;
				else
					swap_changes(&a[next[b]], &a[next[x]++]);
			}
		for (pos = 0, b = 0; b < 256; pos += cnt[b++])
			if (cnt[b] > 1)
				sort_changes(a + pos, cnt[b], d + 1);
		return;
	}
	if (n > 32) {
		qsort(a, n, sizeof(*a), change_cmp);
		return;
	}
	for (i = 1; i < n; i++) /* insertion sort: stable, few changes */
		for (pos = i; pos && change_cmp(&a[pos - 1], &a[pos]) > 0; pos--)
			swap_changes(&a[pos - 1], &a[pos]);
}

/* The last change of each key, in key order through a cursor: neighbouring
 * keys share their leaf page, which LMDB then does not descend to again. */
static int apply(struct emu_meta *m, MDB_txn *txn, struct fold *f)
{
	MDB_cursor *cur[2] = { NULL, NULL };
	size_t i;
	int rc = emu_lmdb_errno(mdb_cursor_open(txn, m->idx, &cur[0]));

	if (!rc)
		rc = emu_lmdb_errno(mdb_cursor_open(txn, m->blobs, &cur[1]));
	sort_changes(f->c, f->n, 0);
	for (i = 0; i < f->n && !rc; i++) {
		const struct change *c = &f->c[i];
		MDB_val k = { c->klen, (void *)c->key }, v = { c->rlen + EMU_REC_TRAILER, NULL };
		MDB_cursor *mc = cur[c->op == EMU_JOP_BLOB];

		if (i + 1 < f->n && same_key(c, c + 1))
			continue; /* a later change of the same key wins */
		if (c->op == EMU_JOP_DEL) {
			rc = mdb_cursor_get(mc, &k, NULL, MDB_SET);
			rc = rc == MDB_NOTFOUND ? 0
			     : rc		? emu_lmdb_errno(rc)
						: emu_lmdb_errno(mdb_cursor_del(mc, 0));
			continue;
		}
		rc = emu_lmdb_errno(mdb_cursor_put(mc, &k, &v, MDB_RESERVE));
		if (!rc) {
			memcpy(v.mv_data, c->rec, c->rlen);
			emu_rec_seal((uint8_t *)v.mv_data + c->rlen, c->key, c->klen, c->rec,
				     c->rlen);
		}
	}
	if (cur[1])
		mdb_cursor_close(cur[1]);
	if (cur[0])
		mdb_cursor_close(cur[0]);
	return rc;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t emu_ckpt_lmdb_used(struct emu_meta *m)
{
	MDB_envinfo info;
	MDB_stat st;

	if (mdb_env_info(m->env, &info) || mdb_env_stat(m->env, &st))
		return 0;
	return ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
}

int emu_ckpt_fold(struct emu_meta *m, uint64_t seq, bool last, char *err, size_t errlen)
{
	struct fold f = { NULL, 0, 0 };
	uint64_t t0 = now_ns(), used;
	struct emu_journal_bytes data;
	char path[4200];
	MDB_txn *txn;
	uint8_t num[8];
	bool torn = false;
	int rc;

	*err = 0;
	emu_journal_path(path, sizeof(path), m->dir, seq);
	rc = emu_journal_scan(m->dir, seq, last, collect, &f, &torn, &data, err, errlen);
	if (!rc)
		rc = emu_lmdb_errno(mdb_txn_begin(m->env, NULL, 0, &txn));
	if (!rc) {
		rc = apply(m, txn, &f);
		kvc_put_le64(num, seq);
		if (!rc)
			rc = emu_rec_put(txn, m->blobs, JOURNAL_KEY, strlen(JOURNAL_KEY), num,
					 sizeof(num));
		if (rc)
			mdb_txn_abort(txn);
		else
			rc = emu_lmdb_errno(mdb_txn_commit(txn));
	}
	free(f.c);
	emu_journal_release(&data);
	if (!rc)
		rc = emu_lmdb_errno(mdb_env_sync(m->env, 1));
	if (rc) {
		if (!*err)
			snprintf(err, errlen, "%s: folding %s into it: %s%s", m->file, path,
				 strerror(-rc),
				 rc == -ENOSPC ? " (raise emu.lmdb_map_mb, --emu-lmdb-map-mb)"
					       : "");
		return rc;
	}
	if (torn)
		emu_log(1,
			"%s: its last batch was cut short by a crash before it was acknowledged: "
			"dropped",
			path);
	if (unlink(path) && errno != ENOENT)
		emu_log(1, "%s: folded into data.mdb but not deleted: %s", path, strerror(errno));
	t0 = now_ns() - t0;
	used = emu_ckpt_lmdb_used(m);
	emu_log(3, "%s: %zu changes folded into data.mdb in %.3f s", path, f.n, (double)t0 / 1e9);
	pthread_mutex_lock(&m->ck.mu);
	m->ck.folds++;
	m->ck.changes += f.n;
	m->ck.lmdb_used = used;
	m->ck.ns += t0;
	pthread_mutex_unlock(&m->ck.mu);
	return 0;
}

static void *ckpt_main(void *arg)
{
	struct emu_meta *m = arg;
	struct emu_meta_ckpt *c = &m->ck;
	char err[512];

	pthread_mutex_lock(&c->mu);
	for (;;) {
		uint64_t seq, size;
		int rc;

		while (!c->stop && !c->want)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->want)
			break;
		seq = c->want;
		size = c->want_size;
		pthread_mutex_unlock(&c->mu);
		rc = emu_ckpt_fold(m, seq, false, err, sizeof(err));
		if (rc)
			emu_log(0, "catalog checkpoint failed, the device takes no more writes: %s",
				err);
		pthread_mutex_lock(&c->mu);
		if (rc)
			c->err = rc;
		else
			c->done = seq;
		c->bytes += rc ? 0 : size;
		c->want = 0;
		pthread_cond_broadcast(&c->cv); /* emu_ckpt_make_room() may be waiting */
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

void emu_ckpt_stop(struct emu_meta *m)
{
	struct emu_meta_ckpt *c = &m->ck;

	if (!c->running)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	c->running = false;
}

/* A journal past journal_max (any journal, @force) goes to the checkpoint
 * thread, unless it is still folding the previous one (then this one grows
 * until it is done). */
void emu_ckpt_hand_over(struct emu_meta *m, bool force)
{
	struct emu_meta_ckpt *c = &m->ck;
	uint64_t size;
	bool busy;

	if (m->j.size < m->journal_max && !(force && m->j.size))
		return;
	pthread_mutex_lock(&c->mu);
	busy = c->want != 0;
	pthread_mutex_unlock(&c->mu);
	if (busy)
		return;
	if (!c->running) {
		if (pthread_create(&c->thread, NULL, ckpt_main, m)) {
			emu_log(1, "%s: no checkpoint thread; the journal keeps growing", m->file);
			return;
		}
		c->running = true;
	}
	if (m->old_fd >= 0)
		close(m->old_fd);
	m->old_seq = m->j.seq;
	size = m->j.size;
	m->old_fd = emu_journal_detach(&m->j);
	pthread_mutex_lock(&c->mu);
	c->want = m->old_seq;
	c->want_size = size;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* A sync commit: the journals not yet folded, and the directory naming them. */
int emu_ckpt_sync(struct emu_meta *m)
{
	bool folded;
	int fd;

	if (m->j.fd >= 0 && fdatasync(m->j.fd))
		return -errno;
	if (m->old_fd >= 0) {
		pthread_mutex_lock(&m->ck.mu);
		folded = m->ck.done >= m->old_seq;
		pthread_mutex_unlock(&m->ck.mu);
		if (!folded && fdatasync(m->old_fd))
			return -errno;
	}
	if (!m->dir_dirty)
		return 0;
	fd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return -e;
	}
	close(fd);
	m->dir_dirty = false;
	return 0;
}

/*
 * Is there map room for what is not folded yet and the batch, generously
 * (half-full pages, copy-on-write)?  data.mdb running full in a fold would
 * refuse changes already acknowledged, so a batch without room is refused
 * at its commit, as LMDB's own "map full" refused it at put.  0, -ENOSPC, or
 * the error of a failed fold (every later commit fails with it).
 */
int emu_ckpt_room(struct emu_meta *m)
{
	uint64_t used, unfolded;
	int rc;

	pthread_mutex_lock(&m->ck.mu);
	rc = m->ck.err;
	used = m->ck.lmdb_used;
	unfolded = m->j.written - m->ck.bytes + m->j.len;
	pthread_mutex_unlock(&m->ck.mu);
	if (!rc && m->j.len && used + 4 * unfolded + (m->map_bytes >> 4) > m->map_bytes)
		rc = -ENOSPC;
	return rc;
}

/* Near a full map the estimate is replaced by what the journals really take:
 * everything written is folded now, the device thread waiting for it. */
static void wait_idle(struct emu_meta_ckpt *c)
{
	pthread_mutex_lock(&c->mu);
	while (c->running && c->want)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

int emu_ckpt_make_room(struct emu_meta *m)
{
	wait_idle(&m->ck); /* the journal handed over before */
	emu_ckpt_hand_over(m, true);
	wait_idle(&m->ck); /* the one being written */
	return emu_ckpt_room(m);
}
