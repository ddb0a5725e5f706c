# Atoll: `make run` serves the demo site, `make test` runs everything CI runs.
GO    ?= go
HTMX  := public/vendor/htmx.js public/vendor/hx-sse.js
STAMP := node_modules/.package-lock.json
KEY   := data/atoll.key

.PHONY: run dev test build bench load soak assets screenshot clean

# npm ci installs exactly what package-lock.json pins, checking integrity.
$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

public/vendor/htmx.js: $(STAMP)
	@mkdir -p $(dir $@)
	cp node_modules/htmx.org/dist/htmx.min.js $@

public/vendor/hx-sse.js: $(STAMP)
	@mkdir -p $(dir $@)
	cp node_modules/htmx.org/dist/ext/hx-sse.js $@

# A local key for `make run`, so sealed island URLs survive restarts.
$(KEY):
	@mkdir -p $(dir $@)
	$(GO) run ./cmd/server -genkey > $@

## assets: install npm dependencies when missing and copy htmx into public/
assets: $(HTMX)

## run: serve the demo site on http://127.0.0.1:8080 (key in data/, made once)
run: assets $(KEY)
	ATOLL_KEYS="$${ATOLL_KEYS:-$$(cat $(KEY))}" $(GO) run ./cmd/server

## dev: the same with templates re-read from disk on every request
dev: assets
	ATOLL_DEV=1 $(GO) run ./cmd/server

## build: write bin/server
build: assets
	$(GO) build -o bin/server ./cmd/server

## test: vet, every test under the race detector (needs chromium and nginx), a short fuzz run
# (the fuzz budget is a count, not a duration: golang/go#75804 makes a timed run fail spuriously on go1.26)
test: assets
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m ./...
	$(GO) test -run '^$$' -fuzz FuzzOpen -fuzztime 500000x ./internal/seal

## bench: Go benchmarks and a load run over loopback, each against a bare Fiber handler doing the same work
bench: assets
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./tests/ ./internal/seal | $(GO) run ./tools/benchratio
	$(GO) run ./tools/loadbench -d 5s -c 32

## load: the saturation and SIGTERM-under-load tests alone, printing req/s and p50/p99
load: assets
	$(GO) test -count=1 -run 'TestLoadAtSaturation|TestSIGTERMDuringLoad' -v ./tests/ | grep -E 'req/s|exited|^(---|ok|FAIL)'

## soak: a bounded 60-second mixed run; resident memory and goroutines must stay flat (not part of CI)
soak: assets
	$(GO) run ./tools/soak -d 60s

## screenshot: refresh docs/screenshot.png in headless chromium
screenshot: assets
	$(GO) run ./tools/screenshot -o docs/screenshot.png

clean:
	rm -rf bin $(HTMX)
