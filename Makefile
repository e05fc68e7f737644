# Thin wrapper around CMake. `make` builds, `make test` runs the unit tests,
# `make asan` runs them under AddressSanitizer + UBSan, `make bench` runs
# the benchmarks side by side with PyTorch, `make demo` runs the main job,
# `make fuzz` runs every libFuzzer harness FUZZ_SECONDS each (clang),
# `make mpi-test` the Open MPI checks (docs/mpi.md).
# `make browser-test` opens lethe report's page in headless Chromium.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
MPI_BUILD ?= build-mpi
FUZZ_SECONDS ?= 10
JOBS ?= 2
PREFIX ?= /usr/local

.PHONY: all deps configure test asan fuzz mpi mpi-bench mpi-test openblas-test bench demo install golden clean browser-test

all: configure
	cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory -s

deps:
	@sh cmake/deps.sh

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

test: all
	@sh cmake/deps.sh --data
	@sh cmake/hf_tokenizers.sh
	cd $(BUILD) && ctest --output-on-failure

asan: deps
	@sh cmake/deps.sh --data
	@sh cmake/hf_tokenizers.sh
	@test -f $(ASAN_BUILD)/CMakeCache.txt || cmake -S . -B $(ASAN_BUILD) -DLETHE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure

# libFuzzer harnesses (tests/fuzz/README.md): clang, ASan + UBSan, a
# separate build folder; each harness runs FUZZ_SECONDS over its corpus.
fuzz:
	@sh cmake/deps.sh --fuzz
	@test -f $(FUZZ_BUILD)/CMakeCache.txt || CC=clang cmake -S . -B $(FUZZ_BUILD) -DLETHE_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Open MPI scale-out (docs/mpi.md): a separate build folder with
# -DLETHE_MPI=ON; mpi-test runs tests/mpi_check.sh (2 ranks, loopback).
mpi:
	@sh cmake/deps.sh --mpi
	@test -f $(MPI_BUILD)/CMakeCache.txt || cmake -S . -B $(MPI_BUILD) -DLETHE_MPI=ON >/dev/null
	cmake --build $(MPI_BUILD) -j $(JOBS) --target lethe test_dist test_dist_models -- --no-print-directory -s

# the scaling of DP training and of a sweep at 1 and 2 ranks on this
# machine, and a cluster projection (bench/mpi_scaling.sh; idle machine)
mpi-bench: mpi
	@sh cmake/deps.sh --data
	sh bench/mpi_scaling.sh $(MPI_BUILD) out/bench

mpi-test: mpi
	@sh cmake/deps.sh --data
	sh tests/mpi_check.sh $(MPI_BUILD)

# The OpenBLAS-only build (-DLETHE_ONEDNN=OFF, docs/performance.md): the
# tests of the products, convolutions and precision on the fallback path.
OPENBLAS_BUILD ?= build-openblas
OPENBLAS_TESTS = test_precision test_matmul test_conv test_conv_bf16 test_attention test_models
openblas-test: deps
	@test -f $(OPENBLAS_BUILD)/CMakeCache.txt || cmake -S . -B $(OPENBLAS_BUILD) -DLETHE_ONEDNN=OFF >/dev/null
	cmake --build $(OPENBLAS_BUILD) -j $(JOBS) --target $(OPENBLAS_TESTS) -- --no-print-directory -s
	cd $(OPENBLAS_BUILD) && ctest --output-on-failure -R "^($(shell echo $(OPENBLAS_TESTS) | tr ' ' '|'))$$"

# `make bench` writes out/bench/perf.md and perf.jsonl (docs/performance.md,
# "## Benchmarks"); BENCH_QUICK=1 is the quick mode (checks the output),
# BENCH_THREADS the thread count of both sides (default nproc).
bench: all
	@sh cmake/deps.sh --ref
	BENCH_QUICK=$(BENCH_QUICK) sh bench/run.sh $(BUILD) $(BENCH_THREADS)
	@if [ -x $(MPI_BUILD)/lethe ]; then sh bench/mpi_scaling.sh $(MPI_BUILD) out/bench; \
	else echo "make bench: no MPI build in $(MPI_BUILD): make mpi-bench measures the MPI scaling"; fi

# The main job: the classification unlearning benchmark on Fashion-MNIST
# (every method, 3 seeds, random 10% forgetting; the table goes to
# out/classify.md and .json, the UA-TA plot to out/classify.png, and
# `lethe report` makes out/report.html of them). DEMO_ARGS adds `lethe bench
# classify` flags.
DEMO_ARGS ?=
demo: all
	@sh cmake/deps.sh --data
	@mkdir -p out
	./$(BUILD)/lethe bench classify --markdown out/classify.md --json out/classify.json --plot out/classify.png $(DEMO_ARGS)
	./$(BUILD)/lethe report out

# The report page in headless Chromium (about 300 MB, so not part of make
# test, where the test is skipped without it): installs it and runs it.
browser-test: all
	@sh cmake/deps.sh --browser
	cd $(BUILD) && ctest -R report_browser --output-on-failure

golden:
	@sh cmake/deps.sh --ref
	sh tests/golden/gen_all.sh

install: all
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(MPI_BUILD)
