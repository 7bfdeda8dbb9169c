/* SPDX-License-Identifier: MIT */
/*
 * nvkv-perf --block: random block I/O on an NVM namespace through libnvkv's
 * public block API, one host thread, one queue.
 */
#ifndef BENCH_PERF_BLOCK_H
#define BENCH_PERF_BLOCK_H

#include <stdint.h>

#include "hostdrv/nvkv.h"

struct perf_block_opts {
	uint32_t nsid;	  /* 0: the device's first NVM namespace */
	uint64_t num;	  /* I/Os of each QD>1 phase; the QD1 phases do num / 4 + 1 */
	uint32_t io_size; /* bytes per I/O, a multiple of the LBA size (4096) */
	uint64_t span;	  /* bytes of the namespace the I/Os fall in, 0: all of it */
	unsigned int qd;  /* queue depth of the first phases (64) */
};

/**
 * perf_block_run() - random write then random read at @o->qd, then both at
 * QD 1; prints IOPS, MB/s and latency percentiles (submission to callback)
 * per phase.
 * @d: an open device; a private queue is opened on it and closed again.
 * Return: 0; 1 an I/O failed (its status is printed); 2 bad options or no
 * NVM namespace; 3 transport error.
 */
int perf_block_run(struct nvkv_dev *d, const struct perf_block_opts *o);

#endif /* BENCH_PERF_BLOCK_H */
