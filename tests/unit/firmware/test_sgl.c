// SPDX-License-Identifier: MIT
/*
 * SGL walker of the data-pointer mapper (firmware/dma.c): every descriptor
 * type, chains, Bit Buckets, the fabric forms with and without the
 * transport's callbacks, every malformed SGL we reject, and the PCIe bytes.
 * Expected link bytes are computed by hand from the TLP sizes in DESIGN.md
 * section 5 (MRd 24, CplD 20 + payload, MWr 24 + payload; MPS 256, RCB 64).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/cmdset.h"
#include "firmware/dma.h"

#define MEM (8u << 20)
static uint8_t *mem;
static struct fw_pcie pcie;
static struct fw_host_if hif;
static struct fw_dma d;

/* Fake fabric transport: in-capsule data and a data stream. */
static uint8_t icd[256];
static uint32_t icd_len;
static uint8_t stream[8192];
static struct {
	uint16_t sqid, cid;
	uint64_t off;
	size_t len;
	unsigned int calls;
} xlast;

static int rd(void *ctx, uint64_t a, void *b, size_t n)
{
	(void)ctx;
	if (a > MEM || n > MEM - a)
		return -EFAULT;
	memcpy(b, mem + a, n);
	return 0;
}

static int wr(void *ctx, uint64_t a, const void *b, size_t n)
{
	(void)ctx;
	if (a > MEM || n > MEM - a)
		return -EFAULT;
	memcpy(mem + a, b, n);
	return 0;
}

static int cap(void *ctx, uint16_t sqid, uint16_t cid, const void **data, uint32_t *len)
{
	(void)ctx;
	xlast.sqid = sqid;
	xlast.cid = cid;
	*data = icd;
	*len = icd_len;
	return 0;
}

static int xrd(void *ctx, uint16_t sqid, uint16_t cid, uint64_t off, void *buf, size_t len)
{
	(void)ctx;
	xlast = (typeof(xlast)){ sqid, cid, off, len, xlast.calls + 1 };
	if (off > sizeof(stream) || len > sizeof(stream) - off)
		return -EIO;
	memcpy(buf, stream + off, len);
	return 0;
}

static int xwr(void *ctx, uint16_t sqid, uint16_t cid, uint64_t off, const void *buf, size_t len)
{
	(void)ctx;
	xlast = (typeof(xlast)){ sqid, cid, off, len, xlast.calls + 1 };
	if (off > sizeof(stream) || len > sizeof(stream) - off)
		return -EIO;
	memcpy(stream + off, buf, len);
	return 0;
}

static void setup(void)
{
	struct kvc_pcie_link c = { .gen = 3, .lanes = 4, .mps = 256, .mrrs = 512, .rcb = 64 };
	uint32_t i;

	mem = malloc(MEM);
	for (i = 0; i < MEM; i++)
		mem[i] = (uint8_t)(i * 7 + (i >> 12));
	for (i = 0; i < sizeof(icd); i++)
		icd[i] = (uint8_t)(0xc0 ^ i);
	icd_len = 64;
	for (i = 0; i < sizeof(stream); i++)
		stream[i] = (uint8_t)(i * 13 + 5);
	memset(&xlast, 0, sizeof(xlast));
	fw_pcie_init(&pcie, &c);
	hif = (struct fw_host_if){ .dma_read = rd, .dma_write = wr };
	d = (struct fw_dma){ .hif = &hif, .pcie = &pcie, .gran = FW_DMA_EXACT };
}

static void teardown(void)
{
	free(mem);
}

static void fabric(void)
{
	hif.capsule_data = cap;
	hif.xport_read = xrd;
	hif.xport_write = xwr;
}

#define ST(sc) KVC_ST_GENERIC_DNR(sc)
#define DB KVC_SGL_DATA_BLOCK
#define BB KVC_SGL_BIT_BUCKET
#define SEG KVC_SGL_SEGMENT
#define LAST KVC_SGL_LAST_SEGMENT

/* Descriptor bytes written by hand (generic format, 4.3.2), not by kvc_sgl_put. */
static void desc_at(uint8_t *p, uint64_t addr, uint32_t len, uint8_t type, uint8_t sub)
{
	uint32_t i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(addr >> (8 * i));
	for (i = 0; i < 4; i++)
		p[8 + i] = (uint8_t)(len >> (8 * i));
	p[12] = p[13] = p[14] = 0;
	p[15] = (uint8_t)(type << 4 | sub);
}

