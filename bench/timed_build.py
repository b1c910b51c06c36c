"""build.py, printing to stderr how long the build's search step took (read by bench/run.py).

The step is timed inside the real build, so the figure is what indexing costs in it:
the indexer's start, the pages handed over, the index read back and stored, or the
look-up in the cache when no page changed.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from guidesite.cache.steps import CachedSteps  # noqa: E402
from guidesite.cli import main  # noqa: E402

SEARCH_LINE = "search step:"
_step = CachedSteps.search
_spent = 0.0


def _timed(*args, **kwargs):
    global _spent
    started = time.perf_counter()
    try:
        return _step(*args, **kwargs)
    finally:
        _spent += time.perf_counter() - started


CachedSteps.search = _timed  # type: ignore[method-assign]
if __name__ == "__main__":
    code = main(sys.argv[1:])
    print(f"{SEARCH_LINE} {_spent:.3f} s", file=sys.stderr)
    sys.exit(code)
