// SPDX-License-Identifier: MIT
/*
 * The detector's decision and its inputs: RocksDB's stall properties read
 * through the C API, and the threshold rule with hysteresis (stall from any
 * high threshold, back to normal only when everything is at or below its low
 * threshold).  The polling thread lives in kvaccel.c.
 */
#include <errno.h>
#include <stdlib.h>

#include <rocksdb/c.h>

#include "kvaccel/kvaccel_internal.h"

static bool over(uint64_t v, uint64_t th)
{
	return th && th != KVA_TH_AUTO && v >= th;
}

static bool above(uint64_t v, uint64_t th)
{
	return th && th != KVA_TH_AUTO && v > th;
}

bool kva_detect(const struct kva_thresholds *t, bool stalled, const struct kva_props *p)
{
	bool pressed = p->write_stopped || (t->stall_on_delay && p->delayed_rate);

	if (pressed || over(p->l0_files, t->l0_high) || over(p->memtable_bytes, t->mem_high) ||
	    over(p->pending_bytes, t->pending_high))
		return true;
	if (!stalled)
		return false;
	/* Leave the stall only below every low threshold. */
	return above(p->l0_files, t->l0_low) || above(p->memtable_bytes, t->mem_low) ||
	       above(p->pending_bytes, t->pending_low);
}

int kva_rocksdb_props(void *arg, struct kva_props *p)
{
	rocksdb_t *db = arg;
	static const char *const names[] = {
		"rocksdb.num-files-at-level0",
		"rocksdb.cur-size-all-mem-tables",
		"rocksdb.estimate-pending-compaction-bytes",
		"rocksdb.is-write-stopped",
		"rocksdb.actual-delayed-write-rate",
	};
	uint64_t *out[] = { &p->l0_files, &p->memtable_bytes, &p->pending_bytes, &p->write_stopped,
			    &p->delayed_rate };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *s, *end;

		if (!rocksdb_property_int(db, names[i], out[i]))
			continue;
		/* num-files-at-level<N> is a string property only. */
		s = rocksdb_property_value(db, names[i]);
		if (!s)
			return -EIO;
		*out[i] = strtoull(s, &end, 10);
		if (end == s) {
			rocksdb_free(s);
			return -EIO;
		}
		rocksdb_free(s);
	}
	return 0;
}
