# Miauflix: `make run` starts the whole stack, `make test` runs every test. See README.md.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

RELEASE_BIN := .build/release/miauflix
DEBUG_BIN := .build/debug/miauflix
# `make stop` uses whichever binary exists (it only reads the configuration).
STOP_BIN := $(firstword $(wildcard $(RELEASE_BIN) $(DEBUG_BIN)))

.PHONY: run demo stop status test unit e2e fuzz build bench clean

run:
	scripts/install-deps.sh run
	swift build -c release --product miauflix
	MIAUFLIX_BIN=$(RELEASE_BIN) scripts/stack.sh start

demo:
	scripts/install-deps.sh demo
	MIAUFLIX_DEMO=1 $(MAKE) run

stop:
	@if [ -n "$(STOP_BIN)" ]; then MIAUFLIX_BIN=$(STOP_BIN) scripts/stack.sh stop; else echo "nothing built, nothing running"; fi

status:
	@MIAUFLIX_BIN=$(STOP_BIN) scripts/stack.sh status

test:
	scripts/install-deps.sh test
	swift build --build-tests
	$(MAKE) unit e2e
	fuzz/run.sh $(or $(FUZZ_SECONDS),30)

unit:
	swift test --skip-build

e2e:
	MIAUFLIX_BIN=$(DEBUG_BIN) python3 -m pytest -q -p no:cacheprovider Tests/EndToEnd

fuzz:
	fuzz/run.sh $(or $(FUZZ_SECONDS),60)

bench:
	scripts/install-deps.sh bench
	swift build -c release --product miauflix
	bench/api-floor.sh
	bench/auth.sh
	bench/catalog.sh
	bench/codec.sh

clean:
	rm -rf .build
