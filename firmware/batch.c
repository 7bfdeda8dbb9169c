// SPDX-License-Identifier: MIT
/*
 * The catalog batch: the durability half of group commit.  Every index change
 * (host Store and Delete, GC relocation) is queued as a catalog put/del and
 * recorded in an undo log until the next commit makes the batch durable.  If
 * anything on the write path fails before that -- a catalog put (LMDB aborts
 * the whole transaction on "map full"), the commit, staging the open page, a
 * NAND program -- the index, the space accounting and the catalog's pending
 * state go back to the last commit, and every completion that promised the
 * batch's durability is turned into an error before the host can see it.  The
 * device stays up; the next batch starts clean.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "fw_internal.h"

#define FW_BATCH_MAX 65536u /* changes before a commit is forced */

/* Report the first failures, then every power of two: a dead catalog fails
 * every poll and must not flood the log. */
static void batch_log(struct fw_subsys *s, const char *what, int err)
{
	uint64_t n = s->batch.failures;
	char msg[160];

	if (!s->hal->log || (n > 8 && (n & (n - 1))))
		return;
	snprintf(msg, sizeof(msg),
		 "durability: %s failed (%d); batch %llu rolled back to the last commit "
		 "(%llu failures)",
		 what, err, (unsigned long long)s->batch.id, (unsigned long long)n);
	s->hal->log(s->hal->ctx, FW_LOG_ERR, msg);
}

void fw_batch_init(struct fw_subsys *s)
{
	memset(&s->batch, 0, sizeof(s->batch));
	s->batch.id = 1;
}

void fw_batch_fini(struct fw_subsys *s)
{
	fw_free(s->batch.undo);
	s->batch.undo = NULL;
	s->batch.n = s->batch.cap = 0;
}

uint16_t fw_batch_status(int err)
{
	return err == -ENOSPC ? FW_ST(KVC_SC_CAPACITY_EXCEEDED) : FW_ST(KVC_SC_INTERNAL);
}

int fw_batch_reserve(struct fw_subsys *s)
{
	struct fw_batch *b = &s->batch;
	struct fw_undo *u;
	uint32_t ncap;

	if (!s->persistent || b->n < b->cap)
		return 0;
	if (b->n >= FW_BATCH_MAX) {
		/* Write cache on and no Flush for long: commit early, which the
		 * contract allows, rather than grow the undo log without bound. */
		return fw_batch_commit(s, false);
	}
	ncap = b->cap ? b->cap * 2 : 256;
	u = fw_realloc(b->undo, (size_t)ncap * sizeof(*u));
	if (!u)
		return -ENOMEM;
	b->undo = u;
	b->cap = ncap;
	return 0;
}

static void put_rec(uint8_t rec[16], const struct fw_idx_val *iv)
{
	kvc_put_le64(rec, iv->loc);
	kvc_put_le32(rec + 8, iv->vlen);
	kvc_put_le32(rec + 12, iv->crc);
}

/* Queue the catalog's version of @key: @iv, or absent when NULL.  Failures
 * are counted by the caller (a rollback into a dead transaction fails every
 * restore, which is no new error). */
static int meta_set(struct fw_subsys *s, const uint8_t *key, uint8_t klen,
		    const struct fw_idx_val *iv)
{
	const struct fw_hal *hal = s->hal;
	uint8_t rec[16];
	int rc;

	if (iv) {
		put_rec(rec, iv);
		rc = hal->meta_put(hal->ctx, key, klen, rec, sizeof(rec));
	} else {
		rc = hal->meta_del ? hal->meta_del(hal->ctx, key, klen) : -EOPNOTSUPP;
	}
	return rc;
}

static int record(struct fw_subsys *s, const uint8_t *key, uint8_t klen,
		  const struct fw_idx_val *old, const struct fw_idx_val *cur)
{
	struct fw_undo *u;
	int rc;

	if (!s->persistent)
		return 0;
	if (s->batch.n == s->batch.cap)
		return -ENOMEM; /* caller skipped fw_batch_reserve(): our bug */
	u = &s->batch.undo[s->batch.n++];
	memcpy(u->key, key, klen);
	u->klen = klen;
	u->had_old = old != NULL;
	u->had_cur = cur != NULL;
	if (old)
		u->old = *old;
	if (cur)
		u->cur = *cur;
	s->dirty = true;
	rc = meta_set(s, key, klen, cur);
	if (rc) {
		s->batch.meta_errors++;
		fw_batch_fail(s, rc, fw_batch_status(rc), cur ? "catalog put" : "catalog delete");
	}
	return rc;
}

int fw_batch_put(struct fw_subsys *s, const uint8_t *key, uint8_t klen,
		 const struct fw_idx_val *old, const struct fw_idx_val *cur)
{
	return record(s, key, klen, old, cur);
}

