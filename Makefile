# podsight: one Makefile for the BPF objects, their skeletons, the agent and its tests.
#   make            build build/podsight
#   make run        install what is missing, build, run the agent (JSON lines to stdout)
#   make check      install what is missing, build, run every test
#   make unit       unit tests only (no root needed), also under ASan+UBSan; as root
#                   each runs with the host's runtime state and cgroupfs hidden
#   make e2e-asan   the agent itself under ASan+UBSan (build/asan/podsight), run
#                   against a few end-to-end tests
#   make bench      the benchmark suite (writes BENCHMARKS.md)
#   make image      the agent's OCI image, build/podsight-image.tar (docs/deploy.md)
#   make deploy-check  the deployment files checked offline (tests/deploy)
#   V=1             show the commands
.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

OUTPUT    ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PYTHON    ?= /usr/bin/python3
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN      := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS    ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -I$(OUTPUT) -Isrc -Ibpf \
	-DPODSIGHT_VERSION='"$(VERSION)"' -DPODSIGHT_GIT_REV='"$(GIT_REV)"'
LDLIBS    := -lbpf -lelf -lz -ljansson -lmicrohttpd -lncurses
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Ibpf -Wall -Werror

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

# Pure logic (no libbpf): shared by the agent, the unit tests and the fuzz targets.
LIB_SRCS  := src/json_writer.c src/procfs.c src/argv.c src/proc_table.c src/exec_id.c \
	src/timeconv.c src/event_fmt.c src/strutil.c src/cgroup_reg.c src/output.c src/pipeline.c \
	src/container_id.c src/containers.c src/runtime_meta.c src/prom.c src/metrics.c \
	src/http.c src/mountinfo.c src/selfid.c
LIB_SRCS  += src/log.c
LIB_SRCS  += src/evloop.c
AGENT_SRCS := $(LIB_SRCS) src/main.c src/cmd_agent.c src/loader.c src/tracer.c \
	src/cmd_trace.c src/cmd_ps.c src/cmd_top.c
