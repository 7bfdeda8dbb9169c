// SPDX-License-Identifier: MIT
/*
 * nvkv set-feature / get-feature with nvme-cli 2.x's flags and result lines:
 *   set-feature -f|--feature-id FID [-V|--value V] [-n|--namespace-id N] [-s|--save]
 *   get-feature -f|--feature-id FID [-s|--sel 0..3] [-n|--namespace-id N] [-H]
 * Features that move a data buffer are not supported.
 * Part of the nvkv program, not of libnvkv.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdrv/cli/cli.h"
#include "feature.h"

const char cli_set_feature_usage[] =
	"usage: nvkv set-feature [DEVICE] -f FID [-V VALUE] [-n NSID] [-s] [-t MS]\n"
	"nvme-cli's flags:\n"
	"  -f, --feature-id FID     feature identifier (0x20: Key Value Configuration)\n"
	"  -V, --value VALUE        the value (Command Dword 11), default 0\n"
	"  -n, --namespace-id NSID  namespace; default 1 (the KV namespace) for FID 0x20,\n"
	"                           0 for the others; 0xffffffff: every namespace\n"
	"  -s, --save               also save it: the device powers on with it\n"
	"  -t, --timeout MS         fail the command after MS milliseconds\n"
	"Prints 'set-feature:FID (NAME), value:V, cdw12:00000000, save:S'.\n"
	"Key Value Configuration: bit 0 EDNEK, Error on Delete of Non-Existent Key\n"
	"(1: deleting a missing key fails with KEY DOES NOT EXIST; 0, the default: it\n"
	"succeeds).\n";

const char cli_get_feature_usage[] =
	"usage: nvkv get-feature [DEVICE] -f FID [-s SEL] [-n NSID] [-H] [-t MS]\n"
	"nvme-cli's flags:\n"
	"  -f, --feature-id FID     feature identifier (0x20: Key Value Configuration)\n"
	"  -s, --sel SEL            0 current, 1 default, 2 saved, 3 supported capabilities\n"
	"  -n, --namespace-id NSID  namespace; default 1 for FID 0x20, 0 for the others\n"
	"  -H, --human-readable     decode the value\n"
	"  -t, --timeout MS         fail the command after MS milliseconds\n"
	"Prints 'get-feature:FID (NAME), Current value:V' (Default, Saved, Supported\n"
	"capabilities for the other SELs, with one line per capability).\n";

static const char *feature_name(uint8_t fid)
{
	switch (fid) {
	case 0x01:
		return "Arbitration";
	case 0x02:
		return "Power Management";
	case 0x04:
		return "Temperature Threshold";
	case 0x05:
		return "Error Recovery";
	case 0x06:
		return "Volatile Write Cache";
	case 0x07:
		return "Number of Queues";
	case 0x08:
		return "Interrupt Coalescing";
	case 0x0b:
		return "Async Event Configuration";
	case 0x0f:
		return "Keep Alive Timer";
	case 0x19:
		return "I/O Command Set Profile";
	case NVKV_FEAT_KV_CONFIG:
		return "Key Value Configuration";
	default:
		return "Unknown";
	}
}

int cli_feature_parse(int argc, char **argv, bool set, struct cli_feature *f)
{
	static const struct option set_opts[] = {
		{ "feature-id", required_argument, NULL, 'f' },
		{ "value", required_argument, NULL, 'V' },
		{ "namespace-id", required_argument, NULL, 'n' },
		{ "save", no_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option get_opts[] = {
		{ "feature-id", required_argument, NULL, 'f' },
		{ "sel", required_argument, NULL, 's' },
		{ "namespace-id", required_argument, NULL, 'n' },
		{ "human-readable", no_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_fid = false, have_nsid = false;
	uint32_t v;
	int ch;

	memset(f, 0, sizeof(*f));
	f->set = set;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, set ? ":f:V:n:st:" : ":f:s:n:Ht:",
				 set ? set_opts : get_opts, NULL)) != -1) {
		/* The option as written: "-V 5" leaves optind past the value. */
		const char *name = optarg && optind >= 2 && argv[optind - 1] == optarg
					   ? argv[optind - 2]
					   : argv[optind - 1];

		switch (ch) {
		case 'f':
			if (parse_u32(optarg, &v) || v > 0xff)
				return usage_error("%s: a feature identifier is 0..0xff, got '%s'",
						   name, optarg);
			f->fid = (uint8_t)v;
			have_fid = true;
			break;
		case 'V':
			if (parse_u32(optarg, &f->value))
				return usage_error("%s needs a 32-bit value, got '%s'", name,
						   optarg);
			break;
		case 'n':
			if (parse_u32(optarg, &f->nsid))
				return usage_error("%s needs a namespace id, got '%s'", name,
						   optarg);
			have_nsid = true;
			break;
		case 's':
			if (set) {
				f->save = true;
			} else if (parse_u32(optarg, &v) || v > 3) {
				return usage_error(
					"%s: select is 0 (current), 1 (default), 2 (saved) "
					"or 3 (supported capabilities), got '%s'",
					name, optarg);
			} else {
				f->sel = v;
			}
			break;
		case 'H':
			f->human = true;
			break;
		case 't':
			if (cli_ms_opt(name, optarg, &f->timeout_ms))
				return EX_USAGE;
			break;
		case ':':
			return usage_error("%s needs a value", name);
		default:
			return usage_error("%s: unknown option %s", argv[0], name);
		}
	}
	if (!have_fid)
		return usage_error("%s needs --feature-id (-f)", argv[0]);
	if (!have_nsid && f->fid == NVKV_FEAT_KV_CONFIG)
		f->nsid = 1; /* the one KV namespace: a namespace feature needs one */
	f->npos = argc - optind;
	f->pos = argv + optind;
	return 0;
}

