// SPDX-License-Identifier: MIT
/*
 * BandSlim piggyback encoder/decoder.  Each layout is a list of byte regions
 * of the SQE filled with payload in order; the encoder and the decoder walk
 * the same lists, so the two can never disagree about where bytes live.
 */
#include "bandslim.h"

#include <errno.h>
#include <string.h>

struct region {
	uint8_t off;
	uint8_t len;
};

struct layout {
	const struct region *r;
	unsigned int n;
};

/* Regions, the last of each head layout being the high key slot (56-63),
 * which is payload only when the key fits in bytes 8-15. */
static const struct region head_full[] = { { 16, 24 }, { 48, 8 }, { 56, 8 } };
static const struct region head_prp_full[] = { { 16, 8 }, { 48, 8 }, { 56, 8 } };
static const struct region head_narrow[] = { { 48, 8 }, { 56, 8 } };
static const struct region xfer_full[] = { { 10, 54 } };
static const struct region xfer_narrow[] = { { 10, 6 }, { 40, 24 } };

#define NREG(a) (sizeof(a) / sizeof((a)[0]))

static struct layout head_layout(uint8_t opc, uint8_t klen, bool narrow)
{
	struct layout l;

	if (narrow) {
		l.r = head_narrow;
		l.n = NREG(head_narrow);
	} else if (opc == KVC_BS_STORE_PRP) {
		l.r = head_prp_full;
		l.n = NREG(head_prp_full);
	} else {
		l.r = head_full;
		l.n = NREG(head_full);
	}
	if (klen > 8)
		l.n--; /* bytes 56-63 hold the key tail */
	return l;
}

static struct layout xfer_layout(bool narrow)
{
	struct layout l = { xfer_full, NREG(xfer_full) };

	if (narrow) {
		l.r = xfer_narrow;
		l.n = NREG(xfer_narrow);
	}
	return l;
}

static uint32_t layout_cap(struct layout l)
{
	uint32_t cap = 0;
	unsigned int i;

	for (i = 0; i < l.n; i++)
		cap += l.r[i].len;
	return cap;
}

/*
 * memcpy() for a region (at most 54 bytes) without a call: 8-byte moves, the
 * last one overlapping the one before (fixed sizes the compiler inlines).
 */
