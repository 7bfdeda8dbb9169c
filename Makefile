# SPDX-License-Identifier: MIT
#
# nvkv build.  Plain GNU make, one non-recursive Makefile.
#
#   make                  build libraries and programs into build/ (programs in build/bin/)
#   make test             set up missing packages, build, run every test suite
#   make run              set up missing packages, build, run the demo
#   make SANITIZE=address,undefined test    the same under ASan + UBSan (in build/san-address-undefined/)
#   make format | check-format              clang-format with the checked-in .clang-format
#   make install PREFIX=/usr/local [DESTDIR=...]   programs, libnvkv (.a and .so), headers, .pc
#
# -Werror is on when the CI environment variable is set.

PREFIX ?= /usr/local
CC ?= cc
SANITIZE ?=

comma := ,
ifeq ($(SANITIZE),)
BUILD := build
else
BUILD := build/san-$(subst $(comma),-,$(SANITIZE))
endif

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
	-Wshadow -Wpointer-arith -Wformat=2
ifneq ($(CI),)
WARN += -Werror
endif
BASE_CFLAGS := -std=gnu11 $(WARN) -MMD -MP -D_GNU_SOURCE -I.
LDLIBS_BASE := -lpthread -luring
ifneq ($(SANITIZE),)
BASE_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(CPPFLAGS)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

