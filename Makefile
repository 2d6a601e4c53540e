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

.PHONY: run build test generate generate-check lint tidy-check bench fuzz clean

## run: build and start the whole system in one process (embedded NATS JetStream, data in ./data)
run:
	@mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/idsync ./services/idsync/cmd/idsync
	./bin/idsync run

SERVICES := idsync gateway okta-sync gitlab-sync github-sync console-sync eventlog

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

## tidy-check: fail when any module's go.mod or go.sum is not tidy
tidy-check:
	@set -e; for m in $(MODULES); do (cd $$m && GOWORK=off $(GO) mod tidy -diff) || { echo "$$m: run go mod tidy"; exit 1; }; done

## bench: Go benchmarks of every module
bench:
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

clean:
	rm -rf bin
