#!/usr/bin/env bash
# Static checks. Fails on the first problem.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "lint: spec drift"
.venv/bin/python scripts/gen_spec.py --check
echo "lint: stub drift"
bash scripts/stubs.sh --check
echo "lint: ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "lint: mypy --strict"
.venv/bin/mypy
if [ -f clients/python/pyproject.toml ]; then
  (cd clients/python && ../../.venv/bin/mypy)
fi
echo "lint: clang-format"
git ls-files -co --exclude-standard -- '*.cpp' '*.hpp' '*.h' | grep -v '^core/include/wse/protocol/spec.hpp$' \
  | xargs -r clang-format --dry-run -Werror
echo "lint: ok"
