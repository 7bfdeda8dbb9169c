// SPDX-License-Identifier: MIT
/*
 * The simulated device ("sim", "sim:FILE.ini"): libnvkv's transport to a
 * controller of the firmware running inside this process on a virtual clock.
 *
 * Host memory is a local buffer, the BAR a local array, NAND pages live in
 * memory (erased pages read as FFh) and there is no catalog, so the device
 * starts empty at every open and keeps nothing.  Nothing runs by itself: a
 * register or doorbell write runs the firmware (fw_ctrl_poll()) until it is
 * idle, and when the driver waits for a completion and the firmware has
 * nothing to do, the clock jumps to the earliest modeled completion
 * (fw_ctrl_next_due()).  The firmware runs with timing realtime, so every
 * completion is posted at its modeled time.  Host CPU time costs no virtual
 * time, except the modeled host overhead [sim] host_overhead_ns, charged per
 * I/O submission doorbell.  So the same run gives the same figures on any
 * machine, however loaded, and a long run costs CPU time, not modeled time.
 *
 * Several host threads may share one simulated device (a lock serializes
 * the firmware), but then the order in which they submit follows the OS
 * scheduler: bit-identical figures need one submitting thread.
 */
#include <errno.h>
#include <ini.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cmdset/cmdset.h"
#include "emu/config.h"
#include "firmware/fw.h"
#include "hostdrv/nvkv_internal.h"

/*
 * The virtual clock starts at 1 s, not 0: the firmware subtracts modeled
 * spans (e.g. the write buffer's slack) from times and, like a device whose
 * clock has run since power-on, expects times larger than those spans.
 */
#define SIM_EPOCH_NS 1000000000ull
/* Nothing will ever complete: move on this much so host timeouts still expire. */
#define SIM_IDLE_STEP_NS 1000000ull

struct sim {
	struct nvkv_transport t;
	struct emu_config cfg;
	uint64_t host_ns; /* [sim] host_overhead_ns */
	struct fw_hal hal;
	struct fw_host_if hif;
	struct fw_subsys *sub;
	struct fw_ctrl *ctrl;
	uint32_t *bar;
	size_t bar_size;
	uint64_t now;	       /* virtual clock, ns; atomic */
	uint64_t host_pending; /* host overhead not yet on the clock; atomic */
	pthread_mutex_t lock;  /* the firmware is single-threaded; recursive */
	/* NAND: one buffer per programmed page, NULL when erased */
	uint8_t **pages;
	uint64_t npages;
	uint32_t page_size, pages_per_block;
};

static struct sim *sim_of(struct nvkv_transport *t)
{
	return (struct sim *)t;
}

static void *sim_alloc(size_t n)
{
	return calloc(1, n);
}

/* ---- HAL: clock, memory NAND, log ------------------------------------------------- */

static uint64_t hal_now(void *ctx)
{
	return __atomic_load_n(&((struct sim *)ctx)->now, __ATOMIC_RELAXED);
}

static int hal_read(void *ctx, uint64_t ppn, uint32_t off, uint32_t len, void *buf)
{
	struct sim *s = ctx;

	if (ppn >= s->npages || off > s->page_size || len > s->page_size - off)
		return -EINVAL;
	if (s->pages[ppn])
		memcpy(buf, s->pages[ppn] + off, len);
	else
		memset(buf, 0xff, len);
	return 0;
}

static int hal_program(void *ctx, uint64_t ppn, const void *buf)
{
	struct sim *s = ctx;

	if (ppn >= s->npages)
		return -EINVAL;
	if (!s->pages[ppn])
		s->pages[ppn] = malloc(s->page_size);
	if (!s->pages[ppn])
		return -EIO;
	memcpy(s->pages[ppn], buf, s->page_size);
	return 0;
}

/* Nothing to survive: this process is the device. */
static int hal_stage(void *ctx, uint64_t ppn, const void *buf, size_t len)
{
	struct sim *s = ctx;

	(void)buf;
	return ppn < s->npages && len <= s->page_size ? 0 : -EINVAL;
}

static int hal_erase(void *ctx, uint64_t block)
{
	struct sim *s = ctx;
	uint64_t i, first = block * s->pages_per_block;

	if (first + s->pages_per_block > s->npages)
		return -EINVAL;
	for (i = first; i < first + s->pages_per_block; i++) {
		free(s->pages[i]);
		s->pages[i] = NULL;
	}
	return 0;
}

static void hal_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= FW_LOG_WARN)
		fprintf(stderr, "nvkv sim: %s\n", msg);
}

/* ---- host interface: host memory is ours -------------------------------------------- */

static int hif_dma_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct sim *s = ctx;

	if (addr > s->t.mem_size || len > s->t.mem_size - addr)
		return -EFAULT;
	memcpy(buf, s->t.mem + addr, len);
	return 0;
}

