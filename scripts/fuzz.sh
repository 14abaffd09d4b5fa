#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${FUZZ_SECONDS:-30}"
cmake -S . -B build/fuzz -G Ninja -DWSE_BUILD_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j "$(nproc)"
for target in build/fuzz/tests/fuzz/fuzz_*; do
  [ -x "$target" ] || continue
  name="$(basename "$target")"
  seeds="tests/fuzz/corpus/${name#fuzz_}"   # committed seed inputs (read only)
  work="build/fuzz/corpus/${name#fuzz_}"    # what this run discovers
  mkdir -p "$seeds" "$work"
  echo "fuzz: $name for ${SECONDS_PER_TARGET}s"
  "$target" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 "$work" "$seeds"
done
