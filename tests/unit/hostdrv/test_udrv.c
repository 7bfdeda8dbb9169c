// SPDX-License-Identifier: MIT
/*
 * User-space driver internals: PRP lists (checked with the firmware's own PRP
 * walker, the device side of the contract), the arena, argument checks.
 */
#include <errno.h>

#include "check_main.h"
#include "firmware/dma.h"
#include "firmware/pcie.h"
#include "hostdrv/udrv.c"

START_TEST(list_pages)
{
	ck_assert_uint_eq(nvkv_list_pages_for(1), 0);
	ck_assert_uint_eq(nvkv_list_pages_for(2), 0); /* PRP2 is the page */
	ck_assert_uint_eq(nvkv_list_pages_for(3), 1);
	ck_assert_uint_eq(nvkv_list_pages_for(513), 1); /* 512 entries fill one page */
	ck_assert_uint_eq(nvkv_list_pages_for(1025), 3);
	ck_assert_uint_eq(nvkv_list_pages_for(514), 2);	 /* 513 entries: chain */
	ck_assert_uint_eq(nvkv_list_pages_for(1024), 2); /* 511 + chain, then 512 */
}
END_TEST

static struct nvkv_transport tp; /* host memory only: no device behind it */
static struct nvkv_dev dev;
static struct nvkv_queue q;

static void setup(void)
{
	memset(&dev, 0, sizeof(dev));
	memset(&q, 0, sizeof(q));
	memset(&tp, 0, sizeof(tp));
	dev.t = &tp;
	dev.t->mem_size = 8u << 20;
	dev.t->mem = calloc(1, dev.t->mem_size);
	q.d = &dev;
	q.arena = 1u << 20;
	q.npages = 1024;
	q.page_used = calloc(q.npages, 1);
}

static void teardown(void)
{
	free(dev.t->mem);
	free(q.page_used);
}

/* The firmware's DMA engine on the driver's host memory. */
static int mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr > dev.t->mem_size || len > dev.t->mem_size - addr)
		return -EFAULT;
	memcpy(buf, dev.t->mem + addr, len);
	return 0;
}

static int mem_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	(void)ctx;
	if (addr > dev.t->mem_size || len > dev.t->mem_size - addr)
		return -EFAULT;
	memcpy(dev.t->mem + addr, buf, len);
	return 0;
}

static void fw_engine(struct fw_dma *d, struct fw_pcie *pcie, struct fw_host_if *hif)
{
	struct kvc_pcie_link c = { .gen = 3, .lanes = 4, .mps = 256, .mrrs = 512, .rcb = 64 };

	fw_pcie_init(pcie, &c);
	*hif = (struct fw_host_if){ .dma_read = mem_read, .dma_write = mem_write };
	*d = (struct fw_dma){ .hif = hif, .pcie = pcie, .gran = FW_DMA_EXACT };
}

/* Every dword of the data pages holds its own byte offset in the buffer, so
 * a page out of place or missing shows in the bytes the walker gathers. */
static void mark_pages(uint64_t base, uint32_t len)
{
	uint32_t off;

	memset(dev.t->mem + base, 0, (len + NVKV_PAGE - 1) / NVKV_PAGE * NVKV_PAGE);
	for (off = 0; off + 4 <= len; off += 4)
		kvc_put_le32(dev.t->mem + base + off, off ^ 0x5a5a5a5au);
}

