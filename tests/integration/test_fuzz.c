// SPDX-License-Identifier: MIT
/*
 * Garbage at full speed: one host sends random commands (random bytes, any
 * opcode, random PRPs, random data buffers) for 10 seconds on the I/O and
 * admin queues; the emulator must keep running, and another host's keys
 * must read back intact.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/cmdset.h"
#include "emu_proc.c"
#include "hostdrv/nvkv.h"

#define FUZZ_SECONDS 10
#define KEEP 300

static struct nvkv_dev *open_dev(const char *sock, const char *name)
{
	struct nvkv_opts o;
	struct nvkv_dev *d = NULL;

	nvkv_opts_default(&o);
	o.queues = 2;
	o.timeout_ms = 2000;
	o.name = name;
	ck_assert_int_eq(nvkv_open(sock, &o, &d), 0);
	return d;
}

static void random_bytes(void *p, size_t n)
{
	uint8_t *b = p;

	while (n--)
		*b++ = (uint8_t)random();
}

/* Admin opcodes that cannot take the fuzzing host's own queues away. */
static const uint8_t safe_admin[] = { KVC_ADM_GET_LOG_PAGE,
				      KVC_ADM_IDENTIFY,
				      KVC_ADM_ABORT,
				      KVC_ADM_GET_FEATURES,
				      KVC_ADM_KEEP_ALIVE,
				      0x7e,
				      0x80,
				      0xc0,
				      0xff };

START_TEST(garbage_storm)
{
	struct emu_proc emu;
	struct nvkv_dev *keeper, *fuzzer;
	uint8_t data[8192], val[200], got[200];
	uint64_t end, sent = 0, answered = 0, refused = 0;
	char key[16];
	size_t vlen;
	int i, rc;

	srandom(20261121);
	ck_assert_int_eq(emu_start(&emu, NULL), 0);
	keeper = open_dev(emu.sock, "keeper");
	fuzzer = open_dev(emu.sock, "fuzzer");
	for (i = 0; i < KEEP; i++) {
		snprintf(key, sizeof(key), "keep%04d", i);
		memset(val, i, sizeof(val));
		ck_assert_int_eq(nvkv_store(keeper, key, strlen(key), val, sizeof(val), 0), 0);
	}
	end = (uint64_t)time(NULL) + FUZZ_SECONDS;
	while ((uint64_t)time(NULL) < end) {
		struct kvc_sqe sqe;
		size_t len = (random() % 4 == 0) ? (size_t)(random() % sizeof(data)) : 0;

		random_bytes(&sqe, sizeof(sqe));
		random_bytes(data, len);
		if (random() % 4) /* PSDT/FUSE other than 0 stop every command at dispatch */
			sqe.flags = 0;
		if (random() % 5 == 0) {
			sqe.opc = safe_admin[random() % sizeof(safe_admin)];
			rc = nvkv_admin_raw(fuzzer, &sqe, len ? data : NULL, len, NULL);
		} else {
			if (random() % 2)
				kvc_sqe_set_nsid(&sqe, 1); /* reach the KV handlers more often */
			/* A ByteExpress head owns the ceil(size / 64) slots after it,
			 * which one raw command cannot supply: no chunks. */
			if (sqe.opc == KVC_BX_STORE)
				kvc_sqe_set_dw(&sqe, 10, 0);
			rc = nvkv_io_raw(fuzzer, &sqe, len ? data : NULL, len, NULL);
		}
		sent++;
		if (rc > 0)
			answered++;
		else if (rc < 0)
			refused++;
		/* The device never goes away or stops answering. */
		ck_assert_msg(rc != -ENODEV && rc != -ETIMEDOUT, "fuzzing: %s", nvkv_strerror(rc));
	}
	ck_assert_uint_gt(sent, 1000);
	ck_assert_uint_gt(answered, sent / 4);
	(void)refused;
	for (i = 0; i < KEEP; i++) {
		snprintf(key, sizeof(key), "keep%04d", i);
		memset(val, i, sizeof(val));
		ck_assert_int_eq(nvkv_retrieve(keeper, key, strlen(key), got, sizeof(got), &vlen),
				 0);
		ck_assert_uint_eq(vlen, sizeof(val));
		ck_assert_mem_eq(got, val, sizeof(val));
	}
	ck_assert_int_eq(nvkv_store(fuzzer, "after", 5, "ok", 2, 0), 0);
	nvkv_close(fuzzer);
	nvkv_close(keeper);
	ck_assert_int_eq(emu_stop(&emu, SIGTERM), 0);
}
END_TEST

static Suite *fuzz_suite(void)
{
	Suite *s = suite_create("integration/fuzz");
	TCase *tc = tcase_create("fuzz");

	tcase_set_timeout(tc, FUZZ_SECONDS + 60);
	tcase_add_test(tc, garbage_storm);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(fuzz_suite)
