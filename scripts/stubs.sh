#!/usr/bin/env bash
# Regenerates the checked-in type stubs of the native module.
#   scripts/stubs.sh          write python/wse_server/_wse_accel.pyi
#   scripts/stubs.sh --check  fail if the checked-in stubs differ from the build
set -euo pipefail
cd "$(dirname "$0")/.."
out=python/wse_server/_wse_accel.pyi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python -m nanobind.stubgen -q -m wse_server._wse_accel -o "$tmp/_wse_accel.pyi"
# stubgen types the module's __all__ as a bare `list`; mypy --strict wants list[str].
sed -i 's/^__all__: list = /__all__: list[str] = /' "$tmp/_wse_accel.pyi"
.venv/bin/ruff format -q "$tmp/_wse_accel.pyi"
if [ "${1:-}" = "--check" ]; then
  if ! diff -u "$out" "$tmp/_wse_accel.pyi"; then
    echo "stubs: $out is stale; run 'make stubs'" >&2
    exit 1
  fi
else
  cp "$tmp/_wse_accel.pyi" "$out"
  echo "stubs: wrote $out"
fi