START_TEST(prp_lists_address_every_page)
{
	/* 513 pages: 512 list entries fill one list page exactly, no chain. */
	static const uint32_t lens[] = { 1,	     4096,	 4097,		 8192,	    8193,
					 512 * 4096, 513 * 4096, 513 * 4096 + 5, 700 * 4096 };
	struct fw_host_if hif;
	struct fw_pcie pcie;
	struct fw_dma d;
	unsigned int i;

	fw_engine(&d, &pcie, &hif);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t dp = nvkv_pages_for(lens[i]), n = dp + nvkv_list_pages_for(dp), first;
		uint8_t *got = malloc(lens[i]), *want = malloc(lens[i]);
		uint8_t *area = malloc((size_t)n * NVKV_PAGE);
		uint64_t p1, p2;

		first = arena_alloc(&q, n);
		ck_assert_uint_ne(first, NO_PAGE);
		build_prps(&q, first, lens[i], &p1, &p2);
		/* The device gathers exactly the buffer the host meant... */
		mark_pages(page_addr(&q, first), lens[i]);
		memcpy(want, dev.t->mem + page_addr(&q, first), lens[i]);
		memset(got, 0xee, lens[i]);
		ck_assert_uint_eq(fw_dma_read_prp(&d, p1, p2, got, lens[i]), 0);
		ck_assert_mem_eq(got, want, lens[i]);
		/* ...and scatters into it, nowhere else (PRP list pages intact). */
		memset(dev.t->mem + page_addr(&q, first), 0, lens[i]);
		memcpy(area, dev.t->mem + page_addr(&q, first), (size_t)n * NVKV_PAGE);
		memcpy(area, want, lens[i]);
		ck_assert_uint_eq(fw_dma_write_prp(&d, p1, p2, want, lens[i], lens[i]), 0);
		ck_assert_mem_eq(dev.t->mem + page_addr(&q, first), area, (size_t)n * NVKV_PAGE);
		arena_free(&q, first, n);
		free(area);
		free(got);
		free(want);
	}
}
END_TEST

START_TEST(arena_first_fit_and_exhaustion)
{
	uint32_t a = arena_alloc(&q, 1000), b, c;

	ck_assert_uint_ne(a, NO_PAGE);
	ck_assert_uint_eq(arena_alloc(&q, 100), NO_PAGE); /* only 24 pages left */
	b = arena_alloc(&q, 24);
	ck_assert_uint_ne(b, NO_PAGE);
	arena_free(&q, a, 1000);
	c = arena_alloc(&q, 1000);
	ck_assert_uint_eq(c, a);
	ck_assert_uint_eq(arena_alloc(&q, 0), NO_PAGE);
}
END_TEST

/* A free run of @n pages anywhere (runs do not wrap), by brute force. */
static bool any_run(uint32_t n)
{
	uint32_t p, run = 0;

	for (p = 0; p < q.npages; p++) {
		run = q.page_used[p] ? 0 : run + 1;
		if (run >= n)
			return true;
	}
	return false;
}

/*
 * Random allocations and frees, as out of order as completions: every run
 * handed out lies inside the arena on free pages, and a refusal means no
 * free run of that size exists.
 */
START_TEST(arena_random_model)
{
	static uint32_t first[64], len[64];
	uint32_t i, k, p, refused = 0;

	srand(5);
	memset(len, 0, sizeof(len));
	q.npages = 150; /* small: refusals happen, at every fill level */
	for (i = 0; i < 10000; i++) {
		k = (uint32_t)rand() % 64;
		if (len[k]) {
			for (p = first[k]; p < first[k] + len[k]; p++)
				ck_assert_uint_eq(q.page_used[p], 1);
			arena_free(&q, first[k], len[k]);
			len[k] = 0;
			continue;
		}
		len[k] = 1 + (uint32_t)(rand() % 4 ? rand() % 4 : rand() % 40);
		{
			bool fits = any_run(len[k]);

			first[k] = arena_alloc(&q, len[k]);
			ck_assert_msg((first[k] != NO_PAGE) == fits, "run of %u: %s", len[k],
				      fits ? "refused though free" : "granted though none free");
		}
		if (first[k] == NO_PAGE) {
			len[k] = 0;
			refused++;
			continue;
		}
		ck_assert_uint_le(first[k] + len[k], q.npages);
		for (p = 0; p < 64; p++) /* no overlap with the runs held */
			if (p != k && len[p])
				ck_assert(first[k] + len[k] <= first[p] ||
					  first[p] + len[p] <= first[k]);
	}
	ck_assert_uint_gt(refused, 50);
}
END_TEST

