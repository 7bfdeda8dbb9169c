// SPDX-License-Identifier: MIT
/*
 * nvkv: command-line client of libnvkv.
 *
 *   nvkv COMMAND [DEVICE] [ARGS] [OPTIONS]     (nvme-cli's order)
 *   nvkv DEVICE COMMAND [ARGS] [OPTIONS]       (the original order)
 *
 * Without a DEVICE the command goes to $NVKV_DEVICE, else to nvkv-emu's
 * default socket.  The data commands also take xNVMe kvs's spellings (--key,
 * --value, --only-add, --only-update, --data-output) and the passthrough
 * commands nvme-cli 2.x's flags, short and long.
 *
 * Exit status: 0 success, 1 the device answered with an error status,
 * 2 usage error, 3 transport error.
 *
 * This file finds the command and the device and dispatches; the commands
 * live in hostdrv/cli/, one family per file, their shared parsing in
 * cli/args.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdrv/cli/cli.h"
#include "hostdrv/cli/feature.h"
#include "nvkv.h"

#ifndef NVKV_VERSION
#define NVKV_VERSION "unknown"
#endif

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: nvkv COMMAND [DEVICE] [ARGS] [OPTIONS]    (nvme-cli's order)\n"
		"       nvkv DEVICE COMMAND [ARGS] [OPTIONS]\n"
		"       nvkv --version | --help\n"
		"\n"
		"Talk to an NVMe Key-Value device.  DEVICE is the unix socket of nvkv-emu,\n"
		"or sim / sim:FILE.ini for a simulated device in this process (empty at start),\n"
		"or tcp://HOST:PORT[/NQN] for an NVMe/TCP target, or the kernel's NVMe char\n"
		"device /dev/ngXnY (also nvmeX or an NQN: its KV namespace; ?sqpoll appended\n"
		"for a kernel submission thread) through io_uring passthrough (root);\n"
		"without it, $NVKV_DEVICE, else " CLI_DEFAULT_DEVICE " (nvkv-emu's default).  A\n"
		"DEVICE after COMMAND is recognised as a path ('/' or '.' first) or an existing\n"
		"socket; a key that looks like one needs the DEVICE or --key.\n"
		"\n"
		"commands:\n"
		"  identify                     device, namespace and link information\n"
		"  store KEY [VALUE]            store VALUE (or --file, or standard input)\n"
		"  retrieve KEY                 print the value (or write it to --file)\n"
		"  delete KEY                   delete a key\n"
		"  exist KEY                    exit 0 if the key exists, 1 if not\n"
		"  list [START] [--limit N]     keys in sorted order from START\n"
		"  flush                        make completed writes durable\n"
		"  stats [--json]               device statistics (PCIe, NAND, latency)\n"
		"  format [--nsid N|all]        erase a namespace (default: the KV one)\n"
		"  list-ns | id-ns [-n NSID]    namespaces; Identify Namespace as nvme-cli\n"
		"  read | write [OPTIONS]       NVM (block) namespace I/O, nvme-cli's flags\n"
		"  write-zeroes | dsm [OPTIONS] zero or deallocate blocks\n"
		"  set-feature -f FID [-V V]    Set Features (nvme-cli flags; -f 0x20 -V 1:\n"
		"                               deleting a missing key fails)\n"
		"  get-feature -f FID [-s SEL]  Get Features\n"
		"  io-passthru [OPTIONS]        send any I/O command (nvme-cli 2.x flags)\n"
		"  admin-passthru [OPTIONS]     send any admin command\n"
		"  connect tcp://HOST:PORT[/NQN] attach the kernel's NVMe/TCP initiator (root);\n"
		"                               prints the /dev/ngXnY char devices it made\n"
		"  disconnect nvmeX|NQN         detach it\n"
		"\n"
		"common options: --hex (keys and values in hex), --xfer METHOD\n"
		"(prp, bandslim, adaptive, adaptive-cost, byteexpress, sgl; sgl also names\n"
		"retrieve and list buffers by an SGL), --help (anywhere).\n"
		"xNVMe kvs spellings: --key K, --value V, --only-add, --only-update,\n"
		"--data-input F, --data-output F.  'nvkv COMMAND --help' for each command.\n"
		"exit status: 0 success, 1 the device answered with an error status,\n"
		"2 usage error, 3 transport error.\n");
}

/* ---- dispatch ------------------------------------------------------------------------ */

struct command {
	const char *name;
	int (*run)(struct cli *c);
	const char *usage;
};

