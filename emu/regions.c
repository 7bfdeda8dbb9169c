// SPDX-License-Identifier: MIT
/* Aligned, huge-page memory regions for the firmware, taken ahead; see regions.h. */
#include "regions.h"

#include <string.h>
#include <sys/mman.h>

#include "clock.h"
#include "thread.h"

/* Map @len bytes aligned to @len and take their memory now; *@cpu_ns gets
 * the CPU time that took. */
static void *take(size_t len, uint64_t *cpu_ns)
{
	size_t span = len * 2;
	uint64_t t = emu_thread_cpu_ns();
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED) {
		*cpu_ns = emu_thread_cpu_ns() - t;
		return NULL;
	}
	a = (uint8_t *)(((uintptr_t)p + len - 1) & ~(uintptr_t)(len - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + span > a + len)
		munmap(a + len, (size_t)(p + span - (a + len)));
	(void)madvise(a, len, MADV_HUGEPAGE);	    /* a hint: without it, small pages */
	(void)madvise(a, len, MADV_POPULATE_WRITE); /* failing: faults as used */
	*cpu_ns = emu_thread_cpu_ns() - t;
	return a;
}

static void *helper(void *arg)
{
	struct emu_regions *r = arg;

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
		p = take(len, &ns);
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
	p = take(len, &ns);
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
