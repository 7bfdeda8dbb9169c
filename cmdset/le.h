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

/*
 * Through memcpy() of a value in the host's order, swapped on a big-endian
 * host: one load or store each.  Byte by byte, GCC 12 assembled a CQE's
 * fields with shifts in a register pair, stored both halves and copied the
 * entry with one 16-byte load, which waits for the stores to retire instead
 * of taking their data (a store-forwarding stall on every completion).
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define KVC_LE16(v) __builtin_bswap16(v)
#define KVC_LE32(v) __builtin_bswap32(v)
#define KVC_LE64(v) __builtin_bswap64(v)
#else
#define KVC_LE16(v) (v)
#define KVC_LE32(v) (v)
#define KVC_LE64(v) (v)
#endif

static inline uint16_t kvc_get_le16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return KVC_LE16(v);
}

static inline uint32_t kvc_get_le32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return KVC_LE32(v);
}

static inline uint64_t kvc_get_le64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return KVC_LE64(v);
}

/* Big-endian: keys compared as numbers in byte order (index, catalog). */
static inline uint64_t kvc_get_be64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return v;
#else
	return __builtin_bswap64(v);
#endif
}

static inline void kvc_put_be64(void *p, uint64_t v)
{
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, sizeof(v));
}

static inline void kvc_put_le16(void *p, uint16_t v)
{
	v = KVC_LE16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void kvc_put_le32(void *p, uint32_t v)
{
	v = KVC_LE32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void kvc_put_le64(void *p, uint64_t v)
{
	v = KVC_LE64(v);
	memcpy(p, &v, sizeof(v));
}

#endif /* KVC_LE_H */
