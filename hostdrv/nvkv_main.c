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
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hostdrv/cli/feature.h"
#include "cmdset/cmdset.h"
#include "hostdrv/cli/cli.h"
#include "nvkv.h"

#ifndef NVKV_VERSION
#define NVKV_VERSION "unknown"
#endif

/* nvkv-emu listens here unless told otherwise (emu.socket's default). */
#define DEFAULT_DEVICE "/tmp/nvkv.sock"

int usage_error(const char *fmt, ...)
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
int report(const char *what, int rc)
{
	if (rc == 0)
		return EX_OK;
	fprintf(stderr, "nvkv: %s: %s\n", what, nvkv_strerror(rc));
	return rc > 0						       ? EX_DEVICE
	       : rc == -EINVAL || rc == -EMSGSIZE || rc == -EOPNOTSUPP ? EX_USAGE
								       : EX_TRANSPORT;
}

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
		"without it, $NVKV_DEVICE, else " DEFAULT_DEVICE " (nvkv-emu's default).  A\n"
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

/*
 * Read @f to its end into a new buffer: 0, -EMSGSIZE past @max bytes,
 * -ENOMEM (nothing is returned then, not even what was read), -EIO.
 */
int read_all(FILE *f, uint8_t **out, size_t *len, size_t max)
{
	size_t cap = 4096, n = 0;
	uint8_t *b = malloc(cap);

	if (!b)
		return -ENOMEM;
	for (;;) {
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

			if (!nb) {
				free(b); /* never a truncated value as if it were the input */
				return -ENOMEM;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (ferror(f)) {
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

/* Options of the data commands.  Each command says which it takes (mask of bits). */
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

struct common_opts {
	const char *file, *key, *value;
	bool must_exist, must_not_exist, json;
	long limit;
	uint32_t nsid; /* 0: not given */
	int npos;      /* positional arguments after the command */
	char **pos;    /* and where they are */
};

static const struct option common_longopts[] = {
	{ "hex", no_argument, NULL, O_HEX },
	{ "xfer", required_argument, NULL, O_XFER },
	{ "file", required_argument, NULL, O_FILE },
	{ "data-input", required_argument, NULL, O_FILE },  /* xNVMe */
	{ "data-output", required_argument, NULL, O_FILE }, /* xNVMe */
	{ "must-exist", no_argument, NULL, O_MUST_EXIST },
	{ "only-update", no_argument, NULL, O_MUST_EXIST }, /* xNVMe */
	{ "must-not-exist", no_argument, NULL, O_MUST_NOT_EXIST },
	{ "only-add", no_argument, NULL, O_MUST_NOT_EXIST }, /* xNVMe */
	{ "limit", required_argument, NULL, O_LIMIT },
	{ "json", no_argument, NULL, O_JSON },
	{ "key", required_argument, NULL, O_KEY },     /* xNVMe */
	{ "value", required_argument, NULL, O_VALUE }, /* xNVMe */
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "xfer-strict", no_argument, NULL, O_XFER_STRICT },
	{ "strict-xfer", no_argument, NULL, O_XFER_STRICT },
	{ "nsid", required_argument, NULL, O_NSID },
	{ "namespace-id", required_argument, NULL, O_NSID }, /* nvme-cli */
	{ NULL, 0, NULL, 0 },
};

/* The option as the user wrote it, for messages: "--xfer", "--limit". */
static const char *opt_name(const struct cli *c, int longidx)
{
	static char buf[64];

	if (longidx >= 0) {
		snprintf(buf, sizeof(buf), "--%s", common_longopts[longidx].name);
		return buf;
	}
	return c->argv[optind - 1];
}

int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

int parse_u32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (parse_u64(s, &x) || x > 0xffffffffull)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

FILE *open_input(const char *path)
{
	FILE *f = path ? fopen(path, "rb") : stdin;

	if (!f)
		fprintf(stderr, "nvkv: %s: %s\n", path, strerror(errno));
	return f;
}

static int apply_common(struct cli *c, struct common_opts *o, int ch, const char *name)
{
	char *end;
	uint32_t v;

	switch (ch) {
	case O_HEX:
		c->hex = true;
		break;
	case O_XFER:
		if (nvkv_xfer_parse(optarg, &c->xfer))
			return usage_error("%s: unknown transfer method '%s' (prp, bandslim, "
					   "adaptive, adaptive-cost, byteexpress, sgl)",
					   name, optarg);
		break;
	case O_XFER_STRICT:
		c->xfer_strict = true;
		break;
	case O_FILE:
		o->file = optarg;
		break;
	case O_MUST_EXIST:
		o->must_exist = true;
		break;
	case O_MUST_NOT_EXIST:
		o->must_not_exist = true;
		break;
	case O_LIMIT:
		errno = 0;
		o->limit = strtol(optarg, &end, 10);
		if (!*optarg || *end || errno || o->limit < 0)
			return usage_error("%s needs a count, got '%s'", name, optarg);
		break;
	case O_JSON:
		o->json = true;
		break;
	case O_KEY:
		o->key = optarg;
		break;
	case O_VALUE:
		o->value = optarg;
		break;
	case O_TIMEOUT:
		if (parse_u32(optarg, &v))
			return usage_error("%s needs milliseconds, got '%s'", name, optarg);
		c->timeout_ms = v;
		break;
	case O_NSID:
		if (!strcmp(optarg, "all"))
			v = NVKV_NSID_ALL;
		else if (parse_u32(optarg, &v) || !v)
			return usage_error("%s needs a namespace ID (1.., or all), got '%s'", name,
					   optarg);
		o->nsid = v;
		break;
	}
	return EX_OK;
}

/* A DEVICE after the COMMAND: a path, "sim[:FILE]", "tcp://...", or an existing socket or device. */
static bool looks_like_device(const char *s)
{
	struct stat st;

	if (s[0] == '/' || s[0] == '.')
		return true;
	if (!strcmp(s, "sim") || !strncmp(s, "sim:", 4))
		return true; /* the simulated device (docs/host.md) */
	if (!strncmp(s, "tcp://", 6))
		return true; /* an NVMe/TCP target (docs/host.md) */
	if (!strncmp(s, "nqn.", 4) || (!strncmp(s, "nvme", 4) && isdigit((unsigned char)s[4])))
		return true; /* the kernel's controller by NQN or name (io_uring passthrough) */
	return !stat(s, &st) && (S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode));
}

/*
 * nvme-cli's order puts the DEVICE among the command's arguments, as its first
 * positional one; the options are parsed by then, so an option's value is never
 * taken for it.  Return whether @arg became the device.
 */
bool take_device(struct cli *c, const char *arg)
{
	if (c->device)
		return false;
	c->device_given = arg && looks_like_device(arg);
	c->device = c->device_given ? arg : getenv("NVKV_DEVICE");
	if (!c->device || !*c->device)
		c->device = DEFAULT_DEVICE;
	return c->device_given;
}

/* Parse the options @allowed (a mask of enum copt) and collect the positionals. */
static int parse_common(struct cli *c, struct common_opts *o, unsigned int allowed)
{
	int ch, idx, rc;

	memset(o, 0, sizeof(*o));
	o->limit = -1;
	optind = 1;
	opterr = 0;
	for (;;) {
		idx = -1;
		ch = getopt_long(c->argc, c->argv, ":", common_longopts, &idx);
		if (ch == -1)
			break;
		if (ch == ':')
			return usage_error("%s needs a value", c->argv[optind - 1]);
		if (ch == '?')
			return usage_error("%s: unknown option %s", c->cmd, c->argv[optind - 1]);
		if (!((unsigned int)ch & allowed))
			return usage_error("%s does not take %s", c->cmd, opt_name(c, idx));
		rc = apply_common(c, o, ch, opt_name(c, idx));
		if (rc)
			return rc;
	}
	o->npos = c->argc - optind;
	o->pos = c->argv + optind;
	if (take_device(c, o->npos ? o->pos[0] : NULL)) {
		o->npos--;
		o->pos++;
	}
	return EX_OK;
}

int end_of_args(struct cli *c)
{
	if (take_device(c, optind < c->argc ? c->argv[optind] : NULL))
		optind++;
	if (optind < c->argc)
		return usage_error("%s: unexpected argument '%s'", c->cmd, c->argv[optind]);
	return EX_OK;
}

/* At most @max positionals: a stray word is a mistake, not something to ignore. */
static int check_extra(const struct cli *c, const struct common_opts *o, int max)
{
	if (o->npos > max)
		return usage_error("%s: unexpected argument '%s'", c->cmd, o->pos[max]);
	return EX_OK;
}

/* The key comes from --key or the first positional; @used says which positionals it took. */
static int get_key(struct cli *c, const struct common_opts *o, uint8_t **key, size_t *klen,
		   int *used)
{
	const char *s = o->key;

	*used = 0;
	if (!s) {
		if (o->npos < 1)
			return usage_error("%s needs a KEY (or --key KEY)", c->cmd);
		s = o->pos[0];
		*used = 1;
	}
	if (decode_arg(s, c->hex, key, klen))
		return usage_error("bad hex key '%s'", s);
	if (*klen < 1 || *klen > NVKV_MAX_KEY) {
		free(*key);
		return usage_error("keys are 1 to 16 bytes: '%s'", s);
	}
	return EX_OK;
}

/* Through the kernel's passthrough the kernel builds the SQ and the data pointer. */
static int check_backend_xfer(struct cli *c)
{
	struct nvkv_info in;

	if (c->xfer != NVKV_XFER_BYTEEXPRESS && c->xfer != NVKV_XFER_SGL)
		return EX_OK;
	if (nvkv_identify(c->d, &in) || strcmp(in.backend, "uring"))
		return EX_OK;
	return usage_error("--xfer %s is not possible on %s: through io_uring passthrough the "
			   "kernel owns the submission queue and the data pointer (use prp, "
			   "bandslim, adaptive or adaptive-cost)",
			   nvkv_xfer_name(c->xfer), c->device);
}

int open_dev(struct cli *c)
{
	struct nvkv_opts o;
	int rc;

	nvkv_opts_default(&o);
	o.queues = 1;
	o.queue_depth = 64;
	o.timeout_ms = c->timeout_ms ? c->timeout_ms : 5000;
	o.name = "nvkv-cli";
	/* The device's method too: with sgl, Retrieve and List buffers are SGLs. */
	if (c->xfer != NVKV_XFER_DEFAULT)
		o.xfer = c->xfer;
	rc = nvkv_open(c->device, &o, &c->d);
	if (!rc)
		return check_backend_xfer(c);
	fprintf(stderr, "nvkv: cannot open %s: %s\n", c->device, nvkv_strerror(rc));
	if (rc == -EACCES || rc == -EPERM)
		fprintf(stderr, "nvkv: NVMe passthrough (/dev/ngXnY, /dev/nvmeX) needs root "
				"(CAP_SYS_ADMIN on Linux 6.1)\n");
	if (rc == -ENXIO)
		fprintf(stderr, "nvkv: that controller has no Key Value namespace\n");
	if (!strncmp(c->device, "tcp://", 6)) {
		if (rc == -ECONNREFUSED)
			fprintf(stderr, "nvkv: no NVMe/TCP target there serves that subsystem "
					"(nvkv-emu --tcp [ADDR:]PORT; the NQN after the port)\n");
		return EX_TRANSPORT;
	}
	if (rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENOTSOCK) {
		fprintf(stderr,
			"nvkv: no emulator is listening there; start one with\n"
			"  nvkv-emu --socket %s &\n",
			c->device);
		if (!c->device_given)
			fprintf(stderr,
				"nvkv: (%s is the default device: give a DEVICE or set "
				"NVKV_DEVICE to use another)\n",
				c->device);
	}
	return EX_TRANSPORT;
}

/* ---- commands ---------------------------------------------------------------------- */

/* "namespaces    1 (Key Value), 2 (NVM, 4096 B blocks)": what the device enumerates. */
static void print_namespaces(struct cli *c)
{
	struct nvkv_ns_info ns[16];
	unsigned int n = 0, i;

	if (nvkv_ns_list(c->d, ns, 16, &n))
		n = 0;
	printf("namespaces    ");
	for (i = 0; i < n && i < 16; i++) {
		if (ns[i].csi == NVKV_CSI_NVM)
			printf("%s%u (NVM, %u B blocks)", i ? ", " : "", ns[i].nsid,
			       ns[i].lba_size);
		else
			printf("%s%u (%s)", i ? ", " : "", ns[i].nsid,
			       ns[i].csi == NVKV_CSI_KV ? "Key Value" : "other command set");
	}
	printf("%s\n", n ? "" : "none");
}

static int cmd_identify(struct cli *c)
{
	struct common_opts o;
	struct nvkv_info in;
	int rc = parse_common(c, &o, O_TIMEOUT);

	if (rc || (rc = check_extra(c, &o, 0)) || (rc = open_dev(c)))
		return rc;
	rc = nvkv_identify(c->d, &in);
	if (rc)
		return report("identify", rc);
	printf("backend       %s\nserial        %s\nmodel         %s\nfirmware      %s\n",
	       in.backend, in.serial, in.model, in.firmware);
	print_namespaces(c);
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
	printf("sgl           %s\n", in.sgl ? "byte-aligned data blocks" : "no");
	return EX_OK;
}

/* The value: --value, a positional after the key, --file, or standard input (not a tty). */
static int get_value(struct cli *c, const struct common_opts *o, int used, uint8_t **val,
		     size_t *vlen)
{
	const char *arg = o->value;
	int given = (o->value != NULL) + (o->npos > used) + (o->file != NULL);
	FILE *f;
	int rc;

	if (given > 1)
		return usage_error("%s", "store takes one VALUE: an argument, --value or --file");
	if (!arg && o->npos > used)
		arg = o->pos[used];
	if (arg) {
		if (decode_arg(arg, c->hex, val, vlen))
			return usage_error("bad hex value '%s'", arg);
		return EX_OK;
	}
	if (!o->file && isatty(STDIN_FILENO))
		return usage_error("%s", "store needs a VALUE: after the KEY, with --value V, "
					 "--file F, or on standard input");
	f = open_input(o->file);
	if (!f)
		return EX_USAGE;
	rc = read_all(f, val, vlen, 64u << 20);
	if (f != stdin)
		fclose(f);
	return rc ? report("reading the value", rc) : EX_OK;
}

/* Say on stderr when the method of --xfer cannot carry this value. */
static void xfer_note(const struct cli *c, size_t klen, size_t vlen)
{
	enum nvkv_xfer used;
	char why[160];

	if (c->xfer == NVKV_XFER_DEFAULT || c->xfer == NVKV_XFER_ADAPTIVE ||
	    c->xfer == NVKV_XFER_ADAPTIVE_COST ||
	    nvkv_xfer_check(c->d, c->xfer, klen, vlen, &used, why, sizeof(why)) || used == c->xfer)
		return;
	fprintf(stderr, "nvkv: note: --xfer %s cannot carry this value (%s)%s\n",
		nvkv_xfer_name(c->xfer), why,
		c->xfer_strict ? "; --xfer-strict refuses it" : ": sent by prp instead");
}

static int cmd_store(struct cli *c)
{
	uint8_t *key = NULL, *val = NULL;
	size_t klen, vlen = 0;
	struct common_opts o;
	unsigned int flags;
	int used, rc;

	rc = parse_common(c, &o,
			  O_HEX | O_XFER | O_XFER_STRICT | O_FILE | O_MUST_EXIST |
				  O_MUST_NOT_EXIST | O_KEY | O_VALUE | O_TIMEOUT);
	if (rc || (rc = get_key(c, &o, &key, &klen, &used)))
		return rc;
	if (o.must_exist && o.must_not_exist)
		rc = usage_error("%s", "--must-exist (--only-update) and --must-not-exist "
				       "(--only-add) exclude each other");
	if (!rc)
		rc = check_extra(c, &o, used + 1);
	if (!rc)
		rc = get_value(c, &o, used, &val, &vlen);
	if (!rc && c->xfer_strict && c->xfer == NVKV_XFER_DEFAULT)
		rc = usage_error("%s", "--xfer-strict needs --xfer METHOD");
	if (!rc)
		rc = open_dev(c);
	if (!rc) {
		flags = NVKV_F_XFER(c->xfer) | (o.must_exist ? NVKV_STORE_MUST_EXIST : 0) |
			(o.must_not_exist ? NVKV_STORE_MUST_NOT_EXIST : 0) |
			(c->xfer_strict ? NVKV_F_XFER_STRICT : 0);
		xfer_note(c, klen, vlen);
		rc = report("store", nvkv_store(c->d, key, klen, val, vlen, flags));
	}
	free(key);
	free(val);
	return rc;
}

static int write_value(const struct cli *c, const char *file, const uint8_t *buf, size_t vlen)
{
	FILE *out = file ? fopen(file, "wb") : stdout;
	size_t i;

	if (!out) {
		fprintf(stderr, "nvkv: %s: %s\n", file, strerror(errno));
		return EX_USAGE;
	}
	if (c->hex) {
		for (i = 0; i < vlen; i++)
			fprintf(out, "%02x", buf[i]);
		fputc('\n', out);
	} else {
		fwrite(buf, 1, vlen, out);
		/* A shell prompt glued to the value helps nobody; pipes get the bytes as stored. */
		if (out == stdout && isatty(STDOUT_FILENO) && (!vlen || buf[vlen - 1] != '\n'))
			fputc('\n', out);
	}
	if (out != stdout && fclose(out)) {
		fprintf(stderr, "nvkv: %s: %s\n", file, strerror(errno));
		return EX_USAGE;
	}
	return EX_OK;
}

static int cmd_retrieve(struct cli *c)
{
	struct common_opts o;
	struct nvkv_info in;
	uint8_t *key = NULL, *buf = NULL;
	size_t klen, vlen = 0;
	int used, rc = parse_common(c, &o, O_HEX | O_FILE | O_KEY | O_TIMEOUT | O_XFER);

	if (rc || (rc = get_key(c, &o, &key, &klen, &used)))
		goto out;
	if ((rc = check_extra(c, &o, used)) || (rc = open_dev(c)))
		goto out;
	rc = nvkv_identify(c->d, &in);
	if (rc) {
		rc = report("identify", rc);
		goto out;
	}
	buf = malloc(in.max_value + 1);
	rc = buf ? nvkv_retrieve(c->d, key, klen, buf, in.max_value, &vlen) : -ENOMEM;
	if (rc)
		rc = report("retrieve", rc);
	else
		rc = write_value(c, o.file, buf, vlen);
out:
	free(key);
	free(buf);
	return rc;
}

static int cmd_key_only(struct cli *c, int (*fn)(struct nvkv_dev *, const void *, size_t))
{
	struct common_opts o;
	uint8_t *key = NULL;
	size_t klen;
	int used, rc;

	rc = parse_common(c, &o, O_HEX | O_KEY | O_TIMEOUT);
	if (rc || (rc = get_key(c, &o, &key, &klen, &used)))
		return rc;
	rc = check_extra(c, &o, used);
	if (!rc)
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

static int cmd_delete(struct cli *c)
{
	return cmd_key_only(c, nvkv_delete);
}

static int cmd_exist(struct cli *c)
{
	return cmd_key_only(c, nvkv_exist);
}

static int cmd_list(struct cli *c)
{
	struct nvkv_iter *it = NULL;
	const char *s = NULL;
	uint8_t *start = NULL;
	struct common_opts o;
	size_t slen = 0, klen;
	const void *k;
	long n = 0;
	int rc = parse_common(c, &o, O_HEX | O_LIMIT | O_KEY | O_TIMEOUT | O_XFER);

	if (rc || (rc = check_extra(c, &o, o.key ? 0 : 1)))
		return rc;
	s = o.key ? o.key : o.npos ? o.pos[0] : NULL;
	if (s && decode_arg(s, c->hex, &start, &slen))
		return usage_error("bad hex key '%s'", s);
	if (slen > NVKV_MAX_KEY) {
		free(start);
		return usage_error("keys are 1 to 16 bytes: '%s'", s);
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
	int rc = parse_common(c, &o, O_TIMEOUT);

	if (rc || (rc = check_extra(c, &o, 0)) || (rc = open_dev(c)))
		return rc;
	return report("flush", nvkv_flush(c->d));
}

static int cmd_stats(struct cli *c)
{
	struct kvc_stats_log *l = NULL;
	struct common_opts o;
	int rc = parse_common(c, &o, O_JSON | O_TIMEOUT);

	if (rc || (rc = check_extra(c, &o, 0)) || (rc = open_dev(c)))
		return rc;
	l = calloc(1, sizeof(*l));
	rc = l ? nvkv_device_stats(c->d, l, sizeof(*l)) : -ENOMEM;
	if (rc) {
		rc = report("stats", rc);
	} else {
		kvc_stats_print(stdout, l, o.json);
		if (!o.json)
			cli_stats_namespaces(c, stdout);
	}
	free(l);
	return rc;
}

/* Format NVM: the KV namespace unless --nsid names another (or all). */
static int cmd_format(struct cli *c)
{
	struct common_opts o;
	uint32_t nsid;
	int rc = parse_common(c, &o, O_NSID | O_TIMEOUT);

	if (rc || (rc = check_extra(c, &o, 0)) || (rc = open_dev(c)))
		return rc;
	nsid = o.nsid ? o.nsid : nvkv_ns_first(c->d, NVKV_CSI_KV);
	if (!nsid) {
		fprintf(stderr, "nvkv: format: the device has no KV namespace: give --nsid\n");
		return EX_USAGE;
	}
	rc = nvkv_format(c->d, nsid);
	if (rc == -ENXIO) {
		fprintf(stderr, "nvkv: format: no namespace %u (nvkv list-ns)\n", nsid);
		return EX_USAGE;
	}
	if (rc)
		return report("format", rc);
	if (nsid == NVKV_NSID_ALL)
		printf("formatted every namespace\n");
	else
		printf("formatted namespace %u\n", nsid);
	return EX_OK;
}

/* ---- passthrough ----------------------------------------------------------------------- */

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

/* --output-format / -o FMT: normal (hex dump) or binary (raw). */
static int set_output_format(struct passthru *p, const char *name, const char *fmt)
{
	if (!strcmp(fmt, "normal"))
		p->raw = false;
	else if (!strcmp(fmt, "binary"))
		p->raw = true;
	else
		return usage_error("%s: output format is normal or binary, got '%s'", name, fmt);
	return EX_OK;
}

static int passthru_number(struct passthru *p, int ch, const char *name, const char *arg)
{
	uint32_t v;

	if (parse_u32(arg, &v))
		return usage_error("%s needs a 32-bit number, got '%s'", name, arg);
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

static int passthru_option(struct cli *c, struct passthru *p, int ch, int idx)
{
	char name[48];

	if (idx >= 0)
		snprintf(name, sizeof(name), "--%s", passthru_longopts[idx].name);
	else
		snprintf(name, sizeof(name), "-%c", ch);
	switch (ch) {
	case ':':
		return usage_error("%s needs a value", c->argv[optind - 1]);
	case '?':
		return usage_error("%s: unknown option %s", c->cmd, c->argv[optind - 1]);
	case 'o': /* nvme-cli 2.x: -o OPCODE; newer releases: -o FORMAT and -O OPCODE */
		if (isdigit((unsigned char)*optarg))
			return passthru_number(p, 'O', "-o", optarg);
		return set_output_format(p, "-o", optarg);
	case P_OUTPUT_FORMAT:
		return set_output_format(p, name, optarg);
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
	int ch, idx, rc;

	memset(p, 0, sizeof(*p));
	kvc_sqe_set_nsid(&p->sqe, admin ? 0 : 1);
	optind = 1;
	opterr = 0;
	for (;;) {
		idx = -1;
		ch = getopt_long(c->argc, c->argv, passthru_shortopts, passthru_longopts, &idx);
		if (ch == -1)
			break;
		rc = passthru_option(c, p, ch, idx);
		if (rc)
			return rc;
	}
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

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void show_latency(const struct cli *c, bool on, uint64_t t0)
{
	if (on)
		fprintf(stderr, "latency: %s: %llu us\n", c->cmd,
			(unsigned long long)(now_us() - t0));
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

static int cmd_io_passthru(struct cli *c)
{
	return cmd_passthru(c, false);
}

static int cmd_admin_passthru(struct cli *c)
{
	return cmd_passthru(c, true);
}

/* set-feature / get-feature live in cli/feature.c; the device is found here. */
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

static int cmd_set_feature(struct cli *c)
{
	return cmd_feature(c, true);
}

static int cmd_get_feature(struct cli *c)
{
	return cmd_feature(c, false);
}

/* ---- dispatch ------------------------------------------------------------------------ */

static const char passthru_usage[] =
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
	{ "io-passthru", cmd_io_passthru, passthru_usage },
	{ "admin-passthru", cmd_admin_passthru, passthru_usage },
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
	if (argc == 2 && looks_like_device(word))
		return usage_error("no COMMAND after DEVICE %s; commands: %s", word,
				   command_names());
	if (looks_like_device(word))
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
