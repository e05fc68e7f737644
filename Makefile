# Thin wrapper around CMake. `make` builds, `make test` runs the unit tests,
# `make asan` runs them under AddressSanitizer + UBSan, `make bench` runs
# the benchmarks side by side with PyTorch, `make demo` runs the main job.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= 2
PREFIX ?= /usr/local

.PHONY: all deps configure test asan bench demo install golden clean

all: configure
	cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory -s

deps:
	@sh cmake/deps.sh

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

test: all
	@sh cmake/deps.sh --data
	cd $(BUILD) && ctest --output-on-failure

asan: deps
	@sh cmake/deps.sh --data
	@test -f $(ASAN_BUILD)/CMakeCache.txt || cmake -S . -B $(ASAN_BUILD) -DLETHE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure

bench: all
	@sh cmake/deps.sh --ref
	sh bench/run.sh $(BUILD)

# The main job: the classification unlearning benchmark on Fashion-MNIST
# (every method, 3 seeds, random 10% forgetting; the table goes to
# out/classify.md and .json). DEMO_ARGS adds `lethe bench classify` flags.
DEMO_ARGS ?=
demo: all
	@sh cmake/deps.sh --data
	@mkdir -p out
	./$(BUILD)/lethe bench classify --markdown out/classify.md --json out/classify.json $(DEMO_ARGS)

golden:
	@sh cmake/deps.sh --ref
	sh tests/golden/gen_all.sh

install: all
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
