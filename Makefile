# kdfs: the user's interface. `make up` starts a local cluster, `make test` runs
# every test. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -o pipefail -ec
.DEFAULT_GOAL := help

JOBS ?= $(shell nproc)
BUILD ?= build
BUILD_SAN ?= build-san
DIR ?= .cluster
PORT ?= 8080
NODES ?= 3
PYTHON ?= python3
PYTEST_ARGS ?=
PEERS ?= 0
BENCH_ALL ?= 0
PYTEST_PATHS ?= tests
CTEST_ARGS ?=
CLUSTER := scripts/cluster
WITH_KAFKA := scripts/with-kafka
TEST_LOGS := $(BUILD)/test-logs
CMAKE_COMMON := -G Ninja -DCMAKE_COMPILE_WARNING_AS_ERROR=ON
SOURCES = $(shell git ls-files --cached --others --exclude-standard -- \
            'src/*.cc' 'src/*.h' 'bench/*.cc' 'bench/*.h' 'tests/*.cc' 'tests/*.h')

.PHONY: help deps build build-san up down status test test-unit test-integration \
        bench format format-check clean

help:
	@echo "make up               install what is missing, build, start a local 3-node cluster"
	@echo "                      (DIR=$(DIR) PORT=$(PORT) NODES=$(NODES)); prints the gateway URL"
	@echo "make down / status    stop the cluster / show every process of it"
	@echo "make test             install, build (release + ASan/UBSan), run unit and integration tests"
	@echo "make test-unit        unit tests only (both builds)"
	@echo "make test-integration the pytest suites only: tests/integration (real Kafka, Redis,"
	@echo "                      nodes, HAProxy) and tests/deploy; PYTEST_PATHS= picks some"
	@echo "make build            release build (RelWithDebInfo) into $(BUILD)/"
	@echo "make build-san        ASan+UBSan build into $(BUILD_SAN)/"
	@echo "make chaos            fault-injection campaign (DURATION=s SEED=n CHAOS_FAULTS=all|k1,k2),"
	@echo "                      report in $(BUILD)/chaos/; partition/delay/skew/disk faults need root"
	@echo "make bench            fresh cluster, kdfs vs dd/nginx table in bench/results/ (< 15 min;"
	@echo "                      PEERS=1 adds SeaweedFS, BENCH_ALL=1 the micro-benchmarks)"
	@echo "make fuzz             libFuzzer targets in fuzz/ (clang, ASan+UBSan) into $(FUZZ_BUILD)/,"
	@echo "                      each for FUZZ_SECONDS=$(FUZZ_SECONDS) s from the seed corpus fuzz/corpus/"
	@echo "make format           clang-format every C++ source; format-check only checks"
	@echo "make deps             install missing Debian packages and the Kafka jars"
	@echo "make clean            remove the build directories"

deps:
	@scripts/install-deps

RELEASE_FLAGS := $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKDFS_SANITIZE=OFF \
  -DKDFS_BUILD_TESTS=ON -DKDFS_BUILD_BENCH=ON
SAN_FLAGS := $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DKDFS_SANITIZE=ON \
  -DKDFS_BUILD_TESTS=ON -DKDFS_BUILD_BENCH=OFF

# configure(dir, flags): runs cmake when dir is not configured, or was configured
# with other flags (by hand, say); otherwise ninja's own re-run checks suffice.
define configure
	@if [ ! -f $(1)/build.ninja ] || [ "$$(cat $(1)/.kdfs-cmake-flags 2>/dev/null)" != "$(strip $(2))" ]; then \
	  echo "cmake -S . -B $(1) $(strip $(2))"; \
	  cmake -S . -B $(1) $(2) && echo "$(strip $(2))" > $(1)/.kdfs-cmake-flags; \
	fi
endef

build: deps
	$(call configure,$(BUILD),$(RELEASE_FLAGS))
	cmake --build $(BUILD) -j $(JOBS)

build-san: deps
	$(call configure,$(BUILD_SAN),$(SAN_FLAGS))
	cmake --build $(BUILD_SAN) -j $(JOBS)

