/* SPDX-License-Identifier: MIT */
/*
 * The firmware's allocator: every allocation of the device model goes through
 * these so tests can make the N-th allocation fail (fw_alloc_fail_after).
 */
#ifndef FW_ALLOC_H
#define FW_ALLOC_H

#include <stddef.h>

void *fw_malloc(size_t size);
void *fw_calloc(size_t n, size_t size);
void *fw_realloc(void *p, size_t size);
void fw_free(void *p);

/* For allocators that take memory in large pieces (pool.h): counts as one
 * allocation call; true when the injected failure hits it. */
int fw_alloc_refused(void);

/* Tests: fail every allocation after @n more succeed; -1 disables. */
void fw_alloc_fail_after(long n);
/* Tests: fail only the @n-th allocation from now (1 = the next); 0 disables. */
void fw_alloc_fail_once(unsigned long n);
/* Tests: allocations attempted so far (malloc, calloc and realloc calls). */
unsigned long fw_alloc_calls(void);

#endif /* FW_ALLOC_H */
