/* SPDX-License-Identifier: MIT */
/*
 * nvkv-emu configuration: one table of knobs drives the INI file parser,
 * the command-line flags (--SECTION-KEY VALUE, or --set SECTION.KEY=VALUE),
 * `nvkv-emu --help` and docs/emulator-config.md.
 */
#ifndef EMU_CONFIG_H
#define EMU_CONFIG_H

#include <stdio.h>

#include "firmware/fw.h"

/*
 * Test-only fault injection (INI section [fault]), applied by the HAL of
 * emu/device.c.  Operations are numbered from 1, counted from the end of
 * start-up (recovery is not counted); 0 = off.  *_at fails that one
 * operation (transient), *_from every one from it on (persistent).
 */
struct emu_faults {
	uint64_t nand_read_at, nand_read_from;
	uint64_t nand_program_at, nand_program_from;
	uint64_t nand_erase_at, nand_erase_from;
	uint64_t media_short_write_at, media_enospc_from; /* programs + stagings */
	uint64_t catalog_write_at, catalog_full_from;	  /* put, delete, blob, commit */
	uint64_t alloc_from;				  /* firmware allocations */
};

struct emu_config {
	struct fw_config fw;
	char socket[108];
	char store[4096]; /* empty: in-memory device */
	char stats_json[4096];
	char nand_profile[16];
	unsigned int log_level; /* 0 err, 1 warn, 2 info, 3 debug */
	unsigned int idle_spin_us;
	char tcp[64];		 /* NVMe/TCP "[addr:]port"; empty: off */
	unsigned int tcp_ioccsz; /* 16-byte units */
	unsigned int tcp_maxh2cdata;
	bool tcp_digests;
	unsigned int tcp_threads; /* NVMe/TCP event-loop threads */
	uint64_t lmdb_map_mb;
	uint64_t journal_mb; /* catalog journal folded into data.mdb past this */
	bool media_prefault; /* in-memory NAND: take all its memory at start */
	/* profile overrides; 0 = take the profile's value */
	unsigned int read_us, program_us, erase_us;
	struct emu_faults fault;
};

void emu_config_default(struct emu_config *c);

/**
 * emu_config_set() - set one knob from text.
 * @name: "section.key".
 * @value: text, with K/M/G/T suffixes for sizes.
 * @err: receives a one-line message on failure.
 * Return: 0, or -EINVAL (unknown key or bad value).
 */
int emu_config_set(struct emu_config *c, const char *name, const char *value, char *err,
		   size_t errlen);

/* Load an INI file.  Return 0 or -EINVAL/-ENOENT with @err filled. */
int emu_config_load(struct emu_config *c, const char *path, char *err, size_t errlen);

/* Apply the NAND profile and cross-field checks.  Return 0 or -EINVAL. */
int emu_config_finish(struct emu_config *c, char *err, size_t errlen);

/* Print the knob reference (`--help`); @markdown for the docs table. */
void emu_config_help(FILE *f, int markdown);

/*
 * Look a command-line flag up: "nand-channels" -> "nand.channels"; a key alone
 * ("page-size", "timing") when only one section has it.  NULL: no such knob.
 */
const char *emu_config_flag_to_key(const char *flag, char *buf, size_t len);

/* Print the effective configuration, INI format. */
void emu_config_dump(FILE *f, const struct emu_config *c);

#endif /* EMU_CONFIG_H */
