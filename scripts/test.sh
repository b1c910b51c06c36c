#!/usr/bin/env bash
# Set up (Python packages and Debian's Chromium) and run every test.
# On every core (pytest-xdist), each test file on one worker: a file's fixtures that build a
# site once for all its tests then build it once. Options given to this script come after
# these and win: `bash scripts/test.sh -n 0 -s` runs in one process, printing as it goes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
exec .venv/bin/python -m pytest -n auto --dist loadfile "$@"
