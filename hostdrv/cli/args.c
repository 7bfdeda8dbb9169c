// SPDX-License-Identifier: MIT
/*
 * The nvkv command line's shared parsing: one getopt loop for every command
 * (a missing value or an unknown option is a usage error said the same way
 * everywhere, options named as the user wrote them), the option values more
 * than one command takes (numbers, milliseconds, output formats), the
 * options of the key-value and device commands, the DEVICE among a command's
 * arguments (nvme-cli's order), and the key or value given as text or hex.
 * Part of the nvkv program, not of libnvkv.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostdrv/cli/cli.h"

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

static int hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode @s (text, or hex when @hex) into a new buffer. */
int cli_decode_arg(const char *s, bool hex, uint8_t **out, size_t *len)
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

int cli_parse_opts(struct cli *c, const char *shortopts, const struct option *lo, cli_opt_fn *fn,
		   void *ctx)
{
	char name[64];
	int ch, idx, rc;

	optind = 1;
	opterr = 0;
	for (;;) {
		idx = -1;
		ch = getopt_long(c->argc, c->argv, shortopts, lo, &idx);
		if (ch == -1)
			return EX_OK;
		if (ch == ':')
			return usage_error("%s needs a value", c->argv[optind - 1]);
		if (ch == '?')
			return usage_error("%s: unknown option %s", c->cmd, c->argv[optind - 1]);
		/* The option as the user wrote it, for messages: "--xfer", "-n". */
		if (idx >= 0)
			snprintf(name, sizeof(name), "--%s", lo[idx].name);
		else
			snprintf(name, sizeof(name), "-%c", ch);
		rc = fn(c, ctx, ch, name);
		if (rc)
			return rc;
	}
}

int cli_u32_opt(const char *name, const char *arg, uint32_t *v)
{
	if (parse_u32(arg, v))
		return usage_error("%s needs a 32-bit number, got '%s'", name, arg);
	return EX_OK;
}

int cli_ms_opt(const char *name, const char *arg, uint32_t *ms)
{
	if (parse_u32(arg, ms))
		return usage_error("%s needs milliseconds, got '%s'", name, arg);
	return EX_OK;
}

int cli_output_format(const char *name, const char *fmt, bool *raw)
{
	if (!strcmp(fmt, "normal"))
		*raw = false;
	else if (!strcmp(fmt, "binary"))
		*raw = true;
	else
		return usage_error("%s: output format is normal or binary, got '%s'", name, fmt);
	return EX_OK;
}

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

static int apply_common(struct cli *c, struct cli_common *o, int ch, const char *name)
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
		return cli_ms_opt(name, optarg, &c->timeout_ms);
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
bool cli_looks_like_device(const char *s)
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
	c->device_given = arg && cli_looks_like_device(arg);
	c->device = c->device_given ? arg : getenv("NVKV_DEVICE");
	if (!c->device || !*c->device)
		c->device = CLI_DEFAULT_DEVICE;
	return c->device_given;
}

struct common_parse {
	struct cli_common *o;
	unsigned int allowed;
};

static int common_option(struct cli *c, void *ctx, int ch, const char *name)
{
	struct common_parse *p = ctx;

	if (!((unsigned int)ch & p->allowed))
		return usage_error("%s does not take %s", c->cmd, name);
	return apply_common(c, p->o, ch, name);
}

int cli_parse_common(struct cli *c, struct cli_common *o, unsigned int allowed)
{
	struct common_parse p = { .o = o, .allowed = allowed };
	int rc;

	memset(o, 0, sizeof(*o));
	o->limit = -1;
	rc = cli_parse_opts(c, ":", common_longopts, common_option, &p);
	if (rc)
		return rc;
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
int cli_check_extra(const struct cli *c, const struct cli_common *o, int max)
{
	if (o->npos > max)
		return usage_error("%s: unexpected argument '%s'", c->cmd, o->pos[max]);
	return EX_OK;
}
