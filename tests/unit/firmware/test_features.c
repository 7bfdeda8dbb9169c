// SPDX-License-Identifier: MIT
/*
 * Set Features and Get Features: the Key Value Configuration feature (FID
 * 20h, per namespace) -- its default, current/default/saved/supported values,
 * saving it in the catalog and finding it again after a power cycle (and not
 * after a crash of an unsaved change), Delete of a missing key with EDNEK
 * clear and set, the statuses of a wrong FID, NSID or SEL, a catalog failure
 * while saving -- and the Select field of the controller's own features.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fakehost.c"

static struct fh_env env;
static struct fw_subsys *sub;
static struct fh_host host;
static struct fw_config cfg;

#define ST(sc) KVC_ST_GENERIC_DNR(sc)
#define CST(sc) KVC_ST_CMD_DNR(sc)
#define FID KVC_FEAT_KV_CONFIG
#define EDNEK KVC_KV_CONFIG_EDNEK

/* Power on: build the device from what the (fake) catalog holds. */
static void power_on(void)
{
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), 0);
	fh_host_init(&host, &env, sub);
	ck_assert_uint_eq(fh_enable(&host, 32) & KVC_CSTS_RDY, KVC_CSTS_RDY);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
}

static void power_off(void)
{
	fh_host_fini(&host);
	fw_subsys_destroy(sub);
}

static void start(bool persistent)
{
	fh_small_config(&cfg);
	fh_env_init(&env, &cfg, persistent);
	power_on();
}

static void setup_persistent(void)
{
	start(true);
}

static void setup_memory(void)
{
	start(false);
}

static void teardown(void)
{
	power_off();
	fh_env_fini(&env);
}

static uint16_t set_feature(uint32_t nsid, uint8_t fid, uint32_t value, bool save)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_SET_FEATURES;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_dw(&sqe, 10, fid | (save ? KVC_FEAT_SV : 0));
	kvc_sqe_set_dw(&sqe, 11, value);
	return fh_exec(&host, 0, &sqe, NULL);
}

static uint16_t get_feature(uint32_t nsid, uint8_t fid, uint8_t sel, uint32_t *value)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_GET_FEATURES;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_dw(&sqe, 10, fid | (uint32_t)sel << 8);
	*value = 0xdeadbeef;
	return fh_exec(&host, 0, &sqe, value);
}

/* Current, default and saved values of FID 20h on namespace 1. */
static void ck_config(uint32_t cur, uint32_t saved)
{
	uint32_t v;

	ck_assert_uint_eq(get_feature(1, FID, KVC_SEL_CURRENT, &v), 0);
	ck_assert_uint_eq(v, cur);
	ck_assert_uint_eq(get_feature(1, FID, KVC_SEL_DEFAULT, &v), 0);
	ck_assert_uint_eq(v, 0); /* EDNEK clear */
	ck_assert_uint_eq(get_feature(1, FID, KVC_SEL_SAVED, &v), 0);
	ck_assert_uint_eq(v, saved);
}

static uint16_t delete_missing(void)
{
	return fh_simple(&host, 1, KVC_KV_DELETE, "missing");
}

START_TEST(default_is_clear_and_delete_of_missing_key_succeeds)
{
	uint32_t caps;

	ck_config(0, 0);
	ck_assert_uint_eq(get_feature(1, FID, KVC_SEL_SUPPORTED, &caps), 0);
	ck_assert_uint_eq(caps, KVC_FEAT_CAP_SAVEABLE | KVC_FEAT_CAP_NS_SPECIFIC |
					KVC_FEAT_CAP_CHANGEABLE);
	ck_assert_uint_eq(delete_missing(), 0);
	/* Exist and Retrieve are not governed by it. */
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "missing"),
			  ST(KVC_SC_KV_KEY_NOT_EXIST));
	ck_assert_uint_eq(fh_retrieve(&host, 1, "missing", NULL, 16, NULL),
			  ST(KVC_SC_KV_KEY_NOT_EXIST));
}
END_TEST

