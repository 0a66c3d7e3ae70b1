# wxguard: endpoint device-security agent and server for WeCom fleets.
#
#   make                 build build/wxguard and build/wxguard-server
#   make test            build and run every test (unit, bpf, e2e, fuzz corpora)
#   make SANITIZE=1 test the same under ASan+UBSan, in build/asan/
#   make demo            the main job (see README.md)
#   make fuzz            libFuzzer binaries (clang) in build/fuzz/
#   make format          reformat the C sources with .clang-format
#   make format-check    fail on a C file that does not match (make test runs it)
#   make V=1             show the commands
#
# Generated files live in $(BUILD) and are never committed. Feature rules that belong to one
# part of the tree live in mk/*.mk, included at the end.

.DELETE_ON_ERROR:
.SUFFIXES:

VERSION := $(shell cat VERSION)
BUILD ?= build
ifeq ($(SANITIZE),1)
BUILD := build/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
# The same fortified build the packages use, so its warnings show up here first.
SAN_FLAGS := -D_FORTIFY_SOURCE=2
endif

ifneq ($(V),1)
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
else
Q :=
msg =
endif

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_ARCH := $(shell uname -m)

AGENT_PKGS  := libbpf inih jansson openssl libcurl libsystemd
SERVER_PKGS := inih jansson openssl libsystemd sqlite3 libpq libevent libevent_openssl
ALL_PKGS    := $(sort $(AGENT_PKGS) $(SERVER_PKGS))

pkg_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pkg_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DWXG_VERSION='"$(VERSION)"' \
	$(WARN) -fstack-protector-strong -fPIE -MMD -MP -I. -I$(BUILD) $(SAN_FLAGS) \
	$(call pkg_cflags,$(ALL_PKGS))
override LDFLAGS += -pie -Wl,-z,relro,-z,now $(SAN_FLAGS)
AGENT_LIBS  := $(call pkg_libs,$(AGENT_PKGS)) -lm
SERVER_LIBS := $(call pkg_libs,$(SERVER_PKGS)) -lm
TEST_LIBS   := $(call pkg_libs,$(ALL_PKGS) cmocka) -lm

