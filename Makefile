# Atoll: `make run` serves the demo site, `make test` runs everything CI runs.
GO    ?= go
STAMP := node_modules/.package-lock.json
# The build's time, for the pages' build timestamp and ETags: the last
# commit's, so replicas of one build serve the same bytes.
STAMP_LDFLAGS = -ldflags "-X github.com/atollhq/atoll/server.buildStamp=$$(git log -1 --format=%ct 2>/dev/null || date +%s)"

.PHONY: run dev test build bench load soak htmx check-htmx screenshot clean new-site

# npm ci installs exactly what package-lock.json pins, checking integrity.
$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The htmx files the engine embeds (package client), made from the npm
# package the lockfile pins, with htmx's license beside them. They are
# committed so that `go install` works; `make check-htmx` (run by make
# test) makes them again and fails on any byte of difference.
# Source-map comments are dropped: the maps are not served.
HTMX_DIST := node_modules/htmx.org/dist
define make_htmx
	@mkdir -p $(1)
	sed '/^\/\/# sourceMappingURL=/d' $(HTMX_DIST)/htmx.min.js > $(1)/htmx.min.js
	sed '/^\/\/# sourceMappingURL=/d' $(HTMX_DIST)/ext/hx-sse.min.js > $(1)/hx-sse.min.js
	cp node_modules/htmx.org/LICENSE $(1)/htmx.LICENSE
endef

## htmx: write client/htmx.min.js, client/hx-sse.min.js and client/htmx.LICENSE from the pinned npm package (commit them)
htmx: $(STAMP)
	$(call make_htmx,client)

## check-htmx: fail when the committed htmx files differ from the pinned npm package by a byte
check-htmx: $(STAMP)
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(MAKE) -s --no-print-directory htmx-into DIR=$$tmp && \
	for f in htmx.min.js hx-sse.min.js htmx.LICENSE; do \
	  cmp $$tmp/$$f client/$$f || { echo "client/$$f differs from the npm package package-lock.json pins: run make htmx and commit"; exit 1; }; \
	done; echo "check-htmx: client/ matches htmx.org $$(node -p 'require("./node_modules/htmx.org/package.json").version')"

.PHONY: htmx-into
htmx-into:
	$(call make_htmx,$(DIR))

## run: serve the demo site on http://127.0.0.1:8080 (without ATOLL_KEYS, the server keeps a key in data/atoll.key)
run:
	$(GO) run $(STAMP_LDFLAGS) ./cmd/server

## dev: the demo under atoll dev: templates from disk, stylesheets swapped in place, a Go edit switches to a new server once it is ready, errors in the tab
dev:
	$(GO) run ./cmd/atoll dev

## build: write bin/server, stamped with the last commit's time
build:
	$(GO) build $(STAMP_LDFLAGS) -o bin/server ./cmd/server

# The integration tests start a real server per test; under the race detector each start takes
# about ten times as long, so the tests package runs once without it, then again with it for the
# tests that drive concurrency inside the server (streams, concurrent renders, regeneration, bad
# input). Which ones is decided by file, not by name: a file of tests that gain nothing under the
# detector (browsers, child processes, nginx, load, startup refusals) starts with `//go:build !race`, which the go
# command leaves out when -race sets the race tag. Renaming a test cannot take it out of the race
# run, and a new file is in it until someone decides otherwise.
# Four tests at a time (-parallel 4, where the default is one per CPU): most of them wait on
# browsers, child processes and the network far more than they compute. The longest tests are in
# files named zz_*, so that they start first (go test resumes parallel tests last-declared first).
## test: the htmx copy against the lockfile, vet, the engine's tests under the race detector (fuzz targets with their
## seed corpus), the integration tests (tests/, a module of its own; needs chromium, nginx and postgresql), then examples/mount
# go test runs vet on its own (a subset of go vet's analyzers, on every dependency again for each set of build
# flags): -vet=off, since go vet runs first with all of them. go vet -pgo=off: with the profile, cmd/server's
# dependencies would be type-checked twice, once as cmd/server's variants (its code is one thin main).
# go test ./... -pgo=off for the same reason: cmd/server has no test files, but go test still builds it, and
# with its profile that is every dependency compiled once more (361 packages, about 100 CPU-seconds cold).
# Test binaries are linked without DWARF (-ldflags=-w): nothing debugs them here, stack traces keep their
# files and lines, and a race test binary links in two thirds of the time.
# atoll dev's build tags (atolldev, atollnopostgres) are not vetted apart: vetting them type-checked the
# server's and the store's tests and everything they import once more (23 s cold); the dev loop's tests
# build the tagged server, so a tagged file that does not compile still fails make test.
TESTFLAGS := -vet=off -count=1 -ldflags=-w
test: check-htmx
	$(GO) mod tidy -diff
	$(GO) vet -pgo=off ./...
	$(GO) test $(TESTFLAGS) -pgo=off -race -timeout 10m ./...
	cd tests && $(GO) mod tidy -diff && $(GO) vet ./...
	cd tests && $(GO) test $(TESTFLAGS) -parallel 4 -timeout 15m .
	cd tests && $(GO) test $(TESTFLAGS) -race -parallel 4 -timeout 10m .
	cd examples/mount && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) test $(TESTFLAGS) -race ./...

