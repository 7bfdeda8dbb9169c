/* SPDX-License-Identifier: MIT */
/*
 * Opcode names per command set, for logs, statistics and the CLI.  Which
 * opcodes a device supports is the device's business (firmware's command
 * table); this only names them.
 */
#ifndef KVC_OPCODE_H
#define KVC_OPCODE_H

#include <stdint.h>

enum kvc_cmd_set {
	KVC_SET_ADMIN,
	KVC_SET_NVM,
	KVC_SET_KV,
};

/**
 * kvc_opcode_str() - name of an opcode.
 * @set: admin queue, or the I/O command set of the namespace.
 * @opc: opcode.
 *
 * Return: a static lower-case name ("store", "bandslim-xfer", ...), or
 * "unknown".  Never NULL.
 */
const char *kvc_opcode_str(enum kvc_cmd_set set, uint8_t opc);

#endif /* KVC_OPCODE_H */