START_TEST(ednek_set_makes_delete_of_missing_key_fail)
{
	ck_assert_uint_eq(set_feature(1, FID, EDNEK, false), 0);
	ck_config(EDNEK, 0);
	ck_assert_uint_eq(delete_missing(), ST(KVC_SC_KV_KEY_NOT_EXIST));
	ck_assert_uint_eq(fh_store(&host, 1, "here", "v", 1, 0), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, "here"), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, "here"), ST(KVC_SC_KV_KEY_NOT_EXIST));
	ck_assert_uint_eq(set_feature(1, FID, 0, false), 0);
	ck_config(0, 0);
	ck_assert_uint_eq(delete_missing(), 0);
	/* Bits 31:1 are reserved: ignored, and not reported back. */
	ck_assert_uint_eq(set_feature(1, FID, 0xfffffffeu | EDNEK, false), 0);
	ck_config(EDNEK, 0);
	ck_assert_uint_eq(set_feature(1, FID, 0xfffffffeu, false), 0);
	ck_config(0, 0);
	/* NSID FFFFFFFFh sets it on every namespace that has it. */
	ck_assert_uint_eq(set_feature(KVC_NSID_ALL, FID, EDNEK, false), 0);
	ck_config(EDNEK, 0);
}
END_TEST

START_TEST(wrong_fid_nsid_sel)
{
	uint32_t v;

	ck_assert_uint_eq(get_feature(1, 0x21, KVC_SEL_CURRENT, &v), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(set_feature(1, 0x21, 1, false), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(get_feature(0, FID, KVC_SEL_CURRENT, &v), ST(KVC_SC_INVALID_NS));
	ck_assert_uint_eq(get_feature(2, FID, KVC_SEL_CURRENT, &v), ST(KVC_SC_INVALID_NS));
	ck_assert_uint_eq(get_feature(KVC_NSID_ALL, FID, KVC_SEL_CURRENT, &v),
			  ST(KVC_SC_INVALID_NS));
	ck_assert_uint_eq(set_feature(0, FID, EDNEK, false), ST(KVC_SC_INVALID_NS));
	ck_assert_uint_eq(set_feature(2, FID, EDNEK, false), ST(KVC_SC_INVALID_NS));
	ck_assert_uint_eq(get_feature(1, FID, 4, &v), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(get_feature(1, FID, 7, &v), ST(KVC_SC_INVALID_FIELD));
	ck_config(0, 0); /* nothing above changed it */
}
END_TEST

START_TEST(saved_value_survives_power_cycle_current_does_not)
{
	/* Set without Save: gone after a power cycle. */
	ck_assert_uint_eq(set_feature(1, FID, EDNEK, false), 0);
	power_off();
	power_on();
	ck_config(0, 0);
	ck_assert_uint_eq(delete_missing(), 0);

	/* Saved: the device powers on with it, even after a crash. */
	ck_assert_uint_eq(set_feature(1, FID, EDNEK, true), 0);
	ck_config(EDNEK, EDNEK);
	fh_env_crash(&env);
	power_off();
	power_on();
	ck_config(EDNEK, EDNEK);
	ck_assert_uint_eq(delete_missing(), ST(KVC_SC_KV_KEY_NOT_EXIST));

	/* A current value that differs from the saved one lasts until power-off. */
	ck_assert_uint_eq(set_feature(1, FID, 0, false), 0);
	ck_config(0, EDNEK);
	ck_assert_uint_eq(delete_missing(), 0);
	power_off();
	power_on();
	ck_config(EDNEK, EDNEK);

	/* A controller reset (CC.EN 0 -> 1) changes neither: the feature
	 * belongs to the namespace every controller shares. */
	ck_assert_uint_eq(set_feature(1, FID, 0, false), 0);
	fh_host_fini(&host);
	fh_host_init(&host, &env, sub);
	ck_assert_uint_eq(fh_enable(&host, 32) & KVC_CSTS_RDY, KVC_CSTS_RDY);
	ck_config(0, EDNEK);
}
END_TEST

START_TEST(save_fails_with_the_catalog)
{
	uint8_t v[64];

	/* An index change of another command shares the catalog transaction. */
	ck_assert_uint_eq(fh_store(&host, 1, "before", "x", 1, 0), 0);
	fh_fault_arm(&env, FH_META_WRITE, 1, false);
	ck_assert_uint_eq(set_feature(1, FID, EDNEK, true), ST(KVC_SC_INTERNAL));
	ck_config(0, 0);
	fh_fault_clear(&env);
	power_off();
	power_on();
	ck_config(0, 0);
	ck_assert_uint_eq(fh_retrieve(&host, 1, "before", v, sizeof(v), NULL), 0);

	fh_fault_arm(&env, FH_META_COMMIT, 1, false);
	ck_assert_uint_ne(set_feature(1, FID, EDNEK, true), 0);
	ck_config(0, 0);
	fh_fault_clear(&env);
	power_off();
	power_on();
	ck_config(0, 0);
	/* And it works once the catalog does. */
	ck_assert_uint_eq(set_feature(1, FID, EDNEK, true), 0);
	ck_config(EDNEK, EDNEK);
}
END_TEST

START_TEST(damaged_saved_value_is_refused)
{
	struct fh_blob *b;

	ck_assert_uint_eq(set_feature(1, FID, EDNEK, true), 0);
	power_off();
	b = fh_blob_find(&env, "kvcfg.1");
	ck_assert_ptr_nonnull(b);
	b->data[0] = 0x02; /* a bit the feature does not have */
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), -EUCLEAN);
	b->len = 3; /* the wrong size */
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), -EUCLEAN);
	b->len = 4;
	b->data[0] = EDNEK;
	power_on();
	ck_config(EDNEK, EDNEK);
}
END_TEST

