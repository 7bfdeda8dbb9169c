// SPDX-License-Identifier: MIT
/* Sealed catalog records and LMDB's errors as errno values; see record.h. */
#include "record.h"

#include <errno.h>
#include <string.h>

#include "cmdset/le.h"
#include "firmware/crc.h"
#include "meta.h"

int emu_lmdb_errno(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_MAP_FULL:
		return -ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_VALSIZE:
		return -EUCLEAN;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

static uint32_t record_crc(const void *key, size_t klen, const void *rec, size_t rlen,
			   const uint8_t *t)
{
	return fw_crc32c(fw_crc32c(fw_crc32c(0, key, klen), rec, rlen), t + 4, EMU_REC_TRAILER - 4);
}

void emu_rec_seal(uint8_t *t, const void *key, size_t klen, const void *rec, size_t rlen)
{
	memset(t, 0, EMU_REC_TRAILER);
	t[4] = EMU_META_FORMAT;
	kvc_put_le32(t, record_crc(key, klen, rec, rlen, t));
}

/* NULL and the record's length in @rlen, or why the stored value is refused. */
const char *emu_rec_unseal(const void *key, size_t klen, const MDB_val *v, size_t *rlen)
{
	const uint8_t *t;

	if (v->mv_size < EMU_REC_TRAILER)
		return "is shorter than its checksum";
	*rlen = v->mv_size - EMU_REC_TRAILER;
	t = (const uint8_t *)v->mv_data + *rlen;
	if (t[4] != EMU_META_FORMAT)
		return "has another format version";
	if (t[5] | t[6] | t[7] || kvc_get_le32(t) != record_crc(key, klen, v->mv_data, *rlen, t))
		return "fails its checksum";
	return NULL;
}

int emu_rec_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *rec,
		size_t rlen)
{
	MDB_val k = { klen, (void *)key }, v = { rlen + EMU_REC_TRAILER, NULL };
	int rc = emu_lmdb_errno(mdb_put(txn, dbi, &k, &v, MDB_RESERVE));

	if (rc)
		return rc;
	memcpy(v.mv_data, rec, rlen);
	emu_rec_seal((uint8_t *)v.mv_data + rlen, key, klen, rec, rlen);
	return 0;
}

int emu_key_cmp(const MDB_val *a, const MDB_val *b)
{
	const uint8_t *x = a->mv_data, *y = b->mv_data;
	size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size, i;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t u = kvc_get_be64(x + i), v = kvc_get_be64(y + i);

		if (u != v)
			return u < v ? -1 : 1;
	}
	for (; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return a->mv_size < b->mv_size ? -1 : a->mv_size > b->mv_size;
}