# Components.  Files named *_main.c are program entry points, not library code.
lib_srcs = $(filter-out %_main.c,$(wildcard $(1)/*.c))
objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

CMDSET_SRCS := $(call lib_srcs,cmdset)
LIBKVC := $(BUILD)/lib/libkvc.a
FW_SRCS := $(call lib_srcs,firmware)
LIBFW := $(BUILD)/lib/libnvkvfw.a

EMU_SRCS := $(call lib_srcs,emu)
LIBEMU := $(BUILD)/lib/libnvkvemu.a
EMU_LIBS := $(shell pkg-config --libs inih lmdb 2>/dev/null || echo -linih -llmdb)

BENCH_SRCS := $(call lib_srcs,bench)
ROCKSDB_LIBS := $(shell pkg-config --libs rocksdb 2>/dev/null || echo -lrocksdb)
LIBBENCH := $(BUILD)/lib/libnvkvbench.a
HOST_SRCS := $(call lib_srcs,hostdrv)
LIBNVKV := $(BUILD)/lib/libnvkv.a
# The simulated device ("sim"): the firmware in-process on a virtual clock.  libnvkv
# carries it, the firmware (which needs only libc) and the emulator's knob table, so
# it needs libinih (the INI reader of device profiles) and nothing else.
SIM_SRCS := $(call lib_srcs,sim) $(FW_SRCS) emu/config.c
INIH_LIBS := $(shell pkg-config --libs inih 2>/dev/null || echo -linih)
LDLIBS_BASE += $(INIH_LIBS)

# kvaccel: RocksDB with writes redirected to the device during stalls (docs/kvaccel.md).
KVA_SRCS := $(call lib_srcs,kvaccel)
LIBKVA := $(BUILD)/lib/libkvaccel.a

LIBS := $(LIBBENCH) $(LIBKVA) $(LIBNVKV) $(LIBFW) $(LIBKVC)
PROGS := $(BUILD)/bin/kvc-info $(BUILD)/bin/nvkv-emu $(BUILD)/bin/nvkv-fwbench $(BUILD)/bin/nvkv \
	$(BUILD)/bin/nvkv-perf $(BUILD)/bin/nvkv-bench

all: $(LIBS) $(PROGS)

$(LIBKVC): $(call objs,$(CMDSET_SRCS))
$(LIBFW): $(call objs,$(FW_SRCS))
$(LIBEMU): $(call objs,$(EMU_SRCS))
$(LIBBENCH): $(call objs,$(BENCH_SRCS))
$(LIBKVA): $(call objs,$(KVA_SRCS))
# libnvkv carries the cmdset objects it needs, so users link one library.
$(LIBNVKV): $(call objs,$(HOST_SRCS) $(SIM_SRCS)) $(call objs,$(CMDSET_SRCS))

$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/bin/kvc-info: $(BUILD)/obj/cmdset/kvc_info_main.o $(LIBKVC)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

EMU_LINK = @mkdir -p $(dir $@) && $(CC) $(LDFLAGS) -o $@ $^ $(EMU_LIBS) $(LDLIBS_BASE)
$(BUILD)/bin/nvkv-emu: $(BUILD)/obj/emu/nvkv_emu_main.o $(LIBEMU) $(LIBFW) $(LIBKVC)
	$(EMU_LINK)
$(BUILD)/bin/nvkv-fwbench: $(BUILD)/obj/emu/nvkv_fwbench_main.o $(LIBEMU) $(LIBFW) $(LIBKVC)
	$(EMU_LINK)

$(BUILD)/obj/hostdrv/nvkv_main.o: CPPFLAGS += -DNVKV_VERSION='"$(NVKV_VERSION)"'
# The CLI's commands in hostdrv/cli/ are the program's, not libnvkv's.
CLI_OBJS := $(call objs,$(wildcard hostdrv/cli/*.c))
$(BUILD)/bin/nvkv: $(BUILD)/obj/hostdrv/nvkv_main.o $(CLI_OBJS) $(LIBNVKV)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE) -lnvme

$(BUILD)/bin/nvkv-perf: $(BUILD)/obj/bench/nvkv_perf_main.o $(LIBBENCH) $(LIBNVKV)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE) -lm

$(BUILD)/bin/nvkv-bench: $(BUILD)/obj/bench/nvkv_bench_main.o $(LIBBENCH) $(LIBKVA) $(LIBNVKV)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(ROCKSDB_LIBS) $(LDLIBS_BASE) -lm

# ---- libnvkv as a shared library -----------------------------------------
# libnvkv.so.$(NVKV_VERSION) with the soname libnvkv.so.$(NVKV_SOVERSION), from
# position-independent copies of the objects libnvkv.a is made of.
NVKV_VERSION := 0.1.0
NVKV_SOVERSION := 0
NVKV_SONAME := libnvkv.so.$(NVKV_SOVERSION)
LIBNVKV_SO := $(BUILD)/lib/libnvkv.so.$(NVKV_VERSION)

all: $(LIBNVKV_SO)

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(LIBNVKV_SO): $(patsubst %.c,$(BUILD)/pic/%.o,$(HOST_SRCS) $(SIM_SRCS) $(CMDSET_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(NVKV_SONAME) -o $@ $^ $(LDLIBS_BASE)
	ln -sf $(notdir $@) $(BUILD)/lib/$(NVKV_SONAME)
	ln -sf $(NVKV_SONAME) $(BUILD)/lib/libnvkv.so

# ---- tests ---------------------------------------------------------------
# tests/unit/<component>/test_<module>.c -> one Check program each.
UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRCS))
TEST_LIBS := $(LIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $< $(TEST_LIBS) $(LDFLAGS) \
		$(CHECK_LIBS) $(LDLIBS_BASE) -lm

# tests/unit/emu/: the emulator library, with its LMDB and inih.
EMU_UNIT_BINS := $(filter $(BUILD)/tests/unit/emu/%,$(UNIT_BINS))
$(EMU_UNIT_BINS): $(LIBEMU)
$(EMU_UNIT_BINS): TEST_LIBS := $(LIBEMU) $(LIBS)
$(EMU_UNIT_BINS): CHECK_LIBS += $(EMU_LIBS)
# tests/unit/kvaccel/: kvaccel with RocksDB.
# test_cli_block includes the CLI's sources, connect.c (libnvme) among them.
$(BUILD)/tests/unit/hostdrv/test_cli_block: CHECK_LIBS += -lnvme
KVA_UNIT_BINS := $(filter $(BUILD)/tests/unit/kvaccel/%,$(UNIT_BINS))
$(KVA_UNIT_BINS): CHECK_LIBS += $(ROCKSDB_LIBS)

# tests/integration/test_*.c: Check programs that run nvkv-emu and use libnvkv;
# tests/integration/test_*.sh: scripts (CLI round trips).
INTEG_SRCS := $(wildcard tests/integration/test_*.c)
INTEG_BINS := $(patsubst %.c,$(BUILD)/%,$(INTEG_SRCS))
INTEG_SCRIPTS := $(wildcard tests/integration/test_*.sh)
# tests/guest/test_*.sh: Debian's kernel in a QEMU guest (scripts/qemu/, docs/qemu.md).
GUEST_SCRIPTS := $(wildcard tests/guest/test_*.sh)
# tests/guest/*.c: programs the guest tests copy into the guest (run.sh --add).
GUEST_PROGS := $(patsubst tests/guest/%.c,$(BUILD)/tests/guest/%,$(wildcard tests/guest/*.c))
$(BUILD)/tests/guest/%: tests/guest/%.c $(LIBNVKV)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(GUEST_LIBS) $(LIBNVKV) $(LDFLAGS) $(LDLIBS_BASE)
# kvaccel's checker also reads nvkv-bench's traces and opens the store (RocksDB).
$(BUILD)/tests/guest/kvaccel_check: $(LIBKVA) $(LIBBENCH)
$(BUILD)/tests/guest/kvaccel_check: GUEST_LIBS := $(LIBBENCH) $(LIBKVA) $(ROCKSDB_LIBS) -lm

$(BUILD)/tests/integration/%: tests/integration/%.c $(LIBNVKV) $(LIBKVC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -Itests/integration -o $@ $< \
		$(LIBNVKV) $(LIBKVC) $(LDFLAGS) $(CHECK_LIBS) $(LDLIBS_BASE)

# The conformance test decodes the device's answers with libnvme's type
# definitions: its headers only, the library is not linked.  pkg-config --cflags
# fails when libnvme's private requirements (json-c, openssl) lack .pc files.
LIBNVME_CFLAGS := $(shell pkg-config --cflags libnvme 2>/dev/null || \
	pkg-config --variable=includedir libnvme 2>/dev/null | sed 's/^/-I/')
$(BUILD)/tests/integration/test_conformance: CHECK_CFLAGS += $(LIBNVME_CFLAGS)

# kvaccel's crash and rollback tests also need kvaccel and RocksDB.
KVA_INTEG_BINS := $(filter $(BUILD)/tests/integration/test_kvaccel_%,$(INTEG_BINS))
$(KVA_INTEG_BINS): $(LIBKVA)
$(KVA_INTEG_BINS): CHECK_LIBS += $(LIBKVA) $(LIBNVKV) $(LIBKVC) $(ROCKSDB_LIBS)

# The crash test's workload client and verifier (scripts/crashtest.sh, test_crash.sh).
CRASH_CLIENT := $(BUILD)/tests/integration/crash_client
all: $(CRASH_CLIENT)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.PHONY: all deps test unit-test run format check-format install clean docs tsan-test

# The threaded code (host queues, emulator) under ThreadSanitizer.
tsan-test: deps
	@$(MAKE) --no-print-directory SANITIZE=thread tsan-run

tsan-run: all $(INTEG_BINS)
	@BUILD=$(BUILD) tests/run-tests.sh $(INTEG_BINS)

docs: $(BUILD)/bin/nvkv-emu
	scripts/gen-config-doc.sh $(BUILD)/bin/nvkv-emu docs/emulator-config.md

deps:
	@scripts/deps.sh --check || scripts/deps.sh

# "make test" first makes sure the packages are there (a fresh machine has
# none of them), then builds in a sub-make that sees the pkg-config results.
test: deps
	@$(MAKE) --no-print-directory unit-test

unit-test: all $(UNIT_BINS) $(INTEG_BINS) $(GUEST_PROGS)
	@BUILD=$(BUILD) tests/run-tests.sh $(UNIT_BINS) $(INTEG_BINS) $(INTEG_SCRIPTS) $(GUEST_SCRIPTS)

run: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/demo.sh

# Tracked and new (untracked, not ignored) sources, so new files are formatted too.
FMT_FILES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')
format:
	clang-format -i $(FMT_FILES)

check-format:
	clang-format --dry-run --Werror $(FMT_FILES)

# Headers under one prefix: include/nvkv/nvkv.h, include/nvkv/cmdset/*.h, and
# include/nvkv.h, which includes nvkv/nvkv.h for programs written against the
# old layout.  nvkv.pc links the shared library, nvkv-static.pc libnvkv.a.
INSTALL_PC = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(NVKV_VERSION)|g'
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/nvkv/cmdset
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIBNVKV) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBNVKV_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(notdir $(LIBNVKV_SO)) $(DESTDIR)$(PREFIX)/lib/$(NVKV_SONAME)
	ln -sf $(NVKV_SONAME) $(DESTDIR)$(PREFIX)/lib/libnvkv.so
	install -m 644 cmdset/*.h $(DESTDIR)$(PREFIX)/include/nvkv/cmdset/
	install -m 644 hostdrv/nvkv.h $(DESTDIR)$(PREFIX)/include/nvkv/
	install -m 644 hostdrv/compat/nvkv.h $(DESTDIR)$(PREFIX)/include/
	$(INSTALL_PC) scripts/nvkv.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nvkv.pc
	$(INSTALL_PC) scripts/nvkv-static.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nvkv-static.pc

clean:
	rm -rf build

# ---- fuzzing (libFuzzer) -----------------------------------------------------
# tests/fuzz/fuzz_<target>.c -> build/fuzz/fuzz_<target>, built with clang and
# -fsanitize=fuzzer,address,undefined; the library sources they need are
# compiled again with the same instrumentation into build/fuzz/obj, so the
# normal gcc build is untouched.  -Werror stays off here: a clang-only warning
# in someone's gcc-clean code must not break the fuzz build.
#   make fuzz                         build every target
#   make fuzz-smoke [FUZZ_SECONDS=30] run each on its corpus for a bounded time
FUZZ_CC ?= clang
FUZZ_BUILD := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 $(filter-out -Werror,$(WARN)) -MMD -MP -D_GNU_SOURCE -I. -g -O1 \
	$(FUZZ_SAN) -fsanitize=fuzzer-no-link $(CHECK_CFLAGS) -Itests/unit
FUZZ_SECONDS ?= 30
fuzz_objs = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(1))
FUZZ_FW_OBJS := $(call fuzz_objs,$(FW_SRCS) $(CMDSET_SRCS) tests/unit/firmware/fakehost.c \
	tests/fuzz/ckstub.c tests/fuzz/fuzzhost.c)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

FUZZ_LINK = @mkdir -p $(dir $@) && $(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ -lm
$(FUZZ_BUILD)/fuzz_fwcmd: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_fwcmd.o $(FUZZ_FW_OBJS)
	$(FUZZ_LINK)
$(FUZZ_BUILD)/fuzz_catalog: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_catalog.o $(FUZZ_FW_OBJS)
	$(FUZZ_LINK)
$(FUZZ_BUILD)/fuzz_tcp: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_tcp.o $(FUZZ_FW_OBJS) \
	$(call fuzz_objs,$(wildcard emu/tcp*.c) emu/log.c)
	$(FUZZ_LINK)
$(FUZZ_BUILD)/fuzz_cmdset: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_cmdset.o \
	$(call fuzz_objs,$(CMDSET_SRCS))
	$(FUZZ_LINK)
$(FUZZ_BUILD)/fuzz_trace: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_trace.o \
	$(call fuzz_objs,bench/trace.c)
	$(FUZZ_LINK) -lpthread

.PHONY: fuzz fuzz-build fuzz-smoke
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build

fuzz-build: $(FUZZ_TARGETS)

fuzz-smoke: fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz-smoke.sh $(FUZZ_TARGETS)

# ---- index micro-benchmark -------------------------------------------------
# The firmware's key index alone (no command path): make bench-index [BENCH_INDEX_ARGS='-n 1000000 -r 3']
BENCH_INDEX := $(BUILD)/bin/fw-index-bench
$(BENCH_INDEX): $(BUILD)/obj/tests/bench/fw_index_bench_main.o $(LIBFW)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

.PHONY: bench-index
bench-index: $(BENCH_INDEX)
	$(BENCH_INDEX) $(BENCH_INDEX_ARGS)
