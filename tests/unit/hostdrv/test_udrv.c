// SPDX-License-Identifier: MIT
/* User-space driver internals: PRP lists, the arena, argument checks. */
#include <errno.h>

#include "check_main.h"
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

static struct nvkv_dev dev;
static struct nvkv_queue q;

static void setup(void)
{
	memset(&dev, 0, sizeof(dev));
	memset(&q, 0, sizeof(q));
	dev.t.mem_size = 8u << 20;
	dev.t.mem = calloc(1, dev.t.mem_size);
	q.d = &dev;
	q.arena = 1u << 20;
	q.npages = 1024;
	q.page_used = calloc(q.npages, 1);
}

static void teardown(void)
{
	free(dev.t.mem);
	free(q.page_used);
}

/* Walk PRPs as the spec says, returning the address of data byte @off. */
static uint64_t prp_addr(uint64_t prp1, uint64_t prp2, uint32_t len, uint32_t off)
{
	uint32_t page = off / NVKV_PAGE, dp = nvkv_pages_for(len);
	uint64_t list = prp2;

	if (page == 0)
		return prp1 + off;
	if (dp == 2)
		return prp2 + off % NVKV_PAGE;
	page--; /* index among list entries */
	while (page >= NVKV_PAGE / 8 - 1 && dp - 1 > NVKV_PAGE / 8) {
		list = kvc_get_le64(dev.t.mem + list + 8 * (NVKV_PAGE / 8 - 1));
		page -= NVKV_PAGE / 8 - 1;
		dp -= NVKV_PAGE / 8 - 1;
	}
	return kvc_get_le64(dev.t.mem + list + 8 * page) + off % NVKV_PAGE;
}

START_TEST(prp_lists_address_every_page)
{
	static const uint32_t lens[] = { 1,    4096,	   4097,	   8192,
					 8193, 512 * 4096, 513 * 4096 + 5, 700 * 4096 };
	unsigned int i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t dp = nvkv_pages_for(lens[i]), n = dp + nvkv_list_pages_for(dp), first, off;
		uint64_t p1, p2;

		first = arena_alloc(&q, n);
		ck_assert_uint_ne(first, NO_PAGE);
		build_prps(&q, first, lens[i], &p1, &p2);
		for (off = 0; off < lens[i]; off += 4096)
			ck_assert_uint_eq(prp_addr(p1, p2, lens[i], off),
					  page_addr(&q, first) + off);
		ck_assert_uint_eq(prp_addr(p1, p2, lens[i], lens[i] - 1),
				  page_addr(&q, first) + lens[i] - 1);
		arena_free(&q, first, n);
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

START_TEST(arguments_rejected_before_sending)
{
	/* No transport behind this device: any call that sent would crash. */
	struct nvkv_dev *d = calloc(1, sizeof(*d));

	d->info.max_value = 100;
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
	tcase_add_test(tc, arguments_rejected_before_sending);
	tcase_add_test(tc, strerror_both_kinds);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(udrv_suite)