static const struct command commands[] = {
	{ "identify", cmd_identify, "usage: nvkv identify [DEVICE] [--timeout MS]\n" },
	{ "store", cmd_store,
	  "usage: nvkv store [DEVICE] KEY [VALUE] [--file PATH] [--must-exist | --must-not-exist]\n"
	  "                  [--xfer METHOD [--xfer-strict]] [--hex] [--timeout MS]\n"
	  "VALUE comes from the argument, --value, --file, or standard input.\n"
	  "A method that cannot carry the value falls back to prp with a note on stderr;\n"
	  "--xfer-strict (--strict-xfer) refuses the Store instead (exit status 2).\n"
	  "xNVMe spellings: --key K --value V, --only-update (= --must-exist),\n"
	  "--only-add (= --must-not-exist), --data-input F (= --file).\n" },
	{ "retrieve", cmd_retrieve,
	  "usage: nvkv retrieve [DEVICE] KEY [--file PATH] [--hex] [--timeout MS]\n"
	  "Prints the value (with a newline added on a terminal) or writes it to PATH.\n"
	  "xNVMe spellings: --key K, --data-output F (= --file).\n" },
	{ "delete", cmd_delete, "usage: nvkv delete [DEVICE] KEY|--key KEY [--hex]\n" },
	{ "exist", cmd_exist,
	  "usage: nvkv exist [DEVICE] KEY|--key KEY [--hex]\n"
	  "Exit status 0 if the key exists, 1 if not.\n" },
	{ "list", cmd_list,
	  "usage: nvkv list [DEVICE] [START|--key START] [--limit N] [--hex]\n"
	  "Keys >= START in sorted byte order.\n" },
	{ "flush", cmd_flush, "usage: nvkv flush [DEVICE]\n" },
	{ "stats", cmd_stats, "usage: nvkv stats [DEVICE] [--json]\n" },
	{ "format", cmd_format,
	  "usage: nvkv format [DEVICE] [--nsid N|all] [--timeout MS]\n"
	  "Format NVM: erase the namespace (default: the KV namespace; all: every one).\n"
	  "A KV namespace loses every key, a block namespace reads zeros; each keeps\n"
	  "its format.  Durable when it returns: nothing erased comes back.\n" },
	{ "read", cmd_read, cli_read_usage },
	{ "write", cmd_write, cli_write_usage },
	{ "write-zeroes", cmd_write_zeroes, cli_write_zeroes_usage },
	{ "dsm", cmd_dsm, cli_dsm_usage },
	{ "id-ns", cmd_id_ns, cli_id_ns_usage },
	{ "list-ns", cmd_list_ns, cli_list_ns_usage },
	{ "set-feature", cmd_set_feature, cli_set_feature_usage },
	{ "get-feature", cmd_get_feature, cli_get_feature_usage },
	{ "io-passthru", cmd_io_passthru, cli_passthru_usage },
	{ "admin-passthru", cmd_admin_passthru, cli_passthru_usage },
	{ "connect", cmd_connect, cli_connect_usage },
	{ "disconnect", cmd_disconnect, cli_disconnect_usage },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* "identify, store, ..." for messages. */
static const char *command_names(void)
{
	static char buf[256];
	size_t i, n = 0;

	for (i = 0; i < NCOMMANDS && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "",
				      commands[i].name);
	return buf;
}

static bool wants(int argc, char **argv, const char *a, const char *b)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], a) || (b && !strcmp(argv[i], b)))
			return true;
	return false;
}

/* Say which word was taken for a command, and which commands there are. */
static int bad_command(int argc, char **argv)
{
	const char *word = argv[1];

	if (word[0] == '-')
		return usage_error("unknown option %s before the COMMAND", word);
	if (argc == 2 && cli_looks_like_device(word))
		return usage_error("no COMMAND after DEVICE %s; commands: %s", word,
				   command_names());
	if (cli_looks_like_device(word))
		word = argv[2]; /* nvkv DEVICE WORD */
	return usage_error("unknown command '%s'; commands: %s", word, command_names());
}

/*
 * Find the command and the device in either order and build the command's
 * argv without the device.  Returns the command, or NULL with *rc set.
 */
static const struct command *split_args(struct cli *c, int argc, char **argv, int *rc)
{
	const struct command *cmd = find_command(argv[1]);
	int skip = -1, at = 1, i, n = 0;

	if (cmd) {
		/* nvkv COMMAND ... [DEVICE] ...: the command's parser takes the device */
	} else if (argv[1][0] != '-' && argc > 2 && (cmd = find_command(argv[2]))) {
		skip = 1; /* nvkv DEVICE COMMAND ... */
		at = 2;
		c->device = argv[1];
		c->device_given = true;
	} else {
		*rc = bad_command(argc, argv);
		return NULL;
	}
	c->cmd = cmd->name;
	c->argv = calloc((size_t)argc + 1, sizeof(*c->argv));
	if (!c->argv) {
		*rc = report("arguments", -ENOMEM);
		return NULL;
	}
	c->argv[n++] = (char *)cmd->name;
	for (i = 1; i < argc; i++)
		if (i != skip && i != at)
			c->argv[n++] = argv[i];
	c->argc = n;
	return cmd;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	struct cli c = { 0 };
	int rc;

	if (argc < 2) {
		main_usage(stderr);
		return EX_USAGE;
	}
	/* -V only first: nvme-cli's set-feature spells its --value so. */
	if (wants(argc, argv, "--version", NULL) || !strcmp(argv[1], "-V") ||
	    !strcmp(argv[1], "version")) {
		printf("nvkv %s\n", NVKV_VERSION);
		return EX_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		main_usage(stdout);
		return EX_OK;
	}
	cmd = split_args(&c, argc, argv, &rc);
	if (!cmd) {
		if (!wants(argc, argv, "--help", "-h"))
			return rc;
		main_usage(stdout); /* "nvkv DEVICE --help": help was asked for */
		return EX_OK;
	}
	if (wants(c.argc, c.argv, "--help", "-h")) {
		printf("%s", cmd->usage);
		rc = EX_OK;
	} else {
		rc = cmd->run(&c);
	}
	nvkv_close(c.d);
	free(c.argv);
	return rc;
}
