/* SPDX-License-Identifier: MIT */
/*
 * NVMe queue entries: the 64-byte submission queue entry (SQE) and the 16-byte
 * completion queue entry (CQE), NVMe Base Specification 2.0, "Submission Queue
 * Entry" and "Completion Queue Entry".  Multi-byte fields are stored
 * little-endian exactly as on the wire; read and write them only through the
 * accessors below.
 */
#ifndef KVC_QUEUE_H
#define KVC_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include "le.h"

#define KVC_SQE_SIZE 64
#define KVC_CQE_SIZE 16

/* CDW0 byte 1 (flags) */
#define KVC_SQE_FUSE_MASK 0x03
#define KVC_SQE_PSDT_SHIFT 6
#define KVC_SQE_PSDT_MASK 0xc0
#define KVC_PSDT_PRP 0x0

/* Data transfer direction, opcode bits 1:0 (all command sets). */
enum kvc_xfer_dir {
	KVC_DIR_NONE = 0,
	KVC_DIR_H2D = 1, /* host to controller */
	KVC_DIR_D2H = 2, /* controller to host */
	KVC_DIR_BIDI = 3,
};

static inline enum kvc_xfer_dir kvc_opc_dir(uint8_t opc)
{
	return (enum kvc_xfer_dir)(opc & 3);
}

struct kvc_sqe {
	uint8_t opc;	/* 0: opcode */
	uint8_t flags;	/* 1: FUSE 1:0, PSDT 7:6 */
	uint16_t cid;	/* 2-3: command identifier */
	uint32_t nsid;	/* 4-7: namespace identifier */
	uint32_t cdw2;	/* 8-11 */
	uint32_t cdw3;	/* 12-15 */
	uint64_t mptr;	/* 16-23: metadata pointer */
	uint64_t prp1;	/* 24-31: DPTR, PRP entry 1 */
	uint64_t prp2;	/* 32-39: DPTR, PRP entry 2 or list pointer */
	uint32_t cdw10; /* 40-43 */
	uint32_t cdw11; /* 44-47 */
	uint32_t cdw12; /* 48-51 */
	uint32_t cdw13; /* 52-55 */
	uint32_t cdw14; /* 56-59 */
	uint32_t cdw15; /* 60-63 */
};
_Static_assert(sizeof(struct kvc_sqe) == KVC_SQE_SIZE, "SQE is 64 bytes");

/* Byte offsets of the SQE fields, for formats that reuse them as payload. */
#define KVC_SQE_OFF_CID 2
#define KVC_SQE_OFF_NSID 4
#define KVC_SQE_OFF_CDW2 8
#define KVC_SQE_OFF_MPTR 16
#define KVC_SQE_OFF_PRP1 24
#define KVC_SQE_OFF_PRP2 32
#define KVC_SQE_OFF_CDW10 40

static inline uint8_t *kvc_sqe_bytes(struct kvc_sqe *s)
{
	return (uint8_t *)s;
}

static inline const uint8_t *kvc_sqe_cbytes(const struct kvc_sqe *s)
{
	return (const uint8_t *)s;
}

/* Command dword @i (0..15), converted to host order. */
static inline uint32_t kvc_sqe_dw(const struct kvc_sqe *s, unsigned int i)
{
	return kvc_get_le32(kvc_sqe_cbytes(s) + 4 * i);
}

static inline void kvc_sqe_set_dw(struct kvc_sqe *s, unsigned int i, uint32_t v)
{
	kvc_put_le32(kvc_sqe_bytes(s) + 4 * i, v);
}

static inline uint16_t kvc_sqe_cid(const struct kvc_sqe *s)
{
	return kvc_get_le16(&s->cid);
}

static inline void kvc_sqe_set_cid(struct kvc_sqe *s, uint16_t cid)
{
	kvc_put_le16(&s->cid, cid);
}

static inline uint32_t kvc_sqe_nsid(const struct kvc_sqe *s)
{
	return kvc_get_le32(&s->nsid);
}

static inline void kvc_sqe_set_nsid(struct kvc_sqe *s, uint32_t nsid)
{
	kvc_put_le32(&s->nsid, nsid);
}

static inline uint64_t kvc_sqe_prp1(const struct kvc_sqe *s)
{
	return kvc_get_le64(&s->prp1);
}

static inline uint64_t kvc_sqe_prp2(const struct kvc_sqe *s)
{
	return kvc_get_le64(&s->prp2);
}

static inline void kvc_sqe_set_prp(struct kvc_sqe *s, uint64_t prp1, uint64_t prp2)
{
	kvc_put_le64(&s->prp1, prp1);
	kvc_put_le64(&s->prp2, prp2);
}

/*
 * Completion queue entry.  The status field (bytes 14-15) is:
 *   bit 0 phase tag (P), bits 8:1 status code (SC), 11:9 status code type
 *   (SCT), 13:12 command retry delay (CRD), 14 more (M), 15 do not retry (DNR).
 */
struct kvc_cqe {
	uint32_t dw0;	 /* 0-3: command specific */
	uint32_t dw1;	 /* 4-7: command specific */
	uint16_t sqhd;	 /* 8-9: SQ head pointer */
	uint16_t sqid;	 /* 10-11: SQ identifier */
	uint16_t cid;	 /* 12-13: command identifier */
	uint16_t status; /* 14-15: phase + status field */
};
_Static_assert(sizeof(struct kvc_cqe) == KVC_CQE_SIZE, "CQE is 16 bytes");

/*
 * A "status" in this project is the CQE status field without the phase bit:
 * bits 7:0 SC, 10:8 SCT, 12:11 CRD, 13 M, 14 DNR.  Zero is success.
 */
#define KVC_STATUS(sct, sc) ((uint16_t)((((sct)&7) << 8) | ((sc)&0xff)))
#define KVC_STATUS_SC(st) ((uint8_t)((st)&0xff))
#define KVC_STATUS_SCT(st) ((uint8_t)(((st) >> 8) & 7))
#define KVC_STATUS_CRD(st) ((uint8_t)(((st) >> 11) & 3))
#define KVC_STATUS_MORE (1u << 13)
#define KVC_STATUS_DNR (1u << 14)
/* SCT and SC only: what identifies the outcome regardless of retry hints. */
#define KVC_STATUS_CODE(st) ((uint16_t)((st)&0x7ff))

static inline uint16_t kvc_cqe_status(const struct kvc_cqe *c)
{
	return (uint16_t)(kvc_get_le16(&c->status) >> 1);
}

static inline bool kvc_cqe_phase(const struct kvc_cqe *c)
{
	return kvc_get_le16(&c->status) & 1;
}

static inline uint16_t kvc_cqe_cid(const struct kvc_cqe *c)
{
	return kvc_get_le16(&c->cid);
}

static inline uint32_t kvc_cqe_dw0(const struct kvc_cqe *c)
{
	return kvc_get_le32(&c->dw0);
}

/* Fill @c; @status uses the layout above, @phase is the tag to post. */
static inline void kvc_cqe_fill(struct kvc_cqe *c, uint32_t dw0, uint32_t dw1, uint16_t sqhd,
				uint16_t sqid, uint16_t cid, uint16_t status, bool phase)
{
	kvc_put_le32(&c->dw0, dw0);
	kvc_put_le32(&c->dw1, dw1);
	kvc_put_le16(&c->sqhd, sqhd);
	kvc_put_le16(&c->sqid, sqid);
	kvc_put_le16(&c->cid, cid);
	kvc_put_le16(&c->status, (uint16_t)((status << 1) | (phase ? 1 : 0)));
}

#endif /* KVC_QUEUE_H */
