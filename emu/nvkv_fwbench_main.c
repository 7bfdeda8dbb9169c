// SPDX-License-Identifier: MIT
/*
 * nvkv-fwbench: device-side micro-benchmark of command processing.  An
 * in-process host keeps one deep submission queue full of KV commands and
 * reaps completions; the figure reported is commands per second of time spent
 * inside the firmware (fw_ctrl_poll), i.e. what one firmware thread sustains.
 * List is reported in keys per second: List commands with a one-page buffer
 * (LIST_BUF), each from one of the stored keys.  --block: 4 KiB random
 * Writes then Reads on the block namespace at --qd (default 64) instead.
 * Timing mode off.  Uses the emulator's device (media, LMDB catalog).  Each
 * rate is also given in the polling thread's CPU time (CLOCK_THREAD_CPUTIME_ID),
 * a figure that other processes on a loaded machine do not inflate.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "clock.h"
#include "cmdset/cmdset.h"
#include "device.h"
#include "log.h"
#include "server.h"

#define QSIZE 4096
#define MEM (64u << 20)
#define LIST_BUF 4096u

struct bench_host {
	uint8_t *mem;
	uint32_t *bar;
	struct fw_host_if hif;
	struct fw_ctrl *ctrl;
	uint32_t sqt[2], cqh[2], size[2];
	bool phase[2];
	uint64_t sq[2], cq[2];
	uint64_t poll_ns;
	uint64_t poll_cpu_ns;	       /* the same, in this thread's CPU time */
	const struct emu_media *media; /* its populate_cpu_ns: part of poll_cpu_ns */
	struct emu_regions *regions;   /* its spot_cpu_ns too */
	uint64_t populations0;	       /* media chunks taken when the device opened */
	uint64_t errors;
	uint64_t dw0_sum; /* List: keys returned */
};

static int h_rd(void *ctx, uint64_t a, void *b, size_t n)
{
	struct bench_host *h = ctx;

	if (a > MEM || n > MEM - a)
		return -EFAULT;
	memcpy(b, h->mem + a, n);
	return 0;
}

static int h_wr(void *ctx, uint64_t a, const void *b, size_t n)
{
	struct bench_host *h = ctx;

	if (a > MEM || n > MEM - a)
		return -EFAULT;
	memcpy(h->mem + a, b, n);
	return 0;
}

static void h_irq(void *ctx, uint16_t v)
{
	(void)ctx;
	(void)v;
}

static void poll_dev(struct bench_host *h)
{
	uint64_t t = emu_now_ns(), cpu = emu_thread_cpu_ns();

	fw_ctrl_poll(h->ctrl);
	h->poll_cpu_ns += emu_thread_cpu_ns() - cpu;
	h->poll_ns += emu_now_ns() - t;
}

/*
 * A run's figures: commands per second of wall and of CPU time in the
 * firmware; mem_ns, CPU time per command the host kernel spent supplying the
 * in-memory NAND's fresh pages (part of cpu: it depends on the machine, a
 * virtual machine's first touch of memory costs several times a reuse).
 */
struct rate {
	double wall, cpu, mem_ns;
};

static uint64_t media_cpu_ns(const struct bench_host *h)
{
	return (h->media ? h->media->populate_cpu_ns : 0) +
	       (h->regions ? emu_regions_stats(h->regions).spot_cpu_ns : 0);
}

static struct rate rate_of(const struct bench_host *h, uint64_t n, uint64_t t0, uint64_t c0,
			   uint64_t m0)
{
	return (struct rate){ (double)n * 1e9 / (double)(h->poll_ns - t0),
			      (double)n * 1e9 / (double)(h->poll_cpu_ns - c0),
			      (double)(media_cpu_ns(h) - m0) / (double)n };
}

/* Reap every CQE available on queue @q; returns how many. */
static uint32_t reap(struct bench_host *h, int q)
{
	uint32_t n = 0;

	for (;;) {
		struct kvc_cqe *c = (void *)(h->mem + h->cq[q] + (uint64_t)h->cqh[q] * 16);

		if (kvc_cqe_phase(c) != h->phase[q])
			break;
		if (kvc_cqe_status(c))
			h->errors++;
		h->dw0_sum += kvc_cqe_dw0(c);
		if (++h->cqh[q] == h->size[q]) {
			h->cqh[q] = 0;
			h->phase[q] = !h->phase[q];
		}
		n++;
	}
	if (n)
		h->bar[kvc_cq_head_db((uint16_t)q, 0) / 4] = h->cqh[q];
	return n;
}

