// SPDX-License-Identifier: MIT
/* PRP walker: entries, lists, chained list pages, rules, granularity. */
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

static void setup(void)
{
	struct kvc_pcie_link c = { .gen = 3, .lanes = 4, .mps = 256, .mrrs = 512, .rcb = 64 };
	uint32_t i;

	mem = malloc(MEM);
	for (i = 0; i < MEM; i++)
		mem[i] = (uint8_t)(i * 7 + (i >> 12));
	fw_pcie_init(&pcie, &c);
	hif = (struct fw_host_if){ .dma_read = rd, .dma_write = wr };
	d = (struct fw_dma){ .hif = &hif, .pcie = &pcie, .gran = FW_DMA_EXACT };
}

static void teardown(void)
{
	free(mem);
}

#define ST(sc) KVC_ST_GENERIC_DNR(sc)

static unsigned int pf_calls;
static uint64_t pf_addr;
static size_t pf_len;

static void pf(void *ctx, uint64_t a, size_t n)
{
	(void)ctx;
	pf_calls++;
	pf_addr = a;
	pf_len = n;
}

/* The hint names the first bytes the PRP write will touch: up to the end of
 * PRP1's page, at most 512; nothing for an SGL or without the hook. */
START_TEST(prefetch_out_names_the_first_bytes)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	kvc_sqe_set_prp(&sqe, 0x10000 + 4000, 0x20000);
	fw_dma_prefetch_out(&d, &sqe, 64); /* no hook */
	hif.dma_prefetch = pf;
	fw_dma_prefetch_out(&d, &sqe, 64);
	ck_assert_uint_eq(pf_calls, 1);
	ck_assert_uint_eq(pf_addr, 0x10000 + 4000);
	ck_assert_uint_eq(pf_len, 64);
	fw_dma_prefetch_out(&d, &sqe, 1000); /* 96 bytes left in the page */
	ck_assert_uint_eq(pf_len, 96);
	kvc_sqe_set_prp(&sqe, 0x10000, 0x20000);
	fw_dma_prefetch_out(&d, &sqe, 1000);
	ck_assert_uint_eq(pf_len, 512);
	fw_dma_prefetch_out(&d, &sqe, 0);
	ck_assert_uint_eq(pf_calls, 3);
	sqe.flags |= 1 << KVC_SQE_PSDT_SHIFT; /* SGL */
	fw_dma_prefetch_out(&d, &sqe, 64);
	ck_assert_uint_eq(pf_calls, 3);
}
END_TEST

