// SPDX-License-Identifier: MIT
/*
 * nvkv io-passthru and admin-passthru: any command, with nvme-cli 2.x's
 * flags (short and long), its command dump, its result line and its hex dump
 * of read data.  Part of the nvkv program, not of libnvkv.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/cmdset.h"
#include "hostdrv/cli/cli.h"

struct passthru {
	struct kvc_sqe sqe;
	uint32_t len, metadata_len, timeout_ms;
	uint8_t prefill;
	const char *input, *metadata;
	bool read, write, raw, show, dry, latency, have_opc;
};

/* Long-only options get codes above any character. */
enum { P_OUTPUT_FORMAT = 256 };

static const struct option passthru_longopts[] = {
	{ "opcode", required_argument, NULL, 'O' },
	{ "flags", required_argument, NULL, 'f' },
	{ "namespace-id", required_argument, NULL, 'n' },
	{ "cdw2", required_argument, NULL, '2' },
	{ "cdw3", required_argument, NULL, '3' },
	{ "cdw10", required_argument, NULL, '4' },
	{ "cdw11", required_argument, NULL, '5' },
	{ "cdw12", required_argument, NULL, '6' },
	{ "cdw13", required_argument, NULL, '7' },
	{ "cdw14", required_argument, NULL, '8' },
	{ "cdw15", required_argument, NULL, '9' },
	{ "data-len", required_argument, NULL, 'l' },
	{ "metadata-len", required_argument, NULL, 'm' },
	{ "input-file", required_argument, NULL, 'i' },
	{ "metadata", required_argument, NULL, 'M' },
	{ "read", no_argument, NULL, 'r' },
	{ "write", no_argument, NULL, 'w' },
	{ "raw-binary", no_argument, NULL, 'b' },
	{ "show-command", no_argument, NULL, 's' },
	{ "show-cmd", no_argument, NULL, 's' },
	{ "dry-run", no_argument, NULL, 'd' },
	{ "timeout", required_argument, NULL, 't' },
	{ "prefill", required_argument, NULL, 'p' },
	{ "latency", no_argument, NULL, 'T' },
	{ "output-format", required_argument, NULL, P_OUTPUT_FORMAT },
	{ NULL, 0, NULL, 0 },
};

static const char passthru_shortopts[] = ":o:O:f:n:2:3:4:5:6:7:8:9:l:m:i:M:rwbsdt:p:T";

static int passthru_number(struct passthru *p, int ch, const char *name, const char *arg)
{
	uint32_t v = 0;
	int rc = cli_u32_opt(name, arg, &v);

	if (rc)
		return rc;
	if (strchr("Ofp", ch) && v > 0xff)
		return usage_error("%s is one byte (0..0xff), got '%s'", name, arg);
	switch (ch) {
	case 'O':
		p->sqe.opc = (uint8_t)v;
		p->have_opc = true;
		break;
	case 'f':
		p->sqe.flags = (uint8_t)v;
		break;
	case 'p':
		p->prefill = (uint8_t)v;
		break;
	case 'n':
		kvc_sqe_set_nsid(&p->sqe, v);
		break;
	case 'l':
		p->len = v;
		break;
	case 'm':
		p->metadata_len = v;
		break;
	case 't':
		p->timeout_ms = v;
		break;
	case '2':
	case '3':
		kvc_sqe_set_dw(&p->sqe, (unsigned int)(ch - '0'), v);
		break;
	default: /* -4..-9: cdw10..cdw15, as nvme-cli numbers them */
		kvc_sqe_set_dw(&p->sqe, (unsigned int)(ch - '4' + 10), v);
		break;
	}
	return EX_OK;
}

static int passthru_option(struct cli *c, void *ctx, int ch, const char *name)
{
	struct passthru *p = ctx;

	(void)c;
	switch (ch) {
	case 'o': /* nvme-cli 2.x: -o OPCODE; newer releases: -o FORMAT and -O OPCODE */
		if (isdigit((unsigned char)*optarg))
			return passthru_number(p, 'O', "-o", optarg);
		return cli_output_format("-o", optarg, &p->raw);
	case P_OUTPUT_FORMAT:
		return cli_output_format(name, optarg, &p->raw);
	case 'i':
		p->input = optarg;
		return EX_OK;
	case 'M':
		p->metadata = optarg;
		return EX_OK;
	case 'r':
	case 'w':
	case 'b':
	case 's':
	case 'd':
	case 'T':
		p->read |= ch == 'r';
		p->write |= ch == 'w';
		p->raw |= ch == 'b';
		p->show |= ch == 's';
		p->dry |= ch == 'd';
		p->latency |= ch == 'T';
		return EX_OK;
	default:
		return passthru_number(p, ch, name, optarg);
	}
}