START_TEST(arguments_rejected_before_sending)
{
	/* No transport behind this device: any call that sent would crash. */
	struct nvkv_dev *d = calloc(1, sizeof(*d));

	d->info.max_value = 100;
	d->kv_nsid = 1; /* a device with a KV namespace */
	ck_assert_int_eq(nvkv_store(d, "", 0, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(nvkv_store(d, "k", 17, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(nvkv_store(d, NULL, 1, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(nvkv_store(d, "k", 1, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 101, 0), -EMSGSIZE);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, NVKV_F_XFER(NVKV_XFER_NUM)), -EINVAL);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, 0x10000), -EINVAL);
	ck_assert_int_eq(
		nvkv_store(d, "k", 1, "v", 1, NVKV_STORE_MUST_EXIST | NVKV_STORE_MUST_NOT_EXIST),
		-EINVAL);
	ck_assert_int_eq(nvkv_retrieve(d, "k", 1, NULL, 5, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_delete(d, "k", 0), -EINVAL);
	ck_assert_int_eq(nvkv_exist(d, NULL, 1), -EINVAL);
	ck_assert_int_eq(nvkv_iter_open(d, "k", 17, NULL), -EINVAL);
	/* Without a KV namespace (a block-only device) a well-formed Store is refused. */
	d->kv_nsid = 0;
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 101, 0), -ENXIO);
	ck_assert_int_eq(nvkv_store(d, "", 0, "v", 1, 0), -EINVAL);
	free(d);
}
END_TEST

START_TEST(kernel_sq_refuses_byteexpress_and_sgl)
{
	/* Through the kernel (io_uring passthrough) the SQ and DPTR are not ours:
	 * asked for by the request or as the device's default, refused unsent. */
	struct nvkv_dev *d = calloc(1, sizeof(*d));

	d->info.max_value = 100;
	d->kv_nsid = 1;
	d->kernel_sq = true;
	d->opts.xfer = NVKV_XFER_ADAPTIVE;
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, NVKV_F_XFER(NVKV_XFER_BYTEEXPRESS)),
			 -EOPNOTSUPP);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, NVKV_F_XFER(NVKV_XFER_SGL)), -EOPNOTSUPP);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 101, NVKV_F_XFER(NVKV_XFER_SGL)), -EMSGSIZE);
	d->opts.xfer = NVKV_XFER_BYTEEXPRESS;
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, 0), -EOPNOTSUPP);
	free(d);
}
END_TEST

START_TEST(strerror_both_kinds)
{
	ck_assert_str_eq(nvkv_strerror(0), "Success");
	ck_assert_str_eq(nvkv_strerror(NVKV_KEY_NOT_EXIST), "KEY DOES NOT EXIST (0x87)");
	ck_assert_str_eq(nvkv_strerror(NVKV_KEY_EXISTS), "KEY EXISTS (0x89)");
	ck_assert_str_eq(nvkv_strerror(-ENODEV), strerror(ENODEV));
	enum nvkv_xfer m;

	ck_assert_int_eq(nvkv_xfer_parse("byteexpress", &m), 0);
	ck_assert_int_eq(m, NVKV_XFER_BYTEEXPRESS);
	ck_assert_int_eq(nvkv_xfer_parse("default", &m), -EINVAL);
	ck_assert_int_eq(nvkv_xfer_parse("prp ", &m), -EINVAL);
	ck_assert_str_eq(nvkv_xfer_name(NVKV_XFER_ADAPTIVE_COST), "adaptive-cost");
}
END_TEST

static Suite *udrv_suite(void)
{
	Suite *s = suite_create("hostdrv/udrv");
	TCase *tc = tcase_create("udrv");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, list_pages);
	tcase_add_test(tc, prp_lists_address_every_page);
	tcase_add_test(tc, arena_first_fit_and_exhaustion);
	tcase_add_test(tc, arena_random_model);
	tcase_add_test(tc, arguments_rejected_before_sending);
	tcase_add_test(tc, kernel_sq_refuses_byteexpress_and_sgl);
	tcase_add_test(tc, strerror_both_kinds);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(udrv_suite)
