// SPDX-License-Identifier: MIT
/*
 * KV command set encoders and decoders: key packing into CDW2-3/CDW14-15,
 * whole-command encode/decode, and the List return data writer and parser.
 */
#include "kv.h"

#include <errno.h>
#include <string.h>

void kvc_kv_key_pack(struct kvc_sqe *sqe, const void *key, uint8_t klen)
{
	uint8_t *b = kvc_sqe_bytes(sqe);
	uint8_t lo = klen < 8 ? klen : 8;

	memset(b + KVC_KV_OFF_KEY_LO, 0, 8);
	memset(b + KVC_KV_OFF_KEY_HI, 0, 8);
	if (lo)
		memcpy(b + KVC_KV_OFF_KEY_LO, key, lo);
	if (klen > 8)
		memcpy(b + KVC_KV_OFF_KEY_HI, (const uint8_t *)key + 8, klen - 8u);
	b[KVC_KV_OFF_KL] = klen;
}

uint8_t kvc_kv_key_unpack(const struct kvc_sqe *sqe, uint8_t key[KVC_KV_MAX_KEY])
{
	const uint8_t *b = kvc_sqe_cbytes(sqe);
	uint8_t klen = b[KVC_KV_OFF_KL];
	uint8_t n = klen < KVC_KV_MAX_KEY ? klen : KVC_KV_MAX_KEY;

	memcpy(key, b + KVC_KV_OFF_KEY_LO, n < 8 ? n : 8);
	if (n > 8)
		memcpy(key + 8, b + KVC_KV_OFF_KEY_HI, n - 8u);
	return klen;
}

static bool is_kv_opcode(uint8_t opc)
{
	switch (opc) {
	case KVC_KV_STORE:
	case KVC_KV_RETRIEVE:
	case KVC_KV_LIST:
	case KVC_KV_DELETE:
	case KVC_KV_EXIST:
		return true;
	default:
		return false;
	}
}

int kvc_kv_encode(struct kvc_sqe *sqe, const struct kvc_kv_cmd *cmd)
{
	if (!is_kv_opcode(cmd->opc) || !kvc_kv_key_valid(cmd->opc, cmd->klen))
		return -EINVAL;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = cmd->opc;
	kvc_sqe_set_cid(sqe, cmd->cid);
	kvc_sqe_set_nsid(sqe, cmd->nsid);
	kvc_kv_key_pack(sqe, cmd->key, cmd->klen);
	kvc_sqe_bytes(sqe)[KVC_KV_OFF_OPTS] = cmd->opts;
	kvc_put_le32(kvc_sqe_bytes(sqe) + KVC_KV_OFF_SIZE, cmd->size);
	if (kvc_opc_dir(cmd->opc) != KVC_DIR_NONE)
		kvc_sqe_set_prp(sqe, cmd->prp1, cmd->prp2);
	return 0;
}

int kvc_kv_decode(const struct kvc_sqe *sqe, struct kvc_kv_cmd *cmd)
{
	const uint8_t *b = kvc_sqe_cbytes(sqe);

	memset(cmd, 0, sizeof(*cmd));
	cmd->opc = sqe->opc;
	cmd->cid = kvc_sqe_cid(sqe);
	cmd->nsid = kvc_sqe_nsid(sqe);
	cmd->klen = kvc_kv_key_unpack(sqe, cmd->key);
	cmd->opts = b[KVC_KV_OFF_OPTS];
	cmd->size = kvc_get_le32(b + KVC_KV_OFF_SIZE);
	cmd->prp1 = kvc_sqe_prp1(sqe);
	cmd->prp2 = kvc_sqe_prp2(sqe);
	return kvc_kv_key_valid(cmd->opc, cmd->klen) ? 0 : -EINVAL;
}

int kvc_list_writer_init(struct kvc_list_writer *w, void *buf, uint32_t cap)
{
	w->lw_buf = buf;
	w->lw_cap = cap;
	w->lw_off = KVC_LIST_HDR_SIZE;
	w->lw_count = 0;
	return cap < KVC_LIST_HDR_SIZE ? -ENOSPC : 0;
}

int kvc_list_writer_add(struct kvc_list_writer *w, const void *key, uint8_t klen)
{
	uint32_t esz = kvc_list_entry_size(klen);
	uint8_t *e;

	if (klen == 0 || klen > KVC_KV_MAX_KEY)
		return -EINVAL;
	if (w->lw_cap < KVC_LIST_HDR_SIZE || esz > w->lw_cap - w->lw_off)
		return -ENOSPC;
	e = w->lw_buf + w->lw_off;
	kvc_put_le16(e, klen);
	memcpy(e + 2, key, klen);
	memset(e + 2 + klen, 0, esz - 2 - klen);
	w->lw_off += esz;
	w->lw_count++;
	return 0;
}

uint32_t kvc_list_writer_finish(struct kvc_list_writer *w)
{
	if (w->lw_cap < KVC_LIST_HDR_SIZE)
		return 0;
	kvc_put_le32(w->lw_buf, w->lw_count);
	return w->lw_off;
}

int kvc_list_reader_init(struct kvc_list_reader *r, const void *buf, uint32_t len)
{
	r->lr_buf = buf;
	r->lr_len = len;
	r->lr_off = KVC_LIST_HDR_SIZE;
	r->lr_seen = 0;
	r->lr_count = 0;
	if (len < KVC_LIST_HDR_SIZE)
		return -EBADMSG;
	r->lr_count = kvc_get_le32(buf);
	return 0;
}

int kvc_list_reader_next(struct kvc_list_reader *r, const uint8_t **key, uint8_t *klen)
{
	uint32_t left, kl;

	if (r->lr_seen >= r->lr_count)
		return 0;
	if (r->lr_off > r->lr_len)
		return -EBADMSG;
	left = r->lr_len - r->lr_off;
	if (left < 2)
		return -EBADMSG;
	kl = kvc_get_le16(r->lr_buf + r->lr_off);
	if (kl == 0 || kl > KVC_KV_MAX_KEY || kvc_list_entry_size(kl) > left)
		return -EBADMSG;
	*key = r->lr_buf + r->lr_off + 2;
	*klen = (uint8_t)kl;
	r->lr_off += kvc_list_entry_size(kl);
	r->lr_seen++;
	return 1;
}