int fw_batch_del(struct fw_subsys *s, const uint8_t *key, uint8_t klen,
		 const struct fw_idx_val *old)
{
	return record(s, key, klen, old, NULL);
}

/* Undo one change; the changes after it are undone already, so the index
 * maps the key to u->cur (or nothing). */
static void undo_one(struct fw_subsys *s, const struct fw_undo *u)
{
	int rc = 0;

	if (u->had_cur) {
		fw_vlog_dead(&s->vlog, u->cur.loc, u->klen, u->cur.vlen);
		if (u->had_old)
			rc = fw_index_update(&s->index, u->key, u->klen, &u->old);
		else
			rc = fw_index_del(&s->index, u->key, u->klen, NULL);
	} else if (u->had_old) {
		rc = fw_index_put(&s->index, u->key, u->klen, &u->old, NULL);
		rc = rc < 0 ? rc : 0;
	}
	if (u->had_old && !rc)
		fw_vlog_live(&s->vlog, u->old.loc, u->klen, u->old.vlen);
	if (rc && s->hal->log)
		s->hal->log(s->hal->ctx, FW_LOG_ERR,
			    "durability: rollback could not restore a key in the index");
	/* Best effort: LMDB has dropped the transaction already, and then
	 * these fail; a catalog that survived the fault gets its old state. */
	meta_set(s, u->key, u->klen, u->had_old ? &u->old : NULL);
}

/* Completions of a controller with its write cache on are posted before the
 * commit: what they acknowledged is lost by a rollback without a word. */
static bool write_cache_on(const struct fw_subsys *s)
{
	const struct fw_ctrl *c;

	for (c = s->ctrls; c; c = c->next)
		if (c->wce)
			return true;
	return false;
}

static void fail_completions(struct fw_subsys *s, uint64_t id, uint16_t st)
{
	struct fw_ctrl *c;

	for (c = s->ctrls; c; c = c->next)
		fw_ctrl_fail_batch(c, id, st);
}

int fw_batch_fail(struct fw_subsys *s, int err, uint16_t st, const char *what)
{
	struct fw_batch *b = &s->batch;
	const struct fw_hal *hal = s->hal;
	uint32_t i;

	b->failures++;
	b->fail_st = st;
	batch_log(s, what, err);
	if (!s->persistent)
		return err; /* nothing to roll back: no catalog, no promise made */
	if (b->n && write_cache_on(s))
		b->lost_st = st;
	for (i = b->n; i-- > 0;)
		undo_one(s, &b->undo[i]);
	b->n = 0;
	fail_completions(s, b->id, st);
	b->id++;
	/* End the catalog transaction: what it holds now is the last commit
	 * (or it is discarded).  The layout saved with it is the current one,
	 * whose extra log bytes are garbage to the restored index. */
	fw_vlog_state_save(&s->vlog, s->blob);
	/* Failures are expected here (LMDB has aborted the transaction) and
	 * harmless: the catalog then keeps its last commit, which the index
	 * matches.  Commit even when set_blob failed: that ends the transaction. */
	(void)hal->meta_set_blob(hal->ctx, FW_VLOG_BLOB, s->blob, fw_vlog_state_size(&s->vlog));
	(void)hal->meta_commit(hal->ctx, 0);
	s->dirty = false;
	return err;
}

/* The batch is committed: forget it and open the next one. */
static void batch_done(struct fw_subsys *s)
{
	s->batch.n = 0;
	s->batch.id++;
}

int fw_batch_commit(struct fw_subsys *s, bool sync)
{
	size_t len;
	int rc;

	if (!s->persistent)
		return 0;
	rc = fw_vlog_stage(&s->vlog);
	if (rc) {
		s->vlog.st.media_errors++;
		return fw_batch_fail(s, rc, KVC_ST_MEDIA_DNR(KVC_SC_WRITE_FAULT),
				     "staging the open page");
	}
	/* Not xbuf: GC persists in the middle of a Store whose value is there. */
	len = fw_vlog_state_size(&s->vlog);
	fw_vlog_state_save(&s->vlog, s->blob);
	rc = s->hal->meta_set_blob(s->hal->ctx, FW_VLOG_BLOB, s->blob, len);
	if (rc) {
		s->batch.meta_errors++;
		return fw_batch_fail(s, rc, fw_batch_status(rc), "saving the log layout");
	}
	rc = s->hal->meta_commit(s->hal->ctx, sync);
	if (rc) {
		s->batch.meta_errors++;
		return fw_batch_fail(s, rc, fw_batch_status(rc), "catalog commit");
	}
	s->dirty = false;
	batch_done(s);
	return 0;
}

uint16_t fw_batch_flush_status(struct fw_subsys *s)
{
	uint16_t st = fw_batch_commit(s, true) ? s->batch.fail_st : s->batch.lost_st;

	/* Either way the host is told now: a later Flush starts clean. */
	s->batch.lost_st = 0;
	return st;
}
