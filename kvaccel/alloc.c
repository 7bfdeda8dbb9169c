// SPDX-License-Identifier: MIT
/*
 * kvaccel's one allocation wrapper: every file of the component allocates
 * through it (a test can count or fail allocations here), and it calls
 * nothing else of kvaccel, so it sits below the rest.
 */
#include <stdlib.h>

#include "kvaccel_internal.h"

void *kva_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

void kva_free(void *p)
{
	free(p);
}
