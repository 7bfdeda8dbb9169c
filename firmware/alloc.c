// SPDX-License-Identifier: MIT
/* Allocation wrapper with failure injection for tests. */
#include "alloc.h"

#include <stdlib.h>

static long fail_after = -1;
static unsigned long calls, fail_once_at;

static int should_fail(void)
{
	calls++;
	if (fail_once_at && calls == fail_once_at)
		return 1;
	if (fail_after < 0)
		return 0;
	if (fail_after == 0)
		return 1;
	fail_after--;
	return 0;
}

int fw_alloc_refused(void)
{
	return should_fail();
}

void fw_alloc_fail_after(long n)
{
	fail_after = n;
}

void fw_alloc_fail_once(unsigned long n)
{
	fail_once_at = n ? calls + n : 0;
}

unsigned long fw_alloc_calls(void)
{
	return calls;
}

void *fw_malloc(size_t size)
{
	return should_fail() ? NULL : malloc(size);
}

void *fw_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : calloc(n, size);
}

void *fw_realloc(void *p, size_t size)
{
	return should_fail() ? NULL : realloc(p, size);
}

void fw_free(void *p)
{
	free(p);
}
