/* SPDX-License-Identifier: MIT */
/*
 * BandSlim piggyback Store (ICPP'24): the value travels inside SQE fields the
 * KV Store does not use, in a head command followed by transfer commands.
 * Our vendor format, byte by byte (all little-endian):
 *
 * Head, opcode C0h (direction 00b: no DPTR data, everything inline)
 *   0      opcode C0h           1      flags (0)
 *   2-3    command id           4-7    NSID
 *   8-15   key bytes 0-7        16-39  payload A (24 B: MPTR + DPTR)
 *   40-43  total value size     44     key length (1..16)
 *   45     options: bit0 must-exist, bit1 must-not-exist, bit2 compression
 *          hint, bit7 narrow layout (below)
 *   46-47  sequence tag (host-chosen, links the transfers to this head)
 *   48-55  payload B (8 B)
 *   56-63  key bytes 8-15 if key length > 8, else payload C (8 B)
 *   Capacity: 40 B with a key of at most 8 bytes, 32 B otherwise.
 *
 * Head, opcode C1h (direction 01b: PRP for whole pages, tail inline) -- the
 * adaptive method for values above 4 KiB.  DPTR names the first
 * floor(size / 4096) * 4096 bytes of the value as in a KV Store; the remaining
 * size % 4096 bytes travel inline: payload in 16-23 (MPTR), 48-55, and 56-63
 * when key length <= 8.  Capacity: 24 B or 16 B.
 *
 * Transfer, opcode C4h (direction 00b)
 *   0      opcode C4h           1      flags (0)
 *   2-3    command id           4-7    NSID (dispatch needs it)
 *   8-9    sequence tag of the head
 *   10-63  payload (54 B)
 *
 * Narrow layout (options bit 7): through the Linux passthrough path only
 * CDW2-3 and CDW10-15 reach the device (MPTR and DPTR are rewritten by the
 * kernel), so with this bit the payload uses only those dwords:
 *   head C0h/C1h: 48-55, then 56-63 when key length <= 8  (8 or 16 B)
 *   transfer:     10-15, then 40-63                       (30 B)
 *
 * Payload bytes fill the regions in the order listed.  Every command of a
 * sequence is completed: the head and intermediate transfers with SUCCESS and
 * DW0 = value bytes received so far; the command carrying the last byte with
 * the Store's own status (DW0 = total size).  A value that fits in the head is
 * a one-command sequence.  The host writes a whole sequence into one SQ, in
 * order.  Transfers whose tag does not match the open sequence of their SQ
 * complete with COMMAND SEQUENCE ERROR; a new head abandons an open sequence.
 */
#ifndef KVC_BANDSLIM_H
#define KVC_BANDSLIM_H

#include <stdbool.h>
#include <stdint.h>
#include "kv.h"
#include "queue.h"

enum kvc_bs_opc {
	KVC_BS_STORE = 0xc0,	 /* head, value inline */
	KVC_BS_STORE_PRP = 0xc1, /* head, whole pages by PRP, tail inline */
	KVC_BS_XFER = 0xc4,	 /* transfer */
};

#define KVC_BS_OPT_NARROW 0x80
#define KVC_BS_OFF_TAG 46     /* head: CDW11[31:16] */
#define KVC_BS_OFF_XFER_TAG 8 /* transfer: CDW2[15:0] */
#define KVC_BS_PAGE 4096      /* PRP part granularity of C1h */

/* One piggybacked Store, host-order fields. */
struct kvc_bs_store {
	uint8_t opc; /* KVC_BS_STORE or KVC_BS_STORE_PRP */
	uint8_t klen;
	uint8_t opts; /* KVC_STORE_* | KVC_BS_OPT_NARROW */
	uint16_t tag;
	uint32_t nsid;
	uint32_t size; /* total value size */
	uint64_t prp1; /* C1h only */
	uint64_t prp2;
	uint8_t key[KVC_KV_MAX_KEY];
};

/* Bytes the head can carry inline. */
uint32_t kvc_bs_head_cap(uint8_t opc, uint8_t klen, bool narrow);
/* Bytes one transfer command carries. */
uint32_t kvc_bs_xfer_cap(bool narrow);
/* Bytes of the value sent by PRP (C1h: whole pages; C0h: 0). */
uint32_t kvc_bs_prp_len(uint8_t opc, uint32_t size);

/**
 * kvc_bs_cmd_count() - commands in the sequence of @s, head included.
 * Return: >= 1.
 */
uint32_t kvc_bs_cmd_count(const struct kvc_bs_store *s);

/**
 * kvc_bs_encode() - build command @idx (0 = head) of the sequence.
 * @sqe: zeroed and filled.
 * @s: the Store.
 * @idx: 0 .. kvc_bs_cmd_count(s) - 1.
 * @value: the whole value, @s->size bytes (the PRP part is skipped).
 * @cid: command id for this SQE.
 *
 * Return: 0; -EINVAL for a bad opcode, key length, or @idx out of range.
 */
int kvc_bs_encode(struct kvc_sqe *sqe, const struct kvc_bs_store *s, uint32_t idx,
		  const uint8_t *value, uint16_t cid);

/**
 * kvc_bs_decode_head() - read a head command.
 * @sqe: head as fetched.
 * @s: filled.
 * @dst: receives the head's inline bytes; room for @cap bytes.
 * @cap: room in @dst.
 *
 * Return: number of inline bytes copied, min(head capacity, inline length,
 * @cap); -EINVAL if the key length is outside 1..16.
 */
int kvc_bs_decode_head(const struct kvc_sqe *sqe, struct kvc_bs_store *s, uint8_t *dst,
		       uint32_t cap);

static inline uint16_t kvc_bs_xfer_tag(const struct kvc_sqe *sqe)
{
	return kvc_get_le16(kvc_sqe_cbytes(sqe) + KVC_BS_OFF_XFER_TAG);
}

/**
 * kvc_bs_decode_xfer() - copy a transfer command's payload.
 * @sqe: transfer as fetched.
 * @narrow: layout of the sequence (from its head).
 * @dst: destination.
 * @want: bytes still expected; at most that many are copied.
 *
 * Return: bytes copied, min(@want, kvc_bs_xfer_cap(@narrow)).
 */
uint32_t kvc_bs_decode_xfer(const struct kvc_sqe *sqe, bool narrow, uint8_t *dst, uint32_t want);

#endif /* KVC_BANDSLIM_H */
