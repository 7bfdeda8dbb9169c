// SPDX-License-Identifier: MIT
/*
 * The shared-memory transport's host memory: huge pages when the machine has
 * them reserved, ordinary pages otherwise, sealed against resizing either way
 * (the emulator refuses anything else).  Connecting to an emulator is covered
 * by the integration tests.
 */
#include <errno.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "check_main.h"
#include "hostdrv/shm.c"

static struct nvkv_shm t;

static void setup(void)
{
	memset(&t, 0, sizeof(t));
	t.sock = t.memfd = t.wake_fd = t.irq_fd = -1;
}

static void teardown(void)
{
	shm_disconnect(&t);
}

/* The memory both sides map: writable, sized, sealed as the emulator wants. */
static void check_memory(size_t size)
{
	struct stat st;
	int seals = fcntl(t.memfd, F_GET_SEALS);

	ck_assert_int_ge(t.memfd, 0);
	ck_assert_ptr_nonnull(t.t.mem);
	ck_assert_uint_eq(t.t.mem_size, size);
	ck_assert_int_eq(fstat(t.memfd, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)size);
	ck_assert(seals & F_SEAL_SHRINK);
	ck_assert(seals & F_SEAL_GROW);
	t.t.mem[0] = 0x5a;
	t.t.mem[size - 1] = 0xa5;
	ck_assert_int_eq(t.t.mem[0] + t.t.mem[size - 1], 0x5a + 0xa5);
}

START_TEST(host_memory_huge_pages_or_nothing)
{
	size_t size = 2 * HUGE_PAGE;
	struct statfs fs;
	int rc = map_host_mem(&t, size, true);

	if (rc) {
		/* No pool (nr_hugepages 0): nothing is left behind to close. */
		ck_assert_int_lt(rc, 0);
		ck_assert_int_eq(t.memfd, -1);
		ck_assert_ptr_null(t.t.mem);
		ck_assert(!t.huge);
		return;
	}
	check_memory(size);
	ck_assert(t.huge);
	ck_assert_int_eq(fstatfs(t.memfd, &fs), 0);
	ck_assert_int_eq(fs.f_type, HUGETLBFS_MAGIC);
}
END_TEST

START_TEST(host_memory_ordinary_pages)
{
	size_t size = (4u << 20) + NVKV_PAGE; /* not a huge-page multiple: never huge */

	ck_assert_int_eq(map_host_mem(&t, size, false), 0);
	check_memory(size);
	ck_assert(!t.huge);
}
END_TEST

static Suite *shm_suite(void)
{
	Suite *s = suite_create("hostdrv/shm");
	TCase *tc = tcase_create("host memory");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, host_memory_huge_pages_or_nothing);
	tcase_add_test(tc, host_memory_ordinary_pages);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(shm_suite)
