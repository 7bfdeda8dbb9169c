// SPDX-License-Identifier: MIT
/*
 * libnvkv's public API against a running nvkv-emu: every error the header
 * (hostdrv/nvkv.h) documents for a call is provoked and must come back as
 * documented, and calls on two devices from two threads share nothing.  The
 * tests that take a device run once over shared memory and once over NVMe/TCP
 * (the loop index picks the transport); a few are about TCP alone.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_main.h"
#include "emu_proc.c"
#include "cmdset/cmdset.h"
#include "hostdrv/nvkv.h"

/* Transport of a loop test: 0 shared memory, 1 NVMe/TCP. */
enum { TP_SHM, TP_TCP, TP_NUM };

struct tdev {
	struct emu_proc emu;
	char port[8];
	char dev[160]; /* what nvkv_open() gets */
};

static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(s, (struct sockaddr *)&sa, &sl);
	close(s);
	return ntohs(sa.sin_port);
}

/* Start nvkv-emu with up to four more arguments, serving TCP as well for TP_TCP. */
static int tdev_start(struct tdev *t, int tp, const char *a0, const char *a1, const char *a2,
		      const char *a3, const char *suffix)
{
	int rc;

	snprintf(t->port, sizeof(t->port), "%u", free_port());
	if (tp == TP_TCP)
		rc = emu_start(&t->emu, "--tcp", t->port, a0, a1, a2, a3, NULL);
	else
		rc = emu_start(&t->emu, a0, a1, a2, a3, NULL);
	if (tp == TP_TCP)
		snprintf(t->dev, sizeof(t->dev), "tcp://127.0.0.1:%s%s", t->port,
			 suffix ? suffix : "");
	else
		snprintf(t->dev, sizeof(t->dev), "%s", t->emu.sock);
	return rc;
}

static struct nvkv_dev *open_dev(const char *sock, uint32_t queues)
{
	struct nvkv_opts o;
	struct nvkv_dev *d = NULL;

	nvkv_opts_default(&o);
	o.queues = queues;
	o.queue_depth = 16;
	o.timeout_ms = 2000;
	o.name = "test_api";
	ck_assert_int_eq(nvkv_open(sock, &o, &d), 0);
	return d;
}

START_TEST(open_errors)
{
	char path[200], longpath[200];
	struct nvkv_dev *d = (void *)1;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct nvkv_opts o;
	int s;

	ck_assert_int_eq(nvkv_open(NULL, NULL, &d), -EINVAL);
	ck_assert_int_eq(nvkv_open("/tmp/x", NULL, NULL), -EINVAL);
	nvkv_opts_default(&o);
	o.queues = 0;
	ck_assert_int_eq(nvkv_open("/tmp/x", &o, &d), -EINVAL);
	ck_assert_ptr_null(d);
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = 0;
	ck_assert_int_eq(nvkv_open(longpath, NULL, &d), -ENAMETOOLONG);
	snprintf(path, sizeof(path), "/tmp/nvkv-api-%d.sock", (int)getpid());
	unlink(path);
	ck_assert_int_eq(nvkv_open(path, NULL, &d), -ENOENT);
	/* A socket nobody listens on. */
	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ck_assert_int_ge(s, 0);
	strcpy(a.sun_path, path);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(nvkv_open(path, NULL, &d), -ECONNREFUSED);
	close(s);
	unlink(path);
}
END_TEST

static void cb(void *arg, int status, uint32_t dw0)
{
	(void)dw0;
	*(int *)arg = status;
}