static void put(struct bench_host *h, int q, const struct kvc_sqe *sqe)
{
	memcpy(h->mem + h->sq[q] + (uint64_t)h->sqt[q] * 64, sqe, 64);
	h->sqt[q] = (h->sqt[q] + 1) % h->size[q];
}

static int admin(struct bench_host *h, struct kvc_sqe *sqe)
{
	int i;

	put(h, 0, sqe);
	h->bar[kvc_sq_tail_db(0, 0) / 4] = h->sqt[0];
	for (i = 0; i < 100; i++) {
		poll_dev(h);
		if (reap(h, 0))
			return h->errors ? -EIO : 0;
	}
	return -ETIMEDOUT;
}

static int bring_up(struct bench_host *h, struct fw_subsys *s)
{
	struct kvc_sqe sqe;
	int i;

	h->mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	h->bar = calloc(1, 0x4000);
	if (h->mem == MAP_FAILED || !h->bar)
		return -ENOMEM;
	h->hif = (struct fw_host_if){ .ctx = h,
				      .dma_read = h_rd,
				      .dma_write = h_wr,
				      .irq_raise = h_irq,
				      .bar = h->bar,
				      .bar_size = 0x4000 };
	if (fw_ctrl_create(s, &h->hif, 1, &h->ctrl))
		return -ENOMEM;
	h->size[0] = 64;
	h->size[1] = QSIZE;
	h->sq[0] = 0x10000;
	h->cq[0] = 0x20000;
	h->sq[1] = 0x100000;
	h->cq[1] = 0x200000;
	h->phase[0] = h->phase[1] = true;
	h->bar[KVC_REG_AQA / 4] = KVC_AQA(64, 64);
	h->bar[KVC_REG_ASQ / 4] = (uint32_t)h->sq[0];
	h->bar[KVC_REG_ACQ / 4] = (uint32_t)h->cq[0];
	h->bar[KVC_REG_CC / 4] = KVC_CC_EN | KVC_CC_CSS_ALL << KVC_CC_CSS_SHIFT;
	for (i = 0; i < 10 && !(h->bar[KVC_REG_CSTS / 4] & KVC_CSTS_RDY); i++)
		poll_dev(h);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_CREATE_CQ;
	kvc_sqe_set_prp(&sqe, h->cq[1], 0);
	kvc_sqe_set_dw(&sqe, 10, (QSIZE - 1) << 16 | 1);
	kvc_sqe_set_dw(&sqe, 11, KVC_CREATE_CQ_PC);
	if (admin(h, &sqe))
		return -EIO;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_CREATE_SQ;
	kvc_sqe_set_prp(&sqe, h->sq[1], 0);
	kvc_sqe_set_dw(&sqe, 10, (QSIZE - 1) << 16 | 1);
	kvc_sqe_set_dw(&sqe, 11, 1u << 16 | KVC_CREATE_SQ_PC);
	return admin(h, &sqe);
}

static bool random_keys;

/* A bijection on 64-bit integers (splitmix64's finalizer): unique keys in
 * random order. */
static uint64_t mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void make_key(uint8_t *key, uint8_t klen, uint64_t i)
{
	int b;

	if (random_keys)
		i = mix(i);
	memset(key, '0', klen);
	for (b = 0; b < 8 && b < klen; b++)
		key[klen - 1 - b] = (uint8_t)(i >> (8 * b));
}

/*
 * The key a run's @i-th command names.  With --random, Retrieve and Exist
 * visit the @n stored keys in another order than Store wrote them (a stride
 * permutation, the stride a prime above any --ops): in write order, the
 * value log would be read sequentially, which no random-read workload does.
 */
#define READ_STRIDE 2654435761ull

static uint64_t key_index(uint8_t opc, uint64_t i, uint64_t n)
{
	if (!random_keys || opc == KVC_KV_STORE || opc == KVC_KV_LIST || n % READ_STRIDE == 0)
		return i;
	return (uint64_t)((unsigned __int128)i * READ_STRIDE % n);
}

/* Run @n commands of @opc through queue 1, keeping it full. */
static struct rate run(struct bench_host *h, uint8_t opc, uint64_t n, uint8_t klen, uint32_t vlen)
{
	uint64_t sent = 0, done = 0, t0 = h->poll_ns, c0 = h->poll_cpu_ns, errors0 = h->errors;
	uint64_t m0 = media_cpu_ns(h);
	struct kvc_kv_cmd c = { .opc = opc, .nsid = 1, .klen = klen };
	struct kvc_sqe sqe;

