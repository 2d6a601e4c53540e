# idsync — the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is what CI runs (.ci/run) or what maintainers use.

GO        ?= go
MODULES   := $(shell $(GO) list -f '{{.Dir}}' -m)
PACKAGES  := $(addsuffix /...,$(MODULES))

# Code generators and linters, pinned, installed with `go install` into a
# per-version directory so that a version bump installs afresh.
BUF_VERSION           := v1.75.0
PROTOC_GEN_GO_VERSION := v1.36.12
STATICCHECK_VERSION   := v0.8.2
TOOLS_DIR ?= $(shell $(GO) env GOPATH)/idsync-tools
BUF         := $(TOOLS_DIR)/buf-$(BUF_VERSION)/buf
PROTOC_GEN_GO_DIR := $(TOOLS_DIR)/protoc-gen-go-$(PROTOC_GEN_GO_VERSION)
PROTOC_GEN_GO := $(PROTOC_GEN_GO_DIR)/protoc-gen-go
STATICCHECK := $(TOOLS_DIR)/staticcheck-$(STATICCHECK_VERSION)/staticcheck

FUZZTIME  ?= 30s
BENCHTIME ?= 1s
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/idsync/idsync/pkg/metrics.Version=$(VERSION)

.PHONY: run build test generate generate-check lint tidy-check deps-check vuln bench bench-go fuzz clean

## run: build and start the whole system in one process (embedded NATS JetStream, data in ./data)
run:
	@mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/idsync ./services/idsync/cmd/idsync
	./bin/idsync run

SERVICES := idsync gateway okta-sync gitlab-sync github-sync console-sync eventlog okta-backfill

## build: build every service binary into ./bin
build:
	@mkdir -p bin
	@for s in $(SERVICES); do echo "go build bin/$$s"; $(GO) build -ldflags "$(LDFLAGS)" -o bin/$$s ./services/$$s/cmd/$$s || exit 1; done

## test: every test of every module, with the race detector, in random order
test:
	$(GO) test -race -shuffle=on -count=1 $(PACKAGES)

$(BUF):
	GOBIN=$(dir $@) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(PROTOC_GEN_GO):
	GOBIN=$(dir $@) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
$(STATICCHECK):
	GOBIN=$(dir $@) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## generate: regenerate the Go code of the event schemas (proto/gen)
generate: $(BUF) $(PROTOC_GEN_GO)
	cd proto && PATH="$(PROTOC_GEN_GO_DIR):$$PATH" $(BUF) lint
	cd proto && rm -rf gen && PATH="$(PROTOC_GEN_GO_DIR):$$PATH" $(BUF) generate

## generate-check: fail when the committed generated code differs from a fresh generation
generate-check: generate
	@git diff --exit-code -- proto/gen || (echo "proto/gen is stale: run make generate and commit"; exit 1)
	@test -z "$$(git ls-files --others --exclude-standard proto/gen)" || (echo "proto/gen has uncommitted new files: run make generate and commit"; exit 1)

## lint: gofmt, go vet and staticcheck over every module
lint: $(STATICCHECK)
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PACKAGES)
	$(STATICCHECK) $(PACKAGES)

## deps-check: the dependency review CI runs: every module's dependencies are
## pinned by go.sum and the downloaded code matches it (go mod verify), and no
## replace directive points anywhere but a module of this repository (no forks)
deps-check:
	@$(GO) build -o bin/replacecheck ./deploy/cmd/replacecheck
	@set -e; for m in $(MODULES); do \
	  bad=$$(cd $$m && GOWORK=off $(GO) mod edit -json | $(CURDIR)/bin/replacecheck); \
	  if [ -n "$$bad" ]; then echo "$$m: replace directive outside this repository: $$bad"; exit 1; fi; \
	done
	$(GO) mod verify
	@echo "deps-check: $(words $(MODULES)) modules, every dependency pinned and verified, no replace outside the repository"

## vuln: govulncheck over every module (needs its vulnerability database:
## set GOVULNDB to a mirror when the public one is out of reach)
GOVULNCHECK_VERSION := v1.1.4
GOVULNCHECK := $(TOOLS_DIR)/govulncheck-$(GOVULNCHECK_VERSION)/govulncheck
$(GOVULNCHECK):
	GOBIN=$(dir $@) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
vuln: $(GOVULNCHECK)
	@set -e; for m in $(MODULES); do echo "== $$m"; (cd $$m && $(GOVULNCHECK) $${GOVULNDB:+-db $$GOVULNDB} ./...); done

## tidy-check: fail when any module's go.mod or go.sum is not tidy
tidy-check:
	@set -e; for m in $(MODULES); do (cd $$m && GOWORK=off $(GO) mod tidy -diff) || { echo "$$m: run go mod tidy"; exit 1; }; done

BENCH_RUNS     ?= 5
BENCH_DURATION ?= 3s
BENCH_FLAGS    ?=

## bench: the benchmark harness (bench/README.md): raw JetStream, a naive relay and the gateway side by side, then the consumers' Go benchmarks; writes and prints bench/results/latest.md (BENCH_RUNS, BENCH_DURATION, BENCH_FLAGS)
bench:
	@mkdir -p bin
	$(GO) build -o bin/idsync-bench ./bench/cmd/idsync-bench
	./bin/idsync-bench -runs $(BENCH_RUNS) -duration $(BENCH_DURATION) -out bench/results/latest.md $(BENCH_FLAGS)

## bench-go: Go benchmarks of every module
bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) $(PACKAGES)

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@set -e; for m in $(MODULES); do \
	  for pkg in $$(cd $$m && $(GO) list ./...); do \
	    for f in $$(cd $$m && $(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	      echo "== $$pkg $$f"; (cd $$m && $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg); \
	    done; \
	  done; \
	done

## faults: the fault suite's long form (faults/, RELIABILITY.md): every scenario with bigger loads; one JSON line per scenario in FAULTS_REPORT (FAULTS_RUN selects scenarios, FAULTS_FLAGS adds go test flags, e.g. -race)
FAULTS_REPORT ?= $(CURDIR)/bin/faults-report.jsonl
FAULTS_RUN    ?= .
.PHONY: faults
faults:
	@mkdir -p $(dir $(FAULTS_REPORT)) && rm -f $(FAULTS_REPORT) $(FAULTS_REPORT).status
	@{ IDSYNC_FAULTS=long IDSYNC_FAULTS_REPORT=$(FAULTS_REPORT) $(GO) test -count=1 -timeout 60m -v -run '$(FAULTS_RUN)' $(FAULTS_FLAGS) ./faults/ 2>&1; echo $$? > $(FAULTS_REPORT).status; } \
	  | tee $(FAULTS_REPORT:.jsonl=.log) | grep --line-buffered -E '^(=== RUN|--- |    --- |PASS|FAIL|ok )|^    [a-z_]+_test\.go:[0-9]+: |^        [a-z]+ {2,}'
	@echo "full log: $(FAULTS_REPORT:.jsonl=.log); figures: $(FAULTS_REPORT)"; exit $$(cat $(FAULTS_REPORT).status)

clean:
	rm -rf bin