/* Descriptor @i of a segment at host address @seg. */
static void put(uint64_t seg, unsigned int i, uint64_t addr, uint32_t len, uint8_t type)
{
	desc_at(mem + seg + 16 * i, addr, len, type, 0);
}

static struct fw_dptr dptr(uint64_t addr, uint32_t len, uint8_t type, uint8_t sub)
{
	struct fw_dptr p = { .psdt = KVC_PSDT_SGL_MBUF, .sqid = 3, .cid = 0x1234 };

	desc_at(p.raw, addr, len, type, sub);
	return p;
}

static uint64_t up(enum fw_pcie_kind k)
{
	return pcie.kind[k].bytes[KVC_PCIE_UP];
}

static uint64_t down(enum fw_pcie_kind k)
{
	return pcie.kind[k].bytes[KVC_PCIE_DOWN];
}

START_TEST(descriptor_golden_bytes)
{
	static const uint8_t want[16] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
					  0x44, 0x33, 0x22, 0x11, 0x00, 0x00, 0x00, 0x5a };
	struct kvc_sgl_desc s = { .addr = 0x0102030405060708ull,
				  .len = 0x11223344,
				  .type = KVC_SGL_TRANSPORT_DATA_BLOCK,
				  .subtype = KVC_SGL_SUB_TRANSPORT };
	uint8_t raw[16];

	memset(raw, 0xff, sizeof(raw));
	kvc_sgl_put(raw, &s);
	ck_assert_mem_eq(raw, want, 16);
	s = kvc_sgl_get(want);
	ck_assert_uint_eq(s.addr, 0x0102030405060708ull);
	ck_assert_uint_eq(s.len, 0x11223344);
	ck_assert_uint_eq(s.type, 5);
	ck_assert_uint_eq(s.subtype, 0xa);
}
END_TEST

START_TEST(dptr_from_sqe)
{
	struct kvc_sqe sqe;
	struct fw_dptr p;

	memset(&sqe, 0, sizeof(sqe));
	sqe.flags = 0x40 | 0x01; /* PSDT 01b, FUSE 01b */
	kvc_put_le16(kvc_sqe_bytes(&sqe) + 2, 0xbeef);
	desc_at(kvc_sqe_bytes(&sqe) + 24, 0x1000, 77, DB, 0);
	fw_dptr_from_sqe(&p, &sqe, 5);
	ck_assert_uint_eq(p.psdt, 1);
	ck_assert_uint_eq(p.sqid, 5);
	ck_assert_uint_eq(p.cid, 0xbeef);
	ck_assert_mem_eq(p.raw, kvc_sqe_bytes(&sqe) + 24, 16);
	sqe.flags = 0xc0;
	fw_dptr_from_sqe(&p, &sqe, 0);
	ck_assert_uint_eq(p.psdt, 3);
}
END_TEST

START_TEST(sgls_advertised)
{
	ck_assert_uint_eq(fw_dma_sgls(&hif), 0x1u | 1u << 16 | 1u << 18 | 1u << 19);
	fabric();
	ck_assert_uint_eq(fw_dma_sgls(&hif),
			  0x1u | 1u << 16 | 1u << 18 | 1u << 19 | 1u << 20 | 1u << 21);
}
END_TEST

