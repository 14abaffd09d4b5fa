#!/usr/bin/env bash
# Installs the black-box peers used by interop tests and side-by-side benchmarks:
#   build/peers/wse142/  a Python 3.12 venv with the original engine, wse-server==1.4.2
#                        (run as a separate process and spoken to over the network only).
# Idempotent; called by scripts/setup.sh. Skips the original engine (with a notice)
# when no Python 3.12 interpreter exists, since its wheel needs CPython >= 3.12.
set -euo pipefail
cd "$(dirname "$0")/.."

PEER_DIR=build/peers/wse142
if [ ! -x "$PEER_DIR/bin/python" ]; then
  PY312=""
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.|$)' | sort -V -r); do
      cand="$(pyenv root)/versions/$v/bin/python3.12"
      if [ -x "$cand" ]; then PY312="$cand"; break; fi
    done
  fi
  [ -n "$PY312" ] || PY312="$(command -v python3.12 || true)"
  if [ -z "$PY312" ]; then
    echo "setup_peers: no Python 3.12 found; the original engine peer is skipped"
    exit 0
  fi
  mkdir -p build/peers
  "$PY312" -m venv "$PEER_DIR"
fi
if ! "$PEER_DIR/bin/python" -c "import importlib.metadata as m; assert m.version('wse-server') == '1.4.2'" 2>/dev/null; then
  echo "setup_peers: installing wse-server==1.4.2 into $PEER_DIR"
  "$PEER_DIR/bin/python" -m pip --disable-pip-version-check -q install "wse-server==1.4.2"
fi
