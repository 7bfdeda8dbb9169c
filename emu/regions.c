// SPDX-License-Identifier: MIT
/* Aligned, huge-page memory regions for the firmware, taken ahead; see regions.h. */
#include "regions.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "clock.h"
#include "thread.h"

/* Map @size bytes aligned to @align (a power of two) with mmap @flags; NULL: none. */
static uint8_t *map_aligned(size_t size, size_t align, int flags)
{
	size_t span = size + align;
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags,
			  -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + span > a + size)
		munmap(a + size, (size_t)(p + span - (a + size)));
	(void)madvise(a, size, MADV_HUGEPAGE); /* a hint: without it, small pages */
	return a;
}

/* The first request's size: reserve the address range its regions come from
 * (under strict overcommit none: each region is then mapped on its own). */
static void reserve(struct emu_regions *r, size_t len)
{
	if (len > EMU_REGIONS_RESERVE)
		return;
	r->arena = map_aligned(EMU_REGIONS_RESERVE, len, MAP_NORESERVE);
	r->arena_len = r->arena ? EMU_REGIONS_RESERVE : 0;
}

/* The next region of the reserved range; NULL: none (another size, or full). */
static uint8_t *carve(struct emu_regions *r, size_t len)
{
	uint8_t *p = NULL;

	pthread_mutex_lock(&r->mu);
	if (r->arena && len == r->len && r->arena_len - r->arena_used >= len) {
		p = r->arena + r->arena_used;
		r->arena_used += len;
	}
	pthread_mutex_unlock(&r->mu);
	return p;
}

/* A region of @len bytes aligned to @len, its memory taken now; *@cpu_ns
 * gets the CPU time that took. */
static void *take(struct emu_regions *r, size_t len, uint64_t *cpu_ns)
{
	uint64_t t = emu_thread_cpu_ns();
	uint8_t *a = carve(r, len);

	if (!a)
		a = map_aligned(len, len, 0);
	if (a)
		(void)madvise(a, len, MADV_POPULATE_WRITE); /* failing: faults as used */
	*cpu_ns = emu_thread_cpu_ns() - t;
	return a;
}

static void *helper(void *arg)
{
	struct emu_regions *r = arg;
	struct sched_param idle = { 0 };

	/* Idle time only, as the NAND memory's helper (media.c). */
	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		size_t len = r->len;
		uint64_t ns;
		void *p;

		if (r->nready == EMU_REGIONS_AHEAD) {
			pthread_cond_wait(&r->cv, &r->mu);
			continue;
		}
		pthread_mutex_unlock(&r->mu);
		p = take(r, len, &ns);
		pthread_mutex_lock(&r->mu);
		r->ahead_cpu_ns += ns;
		if (!p)
			break; /* no memory: requests take their own, and fail there */
		if (r->stop) {
			munmap(p, len);
			break;
		}
		r->ready[r->nready++] = p;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

void emu_regions_init(struct emu_regions *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
}

void *emu_regions_get(struct emu_regions *r, size_t len)
{
	uint64_t ns;
	void *p = NULL;

	pthread_mutex_lock(&r->mu);
	if (!r->started) {
		r->len = len;
		reserve(r, len);
		/* Without a helper (no thread to be had) every request waits. */
		r->started = emu_thread_start_quiet(&r->th, helper, r);
	}
	if (r->nready && len == r->len) {
		p = r->ready[--r->nready];
		r->ahead++;
		pthread_cond_signal(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	if (p)
		return p;
	p = take(r, len, &ns);
	pthread_mutex_lock(&r->mu);
	r->spot_cpu_ns += ns;
	r->spot += p != NULL;
	pthread_mutex_unlock(&r->mu);
	return p;
}

void emu_regions_put(void *p, size_t len)
{
	munmap(p, len);
}

void emu_regions_fini(struct emu_regions *r)
{
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (r->started)
		pthread_join(r->th, NULL);
	while (r->nready)
		munmap(r->ready[--r->nready], r->len);
	if (r->arena)
		munmap(r->arena, r->arena_len);
	r->arena = NULL;
	r->arena_len = r->arena_used = 0;
	r->started = false;
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

struct emu_regions_stats emu_regions_stats(struct emu_regions *r)
{
	struct emu_regions_stats s;

	pthread_mutex_lock(&r->mu);
	s = (struct emu_regions_stats){ r->spot_cpu_ns, r->ahead_cpu_ns, r->spot, r->ahead };
	pthread_mutex_unlock(&r->mu);
	return s;
}
