// SPDX-License-Identifier: MIT
/*
 * nvkv-emu: the KV-SSD emulator daemon.  Parses the configuration (defaults,
 * then --config FILE, then flags, later ones winning) and runs the device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "server.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nvkv-emu [options]\n"
		"\n"
		"Emulates an NVMe Key-Value SSD (firmware model with PCIe, NAND and FTL models)\n"
		"and serves it to hosts over a shared-memory transport on a unix socket.\n"
		"\n"
		"  --socket PATH         socket to listen on (default /tmp/nvkv.sock)\n"
		"  --tcp [ADDR:]PORT     also serve NVMe/TCP (127.0.0.1 unless ADDR is given;\n"
		"                        docs/tcp.md); --nqn NQN names the subsystem,\n"
		"                        --tcp-threads N its event-loop threads (default 2)\n"
		"  --store DIR           persistent device in DIR (NAND image + LMDB catalog);\n"
		"                        without it the device lives in memory\n"
		"  --log-level LEVEL     err, warn, info (default) or debug\n"
		"  --config FILE         INI file with [section] key = value lines\n"
		"  --set SECTION.KEY=V   set any knob below\n"
		"  --SECTION-KEY V       the same, e.g. --pcie-gen 2 --nand-page-size 16K\n"
		"  --KEY V               the same when one section has KEY, as the knobs are\n"
		"                        listed below: --timing realtime, --page-size 16K\n"
		"  --print-config        print the effective configuration and exit\n"
		"  --help                this text\n"
		"\n"
		"Sizes accept K, M, G, T (binary) suffixes.  Signals: SIGUSR1 prints statistics\n"
		"(and writes emu.stats_json), SIGINT/SIGTERM shut down cleanly.\n"
		"\n"
		"Exit status: 0 after a clean shutdown; 1 on a run-time error; 2 on a bad\n"
		"option or configuration; 3 when the --store directory is refused: damaged or\n"
		"inconsistent (e.g. nand.img holds data but data.mdb is missing, a record fails\n"
		"its checksum), of an older catalog format, or made with another NAND geometry.\n"
		"The message names the file.  A store is never reset silently: to discard it,\n"
		"remove the directory.\n"
		"\n"
		"Configuration knobs (INI section, key, default, meaning):\n");
	emu_config_help(f, 0);
}

static int fail(const char *msg)
{
	fprintf(stderr, "nvkv-emu: %s\n", msg);
	return 2;
}

static const char *opt_value(int argc, char **argv, int *i)
{
	char *eq = strchr(argv[*i], '=');

	if (eq)
		return eq + 1;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* Apply one flag.  Return 0, 1 (not a knob flag), or 2 (error printed). */
static int apply_flag(struct emu_config *c, int argc, char **argv, int *i)
{
	char name[96], key[96], err[512];
	const char *arg = argv[*i] + 2, *v;
	size_t n = strcspn(arg, "=");

	if (n >= sizeof(name))
		return 1;
	memcpy(name, arg, n);
	name[n] = 0;
	if (!strcmp(name, "set")) {
		char kv[512], *eq;

		v = opt_value(argc, argv, i);
		if (!v || strlen(v) >= sizeof(kv) || !(eq = strchr(strcpy(kv, v), '=')))
			return fail("--set needs SECTION.KEY=VALUE");
		*eq = 0;
		return emu_config_set(c, kv, eq + 1, err, sizeof(err)) ? fail(err) : 0;
	}
	if (!emu_config_flag_to_key(name, key, sizeof(key))) {
		/* [emu] knobs also go without their section: --socket, --log-level... */
		char alt[112];

		snprintf(alt, sizeof(alt), "emu-%s", name);
		if (!emu_config_flag_to_key(alt, key, sizeof(key)))
			return 1;
	}
	v = opt_value(argc, argv, i);
	if (!v) {
		snprintf(err, sizeof(err), "--%s (%s) needs a value", name, key);
		return fail(err);
	}
	if (!emu_config_set(c, key, v, err, sizeof(err)))
		return 0;
	/* The error names the INI key; say which flag it came from as typed. */
	fprintf(stderr, "nvkv-emu: --%s: %s\n", name, err);
	return 2;
}

int main(int argc, char **argv)
{
	static struct emu_config cfg;
	const char *config_file = NULL;
	bool print = false;
	char err[512];
	int i, rc;

	emu_config_default(&cfg);
	/* The config file first, whatever its position, so flags override it. */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--config-reference")) {
			/* The knob table as Markdown: docs/emulator-config.md is made of it. */
			emu_config_help(stdout, 1);
			return 0;
		}
		if (!strncmp(argv[i], "--config", 8) && (argv[i][8] == 0 || argv[i][8] == '=')) {
			config_file = opt_value(argc, argv, &i);
			if (!config_file)
				return fail("--config needs a file");
		}
	}
	if (config_file && emu_config_load(&cfg, config_file, err, sizeof(err)))
		return fail(err);
	for (i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--config", 8)) {
			if (!strchr(argv[i], '='))
				i++;
			continue;
		}
		if (!strcmp(argv[i], "--print-config")) {
			print = true;
			continue;
		}
		if (strncmp(argv[i], "--", 2)) {
			snprintf(err, sizeof(err), "unexpected argument '%s' (see --help)",
				 argv[i]);
			return fail(err);
		}
		rc = apply_flag(&cfg, argc, argv, &i);
		if (rc == 2)
			return 2;
		if (rc == 1) {
			snprintf(err, sizeof(err), "unknown option '%s' (see --help)", argv[i]);
			return fail(err);
		}
	}
	if (emu_config_finish(&cfg, err, sizeof(err)))
		return fail(err);
	if (print) {
		emu_config_dump(stdout, &cfg);
		return 0;
	}
	emu_log_set_level(cfg.log_level);
	rc = emu_run(&cfg);
	if (rc == -EUCLEAN || rc == -EXDEV)
		return 3; /* the store is refused; the reason is logged */
	return rc ? 1 : 0;
}
