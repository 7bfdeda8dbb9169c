// SPDX-License-Identifier: MIT
/* Hosts for the firmware fuzz targets; see fuzzhost.h. */
#include "fuzzhost.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "firmware/fw.h"

#define PG 4096u

void fz_host_attach(struct fh_host *h, struct fh_env *e, struct fw_subsys *s, bool *ready)
{
	uintptr_t m = (uintptr_t)h->mem, a = (m + PG - 1) & ~(uintptr_t)(PG - 1);
	uintptr_t b = (m + FH_MEM_SIZE) & ~(uintptr_t)(PG - 1);

	if (!*ready) {
		fh_host_init(h, e, s);
		*ready = true;
		return;
	}
	/* Private anonymous memory reads as zero after MADV_DONTNEED. */
	memset(h->mem, 0, a - m);
	CHECK(madvise((void *)a, b - a, MADV_DONTNEED) == 0);
	memset((void *)b, 0, m + FH_MEM_SIZE - b);
	memset((void *)h->bar, 0, 0x2000);
	memset(h->q, 0, sizeof(h->q));
	h->env = e;
	h->brk = 4096;
	h->irqs = 0;
	h->next_cid = 0;
	CHECK(fw_ctrl_create(s, &h->hif, 1, &h->ctrl) == 0);
}