/* One Data Block: exact bytes, byte-aligned address, both directions. */
START_TEST(data_block_exact_bytes)
{
	uint8_t buf[200];
	struct fw_dptr p = dptr(0x20000, 100, DB, 0);

	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 100), 0);
	ck_assert_mem_eq(buf, mem + 0x20000, 100);
	/* One MRd up, one CplD of 100 bytes down; nothing fetched as a list. */
	ck_assert_uint_eq(up(FW_PK_DATA), 24);
	ck_assert_uint_eq(down(FW_PK_DATA), 20 + 100);
	ck_assert_uint_eq(up(FW_PK_PRP_LIST) + down(FW_PK_PRP_LIST), 0);
	ck_assert_uint_gt(d.data_ns, 0);

	/* Page granularity shapes PRP transfers only: still exact bytes. */
	d.gran = FW_DMA_PAGE;
	memset(&pcie.kind, 0, sizeof(pcie.kind));
	memset(buf, 0x5a, sizeof(buf));
	p = dptr(0x30003, 7, DB, 0); /* odd address and length: byte granular */
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 4096, 7), 0);
	ck_assert_mem_eq(mem + 0x30003, buf, 7);
	ck_assert_uint_ne(mem[0x30002], 0x5a);
	ck_assert_uint_ne(mem[0x3000a], 0x5a);
	ck_assert_uint_eq(up(FW_PK_DATA), 24 + 7);
	ck_assert_uint_eq(down(FW_PK_DATA), 0);

	/* PSDT 10b: the same SGL for data; MPTR (no metadata) is not used. */
	p = dptr(0x20000, 100, DB, 0);
	p.psdt = KVC_PSDT_SGL_MSGL;
	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 100), 0);
	ck_assert_mem_eq(buf, mem + 0x20000, 100);
}
END_TEST

START_TEST(psdt_reserved_is_invalid_field)
{
	uint8_t buf[16];
	struct fw_dptr p = dptr(0x20000, 16, DB, 0);

	p.psdt = 3;
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 16, 16), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(up(FW_PK_DATA) + down(FW_PK_DATA), 0);
}
END_TEST

/* SGL1 Segment -> Segment -> Last Segment, data scattered in reverse order. */
START_TEST(chained_segments)
{
	uint64_t s1 = 0x100000, s2 = 0x100800, s3 = 0x101000;
	uint8_t buf[64], want[64];

	put(s1, 0, 0x40000, 10, DB);
	put(s1, 1, s2, 32, SEG);
	put(s2, 0, 0x30000, 20, DB);
	put(s2, 1, s3, 32, LAST);
	put(s3, 0, 0x20000, 4, DB);
	put(s3, 1, 0x10007, 30, DB);
	memcpy(want, mem + 0x40000, 10);
	memcpy(want + 10, mem + 0x30000, 20);
	memcpy(want + 30, mem + 0x20000, 4);
	memcpy(want + 34, mem + 0x10007, 30);

	struct fw_dptr p = dptr(s1, 32, SEG, 0);

	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), 0);
	ck_assert_mem_eq(buf, want, 64);
	/* Three segment fetches of 32 bytes: MRd 24 + CplD 52 each. */
	ck_assert_uint_eq(up(FW_PK_PRP_LIST), 3 * 24);
	ck_assert_uint_eq(down(FW_PK_PRP_LIST), 3 * 52);
	ck_assert_uint_eq(pcie.kind[FW_PK_PRP_LIST].tlps[KVC_PCIE_UP], 3);
	/* Four data blocks: four MRd, 64 payload bytes in four CplD. */
	ck_assert_uint_eq(up(FW_PK_DATA), 4 * 24);
	ck_assert_uint_eq(down(FW_PK_DATA), 4 * 20 + 64);

	/* SGL1 may itself be a Last Segment. */
	p = dptr(s3, 32, LAST, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 34), 0);
	ck_assert_mem_eq(buf, want + 30, 34);

	/* The same SGL, device to host. */
	p = dptr(s1, 32, SEG, 0);
	memset(&pcie.kind, 0, sizeof(pcie.kind));
	memset(buf, 0xe1, sizeof(buf));
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 64, 64), 0);
	ck_assert_uint_eq(mem[0x40000], 0xe1);
	ck_assert_uint_eq(mem[0x10007 + 29], 0xe1);
	ck_assert_uint_ne(mem[0x10007 + 30], 0xe1);
	ck_assert_uint_eq(up(FW_PK_DATA), 4 * 24 + 64);
}
END_TEST

/* A segment longer than one fetch chunk (256 descriptors) is read in parts. */
START_TEST(long_segment)
{
	uint64_t seg = 0x200000;
	uint32_t i, n = 300;
	uint8_t *buf = malloc(n * 3), *want = malloc(n * 3);

	for (i = 0; i < n; i++) {
		put(seg, i, 0x300000 + 4096 * (uint64_t)(n - i), 3, DB);
		memcpy(want + 3 * i, mem + 0x300000 + 4096 * (uint64_t)(n - i), 3);
	}
	struct fw_dptr p = dptr(seg, 16 * n, LAST, 0);

	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 3 * n), 0);
	ck_assert_mem_eq(buf, want, 3 * n);
	ck_assert_uint_eq(pcie.kind[FW_PK_DATA].tlps[KVC_PCIE_UP], n);
	free(buf);
	free(want);
}
END_TEST