## bench: Go benchmarks and a load run over loopback, each against a bare Fiber handler doing the same work
## and sending the same headers; built with the profile cmd/server is built with; then actions per second
## and island latency on SQLite beside PostgreSQL (needs Debian's postgresql)
bench:
	{ cd tests && $(GO) test -pgo=../$(PGO) -run '^$$' -bench . -benchmem -benchtime 2s . && cd .. && \
	  $(GO) test -pgo=$(PGO) -run '^$$' -bench . -benchmem -benchtime 2s ./internal/seal; } | (cd tests && $(GO) run ./tools/benchratio)
	cd tests && $(GO) run -pgo=../$(PGO) ./tools/loadbench -d 5s -c 32
	cd tests && $(GO) run ./tools/storebench -d 4s -c 16

# go build picks up default.pgo in the main package's directory, so
# `go build ./cmd/server` (and make build) use it without a flag; the bench
# binaries are given it explicitly.
PGO := cmd/server/default.pgo

## fuzz: half a million generated inputs against sealed props (make test runs the seed corpus only)
# (the budget is a count, not a duration: golang/go#75804 makes a timed run fail spuriously on go1.26)
.PHONY: fuzz
fuzz:
	$(GO) test -vet=off -run '^$$' -fuzz FuzzOpen -fuzztime 500000x ./internal/seal

.PHONY: pgo
## pgo: refresh cmd/server/default.pgo from a CPU profile of the server under loadbench (commit the result)
pgo:
	cd tests && $(GO) run ./tools/loadbench -d 10s -c 32 -cpuprofile ../$(PGO).new
	mv $(PGO).new $(PGO)

## load: the saturation and SIGTERM-under-load tests alone, printing req/s and p50/p99
load:
	cd tests && $(GO) test -count=1 -run 'TestLoadAtSaturation|TestSIGTERMDuringLoad' -v . -args -load.duration 10s | grep -E 'req/s|exited|^(---|ok|FAIL)'

## soak: a bounded 60-second mixed run; resident memory and goroutines must stay flat (not part of CI)
soak:
	cd tests && $(GO) run ./tools/soak -d 60s

## scale: time to ready, memory and first requests of generated sites of 10, 1,000 and 10,000 pages (docs/BENCHMARKS.md)
.PHONY: scale
scale:
	cd tests && $(GO) run ./tools/scalebench -sizes 10,1000,10000

## browserbench: pages in headless chromium, fresh cache, 0 and 40 ms RTT (docs/BENCHMARKS.md), then Astro's anchor beside them,
## then the pages through nginx (atoll nginx: islands filled in by SSI) beside Astro's /many, and with JavaScript off (edge.sh)
# The anchor, a script kept beside this checkout and run when present, loads bin/server's pages next to
# Astro's /many in one run. It waits for every [aria-busy="true"] to go, so "/" (its ticker waits to be scrolled to) is left out.
BB_RUNS  ?= 15
BB_PAGES ?= /compare,/many-batched,/many,/
BB_ANCHOR_PAGES ?= /compare /many-batched /many
BB_PORT  ?= 18090
.PHONY: browserbench
browserbench: build
	@echo "browserbench: commit $$(git log -1 --format=%h 2>/dev/null), $$(git status --short 2>/dev/null | wc -l) files changed"
	cd tests && $(GO) run ./tools/browserbench -runs $(BB_RUNS) -pages $(BB_PAGES)
	@if [ -x ../shared/bench/anchor.sh ]; then \
	  dir=$$(mktemp -d); \
	  ATOLL_KEYS=$$(bin/server -genkey) ATOLL_ADDR=127.0.0.1:$(BB_PORT) ATOLL_DB=$$dir/atoll.db bin/server >$$dir/server.log 2>&1 & pid=$$!; \
	  trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -rf $$dir' EXIT; \
	  for i in $$(seq 50); do curl -fs -o /dev/null http://127.0.0.1:$(BB_PORT)/readyz && break; sleep 0.2; done; \
	  curl -fs -o /dev/null http://127.0.0.1:$(BB_PORT)/readyz || { echo "browserbench: bin/server did not start:"; cat $$dir/server.log; exit 1; }; \
	  echo; echo "anchor: Astro /many beside bin/server on 127.0.0.1:$(BB_PORT), medians, one run"; \
	  RUNS=$(BB_RUNS) ../shared/bench/anchor.sh $(foreach p,$(BB_ANCHOR_PAGES),http://127.0.0.1:$(BB_PORT)$(p)); \
	else echo "browserbench: ../shared/bench/anchor.sh not found, Astro not measured"; fi
	@echo; BB_RUNS=$(BB_RUNS) BB_PORT=$$(($(BB_PORT) + 10)) tests/tools/browserbench/edge.sh

## new-site: start a site of your own in a new module that requires Atoll: make new-site DIR=../mysite MODULE=example.com/mysite
new-site:
	$(GO) run ./cmd/atoll new "$(DIR)" -module "$(MODULE)"

.PHONY: cluster
## cluster: two replicas of bin/server on one PostgreSQL behind nginx (configured as atoll nginx prints it) on http://127.0.0.1:8080; Ctrl-C stops everything
cluster: build
	cd tests && $(GO) run ./tools/cluster -server ../bin/server

## screenshot: refresh docs/screenshot.png (the README's) and docs/screenshots/ (every page light, dark and 390 px wide) in headless chromium
screenshot:
	cd tests && $(GO) run ./tools/screenshot -o ../docs/screenshot.png -dir ../docs/screenshots

clean:
	rm -rf bin
