// SPDX-License-Identifier: MIT
/*
 * nvkv's Key Value commands: store, retrieve, delete, exist and list, with
 * xNVMe kvs's spellings of their options (--key, --value, --only-add,
 * --only-update, --data-input, --data-output).  Part of the nvkv program,
 * not of libnvkv.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostdrv/cli/cli.h"

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

/* The key comes from --key or the first positional; @used says which positionals it took. */
static int get_key(struct cli *c, const struct cli_common *o, uint8_t **key, size_t *klen,
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
	if (cli_decode_arg(s, c->hex, key, klen))
		return usage_error("bad hex key '%s'", s);
	if (*klen < 1 || *klen > NVKV_MAX_KEY) {
		free(*key);
		return usage_error("keys are 1 to 16 bytes: '%s'", s);
	}
	return EX_OK;
}

/* The value: --value, a positional after the key, --file, or standard input (not a tty). */
static int get_value(struct cli *c, const struct cli_common *o, int used, uint8_t **val,
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
		if (cli_decode_arg(arg, c->hex, val, vlen))
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

int cmd_store(struct cli *c)
{
	uint8_t *key = NULL, *val = NULL;
	size_t klen, vlen = 0;
	struct cli_common o;
	unsigned int flags;
	int used, rc;

	rc = cli_parse_common(c, &o,
			      O_HEX | O_XFER | O_XFER_STRICT | O_FILE | O_MUST_EXIST |
				      O_MUST_NOT_EXIST | O_KEY | O_VALUE | O_TIMEOUT);
	if (rc || (rc = get_key(c, &o, &key, &klen, &used)))
		return rc;
	if (o.must_exist && o.must_not_exist)
		rc = usage_error("%s", "--must-exist (--only-update) and --must-not-exist "
				       "(--only-add) exclude each other");
	if (!rc)
		rc = cli_check_extra(c, &o, used + 1);
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

int cmd_retrieve(struct cli *c)
{
	struct cli_common o;
	struct nvkv_info in;
	uint8_t *key = NULL, *buf = NULL;
	size_t klen, vlen = 0;
	int used, rc = cli_parse_common(c, &o, O_HEX | O_FILE | O_KEY | O_TIMEOUT | O_XFER);

	if (rc || (rc = get_key(c, &o, &key, &klen, &used)))
		goto out;
	if ((rc = cli_check_extra(c, &o, used)) || (rc = open_dev(c)))
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
	struct cli_common o;
	uint8_t *key = NULL;
	size_t klen;
	int used, rc;

	rc = cli_parse_common(c, &o, O_HEX | O_KEY | O_TIMEOUT);
	if (rc || (rc = get_key(c, &o, &key, &klen, &used)))
		return rc;
	rc = cli_check_extra(c, &o, used);
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

int cmd_delete(struct cli *c)
{
	return cmd_key_only(c, nvkv_delete);
}

int cmd_exist(struct cli *c)
{
	return cmd_key_only(c, nvkv_exist);
}

int cmd_list(struct cli *c)
{
	struct nvkv_iter *it = NULL;
	const char *s = NULL;
	uint8_t *start = NULL;
	struct cli_common o;
	size_t slen = 0, klen;
	const void *k;
	long n = 0;
	int rc = cli_parse_common(c, &o, O_HEX | O_LIMIT | O_KEY | O_TIMEOUT | O_XFER);

	if (rc || (rc = cli_check_extra(c, &o, o.key ? 0 : 1)))
		return rc;
	s = o.key ? o.key : o.npos ? o.pos[0] : NULL;
	if (s && cli_decode_arg(s, c->hex, &start, &slen))
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
