# Thin wrapper over CMake: `make run` and `make test` are the quick start.
MAKEFLAGS += --no-print-directory
BUILD    ?= build
ASAN     ?= build-asan
JOBS     ?= $(shell nproc)
DEMO_DB  ?= gatehouse-demo.db
LISTEN   ?= 127.0.0.1:8080

FUZZ     ?= build-fuzz
FUZZ_SECONDS ?= 10

.PHONY: all deps deps-run build gatehouse asan fuzz-build fuzz run test bench clean

all: build

# Everything the suite needs (test servers, clang, the Cedar reference from npm).
deps:
	@./scripts/install-deps.sh

# Only what building and serving needs.
deps-run:
	@./scripts/install-deps.sh --run

# Every target: the binary, unit tests, fuzz drivers, benchmarks.
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The gatehouse binary alone, for serving.
gatehouse: deps-run
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target gatehouse

asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DGH_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)

# libFuzzer builds of every fuzz target (clang, ASan+UBSan).
fuzz-build: deps
	@CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=Debug -DGH_SANITIZE=ON -DGH_LIBFUZZER=ON >/dev/null
	@cmake --build $(FUZZ) -j $(JOBS)

# Every fuzz target under libFuzzer for FUZZ_SECONDS each.
fuzz: fuzz-build
	@./tests/fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS)

# Builds the binary alone, seeds a fresh demo database and serves it on
# $(LISTEN) (make run LISTEN=127.0.0.1:9090 for another port).
run: gatehouse
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DB).signing-key
	@$(BUILD)/gatehouse --db $(DEMO_DB) demo
	@$(BUILD)/gatehouse --db $(DEMO_DB) serve --listen $(LISTEN)

# The whole suite: unit, end-to-end and fuzz smoke, normally and under ASan+UBSan.
test: build asan fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/run.sh $(BUILD) $(ASAN) $(FUZZ)

bench: build
	@./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
