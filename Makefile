# RCBU Console. The two everyday commands are `make run` and `make test`.
GO      ?= go
# The Go toolchain every build, check and test runs on: go1.27.3 has none of
# the called standard-library vulnerabilities of go1.26.8. The go command
# fetches it through the module proxy on first use (go.mod's toolchain line
# names it too; the machine's go env says GOTOOLCHAIN=local, so say it here).
export GOTOOLCHAIN ?= go1.27.3
TEMPL   := $(GO) tool templ
VENDOR  := web/static/vendor
# axe-core (a devDependency) is for the browser tests only: it goes to the
# e2e tests' testdata, never into the embedded web/static.
TEST_VENDOR := cmd/web/testdata
# The version stamped into the binary; the Dockerfile takes it as a build ARG.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Build flags shared with the Dockerfile (internal/buildcheck checks they match).
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run test generate assets check-generated check-assets vet fmt-check lint bench sim build docker clean \
	check e2e soak loadtest loadtest-replicas vulncheck staticcheck tidy-check test-db

## run: start the dashboard in demo mode on http://127.0.0.1:8080 (prints the login)
run: assets generate
	$(GO) run ./cmd/web

## sim: run the standalone Cloud Backup simulator on http://127.0.0.1:8900
sim:
	$(GO) run ./cmd/rcbusim

## test: the whole suite: every check, then the race-enabled tests (browser end-to-end tests included)
test: check
	$(GO) test -race -count=1 -timeout 30m ./...

## test-db: the store tests on SQLite and on a throwaway PostgreSQL cluster that this starts and stops
## (tools/postgres-test.sh; Debian's postgresql package). With RCBU_TEST_POSTGRES set, `make test` runs both too.
test-db:
	@set -e; eval "$$(tools/postgres-test.sh start)"; \
	trap 'tools/postgres-test.sh stop "$$RCBU_TEST_POSTGRES_DIR"' EXIT; \
	$(GO) test -race -count=1 ./db/

## check: go.mod tidiness, generated-file and asset drift, vet (soak-tagged code too), gofmt, staticcheck, govulncheck
check: tidy-check check-generated check-assets vet fmt-check staticcheck vulncheck

## e2e: only the browser end-to-end tests (headless chromium; screenshots in e2e-artifacts/)
e2e:
	$(GO) test -race -count=1 -run 'TestE2E' -timeout 10m -v ./cmd/web/

## soak: the resilience soak (~2 min): 20% 503s, 5% hangs, 200 ms jitter, token expiry, 8 users
soak:
	$(GO) test -tags soak -race -count=1 -run 'TestSoak' -timeout 10m -v ./cmd/web/

## staticcheck: staticcheck as a go tool (go.mod pins it). SA4023 is off: in v0.8.2 its nilness facts panic
## ("index out of range" in analysis/facts/nilness) on this module, which would stop the whole run.
STATICCHECK_CHECKS := inherit,-SA4023
staticcheck:
	$(GO) tool staticcheck -checks '$(STATICCHECK_CHECKS)' ./...
	$(GO) tool staticcheck -checks '$(STATICCHECK_CHECKS)' -tags soak ./cmd/web/

## vulncheck: govulncheck against a local vulnerability DB built from golang.org/x/vulndb (tools/vulncheck.sh)
vulncheck:
	GO=$(GO) tools/vulncheck.sh

## generate: regenerate templ components
generate:
	$(TEMPL) generate

## assets: copy the pinned npm assets (package-lock.json) into web/static/vendor, and axe-core into cmd/web/testdata
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

assets: node_modules/.package-lock.json
	@mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/pico.min.css
	cp node_modules/axe-core/axe.min.js $(TEST_VENDOR)/axe.min.js

## tidy-check: fail when `go mod tidy` would change go.mod or go.sum (a direct requirement marked
## `// indirect`, a missing or unused one); prints the diff it wants
tidy-check:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit"; exit 1; }

## check-generated: fail when `templ generate` would change committed files
check-generated:
	@$(TEMPL) generate >/dev/null
	@git diff --exit-code --stat -- '*_templ.go' || { echo "templ generate changed files: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- '*_templ.go')" || { echo "untracked generated files: run 'make generate' and commit"; exit 1; }

## check-assets: fail when the vendored assets differ from package-lock.json's versions
check-assets: assets
	@git diff --exit-code --stat -- $(VENDOR) $(TEST_VENDOR)/axe.min.js || { echo "vendored assets drifted from package-lock.json: run 'make assets' and commit"; exit 1; }

vet:
	$(GO) vet ./...
	$(GO) vet -tags soak ./cmd/web/

fmt-check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

lint: vet fmt-check

## bench: every package's Go benchmarks (short benchtime; the 1M-row history ones build their DB once, cached
## in the temp dir), the fleet benchmarks on the synced 200-agent dataset (a fixed count of page loads, since
## one cold load takes ~100 ms-1 s; the dataset is built once, cached in the temp dir) plus the HTTP load run;
## figures go in README.md
BENCHTIME       ?= 200ms
FLEET_BENCHTIME ?= 20x
LOAD_WORKERS    ?= 8
LOAD_DURATION   ?= 20s
bench:
	$(GO) test -run '^$$' -bench . -skip 'Fleet' -benchmem -benchtime $(BENCHTIME) -count 1 -timeout 30m ./...
	$(GO) test -run '^$$' -bench 'Fleet' -benchtime $(FLEET_BENCHTIME) -count 1 -timeout 30m ./web/handlers/
	@$(MAKE) --no-print-directory loadtest

## loadtest: HTTP load on the overview and history pages, simulator at a fixed 20 ms latency (cmd/loadgen)
loadtest: build
	$(GO) run ./cmd/loadgen -server bin/rcbu-web -workers $(LOAD_WORKERS) -duration $(LOAD_DURATION) -latency 20ms -agents 200 -paths /,/reports

## loadtest-replicas: the same load on a fresh schema of PostgreSQL (LOAD_DB, else RCBU_TEST_POSTGRES) with one
## replica, then two (LOAD_REPLICAS: 1,2,1,2,1,2 interleaves three of each and compares medians), printing each
## part's CPU and the ratio; LOAD_CPUS=0.4 holds each replica to 0.4 cores (cgroup v1 cpu quota, needs root)
LOAD_REPLICAS ?= 1,2
LOAD_CPUS     ?= 0
LOAD_DB       ?= $(RCBU_TEST_POSTGRES)
loadtest-replicas: build
	@test -n "$(LOAD_DB)" || { echo "loadtest-replicas needs PostgreSQL: set LOAD_DB or RCBU_TEST_POSTGRES to a postgres:// URL (eval \"\$$(tools/postgres-test.sh start)\" runs one)"; exit 1; }
	@echo "loadgen -workers $(LOAD_WORKERS) -duration $(LOAD_DURATION) -replicas $(LOAD_REPLICAS) -cpus-per-replica $(LOAD_CPUS) -db (LOAD_DB)"
	@$(GO) run ./cmd/loadgen -server bin/rcbu-web -workers $(LOAD_WORKERS) -duration $(LOAD_DURATION) -latency 20ms -agents 200 -paths /,/reports \
		-db "$(LOAD_DB)" -replicas $(LOAD_REPLICAS) -cpus-per-replica $(LOAD_CPUS)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/rcbu-web ./cmd/web
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/rcbusim ./cmd/rcbusim

clean:
	rm -rf bin node_modules
