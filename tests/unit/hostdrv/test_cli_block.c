// SPDX-License-Identifier: MIT
/*
 * The nvkv command's NVM namespace commands without a device: nvme-cli's
 * flags and meanings (zero-based --block-count, --data-size rounding), bad
 * flags giving a clear message and exit status 2 before anything is opened,
 * a missing emulator giving 3, and the id-ns / list-ns printers on Identify
 * bytes written by hand from the spec tables.
 */
#include <stdarg.h>
#include <unistd.h>

#include "check_main.h"

int nvkv_cli_main(int argc, char **argv);
#define main nvkv_cli_main
#include "hostdrv/nvkv_main.c"
#undef main
#include "hostdrv/cli/args.c"
#include "hostdrv/cli/dev.c"
#include "hostdrv/cli/kv.c"
#include "hostdrv/cli/ctrl.c"
#include "hostdrv/cli/passthru.c"
#include "hostdrv/cli/block.c"
#include "hostdrv/cli/feature.c"
#include "hostdrv/cli/connect.c"

#define NODEV "/tmp/nvkv-test-cli-block-no-such.sock"

static char out[16384], err[16384];

static void slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
}

/* Run "nvkv ARGS..." (NULL-terminated) with stdout and stderr captured. */
static int run(const char *first, ...)
{
	char *argv[40];
	int argc = 0, rc, o, e;
	FILE *fo = tmpfile(), *fe = tmpfile();
	const char *a;
	va_list ap;

	ck_assert_ptr_nonnull(fo);
	ck_assert_ptr_nonnull(fe);
	argv[argc++] = (char *)"nvkv";
	va_start(ap, first);
	for (a = first; a && argc < 39; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	o = dup(1);
	e = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	rc = nvkv_cli_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(o, 1);
	dup2(e, 2);
	close(o);
	close(e);
	slurp(fo, out, sizeof(out));
	slurp(fe, err, sizeof(err));
	return rc;
}

#define ck_err_has(s) ck_assert_msg(strstr(err, s), "stderr lacks \"%s\": %s", s, err)
#define ck_out_has(s) ck_assert_msg(strstr(out, s), "stdout lacks \"%s\": %s", s, out)

START_TEST(block_count_is_zero_based_and_bounded)
{
	ck_assert_int_eq(run("read", NODEV, "--block-count", "65536", NULL), EX_USAGE);
	ck_err_has("0's based");
	ck_err_has("0..65535");
	ck_assert_int_eq(run("write", NODEV, "-c", "-1", NULL), EX_USAGE);
	ck_err_has("-c needs a number");
	ck_assert_int_eq(run("read", NODEV, "-c", "12x", NULL), EX_USAGE);
	ck_err_has("'12x'");
	/* 65535 (65536 blocks) parses: the command goes on to open the device. */
	ck_assert_int_eq(run("read", NODEV, "-c", "65535", NULL), EX_TRANSPORT);
	ck_err_has("cannot open " NODEV);
}
END_TEST

START_TEST(bad_flags_are_usage_errors)
{
	ck_assert_int_eq(run("read", NODEV, "--data-size", "0", NULL), EX_USAGE);
	ck_err_has("data size not provided");
	ck_assert_int_eq(run("read", NODEV, "--bogus", NULL), EX_USAGE);
	ck_err_has("read: unknown option --bogus");
	ck_assert_int_eq(run("read", NODEV, "-n", "0", NULL), EX_USAGE);
	ck_err_has("NSIDs are 1..0xffffffff");
	ck_assert_int_eq(run("read", NODEV, "--namespace-id", "0x100000000", NULL), EX_USAGE);
	ck_assert_int_eq(run("write", NODEV, "--metadata-size", "8", NULL), EX_USAGE);
	ck_err_has("no metadata");
	ck_assert_int_eq(run("write", NODEV, "-M", "md.bin", NULL), EX_USAGE);
	ck_assert_int_eq(run("read", NODEV, "--start-block", NULL), EX_USAGE);
	ck_err_has("--start-block needs a value");
	ck_assert_int_eq(run("read", NODEV, "stray", NULL), EX_USAGE);
	ck_err_has("read: unexpected argument 'stray'");
	ck_assert_int_eq(run("write-zeroes", NODEV, "--data-size", "4096", NULL), EX_USAGE);
	ck_assert_int_eq(run("id-ns", NODEV, "-o", "json", NULL), EX_USAGE);
	ck_err_has("normal or binary");
	ck_assert_int_eq(run("list-ns", NODEV, "--csi", "256", NULL), EX_USAGE);
	ck_assert_int_eq(run("read", NODEV, "--timeout", "soon", NULL), EX_USAGE);
	/* Good flags in nvme-cli's spelling reach the device (absent here: 3). */
	ck_assert_int_eq(run("write", NODEV, "-n", "2", "-s", "8", "-c", "1", "-z", "8192", "-d",
			     "/dev/null", "-f", NULL),
			 EX_TRANSPORT);
	ck_assert_int_eq(run("write-zeroes", NODEV, "-s", "0", "-c", "7", "--deac", NULL),
			 EX_TRANSPORT);
	ck_assert_int_eq(run("id-ns", NODEV, "-n", "1", "-b", NULL), EX_TRANSPORT);
	ck_assert_int_eq(run("list-ns", NODEV, "-y", "0", NULL), EX_TRANSPORT);
}
END_TEST

START_TEST(dsm_ranges_parsed_as_nvme_cli)
{
	struct nvkv_dsm_range r[NVKV_DSM_MAX_RANGES];
	struct blk_args a;
	unsigned int nr = 0;

	ck_assert_int_eq(run("dsm", NODEV, "--ad", NULL), EX_USAGE);
	ck_err_has("no range definition");
	ck_assert_int_eq(run("dsm", NODEV, "--slbs", "1,2", "--blocks", "3", "--ad", NULL),
			 EX_USAGE);
	ck_err_has("invalid ranges length");
	ck_assert_int_eq(run("dsm", NODEV, "-s", "1", "-b", "4294967296", "-a", NULL), EX_USAGE);
	ck_assert_int_eq(run("dsm", NODEV, "-s", "1", "-b", "1", "-c", "1,2", NULL), EX_USAGE);
	ck_assert_int_eq(run("dsm", NODEV, "-s", "1", "-b", "1", "--cdw11", "8", NULL), EX_USAGE);
	ck_err_has("only IDR");
	ck_assert_int_eq(run("dsm", NODEV, "-s", "0,100", "-b", "8,16", "--ad", NULL),
			 EX_TRANSPORT);

	memset(&a, 0, sizeof(a));
	a.slbs = "0x10,7,18446744073709551615";
	a.blocks = "1,0,4294967295";
	a.ctx = "0,1,2";
	ck_assert_int_eq(dsm_ranges(&a, r, &nr), EX_OK);
	ck_assert_uint_eq(nr, 3);
	ck_assert_uint_eq(r[0].slba, 16);
	ck_assert_uint_eq(r[0].nlb, 1); /* a count: no 0's based adjustment */
	ck_assert_uint_eq(r[1].nlb, 0);
	ck_assert_uint_eq(r[2].slba, UINT64_MAX);
	ck_assert_uint_eq(r[2].nlb, UINT32_MAX);
	ck_assert_uint_eq(r[2].cattr, 2);
}
END_TEST

START_TEST(dsm_at_most_256_ranges)
{
	static char s[256 * 2 + 8], b[256 * 2 + 8];
	struct nvkv_dsm_range r[NVKV_DSM_MAX_RANGES];
	struct blk_args a;
	unsigned int nr = 0, i;

	for (i = 0; i < 256; i++) {
		strcat(s, i ? ",1" : "1");
		strcat(b, i ? ",1" : "1");
	}
	memset(&a, 0, sizeof(a));
	a.slbs = s;
	a.blocks = b;
	ck_assert_int_eq(dsm_ranges(&a, r, &nr), EX_OK);
	ck_assert_uint_eq(nr, 256);
	strcat(s, ",1");
	strcat(b, ",1");
	ck_assert_int_eq(run("dsm", NODEV, "-s", s, "-b", b, "-a", NULL), EX_USAGE);
	ck_err_has("at most 256");
}
END_TEST

/* nvme-cli: buffer = (NLB + 1) blocks, --data-size rounded up to it; without -c the
 * count comes from the size. */
START_TEST(data_size_against_block_count)
{
	struct blk_args a;
	uint64_t bytes = 0;
	uint32_t nlb = 0;

	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(blk_sizes(&a, 4096, &nlb, &bytes), EX_OK); /* neither: one block */
	ck_assert_uint_eq(nlb, 1);
	ck_assert_uint_eq(bytes, 4096);

	a.nlb0 = 7;
	a.nlb_given = true;
	ck_assert_int_eq(blk_sizes(&a, 512, &nlb, &bytes), EX_OK);
	ck_assert_uint_eq(nlb, 8);
	ck_assert_uint_eq(bytes, 4096);

	a.data_size = 1000; /* less than 8 blocks: rounded up, as nvme-cli says */
	a.size_given = true;
	{
		FILE *fe = tmpfile();
		int e = dup(2);

		dup2(fileno(fe), 2);
		ck_assert_int_eq(blk_sizes(&a, 512, &nlb, &bytes), EX_OK);
		fflush(stderr);
		dup2(e, 2);
		close(e);
		slurp(fe, err, sizeof(err));
	}
	ck_err_has("Rounding data size to fit block count (4096 bytes)");
	ck_assert_uint_eq(nlb, 8);
	ck_assert_uint_eq(bytes, 4096);

	a.nlb_given = false; /* the count from the size, rounded up to whole blocks */
	a.nlb0 = 0;
	a.data_size = 4097;
	ck_assert_int_eq(blk_sizes(&a, 4096, &nlb, &bytes), EX_OK);
	ck_assert_uint_eq(nlb, 2);
	ck_assert_uint_eq(bytes, 8192);
	a.data_size = 4096;
	ck_assert_int_eq(blk_sizes(&a, 4096, &nlb, &bytes), EX_OK);
	ck_assert_uint_eq(nlb, 1);
	a.data_size = 65536ull * 512;
	ck_assert_int_eq(blk_sizes(&a, 512, &nlb, &bytes), EX_OK);
	ck_assert_uint_eq(nlb, 65536);
	a.data_size = 65536ull * 512 + 1; /* needs 65537 blocks: more than one command */
	ck_assert_int_eq(blk_sizes(&a, 512, &nlb, &bytes), EX_USAGE);

	a.nlb_given = true; /* more data than blocks: the blocks decide */
	a.nlb0 = 0;
	a.data_size = 8192;
	ck_assert_int_eq(blk_sizes(&a, 4096, &nlb, &bytes), EX_OK);
	ck_assert_uint_eq(nlb, 1);
	ck_assert_uint_eq(bytes, 4096);
}
END_TEST

START_TEST(help_for_each_block_command)
{
	static const char *const cmds[] = { "read", "write", "write-zeroes",
					    "dsm",  "id-ns", "list-ns" };
	unsigned int i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ck_assert_int_eq(run(cmds[i], "--help", NULL), EX_OK);
		ck_out_has("usage: nvkv ");
		ck_out_has(cmds[i]);
	}
	ck_assert_int_eq(run("read", "--help", NULL), EX_OK);
	ck_out_has("0's based");
	/* -V is nvkv --version wherever it stands: no command may offer it. */
	ck_assert_msg(!strstr(out, "-V"), "read --help offers -V: %s", out);
	ck_assert_int_eq(run("write", "--help", NULL), EX_OK);
	ck_assert_msg(!strstr(out, "-V"), "write --help offers -V: %s", out);
	ck_assert_int_eq(run("--help", NULL), EX_OK);
	ck_out_has("read | write");
	ck_out_has("list-ns | id-ns");
}
END_TEST