	c.prp1 = 0x400000; /* one value buffer shared by all commands */
	c.size = opc == KVC_KV_STORE ? vlen : opc == KVC_KV_RETRIEVE ? 4096 : 0;
	if (opc == KVC_KV_LIST)
		c.size = LIST_BUF;
	while (done < n) {
		uint32_t room = QSIZE - 1 - (uint32_t)(sent - done);

		while (room-- && sent < n) {
			make_key(c.key, klen, key_index(opc, sent++, n));
			kvc_kv_encode(&sqe, &c);
			put(h, 1, &sqe);
		}
		h->bar[kvc_sq_tail_db(1, 0) / 4] = h->sqt[1];
		poll_dev(h);
		done += reap(h, 1);
	}
	if (h->errors != errors0)
		fprintf(stderr, "nvkv-fwbench: %llu commands failed\n",
			(unsigned long long)(h->errors - errors0));
	return rate_of(h, n, t0, c0, m0);
}

/* NSZE of namespace @nsid (Identify CNS 00h), 0 on failure. */
static uint64_t ns_blocks(struct bench_host *h, uint32_t nsid)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_prp(&sqe, 0x30000, 0);
	kvc_sqe_set_dw(&sqe, 10, KVC_CNS_NS);
	return admin(h, &sqe) ? 0 : kvc_get_le64(h->mem + 0x30000);
}

/* @n 4 KiB Writes or Reads at random LBAs of @nblocks, at most @qd in flight. */
static struct rate run_block(struct bench_host *h, uint8_t opc, uint32_t nsid, uint64_t nblocks,
			     uint64_t n, uint32_t qd)
{
	uint64_t sent = 0, done = 0, t0 = h->poll_ns, c0 = h->poll_cpu_ns, errors0 = h->errors, lba;
	uint64_t m0 = media_cpu_ns(h);
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_prp(&sqe, 0x400000, 0); /* one 4 KiB buffer shared by all */
	while (done < n) {
		while (sent - done < qd && sent < n) {
			lba = mix(sent++ ^ opc) % nblocks;
			kvc_sqe_set_dw(&sqe, 10, (uint32_t)lba);
			kvc_sqe_set_dw(&sqe, 11, (uint32_t)(lba >> 32));
			put(h, 1, &sqe);
		}
		h->bar[kvc_sq_tail_db(1, 0) / 4] = h->sqt[1];
		poll_dev(h);
		done += reap(h, 1);
	}
	if (h->errors != errors0)
		fprintf(stderr, "nvkv-fwbench: %llu block commands failed\n",
			(unsigned long long)(h->errors - errors0));
	return rate_of(h, n, t0, c0, m0);
}

/* A write phase's CPU time without the host kernel's supply of fresh memory (NAND pages, index nodes). */
static void print_media_cost(const struct rate *w)
{
	if (w->mem_ns > 0)
		printf("  of it, host kernel supplying fresh memory (NAND, index): %.1f ns/cmd; "
		       "firmware "
		       "without it %.0f cmd/s (%.1f ns/cmd)\n",
		       w->mem_ns, 1e9 / (1e9 / w->cpu - w->mem_ns), 1e9 / w->cpu - w->mem_ns);
}

/* The index's memory regions and the NAND's memory: how much the helper
 * threads took ahead (their CPU time is not the firmware thread's, so not in
 * the figures above) and how much the firmware thread took on the spot
 * (NAND: since the device opened, so a prefault's blocks do not count). */
static void print_helpers(struct bench_host *h, uint64_t n)
{
	struct emu_regions_stats r = emu_regions_stats(h->regions);
	struct emu_media_ahead_stats a = emu_media_ahead_stats(h->media);

	printf("  index regions: %llu taken ahead by a helper thread (%.1f ns/Store of its CPU, "
	       "not in the figures above), %llu on the spot\n",
	       (unsigned long long)r.ahead, (double)r.ahead_cpu_ns / (double)n,
	       (unsigned long long)r.spot);
	printf("  NAND memory: %llu blocks of %zu KiB taken ahead by a helper thread "
	       "(%.1f ns/Store of its CPU since the device opened, not in the figures above), "
	       "%llu on the spot\n",
	       (unsigned long long)a.blocks, h->media->block_bytes >> 10,
	       (double)a.cpu_ns / (double)n,
	       (unsigned long long)(h->media->populations - h->populations0));
}

