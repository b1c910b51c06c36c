#!/usr/bin/env bash
# Set up (Python packages and Debian's Chromium) and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"
