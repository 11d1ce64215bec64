# RCBU Console. The two everyday commands are `make run` and `make test`.
GO      ?= go
TEMPL   := $(GO) tool templ
VENDOR  := web/static/vendor
# The version stamped into the binary; the Dockerfile takes it as a build ARG.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Build flags shared with the Dockerfile (internal/buildcheck checks they match).
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run test generate assets check-generated check-assets vet fmt-check lint bench sim build docker clean

## run: start the dashboard in demo mode on http://127.0.0.1:8080 (prints the login)
run: assets generate
	$(GO) run ./cmd/web

## sim: run the standalone Cloud Backup simulator on http://127.0.0.1:8900
sim:
	$(GO) run ./cmd/rcbusim

## test: the whole suite (generated-file drift, vet, gofmt, race-enabled tests)
test: check-generated check-assets vet fmt-check
	$(GO) test -race -count=1 -timeout 30m ./...

## generate: regenerate templ components
generate:
	$(TEMPL) generate

## assets: copy the pinned npm assets (package-lock.json) into web/static/vendor
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

assets: node_modules/.package-lock.json
	@mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/pico.min.css

## check-generated: fail when `templ generate` would change committed files
check-generated:
	@$(TEMPL) generate >/dev/null
	@git diff --exit-code --stat -- '*_templ.go' || { echo "templ generate changed files: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- '*_templ.go')" || { echo "untracked generated files: run 'make generate' and commit"; exit 1; }

## check-assets: fail when the vendored assets differ from package-lock.json's versions
check-assets: assets
	@git diff --exit-code --stat -- $(VENDOR) || { echo "vendored assets drifted from package-lock.json: run 'make assets' and commit"; exit 1; }

vet:
	$(GO) vet ./...

fmt-check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

lint: vet fmt-check

## bench: Go benchmarks plus the HTTP load run; figures go in README.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/rcbu-web ./cmd/web
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/rcbusim ./cmd/rcbusim

clean:
	rm -rf bin node_modules
