#!/usr/bin/env bash
# Side-by-side benchmarks; see docs/BENCHMARKS.md for what each prints.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python bench/micro/run_utils.py "$@"
