#!/usr/bin/env bash
# Every test suite, in the order that fails fastest. `make test` runs setup first.
#   scripts/test.sh          all suites
#   scripts/test.sh cpp      GoogleTest (release and ASan+UBSan builds)
#   scripts/test.sh python   pytest suites
#   scripts/test.sh lint     static checks
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
JOBS="$(nproc)"
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)

run_cpp() {
  local dir="$1"; shift
  echo "test: C++ unit tests in $dir ($*)"
  cmake -S . -B "$dir" "${GEN[@]}" -DWSE_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
  # --no-tests=error: a build that registers no test fails instead of passing silently.
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout 300 --no-tests=error
}

if [[ "$what" == all || "$what" == lint ]]; then
  bash scripts/lint.sh
fi
if [[ "$what" == all || "$what" == cpp ]]; then
  run_cpp build/cpp -DCMAKE_BUILD_TYPE=Release
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_cpp build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSE_SANITIZE=ON
fi
if [[ "$what" == all || "$what" == python ]]; then
  echo "test: pytest"
  # pytest exits 5 when it collects nothing; set -e turns that into a failure.
  .venv/bin/python -m pytest -q tests/python
  if [ -d clients/python/tests ]; then
    .venv/bin/python -m pytest -q clients/python/tests
  fi
fi
echo "test: all green"
