// SPDX-License-Identifier: MIT
/*
 * Guest-side program of tests/guest/test_guest_uring.sh, linked against
 * libnvkv like a researcher's own program: the asynchronous API on the
 * io_uring passthrough backend (several threads, each with its own queue and
 * so its own ring; every value read back and compared), a store loop that
 * must end with an error, not a hang, when the controller goes away, and the
 * ratios of docs/qemu.md (QD1 latency, one io_uring_enter per batch against
 * one per command).
 *   uring_async DEVICE verify THREADS OPS     exit 0 when every value matched
 *   uring_async DEVICE until-error SECONDS    exit 0 when a Store failed in time
 *   uring_async DEVICE perf OPS               prints "perf ..." lines
 *   uring_async --as-nobody PROG ARGS...      runs PROG as uid/gid 65534 (no capabilities)
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostdrv/nvkv.h"

#define BATCH 32

static struct nvkv_dev *dev;
static unsigned int nops;
static unsigned int vbatch = BATCH; /* verify: submissions per kick */

struct slot {
	int status;
	bool done;
	uint8_t buf[4100];
};

static void on_done(void *arg, int status, uint32_t dw0)
{
	struct slot *s = arg;

	(void)dw0;
	s->status = status;
	s->done = true;
}

static size_t value_of(unsigned int t, unsigned int i, uint8_t *v)
{
	static const size_t sizes[] = { 0, 1, 35, 36, 37, 127, 128, 300, 4095, 4096, 4097 };
	size_t n = sizes[(t + i) % (sizeof(sizes) / sizeof(sizes[0]))], k;

	for (k = 0; k < n; k++)
		v[k] = (uint8_t)(t * 31 + i * 7 + k);
	return n;
}

/* A submission that finds the queue full waits for a completion and retries. */
static int again(struct nvkv_queue *q, int rc)
{
	if (rc != -EAGAIN)
		return rc;
	nvkv_queue_kick(q);
	return nvkv_queue_wait(q, 1) < 0 ? -EIO : -EAGAIN;
}

/* One batch: up to BATCH submissions, one kick, wait for all. */
static int run_batch(struct nvkv_queue *q, unsigned int t, unsigned int first, bool store,
		     struct slot *sl)
{
	static __thread uint8_t val[4100];
	unsigned int i, n = 0;
	char key[16];
	int rc;

	for (i = first; i < nops && n < vbatch; i++, n++) {
		size_t kl = (size_t)snprintf(key, sizeof(key), "t%u-%u", t, i);
		size_t vl = value_of(t, i, val);

		sl[n].done = false;
		do
			rc = again(
				q,
				store ? nvkv_submit_store(q, key, kl, val, vl, 0, on_done, &sl[n])
				      : nvkv_submit_retrieve(q, key, kl, sl[n].buf,
							     sizeof(sl[n].buf), on_done, &sl[n]));
		while (rc == -EAGAIN);
		if (rc)
			return rc;
	}
	nvkv_queue_kick(q);
	if (nvkv_queue_inflight(q) && nvkv_queue_wait(q, nvkv_queue_inflight(q)) < 0)
		return -EIO;
	for (i = 0; i < n; i++) {
		size_t vl = value_of(t, first + i, val);

		if (!sl[i].done || sl[i].status)
			return sl[i].done ? sl[i].status : -ETIMEDOUT;
		if (!store && vl && memcmp(sl[i].buf, val, vl)) {
			fprintf(stderr, "thread %u key %u: value differs\n", t, first + i);
			return -EBADMSG;
		}
	}
	return 0;
}

static void *verify_thread(void *arg)
{
	unsigned int t = (unsigned int)(uintptr_t)arg, i;
	struct slot *sl = calloc(BATCH, sizeof(*sl));
	struct nvkv_queue *q = NULL;
	int rc = sl ? nvkv_queue_open(dev, &q) : -ENOMEM;

	for (i = 0; !rc && i < nops; i += vbatch)
		rc = run_batch(q, t, i, true, sl);
	for (i = 0; !rc && i < nops; i += vbatch)
		rc = run_batch(q, t, i, false, sl);
	if (rc)
		fprintf(stderr, "thread %u at %u: %s\n", t, i, nvkv_strerror(rc));
	nvkv_queue_close(q);
	free(sl);
	return (void *)(intptr_t)rc;
}

