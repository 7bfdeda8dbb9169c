/* SPDX-License-Identifier: MIT */
/*
 * The nvkv command's shared pieces: the parsed command line, exit statuses,
 * and the helpers nvkv_main.c provides to the commands kept in other files
 * (hostdrv/cli/block.c: the NVM namespace commands; cli/feature.c: set- and
 * get-feature).  Part of the program, not of libnvkv.
 */
#ifndef NVKV_CLI_H
#define NVKV_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hostdrv/nvkv.h"

enum { EX_OK = 0, EX_DEVICE = 1, EX_USAGE = 2, EX_TRANSPORT = 3 };

struct cli {
	const char *device;
	bool device_given; /* on the command line, not from the environment or default */
	const char *cmd;
	int argc;
	char **argv; /* argv[0] is the command, the device is taken out */
	struct nvkv_dev *d;
	bool hex;
	enum nvkv_xfer xfer;
	bool xfer_strict;    /* refuse a Store --xfer cannot carry */
	uint32_t timeout_ms; /* 0: the CLI's default */
};

/* nvkv_main.c */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int report(const char *what, int rc);
int open_dev(struct cli *c);
bool take_device(struct cli *c, const char *arg);
/* After getopt: the device may stand at argv[optind]; any other word left is a usage error. */
int end_of_args(struct cli *c);
int read_all(FILE *f, uint8_t **out, size_t *len, size_t max);
/* Unsigned numbers as strtoull reads them (0x.., 0..); -EINVAL for "", "-..", junk, overflow. */
int parse_u64(const char *s, uint64_t *v);
int parse_u32(const char *s, uint32_t *v);
/* @path opened for reading, standard input for NULL; NULL (said on stderr) if it cannot be. */
FILE *open_input(const char *path);
/* CLOCK_MONOTONIC in microseconds, for the --latency figures. */
uint64_t now_us(void);
/* With @on, "latency: CMD: N us" on stderr, N counted from @t0 (now_us()). */
void show_latency(const struct cli *c, bool on, uint64_t t0);

/* block.c: the NVM namespace commands, and the namespaces in `nvkv stats` */
int cmd_read(struct cli *c);
int cmd_write(struct cli *c);
int cmd_write_zeroes(struct cli *c);
int cmd_dsm(struct cli *c);
int cmd_id_ns(struct cli *c);
int cmd_list_ns(struct cli *c);
extern const char cli_read_usage[], cli_write_usage[], cli_write_zeroes_usage[], cli_dsm_usage[],
	cli_id_ns_usage[], cli_list_ns_usage[];
void cli_stats_namespaces(struct cli *c, FILE *f);

/* connect.c: the kernel's NVMe/TCP initiator through libnvme */
int cmd_connect(struct cli *c);
int cmd_disconnect(struct cli *c);
extern const char cli_connect_usage[], cli_disconnect_usage[];

#endif /* NVKV_CLI_H */