START_TEST(bit_bucket_on_reads)
{
	uint64_t seg = 0x100000;
	uint8_t buf[25];
	uint32_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0x80 + i);
	memset(mem + 0x50000, 0, 64);
	memset(mem + 0x60000, 0, 64);
	put(seg, 0, 0x50000, 10, DB);
	put(seg, 1, 0x55555, 5, BB); /* address reserved: never touched */
	put(seg, 2, 0x60000, 10, DB);
	struct fw_dptr p = dptr(seg, 48, LAST, 0);

	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 25, 25), 0);
	ck_assert_mem_eq(mem + 0x50000, buf, 10);
	ck_assert_mem_eq(mem + 0x60000, buf + 15, 10);
	ck_assert_uint_eq(mem[0x5000a], 0);
	ck_assert_uint_eq(mem[0x6000a], 0);
	/* The 5 discarded bytes never cross the link. */
	ck_assert_uint_eq(up(FW_PK_DATA), 2 * (24 + 10));

	/* A Bit Bucket in a host-to-device transfer is an error. */
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 25), ST(KVC_SC_SGL_DESC_TYPE));
	p = dptr(0, 25, BB, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 25), ST(KVC_SC_SGL_DESC_TYPE));
	/* SGL1 a Bit Bucket: the whole transfer discarded. */
	memset(&pcie.kind, 0, sizeof(pcie.kind));
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 25, 25), 0);
	ck_assert_uint_eq(up(FW_PK_DATA), 0);
	/* Too short a Bit Bucket is too short an SGL. */
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 26, 26), ST(KVC_SC_DATA_SGL_LEN));
	/* Bit Bucket sub types other than 0h are not defined. */
	p = dptr(0, 25, BB, 1);
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 25, 25), ST(KVC_SC_SGL_DESC_TYPE));
}
END_TEST

START_TEST(length_rules)
{
	uint64_t seg = 0x100000;
	uint8_t buf[300];
	struct fw_dptr p = dptr(0x20000, 99, DB, 0);

	/* Too short: one byte missing. */
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 100), ST(KVC_SC_DATA_SGL_LEN));
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 100, 100), ST(KVC_SC_DATA_SGL_LEN));
	/* Longer than the transfer: accepted (SGLS bit 18), only 100 bytes move. */
	p = dptr(0x20000, 300, DB, 0);
	memset(&pcie.kind, 0, sizeof(pcie.kind));
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 100), 0);
	ck_assert_uint_eq(down(FW_PK_DATA), 20 + 100);
	/* ... and descriptors after the last byte needed are never examined. */
	put(seg, 0, 0x20000, 100, DB);
	put(seg, 1, 0, 0, KVC_SGL_KEYED_DATA_BLOCK);
	p = dptr(seg, 32, LAST, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 100), 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 101), ST(KVC_SC_SGL_DESC_TYPE));
	/* A chain that ends early. */
	put(seg, 1, 0x30000, 50, DB);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 151), ST(KVC_SC_DATA_SGL_LEN));
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 150), 0);
	/* Zero-length Data Blocks are allowed and move nothing. */
	put(seg, 0, 0x7fffffffffffull, 0, DB);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 50), 0);
	ck_assert_mem_eq(buf, mem + 0x30000, 50);
	/* A zero-byte transfer reads nothing but still checks SGL1's type. */
	p = dptr(0x20000, 0, DB, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 0), 0);
	p = dptr(0x20000, 0, KVC_SGL_KEYED_DATA_BLOCK, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 0), ST(KVC_SC_SGL_DESC_TYPE));
}
END_TEST

