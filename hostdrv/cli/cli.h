/* SPDX-License-Identifier: MIT */
/*
 * The nvkv command's shared pieces: the parsed command line, exit statuses,
 * the shared parsing (args.c) and device helpers (dev.c) every command uses,
 * and the commands nvkv_main.c dispatches to, one family per file (kv.c,
 * ctrl.c, block.c, passthru.c, feature.c, connect.c).  Part of the program,
 * not of libnvkv.
 */
#ifndef NVKV_CLI_H
#define NVKV_CLI_H

#include <getopt.h>
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

/* nvkv-emu listens here unless told otherwise (emu.socket's default). */
#define CLI_DEFAULT_DEVICE "/tmp/nvkv.sock"

/* args.c: the shared parsing */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool take_device(struct cli *c, const char *arg);
/* After getopt: the device may stand at argv[optind]; any other word left is a usage error. */
int end_of_args(struct cli *c);
/* A DEVICE after the COMMAND: a path, "sim[:FILE]", "tcp://...", or an existing socket or device. */
bool cli_looks_like_device(const char *s);
int read_all(FILE *f, uint8_t **out, size_t *len, size_t max);
/* Unsigned numbers as strtoull reads them (0x.., 0..); -EINVAL for "", "-..", junk, overflow. */
int parse_u64(const char *s, uint64_t *v);
int parse_u32(const char *s, uint32_t *v);
/* @path opened for reading, standard input for NULL; NULL (said on stderr) if it cannot be. */
FILE *open_input(const char *path);
/* Decode @s (text, or hex when @hex) into a new buffer: 0, -EINVAL (bad hex), -ENOMEM. */
int cli_decode_arg(const char *s, bool hex, uint8_t **out, size_t *len);

/* One option of a command: its code, and its name as written ("--limit", "-n"); optarg holds
 * its value.  Return: 0, or an exit status to stop parsing with. */
typedef int cli_opt_fn(struct cli *c, void *ctx, int ch, const char *name);

/**
 * cli_parse_opts() - getopt_long over the options of @c's command line.
 * @shortopts: getopt's short options, starting with ':'.
 * @lo: the long options.
 * @fn: called with @ctx for each option.
 * A missing value and an unknown option are usage errors, said on stderr.
 * The positionals are left at c->argv[optind..].
 * Return: 0, EX_USAGE, or what @fn returned.
 */
int cli_parse_opts(struct cli *c, const char *shortopts, const struct option *lo, cli_opt_fn *fn,
		   void *ctx);
/* Option values: 0, or EX_USAGE (said on stderr, the option named @name). */
int cli_u32_opt(const char *name, const char *arg, uint32_t *v);     /* a 32-bit number */
int cli_ms_opt(const char *name, const char *arg, uint32_t *ms);     /* milliseconds */
int cli_output_format(const char *name, const char *fmt, bool *raw); /* normal | binary */

/* The options of the key-value and device commands.  Each command says which it takes
 * (a mask of bits). */
enum copt {
	O_HEX = 1 << 0,
	O_XFER = 1 << 1,
	O_FILE = 1 << 2,
	O_MUST_EXIST = 1 << 3,
	O_MUST_NOT_EXIST = 1 << 4,
	O_LIMIT = 1 << 5,
	O_JSON = 1 << 6,
	O_KEY = 1 << 7,
	O_VALUE = 1 << 8,
	O_TIMEOUT = 1 << 9,
	O_XFER_STRICT = 1 << 10,
	O_NSID = 1 << 11,
};

struct cli_common {
	const char *file, *key, *value;
	bool must_exist, must_not_exist, json;
	long limit;
	uint32_t nsid; /* 0: not given */
	int npos;      /* positional arguments after the command */
	char **pos;    /* and where they are */
};

/* Parse the options @allowed (a mask of enum copt) and collect the positionals. */
int cli_parse_common(struct cli *c, struct cli_common *o, unsigned int allowed);
/* At most @max positionals: a stray word is a mistake, not something to ignore. */
int cli_check_extra(const struct cli *c, const struct cli_common *o, int max);

/* dev.c: the device */
/* Map a library return value to an exit status, printing what went wrong. */
int report(const char *what, int rc);
int open_dev(struct cli *c);
/* CLOCK_MONOTONIC in microseconds, for the --latency figures. */
uint64_t now_us(void);
/* With @on, "latency: CMD: N us" on stderr, N counted from @t0 (now_us()). */
void show_latency(const struct cli *c, bool on, uint64_t t0);

/* kv.c: the Key Value commands */
int cmd_store(struct cli *c);
int cmd_retrieve(struct cli *c);
int cmd_delete(struct cli *c);
int cmd_exist(struct cli *c);
int cmd_list(struct cli *c);

/* ctrl.c: the commands on the whole device */
int cmd_identify(struct cli *c);
int cmd_flush(struct cli *c);
int cmd_stats(struct cli *c);
int cmd_format(struct cli *c);

/* passthru.c: io-passthru, admin-passthru */
int cmd_io_passthru(struct cli *c);
int cmd_admin_passthru(struct cli *c);
extern const char cli_passthru_usage[];

/* feature.c: set-feature, get-feature (their parsing: feature.h) */
int cmd_set_feature(struct cli *c);
int cmd_get_feature(struct cli *c);

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
