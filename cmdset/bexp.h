/* SPDX-License-Identifier: MIT */
/*
 * ByteExpress Store (HotStorage'25): the value follows the Store command in
 * the same submission queue as raw 64-byte chunks, all made visible with one
 * tail doorbell, and the device fetches them together with the command.
 *
 * Command, opcode C8h (direction 00b: no DPTR data)
 *   0      opcode C8h           1      flags (0)
 *   2-3    command id           4-7    NSID
 *   8-15   key bytes 0-7        16-39  reserved (0)
 *   40-43  value size           44     key length (1..16)
 *   45     options (as KV Store: must-exist, must-not-exist, compression)
 *   46-55  reserved (0)         56-63  key bytes 8-15
 * Chunks: the next ceil(size / 64) SQ slots, wrapping with the ring.  Chunk i
 * holds value bytes [64 i, 64 i + 64); the tail of the last chunk is zero.
 * A value of 0 bytes has no chunk.  One CQE completes the whole command; its
 * SQ head field points past the last chunk.
 *
 * The host must write command and chunks contiguously and never interleave
 * another command between them.  The command and the slots after it form one
 * frame of 1 + min(ceil(size / 64), qsize - 2) slots (size read as a 64-bit
 * quantity, whatever the command's other fields); the device never runs a
 * slot of a frame as a command, whatever the command's status.  Until the
 * whole frame is below the SQ tail the device waits (it never reads past the
 * tail); other queues are served meanwhile.  A value that needs more chunks
 * than the queue can hold (size > (qsize - 2) * 64) completes with INVALID
 * VALUE SIZE once its qsize - 2 slots have been consumed.
 */
#ifndef KVC_BEXP_H
#define KVC_BEXP_H

#include <stdint.h>
#include "kv.h"
#include "queue.h"

#define KVC_BX_STORE 0xc8
#define KVC_BX_CHUNK 64

static inline uint32_t kvc_bx_chunks(uint32_t size)
{
	return (size + KVC_BX_CHUNK - 1) / KVC_BX_CHUNK;
}

/**
 * kvc_bx_encode() - build the ByteExpress Store command.
 * @sqe: zeroed and filled.
 * @cmd: key, options, size, nsid and cid are used; opc and PRPs are ignored.
 *
 * Return: 0, or -EINVAL for a key length outside 1..16.
 */
int kvc_bx_encode(struct kvc_sqe *sqe, const struct kvc_kv_cmd *cmd);

/**
 * kvc_bx_fill_chunk() - write chunk @idx of @value into one SQ slot.
 * @slot: 64-byte SQ slot.
 * @value: whole value, @size bytes.
 * @size: value size.
 * @idx: chunk index, < kvc_bx_chunks(@size).
 */
void kvc_bx_fill_chunk(void *slot, const uint8_t *value, uint32_t size, uint32_t idx);

/**
 * kvc_bx_take_chunk() - copy the value bytes of chunk @idx out of a slot.
 * Return: bytes copied (64, or fewer for the last chunk).
 */
uint32_t kvc_bx_take_chunk(const void *slot, uint8_t *value, uint32_t size, uint32_t idx);

#endif /* KVC_BEXP_H */
