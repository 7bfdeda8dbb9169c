// SPDX-License-Identifier: MIT
/*
 * nvkv-perf's block mode: 4 KiB (by default) random writes, then random
 * reads, at a queue depth and at QD 1, on one thread and one queue, each
 * I/O timed from submission to its callback.  Offsets are a hash of the I/O
 * number over the span, aligned to the I/O size; a read phase reads the
 * offsets its write phase wrote.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/hist.h"
#include "bench/perf_block.h"

static struct nvkv_dev *clock_dev; /* whose clock times every figure (virtual on sim) */

static uint64_t now_ns(void)
{
	return nvkv_clock_ns(clock_dev);
}

struct slot {
	struct phase *ph;
	uint64_t t0;
	uint8_t *buf;
	bool busy;
};

struct phase {
	struct bench_hist h;
	uint64_t done, errors;
	int first_error;
};

static uint64_t mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void on_io(void *arg, int status, uint32_t dw0)
{
	struct slot *s = arg;
	struct phase *ph = s->ph;

	(void)dw0;
	bench_hist_add(&ph->h, now_ns() - s->t0);
	ph->done++;
	if (status) {
		ph->errors++;
		if (!ph->first_error)
			ph->first_error = status;
	}
	s->busy = false;
}

struct job {
	struct nvkv_queue *q;
	uint32_t nsid, nlb;
	uint64_t units; /* I/O-sized units in the span */
	struct slot *slots;
	unsigned int qd;
};

static int submit(struct job *j, struct slot *s, bool write, uint64_t i)
{
	uint64_t lba = (mix(i) % j->units) * j->nlb;

	s->t0 = now_ns();
	s->busy = true;
	return write ? nvkv_submit_blk_write(j->q, j->nsid, lba, j->nlb, s->buf, 0, on_io, s)
		     : nvkv_submit_blk_read(j->q, j->nsid, lba, j->nlb, s->buf, 0, on_io, s);
}

/* @n I/Os keeping @qd in flight; returns the seconds taken, or a negative errno. */
static double run_phase(struct job *j, struct phase *ph, bool write, uint64_t n, unsigned int qd,
			uint64_t seed)
{
	uint64_t sent = 0, t0 = now_ns();
	unsigned int k = 0;
	int rc;

	memset(ph, 0, sizeof(*ph));
	while (ph->done < n) {
		while (sent < n && sent - ph->done < qd) {
			while (j->slots[k].busy)
				k = (k + 1) % qd;
			j->slots[k].ph = ph;
			rc = submit(j, &j->slots[k], write, seed + sent);
			if (rc == -EAGAIN) {
				j->slots[k].busy = false;
				break;
			}
			if (rc)
				return rc;
			sent++;
		}
		/* Full (or all sent): wait, which sleeps on the interrupt after a
		 * short spin and leaves the CPU to the device on a small machine. */
		rc = sent - ph->done >= qd || sent == n ? nvkv_queue_wait(j->q, 1)
							: nvkv_queue_poll(j->q);
		if (rc < 0)
			return rc;
	}
	return (double)(now_ns() - t0) / 1e9;
}

static void print_phase(const char *what, unsigned int qd, const struct phase *ph, double secs,
			uint32_t io_size)
{
	double iops = (double)ph->done / secs;

	printf("%-6s QD%-4u %10.0f IOPS %9.1f MB/s  latency us: p50 %.1f p99 %.1f p99.9 %.1f "
	       "max %.1f\n",
	       what, qd, iops, iops * io_size / 1e6, bench_hist_pct(&ph->h, 50),
	       bench_hist_pct(&ph->h, 99), bench_hist_pct(&ph->h, 99.9), ph->h.max / 1e3);
	if (ph->errors)
		printf("       %llu I/Os failed, the first with %s\n",
		       (unsigned long long)ph->errors, nvkv_strerror(ph->first_error));
}

static int setup(struct nvkv_dev *d, const struct perf_block_opts *o, struct job *j,
		 struct nvkv_ns_info *ns)
{
	uint32_t nsid = o->nsid ? o->nsid : nvkv_ns_first(d, NVKV_CSI_NVM);
	uint64_t span;

	if (!nsid || nvkv_ns_get(d, nsid, ns) || ns->csi != NVKV_CSI_NVM) {
		fprintf(stderr, "nvkv-perf: --block needs an NVM namespace%s\n",
			o->nsid ? " at that --namespace-id" : " (the device has none)");
		return 2;
	}
	if (!o->io_size || o->io_size % ns->lba_size || o->io_size > ns->max_transfer) {
		fprintf(stderr,
			"nvkv-perf: --io-size must be a multiple of the namespace's %u B blocks, "
			"at most %u\n",
			ns->lba_size, ns->max_transfer);
		return 2;
	}
	span = o->span && o->span < ns->size ? o->span : ns->size;
	j->nsid = nsid;
	j->nlb = o->io_size / ns->lba_size;
	j->units = span / o->io_size;
	if (!j->units) {
		fprintf(stderr, "nvkv-perf: the span holds no I/O of %u B\n", o->io_size);
		return 2;
	}
	return 0;
}

int perf_block_run(struct nvkv_dev *d, const struct perf_block_opts *o)
{
	clock_dev = d;
	static const struct {
		const char *what;
		bool write, qd1;
	} phases[] = { { "write", true, false },
		       { "read", false, false },
		       { "write", true, true },
		       { "read", false, true } };
	struct nvkv_ns_info ns;
	struct phase ph;
	struct job j;
	unsigned int i;
	uint8_t *mem = NULL;
	int rc;

	memset(&j, 0, sizeof(j));
	rc = setup(d, o, &j, &ns);
	if (rc)
		return rc;
	j.qd = o->qd;
	j.slots = calloc(o->qd, sizeof(*j.slots));
	mem = malloc((size_t)o->qd * o->io_size);
	rc = j.slots && mem ? nvkv_queue_open(d, &j.q) : -ENOMEM;
	if (rc) {
		fprintf(stderr, "nvkv-perf: queue: %s\n", nvkv_strerror(rc));
		rc = 3;
		goto out;
	}
	for (i = 0; i < o->qd; i++) {
		j.slots[i].buf = mem + (size_t)i * o->io_size;
		memset(j.slots[i].buf, (int)(i + 1), o->io_size);
	}
	printf("block: namespace %u, %llu blocks of %u B; random %u B I/Os over %llu MiB, one "
	       "host thread\n",
	       j.nsid, (unsigned long long)ns.blocks, ns.lba_size, o->io_size,
	       (unsigned long long)(j.units * o->io_size >> 20));
	for (i = 0; i < 4 && !rc; i++) {
		unsigned int qd = phases[i].qd1 ? 1 : o->qd;
		uint64_t n = phases[i].qd1 ? o->num / 4 + 1 : o->num;
		double secs = run_phase(&j, &ph, phases[i].write, n, qd, (uint64_t)(i / 2) << 40);

		if (secs < 0) {
			fprintf(stderr, "nvkv-perf: %s\n", nvkv_strerror((int)secs));
			rc = 3;
			break;
		}
		print_phase(phases[i].what, qd, &ph, secs, o->io_size);
		if (ph.errors)
			rc = 1;
	}
	nvkv_queue_close(j.q);
out:
	free(mem);
	free(j.slots);
	return rc;
}
