// SPDX-License-Identifier: MIT
/*
 * The two Check entry points that the fake HAL (tests/unit/firmware/fakehost.c)
 * reaches through ck_assert, for fuzz targets that reuse it without a Check
 * runner: a failed assertion prints where and aborts, which libFuzzer reports
 * as a crash with the input that caused it.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void _mark_point(const char *file, int line)
{
	(void)file;
	(void)line;
}

void _ck_assert_failed(const char *file, int line, const char *expr, const char *msg, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: %s", file, line, expr);
	if (msg) {
		fputs(": ", stderr);
		va_start(ap, msg);
		vfprintf(stderr, msg, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	abort();
}