/* --store: what the Store phase left to the catalog's journal, and what the
 * checkpoint thread folded into data.mdb meanwhile (on the other core). */
static void print_catalog(const struct emu_meta *m, const struct emu_meta_ckpt *ck,
			  const char *when)
{
	printf("catalog %s: journal %.1f MiB written; %llu folds into data.mdb, %llu changes in "
	       "%.2f s (%.0f changes/s)\n",
	       when, (double)m->j.written / (1 << 20), (unsigned long long)ck->folds,
	       (unsigned long long)ck->changes, (double)ck->ns / 1e9,
	       ck->ns ? (double)ck->changes * 1e9 / (double)ck->ns : 0.0);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_block(struct bench_host *h, struct fw_subsys *s, uint64_t n, uint32_t qd)
{
	uint32_t nsid = fw_subsys_blk_nsid(s);
	uint64_t nblocks = nsid ? ns_blocks(h, nsid) : 0;
	struct rate wt, rt;

	if (!nblocks) {
		fprintf(stderr, "nvkv-fwbench: no block namespace (namespaces.block_percent = 0?) "
				"or it does not use 4 KiB blocks\n");
		return 1;
	}
	wt = run_block(h, KVC_NVM_WRITE, nsid, nblocks, n, qd);
	rt = run_block(h, KVC_NVM_READ, nsid, nblocks, n, qd);
	printf("block namespace %u: %llu blocks; 4 KiB random I/O at QD %u, %llu each\n", nsid,
	       (unsigned long long)nblocks, qd, (unsigned long long)n);
	printf("write     %10.0f IOPS\nread      %10.0f IOPS\n", wt.wall, rt.wall);
	printf("thread CPU time: write %.0f IOPS, read %.0f IOPS\n", wt.cpu, rt.cpu);
	print_media_cost(&wt);
	printf("errors %llu\n", (unsigned long long)h->errors);
	return h->errors ? 1 : 0;
}

static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * 4;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "ops", required_argument, NULL, 'n' },
					      { "store", required_argument, NULL, 's' },
					      { "key-size", required_argument, NULL, 'k' },
					      { "value-size", required_argument, NULL, 'v' },
					      { "set", required_argument, NULL, 'S' },
					      { "random", no_argument, NULL, 'r' },
					      { "block", no_argument, NULL, 'b' },
					      { "qd", required_argument, NULL, 'q' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static struct emu_config cfg;
	struct kvc_stats_log *l = calloc(1, sizeof(*l));
	struct bench_host h = { 0 };
	struct emu_device dev;
	unsigned long long n = 2000000;
	unsigned long klen = 16, vlen = 64, qd = 64;
	bool block = false;
	struct rate st, rt, et, lt;
	double keys_per_list, t0;
	uint64_t list_cmds, keys0;
	long rss0, rss1;
	uint64_t unwritten;
	char err[512], *eq;
	int c;

	emu_config_default(&cfg);
	emu_config_set(&cfg, "queues.depth", "4096", err, sizeof(err)); /* QSIZE */
	emu_log_set_level(1);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 's':
			snprintf(cfg.store, sizeof(cfg.store), "%s", optarg);
			break;
		case 'k':
			klen = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			vlen = strtoul(optarg, NULL, 0);
			break;
		case 'S':
			eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(stderr, "nvkv-fwbench: --set needs SECTION.KEY=VALUE\n");
				return 2;
			}
			*eq = 0;
			if (emu_config_set(&cfg, optarg, eq + 1, err, sizeof(err))) {
				fprintf(stderr, "nvkv-fwbench: %s\n", err);
				return 2;
			}
			break;
		case 'r':
			random_keys = true;
			break;
		case 'b':
			block = true;
			break;
		case 'q':
			qd = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			printf("usage: nvkv-fwbench [--ops N] [--store DIR] [--key-size 1..16]\n"
			       "                    [--value-size BYTES] [--random]\n"
			       "                    [--set SECTION.KEY=VALUE]\n"
			       "       nvkv-fwbench --block [--ops N] [--qd DEPTH] [--store DIR] "
			       "[--set ...]\n"
			       "Store, Retrieve and Exist commands and List keys per second for "
			       "one firmware thread\n"
			       "(time inside the firmware only), and device RAM per key.\n"
			       "--random: keys in random order; Retrieve and Exist visit "
			       "them in another order\n"
			       "than Store wrote them, so value reads are scattered as in "
			       "readrandom.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!n || klen < 1 || klen > 16 || vlen > 4096 || qd < 1 || qd >= QSIZE) {
		fprintf(stderr,
			"nvkv-fwbench: need --ops > 0, --key-size 1..16, --value-size <= 4096, "
			"--qd 1..4095\n");
		return 2;
	}
	if (emu_config_finish(&cfg, err, sizeof(err))) {
		fprintf(stderr, "nvkv-fwbench: %s\n", err);
		return 2;
	}
	rss0 = rss_kb();
	if (emu_device_open(&dev, &cfg))
		return 1; /* the reason was logged */
	h.media = &dev.media;
	h.regions = &dev.regions;
	h.populations0 = dev.media.populations;
	if (bring_up(&h, dev.sub)) {
		fprintf(stderr, "nvkv-fwbench: controller bring-up failed (queues.depth < %u?)\n",
			QSIZE);
		return 1;
	}
	memset(h.mem + 0x400000, 'v', 4096);
	if (block) {
		c = bench_block(&h, dev.sub, n, (uint32_t)qd);
		fw_ctrl_destroy(h.ctrl);
		emu_device_close(&dev);
		free(l);
		return c;
	}
	st = run(&h, KVC_KV_STORE, n, (uint8_t)klen, (uint32_t)vlen);
	if (*cfg.store) {
		struct emu_meta_ckpt snap;

		pthread_mutex_lock(&dev.meta.ck.mu);
		snap = dev.meta.ck;
		pthread_mutex_unlock(&dev.meta.ck.mu);
		print_catalog(&dev.meta, &snap, "after the Store phase");
	}
	rss1 = rss_kb();
	unwritten = emu_media_unwritten_bytes(&dev.media);
	rt = run(&h, KVC_KV_RETRIEVE, n, (uint8_t)klen, (uint32_t)vlen);
	et = run(&h, KVC_KV_EXIST, n, (uint8_t)klen, (uint32_t)vlen);
	list_cmds = n / 200 + 1;
	keys0 = h.dw0_sum;
	lt = run(&h, KVC_KV_LIST, list_cmds, (uint8_t)klen, (uint32_t)vlen);
	keys_per_list = (double)(h.dw0_sum - keys0) / (double)list_cmds;
	lt.wall *= keys_per_list; /* commands/s -> keys/s */
	lt.cpu *= keys_per_list;
	fw_subsys_stats(dev.sub, l);
	printf("device: %s, %llu keys of %lu B (%s order), values of %lu B, SQ depth %u, "
	       "dma %s\n",
	       *cfg.store ? cfg.store : "in memory", (unsigned long long)l->keys, klen,
	       random_keys ? "random" : "sequential", vlen, QSIZE - 1,
	       cfg.fw.dma_gran == FW_DMA_PAGE ? "page (values 4 KiB aligned)" : "exact (packed)");
	printf("store     %10.0f cmd/s\nretrieve  %10.0f cmd/s\nexist     %10.0f cmd/s\n", st.wall,
	       rt.wall, et.wall);
	printf("list      %10.0f keys/s (%llu List commands of %u B, %.0f keys each)\n", lt.wall,
	       (unsigned long long)list_cmds, LIST_BUF, keys_per_list);
	printf("thread CPU time: store %.0f cmd/s (%.1f ns/cmd), retrieve %.0f cmd/s (%.1f "
	       "ns/cmd), "
	       "exist %.0f cmd/s (%.1f ns/cmd), list %.0f keys/s\n",
	       st.cpu, 1e9 / st.cpu, rt.cpu, 1e9 / rt.cpu, et.cpu, 1e9 / et.cpu, lt.cpu);
	print_media_cost(&st);
	print_helpers(&h, n);
	printf("index RAM %.1f B/key; process RSS growth %.1f B/key (includes %.1f B/key of value "
	       "log pages and %.1f B/key of NAND memory taken ahead, not written yet)\n",
	       (double)l->index_bytes / (double)l->keys,
	       (double)(rss1 - rss0) * 1024 / (double)l->keys,
	       (double)l->rec_bytes / (double)l->keys, (double)unwritten / (double)l->keys);
	printf("errors %llu\n", (unsigned long long)h.errors);
	fw_ctrl_destroy(h.ctrl);
	t0 = mono_s();
	emu_device_close(&dev);
	if (*cfg.store) {
		printf("close: %.2f s (a clean close folds the rest of the journal into "
		       "data.mdb)\n",
		       mono_s() - t0);
		print_catalog(&dev.meta, &dev.meta.ck, "at the end"); /* its thread is gone */
	}
	free(l);
	return h.errors ? 1 : 0;
}
