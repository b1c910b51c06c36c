#!/usr/bin/env bash
# Create .venv and install exactly the versions CI tested (constraints.txt).
# Usage: scripts/setup.sh [test]   — "test" adds the test tools and Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "test" ]; then
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[test]'
  if [ ! -x /usr/bin/chromium ]; then
    # Playwright's own browser download does not work here: use Debian's Chromium.
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
else
  .venv/bin/python -m pip install --quiet -c constraints.txt -e .
fi