START_TEST(unsupported_types_and_subtypes)
{
	static const uint8_t types[] = { KVC_SGL_KEYED_DATA_BLOCK, 6, 7, 0xe, 0xf };
	uint8_t buf[16];
	uint64_t seg = 0x100000;
	unsigned int i;

	for (i = 0; i < sizeof(types); i++) {
		struct fw_dptr p = dptr(0x20000, 16, types[i], 0);

		ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_SGL_DESC_TYPE));
		/* ... also inside a segment. */
		put(seg, 0, 0x20000, 16, types[i]);
		p = dptr(seg, 16, LAST, 0);
		ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 16, 16), ST(KVC_SC_SGL_DESC_TYPE));
	}
	/* Data Block sub types other than Address / Offset; Segment likewise. */
	struct fw_dptr p = dptr(0x20000, 16, DB, 2);

	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_SGL_DESC_TYPE));
	p = dptr(0x20000, 16, DB, 0xa);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_SGL_DESC_TYPE));
	put(seg, 0, 0x20000, 16, DB);
	p = dptr(seg, 16, LAST, 2);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_SGL_DESC_TYPE));
}
END_TEST

START_TEST(segment_rules)
{
	uint64_t s1 = 0x100000, s2 = 0x101000;
	uint8_t buf[64];
	struct fw_dptr p;

	put(s2, 0, 0x20000, 64, DB);
	/* Zero length, and a length that is not a multiple of 16. */
	p = dptr(s2, 0, LAST, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), ST(KVC_SC_INVALID_SGL_SEG));
	p = dptr(s2, 24, LAST, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), ST(KVC_SC_INVALID_SGL_SEG));
	p = dptr(s2, 16, SEG, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), 0);
	/* A segment address that is not qword aligned. */
	memmove(mem + s2 + 4, mem + s2, 16);
	p = dptr(s2 + 4, 16, LAST, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), ST(KVC_SC_INVALID_SGL_SEG));
	put(s2, 0, 0x20000, 64, DB);
	/* A chained segment of zero length. */
	put(s1, 0, 0x30000, 8, DB);
	put(s1, 1, s2, 0, LAST);
	p = dptr(s1, 32, SEG, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), ST(KVC_SC_INVALID_SGL_SEG));
	/* A Segment descriptor that is not the last of its segment. */
	put(s1, 0, s2, 16, LAST);
	put(s1, 1, 0x30000, 8, DB);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), ST(KVC_SC_INVALID_SGL_SEG));
	/* A (Last) Segment descriptor inside a last segment. */
	put(s1, 0, 0x30000, 8, DB);
	put(s1, 1, s2, 16, LAST);
	p = dptr(s1, 32, LAST, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), ST(KVC_SC_INVALID_SGL_SEG));
	put(s1, 1, s2, 16, SEG);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), ST(KVC_SC_INVALID_SGL_SEG));
	/* The same chain under a Segment is fine. */
	p = dptr(s1, 32, SEG, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), 0);
	ck_assert_mem_eq(buf, mem + 0x30000, 8);
	ck_assert_mem_eq(buf + 8, mem + 0x20000, 56);
}
END_TEST

/* Chains that loop end with an error after a bounded walk, never hang. */
START_TEST(loops_end_in_an_error)
{
	uint64_t s1 = 0x100000, s2 = 0x101000;
	uint8_t buf[64];
	struct fw_dptr p;

	/* A segment whose only descriptor points back at itself. */
	put(s1, 0, s1, 16, SEG);
	p = dptr(s1, 16, SEG, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), ST(KVC_SC_INVALID_NUM_SGL));
	ck_assert_uint_eq(pcie.kind[FW_PK_PRP_LIST].tlps[KVC_PCIE_UP], FW_SGL_MAX_DESCS);
	/* Two segments pointing at each other, with zero-length data blocks. */
	put(s1, 0, 0x20000, 0, DB);
	put(s1, 1, s2, 32, SEG);
	put(s2, 0, 0x20000, 0, DB);
	put(s2, 1, s1, 32, SEG);
	p = dptr(s1, 32, SEG, 0);
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 64, 64), ST(KVC_SC_INVALID_NUM_SGL));
	/* A loop that carries data ends when the transfer is complete. */
	put(s1, 0, 0x20000, 8, DB);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), 0);
	ck_assert_mem_eq(buf + 56, mem + 0x20000, 8);
}
END_TEST

