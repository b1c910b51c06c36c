#!/usr/bin/env bash
# Set up, build the site and preview it at http://127.0.0.1:8000 with live reload.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python build.py            # site/: what gets published
exec .venv/bin/python build.py serve "$@"  # the preview, drafts included, from .cache/preview/