static int verify(unsigned int threads)
{
	pthread_t th[16];
	unsigned int i, bad = 0;
	void *res;

	if (threads < 1 || threads > 16)
		return 2;
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, verify_thread, (void *)(uintptr_t)i);
	for (i = 0; i < threads; i++) {
		pthread_join(th[i], &res);
		bad += res != NULL;
	}
	printf("async verify: %u threads x %u values, %u threads failed\n", threads, nops, bad);
	return bad ? 1 : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int until_error(unsigned int seconds)
{
	double end = now_s() + seconds;
	unsigned int i;
	char key[16];
	int rc = 0;

	printf("until-error: running\n");
	fflush(stdout);
	for (i = 0; now_s() < end; i++) {
		snprintf(key, sizeof(key), "loop%u", i % 1000);
		rc = nvkv_store(dev, key, strlen(key), "v", 1, 0);
		if (rc)
			break;
	}
	printf("until-error: %u stores, then %s\n", i, rc ? nvkv_strerror(rc) : "no error");
	return rc ? 0 : 1;
}

/* QD1 latency, then BATCH per kick against a kick per command. */
static int perf(void)
{
	struct slot *sl = calloc(BATCH, sizeof(*sl));
	struct nvkv_queue *q = NULL;
	uint8_t v[8] = { 0 }; /* one command by any method */
	double t0, qd1, batched, single;
	unsigned int i, j;
	char key[16];
	int rc = sl ? nvkv_queue_open(dev, &q) : -ENOMEM;

	t0 = now_s();
	for (i = 0; !rc && i < nops; i++) {
		snprintf(key, sizeof(key), "p%u", i);
		rc = nvkv_store(dev, key, strlen(key), v, sizeof(v), 0);
	}
	qd1 = (now_s() - t0) / nops * 1e6;
	t0 = now_s();
	for (i = 0; !rc && i < nops; i += BATCH) {
		for (j = 0; j < BATCH && !rc; j++) {
			snprintf(key, sizeof(key), "p%u", i + j);
			do
				rc = again(q, nvkv_submit_store(q, key, strlen(key), v, sizeof(v),
								0, on_done, &sl[j]));
			while (rc == -EAGAIN);
		}
		nvkv_queue_kick(q);
		if (!rc && nvkv_queue_inflight(q) && nvkv_queue_wait(q, nvkv_queue_inflight(q)) < 0)
			rc = -EIO;
	}
	batched = (i ? i : 1) / (now_s() - t0);
	t0 = now_s();
	for (i = 0; !rc && i < nops; i += BATCH) {
		for (j = 0; j < BATCH && !rc; j++) {
			snprintf(key, sizeof(key), "p%u", i + j);
			do
				rc = again(q, nvkv_submit_store(q, key, strlen(key), v, sizeof(v),
								0, on_done, &sl[j]));
			while (rc == -EAGAIN);
			nvkv_queue_kick(q); /* one io_uring_enter per command */
		}
		if (!rc && nvkv_queue_inflight(q) && nvkv_queue_wait(q, nvkv_queue_inflight(q)) < 0)
			rc = -EIO;
	}
	single = (i ? i : 1) / (now_s() - t0);
	nvkv_queue_close(q);
	free(sl);
	if (rc) {
		fprintf(stderr, "perf: %s\n", nvkv_strerror(rc));
		return 1;
	}
	printf("perf qd1_store_us %.1f batched_ops_s %.0f per_cmd_enter_ops_s %.0f ratio %.2f\n",
	       qd1, batched, single, batched / single);
	return 0;
}

int main(int argc, char **argv)
{
	struct nvkv_opts o;
	int rc;

	if (argc > 2 && !strcmp(argv[1], "--as-nobody")) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
			perror("uring_async: dropping root");
			return 4;
		}
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		return 4;
	}
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s DEVICE verify THREADS OPS | until-error S | perf OPS\n",
			argv[0]);
		return 2;
	}
	nvkv_opts_default(&o);
	o.queue_depth = 64;
	o.timeout_ms = 20000;
	rc = nvkv_open(argv[1], &o, &dev);
	if (rc) {
		fprintf(stderr, "%s: %s\n", argv[1], nvkv_strerror(rc));
		return 3;
	}
	if (getenv("URING_ASYNC_BATCH"))
		vbatch = (unsigned int)atoi(getenv("URING_ASYNC_BATCH"));
	if (vbatch < 1 || vbatch > BATCH)
		return 2;
	if (!strcmp(argv[2], "verify") && argc == 5) {
		nops = (unsigned int)atoi(argv[4]);
		rc = verify((unsigned int)atoi(argv[3]));
	} else if (!strcmp(argv[2], "until-error")) {
		rc = until_error((unsigned int)atoi(argv[3]));
	} else if (!strcmp(argv[2], "perf")) {
		nops = (unsigned int)atoi(argv[3]);
		rc = nops >= BATCH ? perf() : 2;
	} else {
		rc = 2;
	}
	nvkv_close(dev);
	return rc;
}
