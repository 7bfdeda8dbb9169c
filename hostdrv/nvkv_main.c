// SPDX-License-Identifier: MIT
/*
 * nvkv: command-line client of libnvkv.
 *
 *   nvkv DEVICE COMMAND [ARGS] [OPTIONS]
 *
 * Exit status: 0 success, 1 the device answered with an error status,
 * 2 usage error, 3 transport error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/cmdset.h"
#include "nvkv.h"

enum { EX_OK = 0, EX_DEVICE = 1, EX_USAGE = 2, EX_TRANSPORT = 3 };

struct cli {
	const char *device;
	const char *cmd;
	int argc;
	char **argv;
	struct nvkv_dev *d;
	bool hex;
	enum nvkv_xfer xfer;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nvkv: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see nvkv --help)\n");
	return EX_USAGE;
}

/* Map a library return value to an exit status, printing what went wrong. */
static int report(const char *what, int rc)
{
	if (rc == 0)
		return EX_OK;
	fprintf(stderr, "nvkv: %s: %s\n", what, nvkv_strerror(rc));
	return rc > 0 ? EX_DEVICE : rc == -EINVAL || rc == -EMSGSIZE ? EX_USAGE : EX_TRANSPORT;
}

static void main_usage(FILE *f)
{
	fprintf(f, "usage: nvkv DEVICE COMMAND [ARGS] [OPTIONS]\n"
		   "\n"
		   "Talk to an NVMe Key-Value device.  DEVICE is the unix socket of nvkv-emu\n"
		   "(e.g. /tmp/nvkv.sock).\n"
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
		   "  io-passthru [OPTIONS]        send any I/O command (nvme-cli flag names)\n"
		   "  admin-passthru [OPTIONS]     send any admin command\n"
		   "\n"
		   "common options: --hex (keys and values in hex), --xfer METHOD\n"
		   "(prp, bandslim, adaptive, adaptive-cost, byteexpress), --help.\n"
		   "exit status: 0 success, 1 the device answered with an error status,\n"
		   "2 usage error, 3 transport error.\n");
}

/* ---- arguments ------------------------------------------------------------------- */

static int hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode @s (text, or hex when @hex) into a new buffer. */
static int decode_arg(const char *s, bool hex, uint8_t **out, size_t *len)
{
	size_t n = strlen(s), i;
	uint8_t *b;

	if (!hex) {
		*out = (uint8_t *)strdup(s);
		*len = n;
		return *out ? 0 : -ENOMEM;
	}
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n % 2)
		return -EINVAL;
	b = malloc(n / 2 + 1);
	if (!b)
		return -ENOMEM;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return -EINVAL;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*len = n / 2;
	return 0;
}

static int read_all(FILE *f, uint8_t **out, size_t *len, size_t max)
{
	size_t cap = 4096, n = 0;
	uint8_t *b = malloc(cap);

	while (b) {
		size_t r = fread(b + n, 1, cap - n, f);

		n += r;
		if (r == 0)
			break;
		if (n > max) {
			free(b);
			return -EMSGSIZE;
		}
		if (n == cap) {
			uint8_t *nb = realloc(b, cap * 2);

			if (!nb)
				break;
			b = nb;
			cap *= 2;
		}
	}
	if (!b || ferror(f)) {
		free(b);
		return -EIO;
	}
	*out = b;
	*len = n;
	return 0;
}

static void print_key(const uint8_t *k, size_t n, bool hex)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (hex)
			printf("%02x", k[i]);
		else if (isprint(k[i]) && k[i] != '\\')
			putchar(k[i]);
		else
			printf("\\x%02x", k[i]);
	}
	putchar('\n');
}

/* Options every data command understands; returns 0, or an exit status. */
struct common_opts {
	const char *file;
	bool must_exist, must_not_exist, json;
	long limit;
};

