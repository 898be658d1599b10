#!/usr/bin/env bash
# Runs Salvesti in the foreground on the embedded default (SQLite and ./data) with
# config.example.yaml; installs itself into ./.venv on first use.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e . >/dev/null
exec .venv/bin/salvesti run -c "${1:-config.example.yaml}"