# Every subsystem folder below agent/, server/ and common/ goes into its part's library.
find_srcs = $(sort $(shell find $(1) -name '*.c' 2>/dev/null))
COMMON_SRCS := $(call find_srcs,common)
AGENT_SRCS  := $(filter-out agent/main.c,$(call find_srcs,agent))
SERVER_SRCS := $(filter-out server/main.c,$(call find_srcs,server))
TESTLIB_SRCS := $(wildcard tests/lib/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJS := $(call obj,$(COMMON_SRCS))
AGENT_OBJS  := $(call obj,$(AGENT_SRCS))
SERVER_OBJS := $(call obj,$(SERVER_SRCS))
TESTLIB_OBJS := $(call obj,$(TESTLIB_SRCS))

LIBCOMMON := $(BUILD)/libwxg-common.a
LIBAGENT  := $(BUILD)/libwxg-agent.a
LIBSERVER := $(BUILD)/libwxg-server.a

# ---- BPF: bpf/*.bpf.c -> build/bpf/*.bpf.o -> build/*.skel.h (libbpf-bootstrap style) ----
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# VMLINUX=pinned uses the pinned copy (package builds); default: the running kernel's BTF.
VMLINUX ?= $(if $(wildcard /sys/kernel/btf/vmlinux),running,pinned)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -I. -Wall -Werror \
	-Wno-unused-function $(call pkg_cflags,libbpf)

# ---- tests ----
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
E2E_CSRCS := $(wildcard tests/e2e/test_*.c)
STANDIN_SRCS := $(wildcard tests/standins/*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
UNIT_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(UNIT_SRCS) $(BPFT_SRCS) $(E2E_CSRCS))
STANDIN_BINS := $(patsubst tests/standins/%.c,$(BUILD)/tests/standins/%,$(STANDIN_SRCS))
REPLAY_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/replay_%,$(FUZZ_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))

.PHONY: all deps test test-lint test-unit test-bpf test-e2e test-fuzz demo fuzz clean install bench \
	format format-check
# The BPF objects are named here so make keeps them (packaging ships them).
all: $(BUILD)/wxguard $(BUILD)/wxguard-server $(BPF_OBJS)

deps:
	$(Q)./packaging/deps.sh

$(BUILD)/obj/%.o: %.c | $(BPF_SKELS)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIBCOMMON): $(COMMON_OBJS)
$(LIBAGENT): $(AGENT_OBJS)
$(LIBSERVER): $(SERVER_OBJS)
$(BUILD)/libwxg-%.a:
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/wxguard: $(call obj,agent/main.c) $(LIBAGENT) $(LIBCOMMON)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS)

$(BUILD)/wxguard-server: $(call obj,server/main.c) $(LIBSERVER) $(LIBCOMMON)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SERVER_LIBS)

$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@ ($(VMLINUX)))
	$(Q)mkdir -p $(@D)
ifeq ($(VMLINUX),running)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@
else
	$(Q)xz -dc bpf/vmlinux/vmlinux_$(VMLINUX_ARCH).h.xz > $@
endif

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h bpf/lib/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# Unit, BPF and C e2e tests: one cmocka binary per file, linked with everything.
$(BUILD)/tests/%: tests/%.c $(TESTLIB_OBJS) $(LIBAGENT) $(LIBSERVER) $(LIBCOMMON) | $(BPF_SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests/lib -o $@ $< $(TESTLIB_OBJS) $(LIBAGENT) $(LIBSERVER) \
		$(LIBCOMMON) $(TEST_LIBS)

# Stand-in clients for BPF tests and benchmarks: tiny static programs, no project code.
$(BUILD)/tests/standins/%: tests/standins/%.c
	$(call msg,STANDIN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -static -Wall -Wextra -Werror -o $@ $<

# Fuzz targets: a replay main for `make test` (any compiler), libFuzzer builds with clang.
$(BUILD)/tests/fuzz/replay_%: tests/fuzz/%.c tests/fuzz/replay_main.c $(LIBAGENT) $(LIBSERVER) $(LIBCOMMON)
	$(call msg,REPLAY,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay_main.c $(LIBAGENT) $(LIBSERVER) \
		$(LIBCOMMON) $(TEST_LIBS)

build/fuzz/%: tests/fuzz/%.c $(filter-out %/main.c,$(COMMON_SRCS) $(AGENT_SRCS) $(SERVER_SRCS)) | $(BPF_SKELS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
		-DWXG_VERSION='"$(VERSION)"' -I. -I$(BUILD) $(call pkg_cflags,$(ALL_PKGS)) -o $@ \
		$^ $(call pkg_libs,$(ALL_PKGS)) -lm

fuzz: $(FUZZ_BINS)

TEST_DEPS := all $(UNIT_BINS) $(STANDIN_BINS) $(REPLAY_BINS)

test: deps
	$(Q)$(MAKE) --no-print-directory $(TEST_DEPS)
	$(Q)WXG_BUILD=$(BUILD) WXG_SANITIZE=$(SANITIZE) tests/run.sh

test-lint: deps
	$(Q)WXG_BUILD=$(BUILD) tests/run.sh lint

test-unit test-bpf test-e2e test-fuzz: test-%: deps
	$(Q)$(MAKE) --no-print-directory $(TEST_DEPS)
	$(Q)WXG_BUILD=$(BUILD) WXG_SANITIZE=$(SANITIZE) tests/run.sh $*

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./packaging/demo.sh $(BUILD)

bench: all $(STANDIN_BINS)
	$(Q)./packaging/deps.sh bench
	$(Q)WXG_BUILD=$(BUILD) bench/run.sh

format:
	$(Q)tests/lint/c_files.sh | xargs clang-format -i

format-check:
	$(Q)tests/lint/test_format.sh

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(wildcard mk/*.mk)