START_TEST(in_memory_device_cannot_save)
{
	uint32_t caps;

	ck_assert_uint_eq(get_feature(1, FID, KVC_SEL_SUPPORTED, &caps), 0);
	ck_assert_uint_eq(caps, KVC_FEAT_CAP_NS_SPECIFIC | KVC_FEAT_CAP_CHANGEABLE);
	ck_assert_uint_eq(set_feature(1, FID, EDNEK, true), CST(KVC_SC_FEATURE_NOT_SAVEABLE));
	ck_config(0, 0);
	ck_assert_uint_eq(set_feature(1, FID, EDNEK, false), 0);
	ck_config(EDNEK, 0);
	ck_assert_uint_eq(delete_missing(), ST(KVC_SC_KV_KEY_NOT_EXIST));
}
END_TEST

/* With ONCS bit 4 set the Select field means something for every feature:
 * the controller's own are changeable, not saveable, and their saved value is
 * the default. */
START_TEST(controller_features_select)
{
	uint32_t v, def;

	ck_assert_uint_eq(get_feature(0, KVC_FEAT_ARBITRATION, KVC_SEL_DEFAULT, &def), 0);
	ck_assert_uint_eq(def, 3); /* burst 2^3 = the default arbitration burst of 8 */
	ck_assert_uint_eq(set_feature(0, KVC_FEAT_ARBITRATION, 1, false), 0);
	ck_assert_uint_eq(get_feature(0, KVC_FEAT_ARBITRATION, KVC_SEL_CURRENT, &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_uint_eq(get_feature(0, KVC_FEAT_ARBITRATION, KVC_SEL_SAVED, &v), 0);
	ck_assert_uint_eq(v, def);
	ck_assert_uint_eq(get_feature(0, KVC_FEAT_ARBITRATION, KVC_SEL_SUPPORTED, &v), 0);
	ck_assert_uint_eq(v, KVC_FEAT_CAP_CHANGEABLE);
	ck_assert_uint_eq(set_feature(0, KVC_FEAT_ARBITRATION, 1, true),
			  CST(KVC_SC_FEATURE_NOT_SAVEABLE));
	ck_assert_uint_eq(get_feature(0, KVC_FEAT_NUM_QUEUES, KVC_SEL_DEFAULT, &v), 0);
	ck_assert_uint_eq(v, (cfg.max_ioq - 1) * 0x10001u);
	/* No volatile write cache configured: no such feature. */
	ck_assert_uint_eq(get_feature(0, KVC_FEAT_VOLATILE_WC, KVC_SEL_DEFAULT, &v),
			  ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(get_feature(0, 0x7f, KVC_SEL_SUPPORTED, &v), ST(KVC_SC_INVALID_FIELD));
}
END_TEST

static Suite *features_suite(void)
{
	Suite *s = suite_create("features");
	TCase *tc = tcase_create("kv_config");
	TCase *mem = tcase_create("in_memory");

	tcase_add_checked_fixture(tc, setup_persistent, teardown);
	tcase_add_test(tc, default_is_clear_and_delete_of_missing_key_succeeds);
	tcase_add_test(tc, ednek_set_makes_delete_of_missing_key_fail);
	tcase_add_test(tc, wrong_fid_nsid_sel);
	tcase_add_test(tc, saved_value_survives_power_cycle_current_does_not);
	tcase_add_test(tc, save_fails_with_the_catalog);
	tcase_add_test(tc, damaged_saved_value_is_refused);
	tcase_add_test(tc, controller_features_select);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(mem, setup_memory, teardown);
	tcase_add_test(mem, in_memory_device_cannot_save);
	suite_add_tcase(s, mem);
	return s;
}

TEST_MAIN(features_suite)
