/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the firmware fuzz targets: invariant checks that abort
 * (libFuzzer reports the input), and fake-HAL hosts that live as long as the
 * process.
 */
#ifndef TEST_FUZZHOST_H
#define TEST_FUZZHOST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "firmware/fakehost.h"

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/**
 * fz_host_attach() - attach host @h to subsystem @s through a new controller.
 * @h: host; initialized with fh_host_init() on the first call (*@ready false).
 * @e: the fake environment of @s.
 * @s: subsystem.
 * @ready: whether @h has been initialized; set.
 *
 * Later calls keep @h's 8 MiB of memory (allocating it per input costs more
 * under ASan than the input) and make it read as zero again, clear the BAR
 * and the queue state.  Detach with fw_ctrl_destroy(h->ctrl).
 */
void fz_host_attach(struct fh_host *h, struct fh_env *e, struct fw_subsys *s, bool *ready);

#endif /* TEST_FUZZHOST_H */
