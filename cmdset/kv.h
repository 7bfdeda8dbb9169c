/* SPDX-License-Identifier: MIT */
/*
 * NVMe Key Value command set (CSI 01h), KV Command Set Specification 1.0:
 * opcodes, the SQE layout of KV commands, key packing, options, and the List
 * return data format.  See docs/wire-formats.md for the byte tables.
 *
 * KV SQE (64 bytes, little-endian):
 *   0      opcode            1     flags
 *   2-3    command id        4-7   NSID
 *   8-15   key bytes 0-7     16-23 MPTR (reserved for KV)
 *   24-39  DPTR (Store, Retrieve, List)
 *   40-43  CDW10: Store value size; Retrieve/List host buffer size
 *   44     CDW11[7:0]  key length (1..16; List: 0..16, 0 = from the start)
 *   45     CDW11[15:8] options
 *   46-55  reserved           56-63 key bytes 8-15
 * Key byte i goes to SQE byte 8+i for i < 8 and 56+(i-8) otherwise.
 */
#ifndef KVC_KV_H
#define KVC_KV_H

#include <stdbool.h>
#include <stdint.h>
#include "queue.h"

enum kvc_kv_opc {
	KVC_KV_STORE = 0x01,
	KVC_KV_RETRIEVE = 0x02,
	KVC_KV_LIST = 0x06,
	KVC_KV_DELETE = 0x10,
	KVC_KV_EXIST = 0x14,
};

#define KVC_KV_MAX_KEY 16
#define KVC_KV_OFF_KEY_LO 8  /* key bytes 0-7 */
#define KVC_KV_OFF_SIZE 40   /* CDW10 */
#define KVC_KV_OFF_KL 44     /* CDW11 byte 0 */
#define KVC_KV_OFF_OPTS 45   /* CDW11 byte 1 */
#define KVC_KV_OFF_KEY_HI 56 /* key bytes 8-15 */

/* Store options (CDW11[15:8]). */
#define KVC_STORE_MUST_EXIST 0x01     /* only if the key exists (overwrite) */
#define KVC_STORE_MUST_NOT_EXIST 0x02 /* only if the key does not exist */
#define KVC_STORE_COMPRESS_HINT 0x04  /* accepted, ignored */
/* Retrieve options. */
#define KVC_RETRIEVE_RAW 0x01

/* A KV command in host-order fields. */
struct kvc_kv_cmd {
	uint8_t opc;
	uint8_t klen; /* key length */
	uint8_t opts; /* CDW11[15:8] */
	uint16_t cid;
	uint32_t nsid;
	uint32_t size; /* CDW10 */
	uint64_t prp1;
	uint64_t prp2;
	uint8_t key[KVC_KV_MAX_KEY];
};

/**
 * kvc_kv_key_valid() - whether @klen is a legal key length for @opc.
 * @opc: a KV opcode (List accepts 0: start from the first key).
 * @klen: key length in bytes.
 *
 * Return: true for 1..16 (0..16 for List), false otherwise.
 */
static inline bool kvc_kv_key_valid(uint8_t opc, uint32_t klen)
{
	if (klen > KVC_KV_MAX_KEY)
		return false;
	return klen > 0 || opc == KVC_KV_LIST;
}

/**
 * kvc_kv_key_pack() - place a key and its length into an SQE.
 * @sqe: command to modify; key bytes beyond @klen are zeroed.
 * @key: key bytes (may be NULL when @klen is 0).
 * @klen: 0..16.
 */
void kvc_kv_key_pack(struct kvc_sqe *sqe, const void *key, uint8_t klen);

/**
 * kvc_kv_key_unpack() - copy the key of an SQE out.
 * @sqe: command.
 * @key: receives min(KL, 16) bytes.
 *
 * Return: the KL field (CDW11[7:0]) as sent, possibly > 16.
 */
uint8_t kvc_kv_key_unpack(const struct kvc_sqe *sqe, uint8_t key[KVC_KV_MAX_KEY]);

/**
 * kvc_kv_encode() - build the SQE of a KV command.
 * @sqe: zeroed and filled.
 * @cmd: the command; all fields are used.
 *
 * Return: 0, or -EINVAL if the opcode is not a KV opcode or the key length is
 * not valid for it (kvc_kv_key_valid()).
 */
int kvc_kv_encode(struct kvc_sqe *sqe, const struct kvc_kv_cmd *cmd);

/**
 * kvc_kv_decode() - read the fields of a KV command.
 * @sqe: command as fetched.
 * @cmd: filled; key holds min(KL, 16) bytes.
 *
 * Return: 0, or -EINVAL if the key length is not valid for the opcode (the
 * device answers that with INVALID KEY SIZE).  @cmd is filled either way.
 */
int kvc_kv_decode(const struct kvc_sqe *sqe, struct kvc_kv_cmd *cmd);

/*
 * List return data (KV spec "List command return data structure"):
 *   bytes 0-3   number of returned keys (u32)
 *   then per key: u16 key length, key bytes, zero padding to a multiple of 4.
 * The device stops before the entry that would not fit the host buffer.
 */
#define KVC_LIST_HDR_SIZE 4

static inline uint32_t kvc_list_entry_size(uint32_t klen)
{
	return (2 + klen + 3) & ~3u;
}

struct kvc_list_writer {
	uint8_t *lw_buf;
	uint32_t lw_cap;
	uint32_t lw_off;
	uint32_t lw_count;
};

/**
 * kvc_list_writer_init() - start encoding List data into @buf.
 * @w: writer state.
 * @buf: destination, @cap bytes; must have room for the 4-byte header.
 * @cap: capacity of @buf.
 *
 * Return: 0, or -ENOSPC if @cap < 4.
 */
int kvc_list_writer_init(struct kvc_list_writer *w, void *buf, uint32_t cap);

/**
 * kvc_list_writer_add() - append one key.
 * Return: 0; -ENOSPC if the padded entry does not fit (nothing written);
 * -EINVAL for a key length outside 1..16.
 */
int kvc_list_writer_add(struct kvc_list_writer *w, const void *key, uint8_t klen);

/**
 * kvc_list_writer_finish() - write the header.
 * Return: number of bytes of @buf used (header + entries).
 */
uint32_t kvc_list_writer_finish(struct kvc_list_writer *w);

struct kvc_list_reader {
	const uint8_t *lr_buf;
	uint32_t lr_len;
	uint32_t lr_off;
	uint32_t lr_count; /* keys announced by the header */
	uint32_t lr_seen;  /* keys returned so far */
};

/**
 * kvc_list_reader_init() - start parsing List data.
 * @r: reader state.
 * @buf: data returned by the device, @len bytes valid.
 *
 * Return: 0, or -EBADMSG if @len cannot hold the header.
 */
int kvc_list_reader_init(struct kvc_list_reader *r, const void *buf, uint32_t len);

/**
 * kvc_list_reader_next() - next key.
 * @key: set to point into the buffer (valid as long as the buffer).
 * @klen: set to the key length.
 *
 * Return: 1 with a key, 0 after the last announced key, -EBADMSG if an entry
 * is truncated, has a key length outside 1..16, or the header announces more
 * keys than the buffer holds.  Never reads outside the buffer.
 */
int kvc_list_reader_next(struct kvc_list_reader *r, const uint8_t **key, uint8_t *klen);

#endif /* KVC_KV_H */