AGENT_SRCS += src/cli.c
AGENT_SRCS += src/cmd_version.c
AGENT_SRCS += src/cmd_bench.c
AGENT_OBJS := $(patsubst src/%.c,$(OUTPUT)/obj/%.o,$(AGENT_SRCS))
LIB_OBJS  := $(patsubst src/%.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
SAN_BINS  := $(patsubst tests/unit/%.c,$(OUTPUT)/san/%,$(UNIT_SRCS))
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_OBJS := $(patsubst src/%.c,$(OUTPUT)/asan/obj/%.o,$(AGENT_SRCS))
# The end-to-end tests the sanitized agent runs: events, a closed reader,
# a full disk, a container running at shutdown, hostile HTTP clients.
E2E_ASAN  ?= tests/e2e/test_process.py::test_exec_and_exit_every_field \
	tests/e2e/test_cli.py::test_closed_reader_ends_quietly \
	tests/e2e/test_faults.py

.PHONY: all run check unit unit-san e2e e2e-asan fuzz bench bench-smoke deps test-deps clean fmt image \
	deploy-check
all: $(OUTPUT)/podsight

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/tests $(OUTPUT)/san $(OUTPUT)/asan/obj:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/obj/%.o: src/%.c $(wildcard src/*.h) $(wildcard bpf/*.h) $(SKELS) | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/podsight: $(AGENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LDLIBS) -o $@

# The agent under ASan+UBSan, for e2e-asan.
$(OUTPUT)/asan/obj/%.o: src/%.c $(wildcard src/*.h) $(wildcard bpf/*.h) $(SKELS) | $(OUTPUT)/asan/obj
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(filter-out -O2,$(ALL_CFLAGS)) $(SAN_FLAGS) -c $< -o $@

$(OUTPUT)/asan/podsight: $(ASAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(filter-out -O2,$(ALL_CFLAGS)) $(SAN_FLAGS) $^ $(LDLIBS) -o $@

# Unit tests: each tests/unit/test_X.c links against the pure-logic sources.
$(OUTPUT)/tests/%: tests/unit/%.c $(LIB_SRCS) $(wildcard src/*.h) $(wildcard tests/unit/*.h) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< $(LIB_SRCS) -lcmocka -ljansson -lmicrohttpd -lz -o $@

$(OUTPUT)/san/%: tests/unit/%.c $(LIB_SRCS) $(wildcard src/*.h) $(wildcard tests/unit/*.h) | $(OUTPUT)/san
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(filter-out -O2,$(ALL_CFLAGS)) $(SAN_FLAGS) -Itests/unit $< $(LIB_SRCS) -lcmocka -ljansson -lmicrohttpd -lz -o $@

# Fuzz targets (libFuzzer, clang): every parser of outside input.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 10
$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(wildcard src/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(OUTPUT)/fuzz
	$(Q)$(CLANG) -g -O1 -std=gnu11 -D_GNU_SOURCE -DPODSIGHT_VERSION='"$(VERSION)"' \
		-fsanitize=fuzzer,address,undefined -Isrc -Ibpf \
		$< $(LIB_SRCS) -ljansson -lmicrohttpd -lz -o $@

fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do echo "  RUN      $$f ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 2>$$f.log >/dev/null || { tail -40 $$f.log; exit 1; }; done

unit: $(UNIT_BINS) $(SAN_BINS)
	$(Q)$(PYTHON) tests/run_unit.py $(UNIT_BINS) $(SAN_BINS)

e2e: all
	$(Q)$(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

# A memory error, undefined behaviour or a leak ends the agent with exit
# status 99, which the tests see. Leaks whose allocation is inside libbpf are
# suppressed (tests/e2e/lsan.supp): the links of programs attached one by one
# are kept until exit, when the kernel detaches them.
e2e-asan: all $(OUTPUT)/asan/podsight
	$(Q)PODSIGHT_BIN=$(abspath $(OUTPUT)/asan/podsight) \
		ASAN_OPTIONS=detect_leaks=1:exitcode=99 \
		LSAN_OPTIONS=suppressions=$(abspath tests/e2e/lsan.supp):print_suppressions=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(PYTHON) -m pytest -q -p no:cacheprovider $(E2E_ASAN)

# The two commands of the README.
deps:
	$(Q)./scripts/install-deps.sh build

test-deps:
	$(Q)./scripts/install-deps.sh test

# stdout carries the agent's JSON lines only (make run | jq .): what installs
# and builds goes to stderr.
run:
	$(Q)./scripts/install-deps.sh build >&2
	$(Q)$(MAKE) --no-print-directory all >&2
	$(Q)./scripts/prepare-host.sh >&2
	$(Q)exec $(OUTPUT)/podsight agent

check: test-deps
	$(Q)$(MAKE) --no-print-directory all unit fuzz
	$(Q)./scripts/prepare-host.sh
	$(Q)./scripts/install-deps.sh bench
	$(Q)$(MAKE) --no-print-directory bench-smoke deploy-check
	$(Q)$(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e
	$(Q)$(MAKE) --no-print-directory e2e-asan

bench: all
	$(Q)./scripts/install-deps.sh bench
	$(Q)./scripts/prepare-host.sh
	$(Q)$(PYTHON) bench/run.py

bench-smoke: all
	$(Q)$(PYTHON) bench/run.py --smoke

# Deployment: the image (podman, offline) and the manifests', unit's and
# dashboard's checks.
image: all
	$(Q)./scripts/build-image.sh

deploy-check:
	$(Q)./tests/deploy/check.sh

clean:
	$(Q)rm -rf $(OUTPUT)

fmt:
	$(Q)clang-format -i src/*.c src/*.h bpf/*.c bpf/*.h tests/unit/*.c

# Debian's 5.10, 6.1 and 6.12 kernels for tests/vm/run, into build/kernels/
# (tests/vm/README.md); a second run costs nothing.
.PHONY: kernels-fetch
kernels-fetch:
	$(Q)./scripts/fetch-kernels.sh