# Only the programs: the cluster needs nothing else.
up: deps
	$(call configure,$(BUILD),$(RELEASE_FLAGS))
	cmake --build $(BUILD) -j $(JOBS) --target kdfs-node kdfs
	@$(CLUSTER) up --dir $(DIR) --port $(PORT) --nodes $(NODES) \
	  --node-bin $(BUILD)/src/node/kdfs-node

down:
	@$(CLUSTER) down --dir $(DIR)

status:
	@$(CLUSTER) status --dir $(DIR)

# Runs every suite even if one fails, then prints each runner's summary line;
# exits non-zero if any suite failed. Full logs are in $(TEST_LOGS)/. The unit
# and pytest suites share one Kafka broker (scripts/with-kafka sets
# KDFS_TEST_KAFKA; a broker that then does not answer fails the tests that need
# it rather than skipping them); the chaos campaign starts its own cluster.
test: deps build build-san
	@rc=0; mkdir -p $(TEST_LOGS); \
	$(WITH_KAFKA) $(MAKE) --no-print-directory run-suites SUITES="unit-san unit pytest" || rc=1; \
	$(MAKE) --no-print-directory run-chaos DURATION=$(CHAOS_SHORT) SEED=7 LOG=$(TEST_LOGS)/chaos.log || rc=1; \
	$(MAKE) --no-print-directory run-fuzz LOG=$(TEST_LOGS)/fuzz.log || rc=1; \
	$(MAKE) --no-print-directory summary LOGS="unit-san unit pytest chaos fuzz"; \
	exit $$rc

test-unit: deps build build-san
	@rc=0; mkdir -p $(TEST_LOGS); \
	$(WITH_KAFKA) $(MAKE) --no-print-directory run-suites SUITES="unit-san unit" || rc=1; \
	$(MAKE) --no-print-directory summary LOGS="unit-san unit"; \
	exit $$rc

test-integration: deps build
	@rc=0; mkdir -p $(TEST_LOGS); \
	$(WITH_KAFKA) $(MAKE) --no-print-directory run-suites SUITES="pytest" || rc=1; \
	$(MAKE) --no-print-directory summary LOGS="pytest"; \
	exit $$rc

# Internal: the SUITES (unit-san, unit, pytest) one after the other, all of
# them even if one fails; then one suite, its output both on the terminal and
# in $(LOG).
.PHONY: run-suites run-unit run-integration summary
run-suites:
	@rc=0; for s in $(SUITES); do case $$s in \
	  unit-san) $(MAKE) --no-print-directory run-unit B=$(BUILD_SAN) LOG=$(TEST_LOGS)/unit-san.log || rc=1;; \
	  unit) $(MAKE) --no-print-directory run-unit B=$(BUILD) LOG=$(TEST_LOGS)/unit.log || rc=1;; \
	  pytest) $(MAKE) --no-print-directory run-integration LOG=$(TEST_LOGS)/pytest.log || rc=1;; \
	  *) echo "run-suites: unknown suite $$s"; rc=1;; \
	esac; done; exit $$rc

run-unit:
	@echo "== unit tests in $(B)/"
	@ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(B) --output-on-failure --no-tests=error --timeout 300 \
	  -j $(JOBS) $(CTEST_ARGS) 2>&1 | tee $(LOG)

run-integration:
	@echo "== pytest $(PYTEST_PATHS) (integration and deploy tests; node binary $(BUILD)/src/node/kdfs-node)"
	@KDFS_NODE_BIN=$(abspath $(BUILD))/src/node/kdfs-node KDFS_CLI_BIN=$(abspath $(BUILD))/src/cli/kdfs \
	  $(PYTHON) -m pytest $(PYTEST_PATHS) -ra --durations=10 $(PYTEST_ARGS) 2>&1 | tee $(LOG)

summary:
	@echo "== summary"
	@for l in $(LOGS); do \
	  f=$(TEST_LOGS)/$$l.log; \
	  line=$$(grep -E '^chaos: ops=|tests passed|No tests were found|[0-9]+ (passed|failed|errors?|deselected|skipped)|no tests ran' $$f \
	    | tail -1 | sed -E 's/^=+ //; s/ =+$$//'); \
	  skipped=$$(grep -cE '^[[:space:]]*[0-9]+ - .*\(Skipped\)$$' $$f 2>/dev/null || true); \
	  [ "$${skipped:-0}" -gt 0 ] && line="$$line ($$skipped skipped: see $$f)"; \
	  printf '%-12s %s\n' "$$l:" "$${line:-no summary line (see $$f)}"; \
	done

