# podsight: one Makefile for the BPF objects, their skeletons, the agent and its tests.
#   make            build build/podsight
#   make run        install what is missing, build, run the agent (JSON lines to stdout)
#   make check      install what is missing, build, run every test
#   make unit       unit tests only (no root needed), also under ASan+UBSan; as root
#                   each runs with the host's runtime state and cgroupfs hidden
#   make e2e-asan   the agent itself under ASan+UBSan (build/asan/podsight), run
#                   against a few end-to-end tests
#   make bench      the benchmark suite (writes BENCHMARKS.md)
#   make bench-net  its network workloads only (iperf3 and a connection storm, over
#                   loopback and pod to pod): BENCHMARKS.md's network section;
#                   BENCH_ARGS="--json FILE --pairs N" adds options
#   make bench-vm   the exec storm with and without the agent in a VM of Debian's
#                   5.10 (BENCH_VM_KERNEL): build/bench/exec-vm-5.10.json
#   make image      the agent's OCI image, build/podsight-image.tar (docs/deploy.md)
#   make deploy-check  the deployment files checked offline (tests/deploy)
#   make kernels    the end-to-end checks on Debian's 5.10, 6.1, 6.12 (x86-64, v2 and
#                   hybrid cgroups; arm64) in VMs and on this kernel: build/kernels/results.json
#   make kernels-doc  docs/kernels.md (and the verifier baseline docs/kernels-verifier.json)
#                   from build/kernels/results.json
#   make ARCH=arm64 cross-builds build/arm64/podsight (ARCH=x86 from an arm64 host:
#                   build/x86/); needs gcc-aarch64-linux-gnu and the libraries'
#                   :arm64 -dev packages: scripts/install-deps.sh cross (bpf/README.md)
#   V=1             show the commands
.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# ARCH from the command line only (an ARCH in the environment means other things
# to other tools), in the kernel's names
ifeq ($(origin ARCH),command line)
override ARCH := $(subst aarch64,arm64,$(subst x86_64,x86,$(ARCH)))
else
ARCH      := $(HOST_ARCH)
endif
ifeq ($(ARCH),$(HOST_ARCH))
OUTPUT    ?= build
CC        ?= gcc
else
# A cross build: its own output folder, Debian's cross compiler, which finds
# the target's multiarch libraries (libbpf-dev:arm64, ...) by itself.
OUTPUT    ?= build/$(ARCH)
CROSS_COMPILE ?= $(patsubst x86-,x86_64-,$(patsubst arm64-,aarch64-,$(ARCH)-))linux-gnu-
ifeq ($(origin CC),default)
CC        := $(CROSS_COMPILE)gcc
endif
endif
CLANG     ?= clang
BPFTOOL   ?= bpftool
PYTHON    ?= /usr/bin/python3
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

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
# The kernel's types come from a vmlinux.h pinned per architecture (bpf/README.md),
# never from the build host's kernel: CO-RE fits them to the running one.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf/$(ARCH) -Ibpf -Wall -Werror

# One object per hook family, linked into one (its maps and settings merged:
# bpf/maps.bpf.h), and one skeleton of that for the agent.
# (listed in the order the agent attaches them: process lifecycle first)
BPF_SRCS  := bpf/process.bpf.c bpf/cgroup.bpf.c bpf/oom.bpf.c bpf/blkio.bpf.c bpf/iter.bpf.c bpf/net.bpf.c
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS     := $(OUTPUT)/podsight.skel.h

