# edgenode — build, test, benchmark, package.
#
#   make check      the README's test command: install build deps (apt), build, run every test,
#                   build the .debs (lintian: any E:/W: fails) and check them unpacked
#   make demo       the README's main job: deps, release build, agent + controller, live view
#   make            BPF objects + debug build
#   make test       unit + kernel tests (root; kernel tests fail loudly under CI=true)
#   make bench      benchmarks that print figures
#   make release    optimised binaries in .build/release
#   make run        agent + controller on this host with default config (root)
#   make deps       apt-get install what building and testing need (Debian 12)

SHELL := /bin/bash
SWIFT ?= $(shell command -v swift || echo /opt/swift/usr/bin/swift)
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
	iproute2 python3 procps kmod mandoc man-db openssl passwd util-linux prometheus \
	python3-yaml containernetworking-plugins iptables

.PHONY: all bpf build release test check demo bench run deps clean

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

PRODUCTS := edge-agent edge-controller edgectl edge-bench edgenode-bandwidth

# one product at a time: a plain `swift build -c release` would also build EdgeTestSupport,
# which imports XCTest and cannot link statically
release: bpf
	for p in $(PRODUCTS); do $(SWIFT) build -c release --static-swift-stdlib --product $$p || exit 1; done

test: bpf
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The .debs too (issue 17): built, lintian-clean (any E: or W: fails) and checked unpacked.
check: deps
	$(MAKE) test
	$(MAKE) deb
	$(MAKE) deb-check

# only what run-local.sh runs (a full `make release` also builds edge-bench: minutes more)
DEMO_PRODUCTS := edge-agent edge-controller edgectl

demo: deps bpf
	for p in $(DEMO_PRODUCTS); do $(SWIFT) build -c release --static-swift-stdlib --product $$p || exit 1; done
	./scripts/run-local.sh

bench: release
	.build/release/edge-bench all

run: bpf
	for p in $(DEMO_PRODUCTS); do $(SWIFT) build -c release --static-swift-stdlib --product $$p || exit 1; done
	./scripts/run-local.sh

clean:
	rm -rf $(BPF_OUT) .build

# ---------------------------------------------------------------------------------------------
# Packaging, man pages and ansible (issue 5). Separate from the targets above.
#
#   make deb            .debs of edge-agent, edge-controller, edgectl in out/, checked by lintian
#                       (stages the tree in out/deb-build/: packaging/build-debs.sh)
#   make deb-check      the .debs unpacked into a throwaway root: files, conffiles, units, Depends
#   make deb-deps       apt-get install what building the .debs needs (swift itself: /opt/swift)
#   make man-check      mandoc -Tlint on man/, then ManPageTests: edgectl --help and each daemon's
#                       --check-config against the pages and the shipped conffiles
#   make ansible-lint   ansible-lint and ansible-playbook --syntax-check of ansible/
#                       (pip install ansible-core ansible-lint)