/* Direction flags against opcode bits 1:0 (01b host to device, 10b device to host). */
static int check_direction(struct passthru *p)
{
	unsigned int dir = p->sqe.opc & 3;

	if (p->read && p->write && dir != 3)
		return usage_error("%s", "--read and --write exclude each other "
					 "(only opcodes with bits 1:0 = 11b move data both ways)");
	if (p->write && !(dir & 1))
		return usage_error("--write: opcode 0x%02x does not send data to the device "
				   "(bits 1:0 = %u%ub)%s",
				   p->sqe.opc, dir >> 1, dir & 1, dir == 2 ? "; use --read" : "");
	if (p->read && !(dir & 2))
		return usage_error("--read: opcode 0x%02x does not return data from the device "
				   "(bits 1:0 = %u%ub)%s",
				   p->sqe.opc, dir >> 1, dir & 1, dir == 1 ? "; use --write" : "");
	if (!p->read && !p->write) { /* nvme-cli takes the direction from the opcode */
		p->read = dir & 2;
		p->write = dir & 1;
	}
	if (p->len && !p->read && !p->write)
		return usage_error("--data-len: opcode 0x%02x moves no data (bits 1:0 = 00b)",
				   p->sqe.opc);
	return EX_OK;
}

static int parse_passthru(struct cli *c, struct passthru *p, bool admin)
{
	int rc;

	memset(p, 0, sizeof(*p));
	kvc_sqe_set_nsid(&p->sqe, admin ? 0 : 1);
	rc = cli_parse_opts(c, passthru_shortopts, passthru_longopts, passthru_option, p);
	if (!rc)
		rc = end_of_args(c);
	if (rc)
		return rc;
	if (!p->have_opc)
		return usage_error("%s", "--opcode (-O, -o) is required");
	if (p->metadata_len || p->metadata)
		return usage_error("%s", "--metadata-len/--metadata: KV namespaces have no "
					 "metadata (MPTR is reserved); leave them out or use 0");
	if (p->input && !p->len)
		return usage_error("%s", "--input-file needs --data-len");
	c->timeout_ms = p->timeout_ms;
	return check_direction(p);
}

static void show_command(FILE *f, const struct passthru *p)
{
	const struct kvc_sqe *s = &p->sqe;
	unsigned int i;

	fprintf(f, "opcode       : %02x\nflags        : %02x\nnsid         : %08x\n", s->opc,
		s->flags, kvc_sqe_nsid(s));
	fprintf(f, "cdw2         : %08x\ncdw3         : %08x\n", kvc_sqe_dw(s, 2),
		kvc_sqe_dw(s, 3));
	fprintf(f, "data_len     : %08x\nmetadata_len : %08x\n", p->len, p->metadata_len);
	for (i = 10; i < 16; i++)
		fprintf(f, "cdw%-2u        : %08x\n", i, kvc_sqe_dw(s, i));
	fprintf(f, "timeout_ms   : %08x\n", p->timeout_ms);
}

/* nvme-cli's layout: a column header, then offset, 16 bytes, and the printable ones. */
static void hexdump(FILE *f, const uint8_t *b, size_t n)
{
	char ascii[17];
	size_t i, j;

	fprintf(f, "     ");
	for (i = 0; i < 16; i++)
		fprintf(f, "%3zx", i);
	fputc('\n', f);
	for (i = 0; i < n; i += 16) {
		fprintf(f, "%04zx:", i);
		for (j = 0; j < 16; j++) {
			if (i + j < n) {
				fprintf(f, " %02x", b[i + j]);
				ascii[j] =
					b[i + j] >= '!' && b[i + j] <= '~' ? (char)b[i + j] : '.';
			} else {
				fprintf(f, "   ");
				ascii[j] = 0;
			}
		}
		ascii[16] = 0;
		fprintf(f, " \"%s\"\n", ascii);
	}
}