START_TEST(call_errors)
{
	struct tdev td;
	struct nvkv_dev *d;
	struct nvkv_queue *q, *q2;
	struct nvkv_iter *it;
	struct nvkv_info in;
	uint8_t log[512], sqe[64], *big;
	uint32_t v32;
	char k17[17];
	size_t vlen;
	int st = 0, i, rc;
	enum nvkv_xfer m;

	ck_assert_int_eq(tdev_start(&td, _i, "--device-max-value", "4096", "--device-capacity",
				    "65536", NULL),
			 0);
	d = open_dev(td.dev, 2);
	ck_assert_int_eq(nvkv_identify(d, &in), 0);
	ck_assert_str_eq(in.backend, _i == TP_TCP ? "tcp" : "shm");
	ck_assert_uint_eq(in.max_value, 4096);
	big = calloc(1, in.max_value + 1);
	memset(k17, 'k', sizeof(k17));
	/* nvkv_store */
	ck_assert_int_eq(nvkv_store(d, "k", 0, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(nvkv_store(d, k17, 17, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(nvkv_store(d, NULL, 1, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(nvkv_store(d, "k", 1, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(
		nvkv_store(d, "k", 1, "v", 1, NVKV_STORE_MUST_EXIST | NVKV_STORE_MUST_NOT_EXIST),
		-EINVAL);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, NVKV_F_XFER(NVKV_XFER_NUM)), -EINVAL);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, 0x800),
			 -EINVAL); /* 0x400: NVKV_F_XFER_STRICT */
	ck_assert_int_eq(nvkv_store(d, "k", 1, big, in.max_value + 1, 0), -EMSGSIZE);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, NVKV_STORE_MUST_EXIST), NVKV_KEY_NOT_EXIST);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, 0), 0);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, NVKV_STORE_MUST_NOT_EXIST), NVKV_KEY_EXISTS);
	for (i = 0, rc = 0; i < 64 && !rc; i++) {
		char key[8];

		snprintf(key, sizeof(key), "f%d", i);
		rc = nvkv_store(d, key, strlen(key), big, in.max_value, 0);
	}
	ck_assert_int_eq(rc, NVKV_CAPACITY_EXCEEDED);
	/* nvkv_retrieve, nvkv_delete, nvkv_exist */
	ck_assert_int_eq(nvkv_retrieve(d, "k", 0, NULL, 0, &vlen), -EINVAL);
	ck_assert_int_eq(nvkv_retrieve(d, "k", 1, NULL, 1, &vlen), -EINVAL);
	ck_assert_int_eq(nvkv_retrieve(d, "nope", 4, NULL, 0, &vlen), NVKV_KEY_NOT_EXIST);
	ck_assert_int_eq(nvkv_delete(d, k17, 17), -EINVAL);
	ck_assert_int_eq(nvkv_delete(d, "nope", 4), 0); /* EDNEK clear: the default */
	/* nvkv_set_feature, nvkv_get_feature, nvkv_kv_config_set/get */
	ck_assert_int_eq(nvkv_set_feature(NULL, NVKV_FEAT_KV_CONFIG, 1, 1, false, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_get_feature(NULL, NVKV_FEAT_KV_CONFIG, 1, 0, &v32), -EINVAL);
	ck_assert_int_eq(nvkv_get_feature(d, NVKV_FEAT_KV_CONFIG, 1, 0, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_get_feature(d, NVKV_FEAT_KV_CONFIG, 1, 4, &v32), -EINVAL);
	ck_assert_int_eq(nvkv_kv_config_set(d, 2, false), -EINVAL);
	ck_assert_int_eq(nvkv_kv_config_get(d, 4, &v32), -EINVAL);
	ck_assert_int_eq(nvkv_get_feature(d, 0x7e, 0, 0, &v32), KVC_SC_INVALID_FIELD);
	/* NSID 2 is the block namespace (default split): it has no such feature. */
	ck_assert_int_eq(nvkv_get_feature(d, NVKV_FEAT_KV_CONFIG, 2, 0, &v32),
			 KVC_SC_INVALID_FIELD);
	ck_assert_int_eq(nvkv_get_feature(d, NVKV_FEAT_KV_CONFIG, 3, 0, &v32), KVC_SC_INVALID_NS);
	ck_assert_int_eq(nvkv_kv_config_set(d, NVKV_KV_CONFIG_EDNEK, true),
			 KVC_STATUS(KVC_SCT_CMD_SPECIFIC, KVC_SC_FEATURE_NOT_SAVEABLE));
	ck_assert_int_eq(nvkv_kv_config_get(d, 0, &v32), 0);
	ck_assert_uint_eq(v32, 0);
	ck_assert_int_eq(nvkv_kv_config_set(d, NVKV_KV_CONFIG_EDNEK, false), 0);
	ck_assert_int_eq(nvkv_kv_config_get(d, 0, &v32), 0);
	ck_assert_uint_eq(v32, NVKV_KV_CONFIG_EDNEK);
	ck_assert_int_eq(nvkv_get_feature(d, NVKV_FEAT_KV_CONFIG, 1, 0, &v32), 0);
	ck_assert_uint_eq(v32, NVKV_KV_CONFIG_EDNEK);
	ck_assert_int_eq(nvkv_delete(d, "nope", 4), NVKV_KEY_NOT_EXIST);
	ck_assert_int_eq(nvkv_kv_config_get(d, 3, &v32), 0);
	ck_assert_uint_eq(v32, 0x6); /* per namespace, changeable; no store: not saveable */
	ck_assert_int_eq(nvkv_set_feature(d, NVKV_FEAT_KV_CONFIG, 1, 0, false, NULL), 0);
	ck_assert_int_eq(nvkv_delete(d, "nope", 4), 0);
	ck_assert_int_eq(nvkv_exist(d, NULL, 1), -EINVAL);
	ck_assert_int_eq(nvkv_exist(d, "nope", 4), NVKV_KEY_NOT_EXIST);
	/* nvkv_iter_open */
	ck_assert_int_eq(nvkv_iter_open(d, k17, 17, &it), -EINVAL);
	ck_assert_int_eq(nvkv_iter_open(d, NULL, 1, &it), -EINVAL);
	ck_assert_int_eq(nvkv_iter_open(NULL, NULL, 0, &it), -EINVAL);
	/* queues: 2 granted, queue 1 is the sync queue's: one to open */
	ck_assert_int_eq(nvkv_queue_open(d, &q), 0);
	ck_assert_int_eq(nvkv_queue_open(d, &q2), -EBUSY);
	ck_assert_int_eq(nvkv_submit_store(q, "k", 0, "v", 1, 0, cb, &st), -EINVAL);
	ck_assert_int_eq(nvkv_submit_store(q, "k", 1, big, in.max_value + 1, 0, cb, &st),
			 -EMSGSIZE);
	ck_assert_int_eq(nvkv_submit_retrieve(q, "k", 1, NULL, 1, cb, &st), -EINVAL);
	ck_assert_int_eq(nvkv_submit_delete(q, "k", 0, cb, &st), -EINVAL);
	ck_assert_int_eq(nvkv_submit_exist(q, k17, 17, cb, &st), -EINVAL);
	for (i = 0, rc = 0; i < 64 && !rc; i++)
		rc = nvkv_submit_exist(q, "k", 1, cb, &st);
	ck_assert_int_eq(rc, -EAGAIN);
	while (nvkv_queue_inflight(q))
		ck_assert_int_ge(nvkv_queue_wait(q, 1), 0);
	nvkv_queue_close(q);
	/* statistics, raw commands, names */
	ck_assert_int_eq(nvkv_device_stats(d, NULL, sizeof(log)), -EINVAL);
	ck_assert_int_eq(nvkv_device_stats(d, log, 4), -EINVAL);
	ck_assert_int_eq(nvkv_device_stats(d, log, 10), -EINVAL);
	ck_assert_int_eq(nvkv_device_stats(d, log, sizeof(log)), 0);
	memset(sqe, 0, sizeof(sqe));
	ck_assert_int_eq(nvkv_admin_raw(d, NULL, NULL, 0, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_io_raw(d, sqe, NULL, 8, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_io_raw(d, sqe, big, in.max_value + 4097, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_xfer_parse("nope", &m), -EINVAL);
	ck_assert_ptr_null(nvkv_xfer_name(NVKV_XFER_NUM));
	/* The device gone: -ENODEV. */
	ck_assert_int_eq(emu_stop(&td.emu, SIGKILL), 128 + SIGKILL);
	rc = nvkv_exist(d, "k", 1);
	ck_assert_msg(rc == -ENODEV || rc == -ETIMEDOUT, "after kill: %d", rc);
	nvkv_close(d);
	free(big);
}
END_TEST

/* Regression: nvkv_identify() and the Identify of nvkv_open() parsed static
 * buffers shared by all devices: with two devices opened and identified from
 * two threads, one could read the other's capacity (a data race
 * ThreadSanitizer reports). */
struct ident_arg {
	const char *sock;
	uint64_t want;
	unsigned int wrong;
};

static void *ident_loop(void *p)
{
	struct ident_arg *a = p;
	struct nvkv_info in;
	struct nvkv_dev *d;
	unsigned int i, j;

	for (i = 0; i < 10; i++) {
		d = open_dev(a->sock, 1);
		for (j = 0; j < 2000; j++)
			if (nvkv_identify(d, &in) || in.capacity != a->want)
				a->wrong++;
		nvkv_close(d);
	}
	return NULL;
}

START_TEST(identify_two_devices_two_threads_regression)
{
	struct tdev e1, e2;
	struct ident_arg a[2] = { { .want = 1 << 20 }, { .want = 2 << 20 } };
	pthread_t t[2];
	int i;

	ck_assert_int_eq(tdev_start(&e1, _i, "--device-capacity", "1048576", NULL, NULL, NULL), 0);
	ck_assert_int_eq(tdev_start(&e2, _i, "--device-capacity", "2097152", NULL, NULL, NULL), 0);
	a[0].sock = e1.dev;
	a[1].sock = e2.dev;
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, ident_loop, &a[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(a[0].wrong, 0);
	ck_assert_uint_eq(a[1].wrong, 0);
	ck_assert_int_eq(emu_stop(&e1.emu, SIGTERM), 0);
	ck_assert_int_eq(emu_stop(&e2.emu, SIGTERM), 0);
}
END_TEST

/* Every transfer method and size class, retrieved byte for byte; over TCP
 * also with header and data digests (loop index 2). */
START_TEST(methods_and_sizes)
{
	static const uint32_t sizes[] = { 1, 64, 127, 128, 4096, 4097, 70000, 300000 };
	static const enum nvkv_xfer ms[] = { NVKV_XFER_PRP,	      NVKV_XFER_BANDSLIM,
					     NVKV_XFER_SGL,	      NVKV_XFER_ADAPTIVE,
					     NVKV_XFER_ADAPTIVE_COST, NVKV_XFER_BYTEEXPRESS };
	uint8_t *v = malloc(300000), *r = malloc(300000);
	struct tdev td;
	struct nvkv_dev *d;
	size_t i, j, n;
	int rc;

	for (i = 0; i < 300000; i++)
		v[i] = (uint8_t)(i * 131 + i / 977);
	ck_assert_int_eq(tdev_start(&td, _i == 2 ? TP_TCP : _i, NULL, NULL, NULL, NULL,
				    _i == 2 ? "?hdgst&ddgst" : NULL),
			 0);
	d = open_dev(td.dev, 1);
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			char key[16];

			snprintf(key, sizeof(key), "m%zu-%zu", i, j);
			v[0] = (uint8_t)(i * 16 + j);
			rc = nvkv_store(d, key, strlen(key), v, sizes[j], NVKV_F_XFER(ms[i]));
			ck_assert_msg(rc == 0, "store: method %zu size %u: %d", i, sizes[j], rc);
			memset(r, 0, sizes[j]);
			ck_assert_int_eq(nvkv_retrieve(d, key, strlen(key), r, 300000, &n), 0);
			ck_assert_uint_eq(n, sizes[j]);
			ck_assert_msg(!memcmp(r, v, sizes[j]), "method %zu size %u", i, sizes[j]);
		}
	}
	ck_assert_int_eq(nvkv_delete(d, "m0-0", 4), 0);
	ck_assert_int_eq(nvkv_exist(d, "m0-0", 4), NVKV_KEY_NOT_EXIST);
	nvkv_close(d);
	ck_assert_int_eq(emu_stop(&td.emu, SIGTERM), 0);
	free(v);
	free(r);
}
END_TEST

/*
 * Regression (TCP): a BandSlim head whose pages go by R2T must not be
 * overtaken by its transfer commands (the target submits it once its data is
 * in), and the head completing before it must not release that hold when
 * its command id is reused at once: alternate one-command and
 * R2T-with-transfers sequences on one queue.
 */
START_TEST(tcp_bandslim_r2t_keeps_order_regression)
{
	static uint8_t v[70000];
	struct tdev td;
	struct nvkv_dev *d;
	int i, fails = 0;

	ck_assert_int_eq(tdev_start(&td, TP_TCP, NULL, NULL, NULL, NULL, NULL), 0);
	d = open_dev(td.dev, 1);
	for (i = 0; i < 300; i++) {
		char k[16];

		snprintf(k, sizeof(k), "o%d", i);
		if (nvkv_store(d, k, strlen(k), v, i % 2 ? sizeof(v) : 4097,
			       NVKV_F_XFER(NVKV_XFER_BANDSLIM) | NVKV_F_XFER_STRICT))
			fails++;
	}
	ck_assert_int_eq(fails, 0);
	nvkv_close(d);
	ck_assert_int_eq(emu_stop(&td.emu, SIGTERM), 0);
}
END_TEST

/* TCP alone: device strings, a refused Connect, Keep Alive within a short KATO. */
START_TEST(tcp_open_and_keep_alive)
{
	struct nvkv_opts o;
	struct nvkv_dev *d = NULL;
	struct tdev td;
	char dev[200];
	size_t n;
	char buf[8];
	int st;

	nvkv_opts_default(&o);
	o.timeout_ms = 2000;
	ck_assert_int_eq(tdev_start(&td, TP_TCP, NULL, NULL, NULL, NULL, "?kato=300"), 0);
	ck_assert_int_eq(nvkv_open("tcp://127.0.0.1", &o, &d), -EINVAL);
	ck_assert_int_eq(nvkv_open("tcp://127.0.0.1:1/", &o, &d), -ECONNREFUSED);
	snprintf(dev, sizeof(dev), "tcp://127.0.0.1:%s/nqn.2014-08.org.example:nobody", td.port);
	ck_assert_int_eq(nvkv_open(dev, &o, &d), -ECONNREFUSED);
	ck_assert_ptr_null(d);
	/* The default NQN is the firmware's, and KATO 300 ms outlived by 1.2 s. */
	d = open_dev(td.dev, 1);
	ck_assert_int_eq(nvkv_store(d, "ka", 2, "alive", 5, 0), 0);
	usleep(1200 * 1000);
	ck_assert_int_eq(nvkv_retrieve(d, "ka", 2, buf, sizeof(buf), &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(buf, "alive", 5);
	/* A stopped target: commands time out; a dead one: -ENODEV.  kill()
	 * returns before a multi-threaded target has stopped (its other threads
	 * run on until the one that took the signal gets the CPU): wait for the
	 * stop, or a command may still be answered. */
	ck_assert_int_eq(kill(td.emu.pid, SIGSTOP), 0);
	ck_assert_int_eq(waitpid(td.emu.pid, &st, WUNTRACED), td.emu.pid);
	ck_assert(WIFSTOPPED(st));
	ck_assert_int_eq(nvkv_exist(d, "ka", 2), -ETIMEDOUT);
	kill(td.emu.pid, SIGCONT);
	ck_assert_int_eq(emu_stop(&td.emu, SIGKILL), 128 + SIGKILL);
	ck_assert_int_eq(nvkv_exist(d, "ka", 2), -ENODEV);
	nvkv_close(d);
}
END_TEST

static Suite *api_suite(void)
{
	Suite *s = suite_create("integration/api");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, open_errors);
	tcase_add_loop_test(tc, call_errors, TP_SHM, TP_NUM);
	tcase_add_loop_test(tc, identify_two_devices_two_threads_regression, TP_SHM, TP_NUM);
	tcase_add_loop_test(tc, methods_and_sizes, TP_SHM, TP_NUM + 1);
	tcase_add_test(tc, tcp_open_and_keep_alive);
	tcase_add_test(tc, tcp_bandslim_r2t_keeps_order_regression);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(api_suite)
