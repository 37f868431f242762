# The commands a user and CI run. README's quick start is `make demo` and `make test`.
# Every target installs what is missing first, so a fresh Debian 12 machine needs nothing else.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

BUILD_DIR     ?= build
SANITIZE_DIR  ?= build-sanitize
RELEASE_DIR   ?= build-release
FUZZ_DIR      ?= build-fuzz
TSAN_DIR      ?= build-tsan
PORTABLE_DIR  ?= build-portable
BUILD_TYPE    ?= RelWithDebInfo
JOBS          ?= 2
# Per-test bound for ctest (tests that set their own TIMEOUT keep it).
TEST_TIMEOUT  ?= 300
# How long `make fuzz` runs each fuzzer, and the compiler it needs (libFuzzer is clang's).
FUZZ_SECONDS  ?= 60
FUZZ_CXX      ?= clang++-14
# What `make tsan` runs, as ctest arguments; empty: every test. The integration harness
# starts svcproxy with two workers unless a test asks for one, so nearly all of them are
# multi-threaded; all of them cost about 2 minutes under TSan (README, Development).
TSAN_TESTS    ?=
# What `make portable` runs, as ctest arguments: every unit test and the integration tests
# that move bytes through the reads, relays and tunnels the portable path replaces; empty:
# every test (all pass there too, about 2 more minutes).
PORTABLE_TESTS ?= -R '^unit\.|^integration\.(http_proxying|http_large_bodies|http_split_heads|http_body_failures|http_hardening|l4_large_transfer|l4_half_close|l4_drain)$$'

# ccache (picked up by CMakeLists.txt) shares hits between worktrees and clones: paths
# under the source root are hashed relative to it, the build directory is not hashed
# into -g objects, and precompiled headers are allowed.
export CCACHE_BASEDIR    := $(CURDIR)
export CCACHE_NOHASHDIR  := 1
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime

# Warnings are errors here (and so in CI); a plain `cmake` build leaves SVCPROXY_WERROR off.
CMAKE_CONFIGURE = cmake -S . -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DSVCPROXY_WERROR=ON
CTEST = ctest --output-on-failure -j$(JOBS) --timeout $(TEST_TIMEOUT)

.PHONY: all deps configure build test sanitize release fuzz tsan portable demo demo-cluster format format-check \
        bench clean

all: build

deps:
	scripts/install-deps.sh

configure: deps
	$(CMAKE_CONFIGURE) -B $(BUILD_DIR)

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	$(CTEST) --test-dir $(BUILD_DIR)

# AddressSanitizer + UndefinedBehaviorSanitizer build, in its own directory, all tests.
sanitize: deps
	$(CMAKE_CONFIGURE) -B $(SANITIZE_DIR) -DSVCPROXY_SANITIZE=ON
	cmake --build $(SANITIZE_DIR) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(CTEST) --test-dir $(SANITIZE_DIR)

# The build a packager makes (-O3, no tests), warning-clean, and a smoke run of it.
release: deps
	cmake -S . -G Ninja -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release -DSVCPROXY_WERROR=ON \
	  -DSVCPROXY_TESTS=OFF
	cmake --build $(RELEASE_DIR) -j$(JOBS)
	$(RELEASE_DIR)/svcproxy --version
	$(RELEASE_DIR)/svcproxy --check --config conf/examples/demo.yaml

# libFuzzer + ASan/UBSan (fuzz/): each fuzzer for FUZZ_SECONDS on a scratch copy of its
# seed corpus (fuzz/corpus/ stays as committed). A crash, leak, timeout or OOM fails the
# target and leaves the input in fuzz/crashes/ (not committed).
FUZZERS = request_head yaml_loader dns_message
fuzz: deps
	CXX=$(FUZZ_CXX) cmake -S . -G Ninja -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Debug \
	  -DSVCPROXY_FUZZ=ON -DSVCPROXY_TESTS=OFF -DSVCPROXY_WERROR=ON
	cmake --build $(FUZZ_DIR) -j$(JOBS)
	mkdir -p fuzz/crashes
	for name in $(FUZZERS); do \
	  scratch=$(FUZZ_DIR)/run/$$name; rm -rf $$scratch; mkdir -p $$scratch/corpus; \
	  cp fuzz/corpus/$$name/* $$scratch/corpus/; \
	  dict=(); [[ -f fuzz/$$name.dict ]] && dict=(-dict=fuzz/$$name.dict); \
	  echo "make fuzz: $$name for $(FUZZ_SECONDS)s (log: $$scratch/log)"; \
	  if ! $(FUZZ_DIR)/fuzz/$${name}_fuzzer -max_total_time=$(FUZZ_SECONDS) -timeout=5 \
	       -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=fuzz/crashes/$$name- \
	       "$${dict[@]}" $$scratch/corpus >$$scratch/log 2>&1; then \
	    tail -n 80 $$scratch/log; \
	    echo "make fuzz: $$name failed; the input is in fuzz/crashes/" >&2; exit 1; \
	  fi; \
	  grep -E '^#[0-9]+.*(DONE|pulse)|^stat::' $$scratch/log | tail -n 8 || true; \
	done

# ThreadSanitizer build (gcc) in its own directory, and the tests (TSAN_TESTS) under it.
# Reports go to files, so one from a svcproxy that an integration test started fails the
# target even when the test itself passed.
tsan: deps
	$(CMAKE_CONFIGURE) -B $(TSAN_DIR) -DSVCPROXY_TSAN=ON
	cmake --build $(TSAN_DIR) -j$(JOBS)
	reports=$(abspath $(TSAN_DIR))/tsan-reports; rm -rf $$reports; mkdir -p $$reports; \
	status=0; \
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:log_path=$$reports/race \
	  $(CTEST) --test-dir $(TSAN_DIR) $(TSAN_TESTS) || status=$$?; \
	if compgen -G "$$reports/race*" >/dev/null; then \
	  head -n 80 $$reports/race*; echo "make tsan: ThreadSanitizer reports in $$reports" >&2; \
	  exit 1; \
	fi; \
	exit $$status

# The portable path: SVCPROXY_ASIO_INTERNALS off (server/net/asio_internals.hpp), so plain
# Asio operations instead of Boost 1.81's reactor internals (no draining reads, no splice),
# as on any other Boost; built warning-clean in its own directory, and PORTABLE_TESTS.
portable: deps
	$(CMAKE_CONFIGURE) -B $(PORTABLE_DIR) -DSVCPROXY_ASIO_INTERNALS=OFF
	cmake --build $(PORTABLE_DIR) -j$(JOBS)
	$(CTEST) --test-dir $(PORTABLE_DIR) $(PORTABLE_TESTS)

# Three nginx pods, svcproxy with conf/examples/demo.yaml, curl commands; Ctrl-C stops all.
demo: build
	SVCPROXY=$(BUILD_DIR)/svcproxy scripts/demo.sh

# The same pods behind two cluster-mode nodes and an edge, with the state in one etcd.
demo-cluster: build
	SVCPROXY=$(BUILD_DIR)/svcproxy scripts/demo-cluster.sh

SOURCES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null || \
                  find . -path ./build\* -prune -o \( -name '*.cpp' -o -name '*.hpp' \) -print)

format: deps
	clang-format -i $(SOURCES)

format-check: deps
	clang-format --dry-run --Werror $(SOURCES)

bench: build
	@if [[ -x bench/run ]]; then bench/run; \
	 else echo "make bench: bench/run does not exist yet" >&2; exit 1; fi

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(RELEASE_DIR) $(FUZZ_DIR) $(TSAN_DIR) $(PORTABLE_DIR)
