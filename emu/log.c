// SPDX-License-Identifier: MIT
/* The emulator's log; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static unsigned int log_level = 2;

void emu_log_set_level(unsigned int level)
{
	log_level = level;
}

void emu_log(unsigned int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	struct timespec ts;
	va_list ap;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "nvkv-emu %ld.%03ld %s: ", (long)ts.tv_sec, ts.tv_nsec / 1000000,
		names[level > 3 ? 3 : level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