static int parse_common(struct cli *c, struct common_opts *o, const char *usage,
			const char *shortopts)
{
	static const struct option opts[] = { { "hex", no_argument, NULL, 'x' },
					      { "xfer", required_argument, NULL, 'X' },
					      { "file", required_argument, NULL, 'f' },
					      { "must-exist", no_argument, NULL, 'e' },
					      { "must-not-exist", no_argument, NULL, 'n' },
					      { "limit", required_argument, NULL, 'l' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	char *end;
	int ch;

	memset(o, 0, sizeof(*o));
	o->limit = -1;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
		if (ch != 'h' && ch != '?' && !strchr(shortopts, ch))
			return usage_error("option not valid for this command: %s",
					   c->argv[optind - 1]);
		switch (ch) {
		case 'x':
			c->hex = true;
			break;
		case 'X':
			if (nvkv_xfer_parse(optarg, &c->xfer))
				return usage_error("unknown transfer method '%s'", optarg);
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'e':
			o->must_exist = true;
			break;
		case 'n':
			o->must_not_exist = true;
			break;
		case 'l':
			o->limit = strtol(optarg, &end, 10);
			if (*end || o->limit < 0)
				return usage_error("--limit needs a count, got '%s'", optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			printf("%s", usage);
			exit(EX_OK);
		default:
			return usage_error("unknown option %s", c->argv[optind - 1]);
		}
	}
	return EX_OK;
}

static int get_key(struct cli *c, int idx, uint8_t **key, size_t *klen)
{
	if (idx >= c->argc)
		return usage_error("%s needs a KEY", c->cmd);
	if (decode_arg(c->argv[idx], c->hex, key, klen))
		return usage_error("bad hex key '%s'", c->argv[idx]);
	if (*klen < 1 || *klen > NVKV_MAX_KEY) {
		free(*key);
		return usage_error("keys are 1 to 16 bytes: '%s'", c->argv[idx]);
	}
	return EX_OK;
}

static int open_dev(struct cli *c)
{
	struct nvkv_opts o;
	int rc;

	nvkv_opts_default(&o);
	o.queues = 1;
	o.queue_depth = 64;
	o.timeout_ms = 5000;
	o.name = "nvkv-cli";
	rc = nvkv_open(c->device, &o, &c->d);
	if (rc) {
		fprintf(stderr, "nvkv: cannot open %s: %s\n", c->device, nvkv_strerror(rc));
		return EX_TRANSPORT;
	}
	return EX_OK;
}

/* ---- commands ---------------------------------------------------------------------- */

static int cmd_identify(struct cli *c)
{
	struct common_opts o;
	struct nvkv_info in;
	int rc = parse_common(c, &o, "usage: nvkv DEVICE identify\n", "");

	if (rc || (rc = open_dev(c)))
		return rc;
	rc = nvkv_identify(c->d, &in);
	if (rc)
		return report("identify", rc);
	printf("backend       %s\nserial        %s\nmodel         %s\nfirmware      %s\n",
	       in.backend, in.serial, in.model, in.firmware);
	printf("namespace     1, Key Value command set (CSI %u)\n", in.csi);
	printf("max key       %u bytes\nmax value     %u bytes\nmax keys      %u%s\n", in.max_key,
	       in.max_value, in.max_keys, in.max_keys ? "" : " (no limit)");
	printf("capacity      %llu bytes\nutilization   %llu bytes\n",
	       (unsigned long long)in.capacity, (unsigned long long)in.utilization);
	printf("queues        %u I/O queue pairs, up to %u entries each\n", in.queues,
	       in.queue_depth);
	printf("pcie          Gen%u x%u, MPS %u, MRRS %u, RCB %u; PRP DMA %s\n", in.pcie_gen,
	       in.pcie_lanes, in.pcie_mps, in.pcie_mrrs, in.pcie_rcb,
	       in.dma_page ? "in whole 4 KiB pages" : "exact");
	printf("timing        %s\n", in.realtime ? "realtime" : "off");
	printf("inline        bandslim head %u B, transfer %u B; byteexpress %s\n",
	       in.bandslim_head, in.bandslim_xfer, in.byteexpress ? "yes" : "no");
	return EX_OK;
}

static const char store_usage[] =
	"usage: nvkv DEVICE store KEY [VALUE] [--file PATH] [--must-exist | --must-not-exist]\n"
	"                          [--xfer METHOD] [--hex]\n"
	"VALUE comes from the argument, from --file, or from standard input.\n";

static int cmd_store(struct cli *c)
{
	uint8_t *key = NULL, *val = NULL;
	size_t klen, vlen = 0;
	struct common_opts o;
	unsigned int flags;
	int rc = parse_common(c, &o, store_usage, "xXfen");

	if (rc || (rc = get_key(c, optind, &key, &klen)))
		return rc;
	if (o.must_exist && o.must_not_exist) {
		free(key);
		return usage_error("%s", "--must-exist and --must-not-exist exclude each other");
	}
	if (optind + 1 < c->argc) {
		if (o.file || optind + 2 < c->argc) {
			free(key);
			return usage_error("%s", "store takes one VALUE, or --file");
		}
		if (decode_arg(c->argv[optind + 1], c->hex, &val, &vlen)) {
			free(key);
			return usage_error("bad hex value '%s'", c->argv[optind + 1]);
		}
	} else {
		FILE *f = o.file ? fopen(o.file, "rb") : stdin;

		if (!f) {
			fprintf(stderr, "nvkv: %s: %s\n", o.file, strerror(errno));
			free(key);
			return EX_USAGE;
		}
		rc = read_all(f, &val, &vlen, 64u << 20);
		if (f != stdin)
			fclose(f);
		if (rc) {
			free(key);
			return report("reading the value", rc);
		}
	}
	rc = open_dev(c);
	if (!rc) {
		flags = NVKV_F_XFER(c->xfer) | (o.must_exist ? NVKV_STORE_MUST_EXIST : 0) |
			(o.must_not_exist ? NVKV_STORE_MUST_NOT_EXIST : 0);
		rc = report("store", nvkv_store(c->d, key, klen, val, vlen, flags));
	}
	free(key);
	free(val);
	return rc;
}

static int cmd_retrieve(struct cli *c)
{
	static const char usage[] = "usage: nvkv DEVICE retrieve KEY [--file PATH] [--hex]\n";
	struct common_opts o;
	struct nvkv_info in;
	uint8_t *key = NULL, *buf = NULL;
	size_t klen, vlen = 0, i;
	int rc = parse_common(c, &o, usage, "xf");
	FILE *out;

	if (rc || (rc = get_key(c, optind, &key, &klen)) || (rc = open_dev(c)))
		goto out;
	nvkv_identify(c->d, &in);
	buf = malloc(in.max_value + 1);
	rc = buf ? nvkv_retrieve(c->d, key, klen, buf, in.max_value, &vlen) : -ENOMEM;
	if (rc) {
		rc = report("retrieve", rc);
		goto out;
	}
	out = o.file ? fopen(o.file, "wb") : stdout;
	if (!out) {
		fprintf(stderr, "nvkv: %s: %s\n", o.file, strerror(errno));
		rc = EX_USAGE;
		goto out;
	}
	if (c->hex) {
		for (i = 0; i < vlen; i++)
			fprintf(out, "%02x", buf[i]);
		fputc('\n', out);
	} else {
		fwrite(buf, 1, vlen, out);
	}
	if (out != stdout)
		fclose(out);
out:
	free(key);
	free(buf);
	return rc;
}

static int cmd_simple(struct cli *c, int (*fn)(struct nvkv_dev *, const void *, size_t))
{
	char usage[96];
	struct common_opts o;
	uint8_t *key = NULL;
	size_t klen;
	int rc;

	snprintf(usage, sizeof(usage), "usage: nvkv DEVICE %s KEY [--hex]\n", c->cmd);
	rc = parse_common(c, &o, usage, "x");
	if (rc || (rc = get_key(c, optind, &key, &klen)))
		return rc;
	rc = open_dev(c);
	if (!rc) {
		rc = fn(c->d, key, klen);
		/* "exist" answering "no" is an answer, not an error worth a message. */
		if (fn == nvkv_exist && rc == NVKV_KEY_NOT_EXIST)
			rc = EX_DEVICE;
		else
			rc = report(c->cmd, rc);
	}
	free(key);
	return rc;
}

static int cmd_list(struct cli *c)
{
	static const char usage[] = "usage: nvkv DEVICE list [START] [--limit N] [--hex]\n";
	struct nvkv_iter *it = NULL;
	uint8_t *start = NULL;
	struct common_opts o;
	size_t slen = 0, klen;
	const void *k;
	long n = 0;
	int rc = parse_common(c, &o, usage, "xl");

	if (rc)
		return rc;
	if (optind < c->argc && decode_arg(c->argv[optind], c->hex, &start, &slen))
		return usage_error("bad hex key '%s'", c->argv[optind]);
	if (slen > NVKV_MAX_KEY) {
		free(start);
		return usage_error("keys are 1 to 16 bytes: '%s'", c->argv[optind]);
	}
	rc = open_dev(c);
	if (rc) {
		free(start);
		return rc;
	}
	rc = nvkv_iter_open(c->d, start, slen, &it);
	while (!rc && (o.limit < 0 || n < o.limit)) {
		int r = nvkv_iter_next(it, &k, &klen);

		if (r <= 0) {
			rc = r;
			break;
		}
		print_key(k, klen, c->hex);
		n++;
	}
	nvkv_iter_close(it);
	free(start);
	return report("list", rc);
}

static int cmd_flush(struct cli *c)
{
	struct common_opts o;
	int rc = parse_common(c, &o, "usage: nvkv DEVICE flush\n", "");

	if (rc || (rc = open_dev(c)))
		return rc;
	return report("flush", nvkv_flush(c->d));
}

static int cmd_stats(struct cli *c)
{
	struct kvc_stats_log *l = calloc(1, sizeof(*l));
	struct common_opts o;
	int rc = parse_common(c, &o, "usage: nvkv DEVICE stats [--json]\n", "j");

	if (!rc)
		rc = open_dev(c);
	if (!rc && !l)
		rc = report("stats", -ENOMEM);
	if (!rc) {
		rc = nvkv_device_stats(c->d, l, sizeof(*l));
		if (rc)
			rc = report("stats", rc);
		else
			kvc_stats_print(stdout, l, o.json);
	}
	free(l);
	return rc;
}

/* ---- passthrough ----------------------------------------------------------------------- */

static const char passthru_usage[] =
	"usage: nvkv DEVICE io-passthru|admin-passthru --opcode OPC [OPTIONS]\n"
	"  --opcode, -o OPC        command opcode\n"
	"  --namespace-id, -n ID   NSID (io-passthru default 1)\n"
	"  --cdw2 .. --cdw15 V     command dwords 2, 3, 10..15\n"
	"  --data-len, -l N        data buffer bytes\n"
	"  --input-file, -i PATH   data to send (--write), default standard input\n"
	"  --read, -r / --write, -w  direction of the data (must match opcode bits 1:0)\n"
	"  --raw-binary, -b        print read data raw instead of a hex dump\n"
	"  --show-command, -s      print the command before sending it\n"
	"  --dry-run, -d           print the command and do not send it\n"
	"Prints 'NVMe command result:XXXXXXXX' (DW0) or the status name.\n";

struct passthru {
	struct kvc_sqe sqe;
	uint32_t len;
	const char *input;
	bool read, write, raw, show, dry;
};

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > 0xffffffffull)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

static int parse_passthru(struct cli *c, struct passthru *p, bool admin)
{
	static const struct option opts[] = {
		{ "opcode", required_argument, NULL, 'o' },
		{ "namespace-id", required_argument, NULL, 'n' },
		{ "cdw2", required_argument, NULL, 2 },
		{ "cdw3", required_argument, NULL, 3 },
		{ "cdw10", required_argument, NULL, 10 },
		{ "cdw11", required_argument, NULL, 11 },
		{ "cdw12", required_argument, NULL, 12 },
		{ "cdw13", required_argument, NULL, 13 },
		{ "cdw14", required_argument, NULL, 14 },
		{ "cdw15", required_argument, NULL, 15 },
		{ "data-len", required_argument, NULL, 'l' },
		{ "input-file", required_argument, NULL, 'i' },
		{ "read", no_argument, NULL, 'r' },
		{ "write", no_argument, NULL, 'w' },
		{ "raw-binary", no_argument, NULL, 'b' },
		{ "show-command", no_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_opc = false;
	uint32_t v;
	int ch;

	memset(p, 0, sizeof(*p));
	kvc_sqe_set_nsid(&p->sqe, admin ? 0 : 1);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(c->argc, c->argv, "o:n:l:i:rwbsdh", opts, NULL)) != -1) {
		if (ch == 'h') {
			printf("%s", passthru_usage);
			exit(EX_OK);
		}
		if (ch == '?')
			return usage_error("unknown or incomplete option %s", c->argv[optind - 1]);
		if (strchr("rwbsd", ch) && ch > 15) {
			p->read |= ch == 'r';
			p->write |= ch == 'w';
			p->raw |= ch == 'b';
			p->show |= ch == 's';
			p->dry |= ch == 'd';
			continue;
		}
		if (ch == 'i') {
			p->input = optarg;
			continue;
		}
		if (parse_u32(optarg, &v))
			return usage_error("not a 32-bit number: '%s'", optarg);
		if (ch == 'o') {
			if (v > 0xff)
				return usage_error("opcode is one byte: '%s'", optarg);
			p->sqe.opc = (uint8_t)v;
			have_opc = true;
		} else if (ch == 'n') {
			kvc_sqe_set_nsid(&p->sqe, v);
		} else if (ch == 'l') {
			p->len = v;
		} else {
			kvc_sqe_set_dw(&p->sqe, (unsigned int)ch, v);
		}
	}
	if (!have_opc)
		return usage_error("%s", "--opcode is required");
	if (p->read && p->write)
		return usage_error("%s", "--read and --write exclude each other");
	if (p->len && !p->read && !p->write)
		return usage_error("%s", "--data-len needs --read or --write");
	return EX_OK;
}

static void show_command(const struct kvc_sqe *s, uint32_t len)
{
	unsigned int i;

	printf("opcode       : %02x\nnsid         : %08x\n", s->opc, kvc_sqe_nsid(s));
	for (i = 2; i < 16; i++) {
		if (i >= 4 && i <= 9)
			continue;
		printf("cdw%-2u        : %08x\n", i, kvc_sqe_dw(s, i));
	}
	printf("data_len     : %08x\n", len);
}

static void hexdump(const uint8_t *b, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i += 16) {
		printf("%04zx:", i);
		for (j = i; j < i + 16 && j < n; j++)
			printf(" %02x", b[j]);
		printf("\n");
	}
}