# The sources split in two, so that a new file lands on the right side
# without anyone listing it:
#  - agent-only: main.c, every cmd_*.c, and every file that includes
#    libbpf (<bpf/...>), a BPF skeleton, ncurses, loader.h or cli.h (the
#    command layer). These link into build/podsight only.
#  - the library, libpodsight.a: everything else (parsers, tables, JSON,
#    Prometheus, HTTP, cgroupfs, the pipeline; it does read /proc and
#    cgroupfs and starts threads, but needs no libbpf and no terminal).
#    Built once plain (build/libpodsight.a), once under ASan+UBSan
#    (build/san/libpodsight.a) and once with clang for the fuzz targets
#    (build/fuzz/libpodsight.a); the agent, the unit tests and the fuzz
#    targets link against it.
ALL_SRCS  := $(wildcard src/*.c)
AGENT_ONLY := $(sort src/main.c $(wildcard src/cmd_*.c) \
	$(shell grep -lE '^\#include [<"](bpf/|n?curses|[a-z_]+\.skel\.h|loader\.h|cli\.h)' $(ALL_SRCS)))
LIB_SRCS  := $(filter-out $(AGENT_ONLY),$(ALL_SRCS))
LIB_OBJS  := $(patsubst src/%.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS))
AGENT_ONLY_OBJS := $(patsubst src/%.c,$(OUTPUT)/obj/%.o,$(AGENT_ONLY))
LIB       := $(OUTPUT)/libpodsight.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
SAN_BINS  := $(patsubst tests/unit/%.c,$(OUTPUT)/san/%,$(UNIT_SRCS))
# What a unit test links besides the library; --as-needed drops what it
# does not use.
UNIT_LIBS := -Wl,--as-needed -lcmocka -ljansson -lmicrohttpd -lz -lpthread
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS := $(filter-out -O2,$(ALL_CFLAGS)) $(SAN_FLAGS)
SAN_LIB_OBJS := $(patsubst src/%.c,$(OUTPUT)/san/obj/%.o,$(LIB_SRCS))
SAN_AGENT_OBJS := $(patsubst src/%.c,$(OUTPUT)/san/obj/%.o,$(AGENT_ONLY))
SAN_LIB   := $(OUTPUT)/san/libpodsight.a
# Headers each object, test and fuzz target includes (gcc -MMD -MP).
DEPFLAGS   = -MMD -MP -MF $@.d
# The end-to-end tests the sanitized agent runs: events, a closed reader,
# a full disk, a container running at shutdown, hostile HTTP clients.
E2E_ASAN  ?= tests/e2e/test_process.py::test_exec_and_exit_every_field \
	tests/e2e/test_cli.py::test_closed_reader_ends_quietly \
	tests/e2e/test_faults.py

.PHONY: all vmlinux run check unit unit-san e2e e2e-asan fuzz bench bench-net bench-vm bench-smoke deps test-deps clean fmt \
	image deploy-check
all: $(OUTPUT)/podsight

$(OUTPUT) $(OUTPUT)/bpf:
	$(Q)mkdir -p $@

# make vmlinux [ARCH=arm64] [VMLINUX_BTF=file]: pins the kernel types anew from
# a kernel's BTF (raw, as in /sys/kernel/btf/vmlinux, or an ELF with .BTF).
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
vmlinux:
	$(call msg,GEN,bpf/$(ARCH)/vmlinux.h)
	$(Q)mkdir -p bpf/$(ARCH)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > bpf/$(ARCH)/vmlinux.h.tmp
	$(Q)mv bpf/$(ARCH)/vmlinux.h.tmp bpf/$(ARCH)/vmlinux.h

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) bpf/$(ARCH)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/podsight.bpf.o: $(BPF_OBJS)
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/podsight.skel.h: $(OUTPUT)/podsight.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# The skeletons exist before any agent-only object is compiled; after the
# first build the generated dependencies name the ones each includes.
$(AGENT_ONLY_OBJS) $(SAN_AGENT_OBJS): | $(SKELS)

# `podsight version` names the commit it was built from: its object is built
# again when HEAD moves (the file changes only then).
$(OUTPUT)/git-rev: FORCE | $(OUTPUT)
	$(Q)[ "$$(cat $@ 2>/dev/null)" = "$(GIT_REV)" ] || echo "$(GIT_REV)" > $@
$(OUTPUT)/obj/cmd_version.o $(OUTPUT)/san/obj/cmd_version.o: $(OUTPUT)/git-rev
.PHONY: FORCE
FORCE:

$(OUTPUT)/obj/%.o: src/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUTPUT)/podsight: $(AGENT_ONLY_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(AGENT_ONLY_OBJS) $(LIB) $(LDLIBS) -o $@

# The same sources under ASan+UBSan: the unit tests' library and, with the
# agent-only objects, the agent for e2e-asan.
$(OUTPUT)/san/obj/%.o: src/%.c
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(SAN_LIB): $(SAN_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUTPUT)/asan/podsight: $(SAN_AGENT_OBJS) $(SAN_LIB)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_CFLAGS) $(SAN_AGENT_OBJS) $(SAN_LIB) $(LDLIBS) -o $@

# Unit tests: each tests/unit/test_X.c, compiled and linked against the library.
$(OUTPUT)/tests/%: tests/unit/%.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests/unit $< $(LIB) $(UNIT_LIBS) -o $@

$(OUTPUT)/san/%: tests/unit/%.c $(SAN_LIB)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_CFLAGS) $(DEPFLAGS) -Itests/unit $< $(SAN_LIB) $(UNIT_LIBS) -o $@

# Fuzz targets (libFuzzer, clang): every parser of outside input. The
# library is built a third time, with clang, for them: libFuzzer wants its
# coverage instrumentation in the code it explores (fuzzer-no-link), which
# gcc cannot add.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 10
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -DPODSIGHT_VERSION='"$(VERSION)"' -Isrc -Ibpf
FUZZ_LIB_OBJS := $(patsubst src/%.c,$(OUTPUT)/fuzz/obj/%.o,$(LIB_SRCS))
FUZZ_LIB  := $(OUTPUT)/fuzz/libpodsight.a

$(OUTPUT)/fuzz/obj/%.o: src/%.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined $(DEPFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $(DEPFLAGS) \
		$< $(FUZZ_LIB) $(UNIT_LIBS:-lcmocka=) -o $@

-include $(patsubst %,%.d,$(LIB_OBJS) $(AGENT_ONLY_OBJS) $(SAN_LIB_OBJS) $(SAN_AGENT_OBJS) \
	$(FUZZ_LIB_OBJS) $(UNIT_BINS) $(SAN_BINS) $(FUZZ_BINS))

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
	$(Q)$(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e tests/vm/test_kernels_report.py
	$(Q)$(MAKE) --no-print-directory e2e-asan

bench: all
	$(Q)./scripts/install-deps.sh bench
	$(Q)./scripts/prepare-host.sh
	$(Q)$(PYTHON) bench/run.py

NET_WORKLOADS := tcp,tcp-pods,connect,connect-pods
bench-net: all
	$(Q)./scripts/install-deps.sh bench
	$(Q)./scripts/prepare-host.sh
	$(Q)$(PYTHON) bench/run.py --workloads $(NET_WORKLOADS) --tools podsight,podsight-metrics \
		--section net-results --output BENCHMARKS.md $(BENCH_ARGS)

# The exec storm with and without the agent inside a VM of the oldest kernel
# supported (qemu TCG; tests/vm/run), as a ratio in one run: BENCHMARKS.md.
BENCH_VM_KERNEL ?= 5.10
BENCH_VM_EXECS ?= 1500
bench-vm: all
	$(Q)./scripts/fetch-kernels.sh $(BENCH_VM_KERNEL) >&2
	$(Q)mkdir -p $(OUTPUT)/bench
	$(Q)$(PYTHON) bench/run.py --vm $(BENCH_VM_KERNEL) --quick --workloads exec --tools podsight \
		--execs $(BENCH_VM_EXECS) --json $(OUTPUT)/bench/exec-vm-$(BENCH_VM_KERNEL).json

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

# Formats with .clang-format the lines changed since FMT_BASE (default
# HEAD: what is not committed yet). Not the whole tree: the style file
# matches the code but for details (the tab before a trailing comment, a
# few long lines), and a tree-wide pass would bury history under them.
FMT_BASE ?= HEAD
fmt:
	$(Q)git clang-format --style=file $(FMT_BASE) -- src bpf tests/unit tests/fuzz

# Debian's 5.10, 6.1 and 6.12 kernels for tests/vm/run, into build/kernels/
# (tests/vm/README.md); a second run costs nothing.
.PHONY: kernels-fetch
kernels-fetch:
	$(Q)./scripts/fetch-kernels.sh

# The proof that podsight runs on the nodes people have (tests/vm/kernels.py):
# exits non-zero when a check fails that is not a declared known limitation.
.PHONY: kernels kernels-doc
# On an x86_64 host the arm64 row runs the cross-built agent (make ARCH=arm64,
# its toolchain and libraries from install-deps.sh cross).
kernels: all
ifeq ($(HOST_ARCH),x86)
	$(Q)# without the cross build the arm64 row is skipped, its reason shown
	$(Q){ ./scripts/install-deps.sh cross && $(MAKE) --no-print-directory ARCH=arm64; } >&2 || \
		echo "kernels: no arm64 agent (the cross build failed, above): the arm64 row is skipped" >&2
endif
	$(Q)./scripts/fetch-kernels.sh >&2
	$(Q)$(PYTHON) tests/vm/kernels.py

# docs/kernels.md, its verifier figures compared with docs/kernels-verifier.json
# as last committed; then that file anew (commit both).
kernels-doc:
	$(Q)$(PYTHON) tests/vm/kernels.py --markdown $(OUTPUT)/kernels/results.json > docs/kernels.md.tmp
	$(Q)mv docs/kernels.md.tmp docs/kernels.md
	$(Q)$(PYTHON) tests/vm/kernels.py --baseline docs/kernels-verifier.json $(OUTPUT)/kernels/results.json