static int hif_dma_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	struct sim *s = ctx;

	if (addr > s->t.mem_size || len > s->t.mem_size - addr)
		return -EFAULT;
	memcpy(s->t.mem + addr, buf, len);
	return 0;
}

/* The host polls its completion queues: an interrupt has nobody to wake. */
static void hif_irq(void *ctx, uint16_t vector)
{
	(void)ctx;
	(void)vector;
}

/* ---- the event loop ------------------------------------------------------------------- */

/* Run the firmware until it has nothing to do now; lock held.  Return the work done. */
static uint64_t run_fw(struct sim *s)
{
	uint64_t total = 0;
	int n;

	while ((n = fw_ctrl_poll(s->ctrl)) > 0)
		total += (uint64_t)n;
	return total;
}

static void set_now(struct sim *s, uint64_t t)
{
	__atomic_store_n(&s->now, t, __ATOMIC_RELAXED);
}

/* Put the host overhead of the doorbells rung so far on the clock; lock held. */
static void charge_host(struct sim *s)
{
	uint64_t h = __atomic_exchange_n(&s->host_pending, 0, __ATOMIC_RELAXED);

	if (h)
		set_now(s, s->now + h);
}

/* ---- transport ops ---------------------------------------------------------------- */

static uint32_t sim_reg_read(struct nvkv_transport *t, uint32_t off)
{
	return __atomic_load_n(&sim_of(t)->bar[off / 4], __ATOMIC_ACQUIRE);
}

static void sim_reg_write(struct nvkv_transport *t, uint32_t off, uint32_t v)
{
	struct sim *s = sim_of(t);
	uint32_t db = (off - KVC_REG_DBS) / 4;

	__atomic_store_n(&s->bar[off / 4], v, __ATOMIC_SEQ_CST);
	/* An I/O submission queue's tail doorbell (stride 0: even doorbells). */
	if (s->host_ns && off >= KVC_REG_DBS && db % 2 == 0 && db / 2 > 0)
		__atomic_fetch_add(&s->host_pending, s->host_ns, __ATOMIC_RELAXED);
}

static void sim_kick(struct nvkv_transport *t)
{
	struct sim *s = sim_of(t);

	pthread_mutex_lock(&s->lock);
	charge_host(s);
	run_fw(s);
	pthread_mutex_unlock(&s->lock);
}

static void sim_advance(struct nvkv_transport *t)
{
	struct sim *s = sim_of(t);
	uint64_t due;

	pthread_mutex_lock(&s->lock);
	charge_host(s);
	if (!run_fw(s)) {
		due = fw_ctrl_next_due(s->ctrl);
		if (due == UINT64_MAX)
			set_now(s, s->now + SIM_IDLE_STEP_NS);
		else if (due > s->now)
			set_now(s, due);
		run_fw(s);
	}
	pthread_mutex_unlock(&s->lock);
}

static void sim_sleep(struct nvkv_transport *t, uint64_t ns)
{
	struct sim *s = sim_of(t);
	uint64_t until, due;

	pthread_mutex_lock(&s->lock);
	charge_host(s);
	until = s->now + ns;
	run_fw(s);
	/* Every event on the way, in order, as if the host had slept through them. */
	while ((due = fw_ctrl_next_due(s->ctrl)) <= until) {
		if (due > s->now)
			set_now(s, due);
		if (!run_fw(s) && due <= s->now)
			break; /* due now, but held back (a full CQ): the host must act */
	}
	set_now(s, until);
	run_fw(s);
	pthread_mutex_unlock(&s->lock);
}

/* Host threads read their completion queues while no firmware runs. */
static void sim_cq_enter(struct nvkv_transport *t)
{
	pthread_mutex_lock(&sim_of(t)->lock);
}

static void sim_cq_exit(struct nvkv_transport *t)
{
	pthread_mutex_unlock(&sim_of(t)->lock);
}

static uint64_t sim_clock(struct nvkv_transport *t)
{
	return hal_now(sim_of(t));
}

static bool sim_dead(struct nvkv_transport *t)
{
	(void)t;
	return false; /* the device lives as long as this process */
}

static void sim_irq_nop(struct nvkv_transport *t)
{
	(void)t;
}

static void sim_irq_sleep(struct nvkv_transport *t, int timeout_ms)
{
	(void)timeout_ms;
	sim_advance(t);
}

