# The two commands a newcomer runs (see README.md):
#   make run   install what is missing, build, start the server with a demo tenant
#   make test  install what is missing, build (release + sanitizers), run every test
#              (lint, unit, fuzz, the black-box suites on PostgreSQL, then on SQLite,
#              then some suites through nginx)
# Everything else here is a step of those two.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: all deps build build-asan run test lint unit-test api-test pg-test nginx-test fuzz bench clean

all: build

deps:
	@scripts/install-deps.sh
	@scripts/npm-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DATHOS_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

run: build
	@scripts/run-demo.sh $(BUILD)/athos

# The house rules a compiler does not check (banned calls, include
# directions, SQL only in store/); see the top of scripts/lint.sh.
lint: deps
	@scripts/lint.sh

unit-test: build-asan
	@cd $(ASAN_BUILD) && ctest --output-on-failure

api-test: build build-asan
	@scripts/api-test.sh

# The same black-box suites (plus the two-node cluster test) on a throwaway
# PostgreSQL 15 cluster started and stopped by the script.
pg-test: build
	@scripts/pg-test.sh

# Some suites again through the shipped deploy/nginx/athos.conf (TLS and
# plain), as a hardened deployment runs them.
nginx-test: build
	@scripts/nginx-test.sh

# libFuzzer drivers (tests/fuzz), a short bounded run; FUZZ_SECONDS=60 for a real session
fuzz: deps
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-5} scripts/fuzz.sh

test: lint unit-test fuzz pg-test api-test nginx-test

bench: build
	@bench/run-all.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