START_TEST(one_and_two_pages)
{
	uint8_t buf[8192];

	ck_assert_uint_eq(fw_dma_read_prp(&d, 0x10010, 0, buf, 100), 0);
	ck_assert_mem_eq(buf, mem + 0x10010, 100);
	/* Crossing into a second page named by PRP2 (anywhere, page aligned). */
	ck_assert_uint_eq(fw_dma_read_prp(&d, 0x10f00, 0x30000, buf, 1000), 0);
	ck_assert_mem_eq(buf, mem + 0x10f00, 256);
	ck_assert_mem_eq(buf + 256, mem + 0x30000, 744);
	ck_assert_uint_eq(fw_dma_read_prp(&d, 0x10f00, 0x30010, buf, 1000),
			  ST(KVC_SC_INVALID_PRP_OFFSET));
	ck_assert_uint_eq(fw_dma_read_prp(&d, 0x10f01, 0, buf, 10), ST(KVC_SC_INVALID_PRP_OFFSET));
	ck_assert_uint_eq(fw_dma_read_prp(&d, MEM + 0x1000, 0, buf, 10),
			  ST(KVC_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(fw_dma_read_prp(&d, 0, 0, buf, 0), 0);
}
END_TEST

/* A transfer of 600 pages: the first list page holds 511 entries and a
 * pointer to a second list page. */
START_TEST(chained_lists)
{
	uint32_t pages = 600, i, len = pages * 4096 - 0x800;
	uint64_t list1 = 0x100000, list2 = 0x101000, data = 0x200000, off;
	uint8_t *buf = malloc(len), *want = malloc(len);

	/* Data page i (1..599) of the transfer lives at data + (600 - i) pages:
	 * reverse order, so only following the list gives the right bytes.
	 * List 1 holds pages 1..511 in its first 511 slots and the pointer to
	 * list 2 in its last; list 2 holds pages 512..599. */
	for (i = 1; i < pages; i++) {
		uint64_t page = data + (uint64_t)(pages - i) * 4096;

		if (i <= 511)
			kvc_put_le64(mem + list1 + 8 * (i - 1), page);
		else
			kvc_put_le64(mem + list2 + 8 * (i - 512), page);
	}
	kvc_put_le64(mem + list1 + 8 * 511, list2);
	memcpy(want, mem + 0x3ff800, 0x800);
	for (i = 1, off = 0x800; i < pages; i++, off += 4096)
		memcpy(want + off, mem + data + (uint64_t)(pages - i) * 4096,
		       len - off < 4096 ? len - off : 4096);
	ck_assert_uint_eq(fw_dma_read_prp(&d, 0x3ff800, list1, buf, len), 0);
	ck_assert_mem_eq(buf, want, len);
	ck_assert_uint_ge(pcie.kind[FW_PK_PRP_LIST].tlps[KVC_PCIE_UP], 2);
	/* A chain pointer with an offset is invalid. */
	kvc_put_le64(mem + list1 + 8 * 511, list2 + 8);
	ck_assert_uint_eq(fw_dma_read_prp(&d, 0x3ff800, list1, buf, len),
			  ST(KVC_SC_INVALID_PRP_OFFSET));
	free(buf);
	free(want);
}
END_TEST

START_TEST(page_granularity_charges_whole_pages)
{
	uint8_t buf[64];

	d.gran = FW_DMA_PAGE;
	ck_assert_uint_eq(fw_dma_read_prp(&d, 0x5000, 0, buf, 8), 0);
	/* 8 bytes move, but the link carries 4096: 8 MRd + 16 CplD. */
	ck_assert_uint_eq(pcie.kind[FW_PK_DATA].bytes[KVC_PCIE_UP], 8 * 24);
	ck_assert_uint_eq(pcie.kind[FW_PK_DATA].bytes[KVC_PCIE_DOWN], 16 * 276);
	d.gran = FW_DMA_EXACT;
	memset(&pcie.kind, 0, sizeof(pcie.kind));
	ck_assert_uint_eq(fw_dma_read_prp(&d, 0x5000, 0, buf, 8), 0);
	ck_assert_uint_eq(pcie.kind[FW_PK_DATA].bytes[KVC_PCIE_DOWN], 28);
	/* Writes to the host. */
	ck_assert_uint_eq(fw_dma_write_prp(&d, 0x6000, 0, "hello", 5, 5), 0);
	ck_assert_mem_eq(mem + 0x6000, "hello", 5);
	ck_assert_uint_eq(pcie.kind[FW_PK_DATA].bytes[KVC_PCIE_UP], 24 + 29); /* MRd + MWr */
}
END_TEST

/* Regression: a Retrieve of 4097 bytes into a 2 MiB buffer wrote its second
 * page to PRP2 itself instead of the page PRP2's list names.  The PRP layout
 * follows the buffer length, whatever the bytes moved. */
START_TEST(prp_layout_follows_buffer_length_regression)
{
	uint8_t src[4097];
	uint64_t list = 0x100000, page2 = 0x230000;

	memset(src, 0xab, sizeof(src));
	memset(mem + 0x220000, 0, 2 * 4096);
	memset(mem + list, 0, 8);
	kvc_put_le64(mem + list, page2);
	memset(mem + page2, 0, 4096);
	/* Buffer of 3 pages: PRP2 is a list. */
	ck_assert_uint_eq(fw_dma_write_prp(&d, 0x220000, list, src, 3 * 4096, 4097), 0);
	ck_assert_mem_eq(mem + 0x220000, src, 4096);
	ck_assert_uint_eq(mem[page2], 0xab);		    /* byte 4096 went through the list */
	ck_assert_uint_eq(kvc_get_le64(mem + list), page2); /* the list was not overwritten */
	/* Buffer of 2 pages: PRP2 is the second page itself. */
	ck_assert_uint_eq(fw_dma_write_prp(&d, 0x220000, 0x221000, src, 2 * 4096, 4097), 0);
	ck_assert_uint_eq(mem[0x221000], 0xab);
}
END_TEST

static Suite *dma_suite(void)
{
	Suite *s = suite_create("firmware/dma");
	TCase *tc = tcase_create("dma");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, one_and_two_pages);
	tcase_add_test(tc, chained_lists);
	tcase_add_test(tc, page_granularity_charges_whole_pages);
	tcase_add_test(tc, prp_layout_follows_buffer_length_regression);
	tcase_add_test(tc, prefetch_out_names_the_first_bytes);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(dma_suite)