static inline void copy_region(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	uint32_t i;

	if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8)
			memcpy(dst + i, src + i, 8);
		memcpy(dst + n - 8, src + n - 8, 8);
	} else if (n >= 4) {
		memcpy(dst, src, 4);
		memcpy(dst + n - 4, src + n - 4, 4);
	} else {
		for (i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

/*
 * Copy up to @len payload bytes through the regions of a layout: into an SQE
 * (@to_sqe: @dst is the SQE, @src the payload) or out of one (@dst the
 * payload, @src the SQE).
 */
static uint32_t layout_copy(struct layout l, uint8_t *dst, const uint8_t *src, uint32_t len,
			    bool to_sqe)
{
	uint32_t done = 0;
	unsigned int i;

	for (i = 0; i < l.n && done < len; i++) {
		uint32_t n = l.r[i].len;

		if (n > len - done)
			n = len - done;
		if (to_sqe)
			copy_region(dst + l.r[i].off, src + done, n);
		else
			copy_region(dst + done, src + l.r[i].off, n);
		done += n;
	}
	return done;
}

uint32_t kvc_bs_head_cap(uint8_t opc, uint8_t klen, bool narrow)
{
	return layout_cap(head_layout(opc, klen, narrow));
}

uint32_t kvc_bs_xfer_cap(bool narrow)
{
	return layout_cap(xfer_layout(narrow));
}

uint32_t kvc_bs_prp_len(uint8_t opc, uint32_t size)
{
	return opc == KVC_BS_STORE_PRP ? size - size % KVC_BS_PAGE : 0;
}

uint32_t kvc_bs_cmd_count(const struct kvc_bs_store *s)
{
	bool narrow = s->opts & KVC_BS_OPT_NARROW;
	uint32_t inl = s->size - kvc_bs_prp_len(s->opc, s->size);
	uint32_t head = kvc_bs_head_cap(s->opc, s->klen, narrow);
	uint32_t xcap = kvc_bs_xfer_cap(narrow);

	if (inl <= head)
		return 1;
	return 1 + (inl - head + xcap - 1) / xcap;
}

static int encode_head(struct kvc_sqe *sqe, const struct kvc_bs_store *s, const uint8_t *inl,
		       uint32_t inl_len)
{
	uint8_t *b = kvc_sqe_bytes(sqe);
	bool narrow = s->opts & KVC_BS_OPT_NARROW;

	sqe->opc = s->opc;
	kvc_sqe_set_nsid(sqe, s->nsid);
	kvc_kv_key_pack(sqe, s->key, s->klen);
	b[KVC_KV_OFF_OPTS] = s->opts;
	kvc_put_le32(b + KVC_KV_OFF_SIZE, s->size);
	kvc_put_le16(b + KVC_BS_OFF_TAG, s->tag);
	if (s->opc == KVC_BS_STORE_PRP)
		kvc_sqe_set_prp(sqe, s->prp1, s->prp2);
	layout_copy(head_layout(s->opc, s->klen, narrow), b, inl, inl_len, true);
	return 0;
}

int kvc_bs_encode(struct kvc_sqe *sqe, const struct kvc_bs_store *s, uint32_t idx,
		  const uint8_t *value, uint16_t cid)
{
	bool narrow = s->opts & KVC_BS_OPT_NARROW;
	uint32_t prp = kvc_bs_prp_len(s->opc, s->size);
	uint32_t inl = s->size - prp;
	uint32_t head = kvc_bs_head_cap(s->opc, s->klen, narrow);
	uint32_t xcap = kvc_bs_xfer_cap(narrow);
	uint32_t off;

	if ((s->opc != KVC_BS_STORE && s->opc != KVC_BS_STORE_PRP) || s->klen == 0 ||
	    s->klen > KVC_KV_MAX_KEY || idx >= kvc_bs_cmd_count(s))
		return -EINVAL;
	memset(sqe, 0, sizeof(*sqe));
	kvc_sqe_set_cid(sqe, cid);
	if (idx == 0)
		return encode_head(sqe, s, value + prp, inl < head ? inl : head);

	off = head + (idx - 1) * xcap;
	sqe->opc = KVC_BS_XFER;
	kvc_sqe_set_nsid(sqe, s->nsid);
	kvc_put_le16(kvc_sqe_bytes(sqe) + KVC_BS_OFF_XFER_TAG, s->tag);
	layout_copy(xfer_layout(narrow), kvc_sqe_bytes(sqe), value + prp + off, inl - off, true);
	return 0;
}

int kvc_bs_decode_head(const struct kvc_sqe *sqe, struct kvc_bs_store *s, uint8_t *dst,
		       uint32_t cap)
{
	const uint8_t *b = kvc_sqe_cbytes(sqe);
	uint32_t inl, want;

	memset(s, 0, sizeof(*s));
	s->opc = sqe->opc;
	s->nsid = kvc_sqe_nsid(sqe);
	s->klen = kvc_kv_key_unpack(sqe, s->key);
	s->opts = b[KVC_KV_OFF_OPTS];
	s->size = kvc_get_le32(b + KVC_KV_OFF_SIZE);
	s->tag = kvc_get_le16(b + KVC_BS_OFF_TAG);
	s->prp1 = kvc_sqe_prp1(sqe);
	s->prp2 = kvc_sqe_prp2(sqe);
	if (s->klen == 0 || s->klen > KVC_KV_MAX_KEY)
		return -EINVAL;
	inl = s->size - kvc_bs_prp_len(s->opc, s->size);
	want = inl < cap ? inl : cap;
	return (int)layout_copy(head_layout(s->opc, s->klen, s->opts & KVC_BS_OPT_NARROW), dst, b,
				want, false);
}

uint32_t kvc_bs_decode_xfer(const struct kvc_sqe *sqe, bool narrow, uint8_t *dst, uint32_t want)
{
	return layout_copy(xfer_layout(narrow), dst, kvc_sqe_cbytes(sqe), want, false);
}
