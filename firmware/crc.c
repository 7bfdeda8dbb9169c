// SPDX-License-Identifier: MIT
/*
 * CRC-32C: the SSE4.2 instruction when the CPU has it (checked once at run
 * time), a table otherwise.  Both give identical results.
 */
#include "crc.h"

#include <stdbool.h>
#include <string.h>

static uint32_t table[256];
static int have_hw = -1;

static void init_table(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		table[i] = c;
	}
}

static uint32_t crc_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

static bool cpu_has_sse42(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse4.2");
}
#else
static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	return crc_sw(crc, p, len);
}

static bool cpu_has_sse42(void)
{
	return false;
}
#endif

uint32_t fw_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (have_hw < 0) {
		init_table();
		have_hw = cpu_has_sse42();
	}
	crc = ~crc;
	crc = have_hw ? crc_hw(crc, buf, len) : crc_sw(crc, buf, len);
	return ~crc;
}
