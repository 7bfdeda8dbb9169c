// SPDX-License-Identifier: MIT
/*
 * nvkv-perf: end-to-end rate and latency of libnvkv against a device (API ->
 * transport -> device -> completion).  Stores then retrieves N keys at a
 * given queue depth on one host thread, and measures QD1 round trips.
 * Every figure is timed with the device's clock (nvkv_clock_ns(): virtual
 * time on the simulated device, real time otherwise).  Uses the public
 * libnvkv API only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/gen.h"
#include "bench/hist.h"
#include "bench/perf_block.h"
#include "cmdset/stats.h"
#include "hostdrv/nvkv.h"

static unsigned int klen = 16, vlen = 64;
static bool random_order;

/* A bijection on 64-bit integers: unique keys in random order. */
static uint64_t mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* db_bench's key format (bench/gen.h). */
static void make_key(uint8_t *k, uint64_t i)
{
	bench_make_key(k, klen, random_order ? mix(i) : i);
}

struct run {
	uint64_t done, errors;
};

static struct nvkv_dev *clock_dev; /* whose clock times every figure */

static uint64_t now_ns(void)
{
	return nvkv_clock_ns(clock_dev);
}

static void print_clock(struct nvkv_dev *d)
{
	printf("clock: %s\n", nvkv_clock_virtual(d)
				      ? "virtual time (simulated device: modeled figures, the same "
					"on any machine)"
				      : "real time");
}

static void cb(void *arg, int status, uint32_t dw0)
{
	struct run *r = arg;

	(void)dw0;
	r->done++;
	if (status)
		r->errors++;
}

/* Store (or retrieve) keys 0..n-1 keeping @qd commands in flight. */
static double rate(struct nvkv_queue *q, bool store, uint64_t n, unsigned int qd, enum nvkv_xfer m,
		   uint8_t *val, uint8_t *bufs)
{
	struct run r = { 0, 0 };
	uint64_t sent = 0, t0 = now_ns();
	bool full;
	uint8_t key[16];
	int rc;

	while (r.done < n) {
		full = false;
		while (sent < n && sent - r.done < qd) {
			make_key(key, sent);
			rc = store ? nvkv_submit_store(q, key, klen, val, vlen, NVKV_F_XFER(m), cb,
						       &r)
				   : nvkv_submit_retrieve(q, key, klen, bufs + (sent % qd) * vlen,
							  vlen, cb, &r);
			if (rc == -EAGAIN) {
				full = true;
				break;
			}
			if (rc) {
				fprintf(stderr, "nvkv-perf: submit: %s\n", nvkv_strerror(rc));
				exit(3);
			}
			sent++;
		}
		/* Nothing more to send: wait (a simulated device only moves on then). */
		full |= sent == n || sent - r.done >= qd;
		rc = full ? nvkv_queue_wait(q, 1) : nvkv_queue_poll(q);
		if (rc < 0) {
			fprintf(stderr, "nvkv-perf: %s\n", nvkv_strerror(rc));
			exit(3);
		}
	}
	if (r.errors)
		fprintf(stderr, "nvkv-perf: %llu commands failed\n", (unsigned long long)r.errors);
	return (double)n * 1e9 / (double)(now_ns() - t0);
}

static uint64_t pcie_bytes(struct nvkv_dev *d, uint64_t *programs)
{
	struct kvc_stats_log *l = calloc(1, sizeof(*l));
	uint64_t t = 0;
	int k;

	if (!l || nvkv_device_stats(d, l, sizeof(*l))) {
		free(l);
		return 0;
	}
	for (k = 0; k < KVC_PK_NUM; k++)
		t += l->pcie_bytes[k][0] + l->pcie_bytes[k][1];
	*programs = l->nand_programs;
	free(l);
	return t;
}

/* Byte counters of the statistics log: [0] host to device, [1] device to host. */
struct bytes_snap {
	uint64_t pcie[2];   /* modeled PCIe link bytes (downstream, upstream) */
	uint64_t fabric[2]; /* bytes on the NVMe/TCP connections (received, sent by the target) */
};

static void bytes_snap(struct nvkv_dev *d, struct bytes_snap *s)
{
	struct kvc_stats_log *l = calloc(1, sizeof(*l));
	int k;

	memset(s, 0, sizeof(*s));
	if (!l || nvkv_device_stats(d, l, sizeof(*l))) {
		fprintf(stderr, "nvkv-perf: cannot read the statistics log\n");
		exit(3);
	}
	for (k = 0; k < KVC_PK_NUM; k++) {
		s->pcie[0] += l->pcie_bytes[k][1]; /* the log keeps [up, down] */
		s->pcie[1] += l->pcie_bytes[k][0];
	}
	s->fabric[0] = l->fabric_bytes[0];
	s->fabric[1] = l->fabric_bytes[1];
	free(l);
}