static void print_human(const struct cli_feature *f, uint32_t v)
{
	if (f->sel == 3) {
		if (v & 0x1)
			printf("  Feature is saveable\n");
		if (v & 0x2)
			printf("  Feature is per-namespace\n");
		if (v & 0x4)
			printf("  Feature is changeable\n");
		return;
	}
	if (f->human && f->fid == NVKV_FEAT_KV_CONFIG)
		printf("\tError on Delete of Non-Existent Key (EDNEK): %s\n",
		       v & NVKV_KV_CONFIG_EDNEK ? "Enabled" : "Disabled");
}

int cli_feature_run(struct nvkv_dev *d, const struct cli_feature *f)
{
	static const char *const sel_names[] = { "Current", "Default", "Saved",
						 "Supported capabilities" };
	uint32_t v = 0;
	int rc;

	if (f->set) {
		rc = nvkv_set_feature(d, f->fid, f->nsid, f->value, f->save, NULL);
		if (rc)
			return rc;
		printf("set-feature:%#0*x (%s), value:%#0*x, cdw12:%#0*x, save:%#x\n",
		       f->fid ? 4 : 2, f->fid, feature_name(f->fid), f->value ? 10 : 8, f->value, 8,
		       0, f->save);
		return 0;
	}
	rc = nvkv_get_feature(d, f->fid, f->nsid, f->sel, &v);
	if (rc)
		return rc;
	printf("get-feature:%#0*x (%s), %s value:%#0*x\n", f->fid ? 4 : 2, f->fid,
	       feature_name(f->fid), sel_names[f->sel], v ? 10 : 8, v);
	print_human(f, v);
	return 0;
}

/* The command: its line parsed above, the device found among its positionals. */
static int cmd_feature(struct cli *c, bool set)
{
	struct cli_feature f;
	int rc = cli_feature_parse(c->argc, c->argv, set, &f);

	if (rc)
		return rc;
	if (take_device(c, f.npos ? f.pos[0] : NULL)) {
		f.npos--;
		f.pos++;
	}
	if (f.npos)
		return usage_error("%s: unexpected argument '%s'", c->cmd, f.pos[0]);
	c->timeout_ms = f.timeout_ms;
	rc = open_dev(c);
	if (rc)
		return rc;
	return report(c->cmd, cli_feature_run(c->d, &f));
}

int cmd_set_feature(struct cli *c)
{
	return cmd_feature(c, true);
}

int cmd_get_feature(struct cli *c)
{
	return cmd_feature(c, false);
}
