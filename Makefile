# Atoll: `make run` serves the demo site, `make test` runs everything CI runs.
GO    ?= go
HTMX  := public/vendor/htmx.js
STAMP := node_modules/.package-lock.json

.PHONY: run dev test build bench assets screenshot clean

# npm ci installs exactly what package-lock.json pins, checking integrity.
$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(HTMX): $(STAMP)
	@mkdir -p $(dir $@)
	cp node_modules/htmx.org/dist/htmx.min.js $@

## assets: install npm dependencies when missing and copy htmx into public/
assets: $(HTMX)

## run: serve the demo site on http://127.0.0.1:8080
run: assets
	$(GO) run ./cmd/server

## dev: the same with templates re-read from disk on every request
dev: assets
	ATOLL_DEV=1 $(GO) run ./cmd/server

## build: write bin/server
build: assets
	$(GO) build -o bin/server ./cmd/server

## test: vet, then every test under the race detector (needs chromium)
test: assets
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m ./...

## bench: benchmarks against a bare Fiber handler, with ratios
bench: assets
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./tests/ | $(GO) run ./tools/benchratio

## screenshot: refresh docs/screenshot.png in headless chromium
screenshot: assets
	$(GO) run ./tools/screenshot -o docs/screenshot.png

clean:
	rm -rf bin $(HTMX)