START_TEST(outside_host_memory)
{
	uint64_t seg = 0x100000;
	uint8_t buf[64];
	struct fw_dptr p;

	p = dptr(MEM - 10, 11, DB, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 11), ST(KVC_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 11, 11), ST(KVC_SC_DATA_XFER_ERROR));
	p = dptr(MEM - 10, 10, DB, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 10), 0);
	/* Address + length wraps around 2^64. */
	p = dptr(UINT64_MAX - 3, 16, DB, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_DATA_XFER_ERROR));
	/* A segment outside, or running past the end of, host memory. */
	p = dptr(MEM + 4096, 16, SEG, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_DATA_XFER_ERROR));
	put(MEM - 16, 0, 0x20000, 16, DB);
	p = dptr(MEM - 16, 32, LAST, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_DATA_XFER_ERROR));
	/* A chain whose next segment is outside. */
	put(seg, 0, 0x20000, 8, DB);
	put(seg, 1, 0x4000000000ull, 16, LAST);
	p = dptr(seg, 32, SEG, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_DATA_XFER_ERROR));
}
END_TEST

/* Without the transport's callbacks (the PCIe transport) the fabric forms are
 * descriptor types we do not support. */
START_TEST(fabric_forms_without_transport)
{
	uint8_t buf[16];
	uint64_t seg = 0x100000;
	struct fw_dptr p = dptr(0, 16, DB, KVC_SGL_SUB_OFFSET);

	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_SGL_DESC_TYPE));
	p = dptr(0, 16, KVC_SGL_TRANSPORT_DATA_BLOCK, KVC_SGL_SUB_TRANSPORT);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_SGL_DESC_TYPE));
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 16, 16), ST(KVC_SC_SGL_DESC_TYPE));
	p = dptr(0, 16, LAST, KVC_SGL_SUB_OFFSET);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_SGL_DESC_TYPE));
	put(seg, 0, 0, 16, KVC_SGL_TRANSPORT_DATA_BLOCK);
	mem[seg + 15] |= KVC_SGL_SUB_TRANSPORT;
	p = dptr(seg, 16, LAST, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_SGL_DESC_TYPE));
	ck_assert_uint_eq(xlast.calls, 0);
}
END_TEST

START_TEST(in_capsule_offsets)
{
	uint8_t buf[64];
	struct fw_dptr p = dptr(8, 20, DB, KVC_SGL_SUB_OFFSET);

	fabric();
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 20), 0);
	ck_assert_mem_eq(buf, icd + 8, 20);
	ck_assert_uint_eq(xlast.sqid, 3);
	ck_assert_uint_eq(xlast.cid, 0x1234);
	/* Charged as if it had crossed the link: one MRd, one CplD of 20 bytes. */
	ck_assert_uint_eq(up(FW_PK_DATA), 24);
	ck_assert_uint_eq(down(FW_PK_DATA), 20 + 20);
	/* The whole capsule, and one byte too many. */
	p = dptr(0, 64, DB, KVC_SGL_SUB_OFFSET);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 64), 0);
	p = dptr(60, 10, DB, KVC_SGL_SUB_OFFSET);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 10), ST(KVC_SC_DATA_SGL_LEN));
	p = dptr(65, 1, DB, KVC_SGL_SUB_OFFSET);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 1), ST(KVC_SC_INVALID_SGL_OFFSET));
	/* In-capsule data only carries host-to-device data. */
	p = dptr(0, 16, DB, KVC_SGL_SUB_OFFSET);
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 16, 16), ST(KVC_SC_SGL_DESC_TYPE));
	/* A capsule without data. */
	icd_len = 0;
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 16), ST(KVC_SC_DATA_SGL_LEN));
}
END_TEST

/* A Last Segment that lives in the capsule, naming capsule data and host memory. */
START_TEST(in_capsule_segment)
{
	uint8_t buf[64], want[64];
	struct fw_dptr p;

	fabric();
	icd_len = 128;
	desc_at(icd + 0, 96, 10, DB, KVC_SGL_SUB_OFFSET);
	desc_at(icd + 16, 0x20000, 30, DB, 0);
	memcpy(want, icd + 96, 10);
	memcpy(want + 10, mem + 0x20000, 30);
	p = dptr(0, 32, LAST, KVC_SGL_SUB_OFFSET);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 40), 0);
	ck_assert_mem_eq(buf, want, 40);
	ck_assert_uint_eq(up(FW_PK_PRP_LIST), 24);
	ck_assert_uint_eq(down(FW_PK_PRP_LIST), 20 + 32);
	/* A segment reaching past the capsule, or starting beyond it. */
	p = dptr(112, 32, LAST, KVC_SGL_SUB_OFFSET);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 40), ST(KVC_SC_DATA_SGL_LEN));
	p = dptr(144, 16, LAST, KVC_SGL_SUB_OFFSET);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 40), ST(KVC_SC_INVALID_SGL_OFFSET));
}
END_TEST