static int cmd_passthru(struct cli *c, bool admin)
{
	struct passthru p;
	uint8_t *buf = NULL;
	size_t got = 0;
	uint32_t dw0 = 0;
	int rc = parse_passthru(c, &p, admin);

	if (rc)
		return rc;
	if (p.show || p.dry)
		show_command(&p.sqe, p.len);
	if (p.dry)
		return EX_OK;
	if (p.len) {
		if (p.write) {
			FILE *f = p.input ? fopen(p.input, "rb") : stdin;

			if (!f) {
				fprintf(stderr, "nvkv: %s: %s\n", p.input, strerror(errno));
				return EX_USAGE;
			}
			rc = read_all(f, &buf, &got, 64u << 20);
			if (f != stdin)
				fclose(f);
			if (rc)
				return report("reading the input", rc);
			if (got < p.len) { /* pad with zeros to --data-len */
				uint8_t *nb = realloc(buf, p.len);

				if (!nb) {
					free(buf);
					return report("input", -ENOMEM);
				}
				buf = nb;
				memset(buf + got, 0, p.len - got);
			}
		} else {
			buf = calloc(1, p.len);
			if (!buf)
				return report("buffer", -ENOMEM);
		}
	}
	rc = open_dev(c);
	if (!rc) {
		rc = admin ? nvkv_admin_raw(c->d, &p.sqe, buf, p.len, &dw0)
			   : nvkv_io_raw(c->d, &p.sqe, buf, p.len, &dw0);
		if (rc > 0) {
			printf("NVMe status: %s\n", nvkv_strerror(rc));
			rc = EX_DEVICE;
		} else if (rc < 0) {
			rc = report(c->cmd, rc);
		} else {
			printf("NVMe command result:%08x\n", dw0);
			if (p.read && p.len) {
				if (p.raw)
					fwrite(buf, 1, p.len, stdout);
				else
					hexdump(buf, p.len);
			}
		}
	}
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	int rc;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		main_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : EX_OK;
	}
	if (argc < 3)
		return usage_error("%s", "missing COMMAND after DEVICE");
	c.device = argv[1];
	c.cmd = argv[2];
	c.argc = argc - 2;
	c.argv = argv + 2;
	if (!strcmp(c.cmd, "identify"))
		rc = cmd_identify(&c);
	else if (!strcmp(c.cmd, "store"))
		rc = cmd_store(&c);
	else if (!strcmp(c.cmd, "retrieve"))
		rc = cmd_retrieve(&c);
	else if (!strcmp(c.cmd, "delete"))
		rc = cmd_simple(&c, nvkv_delete);
	else if (!strcmp(c.cmd, "exist"))
		rc = cmd_simple(&c, nvkv_exist);
	else if (!strcmp(c.cmd, "list"))
		rc = cmd_list(&c);
	else if (!strcmp(c.cmd, "flush"))
		rc = cmd_flush(&c);
	else if (!strcmp(c.cmd, "stats"))
		rc = cmd_stats(&c);
	else if (!strcmp(c.cmd, "io-passthru"))
		rc = cmd_passthru(&c, false);
	else if (!strcmp(c.cmd, "admin-passthru"))
		rc = cmd_passthru(&c, true);
	else
		rc = usage_error("unknown command '%s'", c.cmd);
	nvkv_close(c.d);
	return rc;
}
