# Thin entry points; the work lives in scripts/ (CI calls the same scripts).
.PHONY: setup build run test test-cpp test-python lint stubs spec bench bench-redis fuzz clean

setup:            ## install system packages, create .venv, build and install the package (idempotent)
	@bash scripts/setup.sh

build: setup      ## alias of setup: the editable install rebuilds the extension incrementally

run: setup        ## set up, then run the main job: the standalone server on port 5006
	@bash scripts/run.sh

test: setup       ## set up, then run every test suite (C++, sanitizers, lint, Python)
	@bash scripts/test.sh

test-cpp:         ## only the GoogleTest suites (assumes setup)
	@bash scripts/test.sh cpp

test-python:      ## only the pytest suites (assumes setup)
	@bash scripts/test.sh python

lint:             ## ruff, mypy --strict, clang-format, spec and stub drift (assumes setup)
	@bash scripts/lint.sh

stubs:            ## regenerate python/wse_server/_wse_accel.pyi from the built extension
	@bash scripts/stubs.sh

spec:             ## re-render spec/protocol.json into C++/Python constants
	@.venv/bin/python scripts/gen_spec.py

bench: setup      ## run the side-by-side benchmarks (see docs/BENCHMARKS.md)
	@bash scripts/bench.sh

bench-redis: setup  ## only the Redis scale-out benchmarks (docs/BENCHMARKS.md, "Redis scale-out")
	@bash scripts/bench.sh redis

fuzz: setup       ## run the libFuzzer targets for a bounded time
	@bash scripts/fuzz.sh

clean:
	rm -rf build .venv
