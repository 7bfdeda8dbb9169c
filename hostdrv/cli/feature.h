/* SPDX-License-Identifier: MIT */
/*
 * nvkv set-feature / get-feature: nvme-cli's flags and output, parsed and run
 * here so that the command-line client's main file only dispatches to them.
 * Part of the nvkv program, not of libnvkv.
 */
#ifndef NVKV_CLI_FEATURE_H
#define NVKV_CLI_FEATURE_H

#include <stdbool.h>
#include <stdint.h>

#include "hostdrv/nvkv.h"

struct cli_feature {
	bool set;	     /* set-feature, else get-feature */
	uint8_t fid;	     /* --feature-id */
	uint32_t nsid;	     /* --namespace-id; default 1 for FID 20h, else 0 */
	uint32_t value;	     /* set: --value (CDW11) */
	bool save;	     /* set: --save (SV) */
	unsigned int sel;    /* get: --sel, 0..3 */
	bool human;	     /* get: --human-readable */
	uint32_t timeout_ms; /* --timeout, 0: the client's default */
	int npos;	     /* positional arguments left (the DEVICE, nvme-cli's order) */
	char **pos;
};

extern const char cli_set_feature_usage[];
extern const char cli_get_feature_usage[];

/**
 * cli_feature_parse() - parse a set-feature / get-feature command line.
 * @argv: argv[0] is the command; the DEVICE, if any, stays among the
 *        positionals for the caller.
 * Return: 0, or 2 (usage error, already reported on stderr).
 */
int cli_feature_parse(int argc, char **argv, bool set, struct cli_feature *f);

/**
 * cli_feature_run() - send the command and print nvme-cli's result line.
 * Return: 0 or what libnvkv returned (nothing printed then).
 */
int cli_feature_run(struct nvkv_dev *d, const struct cli_feature *f);

#endif /* NVKV_CLI_FEATURE_H */
