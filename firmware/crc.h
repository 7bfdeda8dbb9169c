/* SPDX-License-Identifier: MIT */
/* CRC-32C (Castagnoli), the checksum of value-log records. */
#ifndef FW_CRC_H
#define FW_CRC_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC-32C over @len bytes; start with crc = 0. */
uint32_t fw_crc32c(uint32_t crc, const void *buf, size_t len);

#endif /* FW_CRC_H */
