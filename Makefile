# The two commands a user needs: `make start` and `make test`. Both install and build first.
SHELL := /bin/bash
# pnpm comes through corepack at the version package.json pins. Signature keys are skipped
# because corepack 0.34 cannot verify current pnpm releases; the registry's integrity hash still is.
PNPM ?= COREPACK_ENABLE_DOWNLOAD_PROMPT=0 COREPACK_INTEGRITY_KEYS=0 corepack pnpm
WORKDIR ?= deploy/example/native

.PHONY: install build start test lint format bench images clean

node_modules/.modules.yaml: package.json pnpm-lock.yaml $(wildcard packages/*/package.json)
	$(PNPM) install --frozen-lockfile
	@touch $@

install: node_modules/.modules.yaml

build: install
	$(PNPM) exec tsc -b
	node scripts/bundle.mjs
	node scripts/schemas.mjs

start: build
	$(PNPM) exec baetyl start -w $(WORKDIR)

test: build
	node scripts/run-tests.mjs

# The benchmark suite (docs/performance.md): a table on stdout, the same as JSON in $(BENCH_OUT).
BENCH_OUT ?= bench-results.json
BENCH_ARGS ?=
bench: build
	node test/dist/bench/main.js --out $(BENCH_OUT) $(BENCH_ARGS)

# The hub fuzzer of `make test`, longer and with a fresh seed it prints first; a failure replays
# with FUZZ_SEED=<seed> (and the same FUZZ_PACKETS).
.PHONY: fuzz
fuzz: build
	node packages/hub/dist/test/fuzz/main.js

# Formatting (prettier), style (eslint), no import cycles between files or packages (scripts/import-cycles.mjs), types.
lint: install
	node scripts/import-cycles.mjs
	$(PNPM) exec prettier --check --log-level warn .
	$(PNPM) exec eslint .
	$(PNPM) exec tsc -b

# Rewrites the TypeScript and JavaScript sources as the formatter wants them (make lint checks it).
format: install
	$(PNPM) exec prettier --write --log-level warn .

clean:
	rm -rf packages/*/dist packages/*/tsconfig.tsbuildinfo

# Every Docker image (see docs/docker.md); with no registry reachable it builds its own bases
# with debootstrap first (once).
images: build
	scripts/images/build.sh
