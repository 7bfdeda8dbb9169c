/* SPDX-License-Identifier: MIT */
/*
 * For the emulator's unit tests: how many threads of this process run under
 * SCHED_IDLE (the helpers that take memory ahead must, see emu/media.h).
 */
#ifndef TEST_IDLE_THREADS_H
#define TEST_IDLE_THREADS_H

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"

/* Threads of this process under SCHED_IDLE (policy: field 41 of stat). */
static inline int idle_threads(void)
{
	char path[300], line[1024], *p;
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0, f;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		FILE *fp;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue; /* gone meanwhile */
		p = fgets(line, sizeof(line), fp) ? strrchr(line, ')') : NULL;
		fclose(fp);
		ck_assert_ptr_nonnull(p);
		/* ") " ends field 2; each space after it starts the next field */
		for (f = 2; f < 41 && p; f++)
			p = strchr(p + 1, ' ');
		ck_assert_ptr_nonnull(p);
		n += atoi(p + 1) == SCHED_IDLE;
	}
	closedir(d);
	return n;
}

#endif /* TEST_IDLE_THREADS_H */