static void sim_free(struct sim *s)
{
	uint64_t i;

	if (s->ctrl)
		fw_ctrl_destroy(s->ctrl);
	if (s->sub)
		fw_subsys_destroy(s->sub);
	if (s->pages)
		for (i = 0; i < s->npages; i++)
			free(s->pages[i]);
	free(s->pages);
	free(s->bar);
	if (s->t.mem)
		munmap(s->t.mem, s->t.mem_size);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void sim_close(struct nvkv_transport *t)
{
	sim_free(sim_of(t));
}

static const struct nvkv_transport_ops sim_ops = {
	.name = "sim",
	.close = sim_close,
	.reg_read = sim_reg_read,
	.reg_write = sim_reg_write,
	.kick = sim_kick,
	.dead = sim_dead,
	.irq_arm = sim_irq_nop,
	.irq_disarm = sim_irq_nop,
	.irq_sleep = sim_irq_sleep,
	.advance = sim_advance,
	.clock_ns = sim_clock,
	.sleep_ns = sim_sleep,
	.cq_enter = sim_cq_enter,
	.cq_exit = sim_cq_exit,
};

/* ---- the profile ------------------------------------------------------------------- */

struct profile_ctx {
	struct sim *s;
	char err[256];
	int failed;
};

/* [sim] is ours; every other section is nvkv-emu's configuration. */
static int profile_cb(void *user, const char *section, const char *key, const char *value)
{
	struct profile_ctx *x = user;
	char name[128];
	char *end;

	if (x->failed)
		return 0;
	if (!strcmp(section, "sim")) {
		unsigned long long v;

		errno = 0;
		v = strtoull(value, &end, 10);
		if (strcmp(key, "host_overhead_ns") || errno || end == value || *end ||
		    v > 1000000000ull) {
			snprintf(x->err, sizeof(x->err),
				 "sim.%s: unknown key, or not a number of ns 0..1000000000", key);
			x->failed = 1;
			return 0;
		}
		x->s->host_ns = v;
		return 1;
	}
	snprintf(name, sizeof(name), "%s.%s", section, key);
	if (emu_config_set(&x->s->cfg, name, value, x->err, sizeof(x->err))) {
		x->failed = 1;
		return 0;
	}
	return 1;
}

static int load_profile(struct sim *s, const char *spec)
{
	struct profile_ctx x = { .s = s };
	const char *path = spec[3] == ':' ? spec + 4 : NULL;
	int rc;

	emu_config_default(&s->cfg);
	if (path) {
		rc = ini_parse(path, profile_cb, &x);
		if (rc == -1) {
			fprintf(stderr, "nvkv sim: %s: cannot open: %s\n", path, strerror(errno));
			return -ENOENT;
		}
		if (x.failed || rc) {
			if (!x.failed)
				snprintf(x.err, sizeof(x.err), "line %d: syntax error", rc);
			fprintf(stderr, "nvkv sim: %s: %s\n", path, x.err);
			return -EINVAL;
		}
	}
	if (emu_config_finish(&s->cfg, x.err, sizeof(x.err))) {
		fprintf(stderr, "nvkv sim: %s\n", x.err);
		return -EINVAL;
	}
	/* Completions at their modeled times: that is what the virtual clock follows. */
	s->cfg.fw.timing = FW_TIMING_REALTIME;
	return 0;
}

/* ---- open ---------------------------------------------------------------------------- */

static int sim_build(struct sim *s, const struct nvkv_opts *o)
{
	const struct fw_nand_geo *g = &s->cfg.fw.geo;

	s->page_size = g->page_size;
	s->pages_per_block = g->pages_per_block;
	s->npages = (uint64_t)g->channels * g->ways * g->planes * g->blocks_per_plane *
		    g->pages_per_block;
	s->pages = calloc(s->npages, sizeof(*s->pages));
	s->bar_size = fw_bar_size(&s->cfg.fw);
	s->bar = sim_alloc(s->bar_size);
	s->t.mem = mmap(NULL, o->host_mem, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->t.mem == MAP_FAILED)
		s->t.mem = NULL;
	if (!s->pages || !s->bar || !s->t.mem)
		return -ENOMEM;
	s->t.mem_size = o->host_mem;
	s->hal = (struct fw_hal){ .ctx = s,
				  .now_ns = hal_now,
				  .nand_read = hal_read,
				  .nand_program = hal_program,
				  .nand_stage = hal_stage,
				  .nand_erase = hal_erase,
				  .log = hal_log };
	s->hif = (struct fw_host_if){ .ctx = s,
				      .dma_read = hif_dma_read,
				      .dma_write = hif_dma_write,
				      .irq_raise = hif_irq,
				      .bar = s->bar,
				      .bar_size = s->bar_size };
	if (fw_subsys_create(&s->cfg.fw, &s->hal, &s->sub))
		return -ENOMEM;
	return fw_ctrl_create(s->sub, &s->hif, 1, &s->ctrl) ? -ENOMEM : 0;
}

int nvkv_sim_open(const char *spec, const struct nvkv_opts *o, struct nvkv_transport **out)
{
	struct sim *s = sim_alloc(sizeof(*s));
	pthread_mutexattr_t ma;
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	pthread_mutexattr_init(&ma);
	/* Recursive: a completion callback may submit and wait while its poll holds it. */
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	s->now = SIM_EPOCH_NS;
	s->t.ops = &sim_ops;
	s->t.virtual_time = true;
	rc = load_profile(s, spec);
	if (!rc)
		rc = sim_build(s, o);
	if (rc) {
		sim_free(s);
		return rc;
	}
	*out = &s->t;
	return 0;
}