START_TEST(transport_data_blocks)
{
	static uint8_t big[8194];
	uint64_t seg = 0x100000;
	uint8_t buf[64];
	struct fw_dptr p = dptr(0, 40, KVC_SGL_TRANSPORT_DATA_BLOCK, KVC_SGL_SUB_TRANSPORT);

	fabric();
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 40), 0);
	ck_assert_mem_eq(buf, stream, 40);
	ck_assert_uint_eq(xlast.off, 0);
	ck_assert_uint_eq(xlast.len, 40);
	ck_assert_uint_eq(xlast.sqid, 3);
	ck_assert_uint_eq(xlast.cid, 0x1234);
	/* After a host-memory block the transport is asked for the stream's
	 * bytes from that offset on, in both directions. */
	put(seg, 0, 0x20000, 10, DB);
	desc_at(mem + seg + 16, 0, 30, KVC_SGL_TRANSPORT_DATA_BLOCK, KVC_SGL_SUB_TRANSPORT);
	p = dptr(seg, 32, LAST, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 40), 0);
	ck_assert_mem_eq(buf, mem + 0x20000, 10);
	ck_assert_mem_eq(buf + 10, stream + 10, 30);
	ck_assert_uint_eq(xlast.off, 10);
	ck_assert_uint_eq(xlast.len, 30);
	memset(buf, 0x3c, sizeof(buf));
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, buf, 40, 40), 0);
	ck_assert_uint_eq(stream[10], 0x3c);
	ck_assert_uint_eq(stream[39], 0x3c);
	ck_assert_uint_ne(stream[40], 0x3c);
	/* A transport failure is a data transfer error; other sub types are invalid. */
	p = dptr(0, 8192 + 1, KVC_SGL_TRANSPORT_DATA_BLOCK, KVC_SGL_SUB_TRANSPORT);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 1), 0);
	hif.xport_read = NULL; /* a transport with only half the pair supports neither */
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 1), ST(KVC_SC_SGL_DESC_TYPE));
	hif.xport_read = xrd;
	desc_at(mem + seg, 0, 8190, BB, 0);
	desc_at(mem + seg + 16, 0, 4, KVC_SGL_TRANSPORT_DATA_BLOCK, KVC_SGL_SUB_TRANSPORT);
	p = dptr(seg, 32, LAST, 0);
	ck_assert_uint_eq(fw_dma_write_dptr(&d, &p, big, 8194, 8194), ST(KVC_SC_DATA_XFER_ERROR));
	p = dptr(0, 8, KVC_SGL_TRANSPORT_DATA_BLOCK, 0);
	ck_assert_uint_eq(fw_dma_read_dptr(&d, &p, buf, 8), ST(KVC_SC_SGL_DESC_TYPE));
}
END_TEST

static Suite *sgl_suite(void)
{
	Suite *s = suite_create("firmware/sgl");
	TCase *tc = tcase_create("sgl");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, descriptor_golden_bytes);
	tcase_add_test(tc, dptr_from_sqe);
	tcase_add_test(tc, sgls_advertised);
	tcase_add_test(tc, data_block_exact_bytes);
	tcase_add_test(tc, psdt_reserved_is_invalid_field);
	tcase_add_test(tc, chained_segments);
	tcase_add_test(tc, long_segment);
	tcase_add_test(tc, bit_bucket_on_reads);
	tcase_add_test(tc, length_rules);
	tcase_add_test(tc, unsupported_types_and_subtypes);
	tcase_add_test(tc, segment_rules);
	tcase_add_test(tc, loops_end_in_an_error);
	tcase_add_test(tc, outside_host_memory);
	tcase_add_test(tc, fabric_forms_without_transport);
	tcase_add_test(tc, in_capsule_offsets);
	tcase_add_test(tc, in_capsule_segment);
	tcase_add_test(tc, transport_data_blocks);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(sgl_suite)
