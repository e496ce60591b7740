# Shanyu: `make run` starts the product, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin/shanyu

.PHONY: build run stop test lint bench db clean

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/shanyu

# run: a private PostgreSQL under var/pg unless DATABASE_URL is set; migrate; seed the demo; serve.
run: build
	@scripts/deps run
	@db="$${DATABASE_URL:-$$(scripts/localpg start | tail -n 1)}"; \
	export DATABASE_URL="$$db"; \
	$(BIN) migrate up; \
	$(BIN) seed demo; \
	exec $(BIN) serve

# stop: stop the private PostgreSQL (its data stays in var/pg).
stop:
	@scripts/localpg stop

# db: start the private PostgreSQL and print its URL.
db:
	@scripts/localpg start | tail -n 1

# test: every test, with the race detector, against a real PostgreSQL and a real headless Chromium.
test:
	@scripts/deps test
	@db="$${DATABASE_URL:-$$(scripts/localpg start | tail -n 1)}"; \
	SHANYU_TEST_DATABASE_URL="$$db" $(GO) test -race -count=1 -timeout 25m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# bench: Go benchmarks of the domain packages (load benchmarks are `shanyu bench …` subcommands).
bench:
	@db="$${DATABASE_URL:-$$(scripts/localpg start | tail -n 1)}"; \
	SHANYU_TEST_DATABASE_URL="$$db" $(GO) test -run '^$$' -bench . -benchtime 2s ./...

clean:
	rm -rf bin var/screenshots