APT_DEB := debhelper devscripts dpkg-dev lintian chrpath rsync pkg-config mandoc
MAN_PAGES := $(wildcard man/*.[1-8])
ANSIBLE_INVENTORY := ansible/inventory/vms.example.yml

.PHONY: deb deb-check deb-deps ansible-deps man-check ansible-lint

deb: deb-deps
	./packaging/build-debs.sh

# the .debs of out/ unpacked into a throwaway root: files, conffiles, units, Depends, --version
deb-check:
	./packaging/check-debs.sh

deb-deps: deps
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_DEB)

# ansible-core and ansible-lint come from PyPI (Debian 12's ansible-lint is too old for the
# production profile); a pip that refuses the system site (PEP 668) gets --break-system-packages.
ansible-deps:
	command -v ansible-playbook >/dev/null && command -v ansible-lint >/dev/null \
	    || python3 -m pip install -q ansible-core ansible-lint \
	    || python3 -m pip install -q --break-system-packages ansible-core ansible-lint

man-check: bpf
	mandoc -Tlint -W warning $(MAN_PAGES)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter ManPageTests

ansible-lint: ansible-deps
	cd ansible && ansible-lint
	for p in ansible/site.yml ansible/upgrade.yml ansible/rollback-extender.yml ansible/status.yml ansible/cleanup.yml; do \
	    ANSIBLE_CONFIG=ansible/ansible.cfg ansible-playbook -i $(ANSIBLE_INVENTORY) --syntax-check $$p || exit 1; \
	done

# ---------------------------------------------------------------------------------------------
# Placement experiment (issue 6), network-namespace variant: baseline vs extender placement under
# faults on one node, with agents and controller running for real; each namespace node has its own
# cgroup with a CPU allowance, and its agent is scoped to it. Root. Results (raw data, summary,
# statistics, results.png, verdict.txt) in experiments/results/<UTC time>/; see experiments/README.md.
#
#   make experiment SCENARIO=S1 MODE=proposed RPS=500    one scenario, one mode (the study's interface)
#   make baseline SCENARIO=S2                            baseline placement only
#     SCENARIO (S1…S5, comma separated; default all), MODE (baseline, proposed or both), RPS, REPS,
#     REPLICAS (pods placed), DURATION, WARMUP, COOLDOWN (seconds), WORKLOAD (auto|web|inference|stream),
#     OUTAGE_PERIOD; unset ones take the short defaults below, not the study's
#   make experiment-quick   shortened preset, NOT the study's values: S1–S5 (S1 needs sch_netem) × both
#                           modes × 200 rps × 2 repetitions × 15 s (warm-up 8 s), debug binaries, ≈ 12 min
#   make experiment-full    the study's values: 100/500/1000 rps × 5 repetitions, 600 s measured, 300 s
#                           warm-up, 300 s cool-down, release binaries: 150 runs × 20 min ≈ 50 hours
#   EXPERIMENT_ARGS="…"     extra `edge-experiment run` options (they override the preset)

EXPERIMENT_BIN ?= .build/debug
EXPERIMENT_QUICK := --label quick --scenarios S1,S2,S3,S4,S5 --rps 200 --reps 2 --warmup 8 --duration 15 \
	--cooldown 2 --outage-period 10
EXPERIMENT_FULL := --label full --scenarios S1,S2,S3,S4,S5 --rps 100,500,1000 --reps 5 --warmup 300 --duration 600 \
	--cooldown 300 --outage-period 20

SCENARIO ?= S1,S2,S3,S4,S5
MODE ?= baseline,proposed
RPS ?= 200
REPS ?= 2
REPLICAS ?= 4
DURATION ?= 15
WARMUP ?= 8
COOLDOWN ?= 2
WORKLOAD ?= auto
OUTAGE_PERIOD ?= 10
EXPERIMENT_ONE = --label $(subst $(comma),+,$(SCENARIO))-$(subst $(comma),+,$(MODE)) --scenarios $(SCENARIO) --modes $(MODE) \
	--rps $(RPS) --reps $(REPS) --replicas $(REPLICAS) --duration $(DURATION) --warmup $(WARMUP) --cooldown $(COOLDOWN) \
	--workload $(WORKLOAD) --outage-period $(OUTAGE_PERIOD)
comma := ,

.PHONY: experiment baseline experiment-quick experiment-full experiment-plot-deps

# a pyenv python3 may shadow Debian's: experiments/run.sh uses whichever of the two has matplotlib
experiment-plot-deps:
	python3 -c 'import matplotlib' 2>/dev/null || /usr/bin/python3 -c 'import matplotlib' 2>/dev/null \
	    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-matplotlib \
	    || python3 -m pip install matplotlib || python3 -m pip install --break-system-packages matplotlib

experiment: deps bpf experiment-plot-deps
	$(SWIFT) build
	./experiments/run.sh $(EXPERIMENT_BIN) $(EXPERIMENT_ONE) $(EXPERIMENT_ARGS)

baseline: MODE = baseline
baseline: experiment

experiment-quick: deps bpf experiment-plot-deps
	$(SWIFT) build
	./experiments/run.sh $(EXPERIMENT_BIN) $(EXPERIMENT_QUICK) $(EXPERIMENT_ARGS)

experiment-full: deps release experiment-plot-deps
	./experiments/run.sh .build/release $(EXPERIMENT_FULL) $(EXPERIMENT_ARGS)

# ---------------------------------------------------------------------------------------------
# Reliability (issue 7): fuzzing and soak. Neither runs in CI (`make check`).
#
#   make fuzz        libFuzzer targets in Fuzz/ (separate package, scratch .build-fuzz), each run
#                    FUZZ_SECONDS (default 60) with -rss_limit_mb=2048 -timeout=5; prints executions
#                    per target from libFuzzer's final stats. FUZZ_TARGETS picks a subset.
#   make soak        release build, then edge-soak (root): 1 000 concurrent RPC clients on the agent,
#                    10 000 simulated nodes pushing to the controller, extender load for SOAK_SECONDS
#                    (default 60; 600 for the issue's ten minutes) with RSS/fd samples every 10 s.
#   make abuse       release build, then edge-soak --runs abuse-agent (root): issue 13's attacks by a
#                    socket-group member on the agent in a namespace, with watchdog gaps, RSS, fds and
#                    root's latency per phase.

FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 60

.PHONY: fuzz soak

fuzz: deps bpf
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) ./Fuzz/run-fuzz.sh

soak: deps release
	$(SWIFT) build -c release --static-swift-stdlib --product edge-soak
	.build/release/edge-soak --bin-dir .build/release --extender-seconds $(SOAK_SECONDS)

# Issue 13's attacks replayed against release builds (root; not in CI), with one row of figures
# per attack: longest watchdog gap, RSS and descriptors before / peak / after, latency of the
# health endpoints, ingest and root's RPC calls under attack; a Markdown table at the end
# (docs/abuse-figures.md). Output is line-buffered; SIGTERM/SIGINT or ABUSE_MAX_SECONDS stop the
# daemons and remove the edgeabuse-* namespaces before it exits non-zero.
#   abuse-agent       userns/exec-race writes, an 18 000-call batch, shaping.list flood over 1 024
#                     classes, slow-loris descriptors, socket churn, oversized frames, half-close,
#                     a selector alias (ABUSE_SECONDS per flood, default 10)
#   abuse-controller  idle-connection flood, slow headers, concurrent 62 MB extender bodies,
#                     token-holder memory at the per-report bounds (ABUSE_NODES, default 20000), 401 flood
ABUSE_SECONDS ?= 10
ABUSE_NODES ?= 20000
ABUSE_MAX_SECONDS ?= 1800
.PHONY: abuse
abuse: bpf
	for p in edge-soak edge-agent edge-controller; do \
	    $(SWIFT) build -c release --static-swift-stdlib --product $$p || exit 1; done
	.build/release/edge-soak --bin-dir .build/release --runs abuse-agent,abuse-controller \
	    --abuse-seconds $(ABUSE_SECONDS) --abuse-nodes $(ABUSE_NODES) --max-seconds $(ABUSE_MAX_SECONDS)

# ---------------------------------------------------------------------------------------------
# VM test bed (issues 5, 13, 14, 17): Debian 12 VMs with Debian's own kernel under qemu TCG, the
# .debs from out/ installed and checked there (units, watchdogs, doctor, edgectl, man, EDT over
# mq + fq, the CNI chain, ansible with TLS, the status/cleanup/rollback playbooks).
# Root; about 35 minutes on 2 cores with a cached image. Not part of `make check` / CI.
# See packaging/vm/README.md.
#
#   make vm-image   build (or reuse) the image in packaging/vm/.cache/image (mmdebstrap, ~4 min cold)
#   make vm-test    image, `make deb` if out/ has no .debs, boot 2 VMs, run every check, PASS/FAIL

#   make vm-deps    apt-get install what the VM scripts need (qemu, mmdebstrap, busybox-static, …)
#                   plus deb-deps and ansible-deps; every VM target runs it first.

APT_VM := qemu-system-x86 qemu-utils openssh-client python3 python3-pip dpkg-dev iproute2 mmdebstrap \
	e2fsprogs busybox-static

.PHONY: vm-deps vm-image vm-test

vm-deps: deb-deps ansible-deps
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_VM)

vm-image: vm-deps
	./packaging/vm/build-image.sh

vm-test: vm-deps
	./packaging/vm/vm-test.sh

# Bandwidth manager benchmark (issues 6, 14): one VM, a pod made by the CNI chain (bridge +
# host-local) with the same egress limit through edgenode-bandwidth (EDT, our agent), Debian's
# bandwidth plugin (tbf on an ifb) and none; 256 RR streams + bulk flows; bpf_stats per-packet cost.
# About 8 minutes with a cached image; results in experiments/results/bwm-<time>/.
.PHONY: vm-bwm-bench
vm-bwm-bench: vm-deps
	./packaging/vm/bwm-bench.sh

# The placement experiment's namespace bed inside one VM (Debian's kernel has sch_netem, so S1
# runs for real): the packaged agent/controller, a static edge-experiment; results in
# experiments/results/vm-<time>/. EXPERIMENT_VM_ARGS overrides the preset. The preset is light
# (3 nodes, 50 rps, 4 KiB responses, 2 connections per replica) because under TCG on 2 host cores
# 4 nodes at 100 rps saturated the guest and the runs measured the emulator (experiments/README.md).
EXPERIMENT_VM := --label vm-light --scenarios S1 --nodes 3 --rps 50 --reps 4 --warmup 8 --duration 15 \
	--cooldown 2 --outage-period 6 --response-bytes 4096 --connections 2
.PHONY: experiment-vm
experiment-vm: vm-deps bpf experiment-plot-deps
	$(SWIFT) build -c release --static-swift-stdlib --product edge-experiment
	./packaging/vm/experiment-vm.sh .build/release/edge-experiment $(EXPERIMENT_VM) $(EXPERIMENT_VM_ARGS)

# The placement experiment on a bed of VMs, one per node, each with its own kernel (so S4 reaches
# the agents' run-queue and CPU figures); controller and client on this host, on a bridge in a
# namespace of their own. EXPERIMENT_VMS_NODES (3) VMs of 1 vCPU under TCG: a light preset again.
EXPERIMENT_VMS := --label vms-light --scenarios S1,S4 --rps 50 --reps 4 --warmup 8 --duration 15 \
	--cooldown 2 --outage-period 6 --response-bytes 4096 --connections 2
.PHONY: experiment-vms
experiment-vms: vm-deps release experiment-plot-deps
	$(SWIFT) build -c release --static-swift-stdlib --product edge-experiment
	./packaging/vm/experiment-vms.sh .build/release/edge-experiment $(EXPERIMENT_VMS) $(EXPERIMENT_VMS_ARGS)

# ---------------------------------------------------------------------------------------------
# Operator checks (issue 17). Root.
#
#   make check-kernel   before an install: edgectl doctor --no-agent (edge-agent --doctor's probes);
#                       fails when something is MISSING, prints DEGRADED lines and goes on
#   make smoke-test     on a node with the agent running: edgectl smoke (SMOKE_ARGS="--socket …")

.PHONY: check-kernel smoke-test

check-kernel: bpf
	$(SWIFT) build --product edge-agent
	$(SWIFT) build --product edgectl
	rc=0; .build/debug/edgectl doctor --no-agent $(DOCTOR_ARGS) || rc=$$?; \
	if [ $$rc -ge 2 ]; then echo "check-kernel: something edgenode needs is MISSING (see above)"; exit 1; fi

smoke-test:
	$(SWIFT) build --product edgectl
	.build/debug/edgectl smoke $(SMOKE_ARGS)

# /filter and /prioritize latency over loopback HTTP at 1,000 candidates, NodeNames and full v1.Node
# bodies, one call at a time as kube-scheduler makes them (sizes httpTimeout; docs/kube-scheduler.md).
.PHONY: extender-latency
extender-latency: bpf
	$(SWIFT) build -c release --static-swift-stdlib --product edge-controller
	python3 scripts/extender-latency.py .build/release/edge-controller --nodes 1000 --iter 200
