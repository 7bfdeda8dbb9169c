/* SPDX-License-Identifier: MIT */
/*
 * Little-endian load/store helpers for wire formats.  Every multi-byte field
 * that crosses the host/device boundary is read and written through these, so
 * the code stays correct on a big-endian host and never depends on the
 * alignment of the underlying buffer.
 */
#ifndef KVC_LE_H
#define KVC_LE_H

#include <stdint.h>
#include <string.h>

static inline uint16_t kvc_get_le16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] | (b[1] << 8));
}

static inline uint32_t kvc_get_le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
	       ((uint32_t)b[3] << 24);
}

static inline uint64_t kvc_get_le64(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)kvc_get_le32(b) | ((uint64_t)kvc_get_le32(b + 4) << 32);
}

static inline void kvc_put_le16(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void kvc_put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static inline void kvc_put_le64(void *p, uint64_t v)
{
	kvc_put_le32(p, (uint32_t)v);
	kvc_put_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

#endif /* KVC_LE_H */
