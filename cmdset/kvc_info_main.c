// SPDX-License-Identifier: MIT
/*
 * kvc-info: prints what each value-transfer method puts on the submission
 * queue for a range of value sizes (commands, SQ slots, inline capacity), after
 * a self-check that every format round-trips.  Until the emulator runs, this
 * is the demo behind "make run".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/cmdset.h"

/* Encode @size bytes with BandSlim and reassemble them; 0 when identical. */
static int check_bandslim(uint8_t opc, uint8_t klen, uint32_t size, bool narrow, uint8_t *v,
			  uint8_t *out)
{
	struct kvc_bs_store s = { .opc = opc, .klen = klen, .size = size, .tag = 1 }, h;
	uint32_t prp = kvc_bs_prp_len(opc, size), inl = size - prp, got, i, n;
	struct kvc_sqe sqe;
	int rc;

	s.opts = narrow ? KVC_BS_OPT_NARROW : 0;
	memset(s.key, 'k', klen);
	n = kvc_bs_cmd_count(&s);
	if (kvc_bs_encode(&sqe, &s, 0, v, 0))
		return -1;
	rc = kvc_bs_decode_head(&sqe, &h, out, inl);
	if (rc < 0 || h.size != size)
		return -1;
	got = (uint32_t)rc;
	for (i = 1; i < n; i++) {
		if (kvc_bs_encode(&sqe, &s, i, v, (uint16_t)i) || kvc_bs_xfer_tag(&sqe) != 1)
			return -1;
		got += kvc_bs_decode_xfer(&sqe, narrow, out + got, inl - got);
	}
	return got == inl && memcmp(out, v + prp, inl) == 0 ? 0 : -1;
}

static int check_bexp(uint32_t size, uint8_t *v, uint8_t *out)
{
	struct kvc_kv_cmd c = { .klen = 4, .size = size }, d;
	uint8_t slot[KVC_BX_CHUNK];
	struct kvc_sqe sqe;
	uint32_t i, got = 0;

	if (kvc_bx_encode(&sqe, &c) || kvc_kv_decode(&sqe, &d) || d.size != size)
		return -1;
	for (i = 0; i < kvc_bx_chunks(size); i++) {
		kvc_bx_fill_chunk(slot, v, size, i);
		got += kvc_bx_take_chunk(slot, out, size, i);
	}
	return got == size && memcmp(out, v, size) == 0 ? 0 : -1;
}

static int selfcheck(uint32_t max)
{
	uint8_t *v = malloc(max + 1), *out = malloc(max + 1);
	uint32_t size, i, bad = 0, n = 0;

	if (!v || !out) {
		free(v);
		free(out);
		return -ENOMEM;
	}
	for (i = 0; i <= max; i++)
		v[i] = (uint8_t)(i * 31 + 7);
	for (size = 0; size <= max; size = size < 512 ? size + 1 : size * 2 + 1) {
		bad += check_bandslim(KVC_BS_STORE, 4, size, false, v, out) != 0;
		bad += check_bandslim(KVC_BS_STORE, 16, size, true, v, out) != 0;
		bad += check_bandslim(KVC_BS_STORE_PRP, 8, size, false, v, out) != 0;
		bad += check_bexp(size, v, out) != 0;
		n += 4;
	}
	free(v);
	free(out);
	printf("self-check: %u encode/decode round trips, %u mismatches\n", n, bad);
	return bad ? -EIO : 0;
}

static void table(uint8_t klen)
{
	static const uint32_t sizes[] = { 8,   16,  32,	  35,	36,   64,   127, 128,
					  256, 512, 1024, 2048, 4096, 4097, 8192 };
	unsigned int i;

	printf("\nSQ slots per Store (key %u B)\n", klen);
	printf("%10s %6s %10s %10s %10s %12s\n", "value(B)", "prp", "bandslim", "bs-narrow",
	       "bs-prp", "byteexpress");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct kvc_bs_store s = { .opc = KVC_BS_STORE, .klen = klen, .size = sizes[i] };
		uint32_t bs, narrow, hyb;

		bs = kvc_bs_cmd_count(&s);
		s.opts = KVC_BS_OPT_NARROW;
		narrow = kvc_bs_cmd_count(&s);
		s.opts = 0;
		s.opc = KVC_BS_STORE_PRP;
		hyb = kvc_bs_cmd_count(&s);
		printf("%10u %6u %10u %10u %10u %12u\n", sizes[i], 1, bs, narrow, hyb,
		       1 + kvc_bx_chunks(sizes[i]));
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: kvc-info [--key-size N] [--check-max BYTES] [--help]\n"
		   "  Self-checks the wire formats and prints, per value size, how many\n"
		   "  submission queue slots each transfer method uses.\n"
		   "  --key-size N      key length for the table, 1..16 (default 16)\n"
		   "  --check-max BYTES largest value of the self-check (default 70000)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "key-size", required_argument, NULL, 'k' },
					      { "check-max", required_argument, NULL, 'm' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	unsigned long klen = 16, max = 70000;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "k:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			klen = strtoul(optarg, &end, 10);
			if (*end || klen < 1 || klen > 16) {
				fprintf(stderr, "kvc-info: --key-size must be 1..16, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'm':
			max = strtoul(optarg, &end, 10);
			if (*end || max > (1ul << 26)) {
				fprintf(stderr, "kvc-info: --check-max must be 0..%lu, got '%s'\n",
					1ul << 26, optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	printf("BandSlim inline capacity: head %u B (key <= 8 B) / %u B, transfer %u B;"
	       " narrow: head %u / %u B, transfer %u B\n",
	       kvc_bs_head_cap(KVC_BS_STORE, 8, false), kvc_bs_head_cap(KVC_BS_STORE, 16, false),
	       kvc_bs_xfer_cap(false), kvc_bs_head_cap(KVC_BS_STORE, 8, true),
	       kvc_bs_head_cap(KVC_BS_STORE, 16, true), kvc_bs_xfer_cap(true));
	printf("ByteExpress: %u B per appended SQ slot\n", KVC_BX_CHUNK);
	if (selfcheck((uint32_t)max))
		return 1;
	table((uint8_t)klen);
	return 0;
}
