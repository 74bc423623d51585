# edgenode — build, test, benchmark, package.
#
#   make            BPF objects + debug build
#   make test       unit + kernel tests (root; kernel tests fail loudly under CI=true)
#   make bench      benchmarks that print figures
#   make release    optimised binaries in .build/release
#   make run        agent + controller on this host with default config (root)
#   make deps       apt-get install what building and testing need (Debian 12)

SHELL := /bin/bash
SWIFT ?= swift
# Swift's own clang builds CO-RE objects; Debian's clang-14 works too.
BPF_CLANG ?= $(shell command -v /opt/swift/usr/bin/clang || command -v clang-14 || command -v clang)
BPF_STRIP ?= $(shell command -v /opt/swift/usr/bin/llvm-objcopy || command -v llvm-objcopy-14 || command -v llvm-objcopy)
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
BPF_ARCH := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
BPF_OUT := Sources/CEdgeShim/bpfobj
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.bpf.o,$(BPF_SRCS))
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(BPF_ARCH) \
	-Ibpf/include -Ibpf -I/usr/include/$(MULTIARCH)

APT_BUILD := libbpf-dev libelf-dev libsystemd-dev libmnl-dev libjansson-dev zlib1g-dev \
	iproute2 python3 procps kmod

.PHONY: all bpf build release test test-unit test-kernel bench run deps clean

all: build

deps:
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_BUILD)

bpf: $(BPF_OBJS)

$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h bpf/include/*.h)
	@mkdir -p $(BPF_OUT)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(BPF_STRIP) --strip-debug $@.tmp $@   # keeps .BTF and .BTF.ext (CO-RE needs them)
	@rm -f $@.tmp
	@touch Sources/CEdgeShim/embedded_objects.c   # #embed dependencies are not always tracked

build: bpf
	$(SWIFT) build

release: bpf
	$(SWIFT) build -c release --static-swift-stdlib

test: bpf
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: release
	.build/release/edge-bench all

run: release
	./scripts/run-local.sh

clean:
	rm -rf $(BPF_OUT) .build
