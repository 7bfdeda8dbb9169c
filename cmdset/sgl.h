/* SPDX-License-Identifier: MIT */
/*
 * Scatter Gather Lists (NVMe Base Specification 2.0, 4.3.2 "Scatter Gather
 * List (SGL)"): the 16-byte SGL descriptor that DPTR holds when PSDT is 01b or
 * 10b, and that SGL segments in host memory (or in a fabric command's
 * in-capsule data) are arrays of; the Identify Controller SGLS bits.  Shared
 * by the device's data-pointer mapper and the host driver's `sgl` method.
 *
 * Generic SGL descriptor ("Generic SGL Descriptor Format"), little-endian:
 *   0-7    address (Data Block, Segment, Last Segment: memory address;
 *          sub type 1h: offset into the in-capsule data; Bit Bucket and
 *          Transport Data Block: reserved)
 *   8-11   length in bytes
 *   12-14  reserved (Keyed Data Block: length 8-10, key 11-14)
 *   15     SGL identifier: descriptor type 7:4, sub type 3:0
 */
#ifndef KVC_SGL_H
#define KVC_SGL_H

#include <stdint.h>
#include <string.h>

#include "le.h"

#define KVC_SGL_DESC_SIZE 16

/* PSDT values with SGLs (SQE byte 1, bits 7:6). */
#define KVC_PSDT_SGL_MBUF 0x1 /* SGL for data, MPTR a contiguous buffer */
#define KVC_PSDT_SGL_MSGL 0x2 /* SGL for data, MPTR an SGL segment of one descriptor */

/* Figure "SGL Descriptor Type". */
enum kvc_sgl_type {
	KVC_SGL_DATA_BLOCK = 0x0,
	KVC_SGL_BIT_BUCKET = 0x1,
	KVC_SGL_SEGMENT = 0x2,
	KVC_SGL_LAST_SEGMENT = 0x3,
	KVC_SGL_KEYED_DATA_BLOCK = 0x4,
	KVC_SGL_TRANSPORT_DATA_BLOCK = 0x5,
	/* 6h-Eh reserved, Fh vendor specific */
};

/* Figure "SGL Descriptor Sub Type". */
enum kvc_sgl_subtype {
	KVC_SGL_SUB_ADDRESS = 0x0,
	KVC_SGL_SUB_OFFSET = 0x1,    /* fabrics: offset into in-capsule data */
	KVC_SGL_SUB_TRANSPORT = 0xa, /* transport specific (NVMe/TCP data PDUs) */
};

/* Identify Controller SGLS (bytes 536-539). */
#define KVC_SGLS_SUPPORTED 0x1u	       /* bits 1:0 = 01b: no alignment requirement */
#define KVC_SGLS_SUPPORTED_DWORD 0x2u  /* bits 1:0 = 10b: dword alignment */
#define KVC_SGLS_KEYED (1u << 2)       /* Keyed SGL Data Block */
#define KVC_SGLS_BIT_BUCKET (1u << 16) /* SGL Bit Bucket */
#define KVC_SGLS_MPTR_BYTE (1u << 17)  /* byte-aligned contiguous metadata buffer */
#define KVC_SGLS_OVERSIZE (1u << 18)   /* SGL longer than the data transfer */
#define KVC_SGLS_MPTR_SGL (1u << 19)   /* MPTR holding an SGL (PSDT 10b) */
#define KVC_SGLS_OFFSET (1u << 20)     /* address as an offset (sub type 1h) */
#define KVC_SGLS_TRANSPORT (1u << 21)  /* Transport SGL Data Block */

/* One descriptor, decoded. */
struct kvc_sgl_desc {
	uint64_t addr;
	uint32_t len;
	uint8_t type;	 /* enum kvc_sgl_type */
	uint8_t subtype; /* enum kvc_sgl_subtype */
};

static inline struct kvc_sgl_desc kvc_sgl_get(const void *raw)
{
	const uint8_t *p = (const uint8_t *)raw;
	struct kvc_sgl_desc d = {
		.addr = kvc_get_le64(p),
		.len = kvc_get_le32(p + 8),
		.type = (uint8_t)(p[15] >> 4),
		.subtype = (uint8_t)(p[15] & 0xf),
	};

	return d;
}

/* Encode @d into 16 bytes at @raw; reserved bytes 12-14 are zero. */
static inline void kvc_sgl_put(void *raw, const struct kvc_sgl_desc *d)
{
	uint8_t *p = (uint8_t *)raw;

	kvc_put_le64(p, d->addr);
	kvc_put_le32(p + 8, d->len);
	memset(p + 12, 0, 3);
	p[15] = (uint8_t)((d->type & 0xf) << 4 | (d->subtype & 0xf));
}

#endif /* KVC_SGL_H */