# A chaos campaign (tests/chaos, docs/CHAOS.md): workload + nemesis against a
# fresh 3-node cluster, then the checkers; the report goes to $(CHAOS_OUT)/ and
# the last line is `chaos: ops=N faults=N acked=N lost=N divergent=N linearizable=yes|no`.
# Partition, delay, clock skew and disk-full faults need root.
.PHONY: chaos run-chaos
DURATION ?= 300
SEED ?= 1
CHAOS_FAULTS ?= all
CHAOS_SHORT ?= 200
CHAOS_OUT ?= $(BUILD)/chaos/seed$(SEED)-$(DURATION)s
chaos: deps
	$(call configure,$(BUILD),$(RELEASE_FLAGS))
	cmake --build $(BUILD) -j $(JOBS) --target kdfs-node
	@$(MAKE) --no-print-directory run-chaos LOG=$(CHAOS_OUT).log

run-chaos:
	@mkdir -p $(BUILD)/chaos
	@cd tests/chaos/linearizability && go build -o $(abspath $(BUILD))/chaos/lincheck .
	@echo "== chaos campaign: $(DURATION) s, seed $(SEED), faults $(CHAOS_FAULTS); report in $(CHAOS_OUT)/"
	@KDFS_LINCHECK_BIN=$(abspath $(BUILD))/chaos/lincheck $(PYTHON) tests/chaos/campaign.py \
	  --duration $(DURATION) --seed $(SEED) --faults $(CHAOS_FAULTS) --out $(CHAOS_OUT) \
	  --node-bin $(abspath $(BUILD))/src/node/kdfs-node 2>&1 | tee $(LOG)

# bench/run_bench.py: a fresh cluster, one table of kdfs figures beside
# references, written to bench/results/ (PEERS=1 adds SeaweedFS). BENCH_ALL=1
# also runs the Google Benchmark programs and bench/*.sh.
bench: build
	@KDFS_BUILD=$(BUILD) PEERS=$(PEERS) $(PYTHON) bench/run_bench.py
	@if [ "$(BENCH_ALL)" = 1 ]; then \
	  for b in $$(find $(BUILD)/bench -maxdepth 1 -type f -executable -name '*_bench' | sort); do \
	    echo "== $$b"; $$b; done; \
	  for s in $$(find bench -maxdepth 1 -name '*.sh' | sort); do \
	    echo "== $$s"; KDFS_BUILD=$(BUILD) bash $$s; done; \
	fi

# libFuzzer targets (fuzz/): built with clang into $(FUZZ_BUILD)/, each run for
# FUZZ_SECONDS from the seeds in fuzz/corpus/<name>/ (new inputs go to
# $(FUZZ_BUILD)/corpus/, crashes to $(FUZZ_BUILD)/artifacts/). The last line is
# `fuzz: N passed, M failed`.
.PHONY: fuzz run-fuzz
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := path_fuzz http_headers_fuzz
FUZZ_FLAGS := $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DKDFS_SANITIZE=OFF -DKDFS_BUILD_TESTS=OFF -DKDFS_BUILD_BENCH=OFF \
  -DKDFS_BUILD_FUZZ=ON
fuzz: deps
	@$(MAKE) --no-print-directory run-fuzz LOG=$(FUZZ_BUILD)/fuzz.log

run-fuzz:
	$(call configure,$(FUZZ_BUILD),$(FUZZ_FLAGS))
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)
	@mkdir -p $(dir $(LOG)) $(FUZZ_BUILD)/artifacts; passed=0; failed=0; { \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t; echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  if $(FUZZ_BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	       -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
	       $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$${t%_fuzz}; then \
	    passed=$$((passed + 1)); else failed=$$((failed + 1)); fi; \
	done; \
	echo "fuzz: $$passed passed, $$failed failed ($(FUZZ_SECONDS) s each; crashes in $(FUZZ_BUILD)/artifacts/)"; \
	[ $$failed -eq 0 ]; } 2>&1 | tee $(LOG)

format:
	clang-format -i $(SOURCES)

format-check:
	clang-format --dry-run -Werror $(SOURCES)

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(FUZZ_BUILD)
