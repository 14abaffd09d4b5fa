#!/usr/bin/env bash
# The main job: the standalone server on its embedded default configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m wse_server serve "$@"