/* The data buffer: --prefill bytes, then for a write the input (file or stdin). */
static int passthru_buffer(const struct passthru *p, uint8_t **out)
{
	uint8_t *buf, *in = NULL;
	size_t got = 0;
	FILE *f;
	int rc;

	*out = NULL;
	if (!p->len)
		return EX_OK;
	buf = malloc(p->len);
	if (!buf)
		return report("buffer", -ENOMEM);
	memset(buf, p->prefill, p->len);
	if (p->write) {
		f = open_input(p->input);
		if (!f) {
			free(buf);
			return EX_USAGE;
		}
		rc = read_all(f, &in, &got, 64u << 20);
		if (f != stdin)
			fclose(f);
		if (rc) {
			free(buf);
			return report("reading the input", rc);
		}
		memcpy(buf, in, got < p->len ? got : p->len); /* short input: the prefill pads */
		free(in);
	}
	*out = buf;
	return EX_OK;
}

/* Read data: to --input-file (nvme-cli's use of it on reads), raw, or as a hex dump. */
static int passthru_output(const struct passthru *p, const uint8_t *buf)
{
	FILE *f;

	if (!p->read || !p->len)
		return EX_OK;
	if (p->input && !p->write) {
		f = fopen(p->input, "wb");
		if (!f || fwrite(buf, 1, p->len, f) != p->len || fclose(f)) {
			fprintf(stderr, "nvkv: %s: %s\n", p->input, strerror(errno));
			return EX_USAGE;
		}
	} else if (p->raw) {
		fwrite(buf, 1, p->len, stdout);
	} else {
		hexdump(stdout, buf, p->len);
	}
	return EX_OK;
}

static int cmd_passthru(struct cli *c, bool admin)
{
	struct passthru p;
	uint8_t *buf = NULL;
	uint32_t dw0 = 0;
	uint64_t t0;
	int rc = parse_passthru(c, &p, admin);

	if (rc)
		return rc;
	if (p.show || p.dry)
		show_command(p.raw ? stderr : stdout, &p);
	if (p.dry)
		return EX_OK;
	if ((rc = passthru_buffer(&p, &buf)) || (rc = open_dev(c)))
		goto out;
	t0 = now_us();
	rc = admin ? nvkv_admin_raw(c->d, &p.sqe, buf, p.len, &dw0)
		   : nvkv_io_raw(c->d, &p.sqe, buf, p.len, &dw0);
	show_latency(c, p.latency, t0);
	if (rc > 0) {
		fprintf(stderr, "NVMe status: %s\n", nvkv_strerror(rc));
		rc = EX_DEVICE;
	} else if (rc < 0) {
		rc = report(c->cmd, rc);
	} else {
		/* With raw data on stdout the result line must not mix into it. */
		fprintf(p.raw ? stderr : stdout, "NVMe command result:%08x\n", dw0);
		rc = passthru_output(&p, buf);
	}
out:
	free(buf);
	return rc;
}

int cmd_io_passthru(struct cli *c)
{
	return cmd_passthru(c, false);
}

int cmd_admin_passthru(struct cli *c)
{
	return cmd_passthru(c, true);
}

const char cli_passthru_usage[] =
	"usage: nvkv io-passthru|admin-passthru [DEVICE] --opcode OPC [OPTIONS]\n"
	"nvme-cli 2.x's flags:\n"
	"  -O, -o, --opcode OPC        command opcode (-o FORMAT: see --output-format)\n"
	"  -f, --flags F               command flags byte, sent as given (PSDT 0: PRP data)\n"
	"  -n, --namespace-id ID       NSID (io-passthru default 1, admin-passthru 0)\n"
	"  -2, -3, --cdw2, --cdw3 V    command dwords 2, 3\n"
	"  -4..-9, --cdw10..--cdw15 V  command dwords 10..15\n"
	"  -l, --data-len N            data buffer bytes\n"
	"  -r, --read / -w, --write    direction of the data; must match opcode bits 1:0,\n"
	"                              which give it when neither is given\n"
	"  -i, --input-file PATH       write: data to send (default standard input);\n"
	"                              read: file to save the data in\n"
	"  -p, --prefill BYTE          fill the buffer with BYTE first (pads short input)\n"
	"  -t, --timeout MS            fail the command after MS milliseconds\n"
	"  -T, --latency               print the command's latency (us) to stderr\n"
	"  -b, --raw-binary            read data raw on stdout, the result line on stderr\n"
	"  --output-format normal|binary  hex dump (default) or raw, as -b\n"
	"  -s, --show-command          print the command before sending it\n"
	"  -d, --dry-run               print the command and do not send it\n"
	"  -m, --metadata-len, -M, --metadata  accepted only as 0/absent: no metadata\n"
	"Prints 'NVMe command result:XXXXXXXX' (DW0) and, for reads, a hex dump with\n"
	"offsets and ASCII as nvme-cli does; a device error status goes to stderr.\n";
