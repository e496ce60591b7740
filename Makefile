# Shanyu: `make run` starts the product, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin/shanyu

.PHONY: build run stop test lint bench db clean fuzz cluster cluster-stop cluster-test drills

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/shanyu

# run: a private PostgreSQL under var/pg unless DATABASE_URL is set; migrate; the signing keys and the
# development CA; unless SHANYU_TSA_URL names a TSA, the local one (`shanyu tsa serve` on
# 127.0.0.1:$${SHANYU_TSA_PORT:-8318}, stopped with the server) so that PDF signatures carry an RFC 3161
# timestamp; seed the demo; serve.
run: build
	@scripts/deps run
	@db="$${DATABASE_URL:-$$(scripts/localpg start | tail -n 1)}"; \
	export DATABASE_URL="$$db"; \
	$(BIN) migrate up; \
	$(BIN) keys init; \
	if [ -z "$${SHANYU_TSA_URL:-}" ]; then \
		port="$${SHANYU_TSA_PORT:-8318}"; \
		$(BIN) tsa serve --addr "127.0.0.1:$$port" & tsa=$$!; \
		trap 'kill $$tsa 2>/dev/null || true' EXIT; \
		for i in $$(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$$port") 2>/dev/null && break; sleep 0.1; done; \
		export SHANYU_TSA_URL="http://127.0.0.1:$$port/"; \
	fi; \
	$(BIN) seed demo; \
	$(BIN) serve

# stop: stop the private PostgreSQL (its data stays in var/pg).
stop:
	@scripts/localpg stop

# cluster: HAProxy (:8090) in front of two replicas (:8091, :8092; metrics :9091, :9092), a PostgreSQL
# primary (:54391) and a streaming hot standby (:54392), all under var/cluster (scripts/cluster).
cluster: build
	@scripts/deps run
	@scripts/cluster start

# cluster-stop: stop the cluster (its data stays in var/cluster).
cluster-stop:
	@scripts/cluster stop

# cluster-test: a fresh cluster on ports of its own (var/cluster-test), checked through HAProxy and
# stopped, in at most 60 s (scripts/cluster-test); skipped only when HAProxy cannot be installed.
cluster-test: build
	@timeout 60 scripts/cluster-test

# drills: every fault drill in scripts/drills (scripts/drill NAME), small (DRILL_SMALL=1), one after
# another, each printing its JSON figure line. Each is meant to take at most 60 s; DRILL_TIMEOUT (90 s)
# is the hard stop, so that a loaded machine slows a drill down rather than failing it.
DRILL_TIMEOUT ?= 90
drills: build
	@shopt -s nullglob; for d in scripts/drills/*; do n=$$(basename $$d); echo "drill $$n"; \
		DRILL_SMALL=1 timeout $(DRILL_TIMEOUT) scripts/drill $$n || { echo "drill $$n failed"; exit 1; }; \
	done

# db: start the private PostgreSQL and print its URL.
db:
	@scripts/localpg start | tail -n 1

# test: every test against a real PostgreSQL and a real headless Chromium: with the race detector,
# but for the browser journeys, which run after the rest without it (scripts/test-go; RACE_BROWSER=1
# runs them under it too).
test:
	@scripts/deps test
	@db="$${DATABASE_URL:-$$(scripts/localpg start | tail -n 1)}"; \
	SHANYU_TEST_DATABASE_URL="$$db" GO=$(GO) scripts/test-go
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory cluster-test
	@$(MAKE) --no-print-directory drills

# fuzz: each importer's fuzz target on top of its committed corpus (testdata/fuzz), for a number of
# inputs sized to about 10 s each on the 2-core CI machine. A count, not a duration: with a duration
# Go's fuzzing coordinator (before Go 1.27, go.dev/issue/75804) can fail a target with "context
# deadline exceeded", and no failing input, as the time runs out. FUZZTIME=30s (or 100000x) sets
# one budget for every target instead.
FUZZ_TARGETS := exams/bank:FuzzGIFT:60000 exams/bank:FuzzMoodleXML:60000 exams/bank:FuzzCloze:50000 \
	exams/bank:FuzzQTI:100000 exams/bank:FuzzXLSX:30000 audits:FuzzRosterRecords:80000
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$(or $(FUZZTIME),$${rest##*:}x); \
		echo "fuzz $$name ($$pkg, $$budget)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget -parallel 2 ./$$pkg || exit 1; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# The vendored pdfsign (internal/pdfdoc/pdfsign) is left as upstream wrote it, but for its marked changes.
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $$($(GO) list ./... | grep -v /internal/pdfdoc/pdfsign$$)

# bench: Go benchmarks of the domain packages (load benchmarks are `shanyu bench …` subcommands).
bench:
	@db="$${DATABASE_URL:-$$(scripts/localpg start | tail -n 1)}"; \
	SHANYU_TEST_DATABASE_URL="$$db" $(GO) test -run '^$$' -bench . -benchtime 2s ./...

clean:
	rm -rf bin var/screenshots