/* Identify Namespace (NVM, CNS 00h) from the NVM spec's figure, printed as nvme-cli. */
START_TEST(id_ns_nvm_printed_as_nvme_cli)
{
	uint8_t id[KVC_IDENTIFY_SIZE];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(id, 0, sizeof(id));
	id[1] = 0x10;	/* NSZE 0x1000 */
	id[9] = 0x10;	/* NCAP 0x1000 */
	id[16] = 0x22;	/* NUSE 0x22 */
	id[25] = 1;	/* NLBAF: 2 formats */
	id[26] = 1;	/* FLBAS: format 1 */
	id[30] = 1;	/* NMIC */
	id[33] = 0x09;	/* DLFEAT: deallocated reads zeros, Write Zeroes DEAC */
	id[104] = 0xab; /* NGUID byte 0 */
	id[130] = 9;	/* LBAF0: 512 B */
	id[134] = 12;	/* LBAF1: 4 KiB */
	print_id_ns_nvm(f, 2, (const void *)id);
	fclose(f);
	ck_assert_msg(strstr(buf, "NVME Identify Namespace 2:\nnsze    : 0x1000\nncap    : "
				  "0x1000\nnuse    : 0x22\nnsfeat  : 0\nnlbaf   : 1\nflbas   : "
				  "0x1\n"),
		      "%s", buf);
	ck_assert_msg(strstr(buf, "nmic    : 0x1\n"), "%s", buf);
	ck_assert_msg(strstr(buf, "dlfeat  : 9\n"), "%s", buf);
	ck_assert_msg(strstr(buf, "nguid   : ab000000000000000000000000000000\n"), "%s", buf);
	ck_assert_msg(strstr(buf, "lbaf  0 : ms:0   lbads:9  rp:0 \n"), "%s", buf);
	ck_assert_msg(strstr(buf, "lbaf  1 : ms:0   lbads:12 rp:0 (in use)\n"), "%s", buf);
	ck_assert_ptr_null(strstr(buf, "lbaf  2"));
	free(buf);
}
END_TEST

