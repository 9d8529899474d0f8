# The whole story on Debian 12: `make run` opens the workbench on its bundled store, `make test`
# builds and runs every test. Both install the Debian packages that are missing (only those).
BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
# The engine again under ASan + UBSan (clang), its tests, and the safetensors fuzzer.
SANITIZE_DIR ?= build-sanitize
FUZZ_SECONDS ?= 60
# The chip readers (Crossroads CSV, Epoch CSV, chip JSON) under libFuzzer, each this long.
FUZZ_DIR          ?= build-fuzz
DATA_FUZZ_SECONDS ?= 20
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

# What the build and the tests need from Debian (Qt's SQLite driver is its own package;
# libqcustomplot-dev and qt6-svg-dev draw and export the charts;
# python3-torch runs the engine's oracle test under Debian's own /usr/bin/python3; libdnnl-dev
# is oneDNN, for the CPU engine's prefill products; libxlsxwriter-dev writes the XLSX table
# exports).
DEBIAN_PACKAGES := cmake make g++ pkg-config qt6-base-dev libqt6sql6-sqlite \
                   nlohmann-json3-dev libgl1-mesa-dev python3-torch libdnnl-dev \
                   clang libclang-rt-14-dev libqcustomplot-dev qt6-svg-dev libxlsxwriter-dev

.PHONY: all deps configure build run test sanitize fuzz-data clean package package-test

all: build

deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "make deps: not a Debian system; install the equivalents of: $(DEBIAN_PACKAGES)"; \
	  exit 0; \
	fi; \
	missing=""; \
	for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing Debian packages:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

configure: deps $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	$(BUILD_DIR)/bin/crossroads

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)
	$(MAKE) sanitize
	$(MAKE) fuzz-data

# The engine alone (no Qt, no CUDA), built by clang with AddressSanitizer and
# UndefinedBehaviorSanitizer: every engine test runs under them (a report fails the test), then
# the safetensors header parser is fuzzed for FUZZ_SECONDS (`make sanitize FUZZ_SECONDS=3600`
# for longer; the corpus it grows stays in $(SANITIZE_DIR)/fuzz-corpus).
sanitize: deps
	CC=clang CXX=clang++ cmake -S inference -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCROSSROADS_SANITIZE=ON -DCROSSROADS_FUZZ=ON -DCROSSROADS_CUDA=OFF
	cmake --build $(SANITIZE_DIR) -j$(JOBS)
	UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j$(JOBS)
	mkdir -p $(SANITIZE_DIR)/fuzz-corpus
	$(SANITIZE_DIR)/fuzz_safetensors_header -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  $(SANITIZE_DIR)/fuzz-corpus

# The chip readers fuzzed (clang, libFuzzer + ASan + UBSan), seeded with the sample files of
# tests/data; each also checks that what parses survives a write and a read. Longer:
# `make fuzz-data DATA_FUZZ_SECONDS=600`; the corpora grow in $(FUZZ_DIR)/corpus-*.
fuzz-data: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCROSSROADS_FUZZ=ON -DCROSSROADS_CUDA=OFF -DBUILD_TESTING=OFF
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target fuzz_crossroads_csv fuzz_epoch_csv fuzz_chip_json
	for f in crossroads_csv epoch_csv chip_json; do \
	  mkdir -p $(FUZZ_DIR)/corpus-$$f && \
	  $(FUZZ_DIR)/data/fuzz_$$f -max_total_time=$(DATA_FUZZ_SECONDS) -print_final_stats=1 \
	    $(FUZZ_DIR)/corpus-$$f tests/data || exit 1; \
	done

# The .deb is CPU-only (cuBLAS is not a Debian package), so it is built without CUDA; it holds
# the one executable (its data compiled in), the desktop entry and the icon
# (packaging/CMakeLists.txt), in $(PACKAGE_DIR)/crossroads_VERSION_ARCH.deb.
# PACKAGE_CMAKE_ARGS adds options (e.g. -DCMAKE_CXX_COMPILER_LAUNCHER=ccache); those below win.
PACKAGE_DIR        ?= build-deb
PACKAGE_CMAKE_ARGS ?=
# dpkg-shlibdeps (dpkg-dev) finds the .deb's Depends; the install test runs the window under
# xvfb-run and screenshots it (xvfb, xauth, imagemagick): installed like the others when missing.
PACKAGE_DEBIAN_PACKAGES := dpkg-dev
PACKAGE_TEST_DEBIAN_PACKAGES := xvfb xauth imagemagick
package:
	@$(MAKE) --no-print-directory deps \
	  DEBIAN_PACKAGES="$(DEBIAN_PACKAGES) $(PACKAGE_DEBIAN_PACKAGES)"
	@command -v dpkg-shlibdeps >/dev/null || \
	  { echo "make package: dpkg-shlibdeps is missing (Debian: dpkg-dev)"; exit 1; }
	cmake -S . -B $(PACKAGE_DIR) $(PACKAGE_CMAKE_ARGS) -DCMAKE_BUILD_TYPE=Release \
	  -DCROSSROADS_CUDA=OFF -DBUILD_TESTING=OFF -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON
	cmake --build $(PACKAGE_DIR) -j$(JOBS) --target crossroads
	cd $(PACKAGE_DIR) && cpack -G DEB

# Installs the .deb through apt (its Depends resolved), checks them, runs the installed
# `crossroads` (classify, in a clean HOME and folder; the window under xvfb-run for a few seconds,
# with a screenshot), then removes the package. Needs root or sudo; never part of `make test`.
package-test: package
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(PACKAGE_TEST_DEBIAN_PACKAGES)"
	packaging/test-package.sh $$(ls -t $(PACKAGE_DIR)/crossroads_*.deb | head -n 1)

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)
