// SPDX-License-Identifier: MIT
/* ByteExpress command and chunk encoders; see bexp.h for the format. */
#include "bexp.h"

#include <errno.h>
#include <string.h>

int kvc_bx_encode(struct kvc_sqe *sqe, const struct kvc_kv_cmd *cmd)
{
	struct kvc_kv_cmd c = *cmd;
	int rc;

	/* Same fields as a KV Store, with no data pointer. */
	c.opc = KVC_KV_STORE;
	c.prp1 = 0;
	c.prp2 = 0;
	rc = kvc_kv_encode(sqe, &c);
	if (rc)
		return rc;
	sqe->opc = KVC_BX_STORE;
	return 0;
}

static uint32_t chunk_len(uint32_t size, uint32_t idx)
{
	uint32_t off = idx * KVC_BX_CHUNK;

	if (off >= size)
		return 0;
	return size - off < KVC_BX_CHUNK ? size - off : KVC_BX_CHUNK;
}

void kvc_bx_fill_chunk(void *slot, const uint8_t *value, uint32_t size, uint32_t idx)
{
	uint32_t n = chunk_len(size, idx);

	memcpy(slot, value + (size_t)idx * KVC_BX_CHUNK, n);
	memset((uint8_t *)slot + n, 0, KVC_BX_CHUNK - n);
}

uint32_t kvc_bx_take_chunk(const void *slot, uint8_t *value, uint32_t size, uint32_t idx)
{
	uint32_t n = chunk_len(size, idx);

	memcpy(value + (size_t)idx * KVC_BX_CHUNK, slot, n);
	return n;
}
