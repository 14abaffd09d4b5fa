#!/usr/bin/env bash
# Idempotent developer and CI setup:
#   1. Debian packages (apt-get) for the C++ core, tests and real peers (Redis);
#   2. .venv with Python 3.12 from pyenv when present, else python3;
#   3. the package in editable mode with its dev extras (builds the extension);
#   4. npm packages for the Node-based test peers.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  clang clang-format libclang-rt-14-dev
  libssl-dev zlib1g-dev libdeflate-dev libsimdjson-dev libmsgpack-dev libmsgpack-cxx-dev libre2-dev
  libhiredis-dev libasio-dev libhttp-parser-dev libgtest-dev libbenchmark-dev
  redis-server redis-tools
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v node >/dev/null 2>&1; then
  echo "setup: installing Node.js from Debian"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq nodejs npm
fi

# Python: prefer pyenv's 3.12 (the version the original engine needs for side-by-side runs).
if [ ! -x .venv/bin/python ]; then
  PY=""
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.|$)' | sort -V -r); do
      cand="$(pyenv root)/versions/$v/bin/python3.12"
      if [ -x "$cand" ]; then PY="$cand"; break; fi
    done
  fi
  [ -n "$PY" ] || PY="$(command -v python3)"
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi

PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
# Build requirements first: the editable install runs without build isolation so
# the CMake build directory (build/py-*) is reused between runs.
"${PIP[@]}" install "scikit-build-core==1.1.2" "nanobind==3.1.0"
"${PIP[@]}" install --no-build-isolation -e ".[dev]"
if [ -f clients/python/pyproject.toml ]; then
  "${PIP[@]}" install -e "clients/python[all,dev]"
fi

bash scripts/setup_peers.sh

if [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing npm packages"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi

.venv/bin/python -c "import wse_server" && echo "setup: ok ($(.venv/bin/python --version))"