/* Bytes per op between snapshots @a and @b, less what reading one log costs
 * (@ovh: measured by two reads back to back). */
static void print_bytes(const char *what, const struct bytes_snap *a, const struct bytes_snap *b,
			const struct bytes_snap *ovh, uint64_t n)
{
	double f[2], p[2];
	int i;

	for (i = 0; i < 2; i++) {
		f[i] = (double)(b->fabric[i] - a->fabric[i] - ovh->fabric[i]) / (double)n;
		p[i] = (double)(b->pcie[i] - a->pcie[i] - ovh->pcie[i]) / (double)n;
	}
	printf("bytes     %-8s fabric %9.1f to device %9.1f from device   PCIe model %9.1f down "
	       "%9.1f up   per op\n",
	       what, f[0], f[1], p[0], p[1]);
}

/* --bytes: the QD runs only, each with its bytes per op. */
static void bytes_runs(struct nvkv_dev *d, struct nvkv_queue *q, uint64_t n, unsigned int qd,
		       enum nvkv_xfer m, uint8_t *val, uint8_t *bufs)
{
	struct bytes_snap s0, s1, ovh;
	double ops;
	int i;

	bytes_snap(d, &s0);
	bytes_snap(d, &s1);
	for (i = 0; i < 2; i++) {
		ovh.pcie[i] = s1.pcie[i] - s0.pcie[i];
		ovh.fabric[i] = s1.fabric[i] - s0.fabric[i];
	}
	for (i = 0; i < 2; i++) {
		bytes_snap(d, &s0);
		ops = rate(q, i == 0, n, qd, m, val, bufs);
		bytes_snap(d, &s1);
		printf("%-9s QD%-4u %12.0f ops/s\n", i ? "retrieve" : "store", qd, ops);
		print_bytes(i ? "retrieve" : "store", &s0, &s1, &ovh, n);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* QD1 round trips through the synchronous API. */
static void latency(struct nvkv_dev *d, bool store, uint64_t n, enum nvkv_xfer m, uint8_t *val)
{
	uint64_t *lat = malloc(n * sizeof(*lat)), i;
	uint8_t key[16], *buf = malloc(vlen + 1);
	size_t got;

	for (i = 0; i < n; i++) {
		uint64_t t = now_ns();
		int rc;

		make_key(key, i);
		rc = store ? nvkv_store(d, key, klen, val, vlen, NVKV_F_XFER(m))
			   : nvkv_retrieve(d, key, klen, buf, vlen, &got);
		lat[i] = now_ns() - t;
		if (rc) {
			fprintf(stderr, "nvkv-perf: %s\n", nvkv_strerror(rc));
			exit(rc < 0 ? 3 : 1);
		}
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("%-9s QD1 round trip: p50 %.2f us, p99 %.2f us, p99.9 %.2f us\n",
	       store ? "store" : "retrieve", lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3,
	       lat[n * 999 / 1000] / 1e3);
	free(lat);
	free(buf);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "device", required_argument, NULL, 'd' },
					      { "num", required_argument, NULL, 'n' },
					      { "qd", required_argument, NULL, 'q' },
					      { "xfer", required_argument, NULL, 'x' },
					      { "key_size", required_argument, NULL, 'k' },
					      { "value_size", required_argument, NULL, 'v' },
					      { "stores-only", no_argument, NULL, 's' },
					      { "bytes", no_argument, NULL, 'b' },
					      { "random", no_argument, NULL, 'r' },
					      { "block", no_argument, NULL, 'B' },
					      { "namespace-id", required_argument, NULL, 'N' },
					      { "io-size", required_argument, NULL, 'I' },
					      { "span", required_argument, NULL, 'S' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *device = "/tmp/nvkv.sock";
	struct perf_block_opts bo = { .io_size = 4096 };
	bool stores_only = false, block = false, bytes = false;
	uint64_t b0, b1, p0 = 0, p1 = 0;
	double ops;
	enum nvkv_xfer m = NVKV_XFER_ADAPTIVE;
	unsigned long long n = 1000000;
	unsigned int qd = 64;
	struct nvkv_queue *q;
	struct nvkv_opts o;
	struct nvkv_dev *d;
	uint8_t *val, *bufs;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 'q':
			qd = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'x':
			if (nvkv_xfer_parse(optarg, &m)) {
				fprintf(stderr, "nvkv-perf: unknown method '%s'\n", optarg);
				return 2;
			}
			break;
		case 'k':
			klen = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'v':
			vlen = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			random_order = true;
			break;
		case 's':
			stores_only = true;
			break;
		case 'b':
			bytes = true;
			break;
		case 'B':
			block = true;
			break;
		case 'N':
			bo.nsid = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'I':
			bo.io_size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'S':
			bo.span = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			printf("usage: nvkv-perf [--device SOCK|sim|sim:FILE.ini] [--num N] [--qd "
			       "DEPTH] [--xfer "
			       "METHOD]\n"
			       "                 [--key_size 1..16] [--value_size BYTES] "
			       "[--stores-only] [--bytes]\n"
			       "Stores then retrieves N keys at queue depth DEPTH on one thread, "
			       "then\n"
			       "measures QD1 round trips; prints ops/s and latency percentiles.\n"
			       "--bytes: only the two QD runs, each with its bytes per op on the\n"
			       "fabric (NVMe/TCP, per direction) and on the modeled PCIe link.\n"
			       "       nvkv-perf --block [--device SOCK] [--num N] [--qd DEPTH]\n"
			       "                 [--namespace-id NSID] [--io-size BYTES] [--span "
			       "BYTES]\n"
			       "Random writes then random reads of 4 KiB (--io-size) on the first "
			       "NVM\n"
			       "namespace (--namespace-id), N at DEPTH and N/4+1 at QD1, over the "
			       "whole\n"
			       "namespace or its first --span bytes; prints IOPS, MB/s and "
			       "latency\n"
			       "percentiles (submission to completion callback).\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!n || qd < 1 || qd > 1000 || klen < 1 || klen > 16 || vlen > (1u << 20)) {
		fprintf(stderr, "nvkv-perf: need --num > 0, --qd 1..1000, --key_size 1..16, "
				"--value_size <= 1M\n");
		return 2;
	}
	nvkv_opts_default(&o);
	o.queues = 2;
	o.queue_depth = 1024;
	o.name = "nvkv-perf";
	rc = nvkv_open(device, &o, &d);
	if (rc) {
		fprintf(stderr, "nvkv-perf: %s: %s\n", device, nvkv_strerror(rc));
		return 3;
	}
	clock_dev = d;
	if (block) {
		print_clock(d);
		bo.num = n;
		bo.qd = qd;
		rc = perf_block_run(d, &bo);
		nvkv_close(d);
		return rc;
	}
	rc = nvkv_queue_open(d, &q);
	if (rc) {
		fprintf(stderr, "nvkv-perf: queue: %s\n", nvkv_strerror(rc));
		return 3;
	}
	val = malloc(vlen + 1);
	bufs = malloc((size_t)qd * vlen + 1);
	memset(val, 'v', vlen);
	printf("%llu keys of %u B (%s order), values of %u B, method %s, one host thread\n", n,
	       klen, random_order ? "random" : "sequential", vlen, nvkv_xfer_name(m));
	print_clock(d);
	if (bytes) {
		bytes_runs(d, q, n, qd, m, val, bufs);
		nvkv_queue_close(q);
		free(val);
		free(bufs);
		nvkv_close(d);
		return 0;
	}
	b0 = pcie_bytes(d, &p0);
	ops = rate(q, true, n, qd, m, val, bufs);
	b1 = pcie_bytes(d, &p1);
	printf("store     QD%-4u %12.0f ops/s  %8.1f PCIe bytes/op  amplification %.2f  "
	       "%llu NAND page programs\n",
	       qd, ops, (double)(b1 - b0) / (double)n,
	       (double)(b1 - b0) / (double)n / (klen + vlen), (unsigned long long)(p1 - p0));
	if (stores_only) {
		nvkv_queue_close(q);
		free(val);
		free(bufs);
		nvkv_close(d);
		return 0;
	}
	printf("retrieve  QD%-4u %12.0f ops/s\n", qd, rate(q, false, n, qd, m, val, bufs));
	printf("store     QD1    %12.0f ops/s\n", rate(q, true, n / 4 + 1, 1, m, val, bufs));
	printf("retrieve  QD1    %12.0f ops/s\n", rate(q, false, n / 4 + 1, 1, m, val, bufs));
	nvkv_queue_close(q);
	latency(d, true, n / 10 + 1, m, val);
	latency(d, false, n / 10 + 1, m, val);
	free(val);
	free(bufs);
	nvkv_close(d);
	return 0;
}