START_TEST(id_ns_kv_and_list_lines)
{
	struct nvkv_ns_info ns = { .nsid = 2,
				   .csi = NVKV_CSI_NVM,
				   .lba_size = 512,
				   .blocks = 8,
				   .size = 4096,
				   .used = 1024,
				   .max_transfer = 1 << 20 };
	uint8_t id[KVC_IDENTIFY_SIZE];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(id, 0, sizeof(id));
	id[2] = 0x20;  /* NSZE 0x200000 bytes */
	id[32] = 64;   /* NOVG */
	id[72] = 16;   /* KVKML */
	id[77] = 0x10; /* KVVML 0x1000 */
	print_id_ns_kv(f, 1, (const void *)id);
	print_ns_line(f, 0, &ns);
	ns = (struct nvkv_ns_info){ .nsid = 1, .csi = NVKV_CSI_KV, .size = 100, .used = 5 };
	print_ns_line(f, 1, &ns);
	fclose(f);
	ck_assert_msg(strstr(buf, "NVME Identify Namespace 1 (Key Value command set):\nnsze    : "
				  "0x200000 (bytes)\n"),
		      "%s", buf);
	ck_assert_msg(strstr(buf, "novg    : 64\n"), "%s", buf);
	ck_assert_msg(
		strstr(buf, "kvf  0  : kvkml:16  kvvml:4096       kvmnk:0 (no limit) (in use)"),
		"%s", buf);
	ck_assert_msg(strstr(buf, "[   0]:0x2  csi 0 (NVM)  8 blocks of 512 B = 4096 bytes, 1024 "
				  "used"),
		      "%s", buf);
	ck_assert_msg(strstr(buf, "[   1]:0x1  csi 1 (Key Value)  100 bytes, 5 used\n"), "%s", buf);
	free(buf);
}
END_TEST

static Suite *cli_block_suite(void)
{
	Suite *s = suite_create("hostdrv/cli_block");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, block_count_is_zero_based_and_bounded);
	tcase_add_test(tc, bad_flags_are_usage_errors);
	tcase_add_test(tc, dsm_ranges_parsed_as_nvme_cli);
	tcase_add_test(tc, dsm_at_most_256_ranges);
	tcase_add_test(tc, data_size_against_block_count);
	tcase_add_test(tc, help_for_each_block_command);
	tcase_add_test(tc, id_ns_nvm_printed_as_nvme_cli);
	tcase_add_test(tc, id_ns_kv_and_list_lines);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(cli_block_suite)
